//! Trace and span ids as loggers write them → 32 / 16 lower-case hex digits.
//!
//! Hex of either case; 64-bit (16-hex) trace ids left-padded to 32; Datadog's decimal u64
//! (`dd.trace_id`, `dd.span_id`, the low 64 bits of the trace id) converted to hex and padded;
//! Google Cloud's `projects/P/traces/<hex>` cut to its id. All-zero ids mean "none".

use super::value::Val;

const TRACE_HEX: usize = 32;
const SPAN_HEX: usize = 16;
/// What precedes the id in Google Cloud's `logging.googleapis.com/trace`.
const GCP_TRACE_MARK: &str = "/traces/";
/// Datadog writes its ids as decimal u64 under keys with this prefix.
const DATADOG_PREFIX: &str = "dd.";

/// Outcome of reading an id field.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Id {
    Valid(String),
    /// Empty or all zeros: the logger's way of writing "no id".
    Absent,
    Invalid,
}

/// Reads a trace id written under `key`.
pub(crate) fn trace_id(key: &str, v: &Val) -> Id {
    read(key, v, TRACE_HEX)
}

/// Reads a span id written under `key`.
pub(crate) fn span_id(key: &str, v: &Val) -> Id {
    read(key, v, SPAN_HEX)
}

fn read(key: &str, v: &Val, width: usize) -> Id {
    let decimal_first = key.starts_with(DATADOG_PREFIX);
    match v {
        Val::Int(n) => u64::try_from(*n).map_or(Id::Invalid, |n| from_u64(n, width)),
        Val::UInt(n) => from_u64(*n, width),
        Val::Str(s) => from_text(s.trim(), width, decimal_first),
        Val::Float(_) | Val::Bool(_) | Val::Json(_) => Id::Invalid,
    }
}

fn from_text(s: &str, width: usize, decimal_first: bool) -> Id {
    let s = if s.len() > TRACE_HEX {
        s.rsplit_once(GCP_TRACE_MARK).map_or(s, |(_, id)| id)
    } else {
        s
    };
    if s.is_empty() {
        return Id::Absent;
    }
    if decimal_first && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u64>().map_or(Id::Invalid, |n| from_u64(n, width));
    }
    from_hex(s, width)
}

fn from_u64(n: u64, width: usize) -> Id {
    if n == 0 {
        return Id::Absent;
    }
    Id::Valid(format!("{n:0width$x}"))
}

/// Hex of the full width, or a 64-bit trace id padded to 32.
fn from_hex(s: &str, width: usize) -> Id {
    let padded_ok = s.len() == width || (width == TRACE_HEX && s.len() == SPAN_HEX);
    if !padded_ok || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Id::Invalid;
    }
    if s.bytes().all(|b| b == b'0') {
        return Id::Absent;
    }
    let mut id = String::with_capacity(width);
    id.extend(std::iter::repeat_n('0', width - s.len()));
    id.push_str(s);
    id.make_ascii_lowercase();
    Id::Valid(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    fn s(text: &str) -> Val<'_> {
        Val::Str(Cow::Borrowed(text))
    }

    fn valid(id: &str) -> Id {
        Id::Valid(id.to_string())
    }

    #[test]
    fn hex_ids_are_lowered_and_64_bit_traces_padded() {
        let t = "4BF92F3577B34DA6A3CE929D0E0E4736";
        assert_eq!(trace_id("traceId", &s(t)), valid(&t.to_lowercase()));
        assert_eq!(
            trace_id("trace_id", &s("a3ce929d0e0e4736")),
            valid("0000000000000000a3ce929d0e0e4736")
        );
        assert_eq!(
            span_id("span_id", &s("00F067AA0BA902B7")),
            valid("00f067aa0ba902b7")
        );
    }

    #[test]
    fn datadog_decimal_ids_become_low_64_bits() {
        // 0xa3ce929d0e0e4736 = 11803532876627986230.
        assert_eq!(
            trace_id("dd.trace_id", &s("11803532876627986230")),
            valid("0000000000000000a3ce929d0e0e4736")
        );
        assert_eq!(
            trace_id("dd.trace_id", &Val::UInt(11_803_532_876_627_986_230)),
            valid("0000000000000000a3ce929d0e0e4736")
        );
        assert_eq!(
            span_id("dd.span_id", &Val::Int(255)),
            valid("00000000000000ff")
        );
        // A 128-bit id Datadog logs in hex stays hex.
        let t = "6658a9ad00000000a3ce929d0e0e4736";
        assert_eq!(trace_id("dd.trace_id", &s(t)), valid(t));
    }

    #[test]
    fn gcp_trace_paths_are_cut_to_the_id() {
        let path = "projects/my-proj/traces/4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            trace_id("logging.googleapis.com/trace", &s(path)),
            valid("4bf92f3577b34da6a3ce929d0e0e4736")
        );
    }

    #[test]
    fn bad_and_empty_ids() {
        assert_eq!(trace_id("trace_id", &s("xyz")), Id::Invalid);
        assert_eq!(trace_id("trace_id", &s("4bf92f35")), Id::Invalid);
        assert_eq!(span_id("span_id", &s("00f067aa0ba902b7ff")), Id::Invalid);
        assert_eq!(span_id("span_id", &s("ééééééééééééééé")), Id::Invalid);
        assert_eq!(trace_id("trace_id", &Val::Float(1.5)), Id::Invalid);
        assert_eq!(
            trace_id("dd.trace_id", &s("99999999999999999999999")),
            Id::Invalid
        );
        assert_eq!(trace_id("trace_id", &s("")), Id::Absent);
        assert_eq!(
            trace_id("trace_id", &s("00000000000000000000000000000000")),
            Id::Absent
        );
        assert_eq!(span_id("dd.span_id", &s("0")), Id::Absent);
    }
}
