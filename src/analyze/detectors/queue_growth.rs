//! queue_growth — pressure turned into backlog.
//!
//! Per service, the strongest queue evidence that grew (see [`crate::analyze::backlog`]):
//! log queue depth, log queue wait, messaging lag, wait before service, in-flight. A series
//! grew when it stayed at or above max([`GROWTH_FACTOR`] × its baseline median, a floor)
//! for [`SUSTAIN_BUCKETS`] buckets. Reported: baseline, peak, growth rate, when it drained
//! and how long after the trigger ended, arrivals vs completions, and Little's law
//! (L = λW) over the growth as a consistency check of in-flight, throughput and latency.

use std::collections::BTreeMap;

use super::{worst_traces, Context, Detector, EVIDENCE_TRACES};
use crate::analyze::backlog::{QueueKind, QueueSeries};
use crate::analyze::incident::{sustained_runs, SUSTAIN_BUCKETS};
use crate::analyze::little;
use crate::analyze::onset::LOOKBACK_BUCKETS;
use crate::analyze::recovery::{forward_fill, trigger, Trigger};
use crate::analyze::services::ServiceStats;
use crate::analyze::stats::quantile;
use crate::model::finding::{Evidence, Finding, Severity};

/// A warning needs a queue that grew tenfold over its baseline… (the simulator's
/// `queue_growth_factor`)
pub const GROWTH_FACTOR: f64 = 10.0;
/// …and to at least this many items (the simulator's `queue_growth_floor`): a queue of 5
/// that becomes 40 is busy, not backed up.
pub const FLOOR_ITEMS: f64 = 50.0;
/// …or waits of at least this long (ms): well above network and scheduling noise between
/// a client span's start and its server span's start.
pub const FLOOR_WAIT_MS: f64 = 50.0;

/// Below the warning bar, a queue that tripled and reached a fifth of the floor is still worth
/// a note (info): real pressure that did not become a backlog.
pub const NOTE_FACTOR: f64 = 3.0;
pub const NOTE_FLOOR_SHARE: f64 = 0.2;

/// In-flight within this share of its peak counts as "at the ceiling".
const PLATEAU_SHARE: f64 = 0.9;

pub struct QueueGrowth;

impl Detector for QueueGrowth {
    fn id(&self) -> &'static str {
        "queue_growth"
    }

    fn summary(&self) -> &'static str {
        "pressure turned into backlog: queue depth, lag, wait before service, in-flight"
    }

    fn detect(&self, ctx: &Context) -> Vec<Finding> {
        let trig = trigger(ctx.services, ctx.errors, ctx.windows);
        // Queues are ordered by service: each service's evidence is one run.
        ctx.queues
            .chunk_by(|a, b| a.service == b.service)
            .filter_map(|run| service_finding(ctx, run, trig.as_ref()))
            .collect()
    }
}

/// How one series grew.
#[derive(Debug, Clone, PartialEq)]
pub struct Growth {
    pub baseline: f64,
    pub threshold: f64,
    pub peak: f64,
    pub onset: usize,
    pub peak_at: usize,
    /// First bucket back under the threshold (`None`: still above at the end of the data).
    pub drained_at: Option<usize>,
    /// Whether it cleared the floor too (else it only rose by the factor).
    pub above_floor: bool,
}

/// The floor of a kind of evidence.
pub fn floor(kind: QueueKind) -> f64 {
    match kind.unit() {
        "ms" => FLOOR_WAIT_MS,
        _ => FLOOR_ITEMS,
    }
}

/// The median of `series` over the baseline buckets (0 without samples).
pub fn baseline_level(ctx: &Context, series: &[Option<f64>]) -> f64 {
    let range = ctx.windows.buckets.within(&ctx.windows.baseline);
    let mut v: Vec<f64> = series
        .get(range)
        .unwrap_or(&[])
        .iter()
        .flatten()
        .copied()
        .collect();
    quantile(&mut v, 0.5).unwrap_or(0.0)
}

/// The bar for a note: [`NOTE_FACTOR`]× the baseline and a share of the floor; for sampled
/// in-flight counts only the full factor (latency alone multiplies them, Little's law).
fn note_threshold(kind: QueueKind, baseline: f64) -> f64 {
    match kind {
        QueueKind::InFlight => GROWTH_FACTOR * baseline,
        _ => (NOTE_FACTOR * baseline).max(NOTE_FLOOR_SHARE * floor(kind)),
    }
}

/// Where to look for growth: from a little before the incident (the whole range without).
fn scan_from(ctx: &Context) -> usize {
    ctx.incident().map_or(0, |w| {
        ctx.windows
            .buckets
            .within(&w)
            .start
            .saturating_sub(LOOKBACK_BUCKETS)
    })
}

