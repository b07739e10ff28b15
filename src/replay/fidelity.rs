//! Fidelity: replay the derived model under the observed policy and compare with what the
//! traces showed — throughput, entry p50/p99 and error rate in the baseline and incident
//! windows, per-edge amplification in the incident, onset and recovery around the fault
//! and whether the overload outlived it — then a verdict. Also the per-bucket series of
//! both sides. Onset and recovery use the rule of `recovery.rs` on both sides.

use std::ops::Range;

use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::Serialize;

use super::derive::frame::{round, Frame};
use super::derive::Derived;
use super::recovery::{HEALTHY_P99_FACTOR, HEALTHY_SUCCESS_FRACTION, METASTABLE_GRACE_S};
use super::sim::recorder::{AttemptRecord, Recorder, VisitRecord};
use super::sim::stats::quantile;
use super::sim::{RunStats, Topology};
use crate::analyze::Analysis;
use crate::model::replay::{FidelityCheck, Verdict};

/// Allowed relative errors (REPLAY.md targets for the baseline window).
pub const TOL_THROUGHPUT: f64 = 0.05;
pub const TOL_P50: f64 = 0.10;
pub const TOL_P99: f64 = 0.20;
/// Incident-window tolerances: amplification ±10 % (the target); the incident's
/// throughput, p99 and error rate are looser (few samples, a system in transition).
pub const TOL_AMPLIFICATION: f64 = 0.10;
pub const TOL_INCIDENT: f64 = 0.25;
/// Error rates are compared within this absolute allowance at least (a 0.5 % baseline
/// error rate against 0.8 % is not a miss).
pub const ERROR_RATE_FLOOR: f64 = 0.02;
/// Onset and recovery may differ by this many buckets.
pub const TIME_BUCKETS: f64 = 2.0;
/// An unhealthy stretch must last this many buckets to mark the onset.
pub const ONSET_SUSTAIN: usize = 2;
/// A bucket is unhealthy on at least this many sampled failures or slow requests.
pub const MIN_BAD_SAMPLES: f64 = 2.0;
/// `good` needs at least this share of checks passing (and every baseline check).
pub const GOOD_SHARE: f64 = 0.8;
/// `rough` needs at least this share (and the baseline throughput); below is `poor`.
pub const ROUGH_SHARE: f64 = 0.5;

/// Entry outcomes of one bucket.
#[derive(Debug, Clone, Default)]
struct Bucket {
    ok: f64,
    fail: f64,
    lat_ms: Vec<f64>,
}

/// One row of the per-bucket comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketRow {
    pub t_s: f64,
    pub observed_rps: f64,
    pub replayed_rps: f64,
    pub observed_error_rate: Option<f64>,
    pub replayed_error_rate: Option<f64>,
    pub observed_p99_ms: Option<f64>,
    pub replayed_p99_ms: Option<f64>,
}

/// The fidelity verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fidelity {
    pub verdict: Verdict,
    pub checks: Vec<FidelityCheck>,
    pub buckets: Vec<BucketRow>,
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

/// Compares the observed-policy runs (statistics and entry records) with the traces.
pub fn fidelity(
    a: &Analysis,
    d: &Derived,
    topo: &Topology,
    runs: &[RunStats],
    entry: &[EntryTrace],
) -> Fidelity {
    let f = &d.frame;
    let obs = observed(a, d);
    let rep: Vec<Vec<Bucket>> = entry.iter().map(|e| e.buckets.clone()).collect();
    let mean = mean_buckets(&rep, f.buckets);
    let mut checks = Vec::new();
    let base = f.within(&a.windows.baseline);
    window_checks(&mut checks, "baseline", &obs, &mean, base.clone(), f, true);
    if let Some(inc) = a.windows.incident {
        let inc = f.within(&inc);
        window_checks(&mut checks, "incident", &obs, &mean, inc.clone(), f, false);
        amplification_checks(&mut checks, a, topo, runs, inc);
    }
    if let Some((start, end)) = d.fault.as_ref().and_then(|x| x.window()) {
        health_checks(&mut checks, &obs, &rep, f, (start, end));
    }
    Fidelity {
        verdict: verdict(&checks),
        buckets: rows(&obs, &mean, f),
        checks,
    }
}

