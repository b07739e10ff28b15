//! OTLP AnyValue → compact JSON text, flattened log fields, and scalar views for semconv.

use std::fmt::Write;

use super::scalar::Field;
use super::wire::{AnyValue, KeyValue};
use crate::ingest::record::FieldValue;

/// A view of one AnyValue.
pub enum Kind<'v, 'a> {
    Str(&'v str),
    Bool(bool),
    Int(i64),
    Double(f64),
    Array(&'v [AnyValue<'a>]),
    KvList(&'v [KeyValue<'a>]),
    Bytes(&'v str),
    Empty,
}

/// Which of the oneof fields is set (the first one, if a producer set several).
pub fn kind<'v, 'a>(v: &'v AnyValue<'a>) -> Kind<'v, 'a> {
    if let Some(s) = &v.string {
        Kind::Str(s.as_str())
    } else if let Some(b) = v.bool {
        Kind::Bool(b)
    } else if let Field::Valid(i) = v.int {
        Kind::Int(i)
    } else if let Some(d) = v.double.0 {
        Kind::Double(d)
    } else if let Some(a) = &v.array {
        Kind::Array(&a.values)
    } else if let Some(kv) = &v.kvlist {
        Kind::KvList(&kv.values)
    } else if let Some(b) = &v.bytes {
        Kind::Bytes(b.as_str())
    } else {
        Kind::Empty
    }
}

/// The value of an optional AnyValue (absent = empty).
pub fn kind_of<'v, 'a>(v: &'v Option<AnyValue<'a>>) -> Kind<'v, 'a> {
    v.as_ref().map_or(Kind::Empty, kind)
}

/// Appends `attrs` as one JSON object `{key: value}`.
pub fn write_object(out: &mut String, attrs: &[KeyValue<'_>]) {
    write_object_except(out, attrs, |_| false);
}

/// Appends `attrs` as one JSON object, leaving out attribute `i` when `skip(i)`.
pub fn write_object_except(out: &mut String, attrs: &[KeyValue<'_>], skip: impl Fn(usize) -> bool) {
    out.push('{');
    let mut first = true;
    for (i, kv) in attrs.iter().enumerate() {
        if skip(i) {
            continue;
        }
        if !std::mem::take(&mut first) {
            out.push(',');
        }
        write_str(out, kv.key.as_ref().map_or("", |k| k.as_str()));
        out.push(':');
        write_kind(out, kind_of(&kv.value));
    }
    out.push('}');
}

/// Appends one AnyValue as JSON (bytes stay base64 text; non-finite doubles become strings).
pub fn write_kind(out: &mut String, v: Kind<'_, '_>) {
    match v {
        Kind::Str(s) | Kind::Bytes(s) => write_str(out, s),
        Kind::Bool(b) => out.push_str(if b { "true" } else { "false" }),
        Kind::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Kind::Double(d) if d.is_finite() => {
            let _ = write!(out, "{d:?}");
        }
        Kind::Double(d) => write_str(out, &d.to_string()),
        Kind::Array(values) => {
            out.push('[');
            for (i, item) in values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_kind(out, kind(item));
            }
            out.push(']');
        }
        Kind::KvList(kvs) => write_object(out, kvs),
        Kind::Empty => out.push_str("null"),
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    // Bytes, not chars: every character escaped is ASCII, and no byte of a multi-byte
    // UTF-8 sequence is below 0x80, so byte positions are char boundaries here.
    for (i, &b) in s.as_bytes().iter().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            b if b < 0x20 => "",
            _ => continue,
        };
        out.push_str(s.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            let _ = write!(out, "\\u{:04x}", b);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// A value as text: strings as they are, everything else as compact JSON.
pub fn to_text(v: Kind<'_, '_>) -> String {
    match v {
        Kind::Str(s) => s.to_string(),
        other => {
            let mut out = String::new();
            write_kind(&mut out, other);
            out
        }
    }
}

/// Flattens attributes into log fields: nested kvlists become dotted keys, arrays JSON text.
pub fn flatten(prefix: &str, attrs: &[KeyValue<'_>], out: &mut Vec<(String, FieldValue)>) {
    for kv in attrs {
        let key = kv.key.as_ref().map_or("", |k| k.as_str());
        let full = if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        };
        match kind_of(&kv.value) {
            Kind::KvList(inner) => flatten(&full, inner, out),
            Kind::Str(s) | Kind::Bytes(s) => out.push((full, FieldValue::Str(s.to_string()))),
            Kind::Bool(b) => out.push((full, FieldValue::Bool(b))),
            Kind::Int(i) => out.push((full, FieldValue::Int(i))),
            Kind::Double(d) => out.push((full, FieldValue::Float(d))),
            Kind::Empty => {}
            array => out.push((full, FieldValue::Str(to_text(array)))),
        }
    }
}

/// A scalar attribute as a string, for string-typed normalised columns.
pub fn as_str<'v>(v: &'v Option<AnyValue<'_>>) -> Option<&'v str> {
    match kind_of(v) {
        Kind::Str(s) => Some(s),
        _ => None,
    }
}

/// A scalar attribute as an i32: an int, a whole double, or a decimal string ("503").
pub fn as_i32(v: &Option<AnyValue<'_>>) -> Option<i32> {
    match kind_of(v) {
        Kind::Int(i) => i32::try_from(i).ok(),
        Kind::Double(d) if d.fract() == 0.0 && d.abs() <= f64::from(i32::MAX) => Some(d as i32),
        Kind::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::otlp::wire::Resource;

    fn attrs(json: &str) -> Resource<'_> {
        serde_json::from_str(json).unwrap()
    }

    const EVERY_KIND: &str = r#"{"attributes":[
        {"key":"s","value":{"stringValue":"a\"b"}},
        {"key":"b","value":{"boolValue":true}},
        {"key":"i","value":{"intValue":"9007199254740993"}},
        {"key":"d","value":{"doubleValue":1.5}},
        {"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"x"},{"intValue":2}]}}},
        {"key":"kv","value":{"kvlistValue":{"values":[{"key":"in","value":{"boolValue":false}}]}}},
        {"key":"by","value":{"bytesValue":"AQID"}},
        {"key":"e","value":{}},
        {"key":"n","value":{"stringValue":null}},
        {"key":"nv"}
    ]}"#;

    #[test]
    fn every_kind_as_json() {
        let r = attrs(EVERY_KIND);
        let mut out = String::new();
        write_object(&mut out, &r.attributes);
        assert_eq!(
            out,
            r#"{"s":"a\"b","b":true,"i":9007199254740993,"d":1.5,"arr":["x",2],"kv":{"in":false},"by":"AQID","e":null,"n":null,"nv":null}"#
        );
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(parsed.is_object());
    }

    #[test]
    fn flatten_dots_nested_lists() {
        let r = attrs(EVERY_KIND);
        let mut out = Vec::new();
        flatten("", &r.attributes, &mut out);
        assert!(out.contains(&("kv.in".to_string(), FieldValue::Bool(false))));
        assert!(out.contains(&("i".to_string(), FieldValue::Int(9007199254740993))));
        assert!(out.contains(&("arr".to_string(), FieldValue::Str(r#"["x",2]"#.into()))));
        assert!(!out.iter().any(|(k, _)| k == "e" || k == "nv"));
    }

    #[test]
    fn control_chars_are_escaped() {
        let mut out = String::new();
        write_str(&mut out, "a\u{1}é\n");
        assert_eq!(out, "\"a\\u0001é\\n\"");
        out.clear();
        write_str(&mut out, "日本\"語\\\t€");
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, "日本\"語\\\t€");
    }
}
