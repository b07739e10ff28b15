//! One JSON log line read into a flat, mostly borrowed list of `(dotted key, scalar)` pairs.
//!
//! Nested objects are flattened with dots as they are read (`{"log":{"level":"x"}}` gives
//! `log.level`), arrays are kept as JSON text, nulls are dropped. Keys and strings borrow from
//! the line when they hold no escapes, so the common line allocates only the vector.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

/// A scalar value of a log field.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    /// Only for integers above `i64::MAX` (e.g. a Datadog 64-bit id as a JSON number).
    UInt(u64),
    Float(f64),
    Bool(bool),
    /// An array, as compact JSON text.
    Json(String),
}

/// Room reserved per line: most log lines have fewer fields, so one allocation serves.
const FIELDS_GUESS: usize = 16;

/// The fields of one line in the order written.
pub(crate) type Flat<'a> = Vec<(Cow<'a, str>, Val<'a>)>;

/// Parses one line. `None` when it is not exactly one JSON object (invalid, truncated, an
/// array, a scalar, nested deeper than serde_json's recursion limit, or trailing garbage).
pub(crate) fn parse_object(line: &[u8]) -> Option<Flat<'_>> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let mut out = Flat::with_capacity(FIELDS_GUESS);
    let is_object = de.deserialize_any(TopVisitor { out: &mut out }).ok()?;
    de.end().ok()?;
    is_object.then_some(out)
}

/// Accepts the top-level value; tells whether it was an object.
struct TopVisitor<'o, 'a> {
    out: &'o mut Flat<'a>,
}

impl<'de, 'o> Visitor<'de> for TopVisitor<'o, 'de> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<bool, A::Error> {
        flatten_map(map, None, self.out)?;
        Ok(true)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<bool, A::Error> {
        array_to_json(seq).map(|_| false)
    }

    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_str<E>(self, _: &str) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
}

/// Reads every entry of an object into `out`, keys prefixed with `prefix.`.
fn flatten_map<'de, A: MapAccess<'de>>(
    mut map: A,
    prefix: Option<&str>,
    out: &mut Flat<'de>,
) -> Result<(), A::Error> {
    while let Some(key) = map.next_key_seed(KeySeed)? {
        let key = match prefix {
            None => key,
            Some(p) => Cow::Owned(format!("{p}.{key}")),
        };
        map.next_value_seed(ValueSeed {
            key,
            out: &mut *out,
        })?;
    }
    Ok(())
}

/// Serialises an array back to compact JSON text.
fn array_to_json<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<String, A::Error> {
    let mut items = Vec::new();
    while let Some(v) = seq.next_element::<serde_json::Value>()? {
        items.push(v);
    }
    Ok(serde_json::Value::Array(items).to_string())
}

/// Reads a key, borrowing it when it holds no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
}

/// Reads the value of `key`, pushing scalars and recursing into objects.
struct ValueSeed<'o, 'a> {
    key: Cow<'a, str>,
    out: &'o mut Flat<'a>,
}

impl<'de, 'o> DeserializeSeed<'de> for ValueSeed<'o, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'o> ValueSeed<'o, 'de> {
    fn push<E>(self, v: Val<'de>) -> Result<(), E> {
        self.out.push((self.key, v));
        Ok(())
    }
}

impl<'de, 'o> Visitor<'de> for ValueSeed<'o, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        flatten_map(map, Some(&self.key), self.out)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let text = array_to_json(seq)?;
        self.push(Val::Json(text))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<(), E> {
        self.push(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.push(Val::Str(Cow::Owned(v.to_string())))
    }
    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.push(Val::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.push(i64::try_from(v).map_or(Val::UInt(v), Val::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.push(Val::Float(v))
    }
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.push(Val::Bool(v))
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(line: &str) -> Vec<String> {
        parse_object(line.as_bytes())
            .unwrap()
            .into_iter()
            .map(|(k, _)| k.into_owned())
            .collect()
    }

    #[test]
    fn nested_objects_flatten_with_dots_in_order() {
        let line = r#"{"@timestamp":"2024-06-01T12:00:00Z","log":{"level":"info","origin":{"file":{"line":7}}},"message":"hi","tags":["a",1],"gone":null}"#;
        assert_eq!(
            keys(line),
            [
                "@timestamp",
                "log.level",
                "log.origin.file.line",
                "message",
                "tags"
            ]
        );
        let flat = parse_object(line.as_bytes()).unwrap();
        assert_eq!(flat[2].1, Val::Int(7));
        assert_eq!(flat[4].1, Val::Json(r#"["a",1]"#.into()));
    }

    #[test]
    fn strings_borrow_unless_escaped_and_big_ints_stay_exact() {
        let line = br#"{"a":"plain","b":"tab\tthere","c":18446744073709551615,"d":1.5,"e":true}"#;
        let flat = parse_object(line).unwrap();
        assert!(matches!(flat[0].1, Val::Str(Cow::Borrowed("plain"))));
        assert_eq!(flat[1].1, Val::Str(Cow::Owned("tab\tthere".into())));
        assert_eq!(flat[2].1, Val::UInt(u64::MAX));
        assert_eq!(flat[3].1, Val::Float(1.5));
        assert_eq!(flat[4].1, Val::Bool(true));
    }

    #[test]
    fn non_objects_and_broken_lines_are_none() {
        for bad in [
            &b"[1,2]"[..],
            b"\"text\"",
            b"42",
            b"{\"a\":1",
            b"{\"a\":1} trailing",
            b"{\"a\":\"\xff\xfe\"}",
            b"",
        ] {
            assert!(
                parse_object(bad).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn deep_nesting_is_rejected_not_a_stack_overflow() {
        let deep = format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        assert!(parse_object(deep.as_bytes()).is_none());
        let deep_array = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_object(deep_array.as_bytes()).is_none());
    }
}
