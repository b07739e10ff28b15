//! `cascade replay`: derive the incident model from the analysis, check its fidelity
//! under the observed policy, replay the alternatives over common seeds, sweep the
//! sensitivity band, rank and recommend. [`replay`] computes everything, [`replay_view`]
//! is what `report --replay` renders, [`document`] is `cascade.replay/v1` and [`text`]
//! the terminal table.

use std::fmt::Write as _;
use std::ops::Range;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Value};

use super::calibrate::calibrate_entry;
use super::derive::{derive, DeriveOptions, Derived};
use super::fidelity::{fidelity, observed_runs, Fidelity};
use super::policies::{catalogue, metrics, outcome, run_map, topology, Candidate};
use super::recommend::{rank, recommendation};
use super::sensitivity::{
    self, BandCell, CAPACITY_BAND, DURATION_BAND, SIZE_BAND, SWEEP_CANDIDATES, SWEEP_SEEDS,
};
use crate::analyze::Analysis;
use crate::ingest::Dataset;
use crate::model::replay::{PolicyOutcome, ReplayView};

/// Format tag of the replay document.
pub const REPLAY_FORMAT: &str = "cascade.replay/v1";

/// Options of a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Sampling rate and configured capacities (default: unsampled, capacity from traces).
    pub derive: DeriveOptions,
    /// Extra `--policy` specs, each one alternative (`;` joins several; default none).
    pub policies: Vec<String>,
    /// Seeds per policy (default 10), common to every policy.
    pub seeds: u32,
    /// First seed (default 1).
    pub first_seed: u64,
    /// Run the sensitivity sweep (default true).
    pub sweep: bool,
    /// Draw a progress bar on stderr (default false; `app` sets it on a terminal).
    pub progress: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            derive: DeriveOptions::default(),
            policies: Vec::new(),
            seeds: 10,
            first_seed: 1,
            sweep: true,
            progress: false,
        }
    }
}

/// Everything a replay found.
#[derive(Debug, Clone)]
pub struct Replay {
    pub derived: Derived,
    pub fidelity: Fidelity,
    pub view: ReplayView,
    pub band: Vec<BandCell>,
    /// Evaluation window of the policy figures (model seconds).
    pub window_s: (f64, f64),
}

/// The view `report --replay` renders.
pub fn replay_view(_data: &Dataset, a: &Analysis, o: &ReplayOptions) -> Result<ReplayView> {
    Ok(replay(a, o)?.view)
}

/// Runs the whole replay.
pub fn replay(a: &Analysis, o: &ReplayOptions) -> Result<Replay> {
    let mut derived = derive(a, &o.derive)?;
    let seeds: Vec<u64> = (0..o.seeds.max(1) as u64)
        .map(|i| o.first_seed.wrapping_add(i))
        .collect();
    calibrate_entry(a, &mut derived, &seeds)?;
    let cands = catalogue(&o.policies);
    let topos = cands
        .iter()
        .map(|c| topology(&derived.model, c))
        .collect::<Result<Vec<_>>>()?;
    let window = eval_window(&derived);
    let variants = if o.sweep {
        sensitivity::variants(&derived.json, derived.frame.width_s())?
    } else {
        Vec::new()
    };
    let sweep_seeds = &seeds[..seeds.len().min(SWEEP_SEEDS)];
    let sweep_runs = variants.len() * (SWEEP_CANDIDATES + 1) * sweep_seeds.len();
    let bar = progress_bar(o.progress, (topos.len() * seeds.len() + sweep_runs) as u64);
    let (observed, entry) = observed_runs(&topos[0], &seeds, derived.frame.sample_rate, &bar);
    let fid = fidelity(a, &derived, &topos[0], &observed, &entry);
    let mut all = vec![observed
        .iter()
        .map(|st| metrics(&topos[0], st, window.clone()))
        .collect::<Vec<_>>()];
    all.extend(run_map(&topos[1..], &seeds, &bar, |_, t, st| {
        metrics(t, &st, window.clone())
    }));
    let mut outcomes: Vec<PolicyOutcome> =
        cands.iter().zip(&all).map(|(c, r)| outcome(c, r)).collect();
    rank(&mut outcomes);
    let band = sweep_band(
        &variants,
        &mut outcomes,
        &cands,
        sweep_seeds,
        window.clone(),
        &bar,
    )?;
    bar.finish_and_clear();
    let fault = derived.fault.is_some();
    let view = ReplayView {
        verdict: fid.verdict,
        fidelity: fid.checks.clone(),
        recommendation: recommendation(&outcomes, fault, o.sweep.then(band_text).as_deref()),
        policies: outcomes,
        seeds: seeds.len() as u32,
    };
    let w = derived.frame.width_s();
    Ok(Replay {
        window_s: (window.start as f64 * w, window.end as f64 * w),
        derived,
        fidelity: fid,
        view,
        band,
    })
}

