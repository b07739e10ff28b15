//! Time buckets that adapt to the data: 1 s for a 10-minute export, wider for hours.
//!
//! The width is the smallest of 1, 2, 5 × 10^k seconds (at least 1 s) that cuts the time
//! range into at most [`MAX_BUCKETS`] buckets, so a chart or a robust statistic over buckets
//! always has a few hundred points, and bucket edges fall on round wall-clock times.

use std::ops::Range;

use crate::model::window::{Window, NS_PER_S};

/// Upper bound on the number of buckets: enough resolution for charts and for median/MAD
/// over buckets, few enough that each bucket still holds several requests.
pub const MAX_BUCKETS: i64 = 1000;
/// The narrowest bucket: span timestamps and the per-second convention of the bench.
pub const MIN_WIDTH_NS: i64 = NS_PER_S;

/// Equal-width buckets starting at `origin_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Buckets {
    pub origin_ns: i64,
    pub width_ns: i64,
    pub count: usize,
}

impl Buckets {
    /// Buckets covering `[lo_ns, hi_ns]`.
    pub fn for_range(lo_ns: i64, hi_ns: i64) -> Buckets {
        let width_ns = choose_width(hi_ns.saturating_sub(lo_ns));
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

/// The smallest 1/2/5 × 10^k s width (≥ 1 s) giving at most [`MAX_BUCKETS`] buckets.
fn choose_width(range_ns: i64) -> i64 {
    let mut decade = MIN_WIDTH_NS;
    loop {
        for m in [1, 2, 5] {
            let w = decade.saturating_mul(m);
            if range_ns / w < MAX_BUCKETS || w == i64::MAX {
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
