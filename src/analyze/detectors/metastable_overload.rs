//! metastable_overload — the reaction outlived the trigger.
//!
//! Once the source is back at its baseline (see [`crate::analyze::recovery`]), follow four
//! loops bucket by bucket: the system error rate and the entry p99 above their incident
//! thresholds, retries still amplifying an edge, a queue still above its growth threshold.
//! If any stayed raised for [`GRACE_S`] or more past the trigger's end, the overload
//! sustained itself: a metastable failure (Bronson et al., "Metastable Failures in
//! Distributed Systems", HotOS '21; Huang et al., OSDI '22).

use std::collections::BTreeMap;

use super::queue_growth::{baseline_level, floor, GROWTH_FACTOR};
use super::{worst_traces, Context, Detector, EVIDENCE_TRACES};
use crate::analyze::backlog::QueueKind;
use crate::analyze::incident::MIN_BUCKET_SAMPLES;
use crate::analyze::recovery::{forward_fill, persists_until, trigger, Trigger, TriggerSignal};
use crate::model::finding::{EdgeRef, Evidence, Finding, Severity};

/// How long the overload must outlive its trigger (s): the simulator's
/// `metastable_grace_s` — a backlog that takes a few seconds to drain is ordinary recovery.
pub const GRACE_S: f64 = 10.0;
/// An edge still retries when attempts per call stay above its baseline by this factor…
const RETRY_RISE: f64 = 1.1;
/// …and above this many attempts per call (routine retries are under 10 %).
const MIN_AMPLIFICATION: f64 = 1.1;
/// The citation the finding carries.
pub const CITATION: &str =
    "a metastable failure (Bronson et al., \"Metastable Failures in Distributed Systems\", HotOS '21)";

pub struct MetastableOverload;

impl Detector for MetastableOverload {
    fn id(&self) -> &'static str {
        "metastable_overload"
    }

    fn summary(&self) -> &'static str {
        "the reaction outlived the trigger: errors, latency, retries or backlog stay high after the source recovered"
    }

    fn detect(&self, ctx: &Context) -> Vec<Finding> {
        trigger(ctx.services, ctx.errors, ctx.windows)
            .and_then(|tr| finding(ctx, &tr))
            .into_iter()
            .collect()
    }
}

/// One feedback loop or symptom still raised after the trigger ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Loop {
    /// `errors`, `latency`, `retries` or `backlog`.
    pub kind: &'static str,
    /// The edge (retries) or service (backlog) it runs through, if any.
    pub service: Option<String>,
    pub edge: Option<EdgeRef>,
    /// First bucket where it was no longer raised.
    pub until: usize,
    /// Its mean after the trigger ended, and its baseline level.
    pub after: f64,
    pub baseline: f64,
}

