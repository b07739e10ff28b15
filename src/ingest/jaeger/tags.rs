//! Tags of non-OTLP tracers (Jaeger `{key,type,value}` lists, Zipkin string maps) as OTLP
//! [`KeyValue`]s, so the OTLP helpers (attributes JSON, semconv normalisation) read them
//! unchanged; and the tags that stand for an OTLP field (kind, status, scope), read out of
//! the list and left out of the `attributes` column. Shared by `jaeger/` and `zipkin/`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::ingest::otlp::anyvalue::{as_str, kind_of, write_kind, write_str, Kind};
use crate::ingest::otlp::scalar::{Double, Field, Text};
use crate::ingest::otlp::wire::{AnyValue, KeyValue};
use crate::model::columns::{kind, status};

/// Tags that OpenTracing bridges and the OTel Jaeger/Zipkin exporters write for what OTLP
/// has fields for; they become `kind`, `status_code`, `status_message` and `scope`.
const MAPPED_TAGS: [&str; 8] = [
    "span.kind",
    "error",
    "otel.status_code",
    "otel.status_description",
    "otel.scope.name",
    "otel.scope.version",
    "otel.library.name",
    "otel.library.version",
];

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

fn key_of<'v>(kv: &'v KeyValue<'_>) -> &'v str {
    kv.key.as_ref().map_or("", Text::as_str)
}

/// True for a tag that stands for an OTLP field (see [`MAPPED_TAGS`]).
pub fn is_mapped(key: &str) -> bool {
    MAPPED_TAGS.contains(&key)
}

/// Appends the tags that are not [mapped](is_mapped) as one JSON object.
pub fn write_kept(out: &mut String, attrs: &[KeyValue<'_>]) {
    write_object_where(out, attrs, |key| !is_mapped(key));
}

/// Appends the tags whose key passes `keep` as one JSON object `{key: value}`.
pub fn write_object_where(out: &mut String, attrs: &[KeyValue<'_>], keep: impl Fn(&str) -> bool) {
    out.push('{');
    let mut first = true;
    for kv in attrs.iter().filter(|kv| keep(key_of(kv))) {
        if !first {
            out.push(',');
        }
        first = false;
        write_str(out, key_of(kv));
        out.push(':');
        write_kind(out, kind_of(&kv.value));
    }
    out.push('}');
}

/// What the mapped tags of one span say.
#[derive(Default)]
pub struct Mapped<'v> {
    /// `span.kind` as written (`server`, `client`, …).
    pub span_kind: Option<&'v str>,
    /// `otel.scope.name`, else the older `otel.library.name`.
    pub scope: Option<&'v str>,
    otel_status: Option<&'v str>,
    description: Option<&'v str>,
    /// The `error` tag: whether it means an error, and its text when it is a message.
    error: Option<(bool, Option<&'v str>)>,
}

impl<'v> Mapped<'v> {
    /// Reads the mapped tags (the last of a repeated key wins, as in a map).
    pub fn read(attrs: &'v [KeyValue<'_>]) -> Self {
        let mut m = Mapped::default();
        let mut library = None;
        for kv in attrs {
            let text = as_str(&kv.value).filter(|s| !s.is_empty());
            match key_of(kv) {
                "span.kind" => m.span_kind = text,
                "otel.scope.name" => m.scope = text,
                "otel.library.name" => library = text,
                "otel.status_code" => m.otel_status = text,
                "otel.status_description" => m.description = text,
                "error" => m.error = Some(error_tag(kind_of(&kv.value))),
                _ => {}
            }
        }
        m.scope = m.scope.or(library);
        m
    }

    /// The OTLP status: `otel.status_code` when written, else an `error` tag; the message is
    /// `otel.status_description`, else the text of an `error` tag that holds a message.
    pub fn status(&self) -> (i32, Option<&'v str>) {
        let from_error = self
            .error
            .and_then(|(is_error, text)| is_error.then_some(text));
        let code = match self.otel_status.map(str::to_ascii_uppercase).as_deref() {
            Some("ERROR") => status::ERROR,
            Some("OK") => status::OK,
            Some(_) => status::UNSET,
            None if from_error.is_some() => status::ERROR,
            None => status::UNSET,
        };
        let message = self.description.or(from_error.flatten());
        (code, message.filter(|_| code != status::UNSET))
    }
}

/// `error=true` / `"true"` / `""` mean an error; `false` / `"false"` do not; any other text
/// is an error message (Zipkin: "the error tag holds the message").
fn error_tag<'v>(value: Kind<'v, '_>) -> (bool, Option<&'v str>) {
    match value {
        Kind::Bool(b) => (b, None),
        Kind::Str("false") => (false, None),
        Kind::Str("true" | "") => (true, None),
        Kind::Str(message) => (true, Some(message)),
        _ => (true, None),
    }
}

/// The OTLP kind of a `span.kind` tag (OpenTracing's values, any case); `None` when unknown.
pub fn kind_from_tag(text: &str) -> Option<i32> {
    Some(match text.to_ascii_lowercase().as_str() {
        "client" => kind::CLIENT,
        "server" => kind::SERVER,
        "producer" => kind::PRODUCER,
        "consumer" => kind::CONSUMER,
        "internal" => kind::INTERNAL,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn status_prefers_otel_status_code_then_error_tag() {
        let status_of = |json: &str| {
            let t = tags(json);
            let (code, msg) = Mapped::read(&t).status();
            (code, msg.map(String::from))
        };
        assert_eq!(
            status_of(r#"[{"key":"error","type":"bool","value":true}]"#),
            (2, None)
        );
        assert_eq!(
            status_of(r#"[{"key":"error","value":"no permission"}]"#),
            (2, Some("no permission".into()))
        );
        assert_eq!(status_of(r#"[{"key":"error","value":"false"}]"#), (0, None));
        assert_eq!(
            status_of(
                r#"[{"key":"otel.status_code","value":"ERROR"},
                    {"key":"otel.status_description","value":"Something failed"}]"#
            ),
            (2, Some("Something failed".into()))
        );
        assert_eq!(
            status_of(r#"[{"key":"otel.status_code","value":"OK"}]"#),
            (1, None)
        );
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

    #[test]
    fn span_kind_tags_map_to_otlp_kinds() {
        assert_eq!(kind_from_tag("SERVER"), Some(kind::SERVER));
        assert_eq!(kind_from_tag("producer"), Some(kind::PRODUCER));
        assert_eq!(kind_from_tag("rpc"), None);
    }
}
