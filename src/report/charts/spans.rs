//! Intervals on a time axis, one row each (the cascade: when each service went bad), with
//! the incident window shaded and a note after each interval.

use std::path::Path;

use anyhow::Result;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::spec::Spans;
use super::{clip, draw_row_texts, plot_err, rgb, Area, RowTexts, FONT};

const WIDTH: u32 = 1100;
const ROW_H: u32 = 40;
const CHROME_H: u32 = 150;
const LABEL_W: u32 = 200;
const NOTE_W: u32 = 190;
const HEADER_H: u32 = 76;

type Chart2d<'a> = ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

pub(super) fn draw(spec: &Spans, path: &Path) -> Result<()> {
    let err = || plot_err(&spec.title);
    let n = spec.rows.len().max(1);
    let root = BitMapBackend::new(path, (WIDTH, CHROME_H + ROW_H * n as u32)).into_drawing_area();
    root.fill(&WHITE).map_err(err())?;
    let title = (FONT, 22).into_font().style(FontStyle::Bold);
    root.draw(&Text::new(spec.title.clone(), (12, 8), title))
        .map_err(err())?;
    draw_legend(spec, &root)?;
    let (_, body) = root.split_vertically(HEADER_H);
    let (x0, x1) = spec.x_range;
    let x1 = if x1 > x0 { x1 } else { x0 + 1.0 };
    let mut chart = ChartBuilder::on(&body)
        .margin(12)
        .margin_left(LABEL_W)
        .margin_right(NOTE_W)
        .x_label_area_size(40)
        .build_cartesian_2d(x0..x1, 0f64..n as f64)
        .map_err(err())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(10)
        .x_desc(spec.x_label.as_str())
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 13))
        .bold_line_style(rgb(super::palette::GRID))
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|v| super::tick(*v))
        .draw()
        .map_err(err())?;
    if let Some((a, b)) = spec.shade {
        let fill = rgb(super::palette::SHADE).mix(0.12).filled();
        let rect = Rectangle::new([(a, 0.0), (b, n as f64)], fill);
        chart.draw_series(std::iter::once(rect)).map_err(err())?;
    }
    draw_rows(spec, &mut chart, n)?;
    draw_labels(spec, &chart, &root, n)?;
    root.present().map_err(err())?;
    Ok(())
}

fn draw_rows(spec: &Spans, chart: &mut Chart2d, n: usize) -> Result<()> {
    for (i, row) in spec.rows.iter().enumerate() {
        let top = (n - i) as f64 - 0.2;
        let (a, b) = (row.start, row.end.max(row.start));
        let rect = Rectangle::new([(a, top - 0.6), (b, top)], rgb(row.color).filled());
        chart
            .draw_series(std::iter::once(rect))
            .map_err(plot_err(&spec.title))?;
        let tick = PathElement::new(
            vec![(a, top - 0.75), (a, top + 0.15)],
            BLACK.stroke_width(2),
        );
        chart
            .draw_series(std::iter::once(tick))
            .map_err(plot_err(&spec.title))?;
    }
    Ok(())
}

fn draw_labels(spec: &Spans, chart: &Chart2d, root: &Area, n: usize) -> Result<()> {
    let x_max = chart.x_range().end;
    for (i, row) in spec.rows.iter().enumerate() {
        let y = (n - i) as f64 - 0.5;
        let texts = RowTexts {
            label: &row.label,
            label_chars: 24,
            color: row.label_color,
            note: &row.note,
            note_chars: 24,
        };
        let before = chart.backend_coord(&(chart.x_range().start, y));
        let after = chart.backend_coord(&(x_max, y));
        draw_row_texts(root, &spec.title, &texts, before, after)?;
    }
    Ok(())
}

fn draw_legend(spec: &Spans, root: &Area) -> Result<()> {
    let mut entries = spec.legend.clone();
    if spec.shade.is_some() {
        entries.push((spec.shade_label.clone(), super::palette::SHADE));
    }
    let mut x = 12;
    for (label, color) in &entries {
        let alpha = if *label == spec.shade_label && spec.shade.is_some() {
            0.25
        } else {
            1.0
        };
        root.draw(&Rectangle::new(
            [(x, 46), (x + 18, 58)],
            rgb(*color).mix(alpha).filled(),
        ))
        .map_err(plot_err(&spec.title))?;
        let text = clip(label, 40);
        root.draw(&Text::new(text.clone(), (x + 24, 44), (FONT, 14)))
            .map_err(plot_err(&spec.title))?;
        x += 40 + 8 * text.chars().count() as i32;
    }
    Ok(())
}
