//! One Zipkin v2 span read with the [`Cursor`] instead of serde: the same [`Span`] the
//! derived `Deserialize` fills (same keys, `null` as absent, string tags typed back), or
//! gives up (`Bail`) where the derive would fail or read otherwise, and the caller asks serde.

use crate::ingest::cursor::{Cursor, Res};
use crate::ingest::jaeger::fast_tags::tag_value;
use crate::ingest::jaeger::tags::{typed, typed_back, TagValue};
use crate::ingest::otlp::fast_values::{int64, once, opt_text};
use crate::ingest::otlp::wire::KeyValue;

use super::wire::{Annotation, Endpoint, Span, Tags};

/// Reads one span object (its raw JSON).
pub fn read_span(raw: &str) -> Res<Span<'_>> {
    read(raw, true)
}

/// Reads and checks one span as [`read_span`] does, but leaves its `tags` out of the result
/// (they are still checked, so this takes exactly what `read_span` takes): what the first
/// pass needs, without building the tag list it would keep in memory until the rows are
/// pushed.
pub fn read_head(raw: &str) -> Res<Span<'_>> {
    read(raw, false)
}

fn read(raw: &str, full: bool) -> Res<Span<'_>> {
    let mut c = Cursor::new(raw);
    let s = read_at(&mut c, full)?;
    c.end()?;
    Ok(s)
}

/// [`read_head`] of the span object at the cursor (inside a larger document).
pub fn read_head_at<'a>(c: &mut Cursor<'a>) -> Res<Span<'a>> {
    read_at(c, false)
}

fn read_at<'a>(c: &mut Cursor<'a>, full: bool) -> Res<Span<'a>> {
    let mut s = Span::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "traceId" => {
            once(&mut seen, 1)?;
            s.trace_id = opt_text(c)?;
            Ok(())
        }
        "id" => {
            once(&mut seen, 2)?;
            s.id = opt_text(c)?;
            Ok(())
        }
        "parentId" => {
            once(&mut seen, 4)?;
            s.parent_id = opt_text(c)?;
            Ok(())
        }
        "kind" => {
            once(&mut seen, 8)?;
            s.kind = opt_text(c)?;
            Ok(())
        }
        "name" => {
            once(&mut seen, 16)?;
            s.name = opt_text(c)?;
            Ok(())
        }
        _ => span_rest(c, key, &mut s, (&mut seen, full)),
    })?;
    Ok(s)
}

/// The span fields after its ids, kind and name.
fn span_rest<'a>(
    c: &mut Cursor<'a>,
    key: &str,
    s: &mut Span<'a>,
    (seen, full): (&mut u32, bool),
) -> Res<()> {
    match key {
        "timestamp" => {
            once(seen, 32)?;
            s.timestamp = int64(c)?;
        }
        "duration" => {
            once(seen, 64)?;
            s.duration = int64(c)?;
        }
        "localEndpoint" => {
            once(seen, 128)?;
            s.local = opt_endpoint(c)?;
        }
        "remoteEndpoint" => {
            once(seen, 256)?;
            s.remote = opt_endpoint(c)?;
        }
        "annotations" => {
            once(seen, 512)?;
            s.annotations = annotations(c)?;
        }
        "tags" if full => {
            once(seen, 1024)?;
            s.tags = tags(c)?;
        }
        "tags" => {
            once(seen, 1024)?;
            check_tags(c)?;
        }
        "shared" => {
            once(seen, 2048)?;
            s.shared = if c.null()? { None } else { Some(c.boolean()?) };
        }
        _ => c.skip()?,
    }
    Ok(())
}

fn opt_endpoint<'a>(c: &mut Cursor<'a>) -> Res<Option<Endpoint<'a>>> {
    if c.null()? {
        return Ok(None);
    }
    let mut e = Endpoint::default();
    let mut seen = 0;
    c.object(|c, key| {
        match key {
            "serviceName" => {
                once(&mut seen, 1)?;
                e.service_name = opt_text(c)?;
            }
            "ipv4" => {
                once(&mut seen, 2)?;
                e.ipv4 = opt_text(c)?;
            }
            "ipv6" => {
                once(&mut seen, 4)?;
                e.ipv6 = opt_text(c)?;
            }
            "port" => {
                once(&mut seen, 8)?;
                e.port = int64(c)?;
            }
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok(Some(e))
}

fn annotations<'a>(c: &mut Cursor<'a>) -> Res<Option<Vec<Annotation<'a>>>> {
    if c.null()? {
        return Ok(None);
    }
    let mut out = Vec::new();
    c.array(|c| {
        let mut a = Annotation::default();
        let mut seen = 0;
        c.object(|c, key| {
            match key {
                "timestamp" => {
                    once(&mut seen, 1)?;
                    a.timestamp = int64(c)?;
                }
                "value" => {
                    once(&mut seen, 2)?;
                    a.value = opt_text(c)?;
                }
                _ => c.skip()?,
            }
            Ok(())
        })?;
        out.push(a);
        Ok(())
    })?;
    Ok(Some(out))
}

/// The `tags` map in input order (`null` = none); string values typed back by key.
fn tags<'a>(c: &mut Cursor<'a>) -> Res<Tags<'a>> {
    let mut out = Vec::new();
    if c.null()? {
        return Ok(Tags(out));
    }
    c.object(|c, key| {
        let value = tag_value(c)?.map(|v| match v {
            TagValue::Str(s) => typed_back(key, s),
            other => typed(other, None),
        });
        out.push(KeyValue {
            key: Some(crate::ingest::otlp::scalar::Text(key.into())),
            value,
        });
        Ok(())
    })?;
    Ok(Tags(out))
}

/// Checks a `tags` map as [`tags`] reads it, keeping nothing.
fn check_tags(c: &mut Cursor<'_>) -> Res<()> {
    if c.null()? {
        return Ok(());
    }
    c.object(|c, _| tag_value(c).map(drop))
}
