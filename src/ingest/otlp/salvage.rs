//! Damage contained to the span: an OTLP/JSON trace record that serde refuses is walked
//! again tolerantly — `resourceSpans` → `scopeSpans` → `spans` — with every leaf object (a
//! resource, a scope, a span) parsed by the same serde types as the normal path, so the
//! spans before and after the damage are kept and only the damaged ones are lost, counted.
//!
//! Invalid UTF-8 is first replaced with U+FFFD (counted): damage inside a string then costs
//! nothing. Where the structure itself is broken, reading resumes at the next object that
//! shows what it is — a span (parsed whole, with ids and a start time), a `scopeSpans`
//! entry or a `resourceSpans` entry by its first key — right after a `,` or a `[`. Spans
//! are only kept under a resource and scope known to be theirs: when the damaged stretch
//! may hold a scope or resource boundary, the spans after it until the next intact one are
//! counted lost, never given to the wrong service.

use std::borrow::Cow;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::logs::walk_resource_logs;
use super::parse::error_class;
use super::scalar::Text;
use super::walk::{resource_info, walk_scope_spans, Part, Place, WARN_NO_SERVICE};
use super::wire::{Resource, ResourceLogs, Scope, Span};
use crate::ingest::diag::Level;

pub(crate) const WARN_UTF8: &str = "invalid UTF-8 replaced with U+FFFD (record kept)";
pub(crate) const WARN_DAMAGED: &str = "damaged JSON record: spans read around the damage";
const LOST_RESOURCE: &str = "span lost: its resource entry was damaged";
const LOST_SCOPE: &str = "span lost: its scope entry was damaged";

const RESOURCE_SPANS_KEYS: [&str; 3] = ["resourceSpans", "resource_spans", "batches"];
const SCOPE_SPANS_KEYS: [&str; 4] = [
    "scopeSpans",
    "scope_spans",
    "instrumentationLibrarySpans",
    "instrumentation_library_spans",
];
const SCOPE_KEYS: [&str; 3] = ["scope", "instrumentationLibrary", "instrumentation_library"];
/// The first key of an object that makes it a span candidate.
const SPAN_KEYS: [&str; 21] = [
    "traceId",
    "trace_id",
    "spanId",
    "span_id",
    "parentSpanId",
    "parent_span_id",
    "traceState",
    "trace_state",
    "flags",
    "name",
    "kind",
    "startTimeUnixNano",
    "start_time_unix_nano",
    "endTimeUnixNano",
    "end_time_unix_nano",
    "attributes",
    "droppedAttributesCount",
    "events",
    "links",
    "status",
    "dropped_attributes_count",
];
/// Keys once per span (events carry `timeUnixNano`, links no time): counting them in a
/// damaged stretch counts the spans it held.
const SPAN_START_KEYS: [&str; 2] = ["\"startTimeUnixNano\":", "\"start_time_unix_nano\":"];
/// Keys whose presence in a damaged stretch means a scope or resource boundary may be in it.
const SCOPE_BOUNDARY: [&str; 4] = [
    "\"scope\":",
    "\"spans\":",
    "\"instrumentationLibrary\":",
    "\"instrumentation_library\":",
];
const RESOURCE_BOUNDARY: [&str; 5] = [
    "\"resource\":",
    "\"scopeSpans\":",
    "\"scope_spans\":",
    "\"instrumentationLibrarySpans\":",
    "\"instrumentation_library_spans\":",
];

/// Reads one record (a line, or a whole document) that serde refused; false when nothing in
/// it looked like OTLP at all (the caller counts it as a malformed record).
pub(super) fn salvage_record(bytes: &[u8], part: &mut Part, place: Place<'_>) -> bool {
    let (text, replaced) = lossy(bytes);
    if let Some((count, first)) = replaced {
        part.diag.add_n(Level::Warn, WARN_UTF8, count, || {
            format!("{} (byte {first})", place.at())
        });
        if let Ok(doc) = serde_json::from_str::<super::wire::Doc>(&text) {
            if !super::walk::walk_doc(&doc, part, place) {
                part.skip("JSON record holds no OTLP signal", place);
            }
            return true;
        }
    }
    let mut w = Walker::new(&text, part, place);
    let first = w.doc(0);
    w.run(first);
    w.otlp && w.spans_seen
}

