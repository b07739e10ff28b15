//! Parsing OTLP/JSON inputs into frames, in parallel, in input order.
//!
//! JSON Lines are streamed: a block of complete lines (about [`BLOCK_BYTES`]) is split into
//! groups of about `LINE_GROUP_BYTES` (8 MB) parsed in parallel while the next block is read. A single
//! document is parsed with its `resourceSpans`/`resourceLogs` elements left raw, then the
//! elements are parsed in parallel. Groups are cut by bytes, never by thread count, and
//! merged in order, so the frames do not depend on the number of threads.

use std::io::Read;

use anyhow::{Context, Result};
use polars::prelude::DataFrame;
use rayon::prelude::*;
use serde_json::value::RawValue;

use super::fast::{parse_fast, parse_resource_spans};
use super::logs::walk_resource_logs;
use super::salvage::{salvage_record, salvage_resource_spans};
use super::stream::parse_streamed;
use super::walk::{walk_doc, walk_resource_spans, Part, Place};
use super::wire::{Doc, RawDoc, ResourceLogs, ResourceSpans, Span};
use crate::ingest::diag::{Diagnostics, Level};
use crate::ingest::frames::append;
use crate::ingest::record::LogRecord;

/// Bytes read per block of JSON Lines: big enough to keep both cores busy, small enough that
/// a 730 MB file never sits in memory at once.
pub const BLOCK_BYTES: usize = 32 << 20;
/// Bytes of input per parallel task (a few Collector batches of ~370 KB each).
pub(crate) const GROUP_BYTES: usize = 2 << 20;
/// Bytes of JSON Lines per parallel task: each task yields one chunk of every column, and
/// later random access (`ChunkedArray::get`) scans the chunk list, so fewer, larger chunks
/// pay; a 32 MB block still gives both cores four tasks.
const LINE_GROUP_BYTES: usize = 8 << 20;
/// Rough input bytes per span in OTLP/JSON, to size builders (bench data: ~730).
const BYTES_PER_SPAN: usize = 700;

/// Everything parsed from OTLP inputs so far, in input order.
#[derive(Default)]
pub struct Loaded {
    pub spans: DataFrame,
    pub events: DataFrame,
    pub links: DataFrame,
    pub logs: Vec<LogRecord>,
    pub diag: Diagnostics,
    pub other_signals: u64,
    pub span_count: u64,
}

/// A finished part: frames built, ready to append.
pub(crate) struct Done {
    spans: DataFrame,
    events: DataFrame,
    links: DataFrame,
    logs: Vec<LogRecord>,
    diag: Diagnostics,
    other_signals: u64,
}

pub(crate) fn finish(part: Part) -> Result<Done> {
    Ok(Done {
        spans: part.spans.finish()?,
        events: part.events.finish()?,
        links: part.links.finish()?,
        logs: part.logs,
        diag: part.diag,
        other_signals: part.other_signals,
    })
}

impl Loaded {
    fn absorb(&mut self, done: Done) -> Result<()> {
        self.span_count += done.spans.height() as u64;
        append(&mut self.spans, done.spans)?;
        append(&mut self.events, done.events)?;
        append(&mut self.links, done.links)?;
        self.logs.extend(done.logs);
        self.diag.merge(done.diag);
        self.other_signals += done.other_signals;
        Ok(())
    }

    pub(crate) fn absorb_all(&mut self, parts: Vec<Result<Done>>) -> Result<()> {
        parts.into_iter().try_for_each(|p| self.absorb(p?))
    }
}

