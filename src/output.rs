//! Terminal output decisions: whether stderr/stdout are terminals and whether to colour.

use std::io::IsTerminal;

/// True when progress bars may be drawn (stderr is a terminal and `CI` is not set).
pub fn progress_allowed() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// True when stdout may be coloured (a terminal, and `NO_COLOR` unset or empty).
pub fn colour_allowed() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
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
            f.path,
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
        .map(|x| x.name.len())
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
            svc.name, svc.spans, svc.requests, svc.error_spans
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
            r.reason,
            r.examples.join(", ")
        );
    }
}
