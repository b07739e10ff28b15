//! The fast path for one OTLP/JSON trace line: read with the [`Cursor`] (no serde), each
//! span walked into the part's builders as soon as it is read, one span struct reused.
//!
//! It takes the shape every exporter writes — `resourceSpans`, each entry's `resource`
//! before its `scopeSpans`, each `scope` before its `spans` — and gives up on anything
//! else (logs or metrics in the line, another key order, anything serde would refuse or
//! read differently). Giving up is not an error: the caller parses the whole group again
//! with serde ([`super::stream`]), with a fresh part, so rows pushed here are never kept.

use crate::ingest::cursor::{Bail, Cursor, Res};

use super::fast_span::span;
use super::fast_values::{opt_resource, opt_scope};
use super::walk::{
    resource_info, scope_name, walk_resource_spans, walk_scope_spans, walk_span, Part, Place,
    ResourceInfo, WARN_NO_SERVICE,
};
use super::wire::{Doc, Span};

/// Top-level keys of [`Doc`] this path leaves to serde.
const OTHER_SIGNALS: [&str; 18] = [
    "resourceLogs",
    "resource_logs",
    "resourceMetrics",
    "resource_metrics",
    "resourceProfiles",
    "resource_profiles",
    "result",
    "resource",
    "scopeSpans",
    "scope_spans",
    "instrumentationLibrarySpans",
    "instrumentation_library_spans",
    "scopeLogs",
    "scope_logs",
    "instrumentationLibraryLogs",
    "instrumentation_library_logs",
    "scopeMetrics",
    "scope_metrics",
];

/// Where the spans of one line go, and the span struct reused between them.
struct Sink<'s, 'p, 'a> {
    part: &'s mut Part,
    place: Place<'p>,
    span: &'s mut Span<'a>,
}

/// Reads one line, walking its spans into `part`; the document returned holds
/// `resourceSpans` as an empty list (walk it with `walk_doc` for the line's diagnostics).
pub(super) fn parse_fast<'a>(
    line: &'a str,
    part: &mut Part,
    place: Place<'_>,
    span: &mut Span<'a>,
) -> Res<Doc<'a>> {
    let mut sink = Sink { part, place, span };
    let mut c = Cursor::new(line);
    let mut doc = Doc::default();
    c.object(|c, key| match key {
        "resourceSpans" | "resource_spans" | "batches" => {
            if doc.resource_spans.is_some() {
                return Err(Bail);
            }
            c.array(|c| resource_spans(c, &mut sink))?;
            doc.resource_spans = Some(Vec::new());
            Ok(())
        }
        k if OTHER_SIGNALS.contains(&k) => Err(Bail),
        _ => c.skip(),
    })?;
    c.end()?;
    Ok(doc)
}

/// Reads one `ResourceSpans` element of a whole document (its raw JSON), walking its spans
/// into `part`.
pub(super) fn parse_resource_spans<'a>(
    raw: &'a str,
    part: &mut Part,
    place: Place<'_>,
    span: &mut Span<'a>,
) -> Res<()> {
    let mut sink = Sink { part, place, span };
    let mut c = Cursor::new(raw);
    resource_spans(&mut c, &mut sink)?;
    c.end()
}

/// One `ResourceSpans` entry.
fn resource_spans<'a>(c: &mut Cursor<'a>, sink: &mut Sink<'_, '_, 'a>) -> Res<()> {
    let mut resource = None;
    let mut scopes = false;
    c.object(|c, key| match key {
        "resource" => {
            if resource.is_some() {
                return Err(Bail);
            }
            resource = Some(opt_resource(c)?);
            Ok(())
        }
        "scopeSpans"
        | "scope_spans"
        | "instrumentationLibrarySpans"
        | "instrumentation_library_spans" => {
            let Some(known) = resource.as_ref().filter(|_| !scopes) else {
                return Err(Bail);
            };
            scopes = true;
            let (res, has_service) = resource_info(known.as_ref());
            c.array(|c| scope_spans(c, &res, sink))?;
            if !has_service {
                sink.part.warn(WARN_NO_SERVICE, sink.place);
            }
            Ok(())
        }
        _ => c.skip(),
    })?;
    if !scopes {
        walk_resource_spans(resource.flatten().as_ref(), None, sink.part, sink.place);
    }
    Ok(())
}

/// One `ScopeSpans` entry of a resource whose service is known.
fn scope_spans<'a>(
    c: &mut Cursor<'a>,
    res: &ResourceInfo<'_>,
    sink: &mut Sink<'_, '_, 'a>,
) -> Res<()> {
    let mut scope = None;
    let mut spans = false;
    c.object(|c, key| match key {
        "scope" | "instrumentationLibrary" | "instrumentation_library" => {
            if scope.is_some() {
                return Err(Bail);
            }
            scope = Some(opt_scope(c)?);
            Ok(())
        }
        "spans" => {
            let Some(known) = scope.as_ref().filter(|_| !spans) else {
                return Err(Bail);
            };
            spans = true;
            let name = scope_name(known.as_ref());
            c.array(|c| {
                span(c, sink.span)?;
                walk_span(sink.span, res, name, sink.part, sink.place);
                Ok(())
            })
        }
        _ => c.skip(),
    })?;
    if !spans {
        let scope = scope.flatten();
        walk_scope_spans(scope.as_ref(), None, res, sink.part, sink.place);
    }
    Ok(())
}

#[cfg(test)]
#[path = "fast_tests.rs"]
mod tests;
