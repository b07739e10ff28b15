//! TEMPORARY placeholder for the JSON-lines application-log reader, written in parallel by
//! another helper on its own branch. Only the four signatures matter here (so `ingest()`
//! compiles); this file is to be replaced wholesale by the real module at merge.

use anyhow::Result;
use polars::prelude::DataFrame;

use super::diag::Diagnostics;
use super::record::LogRecord;
use super::LogJoin;

/// Placeholder: the real reader detects JSON-lines logs by key sets.
pub fn looks_like_json_logs(bytes: &[u8]) -> bool {
    let _ = bytes;
    false
}

/// Placeholder: the real reader parses pino/zap/ECS/slog/… lines.
pub fn parse_json_logs(bytes: &[u8], label: &str, diag: &mut Diagnostics) -> Vec<LogRecord> {
    let _ = (bytes, label, diag);
    Vec::new()
}

/// Placeholder: the real one builds the logs frame (columns per `model::columns`).
pub fn logs_frame(records: &[LogRecord]) -> Result<DataFrame> {
    let _ = records;
    Ok(DataFrame::empty())
}

/// Placeholder: the real one matches log records to spans.
pub fn join_logs(logs: &DataFrame, spans: &DataFrame) -> Result<LogJoin> {
    let _ = (logs, spans);
    Ok(LogJoin::default())
}
