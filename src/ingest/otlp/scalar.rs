//! Lenient scalar decoders for OTLP/JSON wire fields: borrowed text, 64-bit integers written
//! as strings or numbers (never through `f64`), doubles, and enums written as ints or names.
//!
//! A value of the right JSON kind but a bad content (`"abc"` for nanos, an unknown enum name)
//! decodes to `Invalid` so the walker can skip one span instead of failing a whole line.

use std::borrow::Cow;
use std::fmt;
use std::num::IntErrorKind;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Largest integer an `f64` holds exactly (2^53): a JSON number beyond it is not trusted.
const F64_EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A string borrowed from the input when it has no escapes, owned otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text<'a>(pub Cow<'a, str>);

impl Text<'_> {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Text<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Text(Cow::Owned(v)))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

/// A field that may be absent, well-formed, or present with an unusable value: not a number
/// of the right kind (`Invalid`), or one beyond what the type holds (`OutOfRange`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum Field<T> {
    #[default]
    Missing,
    Valid(T),
    Invalid,
    OutOfRange,
}

impl<T: Copy> Field<T> {
    pub fn valid(self) -> Option<T> {
        match self {
            Field::Valid(v) => Some(v),
            _ => None,
        }
    }
}

/// An OTLP int64 / fixed64: a decimal string or a JSON integer.
pub type Int64 = Field<i64>;

struct Int64Visitor;