/// Whether and how `q` grew: sustained at or above the threshold (floor included), else
/// sustained at or above the factor alone (`above_floor` false).
pub fn growth(ctx: &Context, q: &QueueSeries) -> Option<Growth> {
    // Only a positive value can be over a threshold: a series without one (no wait, nothing
    // in flight) cannot grow, and is not expanded to check.
    if q.values.all(|v| v.is_none_or(|v| v <= 0.0)) {
        return None;
    }
    let baseline = baseline_level(ctx, &q.values.to_vec());
    let by_factor = GROWTH_FACTOR * baseline;
    let threshold = by_factor.max(floor(q.kind));
    let filled = forward_fill(&q.values.to_vec());
    let from = scan_from(ctx);
    let runs_over = |th: f64| {
        let flags: Vec<bool> = filled
            .iter()
            .enumerate()
            .map(|(k, v)| k >= from && v.is_some_and(|v| v >= th && v > 0.0))
            .collect();
        sustained_runs(&flags, SUSTAIN_BUCKETS)
    };
    let note = note_threshold(q.kind, baseline);
    let (runs, above_floor, th) = match runs_over(threshold) {
        r if !r.is_empty() => (r, true, threshold),
        _ if note > 0.0 => (runs_over(note), false, note),
        _ => return None,
    };
    let (onset, end) = (runs.first()?.start, runs.last()?.end);
    let (peak_at, peak) = (onset..end)
        .filter_map(|k| filled[k].map(|v| (k, v)))
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
    Some(Growth {
        baseline,
        threshold: th,
        peak,
        onset,
        peak_at,
        drained_at: (end < filled.len()).then_some(end),
        above_floor,
    })
}

/// The finding of one service from its queue evidence (`run`: one service's, strongest
/// kind first).
fn service_finding(ctx: &Context, run: &[QueueSeries], trig: Option<&Trigger>) -> Option<Finding> {
    let name = run.first()?.service.as_str();
    let grown: Vec<(&QueueSeries, Growth)> = run
        .iter()
        .filter_map(|q| growth(ctx, q).map(|g| (q, g)))
        .collect();
    // Strongest kind that cleared the floor; else the strongest that rose by the factor.
    let (q, g) = grown
        .iter()
        .find(|(_, g)| g.above_floor)
        .or_else(|| grown.first())?;
    let severity = severity(q.kind, g);
    let svc = ctx.service(name);
    let mut f = Finding {
        kind: "queue_growth".into(),
        severity,
        title: title(ctx, q, g, trig),
        services: vec![name.to_string()],
        edge: None,
        start_ns: ctx.windows.buckets.start_of(g.onset),
        end_ns: g.drained_at.map_or(ctx.windows.range.end_ns, |k| {
            ctx.windows.buckets.start_of(k)
        }),
        metrics: BTreeMap::new(),
        evidence: Evidence {
            trace_ids: worst_traces(ctx.table, waits_by_trace(ctx, name, g), EVIDENCE_TRACES),
        },
    };
    fill_metrics(&mut f.metrics, ctx, q, g, trig);
    let span = g.onset..g.drained_at.unwrap_or(ctx.windows.buckets.count);
    if let Some(s) = svc {
        little::span_metrics(
            &mut f.metrics,
            s,
            span.clone(),
            ctx.windows.buckets.width_s(),
        );
        let series: Vec<&QueueSeries> = run.iter().collect();
        little::queue_metrics(&mut f.metrics, &series, span.clone());
        in_flight_metrics(&mut f.metrics, ctx, s, span);
    }
    for (other, og) in grown.iter().filter(|(o, _)| o.source != q.source) {
        let key = format!("also_{}_peak", other.kind.as_str());
        f.metrics.entry(key).or_insert(og.peak);
    }
    Some(f)
}

/// Error when the backlog never drained; warning when it grew past the floor; info when it
/// only rose by the factor, or when the only evidence is sampled in-flight counts (latency
/// alone raises those by Little's law, and sampling hides their true level).
fn severity(kind: QueueKind, g: &Growth) -> Severity {
    match (kind, g.above_floor, g.drained_at) {
        (QueueKind::InFlight, _, _) | (_, false, _) => Severity::Info,
        (_, true, None) => Severity::Error,
        (_, true, Some(_)) => Severity::Warning,
    }
}

