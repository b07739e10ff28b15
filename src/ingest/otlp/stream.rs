//! Streaming parse of one OTLP/JSON line: each span of `resourceSpans` is walked into the
//! part's column builders as soon as it is parsed, instead of first collecting every
//! `Span` of the line into vectors (which cost copies and reallocations).
//!
//! Spans are streamed only once their context is known: the `resource` before the
//! `scopeSpans` of an entry, the `scope` before its `spans`. Otherwise the entry is
//! collected and walked as in [`super::walk`], so the rows come out the same. Anything this
//! parser does not take exactly as the derived [`Doc`] would (a JSON error, a key written
//! with escapes, an entry written as an array) is an error, and the caller then parses the
//! whole group again the collecting way: spans already pushed are never half-kept.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::walk::{
    resource_info, scope_name, walk_resource_spans, walk_scope_spans, walk_span, Part, Place,
    ResourceInfo, WARN_NO_SERVICE,
};
use super::wire::{Doc, Resource, Scope, ScopeSpans, Span};

/// Parses one line; the spans of its `resourceSpans` are walked into `part` on the way and
/// the returned document holds that key as an empty list. Walk the rest with `walk_doc`.
pub(super) fn parse_streamed<'de>(
    line: &'de str,
    part: &mut Part,
    place: Place<'_>,
) -> serde_json::Result<Doc<'de>> {
    let mut de = serde_json::Deserializer::from_str(line);
    let doc = de.deserialize_map(DocVisitor { part, place })?;
    de.end()?;
    Ok(doc)
}

fn duplicate<E: de::Error>(key: &'static str) -> E {
    E::duplicate_field(key)
}

/// The [`Doc`] fields, as bits of a "seen" set (a field may occur once, as in the derive).
mod field {
    pub const RESOURCE_SPANS: u16 = 1;
    pub const RESOURCE_LOGS: u16 = 1 << 1;
    pub const RESOURCE_METRICS: u16 = 1 << 2;
    pub const RESOURCE_PROFILES: u16 = 1 << 3;
    pub const RESULT: u16 = 1 << 4;
    pub const RESOURCE: u16 = 1 << 5;
    pub const SCOPE_SPANS: u16 = 1 << 6;
    pub const SCOPE_LOGS: u16 = 1 << 7;
    pub const SCOPE_METRICS: u16 = 1 << 8;
}

/// The field a key names, with the names and aliases of [`Doc`]; `None` for other keys.
fn doc_field(key: &str) -> Option<(u16, &'static str)> {
    use field::*;
    Some(match key {
        "resourceSpans" | "resource_spans" | "batches" => (RESOURCE_SPANS, "resourceSpans"),
        "resourceLogs" | "resource_logs" => (RESOURCE_LOGS, "resourceLogs"),
        "resourceMetrics" | "resource_metrics" => (RESOURCE_METRICS, "resourceMetrics"),
        "resourceProfiles" | "resource_profiles" => (RESOURCE_PROFILES, "resourceProfiles"),
        "result" => (RESULT, "result"),
        "resource" => (RESOURCE, "resource"),
        "scopeSpans"
        | "scope_spans"
        | "instrumentationLibrarySpans"
        | "instrumentation_library_spans" => (SCOPE_SPANS, "scopeSpans"),
        "scopeLogs"
        | "scope_logs"
        | "instrumentationLibraryLogs"
        | "instrumentation_library_logs" => (SCOPE_LOGS, "scopeLogs"),
        "scopeMetrics" | "scope_metrics" => (SCOPE_METRICS, "scopeMetrics"),
        _ => return None,
    })
}

/// Fills a [`Doc`] like its derived `Deserialize`, streaming `resourceSpans`.
struct DocVisitor<'s, 'p> {
    part: &'s mut Part,
    place: Place<'p>,
}

