//! Jaeger JSON reader (FORMATS.md §5): the query API envelope `{data: [trace…]}`, one trace
//! object `{traceID, spans, processes}`, a bare array of spans with inline `process` or of
//! trace objects, into the same frames as OTLP (see [`walk`] for the mapping).
//!
//! Layers: [`stream`] reads the input; a query API envelope on one line (as the query
//! service writes it) streams block by block through [`chunks`] (its `data` array cut at
//! likely trace starts, each chunk read in parallel, the cuts proven by the reading). Other
//! inputs are read whole: [`scan`] + [`envelope`] (the `data` array's traces found without
//! parsing, then parsed in parallel groups) or [`batch`] (one trace's or a bare array's
//! spans left raw and grouped). Every group is first read by the strict cursor ([`fast`],
//! [`fast_span`], [`fast_tags`]) and, when it gives up, again by serde ([`wire`], tags read
//! by [`tags`]), which decides. Then [`walk`] (one span's rows, with [`mapped`] and
//! [`rows`]). The Zipkin reader shares [`tags`], [`mapped`], [`rows`] and [`batch`]. Groups
//! are about 2 MB of input, cut by bytes, merged in input order.

pub mod batch;
pub mod chunks;
pub mod envelope;
pub mod fast;
pub mod fast_span;
pub mod fast_tags;
pub mod mapped;
pub mod rows;
pub mod scan;
pub mod stream;
pub mod tags;
pub mod walk;
pub mod wire;

#[cfg(test)]
mod fast_fixture_tests;
#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod tests;

use anyhow::Result;
use rayon::prelude::*;
use serde_json::value::RawValue;

use self::batch::{Group, Lines, Piece};
use self::walk::WalkScratch;
use self::wire::{Doc, Processes, Trace};
use crate::ingest::diag::Level;
use crate::ingest::otlp::parse::{error_class, finish, Done, Loaded};
use crate::ingest::otlp::walk::{Part, Place};
use crate::ingest::otlp::{has_key, SNIFF_BYTES};

/// Keys every Jaeger span carries (the Go model's spelling: capital `ID`).
const SPAN_KEYS: [&[u8]; 3] = [b"\"traceID\"", b"\"spanID\"", b"\"operationName\""];
/// Keys of the query API envelope, for a response that holds no trace at all.
const ENVELOPE_KEYS: [&[u8]; 4] = [b"\"data\"", b"\"total\"", b"\"limit\"", b"\"offset\""];
/// Rough input bytes per Jaeger span, to size builders (a span with a few tags: ~800).
pub(super) const BYTES_PER_SPAN: usize = 800;

/// True when the first bytes of an input look like Jaeger JSON.
pub fn detect(head: &[u8]) -> bool {
    let text = head.trim_ascii_start();
    let sniff = text.get(..SNIFF_BYTES).unwrap_or(text);
    let opens = matches!(text.first(), Some(b'{' | b'['));
    let spans = SPAN_KEYS.iter().all(|k| has_key(sniff, k));
    let envelope = ENVELOPE_KEYS.iter().all(|k| has_key(sniff, k));
    opens && (spans || envelope)
}

/// Parses a Jaeger input: one document, or several one after another (JSON Lines of traces
/// or of responses). Malformed parts become counted skips; reading stops at the first
/// document that cannot be parsed.
pub fn parse_whole(bytes: &[u8], label: &str, acc: &mut Loaded) -> Result<()> {
    parse_rest(bytes, bytes, label, acc)
}

/// [`parse_whole`] from `rest`, a slice of `bytes` at the start of a document.
pub(super) fn parse_rest(bytes: &[u8], rest: &[u8], label: &str, acc: &mut Loaded) -> Result<()> {
    let mut rest = rest.trim_ascii_start();
    while !rest.is_empty() {
        let Some(used) = parse_document(bytes, rest, label, acc)? else {
            break;
        };
        rest = rest.get(used..).unwrap_or_default().trim_ascii_start();
    }
    Ok(())
}

/// Parses the first document of `doc`; the bytes it took, or `None` when it is malformed.
fn parse_document(
    bytes: &[u8],
    doc: &[u8],
    label: &str,
    acc: &mut Loaded,
) -> Result<Option<usize>> {
    if doc.first() == Some(&b'[') {
        let (values, used) = leading_array(bytes, doc, label, acc);
        if values.first().is_some_and(|v| is_trace(v)) {
            trace_array(bytes, &values, label, acc)?;
        } else {
            run(
                bytes,
                [(&Processes::default(), values.as_slice())],
                label,
                acc,
            )?;
        }
        return Ok(used);
    }
    if let Some(used) = chunks::parse(bytes, doc, label, acc)? {
        return Ok(Some(used));
    }
    if let Some(used) = envelope::parse(bytes, doc, label, acc)? {
        return Ok(Some(used));
    }
    let Some((trace, used)) = first_value::<Doc>(bytes, doc, label, acc) else {
        return Ok(None);
    };
    single_trace(bytes, trace, label, acc)?;
    Ok(Some(used))
}

