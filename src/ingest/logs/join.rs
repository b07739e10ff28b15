//! Log records ↔ spans: how many log records carry a trace id, name a trace of the spans
//! frame, and name one of its spans. Ids are compared as integers in hash sets, so 200k log
//! records against 1M spans is one pass over each.
//!
//! Datadog-style 64-bit trace ids (the high 16 hex digits zero) match a span's trace id by
//! its low 64 bits, since Datadog logs only those.

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, PlHashSet};

use crate::ingest::LogJoin;
use crate::model::columns::{SPAN_ID, TRACE_ID};

/// A log record's ids as integers: trace, and span when present.
type LogIds = (u128, Option<u64>);

/// Counts the matches of `logs` (logs frame) against `spans` (spans frame).
pub(crate) fn join(logs: &DataFrame, spans: &DataFrame) -> Result<LogJoin> {
    let log_ids = log_ids(logs).context("reading trace/span ids of the logs frame")?;
    let mut out = LogJoin {
        with_trace_id: log_ids.len() as u64,
        ..LogJoin::default()
    };
    if log_ids.is_empty() || spans.height() == 0 {
        return Ok(out);
    }
    let want_low = log_ids.iter().any(|(t, _)| is_64_bit(*t));
    let index = SpanIndex::build(spans, want_low).context("reading ids of the spans frame")?;
    for (trace, span) in log_ids {
        let (t, s) = index.matches(trace, span);
        out.matched_trace += u64::from(t);
        out.matched_span += u64::from(s);
    }
    Ok(out)
}

fn is_64_bit(trace: u128) -> bool {
    trace >> 64 == 0
}

/// The ids of every log record with a readable trace id, in row order.
fn log_ids(logs: &DataFrame) -> Result<Vec<LogIds>> {
    if logs.height() == 0 {
        return Ok(Vec::new());
    }
    let traces = logs.column(TRACE_ID)?.str()?;
    let spans = logs.column(SPAN_ID)?.str()?;
    Ok(traces
        .iter()
        .zip(spans.iter())
        .filter_map(|(t, s)| Some((hex_u128(t?)?, s.and_then(hex_u64))))
        .collect())
}

/// Hash sets of the spans' ids; the low-64-bit sets only when some log id needs them.
struct SpanIndex {
    traces: PlHashSet<u128>,
    spans: PlHashSet<(u128, u64)>,
    low_traces: PlHashSet<u64>,
    low_spans: PlHashSet<(u64, u64)>,
}

impl SpanIndex {
    fn build(spans: &DataFrame, with_low: bool) -> Result<SpanIndex> {
        let traces = spans.column(TRACE_ID)?.str()?;
        let span_ids = spans.column(SPAN_ID)?.str()?;
        let mut index = SpanIndex {
            traces: PlHashSet::with_capacity_and_hasher(spans.height() / 4, Default::default()),
            spans: PlHashSet::with_capacity_and_hasher(spans.height(), Default::default()),
            low_traces: PlHashSet::default(),
            low_spans: PlHashSet::default(),
        };
        for (t, s) in traces.iter().zip(span_ids.iter()) {
            let Some(t) = t.and_then(hex_u128) else {
                continue;
            };
            index.insert(t, s.and_then(hex_u64), with_low);
        }
        Ok(index)
    }

    fn insert(&mut self, trace: u128, span: Option<u64>, with_low: bool) {
        self.traces.insert(trace);
        let low = trace as u64;
        if with_low {
            self.low_traces.insert(low);
        }
        if let Some(s) = span {
            self.spans.insert((trace, s));
            if with_low {
                self.low_spans.insert((low, s));
            }
        }
    }

    /// (trace matched, span matched) for one log record.
    fn matches(&self, trace: u128, span: Option<u64>) -> (bool, bool) {
        let low = trace as u64;
        let by_low = is_64_bit(trace);
        let t = self.traces.contains(&trace) || (by_low && self.low_traces.contains(&low));
        let s = span.is_some_and(|s| {
            self.spans.contains(&(trace, s)) || (by_low && self.low_spans.contains(&(low, s)))
        });
        (t, s)
    }
}

fn hex_u128(s: &str) -> Option<u128> {
    u128::from_str_radix(s, 16).ok().filter(|_| s.len() <= 32)
}

fn hex_u64(s: &str) -> Option<u64> {
    u64::from_str_radix(s, 16).ok().filter(|_| s.len() <= 16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::df;

    const T1: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const T2: &str = "0af7651916cd43dd8448eb211c80319c";
    const S1: &str = "00f067aa0ba902b7";
    const S2: &str = "b7ad6b7169203331";

    fn spans() -> DataFrame {
        df! {
            TRACE_ID => [T1, T1, T2],
            SPAN_ID => [S1, S2, "53995c3f42cd8ad8"],
        }
        .unwrap()
    }

    fn logs(rows: &[(Option<&str>, Option<&str>)]) -> DataFrame {
        let t: Vec<Option<&str>> = rows.iter().map(|r| r.0).collect();
        let s: Vec<Option<&str>> = rows.iter().map(|r| r.1).collect();
        df! { TRACE_ID => t, SPAN_ID => s }.unwrap()
    }

    #[test]
    fn counts_trace_and_span_matches() {
        let l = logs(&[
            (Some(T1), Some(S1)),                                 // trace + span
            (Some(T1), Some("1111111111111111")),                 // trace only
            (Some(T2), None),                                     // trace, no span id
            (Some("ffffffffffffffffffffffffffffffff"), Some(S1)), // unknown trace
            (None, Some(S2)),                                     // no trace id
        ]);
        let j = join(&l, &spans()).unwrap();
        assert_eq!(
            (j.with_trace_id, j.matched_trace, j.matched_span),
            (4, 3, 1)
        );
    }

    #[test]
    fn datadog_64_bit_ids_match_by_low_bits() {
        let l = logs(&[
            (Some("0000000000000000a3ce929d0e0e4736"), Some(S2)),
            (Some("00000000000000008448eb211c80319c"), None),
            (Some("0000000000000000ffffffffffffffff"), None),
        ]);
        let j = join(&l, &spans()).unwrap();
        assert_eq!(
            (j.with_trace_id, j.matched_trace, j.matched_span),
            (3, 2, 1)
        );
    }

    #[test]
    fn empty_frames_join_to_zero() {
        let j = join(&DataFrame::empty(), &spans()).unwrap();
        assert_eq!(j.with_trace_id, 0);
        let l = logs(&[(Some(T1), Some(S1))]);
        let j = join(&l, &DataFrame::empty()).unwrap();
        assert_eq!((j.with_trace_id, j.matched_trace), (1, 0));
    }
}
