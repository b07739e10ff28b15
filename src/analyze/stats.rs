//! Small statistics: percentiles with linear interpolation, median, MAD, robust thresholds.

/// Scale that makes the MAD estimate a standard deviation for normal data (1 / Φ⁻¹(0.75)).
pub const MAD_TO_SIGMA: f64 = 1.4826;

/// Linear-interpolated quantile of sorted values (one definition, in `model::frame`).
pub use crate::model::frame::quantile_sorted;

/// Sorts `values` (NaN-free) in place and returns the `q` quantile.
pub fn quantile(values: &mut [f64], q: f64) -> Option<f64> {
    values.sort_unstable_by(f64::total_cmp);
    quantile_sorted(values, q)
}

/// Median and median absolute deviation of `values` (`None` when empty).
pub fn median_mad(values: &[f64]) -> Option<(f64, f64)> {
    let mut v = values.to_vec();
    let med = quantile(&mut v, 0.5)?;
    let mut dev: Vec<f64> = values.iter().map(|x| (x - med).abs()).collect();
    let mad = quantile(&mut dev, 0.5)?;
    Some((med, mad))
}

/// A value with the number of samples behind it.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Counted {
    pub value: Option<f64>,
    pub n: u64,
}

impl Counted {
    pub fn new(value: Option<f64>, n: u64) -> Self {
        Counted { value, n }
    }
}

/// Robust "high" threshold: median + k·σ̂ (σ̂ = 1.4826·MAD), at least `median + floor`.
pub fn upper_threshold(values: &[f64], k: f64, floor: f64) -> Option<f64> {
    let (med, mad) = median_mad(values)?;
    Some(med + (k * MAD_TO_SIGMA * mad).max(floor))
}

/// Ratio `a / b`, `None` when `b` is zero or either is missing.
pub fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(a / b),
        _ => None,
    }
}

/// Rank-based comparison of an incident sample against a baseline sample: Cliff's delta
/// (P(incident > baseline) − P(incident < baseline), in −1..=1) and the Mann–Whitney z of
/// the same comparison under "no change". Ranks hold at tens of samples where a ratio of
/// percentiles is noise, and every result says how many samples stood behind it.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Shift {
    pub delta: f64,
    pub z: f64,
    pub n_baseline: u64,
    pub n_incident: u64,
}

/// Romano et al. (2006): |δ| ≥ 0.33 is a "medium" effect, the conventional line between a
/// shift a reader would notice and noise.
pub const MEDIUM_EFFECT: f64 = 0.33;
/// z ≥ 3: one-sided p ≈ 0.0013, so across a few dozen services and edges a false "rose"
/// is rare.
pub const SIGNIFICANT_Z: f64 = 3.0;

impl Shift {
    /// Whether the incident sample is clearly higher (a medium effect, significant).
    pub fn rose(&self) -> bool {
        self.delta >= MEDIUM_EFFECT && self.z >= SIGNIFICANT_Z
    }
}

/// Compares `incident` against `baseline` ([`Shift`]); sorts `baseline` in place.
/// O((n + m) log n).
pub fn shift(baseline: &mut [f64], incident: &[f64]) -> Option<Shift> {
    baseline.sort_unstable_by(f64::total_cmp);
    shift_sorted(baseline, incident)
}

/// [`shift`] against a baseline already sorted (one reference, many comparisons).
pub fn shift_sorted(baseline: &[f64], incident: &[f64]) -> Option<Shift> {
    let (n, m) = (baseline.len(), incident.len());
    if n == 0 || m == 0 {
        return None;
    }
    let (mut above, mut below) = (0u64, 0u64);
    for &x in incident {
        let lo = baseline.partition_point(|&b| b < x);
        let hi = baseline.partition_point(|&b| b <= x);
        above += lo as u64; // baselines below x
        below += (n - hi) as u64; // baselines above x
    }
    let nm = (n * m) as f64;
    let delta = (above as f64 - below as f64) / nm;
    // U counts ties as one half; its null variance ignores the (small) tie correction.
    let u = above as f64 + (nm - above as f64 - below as f64) / 2.0;
    let sd = (nm * (n + m + 1) as f64 / 12.0).sqrt();
    let z = if sd > 0.0 { (u - nm / 2.0) / sd } else { 0.0 };
    Some(Shift {
        delta,
        z,
        n_baseline: n as u64,
        n_incident: m as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_is_rank_based_and_counts_its_samples() {
        let mut base: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let inc: Vec<f64> = (0..50).map(|i| 100.0 + i as f64).collect();
        let s = shift(&mut base, &inc).unwrap();
        assert_eq!((s.delta, s.n_baseline, s.n_incident), (1.0, 50, 50));
        assert!(s.z > 8.0 && s.rose());
        let same: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let s = shift(&mut base, &same).unwrap();
        assert!(s.delta.abs() < 1e-9 && s.z.abs() < 1e-9 && !s.rose());
        // One huge outlier moves a ratio of means, not the ranks.
        let mut inc = same.clone();
        inc[0] = 1e9;
        assert!(!shift(&mut base, &inc).unwrap().rose());
        assert!(shift(&mut [], &inc).is_none());
    }

    #[test]
    fn linear_quantiles_match_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), Some(2.5));
        assert!((quantile_sorted(&v, 0.99).unwrap() - 3.97).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[7.0], 0.99), Some(7.0));
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }

    #[test]
    fn median_and_mad_ignore_outliers() {
        let (m, mad) = median_mad(&[1.0, 1.0, 2.0, 2.0, 4.0, 6.0, 9.0]).unwrap();
        assert_eq!((m, mad), (2.0, 1.0));
        let t = upper_threshold(&[10.0, 10.0, 10.0, 1000.0], 3.0, 1.0).unwrap();
        assert_eq!(t, 11.0);
        assert_eq!(ratio(Some(3.0), Some(0.0)), None);
    }
}
