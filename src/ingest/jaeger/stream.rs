//! A Jaeger input read as it streams in: a query API envelope written on one line
//! (`{"data":[trace,…],…}`) is read block by block of about [`BLOCK_BYTES`] into two
//! recycled buffers, each block's whole traces cut into chunks and read in parallel
//! ([`super::chunks`]) while the next block is read, the partial trace at a block's end
//! carried into the next. Where a block is not proven (a line break, a cut the scan does
//! not confirm, the envelope's end not as expected), the rest of the input is read and
//! parsed from that block on as the scan path would go on from there
//! ([`super::envelope::parse_in_data`], then any further documents); any other input is
//! parsed whole by [`super::parse_whole`].

use std::io::Read;

use anyhow::{Context, Result};

use super::chunks::{data_close, last_trace_start_in, read_chunks, start_of_data, PATTERN_OVERLAP};
use crate::ingest::diag::Level;
use crate::ingest::otlp::parse::{Done, Loaded, BLOCK_BYTES};

/// A read buffer whose bytes stay initialised when it is reused, so refilling it does not
/// zero it first as `read_to_end` does: `bytes[..len]` is input.
#[derive(Default)]
struct Block {
    bytes: Vec<u8>,
    len: usize,
}

impl Block {
    fn new(bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        Block { bytes, len }
    }

    fn data(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Starts the block over, holding `carry`.
    fn restart(&mut self, carry: &[u8]) {
        if self.bytes.len() < carry.len() {
            self.bytes.resize(carry.len(), 0);
        }
        if let Some(start) = self.bytes.get_mut(..carry.len()) {
            start.copy_from_slice(carry);
        }
        self.len = carry.len();
    }

    /// Reads until the block holds `target` bytes or the input ends; true at the end.
    fn fill(&mut self, reader: &mut (dyn Read + Send), target: usize) -> std::io::Result<bool> {
        if self.bytes.len() < target {
            self.bytes.resize(target, 0);
        }
        while let Some(room) = self
            .bytes
            .get_mut(self.len..target)
            .filter(|r| !r.is_empty())
        {
            match reader.read(room) {
                Ok(0) => return Ok(true),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(false)
    }

    fn into_vec(mut self) -> Vec<u8> {
        self.bytes.truncate(self.len);
        self.bytes
    }
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

/// Parses the input (see [`parse_reader`]); true when it streamed to its end.
fn read_input(
    reader: &mut (dyn Read + Send),
    mut head: Vec<u8>,
    input: Input<'_>,
    acc: &mut Loaded,
) -> Result<bool> {
    let Input { size, label, .. } = input;
    let Some(at) = start_of_data(&head) else {
        head.reserve(size.saturating_sub(head.len()) + 1);
        read_rest(reader, &mut head, label)?;
        return super::parse_whole(&head, label, acc).map(|()| false);
    };
    let mut parts = Vec::new();
    let end = stream(reader, head, at, input, &mut parts)
        .with_context(|| format!("{label}: cannot read"))?;
    acc.absorb_all(parts)?;
    match end {
        Streamed::Whole(has_errors) => {
            if has_errors {
                acc.diag
                    .add(Level::Warn, "Jaeger response lists errors", || {
                        label.to_string()
                    });
            }
            Ok(true)
        }
        Streamed::From(mut rest, from) => {
            read_rest(reader, &mut rest, label)?;
            parse_from(&rest, from, label, acc).map(|()| false)
        }
    }
}

fn read_rest(reader: &mut (dyn Read + Send), buf: &mut Vec<u8>, label: &str) -> Result<()> {
    reader
        .read_to_end(buf)
        .with_context(|| format!("{label}: cannot read"))?;
    Ok(())
}

/// Parses `rest` (the input from a point of its first line on) from `from`, between two
/// elements of the envelope's `data`, as the scan path goes on there; then any documents
/// after the envelope.
fn parse_from(rest: &[u8], from: usize, label: &str, acc: &mut Loaded) -> Result<()> {
    let doc = rest.get(from..).unwrap_or_default();
    let used = super::envelope::parse_in_data(rest, doc, label, acc)?;
    let after = doc.get(used..).unwrap_or_default();
    super::parse_rest(rest, after, label, acc)
}

/// How streaming ended: the whole envelope proven (whether it lists errors), or a buffer
/// whose bytes from an offset on (between two elements of `data`, on the input's first
/// line) are still to be parsed, with the rest of the input.
enum Streamed {
    Whole(bool),
    From(Vec<u8>, usize),
}

/// Streams the envelope whose `data` contents start at `from` in `buf`, the parts of the
/// blocks proven pushed to `parts`.
fn stream(
    reader: &mut (dyn Read + Send),
    head: Vec<u8>,
    mut from: usize,
    input: Input<'_>,
    parts: &mut Vec<Result<Done>>,
) -> std::io::Result<Streamed> {
    let Input { block, label, .. } = input;
    let mut buf = Block::new(head);
    let mut eof = buf.fill(reader, block)?;
    // Where the search for a trace start begins (past what was searched before reading on).
    let mut look = from;
    let mut next = Block::default();
    loop {
        if eof {
            return Ok(last_block(buf.into_vec(), from, label, parts));
        }
        let Some(comma) = last_trace_start_in(buf.data(), look..buf.len) else {
            // No trace starts in this block (one trace larger than it): read on.
            look = buf.len.saturating_sub(PATTERN_OVERLAP).max(from);
            let target = buf.len + block;
            eof = buf.fill(reader, target)?;
            continue;
        };
        next.restart(buf.data().get(comma + 1..).unwrap_or_default());
        let data = buf.data();
        let region = data.get(from..comma).unwrap_or_default();
        let (read, more) = rayon::join(
            || one_line(region).then(|| read_chunks(data, from..comma, 1, label)),
            || next.fill(reader, block),
        );
        let more = more?;
        let Some(read) = read.flatten() else {
            // Not proven: this block on is parsed the scan path's way.
            let mut rest = buf.into_vec();
            rest.truncate(comma + 1);
            rest.extend_from_slice(next.data());
            return Ok(Streamed::From(rest, from));
        };
        parts.extend(read);
        std::mem::swap(&mut buf, &mut next);
        (from, look, eof) = (0, 0, more);
    }
}

/// The last block: the rest of `data`, the envelope's other keys and only whitespace after.
fn last_block(buf: Vec<u8>, from: usize, label: &str, parts: &mut Vec<Result<Done>>) -> Streamed {
    let end = buf.trim_ascii_end().len();
    let line = buf.get(..end).unwrap_or_default();
    let Some((close, has_errors)) = data_close(line, from).filter(|_| one_line(line)) else {
        return Streamed::From(buf, from);
    };
    match read_chunks(&buf, from..close, 1, label) {
        Some(read) => {
            parts.extend(read);
            Streamed::Whole(has_errors)
        }
        None => Streamed::From(buf, from),
    }
}

/// True when `bytes` holds no line break (every trace of a one-line envelope is on line 1).
fn one_line(bytes: &[u8]) -> bool {
    memchr::memchr(b'\n', bytes).is_none()
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
