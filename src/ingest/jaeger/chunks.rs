//! A query API envelope written on one line (`{"data":[trace,…],"total":…}`, as Jaeger's
//! query service writes it) read without the serial scan of [`super::scan`]: the `data`
//! array is cut at likely trace starts into chunks of about `GROUP_BYTES` (2 MB), and every
//! chunk is read by the cursor ([`super::fast`]) in parallel, which also proves the cut: a
//! chunk is taken only when it is a run of whole elements, and chunks join at commas, so
//! the elements are the document's. A chunk the cursor does not take is scanned and read
//! the scan path's way; a cut the scan cannot prove either gives the document back to
//! [`super::envelope`], before anything is kept.

use std::ops::Range;

use anyhow::Result;
use memchr::memmem;
use rayon::prelude::*;

use super::batch::Lines;
use super::envelope::walk_found;
use super::fast::{read_trace, Scratch};
use super::scan;
use super::BYTES_PER_SPAN;
use crate::ingest::cursor::{Bail, Cursor, Res};
use crate::ingest::diag::Level;
use crate::ingest::otlp::parse::{finish, Done, Loaded, GROUP_BYTES};
use crate::ingest::otlp::walk::{Part, Place};

/// A chunk larger than this holds a trace too big for one task: the scan path spreads it.
const BIG_CHUNK: usize = 2 * GROUP_BYTES;
/// What a trace object starts with in the query API's output, after the comma before it.
const TRACE_OPEN: &[u8] = b",{\"traceID\":\"";
/// The key that tells a trace from a span (which starts the same way).
const SPANS_KEY: &[u8] = b"\",\"spans\":[";
/// What a trace object starts with when its processes come first.
const PROCESSES_OPEN: &[u8] = b",{\"processes\":{";
/// Bytes searched at a time for a trace start (a few traces' worth).
const SEARCH_WINDOW: usize = 256 << 10;
/// Bytes shared by neighbouring search windows, so no pattern falls between them.
pub(super) const PATTERN_OVERLAP: usize = 64;
/// `]` tried from the end of the line for the one closing `data`.
const MAX_TAIL_TRIES: usize = 4;
/// Longest trace id text looked back over from `SPANS_KEY` (128-bit hex, with room).
const MAX_ID: usize = 64;

/// Where the parts of a one-line envelope are.
struct Envelope {
    /// Between the `data` array's brackets.
    data: Range<usize>,
    has_errors: bool,
    /// Bytes the envelope's line takes.
    end: usize,
}

/// Reads the envelope at the start of `doc` (a slice of `bytes`) into `acc`; the bytes it
/// took, or `None` (nothing kept) when it is not a one-line envelope read this way.
pub fn parse(bytes: &[u8], doc: &[u8], label: &str, acc: &mut Loaded) -> Result<Option<usize>> {
    let Some(env) = find(doc) else {
        return Ok(None);
    };
    let line = Lines::new(bytes).of_bytes(doc);
    // Chunks are located in the whole input, so every line counted from them is the input's.
    let offset = (doc.as_ptr() as usize).saturating_sub(bytes.as_ptr() as usize);
    let data = env.data.start + offset..env.data.end + offset;
    let Some(parts) = read_chunks(bytes, data, line, label) else {
        return Ok(None);
    };
    acc.absorb_all(parts)?;
    if env.has_errors {
        acc.diag
            .add(Level::Warn, "Jaeger response lists errors", || {
                label.to_string()
            });
    }
    Ok(Some(env.end))
}

/// Reads the `data` contents at `data` in `doc` (a one-line envelope's, on `line`; `doc`
/// starts the input, so lines counted in it are the input's) in parallel chunks; `None`
/// when a cut is not proven.
pub(super) fn read_chunks(
    doc: &[u8],
    data: Range<usize>,
    line: usize,
    label: &str,
) -> Option<Vec<Result<Done>>> {
    let read: Vec<Option<Vec<Result<Done>>>> = cut(doc, data)
        .into_par_iter()
        .map(|range| read_chunk(doc, doc.get(range).unwrap_or_default(), line, label))
        .collect();
    let read = read.into_iter().collect::<Option<Vec<_>>>()?;
    Some(read.into_iter().flatten().collect())
}

