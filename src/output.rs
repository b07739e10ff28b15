//! Terminal output: whether stderr/stdout are terminals and whether to colour, the one
//! sanitiser every string from the input passes before it meets a terminal, and the
//! `inspect` text.

use std::borrow::Cow;
use std::io::IsTerminal;

use crate::report::escape::is_bidi_control;

/// True when progress bars may be drawn (stderr is a terminal and `CI` is not set).
pub fn progress_allowed() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// True when stdout may be coloured (a terminal, and `NO_COLOR` unset or empty).
pub fn colour_allowed() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// True for a character a terminal would act on instead of showing: the C0 and C1 controls
/// (escape sequences, bells, carriage returns), DEL, the bidirectional controls and the
/// Unicode line and paragraph separators.
fn acts_on_terminal(c: char) -> bool {
    c.is_control() || is_bidi_control(c) || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Text from the input (a service or span name, a file name, an error quoting either) made
/// safe for a terminal, on one line: every character a terminal would act on is shown
/// escaped (`\x1b`, `\u{202e}`), a newline as `\n`. Everything cascade prints that holds
/// such text goes through here (or through [`safe_text`]).
pub fn safe(s: &str) -> Cow<'_, str> {
    if !s.chars().any(acts_on_terminal) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if acts_on_terminal(c) && (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if acts_on_terminal(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A rendered multi-line text (a summary, a table) made safe line by line: the renderer's
/// own line breaks stay, everything else [`safe`] escapes is escaped. Renderers still pass
/// each input string through [`safe`], so a newline inside a name cannot forge a row.
pub fn safe_text(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && acts_on_terminal(c)) {
        return Cow::Borrowed(s);
    }
    let lines: Vec<Cow<str>> = s.split('\n').map(safe).collect();
    Cow::Owned(lines.join("\n"))
}

use std::fmt::Write as _;

use crate::analyze::quality::DataQuality;
use crate::ingest::summary::{Summary, Tally};

/// The `inspect --json` document: the load summary and the data-quality counts.
#[derive(serde::Serialize)]
pub struct InspectDoc<'a> {
    #[serde(flatten)]
    pub summary: &'a Summary,
    pub data_quality: &'a DataQuality,
}

/// The human-readable `inspect` summary.
pub fn inspect_text(s: &Summary, q: &DataQuality) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "files");
    for f in &s.files {
        let _ = writeln!(
            out,
            "  {}  [{}, {}]  {} spans, {} log records{}",
            safe(&f.path),
            f.format.as_str(),
            f.compression.as_str(),
            f.spans,
            f.log_records,
            other_signals(f.other_signals)
        );
    }
    let _ = writeln!(out, "spans     {} in {} traces", s.spans, s.traces);
    if let Some(r) = &s.time_range {
        let _ = writeln!(
            out,
            "time      {} .. {}  ({:.1} s)",
            r.start, r.end, r.duration_s
        );
    }
    let kinds: Vec<String> = s.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
    let _ = writeln!(out, "kinds     {}", kinds.join(", "));
    let _ = writeln!(out, "errors    {} spans with status ERROR", s.error_spans);
    services_table(&mut out, s);
    let _ = writeln!(
        out,
        "logs      {} records; {} with a trace id, {} match a trace, {} match a span",
        s.log_records, s.log_join.with_trace_id, s.log_join.matched_trace, s.log_join.matched_span
    );
    tally_lines(&mut out, "skipped", &s.skipped);
    tally_lines(&mut out, "warnings", &s.warnings);
    quality_lines(&mut out, q);
    out
}

/// The structural counts, then the skew found and corrected.
fn quality_lines(out: &mut String, q: &DataQuality) {
    let st = &q.structure;
    let _ = writeln!(
        out,
        "quality   orphans {}, duplicate span ids {}, exact copies {}, end before start {}, \
         parent cycles {}, non-hex ids {}",
        st.orphans,
        st.duplicate_span_ids,
        st.duplicate_copies,
        st.end_before_start,
        st.parent_cycles,
        st.bad_ids
    );
    let sk = &q.skew;
    let _ = writeln!(
        out,
        "skew      {} cross-service links out of their parent; {} spans shifted (up to {:.1} ms)",
        sk.skewed_links,
        sk.shifted_spans,
        sk.max_shift_ns as f64 / 1e6
    );
}

fn other_signals(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {n} other-signal records not read")
    }
}

fn services_table(out: &mut String, s: &Summary) {
    let width = s
        .services
        .iter()
        .map(|x| safe(&x.name).chars().count())
        .max()
        .unwrap_or(7)
        .max(7);
    let _ = writeln!(
        out,
        "services  {}\n  {:<width$}  {:>9}  {:>9}  {:>7}",
        s.services.len(),
        "service",
        "spans",
        "requests",
        "errors"
    );
    for svc in &s.services {
        let _ = writeln!(
            out,
            "  {:<width$}  {:>9}  {:>9}  {:>7}",
            safe(&svc.name),
            svc.spans,
            svc.requests,
            svc.error_spans
        );
    }
}

fn tally_lines(out: &mut String, label: &str, t: &Tally) {
    let _ = writeln!(out, "{label:<9} {}", t.count);
    for r in &t.reasons {
        let _ = writeln!(
            out,
            "  {:>7}  {}  (first: {})",
            r.count,
            safe(&r.reason),
            safe(&r.examples.join(", "))
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_output_escapes_control_characters_from_span_names() {
        assert_eq!(safe("web"), "web");
        assert!(matches!(safe("plain → ok"), Cow::Borrowed(_)));
        assert_eq!(
            safe("\u{1b}]0;pwned\u{7}\u{1b}[2Jx"),
            "\\x1b]0;pwned\\x07\\x1b[2Jx"
        );
        assert_eq!(safe("a\nb\r\nc\td"), "a\\nb\\r\\nc\\td");
        assert_eq!(safe("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(safe("\u{7f}"), "\\x7f");
    }

    #[test]
    fn terminal_output_neutralises_bidi_overrides() {
        let out = safe("invoice\u{202E}fdp.exe\u{2066}\u{200F}\u{61C}\u{2028}");
        assert_eq!(
            out,
            "invoice\\u{202e}fdp.exe\\u{2066}\\u{200f}\\u{61c}\\u{2028}"
        );
    }

    #[test]
    fn a_rendered_text_keeps_its_lines_and_loses_the_controls() {
        let text = "row 1 \u{1b}[31mred\nrow 2\n";
        assert_eq!(safe_text(text), "row 1 \\x1b[31mred\nrow 2\n");
        assert!(matches!(safe_text("a\nb\n"), Cow::Borrowed(_)));
    }
}
