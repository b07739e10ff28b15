//! The trigger and its end: which service's own behaviour started the incident and when
//! it was back at its baseline ("the source recovered"), plus helpers that follow a
//! per-bucket signal past that moment. `queue_growth` reports how long a backlog took to
//! drain after the trigger ended; `metastable_overload` asks what outlived it.
//!
//! An external load surge comes first: when the entry requests, averaged over
//! [`SUSTAIN_BUCKETS`] buckets, rose to [`SURGE_RATIO`]× their baseline median and the raised
//! stretch is beyond Poisson noise (z ≥ [`K_SIGMA`]), starting no later than the incident (a
//! rise that follows the departure is clients retrying, a consequence), the surge is the
//! trigger and it ends when the entry traffic is back under that bar — the classic trigger
//! of a metastable failure (Huang et al., OSDI '22).
//!
//! Otherwise a service is active in a bucket while its mean self time is above its baseline
//! median by the relative rise the onset uses; its trigger window runs from the first to
//! the last sustained run of active buckets. The source is the service that did the most
//! extra own work in its window (and at least [`SOURCE_SELF_RATIO`]× its baseline there —
//! judged in the window, not the whole incident, which a metastable failure stretches far
//! past the trigger); without one, the service charged with the most error origins,
//! followed by its error rate.

use super::errors::ErrorOrigins;
use super::incident::{sustained_runs, Windows, K_SIGMA, MIN_LATENCY_RISE, SUSTAIN_BUCKETS};
use super::onset::LOOKBACK_BUCKETS;
use super::services::ServiceStats;
use super::stats::quantile;

/// Entry traffic a quarter above its baseline rate can be a surge: services are commonly
/// provisioned for ~80 % utilisation at their usual load, and 1.25 × 80 % is past capacity.
/// Whether it is one is left to the significance test (open-loop arrivals are Poisson).
pub const SURGE_RATIO: f64 = 1.25;
/// A baseline under this many entry requests per bucket is too thin for a ratio to mean
/// anything (3 → 6 requests is noise).
pub const MIN_SURGE_BASE: f64 = 5.0;
/// A service whose own work slowed by less than this is no trigger (noise, or a mild
/// change a system absorbs).
pub const SOURCE_SELF_RATIO: f64 = 1.5;
/// An error-driven source is active while its error rate is this much (absolute) above its
/// baseline rate.
pub const SOURCE_ERROR_RISE: f64 = 0.05;
/// Runs of a followed signal closer than this many buckets are one stretch (thin buckets
/// break runs).
pub const FOLLOW_GAP_BUCKETS: usize = 2 * SUSTAIN_BUCKETS;

/// Which signal of the source made it the trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerSignal {
    SelfTime,
    Errors,
    /// Entry requests per second (as traced) at the front door.
    Traffic,
}

/// The trigger: a service and the buckets `start..end` where its signal was raised.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trigger {
    pub service: String,
    pub signal: TriggerSignal,
    pub start: usize,
    /// First bucket after the last active run: the source is back at baseline from here.
    pub end: usize,
    /// The signal's baseline median and its mean while active (ms, error rate, or traced
    /// entry requests per second).
    pub baseline: f64,
    pub active_mean: f64,
    /// Extra work while active: Σ (value − baseline) × requests (ms of self time, or
    /// excess errors), or the extra entry requests of a surge.
    pub excess: f64,
}

/// The trigger of the incident, if there is an incident and a source with a clear signal.
pub fn trigger(services: &[ServiceStats], errors: &ErrorOrigins, w: &Windows) -> Option<Trigger> {
    w.incident?;
    if let Some(surge) = surge(w) {
        return Some(surge);
    }
    let slow = services
        .iter()
        .filter_map(|s| follow_source(s, TriggerSignal::SelfTime, w))
        .filter(|t| t.baseline > 0.0 && t.active_mean >= SOURCE_SELF_RATIO * t.baseline)
        .max_by(|a, b| {
            a.excess
                .total_cmp(&b.excess)
                .then(b.service.cmp(&a.service))
        });
    if slow.is_some() {
        return slow;
    }
    let failing = services
        .iter()
        .map(|s| (errors.count_for(s.id), s))
        .filter(|(n, _)| *n > 0)
        .max_by(|a, b| a.0.cmp(&b.0).then(b.1.name.cmp(&a.1.name)))?;
    follow_source(failing.1, TriggerSignal::Errors, w)
}

