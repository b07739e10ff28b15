//! The OTLP/JSON wire types of [`super::wire`] read with the [`Cursor`] instead of serde:
//! scalars, attributes and their values, resource and scope (spans: [`super::fast_span`]). Each
//! reader fills the same struct the derived `Deserialize` would (same key names and
//! aliases, same leniency), and gives up where the derive would fail (a duplicate field, a
//! `null` list, a wrong type), so serde can decide.

use crate::ingest::cursor::{Bail, Cursor, Num, Res};

use super::scalar::{enum_from_f64, enum_from_int, enum_from_text, Double, Field, Int64, Text};
use super::wire::{AnyValue, KeyValue, KeyValues, Resource, Scope, Values};

/// Marks field `bit` as seen; a second occurrence (under any alias) gives up.
pub(crate) fn once(seen: &mut u32, bit: u32) -> Res<()> {
    if *seen & bit != 0 {
        return Err(Bail);
    }
    *seen |= bit;
    Ok(())
}

/// An optional string (`null` = absent).
pub(crate) fn opt_text<'a>(c: &mut Cursor<'a>) -> Res<Option<Text<'a>>> {
    if c.null()? {
        return Ok(None);
    }
    c.string().map(|s| Some(Text(s)))
}

/// An int64 written as a decimal string or a JSON number (`null` = missing).
pub(crate) fn int64(c: &mut Cursor<'_>) -> Res<Int64> {
    match c.peek() {
        Some(b'"') => Ok(Int64::from_text(&c.string()?)),
        Some(b'n') => c.null().map(|_| Field::Missing),
        _ => Ok(match c.number()? {
            Num::U64(v) => Int64::from_u64(v),
            Num::I64(v) => Field::Valid(v),
            float => Int64::from_f64(float.to_f64()?),
        }),
    }
}

/// A double written as a JSON number or a string (`"NaN"`).
fn double(c: &mut Cursor<'_>) -> Res<Double> {
    match c.peek() {
        Some(b'"') => Ok(Double::from_text(&c.string()?)),
        Some(b'n') => c.null().map(|_| Double(None)),
        _ => Ok(Double(Some(c.number()?.to_f64()?))),
    }
}

/// An enum written as an integer or as its proto name.
pub(super) fn enum_field(c: &mut Cursor<'_>, by_name: fn(&str) -> Option<i32>) -> Res<Field<i32>> {
    match c.peek() {
        Some(b'"') => Ok(enum_from_text(&c.string()?, by_name)),
        Some(b'n') => c.null().map(|_| Field::Missing),
        _ => Ok(match c.number()? {
            Num::U64(v) => i32::try_from(v).map_or(Field::Invalid, Field::Valid),
            Num::I64(v) => enum_from_int(v),
            float => enum_from_f64(float.to_f64()?),
        }),
    }
}

/// A list of `{key, value}` attributes, appended to `out`.
pub(super) fn attributes<'a>(c: &mut Cursor<'a>, out: &mut Vec<KeyValue<'a>>) -> Res<()> {
    c.array(|c| {
        let mark = c.mark();
        let kv = match compact_key_value(c) {
            Some(kv) => kv,
            None => {
                c.reset(mark);
                key_value(c)?
            }
        };
        out.push(kv);
        Ok(())
    })
}

/// `{"key":"K","value":{"stringValue":"V"}}` (or `intValue`, `boolValue`, `doubleValue`)
/// written compactly, as nearly every exporter does: read without the general object walk.
/// `None` (the caller goes back and walks it) for any other spelling.
fn compact_key_value<'a>(c: &mut Cursor<'a>) -> Option<KeyValue<'a>> {
    if !c.lit(b"{\"key\":") {
        return None;
    }
    let key = c.string().ok()?;
    if !c.lit(b",\"value\":{\"") {
        return None;
    }
    let mut value = AnyValue::default();
    if c.lit(b"stringValue\":") {
        value.string = Some(Text(c.string().ok()?));
    } else if c.lit(b"intValue\":") {
        value.int = int64(c).ok()?;
    } else if c.lit(b"boolValue\":") {
        value.bool = Some(c.boolean().ok()?);
    } else if c.lit(b"doubleValue\":") {
        value.double = double(c).ok()?;
    } else {
        return None;
    }
    c.lit(b"}}").then_some(KeyValue {
        key: Some(Text(key)),
        value: Some(value),
    })
}

