//! What the entry showed, bucket by bucket, on both sides of the fidelity check: from the
//! traces (the entry's root spans) and from a replay (a recorder that writes down the
//! entry visits as the traces would have shown them), with the window aggregates of both.

use std::ops::Range;

use indicatif::ProgressBar;
use rayon::prelude::*;

use super::derive::frame::Frame;
use super::derive::Derived;
use super::sim::recorder::{AttemptRecord, Recorder, VisitRecord};
use super::sim::stats::quantile;
use super::sim::{RunStats, Topology};
use crate::analyze::Analysis;

/// Entry outcomes of one bucket.
#[derive(Debug, Clone, Default)]
pub struct Bucket {
    pub ok: f64,
    pub fail: f64,
    pub lat_ms: Vec<f64>,
}

/// What the entry's root spans would have shown in a replay: per bucket of the visit's
/// end, its outcome and its duration from service start (the entry's queue is as invisible
/// here as in the traces), head-sampled at the traces' rate so that thin buckets are as
/// thin on both sides.
#[derive(Debug, Clone, Default)]
pub struct EntryTrace {
    entry_edge: u32,
    interval: f64,
    sample_rate: f64,
    seed: u64,
    buckets: Vec<Bucket>,
}

impl EntryTrace {
    /// An empty record for `topo`, keeping a `sample_rate` share of the requests of run `seed`.
    pub fn new(topo: &Topology, sample_rate: f64, seed: u64) -> EntryTrace {
        EntryTrace {
            entry_edge: topo.entry_edge,
            interval: topo.interval,
            sample_rate,
            seed,
            buckets: vec![Bucket::default(); topo.buckets],
        }
    }

    /// The recorded buckets.
    pub fn buckets(&self) -> &[Bucket] {
        &self.buckets
    }

    /// Head sampling by trace: a hash of (seed, trace) against the rate.
    fn kept(&self, trace: u32) -> bool {
        let mut z = self.seed ^ (u64::from(trace) << 17) ^ 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        self.sample_rate >= 1.0 || ((z >> 11) as f64 / (1u64 << 53) as f64) < self.sample_rate
    }
}

impl Recorder for EntryTrace {
    const ENABLED: bool = true;

    fn attempt(&mut self, _: &Topology, _: &AttemptRecord) {}

    fn visit(&mut self, _: &Topology, r: &VisitRecord) {
        if r.edge != self.entry_edge || !self.kept(r.trace) {
            return;
        }
        let w = 1.0 / self.sample_rate;
        let Some(b) = self.buckets.get_mut((r.end / self.interval) as usize) else {
            return;
        };
        if r.ok {
            b.ok += w;
        } else {
            b.fail += w;
        }
        b.lat_ms.push((r.end - r.start) * 1000.0);
    }
}

/// The observed policy's runs with what their entry spans would have shown.
pub fn observed_runs(
    topo: &Topology,
    seeds: &[u64],
    rate: f64,
    bar: &ProgressBar,
) -> (Vec<RunStats>, Vec<EntryTrace>) {
    seeds
        .par_iter()
        .map(|&s| {
            let r = super::sim::run(topo, s, EntryTrace::new(topo, rate, s));
            bar.inc(1);
            r
        })
        .unzip()
}

/// The entry's root spans per bucket of their end (scaled by the sampling rate).
pub fn observed(a: &Analysis, d: &Derived) -> Vec<Bucket> {
    let t = &a.table;
    let f = &d.frame;
    let mut out = vec![Bucket::default(); f.buckets];
    for i in (0..t.len())
        .filter(|&i| t.service[i] == d.entry_id && t.is_server(i) && t.parent_of(i).is_none())
    {
        let Some(b) = f.bucket(t.end[i]) else {
            continue;
        };
        let slot = &mut out[b];
        if t.is_error(i) {
            slot.fail += f.scale(1.0);
        } else {
            slot.ok += f.scale(1.0);
        }
        slot.lat_ms.push(t.duration(i) as f64 / 1e6);
    }
    out
}

/// Counts averaged over runs, latencies pooled.
pub fn mean_buckets(runs: &[Vec<Bucket>], buckets: usize) -> Vec<Bucket> {
    let n = runs.len().max(1) as f64;
    (0..buckets)
        .map(|b| {
            let mut m = Bucket::default();
            for r in runs.iter().filter_map(|r| r.get(b)) {
                m.ok += r.ok / n;
                m.fail += r.fail / n;
                m.lat_ms.extend_from_slice(&r.lat_ms);
            }
            m
        })
        .collect()
}

/// Throughput, error rate, p50 (baseline only) and p99 of the entry over buckets `r`.
pub struct WindowFigures {
    pub rps: f64,
    pub error_rate: f64,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
}

pub fn figures(xs: &[Bucket], r: Range<usize>, f: &Frame) -> WindowFigures {
    let r = r.start.min(xs.len())..r.end.min(xs.len());
    let ok: f64 = xs[r.clone()].iter().map(|b| b.ok).sum();
    let fail: f64 = xs[r.clone()].iter().map(|b| b.fail).sum();
    let mut lat: Vec<f64> = xs[r.clone()]
        .iter()
        .flat_map(|b| b.lat_ms.iter().copied())
        .collect();
    WindowFigures {
        rps: (ok + fail) / (r.len().max(1) as f64 * f.width_s()),
        error_rate: if ok + fail > 0.0 {
            fail / (ok + fail)
        } else {
            0.0
        },
        p50: quantile(&mut lat, 0.5),
        p99: quantile(&mut lat, 0.99),
    }
}
