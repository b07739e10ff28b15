//! Walks one parsed OTLP document into column builders and log records, checking every
//! span: bad ids, kinds or times skip that span (counted); missing times, a missing
//! `service.name` or an end before the start are kept and counted as warnings.

use super::anyvalue::{as_str, write_object, write_object_except};
use super::ids::{parse_id, HexId, IdError, Parsed, SPAN_ID_BYTES, TRACE_ID_BYTES};
use super::logs::walk_resource_logs;
use super::scalar::{Field, Text};
use super::semconv::Semantic;
use super::wire::{Doc, Event, KeyValue, Link, Resource, Scope, ScopeSpans, Span};
use crate::ingest::diag::{Diagnostics, Level};
use crate::ingest::frames::{EventColumns, EventRow, LinkColumns, SpanColumns, SpanRow};
use crate::ingest::record::LogRecord;

/// Service name when the resource has no `service.name` (the SDK default).
pub const UNKNOWN_SERVICE: &str = "unknown_service";
const MAX_KIND: i32 = crate::model::columns::kind::CONSUMER;
const MAX_STATUS: i32 = crate::model::columns::status::ERROR;
pub(super) const WARN_BASE64: &str = "base64 id converted to hex";
pub(super) const WARN_NO_SERVICE: &str = "resource without service.name (unknown_service)";

/// Where a record came from, for diagnostics (`file:line`).
#[derive(Clone, Copy)]
pub struct Place<'p> {
    pub label: &'p str,
    pub line: usize,
}

impl Place<'_> {
    pub fn at(&self) -> String {
        format!("{}:{}", self.label, self.line)
    }
}

/// What a run of documents gave: frames under construction, log records, counts.
pub struct Part {
    pub spans: SpanColumns,
    pub events: EventColumns,
    pub links: LinkColumns,
    pub logs: Vec<LogRecord>,
    pub diag: Diagnostics,
    /// Documents of other signals (metrics, profiles).
    pub other_signals: u64,
    scratch: String,
}

impl Part {
    pub fn with_capacity(spans: usize) -> Self {
        Part {
            spans: SpanColumns::with_capacity(spans),
            events: EventColumns::with_capacity(spans / 8),
            links: LinkColumns::with_capacity(spans / 32),
            logs: Vec::new(),
            diag: Diagnostics::default(),
            other_signals: 0,
            scratch: String::new(),
        }
    }

    pub(crate) fn skip(&mut self, reason: &str, place: Place<'_>) {
        self.diag.add(Level::Skip, reason, || place.at());
    }

    pub(crate) fn warn(&mut self, reason: &str, place: Place<'_>) {
        self.diag.add(Level::Warn, reason, || place.at());
    }
}

/// Walks every signal of `doc`; false when it holds no OTLP signal at all.
pub fn walk_doc(doc: &Doc<'_>, part: &mut Part, place: Place<'_>) -> bool {
    let mut any = false;
    for rs in doc.resource_spans.iter().flatten() {
        walk_resource_spans(rs.resource.as_ref(), rs.scope_spans.as_deref(), part, place);
    }
    for rl in doc.resource_logs.iter().flatten() {
        walk_resource_logs(rl.resource.as_ref(), rl.scope_logs.as_deref(), part, place);
    }
    any |= doc.resource_spans.is_some() || doc.resource_logs.is_some();
    let other = [
        &doc.resource_metrics,
        &doc.resource_profiles,
        &doc.scope_metrics,
    ];
    if other.iter().any(|o| o.is_some()) {
        part.other_signals += 1;
        any = true;
    }
    if let Some(inner) = &doc.result {
        any |= walk_doc(inner, part, place);
    }
    if doc.scope_spans.is_some() {
        walk_resource_spans(
            doc.resource.as_ref(),
            doc.scope_spans.as_deref(),
            part,
            place,
        );
        any = true;
    }
    if doc.scope_logs.is_some() {
        walk_resource_logs(
            doc.resource.as_ref(),
            doc.scope_logs.as_deref(),
            part,
            place,
        );
        any = true;
    }
    any
}