impl<'de> Visitor<'de> for DocVisitor<'_, '_> {
    type Value = Doc<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OTLP/JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Doc<'de>, A::Error> {
        let mut doc = Doc::default();
        let mut seen = 0u16;
        while let Some(key) = map.next_key::<&'de str>()? {
            let Some((bit, name)) = doc_field(key) else {
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if seen & bit != 0 {
                return Err(duplicate(name));
            }
            seen |= bit;
            if bit == field::RESOURCE_SPANS {
                let sink = ResourceSpansSink {
                    part: &mut *self.part,
                    place: self.place,
                };
                if map.next_value_seed(OptSeq(sink))? {
                    doc.resource_spans = Some(Vec::new());
                }
            } else {
                set_doc_field(bit, &mut doc, &mut map)?;
            }
        }
        Ok(doc)
    }
}

/// Reads the value of every [`Doc`] field but `resourceSpans` into its slot.
fn set_doc_field<'de, A: MapAccess<'de>>(
    bit: u16,
    doc: &mut Doc<'de>,
    map: &mut A,
) -> Result<(), A::Error> {
    use field::*;
    match bit {
        RESOURCE_LOGS => doc.resource_logs = map.next_value()?,
        RESOURCE_METRICS => doc.resource_metrics = map.next_value()?,
        RESOURCE_PROFILES => doc.resource_profiles = map.next_value()?,
        RESULT => doc.result = map.next_value()?,
        RESOURCE => doc.resource = map.next_value()?,
        SCOPE_SPANS => doc.scope_spans = map.next_value()?,
        SCOPE_LOGS => doc.scope_logs = map.next_value()?,
        SCOPE_METRICS => doc.scope_metrics = map.next_value()?,
        _ => {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(())
}

/// Receives the elements of a streamed array one at a time.
trait SeqSink<'de> {
    /// Parses and walks the next element; false at the end of the array.
    fn element<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error>;
}

/// An optional array (`null` = absent) streamed through a [`SeqSink`]; the value says
/// whether the array was present.
struct OptSeq<S>(S);

impl<'de, S: SeqSink<'de>> DeserializeSeed<'de> for OptSeq<S> {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, S: SeqSink<'de>> Visitor<'de> for OptSeq<S> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<bool, A::Error> {
        while self.0.element(&mut seq)? {}
        Ok(true)
    }
}

/// The `resourceSpans` array.
struct ResourceSpansSink<'s, 'p> {
    part: &'s mut Part,
    place: Place<'p>,
}

impl<'de> SeqSink<'de> for ResourceSpansSink<'_, '_> {
    fn element<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error> {
        let entry = ResourceSpansVisitor {
            part: &mut *self.part,
            place: self.place,
        };
        Ok(seq.next_element_seed(entry)?.is_some())
    }
}

/// What became of an entry's list of children (`scopeSpans`, or a scope's `spans`).
enum Children<T> {
    /// Key not seen.
    Absent,
    /// Walked while parsed; true when the list was present (not `null`).
    Streamed(bool),
    /// Parsed before its context was known: walked at the end of the entry.
    Collected(Option<Vec<T>>),
}

/// One `ResourceSpans` entry.
struct ResourceSpansVisitor<'s, 'p> {
    part: &'s mut Part,
    place: Place<'p>,
}

impl<'de> DeserializeSeed<'de> for ResourceSpansVisitor<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSpansVisitor<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resourceSpans entry")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut resource: Option<Option<Resource<'de>>> = None;
        let mut scopes = Children::Absent;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "resource" if resource.is_some() => return Err(duplicate("resource")),
                "resource" => resource = Some(map.next_value()?),
                "scopeSpans"
                | "scope_spans"
                | "instrumentationLibrarySpans"
                | "instrumentation_library_spans" => {
                    if !matches!(scopes, Children::Absent) {
                        return Err(duplicate("scopeSpans"));
                    }
                    scopes = match &resource {
                        Some(r) => Children::Streamed(self.stream_scopes(r.as_ref(), &mut map)?),
                        None => Children::Collected(map.next_value()?),
                    };
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let resource = resource.flatten();
        let collected: Option<Vec<ScopeSpans<'de>>> = match scopes {
            Children::Streamed(true) => return Ok(()),
            Children::Streamed(false) | Children::Absent => None,
            Children::Collected(list) => list,
        };
        walk_resource_spans(
            resource.as_ref(),
            collected.as_deref(),
            self.part,
            self.place,
        );
        Ok(())
    }
}

