//! Small multiples of time-series panels with a shaded window and vertical markers.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::spec::{Panel, SmallMultiples};
use super::{clip, nice_max, plot_err, rgb, FONT};

const PANEL_W: u32 = 420;
const PANEL_H: u32 = 190;
const HEADER_H: u32 = 70;
/// The narrowest picture: a single panel still gets room for its title and the legend.
const MIN_WIDTH: u32 = 900;
/// Above this many points a line is drawn one pixel wide.
const DENSE_POINTS: usize = 250;

pub(super) fn draw(spec: &SmallMultiples, path: &Path) -> Result<()> {
    let cols = spec.columns.max(1);
    let rows = spec.panels.len().div_ceil(cols).max(1);
    let size = (
        (PANEL_W * cols as u32).max(MIN_WIDTH),
        HEADER_H + PANEL_H * rows as u32,
    );
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(&spec.title))?;
    let (header, body) = root.split_vertically(HEADER_H);
    draw_header(spec, &header)?;
    let (x0, x1) = x_range(spec);
    let last_row_from = (rows - 1) * cols;
    for (i, (area, panel)) in body
        .split_evenly((rows, cols))
        .iter()
        .zip(&spec.panels)
        .enumerate()
    {
        // The x-axis title once, under the bottom row (and under a panel with none below).
        let x_title = i >= last_row_from || i + cols >= spec.panels.len();
        draw_panel(spec, panel, area, (x0, x1), x_title)?;
    }
    root.present().map_err(plot_err(&spec.title))?;
    Ok(())
}

fn draw_header(spec: &SmallMultiples, area: &DrawingArea<BitMapBackend, Shift>) -> Result<()> {
    let title = (FONT, 22).into_font().style(FontStyle::Bold);
    area.draw(&Text::new(spec.title.clone(), (12, 8), title))
        .map_err(plot_err(&spec.title))?;
    let mut x = 12;
    let mut entries = spec.legend.clone();
    if spec.shade.is_some() {
        entries.push((spec.shade_label.clone(), super::palette::SHADE));
    }
    for (label, color) in &entries {
        let style = rgb(*color).mix(if *label == spec.shade_label {
            0.25
        } else {
            1.0
        });
        area.draw(&Rectangle::new([(x, 44), (x + 18, 56)], style.filled()))
            .map_err(plot_err(&spec.title))?;
        let text = clip(label, 40);
        area.draw(&Text::new(text.clone(), (x + 24, 42), (FONT, 14)))
            .map_err(plot_err(&spec.title))?;
        x += 40 + 8 * text.chars().count() as i32;
    }
    Ok(())
}

fn x_range(spec: &SmallMultiples) -> (f64, f64) {
    let xs = spec
        .panels
        .iter()
        .flat_map(|p| p.lines.iter().flat_map(|l| l.points.iter().map(|p| p.0)));
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

fn draw_panel(
    spec: &SmallMultiples,
    panel: &Panel,
    area: &DrawingArea<BitMapBackend, Shift>,
    (x0, x1): (f64, f64),
    x_title: bool,
) -> Result<()> {
    let err = || plot_err(&panel.title);
    let ys = || {
        panel
            .lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
    };
    let y_max = ys().fold(0.0, f64::max);
    let y_min = ys().fold(0.0, f64::min);
    let y1 = nice_max(y_max, 0.0);
    // Negative values (e.g. a draining backlog) get a nice lower bound of their own.
    let y0 = if y_min < 0.0 {
        -nice_max(-y_min * 1.05, 0.0)
    } else {
        0.0
    };
    let caption = (FONT, 15).into_font().color(&rgb(panel.title_color));
    let mut chart = ChartBuilder::on(area)
        .caption(clip(&panel.title, 48), caption)
        .margin(6)
        .x_label_area_size(if x_title { 34 } else { 20 })
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(err())?;
    chart
        .configure_mesh()
        .x_desc(if x_title { spec.x_label.as_str() } else { "" })
        .y_desc(panel.y_label.as_str())
        .x_labels(6)
        .y_labels(6)
        .label_style((FONT, 11))
        .axis_desc_style((FONT, 12))
        .bold_line_style(rgb(super::palette::GRID))
        .light_line_style(TRANSPARENT)
        .x_label_formatter(&|v| super::tick(*v))
        .y_label_formatter(&|v| super::tick(*v))
        .draw()
        .map_err(err())?;
    if let Some((a, b)) = spec.shade {
        let fill = rgb(super::palette::SHADE).mix(0.12).filled();
        chart
            .draw_series(std::iter::once(Rectangle::new([(a, y0), (b, y1)], fill)))
            .map_err(err())?;
    }
    // plotters draws wide strokes as polygons whose joins spike past sharp turns, so a
    // 2-pixel line is two 1-pixel lines one pixel apart.
    let px = (y1 - y0) / f64::from(chart.plotting_area().dim_in_pixel().1.max(1));
    for line in &panel.lines {
        let style = rgb(line.color).stroke_width(1);
        let passes = if line.points.len() > DENSE_POINTS {
            1
        } else {
            2
        };
        for pass in 0..passes {
            let dy = px * f64::from(pass);
            let points = line.points.iter().map(move |&(x, y)| (x, y + dy));
            chart
                .draw_series(LineSeries::new(points, style))
                .map_err(err())?;
        }
    }
    for m in &panel.markers {
        let style = rgb(m.color).stroke_width(2);
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(m.x, y0), (m.x, y1)],
                style,
            )))
            .map_err(err())?;
        // The label sits just right of the line, not on it.
        let label = EmptyElement::at((m.x, y1))
            + Text::new(clip(&m.label, 20), (4, 2), (FONT, 11).into_font());
        chart.draw_series(std::iter::once(label)).map_err(err())?;
    }
    Ok(())
}