/// An entry-traffic surge that started by the incident's start (see the module doc).
pub fn surge(w: &Windows) -> Option<Trigger> {
    let incident_start = w.buckets.within(&w.incident?).start;
    let series: Vec<f64> = w.signals.entry_requests.iter().map(|&n| n as f64).collect();
    let mut base: Vec<f64> = series.get(w.buckets.within(&w.baseline))?.to_vec();
    let baseline = quantile(&mut base, 0.5).filter(|&b| b >= MIN_SURGE_BASE)?;
    let from = incident_start.saturating_sub(LOOKBACK_BUCKETS);
    let smooth = moving_mean(&series, SUSTAIN_BUCKETS);
    let flags: Vec<bool> = smooth
        .iter()
        .enumerate()
        .map(|(k, &v)| k >= from && v >= SURGE_RATIO * baseline)
        .collect();
    let bar = SURGE_RATIO * baseline;
    // The edges of a step are where it crosses halfway between the baseline and the
    // run's own level.
    let halfway = |r: &std::ops::Range<usize>| {
        let level = series[r.clone()].iter().sum::<f64>() / r.len().max(1) as f64;
        bar.max((baseline + level) / 2.0)
    };
    let first = sustained_runs(&flags, SUSTAIN_BUCKETS)
        .into_iter()
        .map(|r| {
            let edge = halfway(&r);
            trim(&series, r, edge)
        })
        .find(|r| {
            r.len() >= SUSTAIN_BUCKETS && poisson_z(&series[r.clone()], baseline) >= K_SIGMA
        })?;
    if !leads(w, incident_start, first.start) {
        return None;
    }
    let until = persists_until(&flags, first.start).max(first.end);
    let end = (first.start..until)
        .rev()
        .find(|&k| series[k] >= bar)
        .map_or(first.end, |k| k + 1);
    let per_s = 1.0 / w.buckets.width_s();
    let active = series.get(first.start..end)?;
    Some(Trigger {
        service: w.signals.entry_service.clone()?,
        signal: TriggerSignal::Traffic,
        start: first.start,
        end,
        baseline: baseline * per_s,
        active_mean: active.iter().sum::<f64>() / active.len().max(1) as f64 * per_s,
        excess: active.iter().map(|v| v - baseline).sum(),
    })
}

/// `r` without the buckets at either end whose own count is under `bar` (the moving mean
/// raises the buckets next to a step).
fn trim(v: &[f64], mut r: std::ops::Range<usize>, bar: f64) -> std::ops::Range<usize> {
    while r.start < r.end && v[r.start] < bar {
        r.start += 1;
    }
    while r.end > r.start && v[r.end - 1] < bar {
        r.end -= 1;
    }
    r
}

/// Centred moving mean over `width` buckets (shorter at the ends).
fn moving_mean(v: &[f64], width: usize) -> Vec<f64> {
    let half = width / 2;
    (0..v.len())
        .map(|k| {
            let (a, b) = (k.saturating_sub(half), (k + half + 1).min(v.len()));
            v[a..b].iter().sum::<f64>() / (b - a).max(1) as f64
        })
        .collect()
}

/// z of the counts in `run` against a Poisson rate of `base` per bucket.
fn poisson_z(run: &[f64], base: f64) -> f64 {
    let expected = base * run.len() as f64;
    (run.iter().sum::<f64>() - expected) / expected.max(f64::MIN_POSITIVE).sqrt()
}

/// Whether a surge starting at bucket `surge` led the incident: it began by the incident's
/// first bucket, or a few buckets later while no errors had yet departed (thin buckets
/// start an incident on an early latency wobble). A rise that follows the first errors is
/// clients retrying, not the trigger.
fn leads(w: &Windows, incident_start: usize, surge: usize) -> bool {
    if surge <= incident_start {
        return true;
    }
    let s = &w.signals;
    let erring = |k: usize| {
        let requests = s.entry_requests.get(k).copied().unwrap_or(0);
        let errors = s.errors.get(k).copied().unwrap_or(0) as f64;
        requests > 0
            && s.error_rate_threshold
                .is_some_and(|th| errors / requests as f64 > th)
    };
    surge <= incident_start + SUSTAIN_BUCKETS && !(incident_start..surge).any(erring)
}

