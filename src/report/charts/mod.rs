//! Charts: specs (data, testable) and their drawing to PNG with plotters' bitmap backend and
//! the bundled DejaVu Sans font (no system fonts or fontconfig needed).

pub mod palette;
pub mod spec;

mod bars;
mod graph;
mod heatmap;
mod lines;
mod spans;

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::{text_anchor, FontStyle};

use spec::{Chart, Rgb};

/// The font family every chart uses.
pub(crate) const FONT: &str = "sans-serif";

static FONTS: Once = Once::new();

/// Registers the bundled fonts with plotters (once per process).
fn register_fonts() {
    FONTS.call_once(|| {
        // The bytes are a valid TrueType font shipped by the dejavu crate; a failure here
        // would only mean text-less charts, so it is not fatal.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Draws one chart as a PNG file at `path`.
pub fn draw(chart: &Chart, path: &Path) -> Result<()> {
    register_fonts();
    match chart {
        Chart::SmallMultiples(s) => lines::draw(s, path),
        Chart::Bars(b) => bars::draw(b, path),
        Chart::Heatmap(h) => heatmap::draw(h, path),
        Chart::Graph(g) => graph::draw(g, path),
        Chart::Spans(s) => spans::draw(s, path),
    }
}

pub(crate) fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// A drawing area of the bitmap backend, not yet split into a chart.
pub(crate) type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// One row's texts in a row chart (bars, spans): its label right-aligned before the plot,
/// in the row's colour, and an optional note left-aligned after it; each cut to its width.
pub(crate) struct RowTexts<'s> {
    pub label: &'s str,
    pub label_chars: usize,
    pub color: Rgb,
    pub note: &'s str,
    pub note_chars: usize,
}

/// Draws `t` with the label ending 8 px before `before` and the note starting 8 px after
/// `after` (backend pixels of the row's centre line).
pub(crate) fn draw_row_texts(
    root: &Area,
    title: &str,
    t: &RowTexts,
    before: (i32, i32),
    after: (i32, i32),
) -> Result<()> {
    let color = rgb(t.color);
    let style = TextStyle::from((FONT, 14).into_font())
        .color(&color)
        .pos(text_anchor::Pos::new(
            text_anchor::HPos::Right,
            text_anchor::VPos::Center,
        ));
    let at = (before.0 - 8, before.1);
    root.draw(&Text::new(clip(t.label, t.label_chars), at, style))
        .map_err(plot_err(title))?;
    if !t.note.is_empty() {
        let note = TextStyle::from((FONT, 13).into_font()).pos(text_anchor::Pos::new(
            text_anchor::HPos::Left,
            text_anchor::VPos::Center,
        ));
        let at = (after.0 + 8, after.1);
        root.draw(&Text::new(clip(t.note, t.note_chars), at, note))
            .map_err(plot_err(title))?;
    }
    Ok(())
}

/// Turns a plotters error into an anyhow error naming the chart.
pub(crate) fn plot_err<E: std::fmt::Debug>(what: &str) -> impl FnOnce(E) -> anyhow::Error + '_ {
    move |e| anyhow!("drawing {what}: {e:?}")
}

/// A "nice" upper bound for an axis: 1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 × 10^k at or above
/// `max` (at least `floor`): tight enough that the data fills most of the plot.
pub(crate) fn nice_max(max: f64, floor: f64) -> f64 {
    let m = if max.is_finite() {
        max.max(floor)
    } else {
        floor
    };
    if m <= 0.0 {
        return 1.0;
    }
    let exp = m.log10().floor();
    let base = 10f64.powf(exp);
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|s| s * base)
        .find(|v| *v >= m)
        .unwrap_or(10.0 * base)
}

/// An axis tick: integers without a fraction, others with up to two decimals.
pub(crate) fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_string()
    }
}

/// Shortens a label from the input to at most `max` characters (with an ellipsis).
pub(crate) fn clip(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_max_rounds_up_to_a_round_number() {
        assert_eq!(nice_max(0.7, 0.0), 0.8);
        assert_eq!(nice_max(1.3, 0.0), 1.5);
        assert_eq!(nice_max(420.0, 0.0), 500.0);
        assert_eq!(nice_max(104.7, 0.0), 150.0);
        assert_eq!(nice_max(100.0, 0.0), 100.0);
        assert_eq!(nice_max(0.0, 0.0), 1.0);
        assert_eq!(nice_max(f64::NAN, 5.0), 5.0);
    }

    #[test]
    fn clip_keeps_short_labels_and_shortens_long_ones() {
        assert_eq!(clip("checkout", 10), "checkout");
        assert_eq!(clip("a-very-long-service-name", 8), "a-very-…");
    }
}

