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

#[cfg(test)]
mod tests {
    use super::*;

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
