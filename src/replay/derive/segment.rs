//! Piecewise-constant fits by binary segmentation: a run of buckets is cut where the means
//! on both sides differ both significantly (Welch's t over the samples) and by a useful
//! amount, then each side is cut again. Sampled traces make single buckets noisy; this
//! keeps real steps (a load change, the fault starting to bite) and drops the noise.

use std::ops::Range;

/// A cut needs this Welch t statistic: conservative, as every bucket boundary is tried.
pub const T_SPLIT: f64 = 5.0;
/// At most this many segments (deep recursion on long noisy ranges is not information).
pub const MAX_SEGMENTS: usize = 64;

/// Per-bucket sample sums of one quantity, with the smallest difference of means worth a cut.
#[derive(Debug, Clone, Default)]
pub struct Channel {
    pub n: Vec<f64>,
    pub sum: Vec<f64>,
    pub sumsq: Vec<f64>,
    pub min_effect: f64,
}

impl Channel {
    /// A channel over `buckets` buckets.
    pub fn new(buckets: usize, min_effect: f64) -> Channel {
        Channel {
            n: vec![0.0; buckets],
            sum: vec![0.0; buckets],
            sumsq: vec![0.0; buckets],
            min_effect,
        }
    }

    /// Adds sample `x` to bucket `b`.
    pub fn add(&mut self, b: usize, x: f64) {
        if b < self.n.len() {
            self.n[b] += 1.0;
            self.sum[b] += x;
            self.sumsq[b] += x * x;
        }
    }

    /// (samples, mean, variance) over `r`.
    fn moments(&self, r: Range<usize>) -> (f64, f64, f64) {
        let n: f64 = self.n[r.clone()].iter().sum();
        let s: f64 = self.sum[r.clone()].iter().sum();
        let q: f64 = self.sumsq[r].iter().sum();
        if n < 1.0 {
            return (0.0, 0.0, 0.0);
        }
        let mean = s / n;
        let var = ((q - s * s / n) / (n - 1.0).max(1.0)).max(0.0);
        (n, mean, var)
    }

    /// Welch's t of a cut at `k` inside `r`, 0 when the difference is under `min_effect`.
    fn score(&self, r: &Range<usize>, k: usize) -> f64 {
        let (nl, ml, vl) = self.moments(r.start..k);
        let (nr, mr, vr) = self.moments(k..r.end);
        if nl < 2.0 || nr < 2.0 || (ml - mr).abs() < self.min_effect {
            return 0.0;
        }
        let se = (vl / nl + vr / nr).sqrt();
        if se > 0.0 {
            (ml - mr).abs() / se
        } else {
            f64::INFINITY
        }
    }
}

/// Cuts `r` into segments of at least `min_len` buckets.
pub fn segments(channels: &[Channel], r: Range<usize>, min_len: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    cut(channels, r, min_len.max(1), &mut out);
    out.sort_by_key(|x| x.start);
    out
}

fn cut(channels: &[Channel], r: Range<usize>, min_len: usize, out: &mut Vec<Range<usize>>) {
    if r.len() < 2 * min_len || out.len() + 1 >= MAX_SEGMENTS {
        out.push(r);
        return;
    }
    let best = (r.start + min_len..=r.end - min_len)
        .map(|k| {
            (
                k,
                channels.iter().map(|c| c.score(&r, k)).fold(0.0, f64::max),
            )
        })
        .fold((r.start, 0.0), |a, b| if b.1 > a.1 { b } else { a });
    if best.1 < T_SPLIT {
        out.push(r);
        return;
    }
    cut(channels, r.start..best.0, min_len, out);
    cut(channels, best.0..r.end, min_len, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_is_cut_and_noise_is_not() {
        // 40 buckets of ~10 samples around 1.0, then 40 around 3.0, with ±20 % noise.
        let mut c = Channel::new(80, 0.2);
        for b in 0..80 {
            let level = if b < 40 { 1.0 } else { 3.0 };
            for i in 0..10 {
                c.add(b, level * (0.8 + 0.04 * ((b * 7 + i * 3) % 11) as f64));
            }
        }
        assert_eq!(segments(&[c.clone()], 0..80, 2), vec![0..40, 40..80]);
        assert_eq!(segments(&[c], 0..40, 2), vec![0..40]);
    }
}
