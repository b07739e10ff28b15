//! Service time: the empirical distribution of self time (duration minus the time spent
//! waiting on callees) of each service's successful requests in the baseline window, as
//! quantiles (`dist: empirical`). Uninstrumented callees (virtual nodes) use the duration
//! their callers saw on successful first attempts.

use serde_json::{json, Value};

use super::frame::round;
use crate::analyze::stats::quantile_sorted;

/// The quantile levels written to the model with their standard normal quantiles z(q):
/// dense in the tail, where overload starts.
pub const LEVELS: [(f64, f64); 21] = [
    (0.0, f64::NEG_INFINITY),
    (0.01, -2.3263),
    (0.05, -1.6449),
    (0.1, -1.2816),
    (0.2, -0.8416),
    (0.3, -0.5244),
    (0.4, -0.2533),
    (0.5, 0.0),
    (0.6, 0.2533),
    (0.7, 0.5244),
    (0.8, 0.8416),
    (0.9, 1.2816),
    (0.95, 1.6449),
    (0.97, 1.8808),
    (0.98, 2.0537),
    (0.99, 2.3263),
    (0.995, 2.5758),
    (0.998, 2.8782),
    (0.999, 3.0902),
    (0.9995, 3.2905),
    (0.9999, 3.7190),
];
/// A tail level is read from the data only with this many samples beyond it; further out
/// the tail is extrapolated as lognormal (log value linear in z) from the 0.9 level to the
/// last level read: a sample's largest values are too noisy to replay as they are.
pub const MIN_TAIL_SAMPLES: f64 = 10.0;
/// Where the lognormal tail fit starts.
const TAIL_FROM: f64 = 0.9;
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
    let n = samples_ms.len() as f64;
    let read = |q: f64| quantile_sorted(samples_ms, q).unwrap_or(0.0).max(0.0);
    let last = LEVELS
        .iter()
        .rposition(|&(q, _)| q <= TAIL_FROM || n * (1.0 - q) >= MIN_TAIL_SAMPLES)
        .unwrap_or(0);
    let (q0, z0) = LEVELS
        .iter()
        .find(|l| l.0 == TAIL_FROM)
        .copied()
        .unwrap_or((0.9, 1.2816));
    let (qk, zk) = LEVELS[last];
    let (v0, vk) = (read(q0).max(1e-6), read(qk).max(1e-6));
    let sigma = if zk > z0 {
        ((vk / v0).ln() / (zk - z0)).max(0.0)
    } else {
        0.0
    };
    let mut prev = 0.0f64;
    let q: Vec<(f64, f64)> = LEVELS
        .iter()
        .enumerate()
        .map(|(i, &(p, z))| {
            let v = if i <= last {
                read(p)
            } else {
                vk * (sigma * (z - zk)).exp()
            };
            prev = prev.max(round(v, 4));
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
    fn a_thin_tail_is_extrapolated_as_lognormal() {
        // Lognormal median 4, sigma 0.69: z-spaced samples, 1000 of them.
        let mut xs: Vec<f64> = (1..=1000)
            .map(|i| {
                let u = (i as f64 - 0.5) / 1000.0;
                let z = LEVELS
                    .iter()
                    .min_by(|a, b| (a.0 - u).abs().total_cmp(&(b.0 - u).abs()))
                    .unwrap()
                    .1;
                4.0 * (0.69 * z.clamp(-3.0, 3.0)).exp()
            })
            .collect();
        let v = empirical(&mut xs);
        let q = v["quantiles"].as_array().unwrap();
        let at = |p: f64| {
            q.iter().find(|x| x[0].as_f64() == Some(p)).unwrap()[1]
                .as_f64()
                .unwrap()
        };
        let want = 4.0 * (0.69f64 * 3.7190).exp();
        assert!(
            (at(0.9999) / want - 1.0).abs() < 0.1,
            "{} vs {want}",
            at(0.9999)
        );
    }

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
