//! One Zipkin v2 span → a spans-frame row and its annotations → events, in two steps: a
//! check (ids, kind, times; before shared ids are split) and the push.
//!
//! Mapping: `kind` (absent = internal), `localEndpoint.serviceName` → service, its address
//! (and port) → instance; `remoteEndpoint` → `peer.service` / `server.address` /
//! `server.port` tags on a client, producer, consumer or internal span (the callee or
//! broker), `client.address` / `client.port` on a server span (the caller; its service name
//! is dropped). Tags the span already has win over these.

use serde_json::value::RawValue;

use super::shared::{key, Key};
use super::wire::{Endpoint, Span};
use crate::ingest::jaeger::mapped::Mapped;
use crate::ingest::jaeger::rows::{
    event_time, optional_id, push_event, push_span, required_id, span_times, SpanFacts,
};
use crate::ingest::jaeger::tags::{int_value, synthetic, text_value};
use crate::ingest::otlp::ids::{HexId, SPAN_ID_BYTES, TRACE_ID_BYTES};
use crate::ingest::otlp::parse::error_class;
use crate::ingest::otlp::scalar::Text;
use crate::ingest::otlp::walk::{Part, Place, UNKNOWN_SERVICE};
use crate::ingest::otlp::wire::KeyValue;
use crate::model::columns::kind;

/// A span whose ids, kind and times could be read; the rest is read again from `raw` when
/// its rows are pushed (holding every span's tags between the passes cost more than that).
pub struct Checked<'a> {
    pub raw: &'a str,
    pub local: Option<Endpoint<'a>>,
    pub line: usize,
    pub trace: HexId,
    pub id: HexId,
    pub parent: Option<HexId>,
    /// (trace, span id) and (trace, parent id) as numbers, for pairing shared ids.
    pub keys: (Option<Key>, Option<Key>),
    pub kind: i32,
    start_ns: i64,
    end_ns: i64,
}

impl Checked<'_> {
    /// The local service name, when written.
    pub fn service(&self) -> Option<&str> {
        self.local.as_ref().and_then(Endpoint::service)
    }
}

/// Parses and checks one raw span; `None` (counted) when it cannot be used.
pub fn check<'a>(raw: &'a RawValue, part: &mut Part, place: Place<'_>) -> Option<Checked<'a>> {
    check_str(raw.get(), part, place)
}

/// [`check`] on the span's JSON text.
pub fn check_str<'a>(raw: &'a str, part: &mut Part, place: Place<'_>) -> Option<Checked<'a>> {
    let parsed = super::fast::read_head(raw).or_else(|_| serde_json::from_str::<Span<'a>>(raw));
    let span = match parsed {
        Ok(span) => span,
        Err(e) => {
            part.skip(
                &format!("malformed Zipkin span ({})", error_class(&e)),
                place,
            );
            return None;
        }
    };
    check_span(span, raw, part, place)
}

/// Checks a span read from `raw` (by the head reader or serde).
pub fn check_span<'a>(
    span: Span<'a>,
    raw: &'a str,
    part: &mut Part,
    place: Place<'_>,
) -> Option<Checked<'a>> {
    let trace = required_id(
        span.trace_id.as_ref(),
        TRACE_ID_BYTES,
        "span: trace id",
        part,
        place,
    )?;
    let id = required_id(
        span.id.as_ref(),
        SPAN_ID_BYTES,
        "span: span id",
        part,
        place,
    )?;
    let parent = optional_id(
        span.parent_id.as_ref(),
        SPAN_ID_BYTES,
        "span: parent span",
        part,
        place,
    )
    .ok()?;
    let Some(kind) = span_kind(span.kind.as_ref()) else {
        part.skip("span: unknown kind", place);
        return None;
    };
    let (start_ns, end_ns) = span_times(span.timestamp, span.duration, part, place)?;
    Some(Checked {
        raw,
        local: span.local,
        line: place.line,
        keys: (
            key(&trace, &id),
            parent.as_ref().and_then(|p| key(&trace, p)),
        ),
        trace,
        id,
        parent,
        kind,
        start_ns,
        end_ns,
    })
}

