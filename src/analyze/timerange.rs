//! The stretch of time the spans are in, robust to a few stray timestamps.
//!
//! A span stamped 1970, 2100 or a month off (a bad clock, a replayed batch) would otherwise
//! stretch the analysed range so far that the buckets grow to days and an incident vanishes
//! inside one of them. The range is the central stretch holding all but
//! [`STRAY_SHARE`] of the timestamps (starts and ends together), widened outwards over
//! every timestamp that lies within one gap of it; a timestamp further than that from the
//! rest is a stray, and a span with a stray start or end lies outside the range.

use rayon::prelude::*;

use crate::model::window::{rfc3339, NS_PER_S};

/// Share of timestamps the central stretch may leave out (half at each side). A stray clock
/// touches a handful of spans, far below one in a hundred; real traffic that the stretch
/// leaves out is given back by the widening, so the level only has to keep strays out of
/// the stretch, not to be tight. Inputs under 2 / STRAY_SHARE timestamps are kept whole:
/// with so few spans nothing tells a stray from thin traffic.
pub const STRAY_SHARE: f64 = 0.01;

/// The widening steps over a gap up to the central stretch's own length: traffic that
/// pauses for longer than the stretch that holds nearly all spans lasts is not the same
/// recording. At least one second, the narrowest bucket, so a burst of equal timestamps
/// does not make every neighbour a stray.
pub const MIN_GAP_NS: i64 = NS_PER_S;

/// Examples of stray spans kept for the caveat.
pub const MAX_EXAMPLES: usize = 5;

/// One span outside the analysed range.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StraySpan {
    pub trace_id: String,
    pub span_id: String,
    pub start: String,
    pub end: String,
}

impl StraySpan {
    pub fn new(trace_id: u128, span_id: u64, start_ns: i64, end_ns: i64) -> StraySpan {
        StraySpan {
            trace_id: format!("{trace_id:032x}"),
            span_id: format!("{span_id:016x}"),
            start: rfc3339(start_ns),
            end: rfc3339(end_ns),
        }
    }
}

/// Timestamps the central stretch is estimated from: an even stride through the input
/// (deterministic, whatever the thread count). A 1 % trim estimated from 2^16 values is off
/// by a few hundredths of a percent, and the widening below does not depend on it.
const SAMPLE: usize = 1 << 16;

/// The analysed range: every start and end inside `[lo, hi]` is not a stray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpanRange {
    pub lo: i64,
    pub hi: i64,
    /// Whether some timestamp lies outside (there are strays).
    pub strays: bool,
}

/// The analysed range of spans with these starts and ends (an end before its start counts
/// as the start); `None` without spans. Linear: a strided sample for the central stretch,
/// one pass for the timestamps outside it, and a sort of those few.
pub fn span_range(start: &[i64], end: &[i64]) -> Option<SpanRange> {
    let n = start.len().min(end.len());
    if n == 0 {
        return None;
    }
    let at = |k: usize| {
        if k < n {
            start[k]
        } else {
            end[k - n].max(start[k - n])
        }
    };
    let m = 2 * n;
    let step = (m / SAMPLE).max(1);
    let mut sample: Vec<i64> = (0..m).step_by(step).map(at).collect();
    let trim = (sample.len() as f64 * STRAY_SHARE / 2.0).floor() as usize;
    if trim == 0 {
        // Too few timestamps to tell a stray from thin traffic: keep everything.
        let (lo, hi) = (sample.iter().min()?, sample.iter().max()?);
        return Some(SpanRange {
            lo: *lo,
            hi: *hi,
            strays: false,
        });
    }
    let core_lo = *sample.select_nth_unstable(trim).1;
    let k = sample.len() - 1 - trim;
    let core_hi = *sample.select_nth_unstable(k).1;
    let (mut below, mut above): (Vec<i64>, Vec<i64>) = (0..m)
        .into_par_iter()
        .map(at)
        .filter(|&x| x < core_lo || x > core_hi)
        .partition(|&x| x < core_lo);
    let gap = core_hi.saturating_sub(core_lo).max(MIN_GAP_NS);
    below.sort_unstable_by(|a, b| b.cmp(a));
    above.sort_unstable();
    // From the stretch outwards over every timestamp within one gap of the last one kept.
    let widen = |from: i64, next: &[i64]| {
        let mut cur = from;
        for &x in next {
            if (i128::from(x) - i128::from(cur)).abs() > i128::from(gap) {
                return (cur, true);
            }
            cur = x;
        }
        (cur, false)
    };
    let ((lo, cut_lo), (hi, cut_hi)) = (widen(core_lo, &below), widen(core_hi, &above));
    Some(SpanRange {
        lo,
        hi,
        strays: cut_lo || cut_hi,
    })
}

/// The earliest start of a span inside [`span_range`].
pub fn first_start(start: &[i64], end: &[i64]) -> Option<i64> {
    let r = span_range(start, end)?;
    start
        .iter()
        .zip(end)
        .filter(|&(&s, &e)| s >= r.lo && e.max(s) <= r.hi)
        .map(|(&s, _)| s)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_717_243_200 * NS_PER_S;

    /// `n` one-second spans, one every 100 ms over `n / 10` seconds.
    fn traffic(n: i64) -> (Vec<i64>, Vec<i64>) {
        let start: Vec<i64> = (0..n).map(|i| T0 + i * NS_PER_S / 10).collect();
        let end = start.iter().map(|s| s + NS_PER_S).collect();
        (start, end)
    }

    #[test]
    fn without_strays_the_range_is_every_span() {
        let (s, e) = traffic(10_000);
        let r = span_range(&s, &e).unwrap();
        assert_eq!((r.lo, r.hi, r.strays), (s[0], *e.last().unwrap(), false));
        assert_eq!(span_range(&[], &[]), None);
        let one = span_range(&[5], &[3]).unwrap();
        assert_eq!((one.lo, one.hi, one.strays), (5, 5, false));
    }

    #[test]
    fn stray_timestamps_fall_outside_the_range() {
        let (mut s, mut e) = traffic(10_000);
        for at in [0, 4_102_444_800 * NS_PER_S, T0 + 30 * 86_400 * NS_PER_S] {
            s.push(at);
            e.push(at + NS_PER_S);
        }
        // One span starting in range but ending a month later: its end is the stray.
        s.push(T0 + NS_PER_S);
        e.push(T0 + 31 * 86_400 * NS_PER_S);
        let r = span_range(&s, &e).unwrap();
        assert_eq!((r.lo, r.hi), (T0, T0 + 999_900_000_000 + NS_PER_S));
        assert!(r.strays);
        assert_eq!(first_start(&s, &e), Some(T0));
    }

    #[test]
    fn sparse_edge_traffic_is_kept() {
        // The central stretch leaves out 0.5 % at each side; thin traffic right next to it
        // (a slow start, a tail) is still where the spans are.
        let (mut s, mut e) = traffic(10_000);
        for k in 1..=40 {
            s.push(T0 - k * 5 * NS_PER_S);
            e.push(T0 - k * 5 * NS_PER_S + 1);
        }
        let r = span_range(&s, &e).unwrap();
        assert_eq!((r.lo, r.strays), (T0 - 200 * NS_PER_S, false));
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let (mut s, mut e) = traffic(1_000);
        s.extend([i64::MIN, i64::MAX]);
        e.extend([i64::MIN, i64::MAX]);
        let r = span_range(&s, &e).unwrap();
        assert_eq!((r.lo, r.hi), (T0, T0 + 99_900_000_000 + NS_PER_S));
    }
}
