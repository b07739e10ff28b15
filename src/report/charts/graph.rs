//! The service graph, layered left to right by call depth: node colour = role, edge width =
//! calls, edge colour = amplification or error rate; highlighted nodes and edges are the
//! source and the path the failure spread along.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::spec::Graph;
use super::{clip, plot_err, rgb, FONT};

const LAYER_W: i32 = 330;
const ROW_H: i32 = 70;
const NODE_W: i32 = 170;
const NODE_H: i32 = 38;
const MARGIN: i32 = 40;
const TOP: i32 = 90;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

pub(super) fn draw(spec: &Graph, path: &Path) -> Result<()> {
    let pos = layout(spec);
    let layers = spec.nodes.iter().map(|n| n.layer + 1).max().unwrap_or(1) as i32;
    let rows = pos.iter().map(|p| p.1).max().unwrap_or(0) + 1;
    let w = (2 * MARGIN + layers * LAYER_W).max(700) as u32;
    let h = (TOP + MARGIN + rows * ROW_H).max(220) as u32;
    let root = BitMapBackend::new(path, (w, h)).into_drawing_area();
    root.fill(&WHITE).map_err(plot_err(&spec.title))?;
    let title = (FONT, 22).into_font().style(FontStyle::Bold);
    root.draw(&Text::new(spec.title.clone(), (MARGIN, 12), title))
        .map_err(plot_err(&spec.title))?;
    draw_legend(spec, &root)?;
    let centers: Vec<(i32, i32)> = pos.iter().map(|&(l, r)| center(l, r)).collect();
    for e in &spec.edges {
        draw_edge(spec, &root, e, &centers)?;
    }
    for (node, c) in spec.nodes.iter().zip(&centers) {
        draw_node(spec, &root, node, *c)?;
    }
    root.present().map_err(plot_err(&spec.title))?;
    Ok(())
}

/// (layer, row) per node: rows within a layer in the order of their parents' rows, so edges
/// cross less; ties by name.
fn layout(spec: &Graph) -> Vec<(i32, i32)> {
    let mut pos = vec![(0, 0); spec.nodes.len()];
    let max_layer = spec.nodes.iter().map(|n| n.layer).max().unwrap_or(0);
    for layer in 0..=max_layer {
        let mut members: Vec<(f64, &str, usize)> = spec
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.layer == layer)
            .map(|(i, n)| (parent_rank(spec, &pos, i), n.name.as_str(), i))
            .collect();
        members.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
        for (row, (_, _, i)) in members.into_iter().enumerate() {
            pos[i] = (layer as i32, row as i32);
        }
    }
    pos
}

fn parent_rank(spec: &Graph, pos: &[(i32, i32)], node: usize) -> f64 {
    let layer = spec.nodes[node].layer;
    let rows: Vec<f64> = spec
        .edges
        .iter()
        .filter(|e| e.to == node && spec.nodes.get(e.from).is_some_and(|p| p.layer < layer))
        .map(|e| f64::from(pos[e.from].1))
        .collect();
    if rows.is_empty() {
        f64::MAX
    } else {
        rows.iter().sum::<f64>() / rows.len() as f64
    }
}

fn center(layer: i32, row: i32) -> (i32, i32) {
    (
        MARGIN + layer * LAYER_W + NODE_W / 2,
        TOP + row * ROW_H + NODE_H / 2,
    )
}

fn draw_node(
    spec: &Graph,
    root: &Area,
    node: &super::spec::Node,
    (cx, cy): (i32, i32),
) -> Result<()> {
    let (x0, y0) = (cx - NODE_W / 2, cy - NODE_H / 2);
    let (x1, y1) = (cx + NODE_W / 2, cy + NODE_H / 2);
    let fill = rgb(node.color).mix(0.18).filled();
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill))
        .map_err(plot_err(&spec.title))?;
    let border = rgb(node.color).stroke_width(if node.highlight { 4 } else { 2 });
    root.draw(&Rectangle::new([(x0, y0), (x1, y1)], border))
        .map_err(plot_err(&spec.title))?;
    let style = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    root.draw(&Text::new(clip(&node.name, 20), (cx, cy), style))
        .map_err(plot_err(&spec.title))
}

fn draw_edge(
    spec: &Graph,
    root: &Area,
    e: &super::spec::Edge,
    centers: &[(i32, i32)],
) -> Result<()> {
    let (Some(&(ax, ay)), Some(&(bx, by))) = (centers.get(e.from), centers.get(e.to)) else {
        return Ok(());
    };
    let start = (ax + NODE_W / 2, ay);
    let end = if bx > ax {
        (bx - NODE_W / 2, by)
    } else {
        (bx, by + NODE_H / 2)
    };
    let alpha = if e.highlight { 1.0 } else { 0.75 };
    let style = rgb(e.color).mix(alpha).stroke_width(e.width.clamp(1, 14));
    root.draw(&PathElement::new(vec![start, end], style))
        .map_err(plot_err(&spec.title))?;
    root.draw(&arrow_head(start, end, rgb(e.color), e.width.clamp(1, 14)))
        .map_err(plot_err(&spec.title))?;
    if !e.label.is_empty() {
        let lift = 6 + e.width.clamp(1, 14) as i32 / 2;
        let mid = ((start.0 + end.0) / 2, (start.1 + end.1) / 2 - lift);
        let style =
            TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        root.draw(&Text::new(clip(&e.label, 24), mid, style))
            .map_err(plot_err(&spec.title))?;
    }
    Ok(())
}

fn arrow_head(from: (i32, i32), to: (i32, i32), color: RGBColor, width: u32) -> Polygon<(i32, i32)> {
    let (dx, dy) = (f64::from(to.0 - from.0), f64::from(to.1 - from.1));
    let len = dx.hypot(dy).max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    // Wider than the stroke, so the head shows on a thick edge.
    let size = 12.0 + 1.5 * f64::from(width);
    let back = (f64::from(to.0) - ux * size, f64::from(to.1) - uy * size);
    let left = (
        (back.0 - uy * size * 0.5) as i32,
        (back.1 + ux * size * 0.5) as i32,
    );
    let right = (
        (back.0 + uy * size * 0.5) as i32,
        (back.1 - ux * size * 0.5) as i32,
    );
    Polygon::new(vec![to, left, right], color.filled())
}

fn draw_legend(spec: &Graph, root: &Area) -> Result<()> {
    let mut x = MARGIN;
    for (label, color) in &spec.legend {
        root.draw(&Rectangle::new(
            [(x, 50), (x + 18, 62)],
            rgb(*color).filled(),
        ))
        .map_err(plot_err(&spec.title))?;
        let text = clip(label, 60);
        root.draw(&Text::new(text.clone(), (x + 24, 48), (FONT, 14)))
            .map_err(plot_err(&spec.title))?;
        x += 40 + 8 * text.chars().count() as i32;
    }
    Ok(())
}
