//! Zipkin v2 JSON reader (FORMATS.md §5): an array of spans, a list of traces (arrays of
//! spans, as `/api/v2/traces` answers), or one span object, into the same frames as OTLP.
//!
//! Three passes over groups of about 2 MB of input ([`chunks`] for a list that is the whole
//! input, else [`crate::ingest::jaeger::batch`]):
//! parse and check each span in parallel ([`walk::check`]), split shared client/server
//! ids over the whole input ([`shared`]), then push the rows in parallel ([`walk::push`]),
//! merged in input order.

pub mod chunks;
pub mod fast;
pub mod shared;
pub mod walk;
pub mod wire;

#[cfg(test)]
mod fast_tests;
#[cfg(test)]
mod tests;

use anyhow::Result;
use rayon::prelude::*;
use serde_json::value::RawValue;

use self::walk::Checked;
use crate::ingest::diag::{Diagnostics, Level};
use crate::ingest::jaeger::batch::{self, Group};
use crate::ingest::jaeger::{first_value, leading_array};
use crate::ingest::otlp::parse::{error_class, finish, Done, Loaded};
use crate::ingest::otlp::walk::{Part, Place};
use crate::ingest::otlp::{has_key, SNIFF_BYTES};

/// Keys every Zipkin v2 span carries.
const SPAN_KEYS: [&[u8]; 2] = [b"\"traceId\"", b"\"id\""];
/// Keys of which a v2 span list has at least one (what tells it from a JSON log line).
const V2_KEYS: [&[u8]; 4] = [
    b"\"localEndpoint\"",
    b"\"remoteEndpoint\"",
    b"\"timestamp\"",
    b"\"duration\"",
];
/// Zipkin v1's tag list: v1 is a different model (annotations carry the endpoints).
const V1_KEY: &[u8] = b"\"binaryAnnotations\"";
/// Rough input bytes per Zipkin span, to size builders (a span with a few tags: ~500).
const BYTES_PER_SPAN: usize = 500;
const WARN_SHARED: &str = "Zipkin shared client/server span id: server half given its own id";

/// True when the first bytes of an input look like Zipkin v2 JSON: a list whose spans have
/// endpoints or times, or one span object with an endpoint.
pub fn detect(head: &[u8]) -> bool {
    let text = head.trim_ascii_start();
    let sniff = text.get(..SNIFF_BYTES).unwrap_or(text);
    let has = |k: &&[u8]| has_key(sniff, k);
    let span = SPAN_KEYS.iter().all(has) && !has_key(sniff, V1_KEY);
    match text.first() {
        Some(b'[') => span && V2_KEYS.iter().any(has),
        Some(b'{') => span && V2_KEYS.get(..2).unwrap_or_default().iter().any(has),
        _ => false,
    }
}

/// Parses a Zipkin input: one document, or several one after another (JSON Lines of span
/// lists or of spans). Malformed parts become counted skips; reading stops at the first
/// document that cannot be parsed.
pub fn parse_whole(bytes: &[u8], label: &str, acc: &mut Loaded) -> Result<()> {
    if let Some(checked) = chunks::check_chunks(bytes, bytes.trim_ascii(), label) {
        return push_checked(checked, label, acc);
    }
    let mut lists: Vec<Vec<&RawValue>> = Vec::new();
    let mut rest = bytes.trim_ascii_start();
    while !rest.is_empty() {
        let Some(used) = next_document(bytes, rest, label, acc, &mut lists) else {
            break;
        };
        rest = rest.get(used..).unwrap_or_default().trim_ascii_start();
    }
    let pieces = lists.iter().map(|l| (&(), l.as_slice()));
    run(batch::group(bytes, pieces), label, acc)
}

/// Reads the first document of `doc` into span lists; the bytes it took, or `None`.
fn next_document<'a>(
    bytes: &[u8],
    doc: &'a [u8],
    label: &str,
    acc: &mut Loaded,
    lists: &mut Vec<Vec<&'a RawValue>>,
) -> Option<usize> {
    if doc.first() == Some(&b'{') {
        let (span, used) = first_value::<&RawValue>(bytes, doc, label, acc)?;
        lists.push(vec![span]);
        return Some(used);
    }
    let (top, used) = leading_array(bytes, doc, label, acc);
    let is_list = |r: &&RawValue| r.get().starts_with('[');
    if top.first().is_some_and(is_list) {
        traces(&top, bytes, label, acc, lists);
    } else {
        lists.push(top);
    }
    used
}

/// A list of traces (`[[span…], …]`): its inner lists.
fn traces<'a>(
    top: &[&'a RawValue],
    bytes: &[u8],
    label: &str,
    acc: &mut Loaded,
    lists: &mut Vec<Vec<&'a RawValue>>,
) {
    let mut lines = batch::Lines::new(bytes);
    for raw in top {
        match serde_json::from_str::<Vec<&'a RawValue>>(raw.get()) {
            Ok(list) => lists.push(list),
            Err(e) => {
                let line = lines.of(raw);
                let reason = format!("malformed Zipkin trace ({})", error_class(&e));
                acc.diag
                    .add(Level::Skip, &reason, || format!("{label}:{line}"));
            }
        }
    }
}

/// The three passes (see the module doc).
fn run(groups: Vec<Group<'_, '_, '_, ()>>, label: &str, acc: &mut Loaded) -> Result<()> {
    let checked: Vec<(Vec<Checked<'_>>, Diagnostics)> = groups
        .into_par_iter()
        .map(|g| check_group(g, label))
        .collect();
    push_checked(checked, label, acc)
}

/// Splits shared ids over all checked spans, then pushes the rows group by group.
fn push_checked(
    checked: Vec<(Vec<Checked<'_>>, Diagnostics)>,
    label: &str,
    acc: &mut Loaded,
) -> Result<()> {
    let (mut spans, diags): (Vec<_>, Vec<_>) = checked.into_iter().unzip();
    let split = shared::split_shared(&mut spans);
    acc.diag
        .add_n(Level::Warn, WARN_SHARED, split, || label.to_string());
    let parts: Vec<Result<Done>> = spans
        .into_par_iter()
        .zip(diags)
        .map(|(group, diag)| push_group(group, diag, label))
        .collect();
    acc.absorb_all(parts)
}

fn check_group<'a>(mut g: Group<'_, 'a, '_, ()>, label: &str) -> (Vec<Checked<'a>>, Diagnostics) {
    let mut part = Part::with_capacity(0);
    let mut out = Vec::with_capacity(g.bytes / BYTES_PER_SPAN);
    for (_, spans) in &g.pieces {
        for raw in spans.iter() {
            let place = Place {
                label,
                line: g.lines.of(raw),
            };
            out.extend(walk::check(raw, &mut part, place));
        }
    }
    (out, part.diag)
}

fn push_group(spans: Vec<Checked<'_>>, diag: Diagnostics, label: &str) -> Result<Done> {
    let mut part = Part::with_capacity(spans.len());
    part.diag = diag;
    let mut scratch = String::new();
    for c in spans {
        walk::push(c, &mut part, &mut scratch, label);
    }
    finish(part)
}