fn title(ctx: &Context, q: &QueueSeries, g: &Growth, trig: Option<&Trigger>) -> String {
    let b = &ctx.windows.buckets;
    let rel = |k: usize| (b.start_of(k) - ctx.windows.range.start_ns) as f64 / 1e9;
    let mut t = format!(
        "{}: {} ({}) grew from {:.0} to {:.0} {} ({:.1} {}/s), peak at +{:.0} s",
        q.service,
        describe(q.kind),
        q.source,
        g.baseline,
        g.peak,
        q.unit,
        rate(ctx, g),
        q.unit,
        rel(g.peak_at)
    );
    match (g.drained_at, trig) {
        (None, _) => t.push_str("; not drained by the end of the data"),
        (Some(k), Some(tr)) if k < tr.end => t.push_str(&format!(
            "; drained at +{:.0} s, before the trigger ({}) ended",
            rel(k),
            tr.service
        )),
        (Some(k), Some(tr)) => t.push_str(&format!(
            "; drained at +{:.0} s, {:.0} s after the trigger ({}) ended",
            rel(k),
            (k as f64 - tr.end as f64) * b.width_s(),
            tr.service
        )),
        (Some(k), None) => t.push_str(&format!("; drained at +{:.0} s", rel(k))),
    }
    if !g.above_floor {
        let bar = (GROWTH_FACTOR * g.baseline).max(floor(q.kind));
        t.push_str(&format!(
            " (under the {bar:.0} {} bar of a backlog)",
            q.unit
        ));
    }
    t
}

fn describe(kind: QueueKind) -> &'static str {
    match kind {
        QueueKind::LogDepth => "queue depth",
        QueueKind::LogWait => "queue wait",
        QueueKind::MessagingLag => "messaging lag",
        QueueKind::ServerWait => "wait before service",
        QueueKind::InFlight => "in-flight requests",
    }
}

/// Growth rate from onset to peak, per second.
fn rate(ctx: &Context, g: &Growth) -> f64 {
    let secs = (g.peak_at + 1 - g.onset) as f64 * ctx.windows.buckets.width_s();
    (g.peak - g.baseline) / secs
}

fn fill_metrics(
    m: &mut BTreeMap<String, f64>,
    ctx: &Context,
    q: &QueueSeries,
    g: &Growth,
    trig: Option<&Trigger>,
) {
    let b = &ctx.windows.buckets;
    let mut put = |k: &str, v: f64| {
        m.insert(k.to_string(), v);
    };
    put("baseline", g.baseline);
    put("threshold", g.threshold);
    put("peak", g.peak);
    put(
        "growth_factor",
        if g.baseline > 0.0 {
            g.peak / g.baseline
        } else {
            0.0
        },
    );
    put("growth_rate_per_s", rate(ctx, g));
    put("growth_s", (g.peak_at + 1 - g.onset) as f64 * b.width_s());
    put("drained", f64::from(u8::from(g.drained_at.is_some())));
    let samples: u32 = q
        .samples
        .iter()
        .skip(g.onset)
        .take(g.peak_at + 1 - g.onset)
        .sum();
    put("samples", f64::from(samples));
    if let (Some(k), Some(tr)) = (g.drained_at, trig) {
        put(
            "drain_after_trigger_s",
            (k as f64 - tr.end as f64) * b.width_s(),
        );
    }
    if let Some(tr) = trig {
        put(
            "trigger_end_s",
            (b.start_of(tr.end) - ctx.windows.range.start_ns) as f64 / 1e9,
        );
    }
}

/// In-flight before and during the growth, and the share of growth buckets within 10 % of
/// the peak: near 1 with a growing queue in front says the worker pool was full (a plateau).
fn in_flight_metrics(
    m: &mut BTreeMap<String, f64>,
    ctx: &Context,
    s: &ServiceStats,
    span: std::ops::Range<usize>,
) {
    let level: Vec<Option<f64>> = s
        .series
        .in_flight
        .iter()
        .map(|&v| Some(f64::from(v)))
        .collect();
    let during: Vec<f64> = level
        .get(span)
        .unwrap_or(&[])
        .iter()
        .flatten()
        .copied()
        .collect();
    let peak = during.iter().copied().fold(0.0, f64::max);
    let near = during
        .iter()
        .filter(|&&v| v >= PLATEAU_SHARE * peak)
        .count();
    m.insert("in_flight_baseline".into(), baseline_level(ctx, &level));
    m.insert("in_flight_peak".into(), peak);
    if peak > 0.0 {
        m.insert(
            "in_flight_plateau_share".into(),
            near as f64 / during.len() as f64,
        );
    }
}

