//! Typed access to frame columns by their constant names, with errors that name the column.

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, Int32Chunked, Int64Chunked, StringChunked};

/// The String column `name` of `df`.
pub fn str_col<'a>(df: &'a DataFrame, name: &str) -> Result<&'a StringChunked> {
    df.column(name)
        .and_then(|c| c.str())
        .with_context(|| format!("frame column {name} (String)"))
}

/// The Int64 column `name` of `df`.
pub fn i64_col<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Int64Chunked> {
    df.column(name)
        .and_then(|c| c.i64())
        .with_context(|| format!("frame column {name} (Int64)"))
}

/// The Int32 column `name` of `df`.
pub fn i32_col<'a>(df: &'a DataFrame, name: &str) -> Result<&'a Int32Chunked> {
    df.column(name)
        .and_then(|c| c.i32())
        .with_context(|| format!("frame column {name} (Int32)"))
}

/// True when `df` has a column called `name`.
pub fn has_col(df: &DataFrame, name: &str) -> bool {
    df.get_column_names().iter().any(|c| c.as_str() == name)
}

/// Linear-interpolated quantile of sorted values (`pos = q·(n−1)`), as numpy/polars
/// `linear`; `None` for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_linear_interpolation() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.5), Some(2.5));
        assert_eq!(quantile_sorted(&v, 1.0), Some(4.0));
        assert_eq!(quantile_sorted(&v, 0.0), Some(1.0));
        assert!((quantile_sorted(&v, 0.99).unwrap() - 3.97).abs() < 1e-12);
        assert_eq!(quantile_sorted(&[], 0.5), None);
    }
}
