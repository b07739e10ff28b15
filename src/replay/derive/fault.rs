//! The fault at the source: the source service's self time (against its baseline median)
//! and own error rate (failed requests none of whose calls failed, above the baseline's),
//! cut into piecewise-constant segments over the whole range by binary segmentation (thin
//! sampled buckets are too noisy alone). Each segment's multiplier is its pooled median
//! over the baseline median; the fault is the run of slow or failing segments that
//! overlaps the incident (the detected window may be shorter than the fault).

use super::frame::{round, Frame};
use super::segment::Channel;
use crate::analyze::stats::quantile;
use crate::analyze::table::SpanTable;
use crate::model::window::Window;

/// A segment is part of the fault when its median self time is at least this multiple of
/// the baseline…
pub const FAULT_MIN_MULTIPLIER: f64 = 1.5;
/// …or its own error rate exceeds the baseline's by this much.
pub const FAULT_MIN_ERROR_RISE: f64 = 0.05;
/// An edge bucket is judged on at least this many samples.
pub const MIN_EDGE_SAMPLES: usize = 3;
/// Segments last at least this many buckets (one slow bucket of a thin sample is noise).
pub const SUSTAIN_BUCKETS: usize = 2;
/// The fault may start this many buckets before the detected incident (detection lags) or
/// end after it; fault segments closer than this are one fault.
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
    let base: Vec<usize> = f.within(baseline).collect();
    let near = f.within(incident);
    let near = near.start.saturating_sub(LOOKBACK_BUCKETS)..near.end + LOOKBACK_BUCKETS;
    let (mut segments, mut base_self, mut base_err) = attempt(&s, &base, near.clone(), f)?;
    // A baseline that overlaps the fault (the incident was detected late) is cleaned of it
    // and the fit repeated, so the fault is measured against healthy requests.
    let (lo, hi) = (segments.first()?.start_s, segments.last()?.end_s);
    let clean: Vec<usize> = base
        .iter()
        .copied()
        .filter(|&b| (b as f64 * f.width_s()) < lo || (b as f64 * f.width_s()) >= hi)
        .collect();
    if !clean.is_empty() && clean.len() < base.len() {
        if let Some(again) = attempt(&s, &clean, near, f) {
            (segments, base_self, base_err) = again;
        }
    }
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

/// One fit against the baseline buckets `base`: the fault's segments, the baseline
/// median self time and own error rate.
fn attempt(
    s: &Samples,
    base: &[usize],
    near: std::ops::Range<usize>,
    f: &Frame,
) -> Option<(Vec<Segment>, f64, f64)> {
    let mut pooled: Vec<f64> = base
        .iter()
        .flat_map(|&b| s.self_ms[b].iter().copied())
        .collect();
    let base_self = quantile(&mut pooled, 0.5).filter(|&m| m > 0.0)?;
    let n: usize = base.iter().map(|&b| s.self_ms[b].len()).sum();
    let e: u64 = base.iter().map(|&b| s.own_errors[b]).sum();
    let base_err = if n == 0 { 0.0 } else { e as f64 / n as f64 };
    let all = segments(s, 0..f.buckets, base_self, base_err, f);
    let (first, last) = cluster_near(&all, near, f)?;
    let mut segs = merge(all[first..=last].to_vec());
    refine_edges(&mut segs, s, base_self, f);
    Some((segs, base_self, base_err))
}

/// The run of fault segments (gaps up to [`LOOKBACK_BUCKETS`] joined) that overlaps the
/// buckets `near` the incident most: `(first, last)` segment indices.
fn cluster_near(
    all: &[Segment],
    near: std::ops::Range<usize>,
    f: &Frame,
) -> Option<(usize, usize)> {
    let w = f.width_s();
    let gap = LOOKBACK_BUCKETS as f64 * w;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, g) in all.iter().enumerate().filter(|(_, g)| is_fault(g)) {
        match runs.last_mut() {
            Some(r) if g.start_s - all[r.1].end_s <= gap => r.1 = i,
            _ => runs.push((i, i)),
        }
    }
    let (lo, hi) = (near.start as f64 * w, near.end as f64 * w);
    let overlap = |r: &(usize, usize)| (all[r.1].end_s.min(hi) - all[r.0].start_s.max(lo)).max(0.0);
    runs.into_iter()
        .filter(|r| overlap(r) > 0.0)
        .max_by(|a, b| overlap(a).total_cmp(&overlap(b)).then(b.0.cmp(&a.0)))
}

/// A segment slow enough, or failing enough beyond the baseline, to be part of the fault.
fn is_fault(g: &Segment) -> bool {
    g.latency_multiplier >= FAULT_MIN_MULTIPLIER || g.error_rate >= FAULT_MIN_ERROR_RISE
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

/// Moves the fault's first and last edges by a bucket when that bucket's own median self
/// time sits nearer (in log) the other side: the cut of a segmentation can land one bucket
/// off when the transition bucket holds a stray slow (or fast) sample.
fn refine_edges(segs: &mut [Segment], s: &Samples, base_self: f64, f: &Frame) {
    let w = f.width_s();
    let looks_faulty = |b: usize, m: f64| {
        let med = multiplier(s, b..b + 1, base_self)
            .filter(|_| s.self_ms[b].len() >= MIN_EDGE_SAMPLES)?;
        Some(med.max(1e-9).ln().abs() > (med.max(1e-9) / m).ln().abs())
    };
    let n = segs.len();
    if let Some(g) = segs.first_mut().filter(|g| g.latency_multiplier > 1.0) {
        let b = (g.start_s / w).round() as usize;
        if looks_faulty(b, g.latency_multiplier) == Some(false) && g.end_s - g.start_s > w {
            g.start_s = round((b + 1) as f64 * w, 6);
        } else if b > 0 && looks_faulty(b - 1, g.latency_multiplier) == Some(true) {
            g.start_s = round((b - 1) as f64 * w, 6);
        }
    }
    if let Some(g) = segs
        .get_mut(n.wrapping_sub(1))
        .filter(|g| g.latency_multiplier > 1.0)
    {
        let e = (g.end_s / w).round() as usize;
        if e > 0
            && looks_faulty(e - 1, g.latency_multiplier) == Some(false)
            && g.end_s - g.start_s > w
        {
            g.end_s = round((e - 1) as f64 * w, 6);
        } else if e < f.buckets && looks_faulty(e, g.latency_multiplier) == Some(true) {
            g.end_s = round((e + 1) as f64 * w, 6);
        }
    }
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
        assert!(is_fault(&segs[0]) && is_fault(&segs[1]));
        let calm = segments(&s, 6..8, 4.0, 0.0, &f);
        assert!(!calm.iter().any(is_fault), "{calm:?}");
        let f8 = Frame { buckets: 80, ..f };
        let seg = |a: f64, b: f64, m: f64| Segment {
            start_s: a,
            end_s: b,
            latency_multiplier: m,
            error_rate: 0.0,
        };
        let all = [
            seg(0.0, 20.0, 1.0),
            seg(20.0, 25.0, 3.0),
            seg(25.0, 60.0, 1.0),
            seg(60.0, 70.0, 9.0),
            seg(70.0, 75.0, 1.0),
            seg(75.0, 80.0, 4.0),
        ];
        assert_eq!(cluster_near(&all, 62..66, &f8), Some((3, 5)));
        assert_eq!(cluster_near(&all, 40..45, &f8), None);
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
