//! The policies a replay compares (the observed one, REPLAY.md's alternatives with their
//! published defaults, and the user's `--policy` specs), the figures of one run over the
//! evaluation window, and their mean with a 95 % confidence interval over seeds. Runs go
//! through [`run_map`]: policies × seeds in parallel with rayon, merged in input order.

use std::ops::Range;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use rayon::prelude::*;

use super::compare::split_specs;
use super::model::IncidentModel;
use super::recovery::recovery;
use super::sim::stats::p99;
use super::sim::{self, RunStats, Topology};
use super::simulate::compile;
use super::spec::parse_specs;
use crate::model::replay::{Estimate, PolicyOutcome};

/// A policy set to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub name: String,
    /// `--policy` specs applied over the observed policies (empty = observed).
    pub specs: Vec<String>,
}

/// REPLAY.md's alternatives with their published defaults (the spec defaults of `spec.rs`).
pub const ALTERNATIVES: [(&str, &str); 11] = [
    ("no retries", "none"),
    (
        "AWS SDK retries (3 attempts, 100 ms base, 20 s cap, full jitter)",
        "retry",
    ),
    ("retry budget 20 % (Finagle)", "budget"),
    ("retry budget 10 % (Google SRE)", "budget:ratio=0.1"),
    ("gRPC retry throttling (10 tokens, 0.1)", "throttle"),
    ("adaptive client throttling (SRE, K = 2)", "adaptive"),
    (
        "circuit breaker (Hystrix: 20 requests, 50 %, 5 s)",
        "breaker",
    ),
    ("deadline propagation", "deadline"),
    ("CoDel load shedding (5 ms / 100 ms)", "codel"),
    ("concurrency limit (bulkhead 25)", "limit"),
    ("hedging at p95", "hedge"),
];

/// Minimum first attempts in a bucket for its amplification to count towards the peak.
pub const MIN_PEAK_FIRST_ATTEMPTS: u32 = 10;

/// The observed policy, the alternatives, then the user's specs (`;` joins several).
pub fn catalogue(user: &[String]) -> Vec<Candidate> {
    let mut out = vec![Candidate {
        name: "observed".into(),
        specs: Vec::new(),
    }];
    out.extend(ALTERNATIVES.iter().map(|(n, s)| Candidate {
        name: (*n).into(),
        specs: vec![(*s).into()],
    }));
    out.extend(user.iter().map(|u| Candidate {
        name: u.clone(),
        specs: split_specs(u),
    }));
    out
}

/// Compiles a candidate over a model.
pub fn topology(m: &IncidentModel, c: &Candidate) -> Result<Topology> {
    let o = parse_specs(&c.specs).with_context(|| format!("policy `{}`", c.name))?;
    compile(m, &o)
}

/// Runs every (topology, seed) pair in parallel and maps each run with `f` (called with the
/// topology's index); results per topology in seed order, whatever the thread count.
pub fn run_map<T: Send>(
    topos: &[Topology],
    seeds: &[u64],
    bar: &ProgressBar,
    f: impl Fn(usize, &Topology, RunStats) -> T + Sync,
) -> Vec<Vec<T>> {
    let pairs: Vec<(usize, u64)> = (0..topos.len())
        .flat_map(|i| seeds.iter().map(move |&s| (i, s)))
        .collect();
    let mut flat: Vec<(usize, T)> = pairs
        .par_iter()
        .map(|&(i, s)| {
            let (st, _) = sim::run(&topos[i], s, sim::NoRecorder);
            bar.inc(1);
            (i, f(i, &topos[i], st))
        })
        .collect();
    let mut out: Vec<Vec<T>> = (0..topos.len()).map(|_| Vec::new()).collect();
    for (i, x) in flat.drain(..) {
        out[i].push(x);
    }
    out
}

/// The figures of one run over the evaluation window.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RunMetrics {
    pub successes: f64,
    pub failures: f64,
    pub error_rate: f64,
    pub goodput_rps: f64,
    pub p99_ms: f64,
    pub peak_amplification: f64,
    pub peak_queue: f64,
    pub time_to_recover_s: Option<f64>,
    pub outlived: bool,
}