/// Reads from `reader` until `buf` holds `target` bytes or the input ends; true at the end.
fn fill(reader: &mut (dyn Read + Send), buf: &mut Vec<u8>, target: usize) -> Result<bool> {
    let want = target.saturating_sub(buf.len());
    buf.reserve(want);
    let got = reader.take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

/// Streams JSON Lines: `buf` holds what was already read (the start of the input).
pub fn parse_lines(
    reader: &mut (dyn Read + Send),
    mut buf: Vec<u8>,
    label: &str,
    acc: &mut Loaded,
) -> Result<()> {
    let mut eof = fill(reader, &mut buf, BLOCK_BYTES).with_context(|| format!("{label}: read"))?;
    let mut line = 1usize;
    // The next block is read into a recycled buffer: fresh 32 MB buffers would each be
    // mapped and faulted in page by page again.
    let mut spare: Vec<u8> = Vec::new();
    loop {
        let cut = if eof {
            Some(buf.len())
        } else {
            memchr::memrchr(b'\n', &buf).map(|i| i + 1)
        };
        let Some(cut) = cut else {
            // One line longer than a block: read on until it ends.
            let target = buf.len() + BLOCK_BYTES;
            eof = fill(reader, &mut buf, target).with_context(|| format!("{label}: read"))?;
            continue;
        };
        let mut next = std::mem::take(&mut spare);
        next.clear();
        next.extend_from_slice(buf.get(cut..).unwrap_or_default());
        buf.truncate(cut);
        let ((parts, lines), more) = rayon::join(
            || parse_block(&buf, line, label),
            || {
                if eof {
                    Ok(true)
                } else {
                    fill(reader, &mut next, BLOCK_BYTES)
                }
            },
        );
        acc.absorb_all(parts)?;
        if eof {
            return Ok(());
        }
        line += lines;
        eof = more.with_context(|| format!("{label}: read"))?;
        spare = std::mem::replace(&mut buf, next);
    }
}

/// Splits a block into line groups of about [`LINE_GROUP_BYTES`] and parses them in
/// parallel; also says how many line breaks the block holds.
fn parse_block(block: &[u8], first_line: usize, label: &str) -> (Vec<Result<Done>>, usize) {
    let mut groups = Vec::new();
    let (mut start, mut line) = (0usize, first_line);
    while start < block.len() {
        let from = start + LINE_GROUP_BYTES;
        let end = memchr::memchr(b'\n', block.get(from..).unwrap_or_default())
            .map_or(block.len(), |i| from + i + 1);
        let group = block.get(start..end).unwrap_or_default();
        groups.push((group, line));
        line += memchr::memchr_iter(b'\n', group).count();
        start = end;
    }
    let parts = groups
        .into_par_iter()
        .map(|(group, line)| parse_group(group, line, label))
        .collect();
    (parts, line - first_line)
}

/// Parses the lines of one group sequentially into one part. A UTF-8 group (checked once)
/// is read on the fast path ([`super::fast`]), spans pushed into the builders as they are
/// read; if a line is not taken there, the group is streamed again with serde; if a line
/// fails that too, the group is read line by line ([`parse_group_damaged`]). Each attempt
/// starts from a fresh part.
fn parse_group(group: &[u8], first_line: usize, label: &str) -> Result<Done> {
    let streamed = std::str::from_utf8(group).ok().and_then(|text| {
        parse_group_fast(text, first_line, label)
            .or_else(|| parse_group_streamed(text, first_line, label))
    });
    match streamed {
        Some(part) => finish(part),
        None => parse_group_damaged(group, first_line, label),
    }
}

/// Reads every line of a UTF-8 group on the fast path; `None` as soon as one is not taken.
fn parse_group_fast(group: &str, first_line: usize, label: &str) -> Option<Part> {
    let mut span = Span::default();
    parse_group_with(group, first_line, label, |line, part, place| {
        parse_fast(line, part, place, &mut span).ok()
    })
}

/// Streams every line of a UTF-8 group with serde; `None` as soon as one is not taken.
fn parse_group_streamed(group: &str, first_line: usize, label: &str) -> Option<Part> {
    parse_group_with(group, first_line, label, |line, part, place| {
        parse_streamed(line, part, place).ok()
    })
}

/// Reads every non-empty line of a group with `parse` (which pushes the line's spans and
/// hands back the rest of its document) into one part; `None` as soon as a line is not taken.
fn parse_group_with<'g>(
    group: &'g str,
    first_line: usize,
    label: &str,
    mut parse: impl FnMut(&'g str, &mut Part, Place<'_>) -> Option<Doc<'g>>,
) -> Option<Part> {
    let mut part = Part::with_capacity(group.len() / BYTES_PER_SPAN);
    for (i, line) in lines_of(group).enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let place = Place {
            label,
            line: first_line + i,
        };
        let doc = parse(line, &mut part, place)?;
        walk_whole(&doc, &mut part, place);
    }
    Some(part)
}

