//! One Jaeger span → a spans-frame row, its logs → events, its other references → links.
//!
//! Parent: the first `CHILD_OF` reference within the span's own trace, else the first
//! `FOLLOWS_FROM` within it (Jaeger's `Span.ParentSpanID`); every other reference is a link
//! carrying `opentracing.ref_type`. Service and instance come from the span's process.

use serde_json::value::RawValue;

use super::mapped::{kind_from_tag, Mapped};
use super::rows::SpanFacts;
use super::rows::{event_time, optional_id, push_event, push_span, required_id, span_times};
use super::wire::{Log, Process, Processes, Reference, Span};
use crate::ingest::otlp::ids::{HexId, SPAN_ID_BYTES, TRACE_ID_BYTES};
use crate::ingest::otlp::parse::error_class;
use crate::ingest::otlp::scalar::Text;
use crate::ingest::otlp::walk::{find_str, Part, Place, UNKNOWN_SERVICE};
use crate::model::columns::kind;

/// Parses one raw span and pushes its rows; a span that is not a JSON object of the right
/// shape is a counted skip.
pub fn walk_raw_span(
    raw: &RawValue,
    processes: &Processes<'_>,
    part: &mut Part,
    scratch: &mut WalkScratch,
    place: Place<'_>,
) {
    match serde_json::from_str::<Span>(raw.get()) {
        Ok(span) => walk_span(&span, processes, part, scratch, place),
        Err(e) => {
            let reason = format!("malformed Jaeger span ({})", error_class(&e));
            part.skip(&reason, place);
        }
    }
}

/// Reused across the spans one task walks: the text the rows are written through, and the
/// last trace id read (a trace's spans repeat it, so it is read once).
#[derive(Default)]
pub struct WalkScratch {
    text: String,
    trace_text: String,
    trace: Option<HexId>,
}

impl WalkScratch {
    /// The trace id of `text`, read as [`required_id`] reads it (the last one remembered).
    fn trace_id(
        &mut self,
        text: Option<&Text<'_>>,
        part: &mut Part,
        place: Place<'_>,
    ) -> Option<HexId> {
        if let (Some(t), Some(id)) = (text, self.trace) {
            if t.as_str() == self.trace_text {
                return Some(id);
            }
        }
        let id = required_id(text, TRACE_ID_BYTES, "span: trace id", part, place)?;
        self.trace_text.clear();
        self.trace_text.push_str(text.map_or("", Text::as_str));
        self.trace = Some(id);
        Some(id)
    }
}

/// A reference whose ids could be read.
struct Ref {
    child_of: bool,
    trace: HexId,
    span: HexId,
}

/// Pushes the rows of one parsed span.
pub fn walk_span(
    span: &Span<'_>,
    processes: &Processes<'_>,
    part: &mut Part,
    scratch: &mut WalkScratch,
    place: Place<'_>,
) {
    let Some((trace, id)) = span_ids(span, part, scratch, place) else {
        return;
    };
    let Some((start_ns, end_ns)) = span_times(span.start, span.duration, part, place) else {
        return;
    };
    let own = (span.trace_id.as_ref().map_or("", Text::as_str), &trace);
    let refs = read_refs(
        span.references.as_deref().unwrap_or_default(),
        own,
        part,
        place,
    );
    let parent = parent_index(&refs, &trace);
    let (service, instance) = service_of(span, processes, part, place);
    let attrs = &span.tags.0;
    let mapped = Mapped::read(attrs);
    let facts = SpanFacts {
        trace: &trace,
        span: &id,
        parent: parent.and_then(|i| refs.get(i)).map(|r| &r.span),
        service,
        instance,
        name: span_name(span, part, place),
        kind: span_kind(&mapped, part, place),
        start_ns,
        end_ns,
    };
    let text = &mut scratch.text;
    push_span(part, text, &facts, attrs, &mapped);
    let ids = [trace.as_str(), id.as_str()];
    for log in span.logs.iter().flatten() {
        walk_log(log, ids, part, text, place);
    }
    for (_, r) in refs.iter().enumerate().filter(|(i, _)| Some(*i) != parent) {
        walk_link(r, ids, part, text);
    }
}

/// The trace and span ids; `None` (counted) when either is unusable.
fn span_ids(
    span: &Span<'_>,
    part: &mut Part,
    scratch: &mut WalkScratch,
    place: Place<'_>,
) -> Option<(HexId, HexId)> {
    let trace = scratch.trace_id(span.trace_id.as_ref(), part, place)?;
    let span_id = span.span_id.as_ref();
    let id = required_id(span_id, SPAN_ID_BYTES, "span: span id", part, place)?;
    Some((trace, id))
}