fn finding(ctx: &Context, tr: &Trigger) -> Option<Finding> {
    let b = &ctx.windows.buckets;
    let grace = (GRACE_S / b.width_s()).ceil().max(1.0) as usize;
    let mut loops: Vec<Loop> = all_loops(ctx, tr.end)
        .into_iter()
        .filter(|l| l.until >= tr.end + grace)
        .collect();
    loops.sort_by(|a, b| b.until.cmp(&a.until).then(a.kind.cmp(b.kind)));
    let until = loops.first()?.until;
    let at_end = until + grace > b.count;
    let severity = if at_end {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut services = vec![tr.service.clone()];
    for l in &loops {
        for s in l.service.iter().chain(l.edge.iter().map(|e| &e.callee)) {
            if !services.contains(s) {
                services.push(s.clone());
            }
        }
    }
    let mut f = Finding {
        kind: "metastable_overload".into(),
        severity,
        title: title(ctx, tr, &loops, until, at_end),
        services,
        edge: loops.iter().find_map(|l| l.edge.clone()),
        start_ns: b.start_of(tr.end),
        end_ns: b.start_of(until).min(ctx.windows.range.end_ns),
        metrics: BTreeMap::new(),
        evidence: Evidence {
            trace_ids: worst_traces(ctx.table, entries_after(ctx, tr.end), EVIDENCE_TRACES),
        },
    };
    fill_metrics(&mut f.metrics, ctx, tr, &loops, until, at_end);
    Some(f)
}

fn title(ctx: &Context, tr: &Trigger, loops: &[Loop], until: usize, at_end: bool) -> String {
    let b = &ctx.windows.buckets;
    let rel = |k: usize| (b.start_of(k) - ctx.windows.range.start_ns) as f64 / 1e9;
    let names: Vec<String> = loops.iter().map(describe).collect();
    let how_long = if at_end {
        format!(
            "for {:.0} s, still at the end of the data",
            (until - tr.end) as f64 * b.width_s()
        )
    } else {
        format!("for {:.0} s", (until - tr.end) as f64 * b.width_s())
    };
    let ended = match tr.signal {
        TriggerSignal::Traffic => format!(
            "the entry traffic surge at {} ({:.1}× its baseline rate) ended at +{:.0} s",
            tr.service,
            tr.active_mean / tr.baseline.max(f64::MIN_POSITIVE),
            rel(tr.end)
        ),
        _ => format!("{} recovered at +{:.0} s", tr.service, rel(tr.end)),
    };
    format!(
        "{ended} but {} stayed high {how_long}: the overload outlived its trigger — {CITATION}",
        names.join(", "),
    )
}

fn describe(l: &Loop) -> String {
    match (l.kind, &l.edge, &l.service) {
        ("retries", Some(e), _) => {
            format!("retries on {} → {} ({:.2}×)", e.caller, e.callee, l.after)
        }
        ("backlog", _, Some(s)) => format!("the {s} backlog"),
        ("errors", _, _) => format!("the error rate ({:.0} %)", 100.0 * l.after),
        ("latency", _, _) => format!("entry p99 ({:.0} ms)", l.after),
        (k, _, _) => k.to_string(),
    }
}

/// Every loop, followed from bucket `from`.
pub fn all_loops(ctx: &Context, from: usize) -> Vec<Loop> {
    let mut out = vec![error_loop(ctx, from), latency_loop(ctx, from)];
    out.extend(retry_loops(ctx, from));
    out.extend(backlog_loops(ctx, from));
    out
}

/// Mean of the `Some` values of `v` over `from..until`.
fn mean_over(v: &[Option<f64>], from: usize, until: usize) -> f64 {
    let xs: Vec<f64> = v
        .get(from..until.max(from))
        .unwrap_or(&[])
        .iter()
        .flatten()
        .copied()
        .collect();
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

fn error_loop(ctx: &Context, from: usize) -> Loop {
    let s = &ctx.windows.signals;
    let rates: Vec<Option<f64>> = s
        .entry_requests
        .iter()
        .zip(&s.errors)
        .map(|(&n, &e)| (n >= MIN_BUCKET_SAMPLES).then(|| e as f64 / n as f64))
        .collect();
    let th = s.error_rate_threshold;
    let flags: Vec<bool> = rates
        .iter()
        .map(|r| matches!((r, th), (Some(r), Some(t)) if r > &t))
        .collect();
    let until = persists_until(&flags, from);
    Loop {
        kind: "errors",
        service: None,
        edge: None,
        until,
        after: mean_over(&rates, from, until),
        baseline: baseline_level(ctx, &rates),
    }
}

fn latency_loop(ctx: &Context, from: usize) -> Loop {
    let s = &ctx.windows.signals;
    let th = s.entry_p99_threshold_ms;
    let flags: Vec<bool> = s
        .entry_p99_ms
        .iter()
        .map(|v| matches!((v, th), (Some(v), Some(t)) if v > &t))
        .collect();
    let until = persists_until(&flags, from);
    Loop {
        kind: "latency",
        service: None,
        edge: None,
        until,
        after: mean_over(&s.entry_p99_ms, from, until),
        baseline: baseline_level(ctx, &s.entry_p99_ms),
    }
}

/// Edges whose attempts per call stayed above baseline after the trigger.
fn retry_loops(ctx: &Context, from: usize) -> Vec<Loop> {
    ctx.edges
        .iter()
        .filter_map(|e| {
            let base = e.baseline.amplification().unwrap_or(1.0);
            let th = (base * RETRY_RISE).max(MIN_AMPLIFICATION);
            let amp: Vec<Option<f64>> = e
                .series
                .calls
                .iter()
                .zip(&e.series.attempts)
                .map(|(&c, &a)| (c > 0).then(|| f64::from(a) / f64::from(c)))
                .collect();
            let flags: Vec<bool> = amp.iter().map(|v| v.is_some_and(|v| v > th)).collect();
            let until = persists_until(&flags, from);
            (until > from).then(|| Loop {
                kind: "retries",
                service: None,
                edge: Some(EdgeRef {
                    caller: e.caller.clone(),
                    callee: e.callee.clone(),
                }),
                until,
                after: mean_over(&amp, from, until),
                baseline: base,
            })
        })
        .collect()
}

/// Queues (not in-flight counts: latency alone raises those) still above their growth
/// threshold after the trigger; the strongest evidence per service.
fn backlog_loops(ctx: &Context, from: usize) -> Vec<Loop> {
    let mut out: Vec<Loop> = Vec::new();
    for q in ctx.queues.iter().filter(|q| q.kind != QueueKind::InFlight) {
        if out.last().and_then(|l| l.service.as_deref()) == Some(q.service.as_str()) {
            continue;
        }
        let baseline = baseline_level(ctx, &q.values.to_vec());
        let th = (GROWTH_FACTOR * baseline).max(floor(q.kind));
        let filled = forward_fill(&q.values.to_vec());
        let flags: Vec<bool> = filled.iter().map(|v| v.is_some_and(|v| v >= th)).collect();
        let until = persists_until(&flags, from);
        if until > from {
            out.push(Loop {
                kind: "backlog",
                service: Some(q.service.clone()),
                edge: None,
                until,
                after: mean_over(&filled, from, until),
                baseline,
            });
        }
    }
    out
}

fn fill_metrics(
    m: &mut BTreeMap<String, f64>,
    ctx: &Context,
    tr: &Trigger,
    loops: &[Loop],
    until: usize,
    at_end: bool,
) {
    let b = &ctx.windows.buckets;
    let rel = |k: usize| (b.start_of(k) - ctx.windows.range.start_ns) as f64 / 1e9;
    let mut put = |k: String, v: f64| {
        m.insert(k, v);
    };
    put("trigger_start_s".into(), rel(tr.start));
    put("trigger_end_s".into(), rel(tr.end));
    put("source_baseline".into(), tr.baseline);
    put("source_active_mean".into(), tr.active_mean);
    put("outlived_s".into(), (until - tr.end) as f64 * b.width_s());
    put("grace_s".into(), GRACE_S);
    put("still_active_at_end".into(), f64::from(u8::from(at_end)));
    put("loops".into(), loops.len() as f64);
    for l in loops {
        let name = match (&l.edge, &l.service) {
            (Some(e), _) => format!("{}.{}->{}", l.kind, e.caller, e.callee),
            (_, Some(s)) => format!("{}.{s}", l.kind),
            _ => l.kind.to_string(),
        };
        put(format!("{name}.after"), l.after);
        put(format!("{name}.baseline"), l.baseline);
        put(
            format!("{name}.outlived_s"),
            (l.until - tr.end) as f64 * b.width_s(),
        );
    }
}

/// Entry requests that started after the trigger ended, scored by duration (µs), errors
/// counted as twice their duration.
fn entries_after(ctx: &Context, from: usize) -> Vec<(u64, u32)> {
    let t = ctx.table;
    let since = ctx.windows.buckets.start_of(from);
    (0..t.len())
        .filter(|&i| t.parent_of(i).is_none() && t.start[i] >= since)
        .map(|i| {
            let us = (t.duration(i) / 1000).max(0) as u64;
            (if t.is_error(i) { 2 * us } else { us }, t.trace[i])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::analyze::backlog::testdata::{db_queue, with_queue_logs};
    use crate::analyze::backlog::DEPTH_FIELDS;
    use crate::analyze::testkit::Scenario;
    use crate::analyze::{analyze, Analysis, AnalyzeOptions};
    use crate::model::finding::{Finding, Severity};

    fn faulty() -> Scenario {
        Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        }
    }

    fn metastable(rise: i64, drain: i64, sc: &Scenario) -> (Analysis, Option<Finding>) {
        let data = with_queue_logs(sc, "db", DEPTH_FIELDS[0], db_queue(rise, drain));
        let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
        let f = a
            .findings
            .iter()
            .find(|f| f.kind == "metastable_overload")
            .cloned();
        (a, f)
    }

    #[test]
    fn a_backlog_that_outlives_the_fault_is_metastable() {
        let (_, f) = metastable(20, 0, &faulty());
        let f = f.expect("metastable finding");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!(f.services[0], "db");
        let m = &f.metrics;
        assert!((418.0..=423.0).contains(&m["trigger_end_s"]), "{m:?}");
        assert!(m["outlived_s"] >= 170.0, "{m:?}");
        assert_eq!(m["still_active_at_end"], 1.0);
        assert!(m["backlog.db.after"] > 1000.0, "{m:?}");
        assert!(f.title.contains("the db backlog") && f.title.contains("HotOS '21"));
        assert!(!f.evidence.trace_ids.is_empty());
    }

    #[test]
    fn a_slow_drain_past_the_grace_is_a_warning() {
        // Peak ~3600 drained at 120/s: about 30 s past the fault's end.
        let (_, f) = metastable(20, 120, &faulty());
        let f = f.expect("metastable finding");
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            (20.0..=40.0).contains(&f.metrics["outlived_s"]),
            "{:?}",
            f.metrics
        );
        assert_eq!(f.metrics["still_active_at_end"], 0.0);
    }

    #[test]
    fn a_clean_recovery_and_a_quiet_system_say_nothing() {
        let (a, f) = metastable(20, 2000, &faulty());
        assert!(f.is_none(), "{f:?}");
        assert!(a.windows.incident.is_some());
        let (a, f) = metastable(0, 0, &Scenario::default());
        assert!(f.is_none() && a.windows.incident.is_none());
    }
}
