//! Service time: the empirical distribution of self time (duration minus the time spent
//! waiting on callees) of each service's successful requests in the baseline window, as
//! quantiles (`dist: empirical`). Uninstrumented callees (virtual nodes) use the duration
//! their callers saw on successful first attempts.

use serde_json::{json, Value};

use super::frame::round;
use crate::analyze::stats::quantile_sorted;

/// The quantiles written to the model: dense in the tail, where overload starts.
pub const QUANTILES: [f64; 16] = [
    0.0, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999, 1.0,
];
/// Below this many baseline samples the whole range is used instead.
pub const MIN_SAMPLES: usize = 20;
/// Service time of a service that has no sample at all (ms): a nominal 1 ms.
pub const FALLBACK_MS: f64 = 1.0;

/// The `service_time_ms` object of samples in ms (any order).
pub fn empirical(samples_ms: &mut [f64]) -> Value {
    samples_ms.sort_unstable_by(f64::total_cmp);
    if samples_ms.is_empty() {
        return json!({"dist": "constant", "value": FALLBACK_MS});
    }
    let mut prev = 0.0f64;
    let q: Vec<(f64, f64)> = QUANTILES
        .iter()
        .map(|&p| {
            let v = round(quantile_sorted(samples_ms, p).unwrap_or(0.0).max(0.0), 4);
            prev = prev.max(v);
            (p, prev)
        })
        .collect();
    json!({"dist": "empirical", "quantiles": q})
}

/// Median of the samples (ms), for summaries.
pub fn median(samples_ms: &mut [f64]) -> Option<f64> {
    samples_ms.sort_unstable_by(f64::total_cmp);
    quantile_sorted(samples_ms, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::model::DistSpec;

    #[test]
    fn quantiles_increase_and_parse_as_a_distribution() {
        let mut xs: Vec<f64> = (1..=1000).map(|i| (i % 97) as f64 * 0.1 + 0.5).collect();
        let v = empirical(&mut xs);
        let d: DistSpec = serde_json::from_value(v.clone()).unwrap();
        let q = d.quantiles.unwrap();
        assert_eq!(q.first().unwrap(), &(0.0, 0.5));
        assert!(q.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(empirical(&mut [])["dist"], "constant");
    }
}
