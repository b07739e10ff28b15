//! A log record as every log reader hands it over, before it becomes a row of the logs frame.

/// A typed value of a log field other than the well-known ones.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// One log record, whatever logger or exporter wrote it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogRecord {
    /// Unix nanoseconds (OTLP: `timeUnixNano`, else `observedTimeUnixNano`).
    pub time_ns: Option<i64>,
    /// 1–24 as in OTLP; mapped from text levels where the logger writes text.
    pub severity_number: Option<i32>,
    pub severity_text: Option<String>,
    /// The body / message, as text (a structured body is kept as JSON).
    pub message: Option<String>,
    pub service: Option<String>,
    /// 32 lower-case hex digits.
    pub trace_id: Option<String>,
    /// 16 lower-case hex digits.
    pub span_id: Option<String>,
    /// Every other field (flattened with dots), in the order first seen.
    pub fields: Vec<(String, FieldValue)>,
}