/// True when `raw` is a trace object (it has `spans`) rather than a span.
fn is_trace(raw: &RawValue) -> bool {
    serde_json::from_str::<Trace>(raw.get()).is_ok_and(|t| t.spans.is_some())
}

/// An array of trace objects (what some tools save): each trace's spans, in order.
fn trace_array(bytes: &[u8], values: &[&RawValue], label: &str, acc: &mut Loaded) -> Result<()> {
    let mut lines = Lines::new(bytes);
    let mut traces = Vec::with_capacity(values.len());
    for raw in values {
        match serde_json::from_str::<Trace>(raw.get()) {
            Ok(t) if t.spans.is_some() => traces.push(t),
            Ok(_) => {
                let line = lines.of(raw);
                let reason = "Jaeger trace without spans";
                acc.diag
                    .add(Level::Skip, reason, || format!("{label}:{line}"));
            }
            Err(e) => {
                let line = lines.of(raw);
                let reason = format!("malformed Jaeger trace ({})", error_class(&e));
                acc.diag
                    .add(Level::Skip, &reason, || format!("{label}:{line}"));
            }
        }
    }
    let empty = Processes::default();
    let pieces = traces.iter().map(|t| {
        let processes = t.processes.as_ref().unwrap_or(&empty);
        (processes, t.spans.as_deref().unwrap_or_default())
    });
    run(bytes, pieces, label, acc)
}

/// One trace object `{traceID, spans, processes}`.
fn single_trace(bytes: &[u8], doc: Doc<'_>, label: &str, acc: &mut Loaded) -> Result<()> {
    if doc.errors.as_ref().is_some_and(|e| !e.is_empty()) {
        acc.diag
            .add(Level::Warn, "Jaeger response lists errors", || {
                label.to_string()
            });
    }
    let Some(spans) = &doc.spans else {
        let reason = "Jaeger document without data or spans";
        acc.diag.add(Level::Skip, reason, || label.to_string());
        return Ok(());
    };
    let processes = doc.processes.unwrap_or_default();
    run(bytes, [(&processes, spans.as_slice())], label, acc)
}

/// Gathers the elements of a JSON array as they are read, so a document cut short keeps its
/// complete elements.
struct Collect<'v, 'a>(&'v mut Vec<&'a RawValue>);

impl<'de> serde::de::DeserializeSeed<'de> for Collect<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Collect<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<&'de RawValue>()? {
            self.0.push(value);
        }
        Ok(())
    }
}

/// The elements of the array at the start of `doc` (all, or the complete ones before a
/// fault, which is counted) and the bytes the array took (`None` after a fault).
pub(crate) fn leading_array<'a>(
    bytes: &[u8],
    doc: &'a [u8],
    label: &str,
    acc: &mut Loaded,
) -> (Vec<&'a RawValue>, Option<usize>) {
    let mut values = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(doc);
    match serde::de::DeserializeSeed::deserialize(Collect(&mut values), &mut de) {
        Ok(()) => {
            let after_last = values.last().map_or(1, |v| {
                let start = (v.get().as_ptr() as usize).saturating_sub(doc.as_ptr() as usize);
                start + v.get().len()
            });
            let close = doc
                .get(after_last..)
                .and_then(|rest| memchr::memchr(b']', rest));
            let used = close.map_or(doc.len(), |i| after_last + i + 1);
            (values, Some(used))
        }
        Err(e) => {
            count_malformed(bytes, doc, &e, label, acc);
            let lost = salvage_elements(doc, &mut values);
            let line = Lines::new(bytes).of_bytes(doc) + e.line().saturating_sub(1);
            let reason = format!("array element lost in damaged JSON ({})", error_class(&e));
            acc.diag
                .add_n(Level::Skip, &reason, lost, || format!("{label}:{line}"));
            (values, None)
        }
    }
}

/// After a fault in an array of objects: the elements after the damage, each found right
/// after a `,` by the key the first element starts with, parsed whole and followed by `,`
/// or `]` (a nested object never starts with that key after a comma). Returns how many
/// elements the damaged stretches held (that key's occurrences in them).
fn salvage_elements<'a>(doc: &'a [u8], values: &mut Vec<&'a RawValue>) -> u64 {
    let Some(key) = values.first().and_then(|v| first_key(v.get())) else {
        return 0;
    };
    let needle = format!("\"{key}\":");
    let base = doc.as_ptr() as usize;
    let end_of = |v: &RawValue| (v.get().as_ptr() as usize - base) + v.get().len();
    let mut damage = values.last().map_or(1, |v| end_of(v));
    let (mut search, mut lost) = (damage, 0u64);
    let count = |from: usize, to: usize| {
        let hay = doc.get(from..to).unwrap_or_default();
        memchr::memmem::find_iter(hay, needle.as_bytes()).count() as u64
    };
    while let Some(q) = next_candidate(doc, search, needle.as_bytes()) {
        let Some((v, next, closed)) = element_at(doc, q) else {
            search = q + 1;
            continue;
        };
        lost += count(damage, q);
        values.push(v);
        if closed {
            return lost;
        }
        (damage, search) = (next, next);
    }
    lost + count(damage, doc.len())
}

