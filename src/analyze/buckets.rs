//! Time buckets that adapt to the data: 1 s for a busy 10-minute export, wider for hours or
//! for thin traffic.
//!
//! The width is the smallest of 1, 2, 5 × 10^k seconds (at least 1 s) that cuts the time
//! range into at most [`MAX_BUCKETS`] buckets and holds [`MIN_ENTRIES_PER_BUCKET`] entry
//! requests per bucket on average, so a chart or a robust statistic over buckets has enough
//! points, each bucket's p99 means something, and bucket edges fall on round times.

use std::ops::Range;

use crate::model::window::{Window, NS_PER_S};

/// Upper bound on the number of buckets: enough resolution for charts and for median/MAD
/// over buckets, few enough that each bucket still holds several requests.
pub const MAX_BUCKETS: i64 = 1000;
/// The narrowest bucket: span timestamps and the per-second convention of the bench.
pub const MIN_WIDTH_NS: i64 = NS_PER_S;
/// Entry requests a bucket should hold on average: a bucket's p99 and error share from
/// fewer are mostly noise (a p99 of three values is their maximum), and a sparse sampled
/// export at 1 s would make every bucket look like a departure or none.
pub const MIN_ENTRIES_PER_BUCKET: u64 = 20;

/// Equal-width buckets starting at `origin_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Buckets {
    pub origin_ns: i64,
    pub width_ns: i64,
    pub count: usize,
}

impl Buckets {
    /// Buckets covering `[lo_ns, hi_ns]` (traffic dense enough for the narrowest width).
    pub fn for_range(lo_ns: i64, hi_ns: i64) -> Buckets {
        Self::for_traffic(lo_ns, hi_ns, u64::MAX)
    }

    /// Buckets covering `[lo_ns, hi_ns]`, wide enough that `entries` entry requests spread
    /// over the range give each bucket [`MIN_ENTRIES_PER_BUCKET`] on average.
    pub fn for_traffic(lo_ns: i64, hi_ns: i64, entries: u64) -> Buckets {
        let range_ns = hi_ns.saturating_sub(lo_ns);
        let buckets_for_traffic = (entries / MIN_ENTRIES_PER_BUCKET).max(1);
        let max_buckets = (buckets_for_traffic as i64).min(MAX_BUCKETS);
        let width_ns = choose_width(range_ns, max_buckets);
        let origin_ns = lo_ns - lo_ns.rem_euclid(width_ns);
        let count = ((hi_ns - origin_ns) / width_ns + 1).max(1) as usize;
        Buckets {
            origin_ns,
            width_ns,
            count,
        }
    }

    /// The bucket of instant `t_ns`, clamped into range.
    pub fn index(&self, t_ns: i64) -> usize {
        let i = (t_ns - self.origin_ns).div_euclid(self.width_ns);
        i.clamp(0, self.count as i64 - 1) as usize
    }

    /// Start of bucket `i`.
    pub fn start_of(&self, i: usize) -> i64 {
        self.origin_ns + i as i64 * self.width_ns
    }

    /// The window covering buckets `r`.
    pub fn window(&self, r: Range<usize>) -> Window {
        Window::new(self.start_of(r.start), self.start_of(r.end))
    }

    /// Buckets whose start lies in `w`.
    pub fn within(&self, w: &Window) -> Range<usize> {
        let first = (w.start_ns - self.origin_ns + self.width_ns - 1).div_euclid(self.width_ns);
        let end = (w.end_ns - self.origin_ns + self.width_ns - 1).div_euclid(self.width_ns);
        let clamp = |x: i64| x.clamp(0, self.count as i64) as usize;
        clamp(first)..clamp(end).max(clamp(first))
    }

    /// Width in seconds.
    pub fn width_s(&self) -> f64 {
        self.width_ns as f64 / NS_PER_S as f64
    }
}

/// The smallest 1/2/5 × 10^k s width (≥ 1 s) giving at most `max_buckets` buckets.
fn choose_width(range_ns: i64, max_buckets: i64) -> i64 {
    let mut decade = MIN_WIDTH_NS;
    loop {
        for m in [1, 2, 5] {
            let w = decade.saturating_mul(m);
            if range_ns / w < max_buckets || w == i64::MAX {
                return w;
            }
        }
        decade = decade.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_717_243_200 * NS_PER_S;

    #[test]
    fn width_adapts_to_the_range() {
        assert_eq!(
            Buckets::for_range(T0, T0 + 600 * NS_PER_S).width_ns,
            NS_PER_S
        );
        assert_eq!(
            Buckets::for_range(T0, T0 + 1800 * NS_PER_S).width_ns,
            2 * NS_PER_S
        );
        assert_eq!(
            Buckets::for_range(T0, T0 + 3600 * NS_PER_S).width_ns,
            5 * NS_PER_S
        );
        assert_eq!(
            Buckets::for_range(T0, T0 + 86_400 * NS_PER_S).width_ns,
            100 * NS_PER_S
        );
        assert_eq!(Buckets::for_range(T0, T0 + 5 * NS_PER_S).width_ns, NS_PER_S);
        let b = Buckets::for_range(T0, T0 + 3600 * NS_PER_S);
        assert!((300..=1001).contains(&b.count));
    }

    #[test]
    fn thin_traffic_widens_the_buckets() {
        // 824 entry requests over 300 s: ~41 buckets' worth → 10 s.
        let b = Buckets::for_traffic(T0, T0 + 300 * NS_PER_S, 824);
        assert_eq!(b.width_ns, 10 * NS_PER_S);
        // Busy traffic keeps the range-driven width.
        let b = Buckets::for_traffic(T0, T0 + 1800 * NS_PER_S, 82_440);
        assert_eq!(b.width_ns, 2 * NS_PER_S);
        // No traffic at all still gives one valid bucket width.
        let b = Buckets::for_traffic(T0, T0 + 60 * NS_PER_S, 0);
        assert!(b.width_ns >= 60 * NS_PER_S && b.count >= 1);
    }

    #[test]
    fn indexing_and_windows_round_trip() {
        let b = Buckets::for_range(T0 + 300_000_000, T0 + 1800 * NS_PER_S);
        assert_eq!(b.origin_ns, T0);
        assert_eq!(b.index(T0 + 601 * NS_PER_S), 300);
        assert_eq!(b.index(T0 - NS_PER_S), 0);
        let w = Window::new(T0 + 600 * NS_PER_S, T0 + 1200 * NS_PER_S);
        assert_eq!(b.within(&w), 300..600);
        assert_eq!(b.window(300..600), w);
    }
}
