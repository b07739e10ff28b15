//! Tags of non-OTLP tracers (Jaeger `{key,type,value}` lists, Zipkin string maps) as OTLP
//! [`KeyValue`]s, so the OTLP helpers (attributes JSON, semconv normalisation) read them
//! unchanged. Shared by `jaeger/` and `zipkin/`; [`super::mapped`] reads the tags that stand
//! for OTLP fields.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::ingest::otlp::scalar::{Double, Field, Text};
use crate::ingest::otlp::wire::{AnyValue, KeyValue};

/// A tag value as JSON wrote it, before its declared type is applied.
pub enum TagValue<'a> {
    Str(Text<'a>),
    Int(i64),
    Uint(u64),
    Float(f64),
    Bool(bool),
    /// An array or object (no tracer writes one; kept as the empty value).
    Other,
}

struct TagValueVisitor;

impl<'de> Visitor<'de> for TagValueVisitor {
    type Value = TagValue<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a tag value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(TagValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(TagValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(TagValue::Uint(v), TagValue::Int))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(TagValue::Float(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(TagValue::Str(Text(Cow::Borrowed(v))))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(TagValue::Str(Text(Cow::Owned(v.to_owned()))))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(TagValue::Str(Text(Cow::Owned(v))))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(TagValue::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(TagValue::Other)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for TagValue<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TagValueVisitor)
    }
}

fn string(t: Text<'_>) -> AnyValue<'_> {
    AnyValue {
        string: Some(t),
        ..AnyValue::default()
    }
}

fn int(i: i64) -> AnyValue<'static> {
    AnyValue {
        int: Field::Valid(i),
        ..AnyValue::default()
    }
}

fn double(d: f64) -> AnyValue<'static> {
    AnyValue {
        double: Double(Some(d)),
        ..AnyValue::default()
    }
}

fn boolean(b: bool) -> AnyValue<'static> {
    AnyValue {
        bool: Some(b),
        ..AnyValue::default()
    }
}

/// Applies a Jaeger tag `type` (`string`, `bool`, `int64`, `float64`, `binary`) to a value:
/// an int64 beyond 2^53 written as a string and a bool written `"true"` get their type back.
pub fn typed<'a>(v: TagValue<'a>, ty: Option<&str>) -> AnyValue<'a> {
    match (ty, v) {
        (Some("bool"), TagValue::Str(s)) if matches!(s.as_str(), "true" | "false") => {
            boolean(s.as_str() == "true")
        }
        (Some("int64"), TagValue::Str(s)) => match s.as_str().trim().parse::<i64>() {
            Ok(i) => int(i),
            Err(_) => string(s),
        },
        (Some("float64"), TagValue::Str(s)) => match s.as_str().trim().parse::<f64>() {
            Ok(d) => double(d),
            Err(_) => string(s),
        },
        (Some("float64"), TagValue::Int(i)) => double(i as f64),
        (Some("binary"), TagValue::Str(s)) => AnyValue {
            bytes: Some(s),
            ..AnyValue::default()
        },
        (_, TagValue::Str(s)) => string(s),
        (_, TagValue::Int(i)) => int(i),
        (_, TagValue::Uint(u)) => double(u as f64),
        (_, TagValue::Float(d)) => double(d),
        (_, TagValue::Bool(b)) => boolean(b),
        (_, TagValue::Other) => AnyValue::default(),
    }
}

/// A string tag whose semantic attribute is an integer (`http.status_code: "503"`) as an
/// int; any other string as it is (Zipkin writes every tag as a string).
pub fn typed_back<'a>(key: &str, value: Text<'a>) -> AnyValue<'a> {
    if crate::ingest::otlp::semconv::expects_int(key) {
        if let Ok(i) = value.as_str().trim().parse::<i64>() {
            return int(i);
        }
    }
    string(value)
}

/// A tag built by a reader (a Zipkin endpoint field) rather than read from the input.
pub fn synthetic<'a>(key: &'static str, value: AnyValue<'a>) -> KeyValue<'a> {
    KeyValue {
        key: Some(Text(Cow::Borrowed(key))),
        value: Some(value),
    }
}

/// A string value, for [`synthetic`] tags.
pub fn text_value(t: Text<'_>) -> AnyValue<'_> {
    string(t)
}

/// An integer value, for [`synthetic`] tags.
pub fn int_value(i: i64) -> AnyValue<'static> {
    int(i)
}

/// One Jaeger tag as written: `{key, type, value}`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct JaegerTag<'a> {
    #[serde(borrow)]
    key: Option<Text<'a>>,
    #[serde(borrow, rename = "type")]
    ty: Option<Text<'a>>,
    #[serde(borrow)]
    value: Option<TagValue<'a>>,
}

/// A Jaeger tag list (`tags`, `fields`, process `tags`) read straight into OTLP key-values.
#[derive(Default)]
pub struct Tags<'a>(pub Vec<KeyValue<'a>>);

struct TagsVisitor;

impl<'de> Visitor<'de> for TagsVisitor {
    type Value = Tags<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of {key, type, value} tags")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(8));
        while let Some(tag) = seq.next_element::<JaegerTag<'de>>()? {
            let ty = tag.ty.as_ref().map(Text::as_str);
            let value = tag.value.map(|v| typed(v, ty));
            out.push(KeyValue {
                key: tag.key,
                value,
            });
        }
        Ok(Tags(out))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Tags(Vec::new()))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TagsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::jaeger::mapped::write_kept;
    use crate::ingest::otlp::anyvalue::{kind_of, Kind};

    fn tags(json: &str) -> Vec<KeyValue<'_>> {
        serde_json::from_str::<Tags>(json).unwrap().0
    }

    #[test]
    fn jaeger_types_are_applied() {
        // From jaeger__uimodel-ui_01.json: an int64 beyond 2^53 as a string, binary as base64.
        let t = tags(
            r#"[{"key":"big","type":"int64","value":"9223372036854775222"},
                {"key":"e","type":"bool","value":"true"},
                {"key":"f","type":"float64","value":72},
                {"key":"b","type":"binary","value":"AAAwOQ=="},
                {"key":"s","type":"string","value":"x"},
                {"key":"n","value":null}]"#,
        );
        let mut out = String::new();
        write_kept(&mut out, &t);
        assert_eq!(
            out,
            r#"{"big":9223372036854775222,"e":true,"f":72.0,"b":"AAAwOQ==","s":"x","n":null}"#
        );
        assert!(matches!(kind_of(&t[1].value), Kind::Bool(true)));
    }

    #[test]
    fn zipkin_strings_are_typed_back_for_integer_attributes() {
        let v = typed_back("http.status_code", Text(Cow::Borrowed("503")));
        assert!(matches!(
            crate::ingest::otlp::anyvalue::kind(&v),
            Kind::Int(503)
        ));
        let v = typed_back("request_size", Text(Cow::Borrowed("0")));
        assert!(matches!(
            crate::ingest::otlp::anyvalue::kind(&v),
            Kind::Str("0")
        ));
    }
}
