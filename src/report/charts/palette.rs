//! Colours: one per role, one per service (stable by name order), and scales for rates.

use super::spec::Rgb;

pub const SOURCE: Rgb = Rgb(214, 39, 40);
pub const INFECTED: Rgb = Rgb(255, 127, 14);
pub const AFFECTED: Rgb = Rgb(188, 160, 34);
pub const HEALTHY: Rgb = Rgb(90, 110, 130);
pub const SHADE: Rgb = Rgb(214, 39, 40);
pub const BASELINE: Rgb = Rgb(120, 150, 190);
pub const INCIDENT: Rgb = Rgb(214, 39, 40);
pub const TEXT: Rgb = Rgb(30, 30, 30);
pub const GRID: Rgb = Rgb(225, 225, 225);

/// Tableau-10: distinct, colour-blind-friendlier than a rainbow.
const CATEGORICAL: [Rgb; 10] = [
    Rgb(31, 119, 180),
    Rgb(255, 127, 14),
    Rgb(44, 160, 44),
    Rgb(214, 39, 40),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(227, 119, 194),
    Rgb(127, 127, 127),
    Rgb(188, 189, 34),
    Rgb(23, 190, 207),
];

/// The colour of a role name (`source`, `infected`, `affected`, anything else = healthy).
pub fn role(role: &str) -> Rgb {
    match role {
        "source" => SOURCE,
        "infected" => INFECTED,
        "affected" => AFFECTED,
        _ => HEALTHY,
    }
}

/// The i-th categorical colour (cycles).
pub fn categorical(i: usize) -> Rgb {
    CATEGORICAL[i % CATEGORICAL.len()]
}

/// Green → amber → red for a value in [lo, hi] (e.g. amplification 1 → 3).
pub fn scale(value: f64, lo: f64, hi: f64) -> Rgb {
    let t = if hi > lo && value.is_finite() {
        ((value - lo) / (hi - lo)).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (a, b, u) = if t < 0.5 {
        (Rgb(90, 160, 90), Rgb(240, 170, 30), t * 2.0)
    } else {
        (Rgb(240, 170, 30), Rgb(214, 39, 40), t * 2.0 - 1.0)
    };
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * u).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_runs_green_to_red_and_clamps() {
        assert_eq!(scale(1.0, 1.0, 3.0), Rgb(90, 160, 90));
        assert_eq!(scale(3.0, 1.0, 3.0), SOURCE);
        assert_eq!(scale(99.0, 1.0, 3.0), SOURCE);
        assert_eq!(scale(f64::NAN, 1.0, 3.0), Rgb(90, 160, 90));
    }
}
