//! The cursor's reading of one Jaeger span (and of a process, which a span may carry inline)
//! into the wire types of [`super::wire`], exactly as their `Deserialize` impls read them,
//! or [`Bail`]: a duplicated field, a `null` or a value of a type the derive refuses, a key
//! written with escapes. The span is filled in place, its vectors reused span after span.

use super::fast_tags::{instance_tags, tags};
use super::wire::{Log, Process, Reference, Span};
use crate::ingest::cursor::{Bail, Cursor, Res};
use crate::ingest::otlp::fast_values::{int64, opt_text};

/// One span, refilled for every span read, with its lists' storage kept between spans.
#[derive(Default)]
pub struct SpanSlot<'a> {
    pub span: Span<'a>,
    refs: Vec<Reference<'a>>,
    logs: Vec<Log<'a>>,
}

impl<'a> SpanSlot<'a> {
    /// Empties the span, keeping the storage of its lists.
    fn reset(&mut self) {
        let mut tags = std::mem::take(&mut self.span.tags.0);
        tags.clear();
        if let Some(mut refs) = self.span.references.take() {
            refs.clear();
            self.refs = refs;
        }
        if let Some(mut logs) = self.span.logs.take() {
            logs.clear();
            self.logs = logs;
        }
        self.span = Span::default();
        self.span.tags.0 = tags;
    }

    /// Reads the span object at the cursor into [`SpanSlot::span`].
    pub fn read(&mut self, c: &mut Cursor<'a>) -> Res<()> {
        self.reset();
        let mut seen = Seen::default();
        let (span, refs, logs) = (&mut self.span, &mut self.refs, &mut self.logs);
        c.object(|c, key| {
            match key {
                "traceID" => span.trace_id = seen.once(0, c, opt_text)?,
                "spanID" => span.span_id = seen.once(1, c, opt_text)?,
                "operationName" => span.name = seen.once(2, c, opt_text)?,
                "references" => {
                    seen.mark(3)?;
                    span.references = opt_list(c, refs, reference)?;
                }
                "startTime" => span.start = seen.once(4, c, int64)?,
                "duration" => span.duration = seen.once(5, c, int64)?,
                "tags" => {
                    seen.mark(6)?;
                    tags(c, &mut span.tags.0)?;
                }
                "logs" => {
                    seen.mark(7)?;
                    span.logs = opt_list(c, logs, log)?;
                }
                "processID" => span.process_id = seen.once(8, c, opt_text)?,
                "process" => span.process = seen.once(9, c, opt_process)?,
                _ => c.skip()?,
            }
            Ok(())
        })
    }
}

/// The fields of one object already read (the derive refuses a field given twice).
#[derive(Default)]
pub(super) struct Seen(u32);

impl Seen {
    pub(super) fn mark(&mut self, bit: u32) -> Res<()> {
        if self.0 & (1 << bit) != 0 {
            return Err(Bail);
        }
        self.0 |= 1 << bit;
        Ok(())
    }

    /// Reads field number `bit` with `read`, refusing it the second time.
    pub(super) fn once<'a, T>(
        &mut self,
        bit: u32,
        c: &mut Cursor<'a>,
        read: impl FnOnce(&mut Cursor<'a>) -> Res<T>,
    ) -> Res<T> {
        self.mark(bit)?;
        read(c)
    }
}

/// `Option<Vec<T>>`: `null` or an array, its elements read by `read` into `spare` (the
/// storage of the previous span's list).
fn opt_list<'a, T>(
    c: &mut Cursor<'a>,
    spare: &mut Vec<T>,
    read: fn(&mut Cursor<'a>) -> Res<T>,
) -> Res<Option<Vec<T>>> {
    if c.null()? {
        return Ok(None);
    }
    let mut list = std::mem::take(spare);
    c.array(|c| {
        list.push(read(c)?);
        Ok(())
    })?;
    Ok(Some(list))
}

fn reference<'a>(c: &mut Cursor<'a>) -> Res<Reference<'a>> {
    let mut r = Reference::default();
    let mut seen = Seen::default();
    c.object(|c, key| {
        match key {
            "refType" => r.ref_type = seen.once(0, c, opt_text)?,
            "traceID" => r.trace_id = seen.once(1, c, opt_text)?,
            "spanID" => r.span_id = seen.once(2, c, opt_text)?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(r)
}

fn log<'a>(c: &mut Cursor<'a>) -> Res<Log<'a>> {
    let mut l = Log::default();
    let mut seen = Seen::default();
    c.object(|c, key| {
        match key {
            "timestamp" => l.timestamp = seen.once(0, c, int64)?,
            "fields" => {
                seen.mark(1)?;
                tags(c, &mut l.fields.0)?;
            }
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(l)
}

/// `Option<Process>`: `null` or a process object.
fn opt_process<'a>(c: &mut Cursor<'a>) -> Res<Option<Process<'a>>> {
    if c.null()? {
        return Ok(None);
    }
    process(c).map(Some)
}

/// A process `{serviceName, tags}`, only its instance tags kept (see [`InstanceTags`]).
pub(super) fn process<'a>(c: &mut Cursor<'a>) -> Res<Process<'a>> {
    let mut p = Process::default();
    let mut seen = Seen::default();
    c.object(|c, key| {
        match key {
            "serviceName" => p.service_name = seen.once(0, c, opt_text)?,
            "tags" => p.tags = seen.once(1, c, instance_tags)?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(p)
}
