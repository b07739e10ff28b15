//! Horizontal (grouped) bar charts with optional interval whiskers and a note per row.

use std::path::Path;

use anyhow::Result;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::spec::Bars;
use super::{clip, draw_row_texts, nice_max, plot_err, rgb, Area, RowTexts, FONT};

/// Width of everything but the row labels (plot, notes, margins).
const BODY_W: u32 = 780;
const ROW_H: u32 = 34;
const CHROME_H: u32 = 130;
/// The row-label column: at least this wide, and wider (up to the maximum) so that long
/// labels (policy names) are shown whole rather than cut.
const MIN_LABEL_W: u32 = 220;
const MAX_LABEL_W: u32 = 500;
/// About the advance of one 14 px DejaVu Sans character.
const LABEL_CHAR_W: u32 = 7;
/// Labels longer than fit the widest column are cut with "…".
const MAX_LABEL_CHARS: usize = ((MAX_LABEL_W - 24) / LABEL_CHAR_W) as usize;
const NOTE_W: u32 = 140;
const HEADER_H: u32 = 70;

pub(super) fn draw(spec: &Bars, path: &Path) -> Result<()> {
    let err = || plot_err(&spec.title);
    let n = spec.rows.len().max(1);
    let label_w = label_width(spec);
    let size = (BODY_W + label_w, CHROME_H + ROW_H * n as u32);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(err())?;
    let max = spec
        .rows
        .iter()
        .flat_map(|r| r.values.iter().copied())
        .chain(spec.intervals.iter().flatten().flatten().map(|iv| iv.1))
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let x1 = nice_max(max, 0.0);
    let title = (FONT, 22).into_font().style(FontStyle::Bold);
    root.draw(&Text::new(spec.title.clone(), (12, 8), title))
        .map_err(err())?;
    let (_, body) = root.split_vertically(HEADER_H);
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .margin_left(label_w)
        .margin_right(NOTE_W)
        .x_label_area_size(40)
        .build_cartesian_2d(0f64..x1, 0f64..n as f64)
        .map_err(err())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_desc(spec.value_label.as_str())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .bold_line_style(rgb(super::palette::GRID))
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|v| super::tick(*v))
        .draw()
        .map_err(err())?;
    draw_rows(spec, &mut chart, n)?;
    draw_labels(spec, &chart, &root, n)?;
    draw_legend(spec, &root, label_w)?;
    root.present().map_err(err())?;
    Ok(())
}

type Chart2d<'a> = ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn draw_rows(spec: &Bars, chart: &mut Chart2d, n: usize) -> Result<()> {
    let groups = spec.groups.len().max(1);
    let band = 0.8 / groups as f64;
    for (i, row) in spec.rows.iter().enumerate() {
        // Row 0 at the top.
        let top = (n - i) as f64 - 0.1;
        for (g, v) in row.values.iter().enumerate() {
            if !v.is_finite() {
                continue;
            }
            let color = spec.groups.get(g).map_or(super::palette::HEALTHY, |x| x.1);
            let (y_hi, y_lo) = (top - band * g as f64, top - band * (g as f64 + 1.0));
            let rect = Rectangle::new([(0.0, y_lo + 0.02), (*v, y_hi - 0.02)], rgb(color).filled());
            chart
                .draw_series(std::iter::once(rect))
                .map_err(plot_err(&spec.title))?;
            if let Some(Some((lo, hi))) = spec.intervals.get(i).and_then(|r| r.get(g)) {
                let mid = (y_hi + y_lo) / 2.0;
                let whisker = PathElement::new(vec![(*lo, mid), (*hi, mid)], BLACK.stroke_width(2));
                chart
                    .draw_series(std::iter::once(whisker))
                    .map_err(plot_err(&spec.title))?;
            }
        }
    }
    Ok(())
}

fn draw_labels(spec: &Bars, chart: &Chart2d, root: &Area, n: usize) -> Result<()> {
    let x_max = chart.x_range().end;
    for (i, row) in spec.rows.iter().enumerate() {
        let y = (n - i) as f64 - 0.5;
        let texts = RowTexts {
            label: &row.label,
            label_chars: MAX_LABEL_CHARS,
            color: row.label_color,
            note: &row.note,
            note_chars: 18,
        };
        let before = chart.backend_coord(&(0.0, y));
        let after = chart.backend_coord(&(x_max, y));
        draw_row_texts(root, &spec.title, &texts, before, after)?;
    }
    Ok(())
}

/// The row-label column width for the longest label.
fn label_width(spec: &Bars) -> u32 {
    let longest = spec
        .rows
        .iter()
        .map(|r| r.label.chars().count().min(MAX_LABEL_CHARS))
        .max()
        .unwrap_or(0) as u32;
    (longest * LABEL_CHAR_W + 24).clamp(MIN_LABEL_W, MAX_LABEL_W)
}

fn draw_legend(
    spec: &Bars,
    root: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    label_w: u32,
) -> Result<()> {
    let mut x = label_w as i32;
    let y = 44;
    for (label, color) in &spec.groups {
        root.draw(&Rectangle::new(
            [(x, y), (x + 18, y + 12)],
            rgb(*color).filled(),
        ))
        .map_err(plot_err(&spec.title))?;
        let text = clip(label, 30);
        root.draw(&Text::new(text.clone(), (x + 24, y - 2), (FONT, 14)))
            .map_err(plot_err(&spec.title))?;
        x += 40 + 8 * text.chars().count() as i32;
    }
    if spec.intervals.iter().flatten().any(Option::is_some) {
        let whisker = PathElement::new(vec![(x, y + 6), (x + 18, y + 6)], BLACK.stroke_width(2));
        root.draw(&whisker).map_err(plot_err(&spec.title))?;
        root.draw(&Text::new(
            "95 % confidence interval",
            (x + 24, y - 2),
            (FONT, 14),
        ))
        .map_err(plot_err(&spec.title))?;
    }
    Ok(())
}