impl<'de> Visitor<'de> for Int64Visitor {
    type Value = Int64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer or a decimal string")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Int64, E> {
        Ok(Field::Valid(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Int64, E> {
        Ok(Int64::from_u64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Int64, E> {
        Ok(Int64::from_f64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Int64, E> {
        Ok(Int64::from_text(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Int64, E> {
        Ok(Field::Missing)
    }
}

impl Field<i64> {
    /// A JSON integer beyond `i64` is unusable, not wrapped.
    pub fn from_u64(v: u64) -> Self {
        i64::try_from(v).map_or(Field::OutOfRange, Field::Valid)
    }
    /// A JSON float is taken only when it is an exact whole number.
    pub fn from_f64(v: f64) -> Self {
        match exact_integer(v) {
            Some(i) => Field::Valid(i),
            None if v.is_finite() && v.fract() == 0.0 => Field::OutOfRange,
            None if v.is_infinite() => Field::OutOfRange,
            None => Field::Invalid,
        }
    }
    /// A decimal string (proto3 JSON's int64), surrounding spaces allowed.
    pub fn from_text(v: &str) -> Self {
        let v = v.trim();
        match v.parse::<i64>() {
            Ok(i) => Field::Valid(i),
            Err(e)
                if matches!(
                    e.kind(),
                    IntErrorKind::PosOverflow | IntErrorKind::NegOverflow
                ) =>
            {
                Field::OutOfRange
            }
            Err(_) => Field::Invalid,
        }
    }
}

/// A float that is a whole number small enough to be exact (e.g. `1.0e3`), as an integer.
fn exact_integer(v: f64) -> Option<i64> {
    let whole = v.is_finite() && v.fract() == 0.0 && v.abs() <= F64_EXACT_LIMIT;
    whole.then_some(v as i64)
}

impl<'de> Deserialize<'de> for Int64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Int64Visitor)
    }
}

/// An OTLP double: a JSON number, or a string (`"NaN"`, `"Infinity"`, `"1.5"`) as protojson
/// writes non-finite values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Double(pub Option<f64>);

impl Double {
    /// `"NaN"`, `"Infinity"`, `"1.5"`: anything else is no value.
    pub fn from_text(v: &str) -> Self {
        Double(v.trim().parse::<f64>().ok())
    }
}

struct DoubleVisitor;

impl<'de> Visitor<'de> for DoubleVisitor {
    type Value = Double;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Double, E> {
        Ok(Double(Some(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Double, E> {
        Ok(Double(Some(v as f64)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Double, E> {
        Ok(Double(Some(v as f64)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Double, E> {
        Ok(Double::from_text(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Double, E> {
        Ok(Double(None))
    }
}

impl<'de> Deserialize<'de> for Double {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(DoubleVisitor)
    }
}

/// An enum written as a JSON integer.
pub(crate) fn enum_from_int(v: i64) -> Field<i32> {
    i32::try_from(v).map_or(Field::Invalid, Field::Valid)
}

/// An enum written as a whole JSON float (`2.0`).
pub(crate) fn enum_from_f64(v: f64) -> Field<i32> {
    let int = exact_integer(v).and_then(|i| i32::try_from(i).ok());
    int.map_or(Field::Invalid, Field::Valid)
}

/// An enum written as a string: a number, or its name as `by_name` knows it.
pub(crate) fn enum_from_text(v: &str, by_name: fn(&str) -> Option<i32>) -> Field<i32> {
    let parsed = v.parse::<i32>().ok().or_else(|| by_name(v));
    parsed.map_or(Field::Invalid, Field::Valid)
}

/// Decodes an enum written as an integer or as its proto name.
struct EnumVisitor {
    by_name: fn(&str) -> Option<i32>,
}

impl<'de> Visitor<'de> for EnumVisitor {
    type Value = Field<i32>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an enum number or name")
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(enum_from_int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i32::try_from(v).map_or(Field::Invalid, Field::Valid))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(enum_from_f64(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(enum_from_text(v, self.by_name))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Missing)
    }
}

macro_rules! enum_field {
    ($(#[$doc:meta])* $name:ident, $lookup:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq)]
        pub struct $name(pub Field<i32>);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_any(EnumVisitor { by_name: $lookup }).map($name)
            }
        }
    };
}

enum_field!(
    /// `Span.kind`: 0–5 or `SPAN_KIND_*`.
    KindField,
    kind_by_name
);
enum_field!(
    /// `Status.code`: 0–2 or `STATUS_CODE_*`.
    StatusField,
    status_by_name
);
enum_field!(
    /// `LogRecord.severityNumber`: 0–24 or `SEVERITY_NUMBER_*`.
    SeverityField,
    severity_by_name
);

pub(crate) fn kind_by_name(name: &str) -> Option<i32> {
    const NAMES: [&str; 6] = [
        "UNSPECIFIED",
        "INTERNAL",
        "SERVER",
        "CLIENT",
        "PRODUCER",
        "CONSUMER",
    ];
    let bare = name.strip_prefix("SPAN_KIND_").unwrap_or(name);
    NAMES.iter().position(|n| *n == bare).map(|i| i as i32)
}

pub(crate) fn status_by_name(name: &str) -> Option<i32> {
    match name.strip_prefix("STATUS_CODE_").unwrap_or(name) {
        "UNSET" => Some(0),
        "OK" => Some(1),
        "ERROR" => Some(2),
        _ => None,
    }
}

/// `SEVERITY_NUMBER_INFO3` → 11: each level has four steps, the bare name being the first.
fn severity_by_name(name: &str) -> Option<i32> {
    const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    let bare = name.strip_prefix("SEVERITY_NUMBER_").unwrap_or(name);
    if bare == "UNSPECIFIED" {
        return Some(0);
    }
    let (level, rest) = LEVELS
        .iter()
        .enumerate()
        .find_map(|(i, l)| bare.strip_prefix(l).map(|rest| (i, rest)))?;
    let step = match rest {
        "" => 1,
        s => s.parse::<i32>().ok().filter(|n| (2..=4).contains(n))?,
    };
    Some(level as i32 * 4 + step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        n: Int64,
        #[serde(default)]
        k: KindField,
        #[serde(default)]
        s: SeverityField,
    }

    fn probe(json: &str) -> Probe {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn int64_is_exact_as_string_or_number() {
        assert_eq!(
            probe(r#"{"n":"2209072510808241446"}"#).n,
            Field::Valid(2209072510808241446)
        );
        assert_eq!(
            probe(r#"{"n":9007199254740993}"#).n,
            Field::Valid(9007199254740993)
        );
        assert_eq!(probe(r#"{"n":"abc"}"#).n, Field::Invalid);
        assert_eq!(
            probe(r#"{"n":"99999999999999999999999"}"#).n,
            Field::OutOfRange
        );
        assert_eq!(probe(r#"{"n":18446744073709551615}"#).n, Field::OutOfRange);
        assert_eq!(probe(r#"{"n":1e300}"#).n, Field::OutOfRange);
        assert_eq!(probe(r#"{"n":1.5}"#).n, Field::Invalid);
        assert_eq!(probe(r#"{"n":null}"#).n, Field::Missing);
        assert_eq!(probe("{}").n, Field::Missing);
    }

    #[test]
    fn enums_as_ints_or_names() {
        assert_eq!(probe(r#"{"k":"SPAN_KIND_SERVER"}"#).k.0, Field::Valid(2));
        assert_eq!(probe(r#"{"k":3}"#).k.0, Field::Valid(3));
        assert_eq!(probe(r#"{"k":"NOPE"}"#).k.0, Field::Invalid);
        assert_eq!(
            probe(r#"{"s":"SEVERITY_NUMBER_INFO3"}"#).s.0,
            Field::Valid(11)
        );
        assert_eq!(
            probe(r#"{"s":"SEVERITY_NUMBER_ERROR"}"#).s.0,
            Field::Valid(17)
        );
        assert_eq!(status_by_name("STATUS_CODE_ERROR"), Some(2));
    }

    #[test]
    fn text_borrows_without_escapes() {
        let t: Text = serde_json::from_str(r#""plain""#).unwrap();
        assert!(matches!(t.0, Cow::Borrowed("plain")));
        let t: Text = serde_json::from_str(r#""a\nb""#).unwrap();
        assert_eq!(t.as_str(), "a\nb");
    }
}