/// Figures of run `st` over buckets `w`.
pub fn metrics(topo: &Topology, st: &RunStats, w: Range<usize>) -> RunMetrics {
    let w = w.start.min(topo.buckets)..w.end.min(topo.buckets);
    let sum = |xs: &[u32]| xs[w.clone()].iter().map(|&x| x as f64).sum::<f64>();
    let (ok, fail) = (sum(&st.ext_ok), sum(&st.ext_fail));
    let mut lat: Vec<f64> = st.ext_latency[w.clone()]
        .iter()
        .flatten()
        .copied()
        .collect();
    let secs = (w.len() as f64 * topo.interval).max(topo.interval);
    let rec = recovery(topo, st);
    RunMetrics {
        successes: ok,
        failures: fail,
        error_rate: if ok + fail > 0.0 {
            fail / (ok + fail)
        } else {
            0.0
        },
        goodput_rps: ok / secs,
        p99_ms: p99(&mut lat).unwrap_or(0.0) * 1000.0,
        peak_amplification: peak_amplification(st, w),
        peak_queue: st.services.iter().map(|s| s.peak_queue).max().unwrap_or(0) as f64,
        time_to_recover_s: rec.as_ref().and_then(|r| r.time_to_recover_s),
        outlived: rec.is_some_and(|r| r.overload_outlived_fault),
    }
}

/// Largest per-bucket attempts / first attempts over the edges (busy buckets only).
fn peak_amplification(st: &RunStats, w: Range<usize>) -> f64 {
    let mut peak: f64 = 1.0;
    for e in &st.edges {
        for b in w.clone() {
            let (first, all) = (e.first_ts[b], e.attempts_ts[b]);
            if first >= MIN_PEAK_FIRST_ATTEMPTS {
                peak = peak.max(all as f64 / first as f64);
            }
        }
    }
    peak
}

/// Two-sided 95 % Student t quantiles for 1..=30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];
/// The normal quantile beyond 30 degrees of freedom.
const Z95: f64 = 1.96;

/// Mean and 95 % confidence interval (Student t) of `xs`; every figure compared here is
/// non-negative, so the lower bound stops at 0.
pub fn estimate(xs: &[f64]) -> Estimate {
    let n = xs.len();
    let mean = xs.iter().sum::<f64>() / n.max(1) as f64;
    if n < 2 {
        return Estimate {
            mean,
            lo: mean,
            hi: mean,
            n: n as u32,
        };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let t = T95.get(n - 2).copied().unwrap_or(Z95);
    let half = t * (var / n as f64).sqrt();
    let r = |x: f64| super::derive::frame::round(x, 4);
    Estimate {
        mean: r(mean),
        lo: r((mean - half).max(0.0)),
        hi: r(mean + half),
        n: n as u32,
    }
}

/// A candidate's outcome over its runs (`robust` is set later by the sensitivity sweep).
pub fn outcome(c: &Candidate, runs: &[RunMetrics]) -> PolicyOutcome {
    let col = |f: &dyn Fn(&RunMetrics) -> f64| estimate(&runs.iter().map(f).collect::<Vec<_>>());
    let ttr: Vec<f64> = runs.iter().filter_map(|r| r.time_to_recover_s).collect();
    let outlived = runs.iter().filter(|r| r.outlived).count() as f64 / runs.len().max(1) as f64;
    PolicyOutcome {
        name: c.name.clone(),
        specs: c.specs.clone(),
        goodput_rps: col(&|r| r.goodput_rps),
        error_rate: col(&|r| r.error_rate),
        p99_ms: col(&|r| r.p99_ms),
        peak_amplification: col(&|r| r.peak_amplification),
        peak_queue: col(&|r| r.peak_queue),
        time_to_recover_s: (2 * ttr.len() > runs.len()).then(|| estimate(&ttr)),
        outlived_trigger: outlived,
        robust: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_uses_student_t() {
        let e = estimate(&[1.0, 2.0, 3.0]);
        assert_eq!(e.mean, 2.0);
        assert!((e.hi - (2.0 + 4.303 / 3f64.sqrt())).abs() < 1e-3);
        assert_eq!(estimate(&[5.0]).lo, 5.0);
    }

    #[test]
    fn catalogue_specs_parse() {
        let c = catalogue(&["retry:attempts=2;budget:ratio=0.05".into()]);
        assert_eq!(c[0].name, "observed");
        assert_eq!(c.last().unwrap().specs.len(), 2);
        for cand in &c {
            parse_specs(&cand.specs).unwrap();
        }
    }
}
