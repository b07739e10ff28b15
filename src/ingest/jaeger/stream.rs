//! A Jaeger input read as it streams in: a query API envelope written on one line
//! (`{"data":[trace,…],…}`) is read block by block of about [`BLOCK_BYTES`], each block's
//! whole traces cut into chunks and read in parallel ([`super::chunks`]) while the next
//! block is read, the partial trace at a block's end carried into the next. Nothing is
//! kept until the whole envelope is read and proven; any other input, or an envelope a
//! chunk does not prove, is then parsed whole by [`super::parse_whole`] from the bytes read.

use std::io::Read;

use anyhow::{Context, Result};

use super::chunks::{data_close, last_trace_start_in, read_chunks, start_of_data, PATTERN_OVERLAP};
use crate::ingest::diag::Level;
use crate::ingest::otlp::parse::{Done, Loaded, BLOCK_BYTES};

/// Reads from `reader` until `buf` holds `target` bytes or the input ends; true at the end.
fn fill(reader: &mut (dyn Read + Send), buf: &mut Vec<u8>, target: usize) -> std::io::Result<bool> {
    let want = target.saturating_sub(buf.len());
    buf.reserve(want);
    let got = reader.take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

/// What was read so far: the bytes (for the whole-input fallback) and the proven parts.
#[derive(Default)]
struct Taken {
    /// Every byte read before the current block, in order.
    bytes: Vec<Vec<u8>>,
    parts: Vec<Result<Done>>,
}

/// Parses a Jaeger input whose first `head` bytes are read (see the module doc).
pub fn parse_reader(
    reader: &mut (dyn Read + Send),
    head: Vec<u8>,
    size: usize,
    label: &str,
    acc: &mut Loaded,
) -> Result<()> {
    let input = Input {
        size,
        block: BLOCK_BYTES,
        label,
    };
    read_input(reader, head, input, acc).map(drop)
}

/// An input being read: its size when known, the block size, its label.
#[derive(Clone, Copy)]
struct Input<'l> {
    size: usize,
    block: usize,
    label: &'l str,
}

/// Parses the input (see [`parse_reader`]); true when it was streamed.
fn read_input(
    reader: &mut (dyn Read + Send),
    head: Vec<u8>,
    input: Input<'_>,
    acc: &mut Loaded,
) -> Result<bool> {
    let Input { size, label, .. } = input;
    let mut taken = Taken::default();
    let streamed = match start_of_data(&head) {
        Some(at) => stream(reader, head, at, input, &mut taken)
            .with_context(|| format!("{label}: cannot read"))?,
        None => Streamed::No(head),
    };
    match streamed {
        Streamed::Yes(has_errors) => {
            acc.absorb_all(taken.parts)?;
            if has_errors {
                acc.diag
                    .add(Level::Warn, "Jaeger response lists errors", || {
                        label.to_string()
                    });
            }
            Ok(true)
        }
        Streamed::No(rest) => {
            let mut all = Vec::with_capacity(size.max(rest.len()) + 1);
            taken.bytes.iter().for_each(|b| all.extend_from_slice(b));
            all.extend_from_slice(&rest);
            reader
                .read_to_end(&mut all)
                .with_context(|| format!("{label}: cannot read"))?;
            super::parse_whole(&all, label, acc).map(|()| false)
        }
    }
}

/// How streaming ended: the envelope proven (whether it lists errors), or given back with
/// the bytes of the current block (those before it are in [`Taken::bytes`]).
enum Streamed {
    Yes(bool),
    No(Vec<u8>),
}

/// Streams the envelope whose `data` contents start at `from` in `buf`.
fn stream(
    reader: &mut (dyn Read + Send),
    mut buf: Vec<u8>,
    mut from: usize,
    input: Input<'_>,
    taken: &mut Taken,
) -> std::io::Result<Streamed> {
    let Input { block, label, .. } = input;
    let mut eof = fill(reader, &mut buf, block)?;
    // Where the search for a trace start begins (past what was searched before reading on).
    let mut look = from;
    loop {
        if eof {
            return Ok(last_block(buf, from, label, taken));
        }
        let Some(comma) = last_trace_start_in(&buf, look..buf.len()) else {
            // No trace starts in this block (one trace larger than it): read on.
            look = buf.len().saturating_sub(PATTERN_OVERLAP).max(from);
            let target = buf.len() + block;
            eof = fill(reader, &mut buf, target)?;
            continue;
        };
        let mut next = Vec::with_capacity(block);
        next.extend_from_slice(buf.get(comma + 1..).unwrap_or_default());
        let region = buf.get(from..comma).unwrap_or_default();
        let (parts, more) = rayon::join(
            || one_line(region).then(|| read_chunks(&buf, from..comma, 1, label)),
            || fill(reader, &mut next, block),
        );
        buf.truncate(comma + 1);
        taken.bytes.push(buf);
        buf = next;
        (from, look) = (0, 0);
        eof = more?;
        match parts.flatten() {
            Some(parts) => taken.parts.extend(parts),
            None => return Ok(Streamed::No(buf)),
        }
    }
}

/// The last block: the rest of `data`, the envelope's other keys and only whitespace after.
fn last_block(buf: Vec<u8>, from: usize, label: &str, taken: &mut Taken) -> Streamed {
    let end = buf.trim_ascii_end().len();
    let line = buf.get(..end).unwrap_or_default();
    let Some((close, has_errors)) = data_close(line, from).filter(|_| one_line(line)) else {
        return Streamed::No(buf);
    };
    match read_chunks(&buf, from..close, 1, label) {
        Some(parts) => {
            taken.parts.extend(parts);
            Streamed::Yes(has_errors)
        }
        None => Streamed::No(buf),
    }
}

/// True when `bytes` holds no line break (every trace of a one-line envelope is on line 1).
fn one_line(bytes: &[u8]) -> bool {
    memchr::memchr(b'\n', bytes).is_none()
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
