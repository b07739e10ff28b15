//! zstd that reads up to the damage: a plain stream (frames one after another, skippable
//! frames skipped) and the OpenTelemetry Collector file exporter's framing (a 4-byte
//! big-endian length, then one zstd frame, per record).
//!
//! A frame cut off or corrupt still gives every block before the damage: the decoder keeps
//! the last window of output to itself until the frame's end, so the frame is rebuilt
//! from its header and its good blocks, the last of them marked last, and decoded again.
//! Reading resumes at the next frame header (or the next record), and each damaged stretch
//! is logged with its compressed offset.

use std::io::Read;

use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder, StreamingDecoder};

use super::damage::{Damage, DamageLog};

pub const MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];
/// The largest single record the framed reader accepts (the Collector writes one batch).
const MAX_FRAMED_RECORD: usize = 1 << 30;
const BLOCK_HEADER: usize = 3;
const CHECKSUM: usize = 4;
const FRAME_UNIT: &str = "zstd frame";
const RECORD_UNIT: &str = "zstd record";

/// What one frame gave: its output, and its length or where it broke.
struct Frame {
    data: Vec<u8>,
    end: Result<usize, Broken>,
}

/// Where a frame broke (an offset into the frame) and whether the input just ran out.
struct Broken {
    at: usize,
    cut: bool,
}

/// A plain zstd stream.
pub fn decode_stream(compressed: &[u8], log: &DamageLog) -> Vec<u8> {
    let mut out = Vec::new();
    decode_frames(compressed, 0, FRAME_UNIT, log, &mut out);
    out
}

/// Frames one after another in `bytes` (at `base` in the file) appended to `out`.
fn decode_frames(bytes: &[u8], base: u64, unit: &'static str, log: &DamageLog, out: &mut Vec<u8>) {
    let mut pos = 0usize;
    // Set while the frame a scan resumed at has given nothing: if it breaks, it was a false
    // start inside compressed data and joins the damage before it.
    let mut false_start = false;
    while pos < bytes.len() {
        let rest = &bytes[pos..];
        if let Some(len) = skippable_len(rest) {
            pos = pos.saturating_add(len);
            continue;
        }
        let (at, cut) = if rest.starts_with(&MAGIC) {
            let frame = decode_frame(rest);
            let gave = !frame.data.is_empty();
            out.extend_from_slice(&frame.data);
            match frame.end {
                Ok(n) => {
                    pos += n;
                    false_start = false;
                    continue;
                }
                Err(b) if false_start && !gave => {
                    log.amend_last(|d| d.resumed_at = None);
                    (pos + b.at.max(1), false)
                }
                Err(b) => {
                    push_damage(log, unit, base + (pos + b.at) as u64, b.cut);
                    (pos + b.at.max(1), b.cut)
                }
            }
        } else {
            push_damage(log, unit, base + pos as u64, false);
            (pos + 1, false)
        };
        close_line(out);
        if cut {
            return;
        }
        let Some(next) = find(bytes, at, &MAGIC) else {
            return;
        };
        log.amend_last(|d| d.resumed_at = Some(base + next as u64));
        false_start = true;
        pos = next;
    }
}

fn push_damage(log: &DamageLog, unit: &'static str, at: u64, cut: bool) {
    log.push(Damage {
        unit,
        at,
        resumed_at: None,
        cut,
    });
}

/// Ends the output with a line break, so a partial last line is parsed on its own.
fn close_line(out: &mut Vec<u8>) {
    if out.last().is_some_and(|&b| b != b'\n') {
        out.push(b'\n');
    }
}

fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    let hay = bytes.get(from..)?;
    memchr::memmem::find(hay, needle).map(|i| from + i)
}

/// The whole length of a skippable frame (magic `0x184D2A5?`, a 4-byte size, the data).
fn skippable_len(bytes: &[u8]) -> Option<usize> {
    let head = bytes.get(..8)?;
    let skippable = head[0] & 0xf0 == 0x50 && head[1..4] == [0x2a, 0x4d, 0x18];
    let size = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    skippable.then_some(8 + size)
}

/// Decodes the frame at the start of `bytes`.
fn decode_frame(bytes: &[u8]) -> Frame {
    let mut src = bytes;
    let mut data = Vec::new();
    let whole = StreamingDecoder::new(&mut src)
        .ok()
        .and_then(|mut dec| dec.read_to_end(&mut data).ok());
    if whole.is_some() {
        let used = bytes.len() - src.len();
        return Frame {
            data,
            end: Ok(used),
        };
    }
    salvage_frame(bytes)
}

/// The blocks of a frame: its header length, each complete block as (offset, length), and
/// whether the walk stopped because the input ended.
struct Layout {
    header: usize,
    blocks: Vec<(usize, usize)>,
    ran_out: bool,
}

