//! What the users saw: the entry requests (each trace's main root, of any kind: a root
//! CLIENT span of a load generator or a browser is a user's request too), baseline against
//! incident — how many failed, and how many were slower than nearly all baseline requests.

use crate::analyze::critpath::main_root;
use crate::analyze::incident::Windows;
use crate::analyze::stats::{quantile, shift, Shift, SIGNIFICANT_Z};
use crate::analyze::table::SpanTable;

/// The baseline quantile a request must exceed to count as slow: above the p99, only one
/// baseline request in a hundred would be.
const SLOW_QUANTILE: f64 = 0.99;

/// Entry requests of one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct EntryWindow {
    pub requests: u64,
    pub failed: u64,
    /// Not failed, but slower than the baseline's p99.
    pub slow: u64,
    pub mean_ms: f64,
}

/// The user-facing change, baseline against incident.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct EntryChange {
    pub baseline: EntryWindow,
    pub incident: EntryWindow,
    /// Baseline p99 of entry durations (ms): the "slow" line.
    pub slow_above_ms: Option<f64>,
    /// Durations of the requests that did not fail, incident against baseline.
    pub latency_shift: Option<Shift>,
}

/// The incident's extra share of requests with some trait (`k` of `n`, against `kb` of
/// `nb` in the baseline) when it is beyond sampling noise on both sides (a two-proportion
/// z ≥ [`SIGNIFICANT_Z`]), else zero: a few more slow requests than a short baseline had is
/// what a quiet system does.
fn excess(k: u64, n: u64, kb: u64, nb: u64) -> f64 {
    if n == 0 || nb == 0 {
        return 0.0;
    }
    let (p1, p2) = (kb as f64 / nb as f64, k as f64 / n as f64);
    let p = (k + kb) as f64 / (n + nb) as f64;
    let se = (p * (1.0 - p) * (1.0 / n as f64 + 1.0 / nb as f64)).sqrt();
    if se > 0.0 && (p2 - p1) / se >= SIGNIFICANT_Z {
        p2 - p1
    } else {
        0.0
    }
}

impl EntryChange {
    /// Extra share of requests that failed in the incident (≥ 0, beyond noise).
    pub fn error_excess(&self) -> f64 {
        let (b, i) = (&self.baseline, &self.incident);
        excess(i.failed, i.requests, b.failed, b.requests)
    }

    /// How much of the traffic got slower (≥ 0): the extra share of requests beyond the
    /// baseline's p99, or, when the whole distribution moved without many crossing that
    /// line, Cliff's delta of the durations (the probability a request got slower, less the
    /// probability it got faster).
    pub fn slow_excess(&self) -> f64 {
        let (b, i) = (&self.baseline, &self.incident);
        let tail = excess(i.slow, i.requests, b.slow, b.requests);
        let moved = self
            .latency_shift
            .filter(|s| s.rose())
            .map_or(0.0, |s| s.delta);
        tail.max(moved)
    }
}

/// Entry requests of both windows.
pub fn entry_change(t: &SpanTable, w: &Windows) -> EntryChange {
    let mut roots: [Vec<(f64, bool)>; 2] = [Vec::new(), Vec::new()];
    for r in &t.trace_rows {
        let Some(root) = main_root(t, r.start as usize..r.end as usize) else {
            continue;
        };
        let at = t.start[root];
        let win = if w.incident.is_some_and(|i| i.contains(at)) {
            1
        } else if w.baseline.contains(at) {
            0
        } else {
            continue;
        };
        roots[win].push((t.duration(root) as f64 / 1e6, t.is_error(root)));
    }
    let ok_ms =
        |v: &[(f64, bool)]| -> Vec<f64> { v.iter().filter(|r| !r.1).map(|r| r.0).collect() };
    let latency_shift = shift(&mut ok_ms(&roots[0]), &ok_ms(&roots[1]));
    let mut base_ms: Vec<f64> = roots[0].iter().map(|r| r.0).collect();
    let slow_above_ms = quantile(&mut base_ms, SLOW_QUANTILE);
    let summarise = |v: &[(f64, bool)]| EntryWindow {
        requests: v.len() as u64,
        failed: v.iter().filter(|r| r.1).count() as u64,
        slow: v
            .iter()
            .filter(|r| !r.1 && slow_above_ms.is_some_and(|s| r.0 > s))
            .count() as u64,
        mean_ms: v.iter().map(|r| r.0).sum::<f64>() / v.len().max(1) as f64,
    };
    EntryChange {
        baseline: summarise(&roots[0]),
        incident: summarise(&roots[1]),
        slow_above_ms,
        latency_shift,
    }
}