/// The lines of a group (as `str::split('\n')`, with a SIMD search for the breaks).
fn lines_of(group: &str) -> impl Iterator<Item = &str> {
    let ends = memchr::memchr_iter(b'\n', group.as_bytes()).chain(std::iter::once(group.len()));
    let mut start = 0;
    ends.map(move |end| {
        // Cut at ASCII line breaks, so always on a char boundary.
        let line = group.get(start..end).unwrap_or_default();
        start = end + 1;
        line
    })
}

/// Reads a group holding a line the fast and streamed paths refused (damaged, not UTF-8,
/// or shaped unusually). Good lines still go the fast path; a line it does not take is
/// read on its own, collected whole or salvaged span by span. The fast path may leave a
/// refused line's first rows in its part, so that part is read again without the line,
/// the line is added, and a new part begins: a damaged line costs one re-read of the lines
/// before it, never the group.
fn parse_group_damaged(group: &[u8], first_line: usize, label: &str) -> Result<Done> {
    let lines: Vec<&[u8]> = group.split(|&b| b == b'\n').collect();
    let mut parts = Vec::new();
    let mut part = Part::with_capacity(group.len() / BYTES_PER_SPAN);
    let mut span = Span::default();
    let mut from = 0usize;
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let place = Place {
            label,
            line: first_line + i,
        };
        let fast = std::str::from_utf8(line)
            .ok()
            .and_then(|text| parse_fast(text, &mut part, place, &mut span).ok());
        if let Some(doc) = fast {
            walk_whole(&doc, &mut part, place);
            continue;
        }
        part = Part::with_capacity(0);
        for (j, good) in lines.iter().enumerate().take(i).skip(from) {
            let good = std::str::from_utf8(good.trim_ascii()).unwrap_or_default();
            let place = Place {
                label,
                line: first_line + j,
            };
            if let Ok(doc) = parse_fast(good, &mut part, place, &mut span) {
                walk_whole(&doc, &mut part, place);
            }
        }
        parse_document(line, &mut part, place);
        parts.push(finish(std::mem::replace(
            &mut part,
            Part::with_capacity(0),
        ))?);
        from = i + 1;
    }
    parts.push(finish(part)?);
    merge(parts)
}

/// One part from the parts of a group, in order, each frame in one chunk again.
fn merge(parts: Vec<Done>) -> Result<Done> {
    let mut all = Loaded::default();
    all.absorb_all(parts.into_iter().map(Ok).collect())?;
    let mut done = Done {
        spans: all.spans,
        events: all.events,
        links: all.links,
        logs: all.logs,
        diag: all.diag,
        other_signals: all.other_signals,
    };
    for df in [&mut done.spans, &mut done.events, &mut done.links] {
        df.rechunk_mut();
    }
    Ok(done)
}

/// Parses one JSON document (a line) fully and walks it; one serde refuses is salvaged.
fn parse_document(bytes: &[u8], part: &mut Part, place: Place<'_>) {
    if bytes.is_empty() {
        return;
    }
    match serde_json::from_slice::<Doc>(bytes) {
        Ok(doc) => walk_whole(&doc, part, place),
        Err(e) => {
            if !salvage_record(bytes, part, place) {
                bad_record(part, &e, place);
            }
        }
    }
}

/// A record that is not OTLP at all, counted with what was wrong and where.
fn bad_record(part: &mut Part, e: &serde_json::Error, place: Place<'_>) {
    let reason = format!("malformed JSON record ({})", error_class(e));
    part.diag
        .add(Level::Skip, &reason, || error_place(e, place));
}