pub(super) fn attribute_list<'a>(c: &mut Cursor<'a>) -> Res<Vec<KeyValue<'a>>> {
    let mut out = Vec::new();
    attributes(c, &mut out)?;
    Ok(out)
}

fn key_value<'a>(c: &mut Cursor<'a>) -> Res<KeyValue<'a>> {
    let mut kv = KeyValue::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "key" => {
            once(&mut seen, 1)?;
            kv.key = opt_text(c)?;
            Ok(())
        }
        "value" => {
            once(&mut seen, 2)?;
            kv.value = opt_any_value(c)?;
            Ok(())
        }
        _ => c.skip(),
    })?;
    Ok(kv)
}

fn opt_any_value<'a>(c: &mut Cursor<'a>) -> Res<Option<AnyValue<'a>>> {
    if c.null()? {
        return Ok(None);
    }
    any_value(c).map(Some)
}

fn any_value<'a>(c: &mut Cursor<'a>) -> Res<AnyValue<'a>> {
    let mut v = AnyValue::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "stringValue" | "string_value" => {
            once(&mut seen, 1)?;
            v.string = opt_text(c)?;
            Ok(())
        }
        "boolValue" | "bool_value" => {
            once(&mut seen, 2)?;
            v.bool = if c.null()? { None } else { Some(c.boolean()?) };
            Ok(())
        }
        "intValue" | "int_value" => {
            once(&mut seen, 4)?;
            v.int = int64(c)?;
            Ok(())
        }
        "doubleValue" | "double_value" => {
            once(&mut seen, 8)?;
            v.double = double(c)?;
            Ok(())
        }
        _ => rare_value(c, key, &mut v, &mut seen),
    })?;
    Ok(v)
}

/// The rarer `AnyValue` kinds: arrays, key-value lists, bytes; other keys are skipped.
fn rare_value<'a>(c: &mut Cursor<'a>, key: &str, v: &mut AnyValue<'a>, seen: &mut u32) -> Res<()> {
    match key {
        "arrayValue" | "array_value" => {
            once(seen, 16)?;
            v.array = if c.null()? {
                None
            } else {
                Some(Box::new(values(c)?))
            };
        }
        "kvlistValue" | "kvlist_value" => {
            once(seen, 32)?;
            v.kvlist = if c.null()? {
                None
            } else {
                Some(Box::new(key_values(c)?))
            };
        }
        "bytesValue" | "bytes_value" => {
            once(seen, 64)?;
            v.bytes = opt_text(c)?;
        }
        _ => c.skip()?,
    }
    Ok(())
}

/// `{values: [AnyValue…]}`.
fn values<'a>(c: &mut Cursor<'a>) -> Res<Values<'a>> {
    let mut out = Values::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "values" => {
            once(&mut seen, 1)?;
            c.array(|c| {
                out.values.push(any_value(c)?);
                Ok(())
            })
        }
        _ => c.skip(),
    })?;
    Ok(out)
}

/// `{values: [KeyValue…]}`.
fn key_values<'a>(c: &mut Cursor<'a>) -> Res<KeyValues<'a>> {
    let mut out = KeyValues::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "values" => {
            once(&mut seen, 1)?;
            attributes(c, &mut out.values)
        }
        _ => c.skip(),
    })?;
    Ok(out)
}

/// An optional `{attributes}` resource.
pub(super) fn opt_resource<'a>(c: &mut Cursor<'a>) -> Res<Option<Resource<'a>>> {
    if c.null()? {
        return Ok(None);
    }
    let mut r = Resource::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "attributes" => {
            once(&mut seen, 1)?;
            attributes(c, &mut r.attributes)
        }
        _ => c.skip(),
    })?;
    Ok(Some(r))
}

/// An optional `{name, attributes}` scope.
pub(super) fn opt_scope<'a>(c: &mut Cursor<'a>) -> Res<Option<Scope<'a>>> {
    if c.null()? {
        return Ok(None);
    }
    let mut s = Scope::default();
    let mut seen = 0;
    c.object(|c, key| match key {
        "name" => {
            once(&mut seen, 1)?;
            s.name = opt_text(c)?;
            Ok(())
        }
        "attributes" => {
            once(&mut seen, 2)?;
            attributes(c, &mut s.attributes)
        }
        _ => c.skip(),
    })?;
    Ok(Some(s))
}
