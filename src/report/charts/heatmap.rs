//! A time × latency heatmap: cell colour = how many requests fell in it (log scale).

use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;

use super::spec::{Heatmap, Rgb};
use super::{plot_err, rgb, FONT};

const SIZE: (u32, u32) = (1100, 560);
const HEADER_H: u32 = 70;
/// Horizontal room per key swatch and its count (up to six digits at 12 px).
const KEY_STEP: i32 = 70;
const EMPTY: Rgb = Rgb(255, 255, 255);
const FULL: Rgb = Rgb(8, 48, 107);

pub(super) fn draw(spec: &Heatmap, path: &Path) -> Result<()> {
    let err = || plot_err(&spec.title);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err())?;
    let nx = spec.x_edges.len().saturating_sub(1);
    let ny = spec.y_edges.len().saturating_sub(1);
    let (x0, x1) = match (spec.x_edges.first(), spec.x_edges.last()) {
        (Some(a), Some(b)) if b > a => (*a, *b),
        _ => (0.0, 1.0),
    };
    let title = (FONT, 22).into_font().style(FontStyle::Bold);
    let y_edges = spec.y_edges.clone();
    // Every edge gets a tick; only round ones (1, 2, 5 × 10^k) a label, when there are any.
    let round_only = y_edges.iter().filter(|e| is_round(**e)).count() >= 2;
    let y_label = move |v: &f64| {
        let i = v.round().max(0.0) as usize;
        y_edges
            .get(i)
            .filter(|e| !round_only || is_round(**e))
            .map_or(String::new(), |e| {
                format_ms(if round_only { snap(*e) } else { *e })
            })
    };
    root.draw(&Text::new(spec.title.clone(), (12, 8), title))
        .map_err(err())?;
    let (_, body) = root.split_vertically(HEADER_H);
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, 0f64..ny.max(1) as f64)
        .map_err(err())?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc(spec.x_label.as_str())
        .y_desc(spec.y_label.as_str())
        .y_labels(ny + 1)
        .y_label_formatter(&y_label)
        .x_label_formatter(&|v| super::tick(*v))
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .draw()
        .map_err(err())?;
    let max = spec.counts.iter().flatten().copied().max().unwrap_or(0);
    let cells = (0..nx).flat_map(|x| (0..ny).map(move |y| (x, y)));
    let rects = cells.filter_map(|(x, y)| {
        let c = *spec.counts.get(x)?.get(y)?;
        (c > 0).then(|| {
            let color = rgb(shade(c, max)).filled();
            let (a, b) = (spec.x_edges[x], spec.x_edges[x + 1]);
            Rectangle::new([(a, y as f64), (b, y as f64 + 1.0)], color)
        })
    });
    chart.draw_series(rects).map_err(err())?;
    if let Some((a, b)) = spec.shade {
        let outline = rgb(super::palette::SHADE).stroke_width(2);
        let frame = Rectangle::new([(a, 0.0), (b, ny as f64)], outline);
        chart.draw_series(std::iter::once(frame)).map_err(err())?;
    }
    draw_key(spec, &root, max)?;
    root.present().map_err(err())?;
    Ok(())
}

/// The colour key, top right: a few swatches from one request to the fullest cell, and the
/// incident frame.
fn draw_key(
    spec: &Heatmap,
    root: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    max: u32,
) -> Result<()> {
    let err = || plot_err(&spec.title);
    let steps: Vec<u32> = key_steps(max);
    let x0 = 150;
    let label = (FONT, 12).into_font();
    root.draw(&Text::new("requests per cell:", (12, 48), label.clone()))
        .map_err(err())?;
    for (i, c) in steps.iter().enumerate() {
        let x = x0 + KEY_STEP * i as i32;
        root.draw(&Rectangle::new(
            [(x, 46), (x + 16, 60)],
            rgb(shade(*c, max)).filled(),
        ))
        .map_err(err())?;
        root.draw(&Text::new(c.to_string(), (x + 19, 48), label.clone()))
            .map_err(err())?;
    }
    if spec.shade.is_some() {
        let x = x0 + KEY_STEP * steps.len() as i32 + 10;
        let frame = rgb(super::palette::SHADE).stroke_width(2);
        root.draw(&Rectangle::new([(x, 46), (x + 16, 60)], frame))
            .map_err(err())?;
        root.draw(&Text::new("incident window", (x + 22, 48), label))
            .map_err(err())?;
    }
    Ok(())
}

/// 1, then a few log-spaced counts up to `max` (distinct, increasing).
fn key_steps(max: u32) -> Vec<u32> {
    let mut out = vec![1u32];
    for t in [0.25, 0.5, 0.75, 1.0] {
        let v = (f64::from(max.max(1)).powf(t)).round() as u32;
        if v > *out.last().unwrap_or(&0) {
            out.push(v);
        }
    }
    out
}

/// White → dark blue on a log scale of the count.
fn shade(count: u32, max: u32) -> Rgb {
    let t = if max <= 1 {
        1.0
    } else {
        (f64::from(count).ln_1p() / f64::from(max).ln_1p()).clamp(0.0, 1.0)
    };
    let t = 0.15 + 0.85 * t;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
    Rgb(
        mix(EMPTY.0, FULL.0),
        mix(EMPTY.1, FULL.1),
        mix(EMPTY.2, FULL.2),
    )
}

/// Whether `v` is within 1 % of 1, 2 or 5 × 10^k.
fn is_round(v: f64) -> bool {
    if !(v.is_finite() && v > 0.0) {
        return false;
    }
    let mantissa = v / 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|m| (mantissa - m).abs() < 0.01 * m)
}

/// The round number (1, 2, 5 × 10^k) nearest to `v` on a log scale.
fn snap(v: f64) -> f64 {
    let base = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * base)
        .min_by(|a, b| (a / v).ln().abs().total_cmp(&(b / v).ln().abs()))
        .unwrap_or(v)
}

/// Milliseconds with a unit that reads well (µs, ms, s).
pub(crate) fn format_ms(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.3} s", ms / 1000.0).replace(".000 s", " s")
    } else if ms >= 1.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.0} µs", ms * 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_read_with_units() {
        assert_eq!(format_ms(0.25), "250 µs");
        assert_eq!(format_ms(12.0), "12 ms");
        assert_eq!(format_ms(2000.0), "2 s");
        assert_eq!(format_ms(1500.0), "1.500 s");
    }

    #[test]
    fn round_edges_are_recognised() {
        assert!(is_round(1.0) && is_round(19.95) && is_round(501.2) && is_round(0.1));
        assert!(!is_round(3.16) && !is_round(0.0) && !is_round(f64::NAN));
        assert_eq!(format_ms(snap(1995.26)), "2 s");
        assert_eq!(format_ms(snap(0.0998)), "100 µs");
    }

    #[test]
    fn key_steps_rise_from_one_to_the_maximum() {
        assert_eq!(key_steps(1), vec![1]);
        assert_eq!(key_steps(10_000), vec![1, 10, 100, 1000, 10_000]);
        assert_eq!(key_steps(0), vec![1]);
    }
}
