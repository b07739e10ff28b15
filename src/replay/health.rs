//! Onset, recovery and whether the overload outlived the fault, from entry buckets: the
//! rule of `recovery.rs`, applied alike to the traces and to a replay.

use super::derive::frame::Frame;
use super::entry_trace::{figures, Bucket};
use super::recovery::{HEALTHY_P99_FACTOR, HEALTHY_SUCCESS_FRACTION, METASTABLE_GRACE_S};

/// An unhealthy stretch must last this many buckets to mark the onset.
pub const ONSET_SUSTAIN: usize = 2;
/// A bucket is unhealthy on at least this many sampled failures or slow requests.
pub const MIN_BAD_SAMPLES: f64 = 2.0;

/// Onset, recovery and "outlived the trigger" (model seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Health {
    pub onset_s: Option<f64>,
    pub recovered_s: Option<f64>,
    pub outlived: bool,
}

pub fn health(xs: &[Bucket], f: &Frame, (start, end): (f64, f64)) -> Health {
    let w = f.width_s();
    let first = ((start / w) as usize).min(xs.len());
    let end_b = ((end / w).ceil() as usize).min(xs.len());
    let base = figures(xs, 0..first, f);
    let base_ratio = 1.0 - base.error_rate;
    let ok: Vec<bool> = xs
        .iter()
        .map(|b| healthy(b, base_ratio, base.p99, f.sample_rate))
        .collect();
    let onset =
        (first..xs.len()).find(|&b| (b..b + ONSET_SUSTAIN).all(|k| ok.get(k) == Some(&false)));
    let mut from = xs.len();
    while from > end_b && ok[from - 1] {
        from -= 1;
    }
    let recovered = (from < xs.len()).then_some(from as f64 * w);
    Health {
        onset_s: onset.map(|b| b as f64 * w),
        recovered_s: recovered,
        outlived: recovered.is_none_or(|t| t - end > METASTABLE_GRACE_S),
    }
}

/// The rule of `recovery.rs` (success ratio and p99 close to the pre-fault baseline),
/// made robust to thin sampled buckets: a bucket is unhealthy only on at least
/// [`MIN_BAD_SAMPLES`] sampled failures, or that many requests slower than the p99 bound
/// (in a bucket of a dozen requests the p99 is its slowest one).
fn healthy(b: &Bucket, base_ratio: f64, base_p99: Option<f64>, rate: f64) -> bool {
    if b.ok + b.fail == 0.0 {
        return true;
    }
    let failing = b.ok / (b.ok + b.fail) < HEALTHY_SUCCESS_FRACTION * base_ratio;
    if failing && b.fail * rate >= MIN_BAD_SAMPLES {
        return false;
    }
    let Some(bound) = base_p99.map(|p| HEALTHY_P99_FACTOR * p) else {
        return true;
    };
    let slow = b.lat_ms.iter().filter(|&&x| x > bound).count() as f64;
    slow < MIN_BAD_SAMPLES.max(0.01 * b.lat_ms.len() as f64)
}

/// Mean (`None` when empty).
pub fn mean_of(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Sample standard deviation (0 under two values).
pub fn sd(xs: &[f64]) -> f64 {
    let Some(m) = mean_of(xs).filter(|_| xs.len() >= 2) else {
        return 0.0;
    };
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(ok: f64, fail: f64, lat: f64) -> Bucket {
        Bucket {
            ok,
            fail,
            lat_ms: vec![lat; 10],
        }
    }

    #[test]
    fn health_finds_onset_recovery_and_metastability() {
        let f = Frame {
            origin_ns: 0,
            width_ns: 1_000_000_000,
            buckets: 40,
            sample_rate: 1.0,
        };
        let mut xs: Vec<Bucket> = (0..40).map(|_| b(10.0, 0.0, 5.0)).collect();
        for x in &mut xs[10..15] {
            *x = b(2.0, 8.0, 90.0);
        }
        let h = health(&xs, &f, (10.0, 14.0));
        assert_eq!(
            (h.onset_s, h.recovered_s, h.outlived),
            (Some(10.0), Some(15.0), false)
        );
        for x in &mut xs[15..] {
            *x = b(2.0, 8.0, 90.0);
        }
        assert!(health(&xs, &f, (10.0, 14.0)).outlived);
    }
}