/// `file:line (byte N)` of a serde error in a record starting at `place`.
pub(crate) fn error_place(e: &serde_json::Error, place: Place<'_>) -> String {
    if e.line() <= 1 {
        format!("{} (byte {})", place.at(), e.column().saturating_sub(1))
    } else {
        format!("{}:{}", place.label, place.line + e.line() - 1)
    }
}

/// Walks a parsed document; one without any OTLP signal is counted.
fn walk_whole(doc: &Doc<'_>, part: &mut Part, place: Place<'_>) {
    if !walk_doc(doc, part, place) {
        part.diag
            .add(Level::Skip, "JSON record holds no OTLP signal", || {
                place.at()
            });
    }
}

/// What was wrong with a record, in words from a fixed list (so counts add up, and no
/// text from the input lands in a reason).
pub(crate) fn error_class(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let text = e.to_string();
    let msg = text.split(" at line ").next().unwrap_or_default();
    match e.classify() {
        Category::Io => "read error".into(),
        Category::Eof => "truncated".into(),
        Category::Data if msg.starts_with("duplicate field") => msg.into(),
        Category::Data => "wrong type".into(),
        // serde_json's syntax messages are fixed texts without input in them.
        Category::Syntax => match msg {
            "recursion limit exceeded" => "nesting too deep".into(),
            "number out of range" => "number out of range".into(),
            "invalid unicode code point" => "invalid UTF-8".into(),
            m if m.starts_with("control character") => "control character in a string".into(),
            m => format!("syntax error: {m}"),
        },
    }
}

/// One element of a whole document, with the line it starts on.
enum Item<'a> {
    Spans(&'a RawValue, usize),
    Logs(&'a RawValue, usize),
}

/// Parses a whole document (pretty-printed or one line), its elements in parallel.
pub fn parse_whole(bytes: &[u8], label: &str, acc: &mut Loaded) -> Result<()> {
    let trimmed = bytes.trim_ascii();
    let raw = match serde_json::from_slice::<RawDoc>(trimmed) {
        Ok(raw) => raw,
        Err(_) if first_line_is_whole(trimmed) => {
            // JSON Lines whose first line was longer than the detection window.
            return acc.absorb_all(parse_block(bytes, 1, label).0);
        }
        Err(e) => {
            let mut part = Part::with_capacity(trimmed.len() / BYTES_PER_SPAN);
            if !salvage_record(trimmed, &mut part, Place { label, line: 1 }) {
                let reason = format!("malformed JSON document ({})", error_class(&e));
                part.diag
                    .add(Level::Skip, &reason, || format!("{label}:{}", e.line()));
            }
            return acc.absorb(finish(part)?);
        }
    };
    if let Some(inner) = raw.result {
        return parse_whole(inner.get().as_bytes(), label, acc);
    }
    if raw.resource_spans.is_none() && raw.resource_logs.is_none() {
        let mut part = Part::with_capacity(0);
        parse_document(trimmed, &mut part, Place { label, line: 1 });
        return acc.absorb(finish(part)?);
    }
    acc.other_signals +=
        u64::from(raw.resource_metrics.is_some() || raw.resource_profiles.is_some());
    let items = items_with_lines(bytes, &raw);
    let parts: Vec<Result<Done>> = group_items(&items)
        .into_par_iter()
        .map(|group| parse_items(group, label))
        .collect();
    acc.absorb_all(parts)
}

/// True when the input has several lines and the first is a JSON document on its own.
fn first_line_is_whole(bytes: &[u8]) -> bool {
    let Some(end) = memchr::memchr(b'\n', bytes) else {
        return false;
    };
    let first = bytes.get(..end).unwrap_or_default();
    serde_json::from_slice::<serde::de::IgnoredAny>(first).is_ok()
}

/// The elements in document order, each with its starting line (counted once, in order).
fn items_with_lines<'a>(bytes: &[u8], raw: &RawDoc<'a>) -> Vec<Item<'a>> {
    let spans = raw.resource_spans.iter().flatten().map(|r| (*r, true));
    let logs = raw.resource_logs.iter().flatten().map(|r| (*r, false));
    let mut all: Vec<(&RawValue, bool)> = spans.chain(logs).collect();
    let base = bytes.as_ptr() as usize;
    all.sort_by_key(|(r, _)| r.get().as_ptr() as usize);
    let (mut pos, mut line) = (0usize, 1usize);
    all.into_iter()
        .map(|(r, is_spans)| {
            let offset = (r.get().as_ptr() as usize)
                .saturating_sub(base)
                .min(bytes.len());
            line += memchr::memchr_iter(b'\n', bytes.get(pos..offset).unwrap_or_default()).count();
            pos = offset.max(pos);
            if is_spans {
                Item::Spans(r, line)
            } else {
                Item::Logs(r, line)
            }
        })
        .collect()
}