fn span_kind(text: Option<&Text<'_>>) -> Option<i32> {
    let Some(text) = text else {
        return Some(kind::INTERNAL);
    };
    const KINDS: [(&str, i32); 4] = [
        ("CLIENT", kind::CLIENT),
        ("SERVER", kind::SERVER),
        ("PRODUCER", kind::PRODUCER),
        ("CONSUMER", kind::CONSUMER),
    ];
    KINDS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text.as_str()))
        .map(|&(_, k)| k)
}

/// Pushes the rows of one checked span.
pub fn push(c: Checked<'_>, part: &mut Part, scratch: &mut String, label: &str) {
    let place = Place {
        label,
        line: c.line,
    };
    // Taken by `check`, so taken again (by serde if the cursor gives up).
    let parsed = super::fast::read_span(c.raw).or_else(|_| serde_json::from_str::<Span>(c.raw));
    let Ok(span) = parsed else {
        part.skip("malformed Zipkin span (read again)", place);
        return;
    };
    let mut attrs = span.tags.0;
    let service = c.service().unwrap_or_else(|| {
        part.warn(
            "span without localEndpoint.serviceName (unknown_service)",
            place,
        );
        UNKNOWN_SERVICE
    });
    let instance = c.local.as_ref().and_then(instance_of);
    if let Some(remote) = &span.remote {
        add_remote(&mut attrs, remote, c.kind);
    }
    let mapped = Mapped::read(&attrs);
    let facts = SpanFacts {
        trace: &c.trace,
        span: &c.id,
        parent: c.parent.as_ref(),
        service,
        instance: instance.as_deref(),
        name: span.name.as_ref().map_or("", Text::as_str),
        kind: c.kind,
        start_ns: c.start_ns,
        end_ns: c.end_ns,
    };
    push_span(part, scratch, &facts, &attrs, &mapped);
    let ids = [c.trace.as_str(), c.id.as_str()];
    for a in span.annotations.iter().flatten() {
        let Some(time_ns) = event_time(a.timestamp, part, place) else {
            continue;
        };
        let name = a.value.as_ref().map_or("", Text::as_str);
        push_event(part, scratch, ids, time_ns, (name, ""), &[]);
    }
}

/// `address` or `address:port` (`[v6]:port`) of the local endpoint.
fn instance_of(local: &Endpoint<'_>) -> Option<String> {
    let address = local.address()?;
    Some(match local.port() {
        Some(port) if address.contains(':') => format!("[{address}]:{port}"),
        Some(port) => format!("{address}:{port}"),
        None => address.to_string(),
    })
}

/// Adds the remote endpoint as semantic tags (see the module doc), unless already present.
fn add_remote<'a>(attrs: &mut Vec<KeyValue<'a>>, remote: &Endpoint<'a>, span_kind: i32) {
    let server = span_kind == kind::SERVER;
    let (address_key, port_key) = if server {
        ("client.address", "client.port")
    } else {
        ("server.address", "server.port")
    };
    let mut extra = Vec::with_capacity(3);
    if let (false, Some(service)) = (server, remote.service_text()) {
        extra.push(synthetic("peer.service", text_value(service.clone())));
    }
    if let Some(address) = remote.address_text() {
        extra.push(synthetic(address_key, text_value(address.clone())));
    }
    if let Some(port) = remote.port() {
        extra.push(synthetic(port_key, int_value(port)));
    }
    let has = |attrs: &[KeyValue<'_>], key: &str| {
        attrs
            .iter()
            .any(|kv| kv.key.as_ref().is_some_and(|k| k.as_str() == key))
    };
    for kv in extra {
        let key = kv.key.as_ref().map_or("", Text::as_str);
        if !has(attrs, key) {
            attrs.push(kv);
        }
    }
}