/// Resource facts every span of a resource shares.
pub(super) struct ResourceInfo<'v> {
    pub service: &'v str,
    pub instance: Option<&'v str>,
}

/// A non-empty string attribute by key.
pub(crate) fn find_str<'v>(attrs: &'v [KeyValue<'_>], key: &str) -> Option<&'v str> {
    attrs
        .iter()
        .find(|kv| kv.key.as_ref().is_some_and(|k| k.as_str() == key))
        .and_then(|kv| as_str(&kv.value))
        .filter(|v| !v.is_empty())
}

/// The instance of a resource: `service.instance.id`, else `k8s.pod.name`, else `host.name`.
pub(crate) fn instance_of<'v>(attrs: &'v [KeyValue<'_>]) -> Option<&'v str> {
    find_str(attrs, "service.instance.id")
        .or_else(|| find_str(attrs, "k8s.pod.name"))
        .or_else(|| find_str(attrs, "host.name"))
}

pub(super) fn resource_info<'v>(resource: Option<&'v Resource<'_>>) -> (ResourceInfo<'v>, bool) {
    let attrs: &[KeyValue<'_>] = resource.map_or(&[], |r| &r.attributes);
    let service = find_str(attrs, "service.name");
    let instance = instance_of(attrs);
    let info = ResourceInfo {
        service: service.unwrap_or(UNKNOWN_SERVICE),
        instance,
    };
    (info, service.is_some())
}

/// Walks one `ResourceSpans` (or a bare one at the top level).
pub fn walk_resource_spans(
    resource: Option<&Resource<'_>>,
    scope_spans: Option<&[ScopeSpans<'_>]>,
    part: &mut Part,
    place: Place<'_>,
) {
    let Some(scope_spans) = scope_spans else {
        part.skip("resourceSpans entry without scopeSpans", place);
        return;
    };
    let (res, has_service) = resource_info(resource);
    if !has_service {
        part.warn(WARN_NO_SERVICE, place);
    }
    for ss in scope_spans {
        walk_scope_spans(ss.scope.as_ref(), ss.spans.as_deref(), &res, part, place);
    }
}

/// The scope name spans carry: the scope's non-empty `name`.
pub(super) fn scope_name<'v>(scope: Option<&'v Scope<'_>>) -> Option<&'v str> {
    let name = scope.and_then(|s| s.name.as_ref());
    name.map(Text::as_str).filter(|s| !s.is_empty())
}

/// Walks the spans of one `ScopeSpans` entry (skipped, counted, when it has none).
pub(super) fn walk_scope_spans(
    scope: Option<&Scope<'_>>,
    spans: Option<&[Span<'_>]>,
    res: &ResourceInfo<'_>,
    part: &mut Part,
    place: Place<'_>,
) {
    let Some(spans) = spans else {
        part.skip("scopeSpans entry without spans", place);
        return;
    };
    let scope = scope_name(scope);
    for span in spans {
        walk_span(span, res, scope, part, place);
    }
}

/// Reads a required id; `what` names it in the skip reason.
fn required_id(
    text: Option<&Text<'_>>,
    bytes: usize,
    what: &str,
    part: &mut Part,
    place: Place<'_>,
) -> Option<HexId> {
    required_id_by(text, what, part, place, |t| parse_id(t, bytes))
}

/// Reads a required id with `parse`: a missing, malformed or all-zero id skips the span
/// (`what` names it in the reason); a base64 id is kept with a warning.
pub(crate) fn required_id_by(
    text: Option<&Text<'_>>,
    what: &str,
    part: &mut Part,
    place: Place<'_>,
    parse: impl FnOnce(&str) -> Result<Parsed, IdError>,
) -> Option<HexId> {
    let Some(text) = text else {
        part.skip(&format!("{what}: missing"), place);
        return None;
    };
    match parse(text.as_str()) {
        Ok(p) if p.id.is_zero() => {
            part.skip(&format!("{what}: all zero"), place);
            None
        }
        Ok(p) => {
            if p.was_base64 {
                part.warn(WARN_BASE64, place);
            }
            Some(p.id)
        }
        Err(e) => {
            part.skip(&format!("{what}: {} id", e.describe()), place);
            None
        }
    }
}

/// The parent id: absent, empty or all-zero means root; `Err` when it is malformed.
fn parent_id(span: &Span<'_>, part: &mut Part, place: Place<'_>) -> Result<Option<HexId>, ()> {
    let Some(text) = span
        .parent_span_id
        .as_ref()
        .filter(|t| !t.as_str().is_empty())
    else {
        return Ok(None);
    };
    match parse_id(text.as_str(), SPAN_ID_BYTES) {
        Ok(p) if p.id.is_zero() => Ok(None),
        Ok(p) => {
            if p.was_base64 {
                part.warn(WARN_BASE64, place);
            }
            Ok(Some(p.id))
        }
        Err(e) => {
            part.skip(&format!("span: {} parent span id", e.describe()), place);
            Err(())
        }
    }
}

/// An enum value within `0..=max`, missing = 0.
fn enum_value(f: Field<i32>, max: i32) -> Option<i32> {
    match f {
        Field::Missing => Some(0),
        Field::Valid(v) if (0..=max).contains(&v) => Some(v),
        _ => None,
    }
}

/// A span time: missing → 0 (warned), unreadable → `None` (span skipped).
fn span_time(f: Field<i64>, part: &mut Part, place: Place<'_>) -> Option<i64> {
    match f {
        Field::Valid(v) => Some(v),
        Field::Missing => {
            part.warn("span without start/end time (kept as 0)", place);
            Some(0)
        }
        Field::Invalid => {
            part.skip("span: unreadable start/end time", place);
            None
        }
        Field::OutOfRange => {
            part.skip("span: start/end time out of range", place);
            None
        }
    }
}

/// Counts integer attribute values that are kept as null, by why (not an integer, or out
/// of the int64 range), looking into arrays and key-value lists too.
pub(crate) fn count_bad_ints(attrs: &[KeyValue<'_>], part: &mut Part, place: Place<'_>) {
    for kv in attrs {
        if let Some(v) = &kv.value {
            count_bad_int(v, part, place);
        }
    }
}

fn count_bad_int(v: &super::wire::AnyValue<'_>, part: &mut Part, place: Place<'_>) {
    match v.int {
        Field::Invalid => part.warn("attribute intValue not an integer (kept as null)", place),
        Field::OutOfRange => part.warn(
            "attribute intValue out of the int64 range (kept as null)",
            place,
        ),
        _ => {}
    }
    if let Some(a) = &v.array {
        for v in &a.values {
            count_bad_int(v, part, place);
        }
    }
    if let Some(kv) = &v.kvlist {
        count_bad_ints(&kv.values, part, place);
    }
}

/// The checked scalar fields of a span.
struct Checked {
    trace: HexId,
    span: HexId,
    parent: Option<HexId>,
    kind: i32,
    status: i32,
    start: i64,
    end: i64,
}

fn check_span(span: &Span<'_>, part: &mut Part, place: Place<'_>) -> Option<Checked> {
    let trace = required_id(
        span.trace_id.as_ref(),
        TRACE_ID_BYTES,
        "span: trace id",
        part,
        place,
    )?;
    let span_id = required_id(
        span.span_id.as_ref(),
        SPAN_ID_BYTES,
        "span: span id",
        part,
        place,
    )?;
    let parent = parent_id(span, part, place).ok()?;
    let Some(kind) = enum_value(span.kind.0, MAX_KIND) else {
        part.skip("span: unknown kind", place);
        return None;
    };
    let status_field = span.status.as_ref().map_or(Field::Missing, |s| s.code.0);
    let Some(status) = enum_value(status_field, MAX_STATUS) else {
        part.skip("span: unknown status code", place);
        return None;
    };
    let start = span_time(span.start, part, place)?;
    let end = span_time(span.end, part, place)?;
    if end < start {
        part.warn("span ends before it starts (duration clamped to 0)", place);
    }
    let (span, parent) = (span_id, parent);
    Some(Checked {
        trace,
        span,
        parent,
        kind,
        status,
        start,
        end,
    })
}

/// Checks one span and pushes its row, events and links.
pub(super) fn walk_span(
    span: &Span<'_>,
    res: &ResourceInfo<'_>,
    scope: Option<&str>,
    part: &mut Part,
    place: Place<'_>,
) {
    let Some(c) = check_span(span, part, place) else {
        return;
    };
    count_bad_ints(&span.attributes, part, place);
    let name = span.name.as_ref().map_or_else(
        || {
            part.warn("span without name", place);
            ""
        },
        Text::as_str,
    );
    let mut scratch = std::mem::take(&mut part.scratch);
    scratch.clear();
    let semantic = Semantic::from_attributes(&span.attributes);
    write_object_except(&mut scratch, &span.attributes, |i| semantic.carries(i));
    let status_message = span.status.as_ref().and_then(|s| s.message.as_ref());
    part.spans.push(&SpanRow {
        trace_id: c.trace.as_str(),
        span_id: c.span.as_str(),
        parent_span_id: c.parent.as_ref().map(HexId::as_str),
        service: res.service,
        instance: res.instance,
        scope,
        name,
        kind: c.kind,
        start_ns: c.start,
        end_ns: c.end,
        status_code: match c.status {
            0 => semantic.legacy_status().unwrap_or(0),
            code => code,
        },
        status_message: status_message.map(Text::as_str).filter(|m| !m.is_empty()),
        semantic: &semantic,
        attributes: &scratch,
    });
    for ev in &span.events {
        walk_event(
            ev,
            [c.trace.as_str(), c.span.as_str()],
            &mut scratch,
            part,
            place,
        );
    }
    for link in &span.links {
        walk_link(
            link,
            [c.trace.as_str(), c.span.as_str()],
            &mut scratch,
            part,
            place,
        );
    }
    part.scratch = scratch;
}

fn walk_event(
    ev: &Event<'_>,
    ids: [&str; 2],
    scratch: &mut String,
    part: &mut Part,
    place: Place<'_>,
) {
    let time = match (ev.time, &ev.name) {
        (Field::Valid(t), _) => t,
        (Field::Invalid, _) => return part.skip("event: unreadable time", place),
        (Field::OutOfRange, _) => return part.skip("event: time out of range", place),
        (Field::Missing, None) => return part.skip("event: no name and no time", place),
        (Field::Missing, Some(_)) => {
            part.warn("event without time (kept as 0)", place);
            0
        }
    };
    count_bad_ints(&ev.attributes, part, place);
    scratch.clear();
    write_object(scratch, &ev.attributes);
    let attr = |key: &str| {
        ev.attributes
            .iter()
            .find(|kv| kv.key.as_ref().is_some_and(|k| k.as_str() == key))
            .and_then(|kv| as_str(&kv.value))
    };
    let [trace_id, span_id] = ids;
    part.events.push(&EventRow {
        trace_id,
        span_id,
        time_ns: time,
        name: ev.name.as_ref().map_or("", Text::as_str),
        exception_type: attr("exception.type"),
        exception_message: attr("exception.message"),
        attributes: scratch,
    });
}

fn walk_link(
    link: &Link<'_>,
    ids: [&str; 2],
    scratch: &mut String,
    part: &mut Part,
    place: Place<'_>,
) {
    let trace = required_id(
        link.trace_id.as_ref(),
        TRACE_ID_BYTES,
        "link: trace id",
        part,
        place,
    );
    let span = required_id(
        link.span_id.as_ref(),
        SPAN_ID_BYTES,
        "link: span id",
        part,
        place,
    );
    let (Some(trace), Some(span)) = (trace, span) else {
        return;
    };
    count_bad_ints(&link.attributes, part, place);
    scratch.clear();
    write_object(scratch, &link.attributes);
    let [from_trace, from_span] = ids;
    part.links.push(
        [from_trace, from_span, trace.as_str(), span.as_str()],
        scratch,
    );
}
