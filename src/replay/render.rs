//! The replay's outputs: the `cascade.replay/v1` document and the terminal summary (the
//! derived model, the fidelity checks, the policy table with intervals, the recommendation).

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::command::{band_text, Replay, REPLAY_FORMAT};
use super::derive::Derived;
use crate::model::replay::PolicyOutcome;
use crate::output::safe;

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
        "sensitivity": {"band": band_text(&r.derived.json), "cells": r.band},
        "recommendation": r.view.recommendation,
        "seeds": r.view.seeds,
    })
}

/// The terminal summary: model, fidelity, policy table, recommendation.
pub fn text(r: &Replay) -> String {
    let mut s = String::new();
    model_text(&mut s, &r.derived);
    fidelity_text(&mut s, r);
    policy_table(&mut s, r);
    let _ = writeln!(s, "\nRecommendation: {}", safe(&r.view.recommendation));
    s
}

fn fidelity_text(s: &mut String, r: &Replay) {
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
            safe(&c.metric),
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
}

fn policy_table(s: &mut String, r: &Replay) {
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
    for (i, p) in r.view.policies.iter().enumerate() {
        policy_row(s, r, i, p);
    }
}

fn policy_row(s: &mut String, r: &Replay, i: usize, p: &PolicyOutcome) {
    let swept = r.band.iter().any(|c| c.policy == p.name);
    let robust = match (swept, p.robust) {
        (false, _) => "-",
        (true, true) => "yes",
        (true, false) => "no",
    };
    let recover = match (r.derived.fault.is_some(), p.time_to_recover_s) {
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
        safe(&p.name),
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

fn model_text(s: &mut String, d: &Derived) {
    let _ = writeln!(
        s,
        "Derived model: entry {} at {:.1} req/s (sampling rate {}), {:.0} s in {:.0} s buckets",
        safe(&d.entry),
        d.mean_arrival_rate,
        d.frame.sample_rate,
        d.frame.duration_s(),
        d.frame.width_s()
    );
    for v in &d.services {
        let _ = writeln!(
            s,
            "  service {:<20} workers {:>5} ({:?}), self p50 {} ms",
            safe(&v.name),
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
            safe(&e.from),
            safe(&e.to),
            e.count,
            e.p,
            e.max_attempts,
            e.backoff_bounds_ms,
            e.jitter
        );
    }
    match &d.fault {
        Some(f) => {
            for g in &f.segments {
                let _ = writeln!(
                    s,
                    "  fault   {} {:.0}..{:.0} s: self time ×{}, error rate {}",
                    safe(&f.service),
                    g.start_s,
                    g.end_s,
                    g.latency_multiplier,
                    g.error_rate
                );
            }
        }
        None => {
            let _ = writeln!(s, "  fault   none found");
        }
    }
    for n in &d.notes {
        let _ = writeln!(s, "  note    {}", safe(n));
    }
}