/// The envelope of `doc`'s first line: `{"data":[` first, then after the line's last `]`
/// only other keys; `None` for any other shape.
fn find(doc: &[u8]) -> Option<Envelope> {
    let at = start_of_data(doc)?;
    let end = memchr::memchr(b'\n', doc).unwrap_or(doc.len());
    let line = doc.get(..end)?;
    let (close, has_errors) = data_close(line, at)?;
    Some(Envelope {
        data: at..close,
        has_errors,
        end,
    })
}

/// Where the `data` contents start when the first line of `doc` opens with `{"data":[`.
pub(super) fn start_of_data(doc: &[u8]) -> Option<usize> {
    let mut at = 0usize;
    for token in [&b"{"[..], b"\"data\"", b":", b"["] {
        at += doc.get(at..)?.iter().take_while(|b| is_blank(**b)).count();
        doc.get(at..)?.strip_prefix(token)?;
        at += token.len();
    }
    Some(at)
}

/// JSON whitespace that does not end a line.
fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r')
}

/// The `]` closing the `data` array that opens at `open`: going back over the line's last
/// few `]` while only other keys of the envelope follow each (an `errors` list ends in one
/// too), the furthest back; with whether `errors` lists any.
pub(super) fn data_close(line: &[u8], open: usize) -> Option<(usize, bool)> {
    let mut best = None;
    let mut upto = line.len();
    for _ in 0..MAX_TAIL_TRIES {
        let Some(close) = memchr::memrchr(b']', line.get(..upto)?).filter(|&c| c >= open) else {
            break;
        };
        let Ok(errors) = rest_of_object(line.get(close + 1..)?) else {
            break;
        };
        best = Some((close, errors));
        upto = close;
    }
    best
}

/// The envelope after its `data` array (`,"total":0,…}`): whether `errors` lists any; a
/// second `data` (the scan would read it too) or anything but JSON is not taken.
fn rest_of_object(rest: &[u8]) -> Res<bool> {
    let rest = std::str::from_utf8(rest.trim_ascii()).map_err(|_| Bail)?;
    let object = match rest.strip_prefix(',') {
        Some(keys) => format!("{{{keys}"),
        None if rest == "}" => return Ok(false),
        None => return Err(Bail),
    };
    let mut c = Cursor::new(&object);
    let (mut errors, mut seen_errors) = (false, false);
    c.object(|c, key| match key {
        "data" => Err(Bail),
        "errors" if std::mem::replace(&mut seen_errors, true) => Err(Bail),
        "errors" if c.peek() == Some(b'[') => c.array(|c| {
            errors = true;
            c.skip()
        }),
        _ => c.skip(),
    })?;
    c.end()?;
    Ok(errors)
}

/// Cuts the `data` array's contents into chunks of about `GROUP_BYTES`, each cut at the
/// comma before a likely trace start (the commas themselves belong to no chunk).
pub(super) fn cut(doc: &[u8], data: Range<usize>) -> Vec<Range<usize>> {
    let mut chunks = Vec::new();
    let mut start = data.start;
    let mut probe = start + GROUP_BYTES;
    while probe < data.end {
        let window = probe..(probe + SEARCH_WINDOW).min(data.end);
        match first_trace_start(doc, window) {
            Some(comma) => {
                chunks.push(start..comma);
                start = comma + 1;
                probe = start + GROUP_BYTES;
            }
            None => probe += SEARCH_WINDOW - PATTERN_OVERLAP,
        }
    }
    chunks.push(start..data.end);
    chunks
}