/// Reads one `resourceSpans` element of a whole document that serde refused; false when
/// it held no span to read or count (the caller counts the element as malformed).
pub(super) fn salvage_resource_spans(raw: &str, part: &mut Part, place: Place<'_>) -> bool {
    let mut w = Walker::new(raw, part, place);
    w.otlp = true;
    let first = w.element(0, Arr::Resources);
    w.run(first);
    w.spans_seen
}

/// The text with each invalid UTF-8 sequence replaced, and (how many, the first's offset).
fn lossy(bytes: &[u8]) -> (Cow<'_, str>, Option<(u64, usize)>) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(text), None);
    }
    let mut out = String::with_capacity(bytes.len() + 16);
    let (mut count, mut first, mut at) = (0u64, None, 0usize);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        at += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            count += 1;
            first.get_or_insert(at);
            at += chunk.invalid().len();
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
    (Cow::Owned(out), first.map(|f| (count, f)))
}

/// Where the walk broke: the offset, what was being read, and why.
struct Fail {
    at: usize,
    /// The damage was inside one span (at least that span is lost).
    in_span: bool,
    /// The damage was in a resource whose placing attributes were found intact: its own
    /// entry's `scopeSpans` key after it is no resource boundary.
    resource_kept: bool,
    why: String,
}

/// What a resource or scope is known to be.
enum Ctx<T> {
    Absent,
    Known(T),
    Damaged,
}

/// One `scopeSpans` entry being read.
struct Scoped<'s> {
    scope: Ctx<Option<Scope<'s>>>,
    spans: Option<Vec<Span<'s>>>,
}

/// One `resourceSpans` entry being read (walked when it closes, as the normal path does).
struct Entry<'s> {
    resource: Ctx<Option<Resource<'s>>>,
    scopes: Option<Vec<Scoped<'s>>>,
}

/// Where reading resumes after damage.
enum Resume {
    Span(usize),
    Scope(usize),
    Resource(usize),
}

/// The three object levels whose members the walk reads.
#[derive(Clone, Copy, PartialEq)]
enum Obj {
    Doc,
    Resource,
    Scope,
}

/// The arrays it walks element by element.
#[derive(Clone, Copy)]
enum Arr {
    Resources,
    Scopes,
    Spans,
}

struct Walker<'s, 'p, 'q> {
    s: &'s str,
    part: &'p mut Part,
    place: Place<'q>,
    entry: Option<Entry<'s>>,
    /// Any OTLP trace structure was seen.
    otlp: bool,
    /// Any span was read or counted lost: a record where neither happened is counted whole
    /// by the caller.
    spans_seen: bool,
    first_damage: Option<usize>,
}

type R<T> = Result<T, Fail>;

impl<'s, 'p, 'q> Walker<'s, 'p, 'q> {
    fn new(s: &'s str, part: &'p mut Part, place: Place<'q>) -> Self {
        Walker {
            s,
            part,
            place,
            entry: None,
            otlp: false,
            spans_seen: false,
            first_damage: None,
        }
    }

    /// Goes on from the outcome of the first walk, past each damage, to the end (a second
    /// document after the first is a lost line break: it is read too); then walks the last
    /// entry and counts the record as damaged (once).
    fn run(&mut self, first: R<usize>) {
        let mut resume = first;
        loop {
            resume = match resume {
                Ok(end) => {
                    let p = self.ws(end);
                    match self.byte(p) {
                        None => break,
                        Some(b'{') => self.doc(p),
                        Some(_) => Err(self.syntax(p, "trailing characters")),
                    }
                }
                Err(fail) => match self.resync(fail) {
                    Some(Resume::Span(q)) => self.resume_at_span(q),
                    Some(Resume::Scope(q)) => self.resume_at_scope(q),
                    Some(Resume::Resource(q)) => self.resume_at_resource(q),
                    None => break,
                },
            };
        }
        self.close_entry();
        if let Some(at) = self.first_damage.filter(|_| self.otlp && self.spans_seen) {
            let line = self.line_of(at);
            self.part.diag.add(Level::Warn, WARN_DAMAGED, || line);
        }
    }