fn item_len(item: &Item<'_>) -> usize {
    match item {
        Item::Spans(r, _) | Item::Logs(r, _) => r.get().len(),
    }
}

fn group_items<'i, 'a>(items: &'i [Item<'a>]) -> Vec<&'i [Item<'a>]> {
    let mut groups = Vec::new();
    let (mut start, mut bytes) = (0usize, 0usize);
    for (i, item) in items.iter().enumerate() {
        bytes += item_len(item);
        if bytes >= GROUP_BYTES {
            groups.push(items.get(start..=i).unwrap_or_default());
            (start, bytes) = (i + 1, 0);
        }
    }
    groups.push(items.get(start..).unwrap_or_default());
    groups
}

/// Parses a group of elements on the fast path, or with serde when one is not taken there.
fn parse_items(items: &[Item<'_>], label: &str) -> Result<Done> {
    match parse_items_fast(items, label) {
        Some(part) => finish(part),
        None => parse_items_serde(items, label),
    }
}

/// The `ResourceSpans` elements of a group read with [`super::fast`]; `None` as soon as one
/// is not taken (or the group holds logs).
fn parse_items_fast(items: &[Item<'_>], label: &str) -> Option<Part> {
    let bytes: usize = items.iter().map(item_len).sum();
    let mut part = Part::with_capacity(bytes / BYTES_PER_SPAN);
    let mut span = Span::default();
    for item in items {
        let Item::Spans(raw, line) = item else {
            return None;
        };
        let place = Place { label, line: *line };
        parse_resource_spans(raw.get(), &mut part, place, &mut span).ok()?;
    }
    Some(part)
}

fn parse_items_serde(items: &[Item<'_>], label: &str) -> Result<Done> {
    let bytes: usize = items.iter().map(item_len).sum();
    let mut part = Part::with_capacity(bytes / BYTES_PER_SPAN);
    for item in items {
        match item {
            Item::Spans(raw, line) => {
                let place = Place { label, line: *line };
                match serde_json::from_str::<ResourceSpans>(raw.get()) {
                    Ok(rs) => walk_resource_spans(
                        rs.resource.as_ref(),
                        rs.scope_spans.as_deref(),
                        &mut part,
                        place,
                    ),
                    Err(e) => {
                        if !salvage_resource_spans(raw.get(), &mut part, place) {
                            bad_element(&mut part, &e, place);
                        }
                    }
                }
            }
            Item::Logs(raw, line) => {
                let place = Place { label, line: *line };
                match serde_json::from_str::<ResourceLogs>(raw.get()) {
                    Ok(rl) => walk_resource_logs(
                        rl.resource.as_ref(),
                        rl.scope_logs.as_deref(),
                        &mut part,
                        place,
                    ),
                    Err(e) => bad_element(&mut part, &e, place),
                }
            }
        }
    }
    finish(part)
}

fn bad_element(part: &mut Part, e: &serde_json::Error, place: Place<'_>) {
    let reason = format!("malformed resource entry ({})", error_class(e));
    part.diag.add(Level::Skip, &reason, || place.at());
}
