//! The trigger and its end: which service's own behaviour started the incident and when
//! it was back at its baseline ("the source recovered"), plus helpers that follow a
//! per-bucket signal past that moment. `queue_growth` reports how long a backlog took to
//! drain after the trigger ended; `metastable_overload` asks what outlived it.
//!
//! A service is active in a bucket while its mean self time is above its baseline median
//! by the relative rise the onset uses; its trigger window runs from the first to the last
//! sustained run of active buckets. The source is the service that did the most extra own
//! work in its window (and at least [`SOURCE_SELF_RATIO`]× its baseline there — judged in
//! the window, not the whole incident, which a metastable failure stretches far past the
//! trigger); without one, the service charged with the most error origins, followed by
//! its error rate.

use super::errors::ErrorOrigins;
use super::incident::{sustained_runs, Windows, MIN_LATENCY_RISE, SUSTAIN_BUCKETS};
use super::onset::LOOKBACK_BUCKETS;
use super::services::ServiceStats;
use super::stats::quantile;

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
}

/// The trigger: a service and the buckets `start..end` where its signal was raised.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Trigger {
    pub service: String,
    pub signal: TriggerSignal,
    pub start: usize,
    /// First bucket after the last active run: the source is back at baseline from here.
    pub end: usize,
    /// The signal's baseline median and its mean while active (ms or error rate).
    pub baseline: f64,
    pub active_mean: f64,
    /// Extra work while active: Σ (value − baseline) × requests (ms of self time, or
    /// excess errors).
    pub excess: f64,
}

/// The trigger of the incident, if there is an incident and a source with a clear signal.
pub fn trigger(services: &[ServiceStats], errors: &ErrorOrigins, w: &Windows) -> Option<Trigger> {
    w.incident?;
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

/// The source's signal per bucket, its baseline, and the active runs.
fn follow_source(s: &ServiceStats, signal: TriggerSignal, w: &Windows) -> Option<Trigger> {
    let series: Vec<Option<f64>> = match signal {
        TriggerSignal::SelfTime => s.series.self_ms.clone(),
        TriggerSignal::Errors => error_rates(s),
    };
    let base_range = w.buckets.within(&w.baseline);
    let mut base: Vec<f64> = series.get(base_range)?.iter().flatten().copied().collect();
    let baseline = quantile(&mut base, 0.5).unwrap_or(0.0);
    let threshold = match signal {
        TriggerSignal::SelfTime => baseline * (1.0 + MIN_LATENCY_RISE),
        TriggerSignal::Errors => baseline + SOURCE_ERROR_RISE,
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
}
