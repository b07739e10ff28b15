//! One OTLP/JSON span read with the [`Cursor`] (its status, events and links too), into a
//! [`Span`] reused from span to span, exactly as the derived `Deserialize` fills it; gives
//! up where the derive would fail, so serde can decide.

use crate::ingest::cursor::{Cursor, Res};

use super::fast_values::{attribute_list, attributes, enum_field, int64, once, opt_text};
use super::scalar::{kind_by_name, status_by_name, KindField, StatusField};
use super::wire::{Event, Link, Span, Status};

/// Empties a span kept between spans, keeping the room its lists have.
fn clear<'a>(s: &mut Span<'a>) {
    let mut attributes = std::mem::take(&mut s.attributes);
    attributes.clear();
    *s = Span {
        attributes,
        ..Span::default()
    };
}

/// Reads one span into `s` (cleared first).
pub(super) fn span<'a>(c: &mut Cursor<'a>, s: &mut Span<'a>) -> Res<()> {
    clear(s);
    let mut seen = 0;
    c.object(|c, key| match key {
        "traceId" | "trace_id" => {
            once(&mut seen, 1)?;
            s.trace_id = opt_text(c)?;
            Ok(())
        }
        "spanId" | "span_id" => {
            once(&mut seen, 2)?;
            s.span_id = opt_text(c)?;
            Ok(())
        }
        "parentSpanId" | "parent_span_id" => {
            once(&mut seen, 4)?;
            s.parent_span_id = opt_text(c)?;
            Ok(())
        }
        "name" => {
            once(&mut seen, 8)?;
            s.name = opt_text(c)?;
            Ok(())
        }
        _ => span_rest(c, key, s, &mut seen),
    })
}

/// The span fields after its ids and name.
fn span_rest<'a>(c: &mut Cursor<'a>, key: &str, s: &mut Span<'a>, seen: &mut u32) -> Res<()> {
    match key {
        "kind" => {
            once(seen, 16)?;
            s.kind = KindField(enum_field(c, kind_by_name)?);
        }
        "startTimeUnixNano" | "start_time_unix_nano" => {
            once(seen, 32)?;
            s.start = int64(c)?;
        }
        "endTimeUnixNano" | "end_time_unix_nano" => {
            once(seen, 64)?;
            s.end = int64(c)?;
        }
        "attributes" => {
            once(seen, 128)?;
            attributes(c, &mut s.attributes)?;
        }
        "events" => {
            once(seen, 256)?;
            c.array(|c| {
                s.events.push(event(c)?);
                Ok(())
            })?;
        }
        "links" => {
            once(seen, 512)?;
            c.array(|c| {
                s.links.push(link(c)?);
                Ok(())
            })?;
        }
        "status" => {
            once(seen, 1024)?;
            s.status = opt_status(c)?;
        }
        _ => c.skip()?,
    }
    Ok(())
}

fn opt_status<'a>(c: &mut Cursor<'a>) -> Res<Option<Status<'a>>> {
    if c.null()? {
        return Ok(None);
    }
    let mut st = Status::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "code" => {
            once(&mut seen, 1)?;
            st.code = StatusField(enum_field(c, status_by_name)?);
            Ok(())
        }
        "message" => {
            once(&mut seen, 2)?;
            st.message = opt_text(c)?;
            Ok(())
        }
        _ => c.skip(),
    })?;
    Ok(Some(st))
}

fn event<'a>(c: &mut Cursor<'a>) -> Res<Event<'a>> {
    let mut ev = Event::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "timeUnixNano" | "time_unix_nano" => {
            once(&mut seen, 1)?;
            ev.time = int64(c)?;
            Ok(())
        }
        "name" => {
            once(&mut seen, 2)?;
            ev.name = opt_text(c)?;
            Ok(())
        }
        "attributes" => {
            once(&mut seen, 4)?;
            ev.attributes = attribute_list(c)?;
            Ok(())
        }
        _ => c.skip(),
    })?;
    Ok(ev)
}

fn link<'a>(c: &mut Cursor<'a>) -> Res<Link<'a>> {
    let mut l = Link::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "traceId" | "trace_id" => {
            once(&mut seen, 1)?;
            l.trace_id = opt_text(c)?;
            Ok(())
        }
        "spanId" | "span_id" => {
            once(&mut seen, 2)?;
            l.span_id = opt_text(c)?;
            Ok(())
        }
        "attributes" => {
            once(&mut seen, 4)?;
            l.attributes = attribute_list(c)?;
            Ok(())
        }
        _ => c.skip(),
    })?;
    Ok(l)
}
