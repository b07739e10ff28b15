//! The service graph spec: nodes layered by call depth from the entry, coloured by role;
//! edge width by calls, edge colour by amplification or error rate (whichever is worse);
//! the source and the contagion path highlighted.

use std::collections::VecDeque;

use petgraph::Direction;

use super::{role_color, role_legend};
use crate::analyze::edges::EdgeStats;
use crate::report::charts::palette;
use crate::report::charts::spec::{Chart, ChartFile, Edge, Graph, Node};
use crate::report::facts::Facts;

/// Edge width range in pixels: thin for a trickle, thick for the busiest edge.
const MIN_WIDTH: f64 = 2.0;
const MAX_WIDTH: f64 = 12.0;
/// Amplification at which an edge is fully red (every call tried three times).
const RED_AMPLIFICATION: f64 = 3.0;
/// Error rate at which an edge is fully red.
const RED_ERROR_RATE: f64 = 0.5;

/// The service graph chart.
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let g = &facts.a.graph;
    if g.nodes.len() == 0 {
        return Err("no services in the input".into());
    }
    let layers = layers(facts);
    let nodes: Vec<Node> = (0..g.nodes.len() as u32)
        .map(|n| Node {
            name: g.name(n).to_string(),
            layer: layers[n as usize],
            color: role_color(facts.role_of_node(n)),
            highlight: facts.path.contains(&n),
        })
        .collect();
    let max_calls = facts.a.edges.iter().map(|e| counts(facts, e).calls).max();
    let edges = g
        .edges
        .iter()
        .zip(&facts.a.edges)
        .map(|(&(from, to), e)| edge(facts, from, to, e, max_calls.unwrap_or(1)))
        .collect();
    let mut legend = role_legend();
    legend.push(("edge: green → red = more retries or errors".into(), palette::scale(0.5, 0.0, 1.0)));
    let window = if facts.a.windows.incident.is_some() { "incident window" } else { "whole range" };
    Ok(ChartFile {
        stem: "service-graph",
        caption: format!(
            "Who calls whom ({window}). Boxes are coloured by role; thick outlines and bold arrows trace the path the failure took from its source to the entry. Arrow width is proportional to calls; labels give attempts per call and the error rate."
        ),
        chart: Chart::Graph(Graph {
            title: "Service graph: where it started and how it spread".into(),
            nodes,
            edges,
            legend,
        }),
    })
}

/// Counts of an edge over the incident (or everything without one).
fn counts(facts: &Facts, e: &EdgeStats) -> crate::analyze::edges::EdgeCounts {
    e.incident.filter(|_| facts.a.windows.incident.is_some()).unwrap_or(e.total)
}

fn edge(facts: &Facts, from: u32, to: u32, e: &EdgeStats, max_calls: u64) -> Edge {
    let c = counts(facts, e);
    let amp = c.amplification().unwrap_or(1.0);
    let err = if c.attempts > 0 { c.errors as f64 / c.attempts as f64 } else { 0.0 };
    let badness = ((amp - 1.0) / (RED_AMPLIFICATION - 1.0)).max(err / RED_ERROR_RATE);
    let share = (c.calls as f64 / max_calls.max(1) as f64).sqrt();
    let on_path = facts
        .path
        .windows(2)
        .any(|w| w[0] == to && w[1] == from);
    Edge {
        from: from as usize,
        to: to as usize,
        width: (MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * share).round() as u32,
        color: palette::scale(badness, 0.0, 1.0),
        label: format!("×{amp:.2} · {:.0}% err", err * 100.0),
        highlight: on_path,
    }
}

/// Call depth of every node: breadth-first from the nodes nobody calls (the entry first);
/// nodes only reachable through cycles sit in layer 0.
fn layers(facts: &Facts) -> Vec<usize> {
    let g = &facts.a.graph;
    let n = g.nodes.len();
    let mut depth = vec![usize::MAX; n];
    let mut queue = VecDeque::new();
    let roots = (0..n as u32).filter(|&id| {
        g.node_index.get(id as usize).is_some_and(|&ix| {
            g.graph.neighbors_directed(ix, Direction::Incoming).next().is_none()
        })
    });
    let entry = facts.entry_stats().map(|s| s.id);
    for id in entry.into_iter().chain(roots) {
        if depth[id as usize] == usize::MAX {
            depth[id as usize] = 0;
            queue.push_back(id);
        }
    }
    while let Some(id) = queue.pop_front() {
        let ix = g.node_index[id as usize];
        for next in g.graph.neighbors_directed(ix, Direction::Outgoing) {
            let k = g.graph[next] as usize;
            if depth[k] == usize::MAX {
                depth[k] = depth[id as usize] + 1;
                queue.push_back(k as u32);
            }
        }
    }
    depth.into_iter().map(|d| if d == usize::MAX { 0 } else { d }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::{faulty, quiet};

    fn graph(c: &ChartFile) -> &Graph {
        match &c.chart {
            Chart::Graph(g) => g,
            other => panic!("not a graph: {other:?}"),
        }
    }

    #[test]
    fn layers_follow_call_depth_and_the_path_is_highlighted() {
        let facts = Facts::new(faulty());
        let c = spec(&facts).unwrap();
        let g = graph(&c);
        let layer = |name: &str| g.nodes.iter().find(|n| n.name == name).unwrap().layer;
        assert_eq!((layer("frontend"), layer("api"), layer("db")), (0, 1, 2));
        let db = g.nodes.iter().find(|n| n.name == "db").unwrap();
        assert_eq!(db.color, palette::SOURCE);
        assert!(db.highlight);
        assert!(g.edges.iter().all(|e| e.highlight), "both edges lie on db → api → frontend");
        let api_db = g.edges.iter().find(|e| g.nodes[e.to].name == "db").unwrap();
        let fe_api = g.edges.iter().find(|e| g.nodes[e.to].name == "api").unwrap();
        // api retries timed-out db calls: that edge is busier and redder.
        assert!(api_db.width >= fe_api.width, "{api_db:?} {fe_api:?}");
        assert!(api_db.color.1 < palette::scale(0.0, 0.0, 1.0).1, "{api_db:?}");
        assert!(api_db.label.starts_with('×'), "{}", api_db.label);
    }

    #[test]
    fn a_quiet_system_has_no_highlight_and_healthy_nodes() {
        let facts = Facts::new(quiet());
        let c = spec(&facts).unwrap();
        let g = graph(&c);
        assert!(g.nodes.iter().all(|n| !n.highlight && n.color == palette::HEALTHY));
        assert!(g.edges.iter().all(|e| !e.highlight));
    }
}
