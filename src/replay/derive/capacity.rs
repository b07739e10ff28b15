//! Capacity (workers) of each service: from configuration when the user gives it, else
//! from the buckets where the service was saturated (its callers' requests waited before
//! its server span started): the plateau of in-flight server spans there, cross-checked
//! with Little's law (busy workers = arrivals × time held, i.e. the bucket's summed server
//! time over its width). A service never seen saturated gets a lower bound with headroom.

use super::frame::Frame;
use crate::analyze::graph::CallGraph;
use crate::analyze::stats::quantile;
use crate::analyze::table::SpanTable;
use crate::model::window::Window;

/// A bucket is saturated when the median wait before the server span starts exceeds this
/// (ms) and twice the baseline's 90th percentile wait.
pub const MIN_QUEUE_WAIT_MS: f64 = 1.0;
/// Saturated buckets needed to call a plateau.
pub const MIN_SATURATED_BUCKETS: usize = 3;
/// A never-saturated service held at least the peak of its in-flight requests, which for a
/// busiest-bucket mean L is about L + 4·√L (Poisson concurrency, 4σ); it gets this
/// multiple of that (nothing says where its limit is)…
pub const UNSATURATED_HEADROOM: f64 = 2.0;
/// …and at least this many workers.
pub const MIN_UNSATURATED_WORKERS: u32 = 8;
/// Plateau and Little's law disagreeing by more than this share (and by more than two
/// standard errors of the sampled plateau) is reported.
pub const LITTLE_TOLERANCE: f64 = 0.25;

/// Where a worker count came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Config,
    Plateau,
    LowerBound,
    /// Chosen among candidates by replaying them against the traces.
    Calibrated,
}

/// The capacity estimate of one service.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Capacity {
    pub workers: u32,
    pub source: Source,
    /// Mean in-flight server spans at the saturated buckets' ends (scaled; the mean, as a
    /// sampled count is coarse).
    pub plateau: Option<f64>,
    /// Little's law over the same buckets (or the busiest bucket when never saturated).
    pub little: Option<f64>,
    pub saturated_buckets: usize,
    /// Plateau and Little's law agree within [`LITTLE_TOLERANCE`].
    pub consistent: bool,
}

/// Capacity of node `node` (a service id or a virtual node); `in_flight` is the analysis'
/// per-bucket in-flight series of the service (empty for virtual nodes).
pub fn estimate(
    t: &SpanTable,
    g: &CallGraph,
    node: u32,
    in_flight: &[u32],
    f: &Frame,
    baseline: &Window,
) -> Capacity {
    let waits = queue_waits(t, g, node, f);
    let busy = busy_workers(t, node, f);
    let base: Vec<f64> = waits[f.within(baseline)]
        .iter()
        .flatten()
        .copied()
        .collect();
    let threshold = MIN_QUEUE_WAIT_MS.max(2.0 * quantile(&mut base.clone(), 0.9).unwrap_or(0.0));
    let saturated: Vec<usize> = (0..f.buckets)
        .filter(|&b| {
            waits[b].len() >= 2
                && quantile(&mut waits[b].clone(), 0.5).is_some_and(|w| w > threshold)
        })
        .collect();
    if saturated.len() < MIN_SATURATED_BUCKETS {
        return lower_bound(&busy, saturated.len());
    }
    let mut little: Vec<f64> = saturated.iter().map(|&b| busy[b]).collect();
    let plateau: Vec<f64> = saturated
        .iter()
        .filter_map(|&b| in_flight.get(b).map(|&n| f.scale(n as f64)))
        .collect();
    let little = quantile(&mut little, 0.5).unwrap_or(0.0);
    let (plateau, se) = mean_se(&plateau);
    Capacity {
        workers: (little.round() as u32).max(1),
        source: Source::Plateau,
        plateau,
        little: Some(little),
        saturated_buckets: saturated.len(),
        consistent: plateau.is_some_and(|p| {
            (p - little).abs() <= (LITTLE_TOLERANCE * little.max(1.0)).max(2.0 * se)
        }),
    }
}

/// Mean and standard error of the mean (`None`, 0 when empty).
fn mean_se(xs: &[f64]) -> (Option<f64>, f64) {
    if xs.is_empty() {
        return (None, 0.0);
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (Some(m), (var / n).sqrt())
}

/// A pool size seen as a ceiling of busy workers (Little's law) by another rule.
pub fn plateau(busy: f64) -> Capacity {
    Capacity {
        workers: (busy.round() as u32).max(1),
        source: Source::Plateau,
        plateau: None,
        little: Some(busy),
        saturated_buckets: 0,
        consistent: true,
    }
}

/// A worker count given by the user.
pub fn configured(workers: u32) -> Capacity {
    Capacity {
        workers: workers.max(1),
        source: Source::Config,
        plateau: None,
        little: None,
        saturated_buckets: 0,
        consistent: true,
    }
}

fn lower_bound(busy: &[f64], saturated: usize) -> Capacity {
    let peak = busy.iter().copied().fold(0.0, f64::max);
    Capacity {
        workers: ((UNSATURATED_HEADROOM * (peak + 4.0 * peak.sqrt())).ceil() as u32)
            .max(MIN_UNSATURATED_WORKERS),
        source: Source::LowerBound,
        plateau: None,
        little: Some(peak),
        saturated_buckets: saturated,
        consistent: true,
    }
}

/// Per bucket (of the client's start): how long calls into `node` waited before the
/// callee's server span started (ms).
fn queue_waits(t: &SpanTable, g: &CallGraph, node: u32, f: &Frame) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::new(); f.buckets];
    for c in g.calls.iter().filter(|c| c.callee == node) {
        let (Some(s), Some(b)) = (c.server_row(), f.bucket(t.start[c.client as usize])) else {
            continue;
        };
        out[b].push((t.start[s] - t.start[c.client as usize]).max(0) as f64 / 1e6);
    }
    out
}

/// Mean busy workers per bucket: summed server-span time inside the bucket over its
/// width, scaled by the sampling rate (Little's law L = λ·W, bucket by bucket).
pub fn busy_workers(t: &SpanTable, node: u32, f: &Frame) -> Vec<f64> {
    let mut ns = vec![0f64; f.buckets];
    for i in (0..t.len()).filter(|&i| t.is_server(i) && t.service[i] == node) {
        let (Some(a), Some(b)) = (f.bucket(t.start[i]), f.bucket(t.end[i].max(t.start[i]))) else {
            continue;
        };
        for (k, slot) in ns.iter_mut().enumerate().take(b + 1).skip(a) {
            let lo = t.start[i].max(f.origin_ns + k as i64 * f.width_ns);
            let hi = t.end[i].min(f.origin_ns + (k as i64 + 1) * f.width_ns);
            *slot += (hi - lo).max(0) as f64;
        }
    }
    ns.iter().map(|&x| f.scale(x / f.width_ns as f64)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_bound_has_headroom_and_a_floor() {
        let c = lower_bound(&[0.5, 4.0, 1.0], 0);
        assert_eq!((c.workers, c.source), (24, Source::LowerBound));
        assert_eq!(lower_bound(&[0.1], 0).workers, MIN_UNSATURATED_WORKERS);
        assert_eq!(configured(0).workers, 1);
    }
}
