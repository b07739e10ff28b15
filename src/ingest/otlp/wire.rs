//! OTLP/JSON wire types, borrowed from the input bytes.
//!
//! Keys are accepted in lowerCamelCase and snake_case, with the pre-0.19 names
//! (`instrumentationLibrarySpans`, `instrumentationLibrary`, logs `logs`) and Tempo's
//! `batches`; unknown keys are ignored. One [`Doc`] covers every top-level shape: an
//! `ExportTrace/LogsServiceRequest`, a bare `ResourceSpans`/`ResourceLogs`, and the Jaeger
//! api_v3 `{"result": …}` wrapper.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

use super::scalar::{Double, Int64, KindField, SeverityField, StatusField, Text};

/// One JSON document (a line of a JSON Lines file, or a whole file).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Doc<'a> {
    #[serde(
        borrow,
        rename = "resourceSpans",
        alias = "resource_spans",
        alias = "batches"
    )]
    pub resource_spans: Option<Vec<ResourceSpans<'a>>>,
    #[serde(borrow, rename = "resourceLogs", alias = "resource_logs")]
    pub resource_logs: Option<Vec<ResourceLogs<'a>>>,
    #[serde(rename = "resourceMetrics", alias = "resource_metrics")]
    pub resource_metrics: Option<IgnoredAny>,
    #[serde(rename = "resourceProfiles", alias = "resource_profiles")]
    pub resource_profiles: Option<IgnoredAny>,
    #[serde(borrow)]
    pub result: Option<Box<Doc<'a>>>,
    /// Bare `ResourceSpans` / `ResourceLogs` (Java's legacy logging exporter).
    #[serde(borrow)]
    pub resource: Option<Resource<'a>>,
    #[serde(
        borrow,
        rename = "scopeSpans",
        alias = "scope_spans",
        alias = "instrumentationLibrarySpans",
        alias = "instrumentation_library_spans"
    )]
    pub scope_spans: Option<Vec<ScopeSpans<'a>>>,
    #[serde(
        borrow,
        rename = "scopeLogs",
        alias = "scope_logs",
        alias = "instrumentationLibraryLogs",
        alias = "instrumentation_library_logs"
    )]
    pub scope_logs: Option<Vec<ScopeLogs<'a>>>,
    #[serde(rename = "scopeMetrics", alias = "scope_metrics")]
    pub scope_metrics: Option<IgnoredAny>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Resource<'a> {
    #[serde(borrow)]
    pub attributes: Vec<KeyValue<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Scope<'a> {
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    /// Not used, but read so that a malformed scope is caught like any other record.
    #[serde(borrow)]
    pub attributes: Vec<KeyValue<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResourceSpans<'a> {
    #[serde(borrow)]
    pub resource: Option<Resource<'a>>,
    #[serde(
        borrow,
        rename = "scopeSpans",
        alias = "scope_spans",
        alias = "instrumentationLibrarySpans",
        alias = "instrumentation_library_spans"
    )]
    pub scope_spans: Option<Vec<ScopeSpans<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScopeSpans<'a> {
    #[serde(
        borrow,
        alias = "instrumentationLibrary",
        alias = "instrumentation_library"
    )]
    pub scope: Option<Scope<'a>>,
    #[serde(borrow)]
    pub spans: Option<Vec<Span<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Span<'a> {
    #[serde(borrow, rename = "traceId", alias = "trace_id")]
    pub trace_id: Option<Text<'a>>,
    #[serde(borrow, rename = "spanId", alias = "span_id")]
    pub span_id: Option<Text<'a>>,
    #[serde(borrow, rename = "parentSpanId", alias = "parent_span_id")]
    pub parent_span_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    pub kind: KindField,
    #[serde(rename = "startTimeUnixNano", alias = "start_time_unix_nano")]
    pub start: Int64,
    #[serde(rename = "endTimeUnixNano", alias = "end_time_unix_nano")]
    pub end: Int64,
    #[serde(borrow, deserialize_with = "span_attributes")]
    pub attributes: Vec<KeyValue<'a>>,
    #[serde(borrow)]
    pub events: Vec<Event<'a>>,
    #[serde(borrow)]
    pub links: Vec<Link<'a>>,
    #[serde(borrow)]
    pub status: Option<Status<'a>>,
}

/// Room for a typical span's attributes (instrumentations set about 5–12), so the vector
/// is allocated once instead of growing 4 → 8 → 16.
const SPAN_ATTRIBUTES: usize = 12;

