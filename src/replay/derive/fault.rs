//! The fault at the source: per bucket, the source service's self-time multiplier (bucket
//! median over baseline median) and its own error rate (failed requests none of whose
//! calls failed, above the baseline's). The fault window runs from the first to the last
//! faulty bucket near the incident; inside it, neighbouring buckets with similar
//! multipliers are pooled into piecewise-constant segments (thin sampled buckets are too
//! noisy alone).

use super::frame::{round, Frame};
use super::segment::Channel;
use crate::analyze::stats::quantile;
use crate::analyze::table::SpanTable;
use crate::model::window::Window;

/// A bucket is faulty when its median self time is at least this multiple of the baseline…
pub const FAULT_MIN_MULTIPLIER: f64 = 1.5;
/// …or its own error rate exceeds the baseline's by this much.
pub const FAULT_MIN_ERROR_RISE: f64 = 0.05;
/// Buckets with fewer samples are not judged (they join the segment around them).
pub const MIN_BUCKET_SAMPLES: usize = 3;
/// The fault's first and last buckets must each start or end a run of this many faulty
/// buckets (one slow bucket of a thin sample is noise).
pub const SUSTAIN_BUCKETS: usize = 2;
/// The fault may start this many buckets before the detected incident (detection lags).
pub const LOOKBACK_BUCKETS: usize = 10;
/// Segments are cut where the self time changes by at least this factor…
pub const SEGMENT_FACTOR: f64 = 1.5;
/// …or the own error rate by at least this much.
pub const SEGMENT_ERROR_STEP: f64 = 0.1;
/// Self times are floored here before taking logs (a 0 ns self time has no log).
const MIN_SELF_MS: f64 = 1e-3;
/// Pooled multipliers below this are written as 1 (no slowdown).
pub const MIN_WRITTEN_MULTIPLIER: f64 = 1.1;
/// Pooled error rates below this are written as 0.
pub const MIN_WRITTEN_ERROR_RATE: f64 = 0.01;

/// One piecewise-constant piece of the fault.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Segment {
    pub start_s: f64,
    pub end_s: f64,
    pub latency_multiplier: f64,
    pub error_rate: f64,
}

/// The fitted fault.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Fault {
    pub service: String,
    pub segments: Vec<Segment>,
    pub baseline_self_ms: f64,
    pub baseline_error_rate: f64,
}

impl Fault {
    /// `(start_s, end_s)` of the whole fault.
    pub fn window(&self) -> Option<(f64, f64)> {
        Some((self.segments.first()?.start_s, self.segments.last()?.end_s))
    }
}

/// Per-bucket samples of the source: self times (ms) and (own errors, requests).
struct Samples {
    self_ms: Vec<Vec<f64>>,
    own_errors: Vec<u64>,
}

/// Fits the fault of `service` (a service id) near `incident`; `None` without a faulty bucket.
pub fn fit(
    t: &SpanTable,
    self_ns: &[i64],
    service: u32,
    f: &Frame,
    baseline: &Window,
    incident: &Window,
) -> Option<Fault> {
    let s = samples(t, self_ns, service, f);
    let base = f.within(baseline);
    let mut pooled: Vec<f64> = s.self_ms[base.clone()].iter().flatten().copied().collect();
    let base_self = quantile(&mut pooled, 0.5).filter(|&m| m > 0.0)?;
    let base_err = error_rate(&s, base);
    let inc = f.within(incident);
    let lo = inc.start.saturating_sub(LOOKBACK_BUCKETS);
    let flags: Vec<bool> = (0..f.buckets)
        .map(|b| b >= lo && b < inc.end && faulty(&s, b, base_self, base_err))
        .collect();
    let sustained = |b: usize| (b..b + SUSTAIN_BUCKETS).all(|k| flags.get(k) == Some(&true));
    let first = (lo..inc.end).find(|&b| sustained(b))?;
    let last = (first..inc.end)
        .rev()
        .find(|&b| b + 1 >= SUSTAIN_BUCKETS && sustained(b + 1 - SUSTAIN_BUCKETS))?;
    let segments = merge(segments(&s, first..last + 1, base_self, base_err, f));
    Some(Fault {
        service: t.services.name(service).to_string(),
        segments,
        baseline_self_ms: round(base_self, 4),
        baseline_error_rate: round(base_err, 4),
    })
}

fn samples(t: &SpanTable, self_ns: &[i64], service: u32, f: &Frame) -> Samples {
    let mut s = Samples {
        self_ms: vec![Vec::new(); f.buckets],
        own_errors: vec![0; f.buckets],
    };
    for i in (0..t.len()).filter(|&i| t.service[i] == service && t.is_server(i)) {
        let Some(b) = f.bucket(t.start[i]) else {
            continue;
        };
        s.self_ms[b].push(self_ns[i].max(0) as f64 / 1e6);
        if t.is_error(i) && !t.children(i).iter().any(|&c| t.is_error(c as usize)) {
            s.own_errors[b] += 1;
        }
    }
    s
}