/// From the fault's first bucket (else the incident's, else 0) to the end.
fn eval_window(d: &Derived) -> Range<usize> {
    let w = d.frame.width_s();
    let start = d
        .fault
        .as_ref()
        .and_then(|f| f.window())
        .map_or(0, |(s, _)| (s / w) as usize);
    start.min(d.frame.buckets)..d.frame.buckets
}

/// Re-runs the observed policy and the leading alternatives on the band, sets `robust`
/// and re-ranks.
fn sweep_band(
    variants: &[sensitivity::Variant],
    outcomes: &mut [PolicyOutcome],
    cands: &[Candidate],
    seeds: &[u64],
    window: Range<usize>,
    bar: &ProgressBar,
) -> Result<Vec<BandCell>> {
    let lead: Vec<Candidate> = outcomes
        .iter()
        .take(SWEEP_CANDIDATES + 1)
        .filter_map(|o| cands.iter().find(|c| c.name == o.name).cloned())
        .collect();
    let cells = sensitivity::sweep(variants, &lead, seeds, window, bar)?;
    let swept = |name: &str| !variants.is_empty() && lead.iter().any(|c| c.name == name);
    for o in outcomes.iter_mut() {
        o.robust =
            swept(&o.name) && o.outlived_trigger == 0.0 && sensitivity::robust(&cells, &o.name);
    }
    rank(outcomes);
    Ok(cells)
}

fn band_text() -> String {
    format!(
        "fault size ±{:.0} %, fault duration ±{:.0} %, capacity ±{:.0} %",
        SIZE_BAND * 100.0,
        DURATION_BAND * 100.0,
        CAPACITY_BAND * 100.0
    )
}

fn progress_bar(show: bool, runs: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(runs);
    if let Ok(style) = ProgressStyle::with_template("replay {bar:30} {pos}/{len} runs {elapsed}") {
        bar.set_style(style);
    }
    bar
}

/// The `cascade.replay/v1` document.
pub fn document(r: &Replay) -> Value {
    let d = &r.derived;
    json!({
        "schema": REPLAY_FORMAT,
        "model": {
            "entry": d.entry,
            "duration_s": d.frame.duration_s(),
            "bucket_s": d.frame.width_s(),
            "sample_rate": d.frame.sample_rate,
            "mean_arrival_rate_per_s": d.mean_arrival_rate,
            "services": d.services,
            "edges": d.edges,
            "fault": d.fault,
            "notes": d.notes,
        },
        "fidelity": {"verdict": r.view.verdict, "checks": r.view.fidelity,
            "per_bucket": r.fidelity.per_bucket, "buckets": r.fidelity.buckets},
        "evaluation_window_s": [r.window_s.0, r.window_s.1],
        "policies": r.view.policies,
        "sensitivity": {"band": band_text(), "cells": r.band},
        "recommendation": r.view.recommendation,
        "seeds": r.view.seeds,
    })
}

