//! A Zipkin span list that is the whole input (`[span,…]`, as exporters POST it and most
//! tools save it) checked in parallel chunks, without first splitting the array serially.
//!
//! The array is cut before likely span starts (`,{"traceId":`) into chunks of about
//! `GROUP_BYTES` (2 MB), and each chunk is walked by the [`Cursor`], span by span, in
//! parallel. That also proves the cut: a chunk is taken only when it is a run of whole
//! spans separated by commas, so the chunks joined at their commas are the array. A cut
//! inside a string, a span the cursor cannot even skip, anything else: `None`, and the
//! caller reads the input the serial way, before anything is kept.

use memchr::memmem;
use rayon::prelude::*;

use super::fast::read_head_at;
use super::walk::{check_span, check_str, Checked};
use crate::ingest::cursor::{Bail, Cursor, Mark, Res};
use crate::ingest::diag::Diagnostics;
use crate::ingest::jaeger::batch::Lines;
use crate::ingest::otlp::parse::GROUP_BYTES;
use crate::ingest::otlp::walk::{Part, Place};

/// What a span starts with in the exporters' compact output, after the comma before it.
const SPAN_OPEN: &[u8] = b",{\"traceId\":\"";

/// The checked spans of each chunk with its diagnostics, in input order; `None` when `doc`
/// (a slice of `bytes`, the whole input trimmed) is not one array read this way.
pub fn check_chunks<'a>(
    bytes: &'a [u8],
    doc: &'a [u8],
    label: &str,
) -> Option<Vec<(Vec<Checked<'a>>, Diagnostics)>> {
    let inner = doc.strip_prefix(b"[")?.strip_suffix(b"]")?;
    // A list of traces (`[[span…], …]`) or an empty list: the serial path's.
    if inner.trim_ascii_start().first() != Some(&b'{') {
        return None;
    }
    let chunks = cut(inner);
    let lines = chunk_lines(bytes, &chunks);
    chunks
        .into_par_iter()
        .zip(lines)
        .map(|(chunk, line)| check_chunk(bytes, chunk, line, label).ok())
        .collect()
}

/// `inner` cut before a span start found at or after every `GROUP_BYTES`; the comma stays
/// with the next chunk's start and is dropped there.
fn cut(inner: &[u8]) -> Vec<&[u8]> {
    let mut chunks = Vec::new();
    let mut start = 0usize;
    while let Some(from) = start.checked_add(GROUP_BYTES).filter(|&f| f < inner.len()) {
        let rest = inner.get(from..).unwrap_or_default();
        let Some(at) = memmem::find(rest, SPAN_OPEN).map(|i| from + i) else {
            break;
        };
        chunks.push(inner.get(start..at).unwrap_or_default());
        start = at + 1;
    }
    chunks.push(inner.get(start..).unwrap_or_default());
    chunks
}

/// The line each chunk starts on (newlines counted once, in order).
fn chunk_lines(bytes: &[u8], chunks: &[&[u8]]) -> Vec<usize> {
    let mut lines = Lines::new(bytes);
    chunks.iter().map(|c| lines.of_bytes(c)).collect()
}

/// Checks every span of one chunk; `Bail` when the chunk is not a run of whole spans.
fn check_chunk<'a>(
    bytes: &'a [u8],
    chunk: &'a [u8],
    line: usize,
    label: &str,
) -> Res<(Vec<Checked<'a>>, Diagnostics)> {
    let text = std::str::from_utf8(chunk).map_err(|_| Bail)?;
    let mut lines = Lines::at(bytes, chunk, line);
    let mut part = Part::with_capacity(0);
    let mut out = Vec::new();
    let mut c = Cursor::new(text);
    loop {
        c.peek().ok_or(Bail)?;
        let mark = c.mark();
        let place = Place {
            label,
            line: lines.of_bytes(c.rest_from(mark).as_bytes()),
        };
        out.extend(check_next(&mut c, mark, &mut part, place)?);
        if c.peek().is_none() {
            return Ok((out, part.diag));
        }
        if !c.lit(b",") {
            return Err(Bail);
        }
    }
}

/// Checks the span at the cursor (read by the cursor, or skipped and given to serde).
fn check_next<'a>(
    c: &mut Cursor<'a>,
    mark: Mark,
    part: &mut Part,
    place: Place<'_>,
) -> Res<Option<Checked<'a>>> {
    match read_head_at(c) {
        Ok(span) => Ok(check_span(span, c.since(mark), part, place)),
        Err(Bail) => {
            c.reset(mark);
            c.skip()?;
            Ok(check_str(c.since(mark), part, place))
        }
    }
}

#[cfg(test)]
#[path = "chunks_tests.rs"]
mod tests;