    // --- the walk, top down and resumed part way ---

    fn doc(&mut self, p: usize) -> R<usize> {
        let p = self.expect(p, b'{')?;
        self.members(p, false, Obj::Doc)
    }

    fn resume_at_span(&mut self, q: usize) -> R<usize> {
        let p = self.elements(q, Arr::Spans)?;
        let p = self.members(p, true, Obj::Scope)?;
        self.after_scope(p)
    }

    fn resume_at_scope(&mut self, q: usize) -> R<usize> {
        let p = self.elements(q, Arr::Scopes)?;
        self.after_scope(p)
    }

    /// After a scope entry's `}`: the rest of its resource entry and of the document.
    fn after_scope(&mut self, p: usize) -> R<usize> {
        let p = self.elements_rest(p, Arr::Scopes)?;
        let p = self.members(p, true, Obj::Resource)?;
        self.close_entry();
        let p = self.elements_rest(p, Arr::Resources)?;
        self.members(p, true, Obj::Doc)
    }

    fn resume_at_resource(&mut self, q: usize) -> R<usize> {
        let p = self.elements(q, Arr::Resources)?;
        self.members(p, true, Obj::Doc)
    }

    /// An object's members from `p` (just inside `{`, or after a member when `after`) to
    /// just past its `}`.
    fn members(&mut self, mut p: usize, mut after: bool, obj: Obj) -> R<usize> {
        loop {
            p = self.ws(p);
            if after {
                match self.byte(p) {
                    Some(b',') => p += 1,
                    Some(b'}') => return Ok(p + 1),
                    _ => return Err(self.syntax(p, "expected `,` or `}`")),
                }
            } else if self.byte(p) == Some(b'}') {
                return Ok(p + 1);
            }
            let (key, q) = self.key(p)?;
            p = self.member(obj, &key, q)?;
            after = true;
        }
    }

