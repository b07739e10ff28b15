//! Rows from a Jaeger or Zipkin span: hex ids padded to OTLP widths, µs times to ns, and
//! the push into the same span, event and link frames the OTLP reader fills, so no later
//! stage can tell which tracer wrote a span. Shared by `jaeger/` and `zipkin/`.

use super::mapped::{write_object_where, write_uncarried, Mapped};
use crate::ingest::frames::{EventRow, SpanRow};
use crate::ingest::otlp::ids::{parse_hex_padded, HexId, IdError, Parsed};
use crate::ingest::otlp::scalar::{Field, Text};
use crate::ingest::otlp::semconv::Semantic;
use crate::ingest::otlp::walk::{find_str, required_id_by, Part, Place};
use crate::ingest::otlp::wire::KeyValue;

/// Jaeger and Zipkin write times and durations in microseconds; the frames hold nanoseconds.
pub const NS_PER_US: i64 = 1_000;

/// Reads a required id of `bytes` bytes (hex, padded on the left); a missing, malformed or
/// all-zero id skips the span (`what` names it in the reason).
pub fn required_id(
    text: Option<&Text<'_>>,
    bytes: usize,
    what: &str,
    part: &mut Part,
    place: Place<'_>,
) -> Option<HexId> {
    required_id_by(text, what, part, place, |t| {
        parse_hex_padded(t, bytes).map(|id| Parsed {
            id,
            was_base64: false,
        })
    })
}

/// An optional id (a parent): absent, empty or all zero is `Ok(None)`; `Err` when malformed
/// (and already counted under `what`).
pub fn optional_id(
    text: Option<&Text<'_>>,
    bytes: usize,
    what: &str,
    part: &mut Part,
    place: Place<'_>,
) -> Result<Option<HexId>, IdError> {
    let Some(text) = text.filter(|t| !t.as_str().is_empty()) else {
        return Ok(None);
    };
    match parse_hex_padded(text.as_str(), bytes) {
        Ok(id) if id.is_zero() => Ok(None),
        Ok(id) => Ok(Some(id)),
        Err(e) => {
            part.skip(&format!("{what}: {} id", e.describe()), place);
            Err(e)
        }
    }
}

/// A µs timestamp as ns; too large to hold as ns is `Invalid`.
pub fn micros_to_nanos(f: Field<i64>) -> Field<i64> {
    match f {
        Field::Valid(us) => us
            .checked_mul(NS_PER_US)
            .map_or(Field::OutOfRange, Field::Valid),
        other => other,
    }
}

/// Start and end (ns) from a µs start and a µs duration. A missing start or duration is kept
/// as 0 and warned; an unreadable one skips the span; a negative duration is kept (the
/// frames clamp the duration to 0) and warned.
pub fn span_times(
    start: Field<i64>,
    duration: Field<i64>,
    part: &mut Part,
    place: Place<'_>,
) -> Option<(i64, i64)> {
    let start = match micros_to_nanos(start) {
        Field::Valid(ns) => ns,
        Field::Missing => {
            part.warn("span without start time (kept as 0)", place);
            0
        }
        Field::Invalid => {
            part.skip("span: unreadable start time", place);
            return None;
        }
        Field::OutOfRange => {
            part.skip("span: start time out of range", place);
            return None;
        }
    };
    let length = match micros_to_nanos(duration) {
        Field::Valid(ns) => ns,
        Field::Missing => {
            part.warn("span without duration (kept as 0)", place);
            0
        }
        Field::Invalid => {
            part.skip("span: unreadable duration", place);
            return None;
        }
        Field::OutOfRange => {
            part.skip("span: duration out of range", place);
            return None;
        }
    };
    if length < 0 {
        part.warn("span ends before it starts (duration clamped to 0)", place);
    }
    let Some(end) = start.checked_add(length) else {
        part.skip("span: unreadable duration", place);
        return None;
    };
    Some((start, end))
}

/// The scalar facts of one span, already checked.
pub struct SpanFacts<'s> {
    pub trace: &'s HexId,
    pub span: &'s HexId,
    pub parent: Option<&'s HexId>,
    pub service: &'s str,
    pub instance: Option<&'s str>,
    pub name: &'s str,
    pub kind: i32,
    pub start_ns: i64,
    pub end_ns: i64,
}