/// The source's signal per bucket, its baseline, and the active runs.
fn follow_source(s: &ServiceStats, signal: TriggerSignal, w: &Windows) -> Option<Trigger> {
    let series: Vec<Option<f64>> = match signal {
        TriggerSignal::SelfTime => s.series.self_ms.to_vec(),
        TriggerSignal::Errors => error_rates(s),
        // The front door's traffic is a system signal: see [`surge`].
        TriggerSignal::Traffic => return None,
    };
    let base_range = w.buckets.within(&w.baseline);
    let mut base: Vec<f64> = series.get(base_range)?.iter().flatten().copied().collect();
    let baseline = quantile(&mut base, 0.5).unwrap_or(0.0);
    let threshold = match signal {
        TriggerSignal::SelfTime => baseline * (1.0 + MIN_LATENCY_RISE),
        TriggerSignal::Errors | TriggerSignal::Traffic => baseline + SOURCE_ERROR_RISE,
    };
    let from = w
        .buckets
        .within(&w.incident?)
        .start
        .saturating_sub(LOOKBACK_BUCKETS);
    let flags: Vec<bool> = series
        .iter()
        .enumerate()
        .map(|(k, v)| k >= from && v.is_some_and(|v| v > threshold))
        .collect();
    let runs = sustained_runs(&flags, SUSTAIN_BUCKETS);
    let start = runs.first()?.start;
    let end = extend_end(&flags, runs.last()?.end);
    let active: Vec<f64> = series[start..end].iter().flatten().copied().collect();
    let excess = (start..end)
        .map(|k| {
            let v = series[k].unwrap_or(baseline);
            (v - baseline) * f64::from(s.series.requests[k])
        })
        .sum();
    Some(Trigger {
        service: s.name.clone(),
        signal,
        start,
        end,
        baseline,
        active_mean: active.iter().sum::<f64>() / active.len().max(1) as f64,
        excess,
    })
}

/// Moves `end` past active buckets at most [`SUSTAIN_BUCKETS`] beyond it: the last run of
/// a source on thin buckets is often broken by one quiet bucket.
fn extend_end(flags: &[bool], mut end: usize) -> usize {
    while let Some(k) = (end..(end + SUSTAIN_BUCKETS).min(flags.len()))
        .rev()
        .find(|&k| flags[k])
    {
        end = k + 1;
    }
    end
}

fn error_rates(s: &ServiceStats) -> Vec<Option<f64>> {
    s.series
        .requests
        .iter()
        .zip(&s.series.errors)
        .map(|(&n, &e)| (n > 0).then(|| f64::from(e) / f64::from(n)))
        .collect()
}

/// How far a raised signal lasts from bucket `from`: the end of the chain of sustained runs
/// of `flags` whose first run begins within [`FOLLOW_GAP_BUCKETS`] of `from` and whose
/// later runs each begin within that gap of the previous one (`from` when none does).
pub fn persists_until(flags: &[bool], from: usize) -> usize {
    let mut last = from;
    for r in sustained_runs(flags, SUSTAIN_BUCKETS) {
        if r.end <= last {
            continue;
        }
        if r.start > last + FOLLOW_GAP_BUCKETS {
            break;
        }
        last = r.end;
    }
    last
}

