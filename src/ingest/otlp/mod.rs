//! OTLP/JSON reader: traces and logs (any wrapper, camel or snake keys, ints or enum names)
//! into frames and log records; other signals are counted. See FORMATS.md §1–§3, §6.
//!
//! Layers: [`wire`] (borrowed serde types) over [`scalar`] (lenient int64/enum/double
//! decoders) → [`walk`] (checks each span, pushes rows; [`ids`], [`semconv`], [`anyvalue`],
//! [`logs`] help) → [`parse`] (JSON Lines streaming and whole documents, in parallel).
//! Lines and document elements are read first by `fast` (with `fast_span` and
//! `fast_values`, on the strict [`crate::ingest::cursor`]), then by `stream` (serde,
//! streamed) and last collected whole, each only when the one before gives up.

pub mod anyvalue;
mod fast;
mod fast_span;
pub(crate) mod fast_values;
pub mod ids;
pub mod logs;
pub mod parse;
mod salvage;
pub mod scalar;
pub mod semconv;
mod stream;
pub mod walk;
pub mod wire;

pub use parse::{parse_lines, parse_whole, Loaded, BLOCK_BYTES};

/// How far into an input detection looks for OTLP keys.
pub(crate) const SNIFF_BYTES: usize = 64 << 10;
/// How many leading non-empty lines decide between JSON Lines and one document.
const SNIFF_LINES: usize = 3;

/// Keys only OTLP/JSON documents carry (Tempo's `batches` always comes with `scopeSpans`
/// or `instrumentationLibrarySpans` inside, so it need not be listed).
const OTLP_KEYS: [&[u8]; 14] = [
    b"\"resourceSpans\"",
    b"\"resource_spans\"",
    b"\"resourceLogs\"",
    b"\"resource_logs\"",
    b"\"resourceMetrics\"",
    b"\"resource_metrics\"",
    b"\"resourceProfiles\"",
    b"\"scopeSpans\"",
    b"\"scope_spans\"",
    b"\"scopeLogs\"",
    b"\"scope_logs\"",
    b"\"scopeMetrics\"",
    b"\"instrumentationLibrarySpans\"",
    b"\"instrumentationLibraryLogs\"",
];

/// What the start of an input looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Nothing but whitespace.
    Empty,
    /// OTLP, one document per line.
    Lines,
    /// OTLP, one document (possibly pretty-printed).
    Document,
    /// Not OTLP/JSON.
    Other,
}

/// Detects the shape from the first bytes of the (decompressed) input.
pub fn detect(head: &[u8]) -> Shape {
    let text = head.trim_ascii_start();
    if text.is_empty() {
        return Shape::Empty;
    }
    let sniff = text.get(..SNIFF_BYTES).unwrap_or(text);
    if text.first() != Some(&b'{') || !OTLP_KEYS.iter().any(|k| has_key(sniff, k)) {
        return Shape::Other;
    }
    if looks_like_lines(text) {
        Shape::Lines
    } else {
        Shape::Document
    }
}

/// A key token not inside an escaped string (`\"resourceSpans\"` in a log message).
pub(crate) fn has_key(hay: &[u8], key: &[u8]) -> bool {
    memchr::memmem::find_iter(hay, key).any(|at| at == 0 || hay.get(at - 1) != Some(&b'\\'))
}

/// At least two non-empty lines, one of the first few a whole `{…}` object at column 0.
fn looks_like_lines(text: &[u8]) -> bool {
    let mut lines = text
        .split(|b| *b == b'\n')
        .map(<[u8]>::trim_ascii_end)
        .filter(|l| !l.is_empty());
    let first: Vec<&[u8]> = lines.by_ref().take(SNIFF_LINES).collect();
    let several = first.len() >= 2;
    several
        && first
            .iter()
            .any(|l| l.len() > 2 && l.first() == Some(&b'{') && l.last() == Some(&b'}'))
}

#[cfg(test)]
mod tests;
