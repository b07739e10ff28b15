//! Fidelity: replay the derived model under the observed policy and compare with what the
//! traces showed — throughput, entry p50/p99 and error rate in the baseline and incident
//! windows, per-edge amplification in the incident, onset and recovery around the fault
//! and whether the overload outlived it — then a verdict. Also the per-bucket series of
//! both sides. Onset and recovery use the rule of `recovery.rs` on both sides.

use std::ops::Range;

use serde::Serialize;

use super::derive::frame::{round, Frame};
use super::derive::Derived;
use super::entry_trace::{figures, mean_buckets, observed, Bucket};
pub use super::entry_trace::{observed_runs, EntryTrace};
use super::health::{health, mean_of, sd, Health};
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
/// The onset is compared when the traces show it within this share of the fault.
pub const ONSET_WITHIN: f64 = 0.5;
/// `good` needs at least this share of checks passing (and every baseline check).
pub const GOOD_SHARE: f64 = 0.8;
/// `rough` needs at least this share (and the baseline throughput); below is `poor`.
pub const ROUGH_SHARE: f64 = 0.5;

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
    pub per_bucket: PerBucket,
    pub buckets: Vec<BucketRow>,
}

/// Bucket-by-bucket error of the replay (descriptive: a sampled bucket is noisy, so the
/// verdict rests on the window checks).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PerBucket {
    /// Median |replayed − observed| / observed throughput.
    pub throughput_rel_error: Option<f64>,
    /// Mean |replayed − observed| error rate.
    pub error_rate_abs_error: Option<f64>,
    /// Median |replayed − observed| / observed p99.
    pub p99_rel_error: Option<f64>,
    pub buckets: usize,
}

/// Per-bucket errors over the buckets both sides saw requests in.
fn per_bucket(rows: &[BucketRow]) -> PerBucket {
    let both: Vec<&BucketRow> = rows
        .iter()
        .filter(|r| r.observed_rps > 0.0 && r.replayed_rps > 0.0)
        .collect();
    let median = |mut xs: Vec<f64>| quantile(&mut xs, 0.5).map(|x| round(x, 4));
    let rel = |o: f64, r: f64| (r - o).abs() / o;
    let errs: Vec<f64> = both
        .iter()
        .filter_map(|r| Some((r.replayed_error_rate? - r.observed_error_rate?).abs()))
        .collect();
    PerBucket {
        throughput_rel_error: median(
            both.iter()
                .map(|r| rel(r.observed_rps, r.replayed_rps))
                .collect(),
        ),
        error_rate_abs_error: mean_of(&errs).map(|x| round(x, 4)),
        p99_rel_error: median(
            both.iter()
                .filter_map(|r| {
                    Some(rel(
                        r.observed_p99_ms.filter(|&x| x > 0.0)?,
                        r.replayed_p99_ms?,
                    ))
                })
                .collect(),
        ),
        buckets: both.len(),
    }
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
    let rep: Vec<Vec<Bucket>> = entry.iter().map(|e| e.buckets().to_vec()).collect();
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
    let buckets = rows(&obs, &mean, f);
    Fidelity {
        verdict: verdict(&checks),
        per_bucket: per_bucket(&buckets),
        buckets,
        checks,
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
    // A first unhealthy bucket late in the fault means the health rule barely sees this
    // fault: its timing is noise, not an onset to reproduce.
    let timed = o
        .onset_s
        .filter(|&x| x <= fault.0 + ONSET_WITHIN * (fault.1 - fault.0));
    if let (Some(x), Some(y)) = (timed, mean_of(&onsets)) {
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
