//! The `inspect` summary of a dataset: what was loaded, from where, and what was skipped.
//!
//! The JSON form is the stable `cascade.inspect/v1` document.

use std::collections::BTreeMap;

use anyhow::Result;
use polars::prelude::PlHashSet;
use serde::Serialize;

use super::diag::Level;
use super::{Dataset, FileReport, LogJoin};
use crate::model::columns as col;
use crate::model::frame::{i32_col, i64_col, str_col};

/// Schema tag of the document.
pub const SCHEMA: &str = "cascade.inspect/v1";

/// Everything `cascade inspect` reports.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub schema: &'static str,
    pub files: Vec<FileReport>,
    pub spans: u64,
    pub traces: u64,
    pub time_range: Option<TimeRange>,
    /// Span counts by kind name (`server`, `client`, …).
    pub kinds: BTreeMap<&'static str, u64>,
    pub error_spans: u64,
    pub services: Vec<ServiceSummary>,
    pub log_records: u64,
    pub log_join: LogJoin,
    /// Records dropped, by reason.
    pub skipped: Tally,
    /// Things noticed and corrected or kept, by reason.
    pub warnings: Tally,
}

/// First span start to last span end.
#[derive(Debug, Clone, Serialize)]
pub struct TimeRange {
    pub start: String,
    pub end: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub duration_s: f64,
}

/// Spans of one service.
#[derive(Debug, Clone, Serialize)]
pub struct ServiceSummary {
    pub name: String,
    pub spans: u64,
    /// SERVER and CONSUMER spans: the requests it served.
    pub requests: u64,
    pub error_spans: u64,
}

/// A count with its reasons.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Tally {
    pub count: u64,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub reason: String,
    pub count: u64,
    /// `file:line` of the first few.
    pub examples: Vec<String>,
}

/// Summarises a loaded dataset.
pub fn summarize(data: &Dataset) -> Result<Summary> {
    let spans = &data.spans;
    let (services, kinds, error_spans) = if spans.height() == 0 {
        (Vec::new(), BTreeMap::new(), 0)
    } else {
        per_service(data)?
    };
    Ok(Summary {
        schema: SCHEMA,
        files: data.files.clone(),
        spans: spans.height() as u64,
        traces: count_traces(data)?,
        time_range: time_range(data)?,
        kinds,
        error_spans,
        services,
        log_records: data.logs.height() as u64,
        log_join: data.log_join.clone(),
        skipped: tally(data, Level::Skip),
        warnings: tally(data, Level::Warn),
    })
}

fn count_traces(data: &Dataset) -> Result<u64> {
    if data.spans.height() == 0 {
        return Ok(0);
    }
    let ids = str_col(&data.spans, col::TRACE_ID)?;
    Ok(ids.iter().flatten().collect::<PlHashSet<_>>().len() as u64)
}

fn time_range(data: &Dataset) -> Result<Option<TimeRange>> {
    if data.spans.height() == 0 {
        return Ok(None);
    }
    let start = i64_col(&data.spans, col::START_NS)?.iter().flatten().min();
    let end = i64_col(&data.spans, col::END_NS)?.iter().flatten().max();
    Ok(start.zip(end).map(|(s, e)| TimeRange {
        start: rfc3339(s),
        end: rfc3339(e),
        start_ns: s,
        end_ns: e,
        duration_s: (e - s) as f64 / 1e9,
    }))
}

/// Unix nanoseconds as an RFC 3339 instant (UTC, nanosecond precision when needed).
pub fn rfc3339(ns: i64) -> String {
    let t = chrono::DateTime::from_timestamp_nanos(ns);
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

type PerService = (Vec<ServiceSummary>, BTreeMap<&'static str, u64>, u64);

fn per_service(data: &Dataset) -> Result<PerService> {
    let service = str_col(&data.spans, col::SERVICE)?;
    let kind = i32_col(&data.spans, col::KIND)?;
    let status = i32_col(&data.spans, col::STATUS_CODE)?;
    let mut by_service: BTreeMap<&str, ServiceSummary> = BTreeMap::new();
    let mut kinds: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut errors = 0;
    for (s, (k, st)) in service.iter().zip(kind.iter().zip(status.iter())) {
        let name = s.unwrap_or("unknown_service");
        let entry = by_service.entry(name).or_insert_with(|| ServiceSummary {
            name: name.to_string(),
            spans: 0,
            requests: 0,
            error_spans: 0,
        });
        let k = k.unwrap_or(col::kind::UNSPECIFIED);
        let is_error = st == Some(col::status::ERROR);
        entry.spans += 1;
        entry.requests += u64::from(matches!(k, col::kind::SERVER | col::kind::CONSUMER));
        entry.error_spans += u64::from(is_error);
        errors += u64::from(is_error);
        *kinds.entry(kind_name(k)).or_default() += 1;
    }
    Ok((by_service.into_values().collect(), kinds, errors))
}

/// The lower-case name of an OTLP span kind.
pub fn kind_name(kind: i32) -> &'static str {
    match kind {
        col::kind::INTERNAL => "internal",
        col::kind::SERVER => "server",
        col::kind::CLIENT => "client",
        col::kind::PRODUCER => "producer",
        col::kind::CONSUMER => "consumer",
        _ => "unspecified",
    }
}

fn tally(data: &Dataset, level: Level) -> Tally {
    let reasons: Vec<Reason> = data
        .diagnostics
        .iter()
        .filter(|(l, _, _)| *l == level)
        .map(|(_, reason, e)| Reason {
            reason: reason.to_string(),
            count: e.count,
            examples: e.examples.clone(),
        })
        .collect();
    Tally {
        count: reasons.iter().map(|r| r.count).sum(),
        reasons,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    #[test]
    fn summary_counts_services_kinds_and_traces() {
        let spans = df!(
            col::TRACE_ID => ["t1", "t1", "t2"],
            col::SERVICE => ["web", "db", "web"],
            col::KIND => [2, 2, 3],
            col::STATUS_CODE => [0, 2, 0],
            col::START_NS => [1_000_000_000i64, 1_100_000_000, 2_000_000_000],
            col::END_NS => [1_500_000_000i64, 1_200_000_000, 2_000_000_001],
        )
        .unwrap();
        let data = Dataset {
            spans,
            ..Default::default()
        };
        let s = summarize(&data).unwrap();
        assert_eq!((s.spans, s.traces, s.error_spans), (3, 2, 1));
        assert_eq!(s.kinds.get("server"), Some(&2));
        assert_eq!(s.services.len(), 2);
        assert_eq!(s.services[1].name, "web");
        assert_eq!(s.services[1].requests, 1);
        let range = s.time_range.unwrap();
        assert_eq!(range.start, "1970-01-01T00:00:01Z");
        assert_eq!(range.end, "1970-01-01T00:00:02.000000001Z");
    }

    #[test]
    fn empty_dataset_summarises_without_error() {
        let s = summarize(&Dataset::default()).unwrap();
        assert_eq!(s.spans, 0);
        assert!(s.time_range.is_none());
    }
}
