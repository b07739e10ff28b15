//! The derived model's clock: model time 0 is the start of the analysis' first bucket, one
//! model bucket is one analysis bucket, and counts from sampled traces are scaled by the
//! sampling rate. Shared by every derivation step and by the fidelity check.

use crate::analyze::incident::Windows;
use crate::model::window::{Window, NS_PER_S};

/// Time base and scale of the derived model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub origin_ns: i64,
    pub width_ns: i64,
    pub buckets: usize,
    /// Share of traces kept by head sampling (1 = every trace).
    pub sample_rate: f64,
}

impl Frame {
    /// The frame of an analysis' buckets.
    pub fn new(w: &Windows, sample_rate: f64) -> Frame {
        Frame {
            origin_ns: w.buckets.origin_ns,
            width_ns: w.buckets.width_ns.max(1),
            buckets: w.buckets.count.max(1),
            sample_rate,
        }
    }

    /// Bucket width in seconds.
    pub fn width_s(&self) -> f64 {
        self.width_ns as f64 / NS_PER_S as f64
    }

    /// Model duration in seconds (every bucket).
    pub fn duration_s(&self) -> f64 {
        self.buckets as f64 * self.width_s()
    }

    /// Model time (seconds) of instant `t_ns`.
    pub fn secs(&self, t_ns: i64) -> f64 {
        (t_ns - self.origin_ns) as f64 / NS_PER_S as f64
    }

    /// The bucket of `t_ns`, `None` outside the frame.
    pub fn bucket(&self, t_ns: i64) -> Option<usize> {
        let i = (t_ns - self.origin_ns).div_euclid(self.width_ns);
        (0..self.buckets as i64).contains(&i).then_some(i as usize)
    }

    /// Buckets whose start lies in `w`.
    pub fn within(&self, w: &Window) -> std::ops::Range<usize> {
        let up = |t: i64| (t - self.origin_ns + self.width_ns - 1).div_euclid(self.width_ns);
        let clamp = |x: i64| x.clamp(0, self.buckets as i64) as usize;
        let (a, b) = (clamp(up(w.start_ns)), clamp(up(w.end_ns)));
        a..b.max(a)
    }

    /// A count seen in sampled traces, scaled to the whole traffic.
    pub fn scale(&self, n: f64) -> f64 {
        n / self.sample_rate
    }
}

/// Rounds to `digits` decimals (model files stay readable).
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_scaling() {
        let f = Frame {
            origin_ns: 10 * NS_PER_S,
            width_ns: NS_PER_S,
            buckets: 5,
            sample_rate: 0.25,
        };
        assert_eq!(f.bucket(12 * NS_PER_S + 5), Some(2));
        assert_eq!(f.bucket(9 * NS_PER_S), None);
        assert_eq!(f.bucket(15 * NS_PER_S), None);
        assert_eq!(f.secs(11 * NS_PER_S + NS_PER_S / 2), 1.5);
        assert_eq!(f.scale(10.0), 40.0);
        assert_eq!(f.within(&Window::new(11 * NS_PER_S, 13 * NS_PER_S)), 1..3);
        assert_eq!(round(1.23456, 2), 1.23);
    }
}
