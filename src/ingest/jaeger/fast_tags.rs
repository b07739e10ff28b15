//! Jaeger tag lists read by the cursor, as [`super::tags::Tags`] and the process tags of
//! [`super::wire::InstanceTags`] read them: the compact spelling `{"key":…,"type":…,
//! "value":…}` (how the query service and the exporters write every tag) taken at once,
//! any other spelling walked key by key, and whatever serde refuses refused.

use std::borrow::Cow;

use super::fast_span::Seen;
use super::tags::{typed, TagValue};
use super::wire::{InstanceTags, INSTANCE_KEYS};
use crate::ingest::cursor::{Bail, Cursor, Num, Res};
use crate::ingest::otlp::fast_values::opt_text;
use crate::ingest::otlp::scalar::Text;
use crate::ingest::otlp::wire::KeyValue;

/// A `{key, type, value}` tag list ([`super::tags::Tags`]): `null` is empty.
pub(super) fn tags<'a>(c: &mut Cursor<'a>, out: &mut Vec<KeyValue<'a>>) -> Res<()> {
    if c.null()? {
        return Ok(());
    }
    c.array(|c| {
        let mark = c.mark();
        let tag = match compact_tag(c) {
            Some(tag) => tag,
            None => {
                c.reset(mark);
                tag(c)?
            }
        };
        out.push(tag);
        Ok(())
    })
}

/// `{"key":"K","type":"T","value":V}` written compactly, as Jaeger's query service and the
/// OTel exporters write tags: read without the general object walk. `None` (the caller
/// goes back and walks it) for any other spelling.
fn compact_tag<'a>(c: &mut Cursor<'a>) -> Option<KeyValue<'a>> {
    let (key, ty) = compact_key_type(c)?;
    let value = tag_value(c).ok()?;
    c.lit(b"}").then(|| KeyValue {
        key: Some(Text(key)),
        value: value.map(|v| typed(v, Some(&ty))),
    })
}

/// The Jaeger tag types, as the query service writes them with the key that follows:
/// matched whole, so the common types cost no string read.
const TYPES: [(&[u8], &str); 5] = [
    (b"\"string\",\"value\":", "string"),
    (b"\"int64\",\"value\":", "int64"),
    (b"\"bool\",\"value\":", "bool"),
    (b"\"float64\",\"value\":", "float64"),
    (b"\"binary\",\"value\":", "binary"),
];

/// The key and type of a compact tag, the cursor left on its value.
fn compact_key_type<'a>(c: &mut Cursor<'a>) -> Option<(Cow<'a, str>, Cow<'a, str>)> {
    if !c.lit(b"{\"key\":") {
        return None;
    }
    let key = c.string().ok()?;
    if !c.lit(b",\"type\":") {
        return None;
    }
    if let Some((_, ty)) = TYPES.iter().find(|(written, _)| c.lit(written)) {
        return Some((key, Cow::Borrowed(ty)));
    }
    let ty = c.string().ok()?;
    c.lit(b",\"value\":").then_some((key, ty))
}

fn tag<'a>(c: &mut Cursor<'a>) -> Res<KeyValue<'a>> {
    let (mut key, mut ty, mut value) = (None, None, None);
    let mut seen = Seen::default();
    c.object(|c, k| {
        match k {
            "key" => key = seen.once(0, c, opt_text)?,
            "type" => ty = seen.once(1, c, opt_text)?,
            "value" => value = seen.once(2, c, tag_value)?,
            _ => c.skip()?,
        }
        Ok(())
    })?;
    let ty = ty.as_ref().map(Text::as_str);
    Ok(KeyValue {
        key,
        value: value.map(|v| typed(v, ty)),
    })
}

/// `Option<TagValue>`: `null` is none; arrays and objects are checked and kept as `Other`.
/// (Zipkin's tag values are read with it too.)
pub(crate) fn tag_value<'a>(c: &mut Cursor<'a>) -> Res<Option<TagValue<'a>>> {
    let value = match c.peek().ok_or(Bail)? {
        b'n' => return c.null().map(|_| None),
        b'"' => TagValue::Str(Text(c.string()?)),
        b't' | b'f' => TagValue::Bool(c.boolean()?),
        b'[' | b'{' => {
            c.skip()?;
            TagValue::Other
        }
        _ => match c.number()? {
            Num::U64(v) => i64::try_from(v).map_or(TagValue::Uint(v), TagValue::Int),
            Num::I64(v) => TagValue::Int(v),
            float => TagValue::Float(float.to_f64()?),
        },
    };
    Ok(Some(value))
}

/// A process's tags, only the instance ones kept (see [`InstanceTags`]): `null` is none.
pub(super) fn instance_tags<'a>(c: &mut Cursor<'a>) -> Res<InstanceTags<'a>> {
    let mut out = InstanceTags::default();
    if c.null()? {
        return Ok(out);
    }
    c.array(|c| {
        let mark = c.mark();
        let (key, value) = match compact_process_tag(c) {
            Some(tag) => tag,
            None => {
                c.reset(mark);
                process_tag(c)?
            }
        };
        let key = key.as_ref().map_or("", Text::as_str);
        if let (Some(rank), Some(text)) = (INSTANCE_KEYS.iter().position(|k| *k == key), value) {
            out.0.push((rank, text));
        }
        Ok(())
    })?;
    Ok(out)
}

/// A process tag in the compact spelling (see [`compact_tag`]).
fn compact_process_tag<'a>(c: &mut Cursor<'a>) -> Option<(Option<Text<'a>>, Option<Text<'a>>)> {
    let (key, _) = compact_key_type(c)?;
    let value = string_or_skip(c).ok()?;
    c.lit(b"}").then_some((Some(Text(key)), value))
}

/// A string value, or any other value checked and dropped.
fn string_or_skip<'a>(c: &mut Cursor<'a>) -> Res<Option<Text<'a>>> {
    if c.peek() == Some(b'"') {
        c.string().map(|s| Some(Text(s)))
    } else {
        c.skip().map(|()| None)
    }
}

/// A process tag's key and, when it is a string, its value (the serde path reads the value
/// raw and keeps it only when it parses as a string).
fn process_tag<'a>(c: &mut Cursor<'a>) -> Res<(Option<Text<'a>>, Option<Text<'a>>)> {
    let (mut key, mut value) = (None, None);
    let mut seen = Seen::default();
    c.object(|c, k| {
        match k {
            "key" => key = seen.once(0, c, opt_text)?,
            "value" => {
                value = seen.once(1, c, string_or_skip)?;
            }
            _ => c.skip()?,
        }
        Ok(())
    })?;
    Ok((key, value))
}
