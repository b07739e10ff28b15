//! The fast path of the Jaeger reader: a group of traces (or of raw spans) read with the
//! strict cursor ([`crate::ingest::cursor`]) instead of serde into the same wire types, and
//! walked into the column builders by the same [`super::walk::walk_span`], so the rows are
//! the serde path's. It gives up ([`Bail`]) on anything it does not read exactly as the
//! serde types would; the caller then reads the whole group again the serde way into a
//! fresh part, which decides and words any fault.
//!
//! A trace's `processes` may follow its `spans` (the query API writes them last), so a
//! trace's spans are read into slots (reused from trace to trace, with their lists'
//! storage) and walked once the trace object is read.

use std::borrow::Cow;

use serde_json::value::RawValue;

use super::batch::Group;
use super::fast_span::{process, SpanSlot};
use super::walk::{walk_span, WalkScratch};
use super::wire::Processes;
use crate::ingest::cursor::{Bail, Cursor, Res};
use crate::ingest::otlp::scalar::Text;
use crate::ingest::otlp::walk::{Part, Place};

/// Reused while a group is read: span slots (one per span of the largest trace so far, each
/// keeping its lists' storage) and the walk's own scratch.
#[derive(Default)]
pub struct Scratch<'a> {
    slots: Vec<SpanSlot<'a>>,
    used: usize,
    walk: WalkScratch,
}

impl<'a> Scratch<'a> {
    /// The next free slot of the trace being read.
    fn next_slot(&mut self) -> Res<&mut SpanSlot<'a>> {
        if self.used == self.slots.len() {
            self.slots.push(SpanSlot::default());
        }
        self.used += 1;
        self.slots.get_mut(self.used - 1).ok_or(Bail)
    }
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
    scratch.used = 0;
    scratch.next_slot()?.read(&mut c)?;
    c.end()?;
    let slot = scratch.slots.first().ok_or(Bail)?;
    walk_span(&slot.span, processes, part, &mut scratch.walk, place);
    Ok(())
}

/// Reads one trace object (all of `text`) into `part`, as the serde path's `TypedTrace`.
pub fn walk_trace<'a>(
    text: &'a str,
    part: &mut Part,
    scratch: &mut Scratch<'a>,
    place: Place<'_>,
) -> Res<()> {
    let mut c = Cursor::new(text);
    read_trace(&mut c, part, scratch, place)?;
    c.end()
}

/// What the keys of one trace object gave.
#[derive(Default)]
struct TraceKeys<'a> {
    /// `None` without `spans`; else whether they were a list (not `null`).
    spans: Option<bool>,
    /// `None` without `processes`; `null` reads as none.
    processes: Option<Processes<'a>>,
}

/// Reads the trace object at the cursor into `part`, as the serde path's `TypedTrace`: its
/// spans into slots, walked once the processes (before or after them) are known.
pub fn read_trace<'a>(
    c: &mut Cursor<'a>,
    part: &mut Part,
    scratch: &mut Scratch<'a>,
    place: Place<'_>,
) -> Res<()> {
    let mut keys = TraceKeys::default();
    scratch.used = 0;
    c.object(|c, key| match key {
        "spans" if keys.spans.is_some() => Err(Bail),
        "spans" => {
            let list = !c.null()?;
            if list {
                c.array(|c| scratch.next_slot()?.read(c))?;
            }
            keys.spans = Some(list);
            Ok(())
        }
        "processes" if keys.processes.is_some() => Err(Bail),
        "processes" => {
            keys.processes = Some(processes(c)?);
            Ok(())
        }
        _ => c.skip(),
    })?;
    let processes = keys.processes.unwrap_or_default();
    let slots = scratch.slots.get(..scratch.used).unwrap_or_default();
    for slot in slots {
        walk_span(&slot.span, &processes, part, &mut scratch.walk, place);
    }
    if keys.spans != Some(true) {
        part.skip("Jaeger trace without spans", place);
    }
    Ok(())
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