#[cfg(test)]
mod drawing_tests {
    use super::spec::*;
    use super::*;

    fn wave(phase: f64, scale: f64) -> Vec<(f64, f64)> {
        (0..300)
            .map(|i| {
                let x = f64::from(i);
                let bump = if (100.0..200.0).contains(&x) {
                    4.0
                } else {
                    1.0
                };
                (x, scale * bump * (1.2 + (x / 9.0 + phase).sin()))
            })
            .collect()
    }

    pub(super) fn samples() -> Vec<(&'static str, Chart)> {
        let panels = ["frontend", "checkout", "inventory <script>"]
            .iter()
            .enumerate()
            .flat_map(|(i, s)| {
                ["req/s", "error %", "p99 ms"]
                    .into_iter()
                    .map(move |unit| Panel {
                        title: format!("{s} — {unit}"),
                        title_color: palette::role(if i == 2 { "source" } else { "infected" }),
                        y_label: unit.to_string(),
                        lines: vec![Line {
                            label: unit.to_string(),
                            color: palette::categorical(i),
                            points: wave(i as f64, 10.0),
                        }],
                        markers: vec![Marker {
                            x: 100.0 + i as f64,
                            label: "onset".into(),
                            color: palette::SOURCE,
                        }],
                    })
            })
            .collect();
        let lines = Chart::SmallMultiples(SmallMultiples {
            title: "Per-service timeline".into(),
            x_label: "t (s)".into(),
            columns: 3,
            panels,
            shade: Some((100.0, 200.0)),
            shade_label: "incident".into(),
            legend: vec![("source".into(), palette::SOURCE)],
        });
        let bars = Chart::Bars(Bars {
            title: "Critical-path share".into(),
            value_label: "share of end-to-end latency (%)".into(),
            groups: vec![
                ("baseline".into(), palette::BASELINE),
                ("incident".into(), palette::INCIDENT),
            ],
            rows: (0..5)
                .map(|i| BarRow {
                    label: format!("service-{i}"),
                    label_color: palette::categorical(i),
                    values: vec![10.0 * i as f64, 12.0 * i as f64 + 3.0],
                    note: format!("+{i}.0 s"),
                })
                .collect(),
            intervals: vec![vec![None, Some((5.0, 9.0))]; 5],
        });
        let heat = Chart::Heatmap(Heatmap {
            title: "Latency at frontend".into(),
            x_label: "t (s)".into(),
            y_label: "latency".into(),
            x_edges: (0..=60).map(|i| f64::from(i) * 5.0).collect(),
            y_edges: (0..=12).map(|i| 2f64.powi(i)).collect(),
            counts: (0..60)
                .map(|x| (0..12).map(|y| (x * y % 17) as u32).collect())
                .collect(),
            shade: Some((100.0, 200.0)),
        });
        let names = ["frontend", "checkout", "catalog", "inventory", "orders-db"];
        let layers = [0, 1, 1, 2, 3];
        let graph = Chart::Graph(Graph {
            title: "Service graph".into(),
            nodes: names
                .iter()
                .zip(layers)
                .map(|(n, l)| Node {
                    name: n.to_string(),
                    layer: l,
                    color: palette::role(if *n == "inventory" {
                        "source"
                    } else {
                        "healthy"
                    }),
                    highlight: *n == "inventory",
                })
                .collect(),
            edges: [(0, 1), (0, 2), (1, 3), (2, 3), (3, 4)]
                .iter()
                .map(|&(a, b)| Edge {
                    from: a,
                    to: b,
                    width: 2 + b as u32,
                    color: palette::scale(b as f64, 1.0, 4.0),
                    label: format!("×{b}.0"),
                    highlight: b == 3,
                })
                .collect(),
            legend: vec![("source".into(), palette::SOURCE)],
        });
        vec![
            ("lines", lines),
            ("bars", bars),
            ("heat", heat),
            ("graph", graph),
        ]
    }

    #[test]
    fn every_chart_kind_draws_a_png() {
        let dir = tempfile::tempdir().unwrap();
        for (name, chart) in samples() {
            let path = dir.path().join(format!("{name}.png"));
            draw(&chart, &path).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{name}");
            if let Some(out) = std::env::var_os("CASCADE_CHART_SAMPLES") {
                std::fs::copy(&path, Path::new(&out).join(format!("{name}.png"))).unwrap();
            }
        }
    }
}
