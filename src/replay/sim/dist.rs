//! Service-time distributions, compiled from the model's `service_time_ms` into seconds and
//! sampled with the simulator's RNG (lognormal, exponential, constant, empirical quantiles).

use crate::replay::model::DistSpec;

use super::rng::Rng;

/// Standard normal 0.99 quantile: sigma = ln(p99 / median) / Z99 (SCENARIO.md).
pub const Z99: f64 = 2.326_347_874_040_840_8;

/// A sampler of one service's own time, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum Dist {
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Exponential {
        rate: f64,
    },
    Constant(f64),
    /// Inverse-CDF points `(quantile, seconds)`, starting at `(0, 0)` unless given, and
    /// holding the last value above the last quantile.
    Empirical(Vec<(f64, f64)>),
}

impl Dist {
    /// Compiles a validated spec (milliseconds) into seconds.
    pub fn from_spec(s: &DistSpec) -> Dist {
        match s.dist.as_str() {
            "lognormal" => {
                let median = s.median.unwrap_or(1.0);
                let p99 = s.p99.unwrap_or(median);
                Dist::LogNormal {
                    mu: (median / 1000.0).ln(),
                    sigma: (p99 / median).ln() / Z99,
                }
            }
            "exponential" => Dist::Exponential {
                rate: 1000.0 / s.mean.unwrap_or(1.0),
            },
            "empirical" => Dist::Empirical(empirical_points(s.quantiles.as_deref().unwrap_or(&[]))),
            _ => Dist::Constant(s.value.or(s.mean).or(s.median).unwrap_or(0.0) / 1000.0),
        }
    }

    /// One sample in seconds.
    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> f64 {
        match self {
            Dist::LogNormal { mu, sigma } => (mu + sigma * rng.normal()).exp(),
            Dist::Exponential { rate } => rng.exponential(*rate),
            Dist::Constant(v) => *v,
            Dist::Empirical(points) => inverse_cdf(points, rng.uniform()),
        }
    }
}

fn empirical_points(q: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = q.iter().map(|&(p, ms)| (p, ms / 1000.0)).collect();
    if pts.first().is_none_or(|&(p, _)| p > 0.0) {
        pts.insert(0, (0.0, 0.0));
    }
    pts
}

/// Linear interpolation of the quantile function at `u`.
fn inverse_cdf(points: &[(f64, f64)], u: f64) -> f64 {
    let i = points.partition_point(|&(p, _)| p <= u);
    match (i.checked_sub(1).and_then(|j| points.get(j)), points.get(i)) {
        (Some(&(p0, v0)), Some(&(p1, v1))) => v0 + (v1 - v0) * (u - p0) / (p1 - p0),
        (Some(&(_, v)), None) | (None, Some(&(_, v))) => v,
        (None, None) => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> Dist {
        Dist::from_spec(&serde_json::from_str(json).unwrap())
    }

    fn quantile(d: &Dist, q: f64) -> f64 {
        let mut r = Rng::new(3);
        let mut xs: Vec<f64> = (0..100_000).map(|_| d.sample(&mut r)).collect();
        xs.sort_by(f64::total_cmp);
        xs[(q * (xs.len() - 1) as f64) as usize]
    }

    #[test]
    fn lognormal_hits_median_and_p99() {
        let d = spec(r#"{"dist":"lognormal","median":4,"p99":20}"#);
        assert!((quantile(&d, 0.5) - 0.004).abs() < 0.0002);
        assert!((quantile(&d, 0.99) - 0.020).abs() < 0.0015);
    }

    #[test]
    fn empirical_interpolates_its_quantiles() {
        let d = spec(r#"{"dist":"empirical","quantiles":[[0.5,3.1],[0.9,8.0],[0.99,20.0]]}"#);
        assert!((quantile(&d, 0.5) - 0.0031).abs() < 0.0002);
        assert!((quantile(&d, 0.9) - 0.008).abs() < 0.0003);
        assert!((quantile(&d, 0.7) - 0.00555).abs() < 0.0003);
        assert_eq!(
            inverse_cdf(&empirical_points(&[(0.5, 3.1), (0.99, 20.0)]), 0.995),
            0.02
        );
    }

    #[test]
    fn exponential_and_constant() {
        let e = spec(r#"{"dist":"exponential","mean":5}"#);
        assert!((quantile(&e, 0.5) - 0.005 * std::f64::consts::LN_2).abs() < 0.0002);
        assert_eq!(
            spec(r#"{"dist":"constant","value":0.8}"#),
            Dist::Constant(0.0008)
        );
    }
}