/// Per trace, the wait before service plus service time (µs) of `service`'s requests that
/// started during the growth.
fn waits_by_trace(ctx: &Context, service: &str, g: &Growth) -> Vec<(u64, u32)> {
    let t = ctx.table;
    let b = &ctx.windows.buckets;
    let end = g.drained_at.unwrap_or(b.count);
    let Some(id) = ctx.service(service).map(|s| s.id) else {
        return Vec::new();
    };
    (0..t.len())
        .filter(|&i| t.service[i] == id && t.is_server(i))
        .filter(|&i| (g.onset..end).contains(&b.index(t.start[i])))
        .map(|i| {
            let from = t
                .parent_of(i)
                .filter(|&p| t.is_client(p))
                .map_or(t.start[i], |p| t.start[p]);
            (((t.end[i] - from).max(0) / 1000) as u64, t.trace[i])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::analyze::backlog::testdata::{db_queue, with_queue_logs};
    use crate::analyze::backlog::DEPTH_FIELDS;
    use crate::analyze::testkit::{scenario, Scenario};
    use crate::analyze::{analyze, Analysis, AnalyzeOptions};
    use crate::model::finding::{Finding, Severity};

    fn faulty() -> Scenario {
        Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        }
    }

    fn queue_findings(a: &Analysis) -> Vec<&Finding> {
        a.findings
            .iter()
            .filter(|f| f.kind == "queue_growth")
            .collect()
    }

    fn run(data: &crate::ingest::Dataset) -> Analysis {
        analyze(data, &AnalyzeOptions::default()).unwrap()
    }

    #[test]
    fn a_logged_queue_that_drains_is_a_warning_with_its_numbers() {
        // +20/s for 180 s (peak ~3600), drained at 400/s: ~9 s after the fault.
        let a = run(&with_queue_logs(
            &faulty(),
            "db",
            DEPTH_FIELDS[0],
            db_queue(20, 400),
        ));
        let f = queue_findings(&a);
        assert_eq!(f.len(), 1, "{f:?}");
        let f = f[0];
        assert_eq!(
            (f.severity, f.services.as_slice()),
            (Severity::Warning, &["db".to_string()][..])
        );
        let m = &f.metrics;
        assert!(m["peak"] >= 3500.0 && m["baseline"] <= 4.0, "{m:?}");
        assert!((15.0..=25.0).contains(&m["growth_rate_per_s"]), "{m:?}");
        assert_eq!(m["drained"], 1.0);
        assert!((5.0..=14.0).contains(&m["drain_after_trigger_s"]), "{m:?}");
        assert!(f.title.contains("logs.queue_depth"), "{}", f.title);
        assert_eq!(f.evidence.trace_ids.len(), super::EVIDENCE_TRACES);
        assert!(m.contains_key("little_l_ratio"));
    }

    #[test]
    fn a_queue_that_never_drains_is_an_error() {
        let a = run(&with_queue_logs(
            &faulty(),
            "db",
            DEPTH_FIELDS[0],
            db_queue(20, 0),
        ));
        let f = queue_findings(&a);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].metrics["drained"], 0.0);
        assert_eq!(f[0].end_ns, a.windows.range.end_ns);
    }

    #[test]
    fn a_queue_that_tripled_under_the_floor_is_only_a_note() {
        let a = run(&with_queue_logs(&faulty(), "db", DEPTH_FIELDS[0], |s| {
            Some(if (240..420).contains(&s) { 30 } else { 3 })
        }));
        let f = queue_findings(&a);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].title.contains("bar of a backlog"), "{}", f[0].title);
    }

    #[test]
    fn requests_waiting_before_service_are_a_queue_without_logs() {
        let mut frames = scenario(&faulty());
        // db picks requests up late in the fault: the wait grows 2 ms per second.
        for s in frames.spans.iter_mut().filter(|s| s.service == "db") {
            let sec = (s.start_ns - crate::analyze::testkit::T0) / 1_000_000_000;
            if (240..420).contains(&sec) {
                let delay = (sec - 240) * 2_000_000;
                s.start_ns += delay;
                s.end_ns += delay;
            }
        }
        let a = run(&frames.dataset());
        let f = queue_findings(&a);
        let db = f.iter().find(|f| f.services == ["db"]).expect("db queue");
        assert!(db.title.contains("wait before service"), "{}", db.title);
        assert!(db.severity >= Severity::Warning);
        // The wait reaches 360 ms; a bucket's mean of it (5 s buckets here) is lower.
        assert!(db.metrics["peak"] >= 200.0, "{:?}", db.metrics);
    }

    #[test]
    fn quiet_and_clean_faults_say_nothing() {
        for sc in [Scenario::default(), faulty()] {
            let a = run(&with_queue_logs(&sc, "db", DEPTH_FIELDS[0], |s| {
                Some(2 + s % 4)
            }));
            assert!(queue_findings(&a).is_empty(), "{:?}", queue_findings(&a));
        }
    }
}