    fn member(&mut self, obj: Obj, key: &str, p: usize) -> R<usize> {
        let res_level = matches!(obj, Obj::Doc | Obj::Resource);
        if obj == Obj::Doc && RESOURCE_SPANS_KEYS.contains(&key) {
            self.otlp = true;
            return self.array(p, Arr::Resources);
        }
        if res_level && key == "resource" {
            self.otlp = true;
            let entry = self.entry.get_or_insert_with(Entry::new);
            return match value::<Option<Resource<'s>>>(self.s, p) {
                Ok((r, end)) => {
                    entry.resource = Ctx::Known(r);
                    Ok(end)
                }
                Err(e) => {
                    let mut fail = self.fail(p, &e, false);
                    let salvaged = self.salvage_resource(p, fail.at);
                    fail.resource_kept = salvaged.is_some();
                    let entry = self.entry.get_or_insert_with(Entry::new);
                    entry.resource = salvaged.map_or(Ctx::Damaged, |r| Ctx::Known(Some(r)));
                    Err(fail)
                }
            };
        }
        if res_level && SCOPE_SPANS_KEYS.contains(&key) {
            self.otlp = true;
            self.entry.get_or_insert_with(Entry::new);
            return self.array(p, Arr::Scopes);
        }
        if obj == Obj::Scope && SCOPE_KEYS.contains(&key) {
            return match value::<Option<Scope<'s>>>(self.s, p) {
                Ok((sc, end)) => {
                    self.scope_mut().scope = Ctx::Known(sc);
                    Ok(end)
                }
                Err(e) => {
                    self.scope_mut().scope = Ctx::Damaged;
                    Err(self.fail(p, &e, false))
                }
            };
        }
        if obj == Obj::Scope && key == "spans" {
            return self.array(p, Arr::Spans);
        }
        if obj == Obj::Doc && matches!(key, "resourceLogs" | "resource_logs") {
            self.otlp = true;
            return self.logs(p);
        }
        value::<IgnoredAny>(self.s, p)
            .map(|(_, end)| end)
            .map_err(|e| self.fail(p, &e, false))
    }

    /// `resourceLogs` in a damaged record: read whole or lost (counted).
    fn logs(&mut self, p: usize) -> R<usize> {
        match value::<Option<Vec<ResourceLogs<'s>>>>(self.s, p) {
            Ok((list, end)) => {
                for rl in list.iter().flatten() {
                    let (res, scopes) = (rl.resource.as_ref(), rl.scope_logs.as_deref());
                    walk_resource_logs(res, scopes, self.part, self.place);
                }
                Ok(end)
            }
            Err(e) => {
                let reason = format!("log records lost in damaged JSON ({})", error_class(&e));
                let place = self.line_of(p);
                self.part.diag.add(Level::Skip, &reason, || place);
                Err(self.fail(p, &e, false))
            }
        }
    }

    /// An array (or `null`: absent) of `arr` elements.
    fn array(&mut self, p: usize, arr: Arr) -> R<usize> {
        let p = self.ws(p);
        if self.s.as_bytes().get(p..p + 4) == Some(b"null") {
            return Ok(p + 4);
        }
        let p = self.expect(p, b'[')?;
        self.array_opened(arr);
        let q = self.ws(p);
        if self.byte(q) == Some(b']') {
            return Ok(q + 1);
        }
        self.elements(p, arr)
    }

    /// Marks the list an array fills as present.
    fn array_opened(&mut self, arr: Arr) {
        match arr {
            Arr::Resources => {}
            Arr::Scopes => {
                let entry = self.entry.get_or_insert_with(Entry::new);
                entry.scopes.get_or_insert_with(Vec::new);
            }
            Arr::Spans => {
                self.scope_mut().spans.get_or_insert_with(Vec::new);
            }
        }
    }

    /// Elements from one at `p` to just past the array's `]`.
    fn elements(&mut self, p: usize, arr: Arr) -> R<usize> {
        let p = self.element(p, arr)?;
        self.elements_rest(p, arr)
    }

    /// After an element: more elements, to just past the `]`.
    fn elements_rest(&mut self, mut p: usize, arr: Arr) -> R<usize> {
        loop {
            p = self.ws(p);
            match self.byte(p) {
                Some(b',') => p = self.element(p + 1, arr)?,
                Some(b']') => return Ok(p + 1),
                _ => return Err(self.syntax(p, "expected `,` or `]`")),
            }
        }
    }

    fn element(&mut self, p: usize, arr: Arr) -> R<usize> {
        match arr {
            Arr::Resources => {
                self.close_entry();
                let p = self.expect(p, b'{')?;
                self.entry = Some(Entry::new());
                let end = self.members(p, false, Obj::Resource)?;
                self.close_entry();
                Ok(end)
            }
            Arr::Scopes => {
                self.open_scope(Ctx::Absent);
                let p = self.expect(p, b'{')?;
                self.members(p, false, Obj::Scope)
            }
            Arr::Spans => match value::<Span<'s>>(self.s, p) {
                // A span that ends where no element can end was cut short by the damage.
                Ok((_, end)) if !matches!(self.byte(self.ws(end)), Some(b',' | b']')) => {
                    let mut fail = self.syntax(self.ws(end), "expected `,` or `]`");
                    fail.at = p;
                    fail.in_span = true;
                    Err(fail)
                }
                Ok((span, end)) => {
                    self.spans_seen = true;
                    self.scope_mut()
                        .spans
                        .get_or_insert_with(Vec::new)
                        .push(span);
                    Ok(end)
                }
                Err(e) => Err(self.fail(p, &e, true)),
            },
        }
    }

    // --- context ---

    fn open_scope(&mut self, scope: Ctx<Option<Scope<'s>>>) {
        let entry = self.entry.get_or_insert_with(Entry::new);
        entry
            .scopes
            .get_or_insert_with(Vec::new)
            .push(Scoped { scope, spans: None });
    }

    /// The scope entry being read (a damaged one when none is open: its spans are lost).
    fn scope_mut(&mut self) -> &mut Scoped<'s> {
        let entry = self.entry.get_or_insert_with(Entry::new);
        let scopes = entry.scopes.get_or_insert_with(Vec::new);
        if scopes.is_empty() {
            scopes.push(Scoped {
                scope: Ctx::Damaged,
                spans: None,
            });
        }
        let last = scopes.len() - 1;
        &mut scopes[last]
    }

    /// Walks the entry being read, as the normal path walks a `ResourceSpans`; spans under a
    /// damaged resource or scope are counted lost.
    fn close_entry(&mut self) {
        let Some(entry) = self.entry.take() else {
            return;
        };
        let (part, place) = (&mut *self.part, self.place);
        let resource = match &entry.resource {
            Ctx::Damaged => {
                let n: usize = entry.scopes.iter().flatten().map(Scoped::span_count).sum();
                part.diag
                    .add_n(Level::Skip, LOST_RESOURCE, n as u64, || place.at());
                return;
            }
            Ctx::Known(r) => r.as_ref(),
            Ctx::Absent => None,
        };
        let Some(scopes) = &entry.scopes else {
            part.skip("resourceSpans entry without scopeSpans", place);
            return;
        };
        let (res, has_service) = resource_info(resource);
        if !has_service {
            part.warn(WARN_NO_SERVICE, place);
        }
        for sc in scopes {
            match &sc.scope {
                Ctx::Damaged => {
                    let n = sc.span_count() as u64;
                    part.diag.add_n(Level::Skip, LOST_SCOPE, n, || place.at());
                }
                Ctx::Known(scope) => {
                    walk_scope_spans(scope.as_ref(), sc.spans.as_deref(), &res, part, place)
                }
                Ctx::Absent => walk_scope_spans(None, sc.spans.as_deref(), &res, part, place),
            }
        }
    }

    /// `file:line (byte N)` of an offset in the record.
    fn line_of(&self, at: usize) -> String {
        let head = self.s.as_bytes().get(..at).unwrap_or_default();
        let line = self.place.line + memchr::memchr_iter(b'\n', head).count();
        format!("{}:{line} (byte {at})", self.place.label)
    }

    // --- tokens ---

    fn ws(&self, mut p: usize) -> usize {
        let bytes = self.s.as_bytes();
        while bytes.get(p).is_some_and(u8::is_ascii_whitespace) {
            p += 1;
        }
        p
    }

    fn byte(&self, p: usize) -> Option<u8> {
        self.s.as_bytes().get(p).copied()
    }

    fn expect(&self, p: usize, b: u8) -> R<usize> {
        let p = self.ws(p);
        if self.byte(p) == Some(b) {
            Ok(p + 1)
        } else {
            Err(self.syntax(p, &format!("expected `{}`", b as char)))
        }
    }

    /// A key and its `:`; the offset of the value.
    fn key(&self, p: usize) -> R<(Cow<'s, str>, usize)> {
        let p = self.ws(p);
        let (Text(key), end) = value::<Text<'s>>(self.s, p).map_err(|e| self.fail(p, &e, false))?;
        let colon = self.expect(end, b':')?;
        Ok((key, colon))
    }
}