impl ResourceSpansVisitor<'_, '_> {
    /// Streams a `scopeSpans` value whose resource is known; true when it was not `null`.
    fn stream_scopes<'de, A: MapAccess<'de>>(
        &mut self,
        resource: Option<&Resource<'_>>,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        let (res, has_service) = resource_info(resource);
        let sink = ScopeSpansSink {
            res: &res,
            part: &mut *self.part,
            place: self.place,
        };
        let present = map.next_value_seed(OptSeq(sink))?;
        if present && !has_service {
            self.part.warn(WARN_NO_SERVICE, self.place);
        }
        Ok(present)
    }
}

/// The `scopeSpans` array of an entry whose resource is known.
struct ScopeSpansSink<'r, 's, 'p> {
    res: &'r ResourceInfo<'r>,
    part: &'s mut Part,
    place: Place<'p>,
}

impl<'de> SeqSink<'de> for ScopeSpansSink<'_, '_, '_> {
    fn element<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error> {
        let entry = ScopeSpansVisitor {
            res: self.res,
            part: &mut *self.part,
            place: self.place,
        };
        Ok(seq.next_element_seed(entry)?.is_some())
    }
}

/// One `ScopeSpans` entry.
struct ScopeSpansVisitor<'r, 's, 'p> {
    res: &'r ResourceInfo<'r>,
    part: &'s mut Part,
    place: Place<'p>,
}

impl<'de> DeserializeSeed<'de> for ScopeSpansVisitor<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ScopeSpansVisitor<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scopeSpans entry")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut scope: Option<Option<Scope<'de>>> = None;
        let mut spans = Children::Absent;
        while let Some(key) = map.next_key::<&'de str>()? {
            match key {
                "scope" | "instrumentationLibrary" | "instrumentation_library" => {
                    if scope.is_some() {
                        return Err(duplicate("scope"));
                    }
                    scope = Some(map.next_value()?);
                }
                "spans" => {
                    if !matches!(spans, Children::Absent) {
                        return Err(duplicate("spans"));
                    }
                    spans = match &scope {
                        Some(s) => {
                            let sink = SpanSink {
                                res: self.res,
                                scope: scope_name(s.as_ref()),
                                part: &mut *self.part,
                                place: self.place,
                            };
                            Children::Streamed(map.next_value_seed(OptSeq(sink))?)
                        }
                        None => Children::Collected(map.next_value()?),
                    };
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let scope = scope.flatten();
        let collected: Option<Vec<Span<'de>>> = match spans {
            Children::Streamed(true) => return Ok(()),
            Children::Streamed(false) | Children::Absent => None,
            Children::Collected(list) => list,
        };
        let spans = collected.as_deref();
        walk_scope_spans(scope.as_ref(), spans, self.res, self.part, self.place);
        Ok(())
    }
}

/// The `spans` array of a scope whose resource and scope are known.
struct SpanSink<'r, 's, 'p> {
    res: &'r ResourceInfo<'r>,
    scope: Option<&'r str>,
    part: &'s mut Part,
    place: Place<'p>,
}

impl<'de> SeqSink<'de> for SpanSink<'_, '_, '_> {
    fn element<A: SeqAccess<'de>>(&mut self, seq: &mut A) -> Result<bool, A::Error> {
        let Some(span) = seq.next_element::<Span<'de>>()? else {
            return Ok(false);
        };
        walk_span(&span, self.res, self.scope, self.part, self.place);
        Ok(true)
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