fn error_rate(s: &Samples, r: std::ops::Range<usize>) -> f64 {
    let n: usize = s.self_ms[r.clone()].iter().map(Vec::len).sum();
    let e: u64 = s.own_errors[r].iter().sum();
    if n == 0 {
        0.0
    } else {
        e as f64 / n as f64
    }
}

fn faulty(s: &Samples, b: usize, base_self: f64, base_err: f64) -> bool {
    if s.self_ms[b].len() < MIN_BUCKET_SAMPLES {
        return false;
    }
    let mut v = s.self_ms[b].clone();
    let slow = quantile(&mut v, 0.5).is_some_and(|m| m >= FAULT_MIN_MULTIPLIER * base_self);
    slow || error_rate(s, b..b + 1) >= base_err + FAULT_MIN_ERROR_RISE
}

/// Binary segmentation of the window on log self time and on own errors.
fn segments(
    s: &Samples,
    window: std::ops::Range<usize>,
    base_self: f64,
    base_err: f64,
    f: &Frame,
) -> Vec<Segment> {
    let mut slow = Channel::new(f.buckets, SEGMENT_FACTOR.ln());
    let mut errs = Channel::new(f.buckets, SEGMENT_ERROR_STEP);
    for b in window.clone() {
        for &x in &s.self_ms[b] {
            slow.add(b, x.max(MIN_SELF_MS).ln());
        }
        let n = s.self_ms[b].len() as u64;
        for k in 0..n {
            errs.add(b, f64::from(u8::from(k < s.own_errors[b])));
        }
    }
    super::segment::segments(&[slow, errs], window, SUSTAIN_BUCKETS)
        .into_iter()
        .map(|r| segment(s, r, base_self, base_err, f))
        .collect()
}

/// Joins neighbouring segments that came out with the same written values.
fn merge(segs: Vec<Segment>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segs.len());
    for g in segs {
        match out.last_mut() {
            Some(p)
                if p.latency_multiplier == g.latency_multiplier && p.error_rate == g.error_rate =>
            {
                p.end_s = g.end_s
            }
            _ => out.push(g),
        }
    }
    out
}

fn multiplier(s: &Samples, r: std::ops::Range<usize>, base_self: f64) -> Option<f64> {
    let mut v: Vec<f64> = s.self_ms[r].iter().flatten().copied().collect();
    quantile(&mut v, 0.5).map(|m| m / base_self)
}

fn segment(
    s: &Samples,
    r: std::ops::Range<usize>,
    base_self: f64,
    base_err: f64,
    f: &Frame,
) -> Segment {
    let m = multiplier(s, r.clone(), base_self).unwrap_or(1.0);
    let e = (error_rate(s, r.clone()) - base_err).max(0.0);
    Segment {
        start_s: round(r.start as f64 * f.width_s(), 6),
        end_s: round(r.end as f64 * f.width_s(), 6),
        latency_multiplier: if m < MIN_WRITTEN_MULTIPLIER {
            1.0
        } else {
            round(m, 3)
        },
        error_rate: if e < MIN_WRITTEN_ERROR_RATE {
            0.0
        } else {
            round(e.min(1.0), 4)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples_of(meds: &[f64]) -> Samples {
        Samples {
            self_ms: meds.iter().map(|&m| vec![m * 0.9, m, m * 1.1]).collect(),
            own_errors: vec![0; meds.len()],
        }
    }

    #[test]
    fn similar_buckets_pool_and_a_step_cuts() {
        let f = Frame {
            origin_ns: 0,
            width_ns: 1_000_000_000,
            buckets: 8,
            sample_rate: 1.0,
        };
        let s = samples_of(&[4.0, 40.0, 44.0, 38.0, 80.0, 84.0, 4.0, 4.0]);
        let segs = segments(&s, 1..6, 4.0, 0.0, &f);
        assert_eq!(segs.len(), 2, "{segs:?}");
        assert_eq!((segs[0].start_s, segs[0].end_s), (1.0, 4.0));
        assert_eq!(segs[0].latency_multiplier, 10.0);
        assert_eq!(segs[1].latency_multiplier, 20.5);
        assert!(faulty(&s, 1, 4.0, 0.0) && !faulty(&s, 6, 4.0, 0.0));
        let same = |a: f64, b: f64| Segment {
            start_s: a,
            end_s: b,
            latency_multiplier: 2.0,
            error_rate: 0.0,
        };
        assert_eq!(
            merge(vec![same(1.0, 2.0), same(2.0, 4.0)]),
            vec![same(1.0, 4.0)]
        );
    }
}