/// The first key of an object written `{"key": …` (`None` for anything else).
fn first_key(raw: &str) -> Option<&str> {
    let rest = raw.strip_prefix('{')?.trim_start().strip_prefix('"')?;
    let key = &rest[..rest.find('"')?];
    (!key.contains('\\')).then_some(key)
}

/// The next `{` at or after `from` right after a `,` whose first key is `needle`.
fn next_candidate(doc: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let starts = memchr::memchr_iter(b'{', doc.get(from..)?).map(|i| from + i);
    starts.into_iter().find(|&q| {
        let before = doc[..q].iter().rposition(|b| !b.is_ascii_whitespace());
        let after = doc[q + 1..].iter().position(|b| !b.is_ascii_whitespace());
        before.is_some_and(|i| doc[i] == b',')
            && after.is_some_and(|i| doc[q + 1 + i..].starts_with(needle))
    })
}

/// The element at `q` when it parses whole and a `,` or `]` follows: it, the offset after
/// that, and whether it was the `]`.
fn element_at(doc: &[u8], q: usize) -> Option<(&RawValue, usize, bool)> {
    let mut stream = serde_json::Deserializer::from_slice(doc.get(q..)?).into_iter::<&RawValue>();
    let v = stream.next()?.ok()?;
    let end = q + stream.byte_offset();
    let at = end
        + doc
            .get(end..)?
            .iter()
            .position(|b| !b.is_ascii_whitespace())?;
    match doc[at] {
        b',' => Some((v, at + 1, false)),
        b']' => Some((v, at + 1, true)),
        _ => None,
    }
}

fn count_malformed(bytes: &[u8], doc: &[u8], e: &serde_json::Error, label: &str, acc: &mut Loaded) {
    let line = Lines::new(bytes).of_bytes(doc) + e.line().saturating_sub(1);
    let reason = format!("malformed JSON document ({})", error_class(e));
    acc.diag
        .add(Level::Skip, &reason, || format!("{label}:{line}"));
}

/// The first JSON value of `doc` and the bytes it took; a malformed one is counted.
pub(crate) fn first_value<'a, T: serde::Deserialize<'a>>(
    bytes: &[u8],
    doc: &'a [u8],
    label: &str,
    acc: &mut Loaded,
) -> Option<(T, usize)> {
    let mut stream = serde_json::Deserializer::from_slice(doc).into_iter::<T>();
    match stream.next()? {
        Ok(value) => Some((value, stream.byte_offset())),
        Err(e) => {
            count_malformed(bytes, doc, &e, label, acc);
            None
        }
    }
}

/// Walks every span of `pieces` in parallel groups and appends the rows in input order.
fn run<'r, 'a: 'r>(
    bytes: &[u8],
    pieces: impl IntoIterator<Item = Piece<'r, 'a, Processes<'a>>>,
    label: &str,
    acc: &mut Loaded,
) -> Result<()> {
    acc.absorb_all(walk_groups(bytes, pieces, label))
}

/// The finished parts of every span of `pieces`, walked in parallel groups, in input order.
pub(super) fn walk_groups<'r, 'a: 'r>(
    bytes: &[u8],
    pieces: impl IntoIterator<Item = Piece<'r, 'a, Processes<'a>>>,
    label: &str,
) -> Vec<Result<Done>> {
    let groups = batch::group(bytes, pieces);
    groups
        .into_par_iter()
        .map(|g| walk_group(g, label))
        .collect()
}

/// Reads a group the fast way, else (any span not taken) the serde way from scratch.
fn walk_group(g: Group<'_, '_, '_, Processes<'_>>, label: &str) -> Result<Done> {
    let mut part = Part::with_capacity(g.bytes / BYTES_PER_SPAN);
    if fast::walk_group(&g, label, &mut part).is_some() {
        return finish(part);
    }
    walk_group_serde(g, label)
}

/// The serde path: each raw span parsed on its own (a bad one is a counted skip).
pub(super) fn walk_group_serde(
    mut g: Group<'_, '_, '_, Processes<'_>>,
    label: &str,
) -> Result<Done> {
    let mut part = Part::with_capacity(g.bytes / BYTES_PER_SPAN);
    let mut scratch = WalkScratch::default();
    for (processes, spans) in &g.pieces {
        for raw in spans.iter() {
            let place = Place {
                label,
                line: g.lines.of(raw),
            };
            walk::walk_raw_span(raw, processes, &mut part, &mut scratch, place);
        }
    }
    finish(part)
}