fn span_name<'s>(span: &'s Span<'_>, part: &mut Part, place: Place<'_>) -> &'s str {
    span.name.as_ref().map_or_else(
        || {
            part.warn("span without name", place);
            ""
        },
        Text::as_str,
    )
}

/// The `span.kind` tag; absent is unspecified (as OTLP → Jaeger writes no tag for it).
fn span_kind(mapped: &Mapped<'_>, part: &mut Part, place: Place<'_>) -> i32 {
    let Some(text) = mapped.span_kind else {
        return kind::UNSPECIFIED;
    };
    kind_from_tag(text).unwrap_or_else(|| {
        part.warn("unknown span.kind tag (kept as unspecified)", place);
        kind::UNSPECIFIED
    })
}

/// References with readable ids; a missing trace id means the span's own trace. `own` is
/// the span's trace id as written and as read (a reference to the same text is not read
/// again).
fn read_refs(
    refs: &[Reference<'_>],
    own: (&str, &HexId),
    part: &mut Part,
    place: Place<'_>,
) -> Vec<Ref> {
    let (own_text, trace) = own;
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        let ref_trace = match r.trace_id.as_ref() {
            None => Ok(Some(*trace)),
            Some(t) if t.as_str() == own_text => Ok(Some(*trace)),
            t => optional_id(t, TRACE_ID_BYTES, "reference: trace", part, place),
        };
        let ref_span = optional_id(
            r.span_id.as_ref(),
            SPAN_ID_BYTES,
            "reference: span",
            part,
            place,
        );
        let (Ok(trace), Ok(span)) = (ref_trace, ref_span) else {
            continue; // malformed: counted by `optional_id`
        };
        let (Some(trace), Some(span)) = (trace, span) else {
            part.skip("reference without ids", place);
            continue;
        };
        let child_of = !r
            .ref_type
            .as_ref()
            .is_some_and(|t| t.as_str().eq_ignore_ascii_case("FOLLOWS_FROM"));
        out.push(Ref {
            child_of,
            trace,
            span,
        });
    }
    out
}

/// Which reference is the parent (see the module doc).
fn parent_index(refs: &[Ref], trace: &HexId) -> Option<usize> {
    let same_trace = |r: &&Ref| r.trace.as_str() == trace.as_str();
    let first = |child_of: bool| {
        refs.iter()
            .enumerate()
            .find(|(_, r)| r.child_of == child_of && same_trace(r))
            .map(|(i, _)| i)
    };
    first(true).or_else(|| first(false))
}

/// Service (`serviceName`) and instance (`service.instance.id`, `k8s.pod.name`, `host.name`,
/// then the Jaeger clients' `hostname` and `ip`) of the span's process.
fn service_of<'s>(
    span: &'s Span<'_>,
    processes: &'s Processes<'_>,
    part: &mut Part,
    place: Place<'_>,
) -> (&'s str, Option<&'s str>) {
    let by_id = || {
        span.process_id
            .as_ref()
            .and_then(|id| processes.get(id.as_str()))
    };
    let process: Option<&Process<'_>> = span.process.as_ref().or_else(by_id);
    let service = process
        .and_then(|p| p.service_name.as_ref())
        .map(Text::as_str)
        .filter(|s| !s.is_empty());
    if service.is_none() {
        part.warn(
            "span without a process service name (unknown_service)",
            place,
        );
    }
    let instance = process.and_then(|p| p.tags.instance());
    (service.unwrap_or(UNKNOWN_SERVICE), instance)
}

/// A log: its `event` field names the event, the other fields are its attributes.
fn walk_log(
    log: &Log<'_>,
    ids: [&str; 2],
    part: &mut Part,
    scratch: &mut String,
    place: Place<'_>,
) {
    let Some(time_ns) = event_time(log.timestamp, part, place) else {
        return;
    };
    let fields = &log.fields.0;
    let name = find_str(fields, "event").unwrap_or_default();
    push_event(part, scratch, ids, time_ns, (name, "event"), fields);
}

fn walk_link(r: &Ref, ids: [&str; 2], part: &mut Part, scratch: &mut String) {
    scratch.clear();
    scratch.push_str(if r.child_of {
        r#"{"opentracing.ref_type":"child_of"}"#
    } else {
        r#"{"opentracing.ref_type":"follows_from"}"#
    });
    let [from_trace, from_span] = ids;
    part.links.push(
        [from_trace, from_span, r.trace.as_str(), r.span.as_str()],
        scratch,
    );
}