/// The terminal summary: model, fidelity, policy table, recommendation.
pub fn text(r: &Replay) -> String {
    let mut s = String::new();
    model_text(&mut s, &r.derived);
    let _ = writeln!(
        s,
        "\nFidelity (observed policy replayed vs traces): {}",
        r.view.verdict.as_str()
    );
    for c in &r.view.fidelity {
        let mark = if c.ok { "ok  " } else { "MISS" };
        let _ = writeln!(
            s,
            "  {mark} {:<52} observed {:>10.3}  replayed {:>10.3}  (±{:.0} %)",
            c.metric,
            c.observed,
            c.replayed,
            c.tolerance * 100.0
        );
    }
    let pb = &r.fidelity.per_bucket;
    let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.0} %", v * 100.0));
    let _ = writeln!(
        s,
        "  per bucket ({} buckets, descriptive): throughput off by {} (median), error rate by {} (mean), p99 by {} (median)",
        pb.buckets,
        pct(pb.throughput_rel_error),
        pb.error_rate_abs_error.map_or("-".into(), |v| format!("{v:.3}")),
        pct(pb.p99_rel_error)
    );
    let _ = writeln!(
        s,
        "\nPolicies over {} seeds, from {:.0} s to {:.0} s (95 % CI):",
        r.view.seeds, r.window_s.0, r.window_s.1
    );
    let _ = writeln!(
        s,
        "  {:<3} {:<58} {:>17} {:>13} {:>16} {:>6} {:>8} {:>9} {:>8} {:>6}",
        "#",
        "policy",
        "goodput req/s",
        "error %",
        "p99 ms",
        "amp",
        "queue",
        "recover s",
        "outlived",
        "robust"
    );
    let swept = |name: &str| r.band.iter().any(|c| c.policy == name);
    let fault = r.derived.fault.is_some();
    for (i, p) in r.view.policies.iter().enumerate() {
        let robust = match (swept(&p.name), p.robust) {
            (false, _) => "-",
            (true, true) => "yes",
            (true, false) => "no",
        };
        let recover = match (fault, p.time_to_recover_s) {
            (false, _) => "-".to_string(),
            (true, None) => "never".to_string(),
            (true, Some(t)) => format!("{:.0}", t.mean),
        };
        let rank = if i == 0 {
            "obs".to_string()
        } else {
            i.to_string()
        };
        let _ = writeln!(
            s,
            "  {:<3} {:<58} {:>17} {:>13} {:>16} {:>6.2} {:>8.0} {:>9} {:>7.0}% {:>6}",
            rank,
            p.name,
            format!(
                "{:.1} [{:.1},{:.1}]",
                p.goodput_rps.mean, p.goodput_rps.lo, p.goodput_rps.hi
            ),
            format!(
                "{:.1} ±{:.1}",
                100.0 * p.error_rate.mean,
                50.0 * (p.error_rate.hi - p.error_rate.lo)
            ),
            format!(
                "{:.0} ±{:.0}",
                p.p99_ms.mean,
                (p.p99_ms.hi - p.p99_ms.lo) / 2.0
            ),
            p.peak_amplification.mean,
            p.peak_queue.mean,
            recover,
            100.0 * p.outlived_trigger,
            robust,
        );
    }
    let _ = writeln!(s, "\nRecommendation: {}", r.view.recommendation);
    s
}

fn model_text(s: &mut String, d: &Derived) {
    let _ = writeln!(
        s,
        "Derived model: entry {} at {:.1} req/s (sampling rate {}), {:.0} s in {:.0} s buckets",
        d.entry,
        d.mean_arrival_rate,
        d.frame.sample_rate,
        d.frame.duration_s(),
        d.frame.width_s()
    );
    for v in &d.services {
        let _ = writeln!(
            s,
            "  service {:<20} workers {:>5} ({:?}), self p50 {} ms",
            v.name,
            v.capacity.workers,
            v.capacity.source,
            v.self_p50_ms.map_or("-".into(), |x| format!("{x:.2}"))
        );
    }
    for e in &d.edges {
        let t = e.timeout_ms.map_or("none".into(), |x| format!("{x} ms"));
        let _ = writeln!(
            s,
            "  call    {}→{} ×{} (p {}), attempts {}, timeout {t}, backoff {:?} ms ({})",
            e.from, e.to, e.count, e.p, e.max_attempts, e.backoff_bounds_ms, e.jitter
        );
    }
    match &d.fault {
        Some(f) => {
            for g in &f.segments {
                let _ = writeln!(
                    s,
                    "  fault   {} {:.0}..{:.0} s: self time ×{}, error rate {}",
                    f.service, g.start_s, g.end_s, g.latency_multiplier, g.error_rate
                );
            }
        }
        None => {
            let _ = writeln!(s, "  fault   none found");
        }
    }
    for n in &d.notes {
        let _ = writeln!(s, "  note    {n}");
    }
}