/// Gauge semantics for sparse samples: a bucket without a sample keeps the last value.
pub fn forward_fill(values: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut last = None;
    values
        .iter()
        .map(|v| {
            if v.is_some() {
                last = *v;
            }
            last
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{scenario, Scenario};
    use crate::analyze::{analyze, AnalyzeOptions};

    #[test]
    fn follows_runs_across_short_gaps_only() {
        let f = |s: &str| s.chars().map(|c| c == '#').collect::<Vec<bool>>();
        assert_eq!(persists_until(&f("....####..###.......###"), 3), 13);
        assert_eq!(persists_until(&f("..........###"), 2), 2);
        assert_eq!(persists_until(&f("####"), 0), 4);
        let filled = forward_fill(&[None, Some(2.0), None, Some(5.0), None]);
        assert_eq!(
            filled,
            vec![None, Some(2.0), Some(2.0), Some(5.0), Some(5.0)]
        );
    }

    #[test]
    fn db_is_the_trigger_and_it_ends_with_the_fault() {
        let data = scenario(&Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        })
        .dataset();
        let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
        let tr = trigger(&a.services, &a.errors, &a.windows).unwrap();
        assert_eq!(
            (tr.service.as_str(), tr.signal),
            ("db", TriggerSignal::SelfTime)
        );
        let b = a.windows.buckets;
        // Seconds from the origin, within two buckets of the fault's 240..420 s.
        let at = |k: usize| (b.start_of(k) - b.origin_ns) / crate::model::window::NS_PER_S;
        let slack = 2 * b.width_ns / crate::model::window::NS_PER_S;
        assert!((at(tr.start) - 240).abs() <= slack, "{}", at(tr.start));
        assert!((at(tr.end) - 420).abs() <= slack, "{}", at(tr.end));
        assert!(tr.active_mean > 5.0 * tr.baseline);
    }

    /// Windows over 1 s buckets with these entry requests per bucket and the incident
    /// starting at bucket `incident_at` (baseline: the buckets before it).
    fn windows_with(entries: &[u64], incident_at: usize) -> Windows {
        use crate::analyze::buckets::Buckets;
        use crate::analyze::incident::{SystemSignals, WindowSource};
        use crate::model::window::{Window, NS_PER_S};
        let n = entries.len();
        let buckets = Buckets::for_range(0, n as i64 * NS_PER_S - 1);
        assert_eq!(buckets.count, n);
        let at = |k: usize| k as i64 * NS_PER_S;
        Windows {
            range: Window::new(0, at(n) - 1),
            buckets,
            incident: Some(Window::new(at(incident_at), at(n) - 1)),
            baseline: Window::new(0, at(incident_at)),
            source: WindowSource::Detected,
            signals: SystemSignals {
                entry_requests: entries.to_vec(),
                entry_service: Some("frontend".into()),
                ..Default::default()
            },
        }
    }

    /// 60 quiet buckets of `base` requests, then the `shape` from bucket 60 on.
    fn traffic(base: u64, shape: &[(usize, u64)]) -> Vec<u64> {
        let mut v = vec![base; 60];
        for &(len, rate) in shape {
            v.extend(std::iter::repeat_n(rate, len));
        }
        v
    }

    #[test]
    fn a_surge_at_the_start_is_the_trigger_and_ends_with_the_traffic() {
        let w = windows_with(&traffic(20, &[(30, 130), (60, 20)]), 61);
        let tr = surge(&w).expect("a surge");
        assert_eq!(
            (tr.service.as_str(), tr.signal),
            ("frontend", TriggerSignal::Traffic)
        );
        assert_eq!((tr.start, tr.end), (60, 90));
        assert!((tr.baseline - 20.0).abs() < 1e-9 && (tr.active_mean - 130.0).abs() < 1e-9);
    }

    #[test]
    fn no_surge_from_steady_thin_or_late_traffic() {
        // Steady load with the usual swings.
        let steady: Vec<u64> = (0..150).map(|k| 20 + (k * 7 % 11)).collect();
        assert!(surge(&windows_with(&steady, 61)).is_none());
        // Below the bar: 1.15×.
        assert!(surge(&windows_with(&traffic(20, &[(30, 23), (60, 20)]), 61)).is_none());
        // A short blip beyond the bar but within Poisson noise.
        assert!(surge(&windows_with(&traffic(20, &[(3, 27), (60, 20)]), 61)).is_none());
        // Too thin a baseline for a ratio to mean anything.
        assert!(surge(&windows_with(&traffic(2, &[(30, 20), (60, 2)]), 61)).is_none());
        // Clients retrying after the incident began: a consequence, not the trigger.
        let late = traffic(20, &[(10, 20), (30, 90), (50, 20)]);
        assert!(surge(&windows_with(&late, 61)).is_none());
    }

    #[test]
    fn a_surge_just_after_an_early_start_leads_unless_errors_came_first() {
        // The incident starts two buckets before the surge (an early latency wobble).
        let entries = traffic(20, &[(2, 20), (30, 130), (60, 20)]);
        let mut w = windows_with(&entries, 60);
        w.signals.errors = vec![0; entries.len()];
        w.signals.error_rate_threshold = Some(0.05);
        assert_eq!(surge(&w).map(|t| t.start), Some(62));
        // The same rise after the entry requests had started failing.
        w.signals.errors[60] = 10;
        assert!(surge(&w).is_none());
    }
}
