//! Per-edge statistics: logical calls, attempts, retries, errors, timeouts, latency —
//! overall, per bucket, and for the baseline and incident windows.
//!
//! Latency is the client span's duration (what the caller waited), percentiles with linear
//! interpolation. An attempt belongs to the bucket of its client span's start; a logical
//! call to the bucket of its first attempt.

use super::attempts::Attempts;
use super::graph::CallGraph;
use super::incident::{Windows, MIN_BUCKET_SAMPLES};
use super::series::Series;
use super::stats::{quantile, Counted};
use super::table::SpanTable;
use crate::model::window::Window;

/// Counts over one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct EdgeCounts {
    pub calls: u64,
    pub attempts: u64,
    pub retries: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub p99_ms: Counted,
}

impl EdgeCounts {
    /// attempts / logical calls (`None` without calls).
    pub fn amplification(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.attempts as f64 / self.calls as f64)
    }
}

/// Per-bucket series of one edge.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EdgeSeries {
    pub calls: Series<u32>,
    pub attempts: Series<u32>,
    pub retries: Series<u32>,
    pub errors: Series<u32>,
    pub timeouts: Series<u32>,
    /// Client-duration percentiles (`None` under [`MIN_BUCKET_SAMPLES`] attempts).
    pub p50_ms: Series<Option<f64>>,
    pub p99_ms: Series<Option<f64>>,
}

/// Everything known about one caller → callee edge.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EdgeStats {
    pub caller: String,
    pub callee: String,
    pub total: EdgeCounts,
    pub p50_ms: Counted,
    pub baseline: EdgeCounts,
    pub incident: Option<EdgeCounts>,
    pub series: EdgeSeries,
}

/// Statistics of every edge of the graph, in graph edge order (sorted by names).
pub fn edge_stats(t: &SpanTable, g: &CallGraph, a: &Attempts, w: &Windows) -> Vec<EdgeStats> {
    let mut per_edge: Vec<Vec<usize>> = vec![Vec::new(); g.edges.len()];
    for (ci, &e) in g.call_edge.iter().enumerate() {
        per_edge[e as usize].push(ci);
    }
    per_edge
        .iter()
        .enumerate()
        .map(|(e, calls)| one_edge(t, g, a, w, e, calls))
        .collect()
}

fn one_edge(
    t: &SpanTable,
    g: &CallGraph,
    a: &Attempts,
    w: &Windows,
    e: usize,
    calls: &[usize],
) -> EdgeStats {
    let (caller, callee) = g.edges[e];
    let all = Window::new(i64::MIN, i64::MAX);
    let total = counts(t, g, a, calls, &all);
    let mut durations: Vec<f64> = calls.iter().map(|&c| ms(t, g, c)).collect();
    let p50 = quantile(&mut durations, 0.5);
    EdgeStats {
        caller: g.name(caller).to_string(),
        callee: g.name(callee).to_string(),
        total,
        p50_ms: Counted::new(p50, durations.len() as u64),
        baseline: counts(t, g, a, calls, &w.baseline),
        incident: w.incident.map(|inc| counts(t, g, a, calls, &inc)),
        series: series(t, g, a, w, calls),
    }
}

fn ms(t: &SpanTable, g: &CallGraph, c: usize) -> f64 {
    t.duration(g.calls[c].client as usize) as f64 / 1e6
}

fn start(t: &SpanTable, g: &CallGraph, c: usize) -> i64 {
    t.start[g.calls[c].client as usize]
}

/// Counts of the attempts in `calls` that start in `win`.
fn counts(t: &SpanTable, g: &CallGraph, a: &Attempts, calls: &[usize], win: &Window) -> EdgeCounts {
    let mut c = EdgeCounts::default();
    let mut durations = Vec::new();
    for &ci in calls.iter().filter(|&&ci| win.contains(start(t, g, ci))) {
        let row = g.calls[ci].client as usize;
        c.attempts += 1;
        if a.ordinal[ci] == 0 {
            c.calls += 1;
        } else {
            c.retries += 1;
        }
        c.errors += u64::from(t.is_error(row));
        c.timeouts += u64::from(t.timeout[row] && t.is_error(row));
        durations.push(ms(t, g, ci));
    }
    c.p99_ms = Counted::new(quantile(&mut durations, 0.99), durations.len() as u64);
    c
}

fn series(t: &SpanTable, g: &CallGraph, a: &Attempts, w: &Windows, calls: &[usize]) -> EdgeSeries {
    let n = w.buckets.count;
    let [mut n_calls, mut attempts, mut retries, mut errors, mut timeouts] =
        std::array::from_fn(|_| vec![0u32; n]);
    let mut durs: Vec<Vec<f64>> = vec![Vec::new(); n];
    for &ci in calls {
        let row = g.calls[ci].client as usize;
        let k = w.buckets.index(t.start[row]);
        let first = a.ordinal[ci] == 0;
        attempts[k] += 1;
        n_calls[k] += u32::from(first);
        retries[k] += u32::from(!first);
        errors[k] += u32::from(t.is_error(row));
        timeouts[k] += u32::from(t.is_error(row) && t.timeout[row]);
        durs[k].push(ms(t, g, ci));
    }
    let mut pct = |q: f64| {
        durs.iter_mut()
            .map(|d| {
                (d.len() as u64 >= MIN_BUCKET_SAMPLES)
                    .then(|| quantile(d, q))
                    .flatten()
            })
            .collect::<Vec<_>>()
            .into()
    };
    EdgeSeries {
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        calls: n_calls.into(),
        attempts: attempts.into(),
        retries: retries.into(),
        errors: errors.into(),
        timeouts: timeouts.into(),
    }
}

#[cfg(test)]
mod tests {
    use crate::analyze::testkit::{scenario, Scenario};
    use crate::analyze::{analyze, AnalyzeOptions};

    #[test]
    fn series_add_up_to_the_totals_and_windows_split_them() {
        let data = scenario(&Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        })
        .dataset();
        let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
        let e = a.edges.iter().find(|e| e.callee == "db").unwrap();
        let sum = |v: &super::Series<u32>| v.iter().map(|&x| u64::from(x)).sum::<u64>();
        assert_eq!(sum(&e.series.attempts), e.total.attempts);
        assert_eq!(sum(&e.series.calls), e.total.calls);
        assert_eq!(sum(&e.series.retries), e.total.retries);
        assert_eq!(e.total.attempts, e.total.calls + e.total.retries);
        let inc = e.incident.unwrap();
        assert!(inc.attempts + e.baseline.attempts <= e.total.attempts);
        assert!(inc.timeouts > 0 && e.baseline.timeouts == 0);
        assert!(inc.p99_ms.value > e.baseline.p99_ms.value);
        assert!(e.series.p99_ms.iter().flatten().count() > 100);
    }
}
