//! Random draws of the corpus generator, on the simulator's seeded RNG: uniform and
//! log-uniform numbers, coin flips, picks. Every parameter of a case comes from these.

use crate::replay::sim::rng::Rng;

/// Uniform in `[a, b)`.
pub fn uniform(rng: &mut Rng, a: f64, b: f64) -> f64 {
    a + (b - a) * rng.uniform()
}

/// Log-uniform in `[a, b)`: every factor of ten as likely as the next.
pub fn log_uniform(rng: &mut Rng, a: f64, b: f64) -> f64 {
    (a.ln() + (b.ln() - a.ln()) * rng.uniform()).exp()
}

/// True with probability `p`.
pub fn chance(rng: &mut Rng, p: f64) -> bool {
    rng.uniform() < p
}

/// An integer in `[a, b]`.
pub fn int(rng: &mut Rng, a: usize, b: usize) -> usize {
    a + ((rng.uniform() * (b - a + 1) as f64) as usize).min(b - a)
}

/// One element of a non-empty slice.
pub fn pick<'a, T>(rng: &mut Rng, xs: &'a [T]) -> &'a T {
    &xs[int(rng, 0, xs.len() - 1)]
}

/// Rounded to `digits` decimals (readable parameters in the truth file).
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut rng = Rng::new(4);
        for _ in 0..1000 {
            let l = log_uniform(&mut rng, 1.0, 300.0);
            let i = int(&mut rng, 4, 6);
            assert!((1.0..300.0).contains(&l) && (4..=6).contains(&i), "{l} {i}");
        }
    }
}