/// A span's attribute list, allocated at [`SPAN_ATTRIBUTES`] up front.
fn span_attributes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<KeyValue<'de>>, D::Error> {
    struct List;
    impl<'de> Visitor<'de> for List {
        type Value = Vec<KeyValue<'de>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of attributes")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut list = Vec::with_capacity(SPAN_ATTRIBUTES);
            while let Some(kv) = seq.next_element()? {
                list.push(kv);
            }
            Ok(list)
        }
    }
    d.deserialize_seq(List)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Status<'a> {
    pub code: StatusField,
    #[serde(borrow)]
    pub message: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Event<'a> {
    #[serde(rename = "timeUnixNano", alias = "time_unix_nano")]
    pub time: Int64,
    #[serde(borrow)]
    pub name: Option<Text<'a>>,
    #[serde(borrow)]
    pub attributes: Vec<KeyValue<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Link<'a> {
    #[serde(borrow, rename = "traceId", alias = "trace_id")]
    pub trace_id: Option<Text<'a>>,
    #[serde(borrow, rename = "spanId", alias = "span_id")]
    pub span_id: Option<Text<'a>>,
    #[serde(borrow)]
    pub attributes: Vec<KeyValue<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ResourceLogs<'a> {
    #[serde(borrow)]
    pub resource: Option<Resource<'a>>,
    #[serde(
        borrow,
        rename = "scopeLogs",
        alias = "scope_logs",
        alias = "instrumentationLibraryLogs",
        alias = "instrumentation_library_logs"
    )]
    pub scope_logs: Option<Vec<ScopeLogs<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ScopeLogs<'a> {
    #[serde(
        borrow,
        alias = "instrumentationLibrary",
        alias = "instrumentation_library"
    )]
    pub scope: Option<Scope<'a>>,
    #[serde(borrow, rename = "logRecords", alias = "log_records", alias = "logs")]
    pub log_records: Option<Vec<LogRecord<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LogRecord<'a> {
    #[serde(rename = "timeUnixNano", alias = "time_unix_nano")]
    pub time: Int64,
    #[serde(rename = "observedTimeUnixNano", alias = "observed_time_unix_nano")]
    pub observed_time: Int64,
    #[serde(rename = "severityNumber", alias = "severity_number")]
    pub severity_number: SeverityField,
    #[serde(borrow, rename = "severityText", alias = "severity_text")]
    pub severity_text: Option<Text<'a>>,
    #[serde(borrow)]
    pub body: Option<AnyValue<'a>>,
    #[serde(borrow)]
    pub attributes: Vec<KeyValue<'a>>,
    #[serde(borrow, rename = "traceId", alias = "trace_id")]
    pub trace_id: Option<Text<'a>>,
    #[serde(borrow, rename = "spanId", alias = "span_id")]
    pub span_id: Option<Text<'a>>,
    #[serde(borrow, rename = "eventName", alias = "event_name")]
    pub event_name: Option<Text<'a>>,
}

/// `{key, value}`; a missing value is the empty value.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KeyValue<'a> {
    #[serde(borrow)]
    pub key: Option<Text<'a>>,
    #[serde(borrow)]
    pub value: Option<AnyValue<'a>>,
}

/// Exactly one of the fields is set; none (`{}`, `stringValue: null`) is the empty value.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AnyValue<'a> {
    #[serde(borrow, rename = "stringValue", alias = "string_value")]
    pub string: Option<Text<'a>>,
    #[serde(rename = "boolValue", alias = "bool_value")]
    pub bool: Option<bool>,
    #[serde(rename = "intValue", alias = "int_value")]
    pub int: Int64,
    #[serde(rename = "doubleValue", alias = "double_value")]
    pub double: Double,
    /// Boxed, as arrays and lists are rare: a smaller `AnyValue` is cheaper to move while
    /// the attribute vectors grow.
    #[serde(borrow, rename = "arrayValue", alias = "array_value")]
    pub array: Option<Box<Values<'a>>>,
    #[serde(borrow, rename = "kvlistValue", alias = "kvlist_value")]
    pub kvlist: Option<Box<KeyValues<'a>>>,
    #[serde(borrow, rename = "bytesValue", alias = "bytes_value")]
    pub bytes: Option<Text<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Values<'a> {
    #[serde(borrow)]
    pub values: Vec<AnyValue<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct KeyValues<'a> {
    #[serde(borrow)]
    pub values: Vec<KeyValue<'a>>,
}

/// The top level of a whole-file document, with the signal arrays left unparsed so their
/// elements can be parsed in parallel.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RawDoc<'a> {
    #[serde(
        borrow,
        rename = "resourceSpans",
        alias = "resource_spans",
        alias = "batches"
    )]
    pub resource_spans: Option<Vec<&'a serde_json::value::RawValue>>,
    #[serde(borrow, rename = "resourceLogs", alias = "resource_logs")]
    pub resource_logs: Option<Vec<&'a serde_json::value::RawValue>>,
    #[serde(rename = "resourceMetrics", alias = "resource_metrics")]
    pub resource_metrics: Option<IgnoredAny>,
    #[serde(rename = "resourceProfiles", alias = "resource_profiles")]
    pub resource_profiles: Option<IgnoredAny>,
    #[serde(borrow)]
    pub result: Option<&'a serde_json::value::RawValue>,
}
