//! OTLP logs: walks `ResourceLogs` and turns each wire log record into a [`LogRecord`]: time
//! (else observed time), severity, body as text (a structured body as compact JSON), service,
//! lower-case hex ids (malformed ids dropped and warned), flattened attributes.

use super::anyvalue::{flatten, kind_of, to_text, Kind};
use super::ids::parse_id;
use super::ids::{SPAN_ID_BYTES, TRACE_ID_BYTES};
use super::scalar::{Field, Text};
use super::walk::{count_bad_ints, resource_info, Part, Place, WARN_BASE64};
use super::wire::{LogRecord as WireLog, Resource, ScopeLogs};
use crate::ingest::diag::Level;
use crate::ingest::record::{FieldValue, LogRecord};

/// Key under which a log record's `eventName` is kept among its fields.
const EVENT_NAME_FIELD: &str = "event.name";

/// Converts one wire log record; `None` (counted) when its time is unreadable.
pub fn to_record(
    rec: &WireLog<'_>,
    service: &str,
    part: &mut Part,
    place: Place<'_>,
) -> Option<LogRecord> {
    let time_ns = match record_time(rec) {
        Ok(t) => t,
        Err(()) => {
            part.diag
                .add(Level::Skip, "log record: unreadable time", || place.at());
            return None;
        }
    };
    let mut fields = Vec::new();
    if let Some(event) = rec.event_name.as_ref().filter(|e| !e.as_str().is_empty()) {
        fields.push((
            EVENT_NAME_FIELD.to_string(),
            FieldValue::Str(event.as_str().to_string()),
        ));
    }
    count_bad_ints(&rec.attributes, part, place);
    flatten("", &rec.attributes, &mut fields);
    Some(LogRecord {
        time_ns,
        severity_number: rec.severity_number.0.valid().filter(|n| *n > 0),
        severity_text: non_empty(rec.severity_text.as_ref()),
        message: body_text(rec),
        service: Some(service.to_string()),
        trace_id: optional_id(rec.trace_id.as_ref(), TRACE_ID_BYTES, part, place),
        span_id: optional_id(rec.span_id.as_ref(), SPAN_ID_BYTES, part, place),
        fields,
    })
}

/// `timeUnixNano`, else `observedTimeUnixNano` (0 = unknown); `Err` when unreadable.
fn record_time(rec: &WireLog<'_>) -> Result<Option<i64>, ()> {
    let pick = |f: Field<i64>| match f {
        Field::Valid(t) if t > 0 => Ok(Some(t)),
        Field::Invalid | Field::OutOfRange => Err(()),
        _ => Ok(None),
    };
    Ok(pick(rec.time)?.or(pick(rec.observed_time)?))
}

fn body_text(rec: &WireLog<'_>) -> Option<String> {
    match kind_of(&rec.body) {
        Kind::Empty => None,
        body => Some(to_text(body)),
    }
}

fn non_empty(t: Option<&Text<'_>>) -> Option<String> {
    t.map(Text::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// Walks one `ResourceLogs` (or a bare one) into log records.
pub fn walk_resource_logs(
    resource: Option<&Resource<'_>>,
    scope_logs: Option<&[ScopeLogs<'_>]>,
    part: &mut Part,
    place: Place<'_>,
) {
    let Some(scope_logs) = scope_logs else {
        part.skip("resourceLogs entry without scopeLogs", place);
        return;
    };
    let (res, _) = resource_info(resource);
    for sl in scope_logs {
        // An empty scopeLogs entry drops nothing (Fluent Bit accepts it too).
        for rec in sl.log_records.iter().flatten() {
            if let Some(r) = to_record(rec, res.service, part, place) {
                part.logs.push(r);
            }
        }
    }
}

/// Notes a base64 or malformed optional id on a log record (the record is kept).
pub(super) fn optional_id(
    text: Option<&Text<'_>>,
    bytes: usize,
    part: &mut Part,
    place: Place<'_>,
) -> Option<String> {
    let text = text.filter(|t| !t.as_str().is_empty())?;
    match parse_id(text.as_str(), bytes) {
        Ok(p) if p.id.is_zero() => None,
        Ok(p) => {
            if p.was_base64 {
                part.warn(WARN_BASE64, place);
            }
            Some(p.id.as_str().to_string())
        }
        Err(e) => {
            part.warn(&format!("log record: {} id dropped", e.describe()), place);
            None
        }
    }
}
