//! Log records ↔ spans: how many log records carry a trace id, name a trace of the spans
//! frame, and name one of its spans. Ids are parsed to integers and compared through sorted
//! vectors (parallel parse and sort, binary search), so 200k log records against 1M spans
//! costs a few parallel passes.
//!
//! Datadog-style 64-bit trace ids (the high 16 hex digits zero) match a span's trace id by
//! its low 64 bits, since Datadog logs only those.

use anyhow::{Context, Result};
use polars::prelude::DataFrame;
use rayon::prelude::*;

use crate::ingest::LogJoin;
use crate::model::columns::{SPAN_ID, TRACE_ID};

/// A record's ids as integers: trace, and span when present.
type Ids = (u128, Option<u64>);

/// Counts the matches of `logs` (logs frame) against `spans` (spans frame).
pub(crate) fn join(logs: &DataFrame, spans: &DataFrame) -> Result<LogJoin> {
    let log_ids = frame_ids(logs).context("reading trace/span ids of the logs frame")?;
    let mut out = LogJoin {
        with_trace_id: log_ids.len() as u64,
        ..LogJoin::default()
    };
    if log_ids.is_empty() || spans.height() == 0 {
        return Ok(out);
    }
    let want_low = log_ids.iter().any(|(t, _)| is_64_bit(*t));
    let span_ids = frame_ids(spans).context("reading ids of the spans frame")?;
    let index = SpanIndex::build(&span_ids, want_low);
    let (traces, spans) = log_ids
        .par_iter()
        .map(|(t, s)| {
            let (mt, ms) = index.matches(*t, *s);
            (u64::from(mt), u64::from(ms))
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    out.matched_trace = traces;
    out.matched_span = spans;
    Ok(out)
}

fn is_64_bit(trace: u128) -> bool {
    trace >> 64 == 0
}

/// The ids of every row with a readable trace id, in row order (parsed in parallel).
fn frame_ids(df: &DataFrame) -> Result<Vec<Ids>> {
    if df.height() == 0 {
        return Ok(Vec::new());
    }
    let traces = df.column(TRACE_ID)?.str()?;
    let spans = df.column(SPAN_ID)?.str()?;
    let rows: Vec<(Option<&str>, Option<&str>)> = traces.iter().zip(spans.iter()).collect();
    Ok(rows
        .par_iter()
        .filter_map(|(t, s)| Some((hex_u128((*t)?)?, s.and_then(hex_u64))))
        .collect())
}

/// Sorted, deduplicated id vectors of the spans; the low-64-bit ones only when needed.
struct SpanIndex {
    traces: Vec<u128>,
    spans: Vec<(u128, u64)>,
    low_traces: Vec<u64>,
    low_spans: Vec<(u64, u64)>,
}

impl SpanIndex {
    fn build(ids: &[Ids], with_low: bool) -> SpanIndex {
        let traces = sorted(ids.par_iter().map(|(t, _)| *t));
        let spans = sorted(ids.par_iter().filter_map(|(t, s)| s.map(|s| (*t, s))));
        let (low_traces, low_spans) = if with_low {
            let lt = sorted(traces.par_iter().map(|t| *t as u64));
            (lt, sorted(spans.par_iter().map(|(t, s)| (*t as u64, *s))))
        } else {
            (Vec::new(), Vec::new())
        };
        SpanIndex {
            traces,
            spans,
            low_traces,
            low_spans,
        }
    }

    /// (trace matched, span matched) for one log record.
    fn matches(&self, trace: u128, span: Option<u64>) -> (bool, bool) {
        let low = trace as u64;
        let by_low = is_64_bit(trace);
        let has = |v: &[u64], k| by_low && v.binary_search(&k).is_ok();
        let t = self.traces.binary_search(&trace).is_ok() || has(&self.low_traces, low);
        let s = span.is_some_and(|s| {
            self.spans.binary_search(&(trace, s)).is_ok()
                || (by_low && self.low_spans.binary_search(&(low, s)).is_ok())
        });
        (t, s)
    }
}

fn sorted<T: Ord + Send>(items: impl ParallelIterator<Item = T>) -> Vec<T> {
    let mut v: Vec<T> = items.collect();
    v.par_sort_unstable();
    v.dedup();
    v
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