/// The entry's root spans per bucket of their end (scaled by the sampling rate).
fn observed(a: &Analysis, d: &Derived) -> Vec<Bucket> {
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
fn mean_buckets(runs: &[Vec<Bucket>], buckets: usize) -> Vec<Bucket> {
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
struct WindowFigures {
    rps: f64,
    error_rate: f64,
    p50: Option<f64>,
    p99: Option<f64>,
}

fn figures(xs: &[Bucket], r: Range<usize>, f: &Frame) -> WindowFigures {
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

fn check(metric: String, observed: f64, replayed: f64, tolerance: f64) -> FidelityCheck {
    let allowed = if observed.abs() > 0.0 {
        tolerance * observed.abs()
    } else {
        tolerance
    };
    FidelityCheck {
        metric,
        observed: round(observed, 4),
        replayed: round(replayed, 4),
        tolerance: round(tolerance, 4),
        ok: (replayed - observed).abs() <= allowed + 1e-12,
    }
}

fn window_checks(
    out: &mut Vec<FidelityCheck>,
    name: &str,
    obs: &[Bucket],
    rep: &[Bucket],
    r: Range<usize>,
    f: &Frame,
    baseline: bool,
) {
    if r.is_empty() {
        return;
    }
    let (o, p) = (figures(obs, r.clone(), f), figures(rep, r.clone(), f));
    let tol = |t: f64| if baseline { t } else { t.max(TOL_INCIDENT) };
    // A sampled count of n carries a relative standard error of 1/√n: the tolerance is at
    // least two of those, or a fair replay would fail on sampling noise alone.
    let sampled = o.rps * r.len() as f64 * f.width_s() * f.sample_rate;
    let noise = if sampled > 0.0 {
        2.0 / sampled.sqrt()
    } else {
        0.0
    };
    out.push(check(
        format!("{name} throughput (req/s)"),
        o.rps,
        p.rps,
        tol(TOL_THROUGHPUT).max(noise),
    ));
    if baseline {
        if let (Some(x), Some(y)) = (o.p50, p.p50) {
            out.push(check(format!("{name} entry p50 (ms)"), x, y, TOL_P50));
        }
    }
    if let (Some(x), Some(y)) = (o.p99, p.p99) {
        out.push(check(format!("{name} entry p99 (ms)"), x, y, tol(TOL_P99)));
    }
    let err_tol = if o.error_rate > 0.0 {
        tol(TOL_INCIDENT).max(ERROR_RATE_FLOOR / o.error_rate)
    } else {
        ERROR_RATE_FLOOR
    };
    out.push(check(
        format!("{name} error rate"),
        o.error_rate,
        p.error_rate,
        err_tol,
    ));
}

/// Attempts / logical calls per modelled edge over the incident buckets.
fn amplification_checks(
    out: &mut Vec<FidelityCheck>,
    a: &Analysis,
    topo: &Topology,
    runs: &[RunStats],
    r: Range<usize>,
) {
    for (ei, e) in topo.edges.iter().enumerate() {
        let Some(stats) = a
            .edges
            .iter()
            .find(|s| format!("{}->{}", s.caller, s.callee) == e.name)
        else {
            continue;
        };
        let Some(observed) = stats.incident.and_then(|c| c.amplification()) else {
            continue;
        };
        let (mut first, mut all) = (0u64, 0u64);
        for st in runs {
            let es = &st.edges[ei];
            for b in r.clone().filter(|&b| b < es.first_ts.len()) {
                first += es.first_ts[b] as u64;
                all += es.attempts_ts[b] as u64;
            }
        }
        if first > 0 {
            let name = format!("incident amplification {}→{}", stats.caller, stats.callee);
            out.push(check(
                name,
                observed,
                all as f64 / first as f64,
                TOL_AMPLIFICATION,
            ));
        }
    }
}

/// Onset, recovery and "outlived the trigger" (model seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Health {
    onset_s: Option<f64>,
    recovered_s: Option<f64>,
    outlived: bool,
}

fn health(xs: &[Bucket], f: &Frame, (start, end): (f64, f64)) -> Health {
    let w = f.width_s();
    let first = ((start / w) as usize).min(xs.len());
    let end_b = ((end / w).ceil() as usize).min(xs.len());
    let base = figures(xs, 0..first, f);
    let base_ratio = 1.0 - base.error_rate;
    let ok: Vec<bool> = xs
        .iter()
        .map(|b| healthy(b, base_ratio, base.p99, f.sample_rate))
        .collect();
    let onset =
        (first..xs.len()).find(|&b| (b..b + ONSET_SUSTAIN).all(|k| ok.get(k) == Some(&false)));
    let mut from = xs.len();
    while from > end_b && ok[from - 1] {
        from -= 1;
    }
    let recovered = (from < xs.len()).then_some(from as f64 * w);
    Health {
        onset_s: onset.map(|b| b as f64 * w),
        recovered_s: recovered,
        outlived: recovered.is_none_or(|t| t - end > METASTABLE_GRACE_S),
    }
}

/// The rule of `recovery.rs` (success ratio and p99 close to the pre-fault baseline),
/// made robust to thin sampled buckets: a bucket is unhealthy only on at least
/// [`MIN_BAD_SAMPLES`] sampled failures, or that many requests slower than the p99 bound
/// (in a bucket of a dozen requests the p99 is its slowest one).
fn healthy(b: &Bucket, base_ratio: f64, base_p99: Option<f64>, rate: f64) -> bool {
    if b.ok + b.fail == 0.0 {
        return true;
    }
    let failing = b.ok / (b.ok + b.fail) < HEALTHY_SUCCESS_FRACTION * base_ratio;
    if failing && b.fail * rate >= MIN_BAD_SAMPLES {
        return false;
    }
    let Some(bound) = base_p99.map(|p| HEALTHY_P99_FACTOR * p) else {
        return true;
    };
    let slow = b.lat_ms.iter().filter(|&&x| x > bound).count() as f64;
    slow < MIN_BAD_SAMPLES.max(0.01 * b.lat_ms.len() as f64)
}

fn health_checks(
    out: &mut Vec<FidelityCheck>,
    obs: &[Bucket],
    rep: &[Vec<Bucket>],
    f: &Frame,
    fault: (f64, f64),
) {
    let o = health(obs, f, fault);
    let r: Vec<Health> = rep.iter().map(|x| health(x, f, fault)).collect();
    let n = r.len().max(1) as f64;
    // Two buckets, or two standard deviations of the replays when they scatter more.
    let slack = |xs: &[f64]| (TIME_BUCKETS * f.width_s()).max(2.0 * sd(xs));
    let onsets: Vec<f64> = r.iter().filter_map(|h| h.onset_s).collect();
    if let (Some(x), Some(y)) = (o.onset_s, mean_of(&onsets)) {
        out.push(check(
            "onset (s)".into(),
            x,
            y,
            slack(&onsets) / x.max(slack(&onsets)),
        ));
    }
    let never = f.duration_s();
    let recovered: Vec<f64> = r.iter().map(|h| h.recovered_s.unwrap_or(never)).collect();
    let any = r.iter().any(|h| h.recovered_s.is_some());
    if o.recovered_s.is_some() || any {
        let x = o.recovered_s.unwrap_or(never);
        let y = mean_of(&recovered).unwrap_or(never);
        out.push(check(
            "recovery (s)".into(),
            x,
            y,
            slack(&recovered) / x.max(slack(&recovered)),
        ));
    }
    let share = r.iter().filter(|h| h.outlived).count() as f64 / n;
    out.push(check(
        "overload outlived the trigger (share of runs)".into(),
        f64::from(u8::from(o.outlived)),
        share,
        0.5,
    ));
}

fn mean_of(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Sample standard deviation (0 under two values).
fn sd(xs: &[f64]) -> f64 {
    let Some(m) = mean_of(xs).filter(|_| xs.len() >= 2) else {
        return 0.0;
    };
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

fn verdict(checks: &[FidelityCheck]) -> Verdict {
    let share = checks.iter().filter(|c| c.ok).count() as f64 / checks.len().max(1) as f64;
    let baseline_ok = checks
        .iter()
        .filter(|c| c.metric.starts_with("baseline"))
        .all(|c| c.ok);
    let throughput_ok = checks
        .iter()
        .filter(|c| c.metric == "baseline throughput (req/s)")
        .all(|c| c.ok);
    if baseline_ok && share >= GOOD_SHARE {
        Verdict::Good
    } else if throughput_ok && share >= ROUGH_SHARE {
        Verdict::Rough
    } else {
        Verdict::Poor
    }
}

fn rows(obs: &[Bucket], rep: &[Bucket], f: &Frame) -> Vec<BucketRow> {
    let rate = |b: &Bucket| (b.ok + b.fail > 0.0).then(|| round(b.fail / (b.ok + b.fail), 4));
    let p99 = |b: &Bucket| quantile(&mut b.lat_ms.clone(), 0.99).map(|x| round(x, 3));
    obs.iter()
        .zip(rep)
        .enumerate()
        .map(|(i, (o, r))| BucketRow {
            t_s: round(i as f64 * f.width_s(), 6),
            observed_rps: round((o.ok + o.fail) / f.width_s(), 3),
            replayed_rps: round((r.ok + r.fail) / f.width_s(), 3),
            observed_error_rate: rate(o),
            replayed_error_rate: rate(r),
            observed_p99_ms: p99(o),
            replayed_p99_ms: p99(r),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ok: f64, fail: f64, lat: f64) -> Bucket {
        Bucket {
            ok,
            fail,
            lat_ms: vec![lat; 10],
        }
    }

    #[test]
    fn health_finds_onset_recovery_and_metastability() {
        let f = Frame {
            origin_ns: 0,
            width_ns: 1_000_000_000,
            buckets: 40,
            sample_rate: 1.0,
        };
        let mut xs: Vec<Bucket> = (0..40).map(|_| b(10.0, 0.0, 5.0)).collect();
        for x in &mut xs[10..15] {
            *x = b(2.0, 8.0, 90.0);
        }
        let h = health(&xs, &f, (10.0, 14.0));
        assert_eq!(
            (h.onset_s, h.recovered_s, h.outlived),
            (Some(10.0), Some(15.0), false)
        );
        for x in &mut xs[15..] {
            *x = b(2.0, 8.0, 90.0);
        }
        assert!(health(&xs, &f, (10.0, 14.0)).outlived);
    }

    #[test]
    fn checks_and_verdict() {
        assert!(check("x".into(), 100.0, 104.0, 0.05).ok);
        assert!(!check("x".into(), 100.0, 106.0, 0.05).ok);
        assert!(check("x".into(), 0.0, 0.01, 0.02).ok);
        let good = vec![check("baseline throughput (req/s)".into(), 1.0, 1.0, 0.05)];
        assert_eq!(verdict(&good), Verdict::Good);
        let bad = vec![check("baseline throughput (req/s)".into(), 1.0, 2.0, 0.05)];
        assert_eq!(verdict(&bad), Verdict::Poor);
    }
}
