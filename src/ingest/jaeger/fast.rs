//! The fast path of the Jaeger reader: a group of traces (or of raw spans) read with the
//! strict cursor ([`crate::ingest::cursor`]) instead of serde, each span walked into the
//! column builders as soon as it is read ([`super::walk::walk_span`], so the rows are the
//! serde path's), nothing collected. It gives up ([`Bail`]) on anything it does not read
//! exactly as the serde types would; the caller then reads the whole group again the serde
//! way into a fresh part, which decides and words any fault.
//!
//! A trace's `processes` may follow its `spans` (the query API writes them last): they are
//! then read ahead, from the last `"processes":` of the trace text, and the trace is only
//! taken if that turns out to be the trace's own `processes` key.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::batch::Group;
use super::fast_span::{process, SpanSlot};
use super::walk::walk_span;
use super::wire::Processes;
use crate::ingest::cursor::{Bail, Cursor, Res};
use crate::ingest::otlp::scalar::Text;
use crate::ingest::otlp::walk::{Part, Place};

/// The key that holds a trace's processes, as written (quotes included).
const PROCESSES_KEY: &[u8] = b"\"processes\"";

/// Reused while a group is read: the span slot and the attributes text.
#[derive(Default)]
pub struct Scratch<'a> {
    slot: SpanSlot<'a>,
    text: String,
}

/// Reads whole traces (each a `{traceID, spans, processes}` object of the input, with the
/// line it starts on) into `part`; `None` when any of them is not taken.
pub fn walk_traces(traces: &[(&[u8], usize)], label: &str, part: &mut Part) -> Option<()> {
    let mut scratch = Scratch::default();
    for &(bytes, line) in traces {
        let text = std::str::from_utf8(bytes).ok()?;
        let place = Place { label, line };
        walk_trace(text, part, &mut scratch, place).ok()?;
    }
    Some(())
}

/// Reads the raw spans of a group (their processes already known) into `part`; `None` when
/// any of them is not taken.
pub fn walk_group(
    g: &Group<'_, '_, '_, Processes<'_>>,
    label: &str,
    part: &mut Part,
) -> Option<()> {
    let mut scratch = Scratch::default();
    let mut lines = g.lines.fork();
    for (processes, spans) in &g.pieces {
        for raw in spans.iter() {
            let place = Place {
                label,
                line: lines.of(raw),
            };
            walk_raw(raw, processes, part, &mut scratch, place).ok()?;
        }
    }
    Some(())
}

fn walk_raw<'a>(
    raw: &'a RawValue,
    processes: &Processes<'_>,
    part: &mut Part,
    scratch: &mut Scratch<'a>,
    place: Place<'_>,
) -> Res<()> {
    let mut c = Cursor::new(raw.get());
    scratch.slot.read(&mut c)?;
    c.end()?;
    walk_span(
        &scratch.slot.span,
        processes,
        part,
        &mut scratch.text,
        place,
    );
    Ok(())
}

/// What the keys of one trace object gave so far.
#[derive(Default)]
struct TraceKeys<'a> {
    /// `None` before `spans`; then whether they were a list (not `null`).
    spans: Option<bool>,
    /// The processes the spans are walked with (read, or read ahead).
    processes: Option<Processes<'a>>,
    /// Set when processes were read ahead: the offset of the key they were read after.
    ahead: Option<Option<usize>>,
    processes_seen: bool,
}

/// Reads one trace object (all of `text`) into `part`, as the serde path's `TypedTrace`.
pub fn walk_trace<'a>(
    text: &'a str,
    part: &mut Part,
    scratch: &mut Scratch<'a>,
    place: Place<'_>,
) -> Res<()> {
    let mut c = Cursor::new(text);
    let mut keys = TraceKeys::default();
    c.object(|c, key| match key {
        "spans" => keys.spans(c, text, key, part, scratch, place),
        "processes" => keys.processes(c, offset(text, key)),
        _ => c.skip(),
    })?;
    c.end()?;
    if matches!(keys.ahead, Some(Some(_))) && !keys.processes_seen {
        return Err(Bail); // what was read ahead was not the trace's own `processes`
    }
    if keys.spans != Some(true) {
        part.skip("Jaeger trace without spans", place);
    }
    Ok(())
}

/// Where `key` (borrowed from `text`) starts in `text`.
fn offset(text: &str, key: &str) -> usize {
    (key.as_ptr() as usize).saturating_sub(text.as_ptr() as usize)
}

impl<'a> TraceKeys<'a> {
    fn processes(&mut self, c: &mut Cursor<'a>, at: usize) -> Res<()> {
        if std::mem::replace(&mut self.processes_seen, true) {
            return Err(Bail);
        }
        match self.ahead {
            Some(expected) if expected == Some(at) => c.skip(),
            Some(_) => Err(Bail),
            None => {
                self.processes = Some(processes(c)?);
                Ok(())
            }
        }
    }

    fn spans(
        &mut self,
        c: &mut Cursor<'a>,
        text: &'a str,
        key: &str,
        part: &mut Part,
        scratch: &mut Scratch<'a>,
        place: Place<'_>,
    ) -> Res<()> {
        if self.spans.is_some() {
            return Err(Bail);
        }
        if c.null()? {
            self.spans = Some(false);
            return Ok(());
        }
        if self.processes.is_none() {
            let (found, at) = read_ahead(text, offset(text, key))?;
            self.processes = Some(found);
            self.ahead = Some(at);
        }
        let empty = Processes::default();
        let processes = self.processes.as_ref().unwrap_or(&empty);
        c.array(|c| {
            scratch.slot.read(c)?;
            walk_span(
                &scratch.slot.span,
                processes,
                part,
                &mut scratch.text,
                place,
            );
            Ok(())
        })?;
        self.spans = Some(true);
        Ok(())
    }
}

/// `Option<Processes>`: `null` or an object of process id → process.
fn processes<'a>(c: &mut Cursor<'a>) -> Res<Processes<'a>> {
    let mut out = Processes::default();
    if c.null()? {
        return Ok(out);
    }
    c.object(|c, id| {
        out.0.push((Text(Cow::Borrowed(id)), process(c)?));
        Ok(())
    })?;
    Ok(out)
}

/// The processes written after `from` in `text` (the last `"processes":`), and the offset
/// of that key's text; none found is no processes.
fn read_ahead(text: &str, from: usize) -> Res<(Processes<'_>, Option<usize>)> {
    let rest = text.as_bytes().get(from..).unwrap_or_default();
    let finder = memchr::memmem::rfind_iter(rest, PROCESSES_KEY);
    for found in finder {
        let after = from + found + PROCESSES_KEY.len();
        let tail = text.as_bytes().get(after..).unwrap_or_default();
        let gap = tail.iter().take_while(|b| is_json_space(**b)).count();
        if tail.get(gap) != Some(&b':') {
            continue;
        }
        let value = text.get(after + gap + 1..).ok_or(Bail)?;
        let read = processes(&mut Cursor::new(value))?;
        return Ok((read, Some(from + found + 1)));
    }
    Ok((Processes::default(), None))
}

fn is_json_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\t' | b'\r')
}
