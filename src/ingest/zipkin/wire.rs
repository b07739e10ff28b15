//! Zipkin v2 JSON wire types (openzipkin/zipkin-api zipkin2-api.yaml), borrowed from the
//! input bytes. Unknown keys (`debug`, …) are ignored; `null` reads as absent.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use crate::ingest::jaeger::tags::{typed, typed_back, TagValue};
use crate::ingest::otlp::scalar::{Int64, Text};
use crate::ingest::otlp::wire::KeyValue;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Span<'a> {
    #[serde(borrow, rename = "traceId")]
    pub trace_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub id: Option<Text<'a>>,
    #[serde(borrow, rename = "parentId")]
    pub parent_id: Option<Text<'a>>,
    /// `CLIENT`, `SERVER`, `PRODUCER`, `CONSUMER`; absent = internal.
    #[serde(borrow)]
    pub kind: Option<Text<'a>>,
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    /// µs since the epoch.
    pub timestamp: Int64,
    /// µs.
    pub duration: Int64,
    #[serde(borrow, rename = "localEndpoint")]
    pub local: Option<Endpoint<'a>>,
    #[serde(borrow, rename = "remoteEndpoint")]
    pub remote: Option<Endpoint<'a>>,
    #[serde(borrow)]
    pub annotations: Option<Vec<Annotation<'a>>>,
    #[serde(borrow)]
    pub tags: Tags<'a>,
    /// A server span that reuses its client's span id (B3 single-id propagation).
    pub shared: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Endpoint<'a> {
    #[serde(borrow, rename = "serviceName")]
    pub service_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub ipv4: Option<Text<'a>>,
    #[serde(borrow)]
    pub ipv6: Option<Text<'a>>,
    pub port: Int64,
}

fn non_empty<'t, 'a>(t: &'t Option<Text<'a>>) -> Option<&'t Text<'a>> {
    t.as_ref().filter(|t| !t.as_str().is_empty())
}

impl<'a> Endpoint<'a> {
    /// The service name, when written and not empty.
    pub fn service_text(&self) -> Option<&Text<'a>> {
        non_empty(&self.service_name)
    }

    /// The IPv4 address, else the IPv6 one.
    pub fn address_text(&self) -> Option<&Text<'a>> {
        non_empty(&self.ipv4).or_else(|| non_empty(&self.ipv6))
    }

    pub fn service(&self) -> Option<&str> {
        self.service_text().map(Text::as_str)
    }

    pub fn address(&self) -> Option<&str> {
        self.address_text().map(Text::as_str)
    }

    /// The port, when one above 0 is written.
    pub fn port(&self) -> Option<i64> {
        self.port.valid().filter(|p| *p > 0)
    }
}

/// A timestamped annotation: becomes a span event named by its value.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Annotation<'a> {
    /// µs since the epoch.
    pub timestamp: Int64,
    #[serde(borrow)]
    pub value: Option<Text<'a>>,
}

/// Zipkin `tags` (a string map) as OTLP key-values in input order; strings whose semantic
/// attribute is an integer (`http.status_code`) are typed back.
#[derive(Default)]
pub struct Tags<'a>(pub Vec<KeyValue<'a>>);

struct TagsVisitor;

impl<'de> Visitor<'de> for TagsVisitor {
    type Value = Tags<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a map of string tags")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(8));
        while let Some((key, value)) = map.next_entry::<Text<'de>, Option<TagValue<'de>>>()? {
            let value = value.map(|v| match v {
                TagValue::Str(s) => typed_back(key.as_str(), s),
                other => typed(other, None),
            });
            out.push(KeyValue {
                key: Some(key),
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
