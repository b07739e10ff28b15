//! JSON-lines application logs (pino, bunyan, zap, logrus, slog, structlog,
//! python-json-logger, ECS, OTel, Datadog, Google Cloud, cascade's bench format) and logfmt
//! lines → [`LogRecord`]s → the logs frame; and the join of log records with spans.
//!
//! A file's logger is detected once from the key sets of its first lines ([`detect`]); lines
//! are then parsed in parallel, in fixed-size chunks merged in input order, so records and
//! diagnostics never depend on the thread count.

mod detect;
mod frame;
mod ids;
mod join;
mod level;
mod logfmt;
mod map;
mod time;
mod value;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_input;

use polars::prelude::DataFrame;
use rayon::prelude::*;

use self::detect::{Dialect, LineShape, Mapping, Role};
use self::map::Place;
use self::value::Flat;
use crate::ingest::diag::{Diagnostics, Level};
use crate::ingest::record::LogRecord;
use crate::ingest::LogJoin;

/// Non-blank lines sampled for detection: enough to outvote a few odd lines at the top.
const SAMPLE_LINES: usize = 50;
/// Bytes per parallel chunk (cut at a line end): big enough to amortise scheduling, small
/// enough to spread a 50 MB file over every core. Fixed, so output is thread-independent.
const CHUNK_BYTES: usize = 1 << 20;
/// Skip reason of a line that is neither a JSON object nor logfmt.
pub(crate) const NOT_A_LOG_LINE: &str = "not a JSON log line";
/// Top-level keys (also after a wrapper key and a dot) that make a line OTLP, not a log line.
const OTLP_KEYS: [&str; 12] = [
    "resourceSpans",
    "resourceLogs",
    "resourceMetrics",
    "resourceProfiles",
    "resource_spans",
    "resource_logs",
    "resource_metrics",
    "resource_profiles",
    "scopeSpans",
    "scopeLogs",
    "scope_spans",
    "instrumentationLibrarySpans",
];

/// Whether a decompressed file looks like JSON-lines (or logfmt) logs: most sampled
/// non-blank lines are objects with a time or message key, and none is OTLP.
pub fn looks_like_json_logs(bytes: &[u8]) -> bool {
    let generic = Mapping::for_dialect(Dialect::Generic);
    let mut sampled = 0usize;
    let mut loggy = 0usize;
    for line in non_blank_lines(bytes).take(SAMPLE_LINES) {
        sampled += 1;
        let Some((flat, _)) = read_line(line) else {
            continue;
        };
        if flat.iter().any(|(k, _)| is_otlp_key(k)) {
            return false;
        }
        let has = |role| {
            flat.iter()
                .any(|(k, _)| generic.role(k).is_some_and(|(r, _)| r == role))
        };
        if has(Role::Time) || has(Role::Message) {
            loggy += 1;
        }
    }
    sampled > 0 && loggy * 2 > sampled
}

/// Parses every line of a JSON-lines / logfmt log file. Bad lines become diagnostics
/// (`label:line`); blank lines are ignored. Records come in line order.
pub fn parse_json_logs(bytes: &[u8], label: &str, diag: &mut Diagnostics) -> Vec<LogRecord> {
    let mapping = Mapping::for_dialect(detect_dialect(bytes));
    let parts: Vec<(Vec<LogRecord>, Diagnostics)> = chunks(bytes)
        .into_par_iter()
        .map(|(first_line, chunk)| parse_chunk(chunk, first_line, label, &mapping))
        .collect();
    let mut records = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (recs, d) in parts {
        records.extend(recs);
        diag.merge(d);
    }
    records
}

/// The logs frame (column names in [`crate::model::columns`]), rows in record order.
pub fn logs_frame(records: &[LogRecord]) -> anyhow::Result<DataFrame> {
    frame::build(records)
}

/// How the log records of `logs` match the spans of `spans`.
pub fn join_logs(logs: &DataFrame, spans: &DataFrame) -> anyhow::Result<LogJoin> {
    join::join(logs, spans)
}

/// The logger of a file, by majority over its first sampled lines.
pub(crate) fn detect_dialect(bytes: &[u8]) -> Dialect {
    let votes: Vec<Dialect> = non_blank_lines(bytes)
        .take(SAMPLE_LINES)
        .filter_map(read_line)
        .filter_map(|(flat, _)| detect::line_dialect(&LineShape::new(&flat)))
        .collect();
    detect::file_dialect(&votes)
}

fn is_otlp_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    OTLP_KEYS.contains(&last) && key.split('.').count() <= 2
}

/// Lines without their `\r\n` / `\n` and surrounding blanks.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split(|b| *b == b'\n').map(<[u8]>::trim_ascii)
}

fn non_blank_lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    lines(bytes).filter(|l| !l.is_empty())
}

/// A line as fields, and whether it was logfmt (values still text). `None`: garbage.
fn read_line(line: &[u8]) -> Option<(Flat<'_>, bool)> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    if line.first() == Some(&b'{') {
        return value::parse_object(line).map(|f| (f, false));
    }
    let text = std::str::from_utf8(line).ok()?;
    logfmt::parse_logfmt(text).map(|f| (f, true))
}

/// The input cut into (1-based number of its first line, bytes) pieces at line ends.
fn chunks(bytes: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut first_line = 1;
    while !rest.is_empty() {
        let cut = match rest.get(CHUNK_BYTES..) {
            None => rest.len(),
            Some(tail) => memchr::memchr(b'\n', tail).map_or(rest.len(), |i| CHUNK_BYTES + i + 1),
        };
        let (chunk, tail) = rest.split_at(cut);
        out.push((first_line, chunk));
        first_line += memchr::memchr_iter(b'\n', chunk).count();
        rest = tail;
    }
    out
}

fn parse_chunk(
    chunk: &[u8],
    first_line: usize,
    label: &str,
    mapping: &Mapping,
) -> (Vec<LogRecord>, Diagnostics) {
    let mut diag = Diagnostics::default();
    let mut records = Vec::new();
    for (i, line) in lines(chunk).enumerate() {
        if line.is_empty() {
            continue;
        }
        let at = Place {
            label,
            line: first_line + i,
        };
        match read_line(line) {
            Some((flat, from_text)) => {
                records.extend(map::to_record(flat, mapping, from_text, &at, &mut diag));
            }
            None => diag.add(Level::Skip, NOT_A_LOG_LINE, || {
                format!("{label}:{}", at.line)
            }),
        }
    }
    (records, diag)
}
