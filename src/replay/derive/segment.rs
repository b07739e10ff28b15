//! Piecewise-constant fits by binary segmentation: a run of buckets is cut where the means
//! on both sides differ both significantly (Welch's t over the samples) and by a useful
//! amount, then each part is cut again. Besides one cut, a pair of cuts isolating a middle
//! stretch is tried (a fault in the middle of a long range barely moves any single cut's
//! means). Sampled traces make single buckets noisy; this keeps real steps (a load change,
//! the fault starting to bite) and drops the noise. Prefix sums make each trial O(1).

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
}

/// Prefix sums of a channel: `(n, sum, sumsq)` of buckets `0..i` at index `i`.
struct Prefix {
    acc: Vec<(f64, f64, f64)>,
    min_effect: f64,
}

/// (samples, sum, sum of squares) of some buckets.
type Sums = (f64, f64, f64);

impl Prefix {
    fn new(c: &Channel) -> Prefix {
        let mut acc = vec![(0.0, 0.0, 0.0); c.n.len() + 1];
        for i in 0..c.n.len() {
            let p = acc[i];
            acc[i + 1] = (p.0 + c.n[i], p.1 + c.sum[i], p.2 + c.sumsq[i]);
        }
        Prefix {
            acc,
            min_effect: c.min_effect,
        }
    }

    fn sums(&self, r: Range<usize>) -> Sums {
        let (a, b) = (self.acc[r.start], self.acc[r.end]);
        (b.0 - a.0, b.1 - a.1, b.2 - a.2)
    }

    /// Welch's t between two sets of buckets, 0 under `min_effect` or too few samples.
    fn t(&self, x: Sums, y: Sums) -> f64 {
        let (Some((nx, mx, vx)), Some((ny, my, vy))) = (moments(x), moments(y)) else {
            return 0.0;
        };
        if (mx - my).abs() < self.min_effect {
            return 0.0;
        }
        let se = (vx / nx + vy / ny).sqrt();
        if se > 0.0 {
            (mx - my).abs() / se
        } else {
            f64::INFINITY
        }
    }
}

/// (samples, mean, variance), `None` under two samples.
fn moments((n, s, q): Sums) -> Option<(f64, f64, f64)> {
    if n < 2.0 {
        return None;
    }
    let mean = s / n;
    Some((n, mean, ((q - s * s / n) / (n - 1.0)).max(0.0)))
}

fn add(a: Sums, b: Sums) -> Sums {
    (a.0 + b.0, a.1 + b.1, a.2 + b.2)
}

/// Cuts `r` into segments of at least `min_len` buckets.
pub fn segments(channels: &[Channel], r: Range<usize>, min_len: usize) -> Vec<Range<usize>> {
    let prefixes: Vec<Prefix> = channels.iter().map(Prefix::new).collect();
    let mut out = Vec::new();
    let r = r.start.min(r.end)
        ..r.end
            .min(prefixes.first().map_or(r.end, |p| p.acc.len() - 1));
    cut(&prefixes, r, min_len.max(1), &mut out);
    out.sort_by_key(|x| x.start);
    out
}

/// The best single cut `(score, k)` of `r`.
fn best_single(p: &[Prefix], r: &Range<usize>, min_len: usize) -> (f64, usize) {
    let mut best = (0.0, r.start);
    for k in r.start + min_len..=r.end - min_len {
        let s = p
            .iter()
            .map(|c| c.t(c.sums(r.start..k), c.sums(k..r.end)))
            .fold(0.0, f64::max);
        if s > best.0 {
            best = (s, k);
        }
    }
    best
}

/// The best pair of cuts `(score, i, j)` isolating `i..j` from the rest of `r`.
fn best_pair(p: &[Prefix], r: &Range<usize>, min_len: usize) -> (f64, usize, usize) {
    let mut best = (0.0, r.start, r.end);
    for i in r.start + min_len..r.end.saturating_sub(2 * min_len) + 1 {
        for j in i + min_len..=r.end - min_len {
            let s = p
                .iter()
                .map(|c| c.t(c.sums(i..j), add(c.sums(r.start..i), c.sums(j..r.end))))
                .fold(0.0, f64::max);
            if s > best.0 {
                best = (s, i, j);
            }
        }
    }
    best
}

fn cut(p: &[Prefix], r: Range<usize>, min_len: usize, out: &mut Vec<Range<usize>>) {
    if r.len() < 2 * min_len || out.len() + 2 >= MAX_SEGMENTS {
        out.push(r);
        return;
    }
    let single = best_single(p, &r, min_len);
    let pair = if r.len() >= 3 * min_len {
        best_pair(p, &r, min_len)
    } else {
        (0.0, r.start, r.end)
    };
    if pair.0 > single.0 && pair.0 >= T_SPLIT {
        cut(p, r.start..pair.1, min_len, out);
        cut(p, pair.1..pair.2, min_len, out);
        cut(p, pair.2..r.end, min_len, out);
    } else if single.0 >= T_SPLIT {
        cut(p, r.start..single.1, min_len, out);
        cut(p, single.1..r.end, min_len, out);
    } else {
        out.push(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 10 samples per bucket around `level(b)` with ±20 % deterministic noise.
    fn channel(n: usize, level: impl Fn(usize) -> f64) -> Channel {
        let mut c = Channel::new(n, 0.2);
        for b in 0..n {
            for i in 0..10 {
                c.add(b, level(b) * (0.8 + 0.04 * ((b * 7 + i * 3) % 11) as f64));
            }
        }
        c
    }

    #[test]
    fn a_step_is_cut_and_noise_is_not() {
        let c = channel(80, |b| if b < 40 { 1.0 } else { 3.0 });
        assert_eq!(
            segments(std::slice::from_ref(&c), 0..80, 2),
            vec![0..40, 40..80]
        );
        assert_eq!(segments(&[c], 0..40, 2), vec![0..40]);
    }

    #[test]
    fn a_small_bump_in_a_long_range_is_isolated() {
        // ×1.3 for 20 buckets of 180: no single cut moves the means by the 0.2 effect.
        let c = channel(180, |b| if (60..80).contains(&b) { 1.3 } else { 1.0 });
        assert_eq!(segments(&[c], 0..180, 2), vec![0..60, 60..80, 80..180]);
    }
}