impl<'s> Entry<'s> {
    fn new() -> Self {
        Entry {
            resource: Ctx::Absent,
            scopes: None,
        }
    }

    /// An entry whose resource is not known: its spans are lost.
    fn damaged() -> Self {
        Entry {
            resource: Ctx::Damaged,
            scopes: Some(Vec::new()),
        }
    }
}

impl Scoped<'_> {
    fn span_count(&self) -> usize {
        self.spans.as_ref().map_or(0, Vec::len)
    }
}

/// One JSON value of type `T` starting at `p` (after whitespace); it and the offset after it.
fn value<'s, T: Deserialize<'s>>(s: &'s str, p: usize) -> serde_json::Result<(T, usize)> {
    let rest = s.get(p..).unwrap_or_default();
    let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<T>();
    match stream.next() {
        Some(Ok(v)) => Ok((v, p + stream.byte_offset())),
        Some(Err(e)) => Err(e),
        None => Err(serde::de::Error::custom("truncated")),
    }
}

/// How many times any of `needles` occurs in `hay` as a key (not escaped inside a string).
fn count_any(hay: &str, needles: &[&str]) -> usize {
    let bytes = hay.as_bytes();
    needles
        .iter()
        .map(|n| {
            memchr::memmem::find_iter(bytes, n.as_bytes())
                .filter(|&at| at == 0 || bytes[at - 1] != b'\\')
                .count()
        })
        .sum()
}

#[path = "salvage_resync.rs"]
mod resync;

#[cfg(test)]
#[path = "salvage_tests.rs"]
mod tests;
