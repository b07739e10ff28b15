//! Jaeger JSON wire types (the query service's / UI's model, jaeger:internal/uimodel),
//! borrowed from the input bytes. Unknown keys (`flags`, `warnings`, `_comment`, …) are
//! ignored; Go's `null` for an empty list reads as empty.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;

use super::tags::Tags;
use crate::ingest::otlp::scalar::{Int64, Text};

/// Process id → process, per trace, in document order (a trace has a handful: a list
/// searched in place beats hashing every span's id, and keeps the ids borrowed).
#[derive(Default)]
pub struct Processes<'a>(pub Vec<(Text<'a>, Process<'a>)>);

impl<'a> Processes<'a> {
    /// The process with id `id` (the first, should one be listed twice).
    pub fn get(&self, id: &str) -> Option<&Process<'a>> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == id)
            .map(|(_, p)| p)
    }
}

struct ProcessesVisitor;

impl<'de> serde::de::Visitor<'de> for ProcessesVisitor {
    type Value = Processes<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map of process id to process")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(entry) = map.next_entry::<Text<'de>, Process<'de>>()? {
            out.push(entry);
        }
        Ok(Processes(out))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(Processes::default())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Processes<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ProcessesVisitor)
    }
}

/// The top level of a Jaeger document that is one trace object `{traceID, spans,
/// processes, warnings}` (the envelope is found by `scan.rs`). Spans are left raw so they
/// parse in parallel.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Doc<'a> {
    #[serde(borrow)]
    pub spans: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    pub processes: Option<Processes<'a>>,
    pub errors: Option<Vec<IgnoredAny>>,
}

/// One trace of a `data` array, its spans parsed at once (the fast path; see
/// `envelope.rs`).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TypedTrace<'a> {
    #[serde(borrow)]
    pub spans: Option<Vec<Span<'a>>>,
    #[serde(borrow)]
    pub processes: Option<Processes<'a>>,
}

/// One trace of a `data` array, its spans left raw (each parsed on its own).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Trace<'a> {
    #[serde(borrow)]
    pub spans: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    pub processes: Option<Processes<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Process<'a> {
    #[serde(borrow, rename = "serviceName")]
    pub service_name: Option<Text<'a>>,
    #[serde(borrow)]
    pub tags: InstanceTags<'a>,
}

/// Process tags that can name the instance, in order of preference: OTel resource
/// attributes, then the Jaeger clients' `hostname` and `ip`.
pub const INSTANCE_KEYS: [&str; 5] = [
    "service.instance.id",
    "k8s.pod.name",
    "host.name",
    "hostname",
    "ip",
];

/// A process's tags, only those in [`INSTANCE_KEYS`] kept (every trace repeats its processes'
/// tags, so the others are skipped without being built).
#[derive(Default)]
pub struct InstanceTags<'a>(pub Vec<(usize, Text<'a>)>);

impl<'a> InstanceTags<'a> {
    /// The most preferred non-empty instance tag.
    pub fn instance(&self) -> Option<&str> {
        let best = self.0.iter().filter(|(_, v)| !v.as_str().is_empty());
        best.min_by_key(|(rank, _)| *rank).map(|(_, v)| v.as_str())
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ProcessTag<'a> {
    #[serde(borrow)]
    key: Option<Text<'a>>,
    #[serde(borrow)]
    value: Option<&'a RawValue>,
}

struct InstanceTagsVisitor;

impl<'de> serde::de::Visitor<'de> for InstanceTagsVisitor {
    type Value = InstanceTags<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of {key, type, value} tags")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(tag) = seq.next_element::<ProcessTag<'de>>()? {
            let key = tag.key.as_ref().map_or("", Text::as_str);
            let Some(rank) = INSTANCE_KEYS.iter().position(|k| *k == key) else {
                continue;
            };
            if let Some(Ok(text)) = tag
                .value
                .map(|v| serde_json::from_str::<Text<'de>>(v.get()))
            {
                out.push((rank, text));
            }
        }
        Ok(InstanceTags(out))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(InstanceTags::default())
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for InstanceTags<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(InstanceTagsVisitor)
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Span<'a> {
    #[serde(borrow, rename = "traceID")]
    pub trace_id: Option<Text<'a>>,
    #[serde(borrow, rename = "spanID")]
    pub span_id: Option<Text<'a>>,
    #[serde(borrow, rename = "operationName")]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub references: Option<Vec<Reference<'a>>>,
    /// µs since the epoch.
    #[serde(rename = "startTime")]
    pub start: Int64,
    /// µs.
    pub duration: Int64,
    #[serde(borrow)]
    pub tags: Tags<'a>,
    #[serde(borrow)]
    pub logs: Option<Vec<Log<'a>>>,
    #[serde(borrow, rename = "processID")]
    pub process_id: Option<Text<'a>>,
    /// Inline process (spans exported one by one, e.g. by Jaeger's anonymizer).
    #[serde(borrow)]
    pub process: Option<Process<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Reference<'a> {
    #[serde(borrow, rename = "refType")]
    pub ref_type: Option<Text<'a>>,
    #[serde(borrow, rename = "traceID")]
    pub trace_id: Option<Text<'a>>,
    #[serde(borrow, rename = "spanID")]
    pub span_id: Option<Text<'a>>,
}

/// A span log: becomes a span event.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Log<'a> {
    /// µs since the epoch.
    pub timestamp: Int64,
    #[serde(borrow)]
    pub fields: Tags<'a>,
}