/// Walks a frame's header and block headers (RFC 8878 §3.1.1) as far as they are whole.
fn layout(bytes: &[u8]) -> Option<Layout> {
    let fhd = *bytes.get(4)?;
    let single = fhd & 0x20 != 0;
    let fcs = match fhd >> 6 {
        0 => usize::from(single),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let dict = [0, 1, 2, 4][usize::from(fhd & 3)];
    let header = 5 + usize::from(!single) + dict + fcs;
    let checksum = if fhd & 0x04 != 0 { CHECKSUM } else { 0 };
    let mut blocks = Vec::new();
    let mut at = header;
    loop {
        let Some(h) = bytes.get(at..at + BLOCK_HEADER) else {
            return Some(Layout {
                header,
                blocks,
                ran_out: true,
            });
        };
        let h = u32::from(h[0]) | u32::from(h[1]) << 8 | u32::from(h[2]) << 16;
        let body = match (h >> 1) & 3 {
            1 => 1,
            3 => {
                return Some(Layout {
                    header,
                    blocks,
                    ran_out: false,
                })
            }
            _ => (h >> 3) as usize,
        };
        let len = BLOCK_HEADER + body;
        if at + len > bytes.len() {
            return Some(Layout {
                header,
                blocks,
                ran_out: true,
            });
        }
        blocks.push((at, len));
        at += len;
        if h & 1 != 0 {
            let ran_out = at + checksum > bytes.len();
            return Some(Layout {
                header,
                blocks,
                ran_out,
            });
        }
    }
}

/// A frame that failed to decode: everything its good blocks hold, and where it broke.
fn salvage_frame(bytes: &[u8]) -> Frame {
    let broken = |at, cut| Frame {
        data: Vec::new(),
        end: Err(Broken { at, cut }),
    };
    let Some(layout) = layout(bytes) else {
        return broken(0, true);
    };
    let mut dec = FrameDecoder::new();
    let mut src = bytes;
    if dec.init(&mut src).is_err() {
        return broken(0, layout.ran_out && layout.blocks.is_empty());
    }
    let _ = dec.decode_blocks(&mut src, BlockDecodingStrategy::All);
    let mut good = dec.blocks_decoded().min(layout.blocks.len());
    while good > 0 {
        if let Some(data) = rebuild(bytes, &layout, good) {
            let at = layout.blocks.get(good).map_or_else(
                || layout.blocks[good - 1].0 + layout.blocks[good - 1].1,
                |b| b.0,
            );
            let cut = layout.ran_out && good == layout.blocks.len();
            return Frame {
                data,
                end: Err(Broken { at, cut }),
            };
        }
        good -= 1;
    }
    let at = layout.blocks.first().map_or(layout.header, |b| b.0);
    broken(at, layout.ran_out && layout.blocks.is_empty())
}

/// Decodes the frame's header and its first `good` blocks, the last of them marked last
/// and the checksum flag cleared (the checksum is gone with the rest).
fn rebuild(bytes: &[u8], layout: &Layout, good: usize) -> Option<Vec<u8>> {
    let mut frame = bytes.get(..layout.header)?.to_vec();
    frame[4] &= !0x04;
    let mut last_header = frame.len();
    for &(at, len) in layout.blocks.get(..good)? {
        last_header = frame.len();
        frame.extend_from_slice(bytes.get(at..at + len)?);
    }
    frame[last_header] |= 1;
    let mut data = Vec::new();
    StreamingDecoder::new(frame.as_slice())
        .ok()?
        .read_to_end(&mut data)
        .ok()?;
    Some(data)
}

/// The Collector file exporter's framing: `u32 BE length` + zstd frame, per record; each
/// record is ended with a line break so the result reads as JSON Lines. A record whose
/// length is implausible is damage: reading resumes at the next frame header.
pub fn decode_framed(compressed: &[u8], log: &DamageLog) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < compressed.len() {
        let Some(len) = compressed.get(pos..pos + 4) else {
            push_damage(log, RECORD_UNIT, pos as u64, true);
            break;
        };
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let body = pos + 4;
        let framed = compressed[body..].starts_with(&MAGIC);
        if !framed || len > MAX_FRAMED_RECORD {
            push_damage(log, RECORD_UNIT, pos as u64, false);
            close_line(&mut out);
            pos = resync_record(compressed, body, framed, log, &mut out);
            continue;
        }
        let end = body.saturating_add(len).min(compressed.len());
        let logged = log.len();
        decode_frames(
            &compressed[body..end],
            body as u64,
            RECORD_UNIT,
            log,
            &mut out,
        );
        close_line(&mut out);
        if log.len() > logged && end < compressed.len() {
            // The next record is found by this record's length, not by a frame header.
            log.amend_last(|d| d.resumed_at = d.resumed_at.or(Some(end as u64)));
        }
        pos = end;
    }
    out
}

/// After a record whose length is damaged: its frame read by its own end when it starts
/// right there, else a scan for the next frame header, the record starting 4 bytes before
/// it. Returns where to go on (the end of the input when nothing follows).
fn resync_record(
    compressed: &[u8],
    body: usize,
    framed: bool,
    log: &DamageLog,
    out: &mut Vec<u8>,
) -> usize {
    if framed {
        let frame = decode_frame(&compressed[body..]);
        out.extend_from_slice(&frame.data);
        close_line(out);
        if let Ok(n) = frame.end {
            let next = body + n;
            log.amend_last(|d| d.resumed_at = Some(next as u64));
            return next;
        }
    }
    match find(compressed, body + 1, &MAGIC) {
        Some(next) => {
            log.amend_last(|d| d.resumed_at = Some((next - 4) as u64));
            next - 4
        }
        None => compressed.len(),
    }
}

#[cfg(test)]
#[path = "zstd_tests.rs"]
mod tests;
