//! Seeded random numbers for the simulator: xoshiro256** seeded through splitmix64.
//!
//! Implemented here (not taken from a crate) so that the same seed gives byte-identical runs
//! on every machine, every compiler version and every thread count.

/// xoshiro256** (Blackman & Vigna, 2018) with the state filled by splitmix64.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
    /// The second normal of the last Box–Muller pair, not yet used.
    spare: Option<f64>,
}

/// splitmix64-style hash of two words: ids, sampling and instance choice derive from it,
/// never from the run's RNG stream, so telemetry cannot perturb the model.
pub fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 2^-53: turns the top 53 bits of a u64 into a uniform f64 in [0, 1).
const F64_UNIT: f64 = 1.0 / (1u64 << 53) as f64;

impl Rng {
    /// A generator whose whole stream is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut sm = seed;
        let mut s = [0u64; 4];
        for slot in &mut s {
            *slot = splitmix64(&mut sm);
        }
        Rng { s, spare: None }
    }

    /// Next raw 64-bit output.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * F64_UNIT
    }

    /// Uniform in (0, 1]: safe to take the logarithm of.
    #[inline]
    fn uniform_open0(&mut self) -> f64 {
        1.0 - self.uniform()
    }

    /// Exponential with the given rate (mean 1/rate).
    #[inline]
    pub fn exponential(&mut self, rate: f64) -> f64 {
        -self.uniform_open0().ln() / rate
    }

    /// Standard normal by the Box–Muller transform; each pair's second value is kept for
    /// the next call.
    #[inline]
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        let r = (-2.0 * self.uniform_open0().ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * self.uniform()).sin_cos();
        self.spare = Some(r * sin);
        r * cos
    }
}

/// splitmix64 step (Steele, Lea & Flood 2014), the seeding generator xoshiro's authors advise.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_known_first_value() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(Rng::new(8).next_u64(), xs[0]);
    }

    #[test]
    fn splitmix_reference_value() {
        // Reference: splitmix64 seeded with 0 yields 0xE220A8397B1DCDAF first.
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn moments_are_right() {
        let mut r = Rng::new(1);
        let n = 200_000;
        let mean_u: f64 = (0..n).map(|_| r.uniform()).sum::<f64>() / n as f64;
        let mean_e: f64 = (0..n).map(|_| r.exponential(4.0)).sum::<f64>() / n as f64;
        let zs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean_z = zs.iter().sum::<f64>() / n as f64;
        let var_z = zs.iter().map(|z| z * z).sum::<f64>() / n as f64;
        assert!((mean_u - 0.5).abs() < 0.005, "{mean_u}");
        assert!((mean_e - 0.25).abs() < 0.005, "{mean_e}");
        assert!(
            mean_z.abs() < 0.01 && (var_z - 1.0).abs() < 0.02,
            "{mean_z} {var_z}"
        );
    }
}