/// Pushes one span: mapped tags become scope and status, the rest the `attributes` JSON;
/// old and new semantic names are normalised as for OTLP.
pub fn push_span(
    part: &mut Part,
    scratch: &mut String,
    facts: &SpanFacts<'_>,
    attrs: &[KeyValue<'_>],
    mapped: &Mapped<'_>,
) {
    scratch.clear();
    let semantic = Semantic::from_attributes(attrs);
    write_uncarried(scratch, attrs, &semantic);
    let (status_code, status_message) = mapped.status();
    part.spans.push(&SpanRow {
        trace_id: facts.trace.as_str(),
        span_id: facts.span.as_str(),
        parent_span_id: facts.parent.map(HexId::as_str),
        service: facts.service,
        instance: facts.instance,
        scope: mapped.scope,
        name: facts.name,
        kind: facts.kind,
        start_ns: facts.start_ns,
        end_ns: facts.end_ns,
        status_code,
        status_message,
        semantic: &semantic,
        attributes: scratch,
    });
}

/// Pushes one span event (a Jaeger log, a Zipkin annotation). Attributes are `attrs` less
/// the key `name_key` that gave the name; exception type and message come from the OTel
/// `exception.*` fields, else OpenTracing's `error.kind` / `message`.
pub fn push_event(
    part: &mut Part,
    scratch: &mut String,
    ids: [&str; 2],
    time_ns: i64,
    (name, name_key): (&str, &str),
    attrs: &[KeyValue<'_>],
) {
    scratch.clear();
    write_object_where(scratch, attrs, |key| key != name_key);
    let exception_type =
        find_str(attrs, "exception.type").or_else(|| find_str(attrs, "error.kind"));
    let exception_message = find_str(attrs, "exception.message").or_else(|| {
        (name == "error")
            .then(|| find_str(attrs, "message"))
            .flatten()
    });
    let [trace_id, span_id] = ids;
    part.events.push(&EventRow {
        trace_id,
        span_id,
        time_ns,
        name,
        exception_type,
        exception_message,
        attributes: scratch,
    });
}

/// An event time from µs: missing is kept as 0 (warned), unreadable skips the event.
pub fn event_time(f: Field<i64>, part: &mut Part, place: Place<'_>) -> Option<i64> {
    match micros_to_nanos(f) {
        Field::Valid(ns) => Some(ns),
        Field::Missing => {
            part.warn("event without time (kept as 0)", place);
            Some(0)
        }
        Field::Invalid => {
            part.skip("event: unreadable time", place);
            None
        }
        Field::OutOfRange => {
            part.skip("event: time out of range", place);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place<'static> {
        Place {
            label: "t.json",
            line: 3,
        }
    }

    #[test]
    fn micros_become_nanos_and_overflow_is_invalid() {
        assert_eq!(
            micros_to_nanos(Field::Valid(1_470_150_004_008_762)),
            Field::Valid(1_470_150_004_008_762_000)
        );
        assert_eq!(
            micros_to_nanos(Field::Valid(i64::MAX / 10)),
            Field::OutOfRange
        );
    }

    #[test]
    fn negative_duration_is_kept_and_warned() {
        let mut part = Part::with_capacity(0);
        let t = span_times(Field::Valid(100), Field::Valid(-5), &mut part, place());
        assert_eq!(t, Some((100_000, 95_000)));
        assert_eq!(part.diag.total(crate::ingest::diag::Level::Warn), 1);
    }

    #[test]
    fn bad_ids_skip_and_zero_parent_is_root() {
        let mut part = Part::with_capacity(0);
        let text = |s: &'static str| Text(std::borrow::Cow::Borrowed(s));
        assert!(required_id(Some(&text("xyz")), 8, "span: span id", &mut part, place()).is_none());
        assert_eq!(
            part.diag.count(
                crate::ingest::diag::Level::Skip,
                "span: span id: non-hex id"
            ),
            1
        );
        let root = optional_id(Some(&text("0000000000000000")), 8, "p", &mut part, place());
        assert!(matches!(root, Ok(None)));
    }
}