/// The comma before the first likely trace start in `doc[range]`: `,{"traceID":"<hex>",
/// "spans":[` or `,{"processes":{`.
fn first_trace_start(doc: &[u8], range: Range<usize>) -> Option<usize> {
    let hay = doc.get(range.clone())?;
    let spans = memmem::find_iter(hay, SPANS_KEY);
    let mut ids = spans.filter_map(|at| trace_open_before(doc, range.start + at));
    let by_id = ids.find(|&comma| comma >= range.start);
    let by_processes = memmem::find(hay, PROCESSES_OPEN).map(|at| range.start + at);
    by_id.into_iter().chain(by_processes).min()
}

/// The comma before the last likely trace start in `doc[range]` (see [`first_trace_start`]).
fn last_trace_start(doc: &[u8], range: Range<usize>) -> Option<usize> {
    let hay = doc.get(range.clone())?;
    let spans = memmem::rfind_iter(hay, SPANS_KEY);
    let mut ids = spans.filter_map(|at| trace_open_before(doc, range.start + at));
    let by_id = ids.find(|&comma| comma >= range.start);
    let by_processes = memmem::rfind(hay, PROCESSES_OPEN).map(|at| range.start + at);
    by_id.into_iter().chain(by_processes).max()
}

/// The comma before the last likely trace start of `doc[range]`, searched a window at a
/// time from the end (most often found in the first).
pub(super) fn last_trace_start_in(doc: &[u8], range: Range<usize>) -> Option<usize> {
    let mut to = range.end;
    loop {
        let from = to.saturating_sub(SEARCH_WINDOW).max(range.start);
        if let Some(comma) = last_trace_start(doc, from..to) {
            return Some(comma);
        }
        if from == range.start {
            return None;
        }
        to = from + PATTERN_OVERLAP;
    }
}

/// The comma of `,{"traceID":"<hex>` ending at `at`.
fn trace_open_before(doc: &[u8], at: usize) -> Option<usize> {
    let from = at.saturating_sub(MAX_ID + TRACE_OPEN.len());
    let window = doc.get(from..at)?;
    let open = memmem::rfind(window, TRACE_OPEN)?;
    let id = window.get(open + TRACE_OPEN.len()..)?;
    id.iter().all(u8::is_ascii_hexdigit).then_some(from + open)
}

/// Reads one chunk: by the cursor when it takes it whole, else scanned (`None` when the
/// scan finds the cut was not between elements).
fn read_chunk(bytes: &[u8], chunk: &[u8], line: usize, label: &str) -> Option<Vec<Result<Done>>> {
    if chunk.trim_ascii().is_empty() {
        return Some(Vec::new()); // no trace, no part (as the scan path)
    }
    if chunk.len() <= BIG_CHUNK {
        if let Some(part) = cursor_chunk(chunk, Place { label, line }) {
            return Some(vec![finish(part)]);
        }
    }
    let mut found = Vec::new();
    let mut lines = Lines::at(bytes, chunk, line);
    if !scan::elements(chunk, |t| found.push((t, lines.of_bytes(t)))) {
        return None;
    }
    Some(walk_found(bytes, found, label))
}

/// Reads a chunk's traces with the cursor; `None` when any part is not taken.
fn cursor_chunk(chunk: &[u8], place: Place<'_>) -> Option<Part> {
    let text = std::str::from_utf8(chunk).ok()?;
    let mut part = Part::with_capacity(text.len() / BYTES_PER_SPAN);
    let mut scratch = Scratch::default();
    let mut c = Cursor::new(text);
    elements(&mut c, |c| read_trace(c, &mut part, &mut scratch, place)).ok()?;
    Some(part)
}

/// A run of comma-separated values (all that is left of the cursor's input), each read by
/// `each`.
fn elements<'a>(c: &mut Cursor<'a>, mut each: impl FnMut(&mut Cursor<'a>) -> Res<()>) -> Res<()> {
    loop {
        each(c)?;
        if c.peek().is_none() {
            return Ok(());
        }
        if !c.lit(b",") {
            return Err(Bail);
        }
    }
}

#[cfg(test)]
#[path = "chunks_tests.rs"]
mod tests;
