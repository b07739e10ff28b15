//! The service graph, layered left to right by call depth: node colour = role, edge width =
//! calls, edge colour = amplification or error rate; highlighted nodes and edges are the
//! source and the path the failure spread along.

use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::spec::Graph;
use super::{clip, plot_err, rgb, Area, FONT};

const LAYER_W: i32 = 330;
const ROW_H: i32 = 70;
const NODE_W: i32 = 170;
const NODE_H: i32 = 38;
const MARGIN: i32 = 40;
const TOP: i32 = 90;

pub(super) fn draw(spec: &Graph, path: &Path) -> Result<()> {
    let pos = layout(spec);
    let layers = spec.nodes.iter().map(|n| n.layer + 1).max().unwrap_or(1) as i32;
    let rows = pos.iter().map(|p| p.1).max().unwrap_or(0) + 1;
    // Room for the legend (~720 px) even when the graph is narrow.
    let w = (2 * MARGIN + (layers - 1) * LAYER_W + NODE_W).max(760) as u32;
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
    let mut taken: Vec<Rect> = centers.iter().map(|&c| node_rect(c)).collect();
    for e in spec.edges.iter().filter(|e| !e.label.is_empty()) {
        draw_label(spec, &root, e, &centers, &mut taken)?;
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
    // Opaque (the role colour at 18 % over white), so edges pass behind the box.
    let tint = |c: u8| (255.0 - (255.0 - f64::from(c)) * 0.18).round() as u8;
    let fill = RGBColor(tint(node.color.0), tint(node.color.1), tint(node.color.2)).filled();
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
    let Some((start, end)) = edge_ends(e, centers) else {
        return Ok(());
    };
    let alpha = if e.highlight { 1.0 } else { 0.75 };
    let style = rgb(e.color).mix(alpha).stroke_width(e.width.clamp(1, 14));
    root.draw(&PathElement::new(vec![start, end], style))
        .map_err(plot_err(&spec.title))?;
    root.draw(&arrow_head(start, end, rgb(e.color), e.width.clamp(1, 14)))
        .map_err(plot_err(&spec.title))?;
    Ok(())
}

/// A pixel rectangle: (x0, y0, x1, y1).
type Rect = (i32, i32, i32, i32);

/// Label text height and width per character at 13 px (DejaVu Sans averages ~7.5 px).
const LABEL_H: i32 = 17;
const LABEL_CHAR_W: f64 = 7.5;
/// Where along an edge a label may sit, tried in this order.
const LABEL_SPOTS: [f64; 7] = [0.5, 0.38, 0.62, 0.26, 0.74, 0.15, 0.85];

fn node_rect((cx, cy): (i32, i32)) -> Rect {
    (
        cx - NODE_W / 2,
        cy - NODE_H / 2,
        cx + NODE_W / 2,
        cy + NODE_H / 2,
    )
}

fn overlaps(a: &Rect, b: &Rect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

fn edge_ends(e: &super::spec::Edge, centers: &[(i32, i32)]) -> Option<((i32, i32), (i32, i32))> {
    let (&(ax, ay), &(bx, by)) = (centers.get(e.from)?, centers.get(e.to)?);
    let start = (ax + NODE_W / 2, ay);
    let end = if bx > ax {
        (bx - NODE_W / 2, by)
    } else {
        (bx, by + NODE_H / 2)
    };
    Some((start, end))
}

/// Draws an edge's label on a white box at the first spot along the edge that covers no
/// node and no other label (the middle when every spot is taken).
fn draw_label(
    spec: &Graph,
    root: &Area,
    e: &super::spec::Edge,
    centers: &[(i32, i32)],
    taken: &mut Vec<Rect>,
) -> Result<()> {
    let Some((start, end)) = edge_ends(e, centers) else {
        return Ok(());
    };
    let text = clip(&e.label, 24);
    let w = (text.chars().count() as f64 * LABEL_CHAR_W) as i32 + 6;
    let rect_at = |t: f64| {
        let x = start.0 + ((end.0 - start.0) as f64 * t) as i32;
        let y = start.1 + ((end.1 - start.1) as f64 * t) as i32;
        (x - w / 2, y - LABEL_H / 2, x + w / 2, y + LABEL_H / 2)
    };
    let rect = LABEL_SPOTS
        .iter()
        .map(|&t| rect_at(t))
        .find(|r| !taken.iter().any(|o| overlaps(r, o)))
        .unwrap_or_else(|| rect_at(0.5));
    taken.push(rect);
    let err = || plot_err(&spec.title);
    root.draw(&Rectangle::new(
        [(rect.0, rect.1), (rect.2, rect.3)],
        WHITE.mix(0.85).filled(),
    ))
    .map_err(err())?;
    root.draw(&Rectangle::new(
        [(rect.0, rect.1), (rect.2, rect.3)],
        rgb(e.color).stroke_width(1),
    ))
    .map_err(err())?;
    let style = TextStyle::from((FONT, 13).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
    let mid = ((rect.0 + rect.2) / 2, (rect.1 + rect.3) / 2);
    root.draw(&Text::new(text, mid, style)).map_err(err())
}

fn arrow_head(
    from: (i32, i32),
    to: (i32, i32),
    color: RGBColor,
    width: u32,
) -> Polygon<(i32, i32)> {
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
