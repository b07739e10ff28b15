//! The service graph spec: nodes layered by call depth from the entry, coloured by role;
//! edge width by calls, edge colour by amplification or error rate (whichever is worse);
//! the source and the contagion path highlighted.

use std::collections::VecDeque;

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
/// Edges get a label only when they retried (5 % extra attempts) or failed (2 % of
/// attempts) noticeably, or lie on the path: labels on quiet edges only add clutter.
const LABEL_AMPLIFICATION: f64 = 1.05;
const LABEL_ERROR_RATE: f64 = 0.02;

/// The service graph chart.
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let g = &facts.a.graph;
    if g.nodes.is_empty() {
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
    legend.push((
        "edge: green → red = more retries or errors".into(),
        palette::scale(0.5, 0.0, 1.0),
    ));
    let window = if facts.a.windows.incident.is_some() {
        "incident window"
    } else {
        "whole range"
    };
    Ok(ChartFile {
        stem: "service-graph",
        caption: format!(
            "Who calls whom ({window}). Boxes are coloured by role; thick outlines and bold arrows trace the path the failure took from its source to the entry. Arrow width grows with calls; edges that retried or failed noticeably are labelled with attempts per call and the share of attempts that failed."
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
    e.incident
        .filter(|_| facts.a.windows.incident.is_some())
        .unwrap_or(e.total)
}

fn edge(facts: &Facts, from: u32, to: u32, e: &EdgeStats, max_calls: u64) -> Edge {
    let c = counts(facts, e);
    let amp = c.amplification().unwrap_or(1.0);
    let err = if c.attempts > 0 {
        c.errors as f64 / c.attempts as f64
    } else {
        0.0
    };
    let badness = ((amp - 1.0) / (RED_AMPLIFICATION - 1.0)).max(err / RED_ERROR_RATE);
    let share = (c.calls as f64 / max_calls.max(1) as f64).sqrt();
    let on_path = facts.path.windows(2).any(|w| w[0] == to && w[1] == from);
    Edge {
        from: from as usize,
        to: to as usize,
        width: (MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * share).round() as u32,
        color: palette::scale(badness, 0.0, 1.0),
        label: if on_path || amp >= LABEL_AMPLIFICATION || err >= LABEL_ERROR_RATE {
            format!("×{amp:.2} · {:.0}% err", err * 100.0)
        } else {
            String::new()
        },
        highlight: on_path,
    }
}

/// Layer of every node: the longest call chain reaching it from the entry or a node nobody
/// calls (so a callee always sits right of its callers); edges that close a cycle are
/// ignored.
fn layers(facts: &Facts) -> Vec<usize> {
    let g = &facts.a.graph;
    let n = g.nodes.len();
    let back = back_edges(facts);
    let forward: Vec<(usize, usize)> = g
        .edges
        .iter()
        .map(|&(a, b)| (a as usize, b as usize))
        .filter(|e| !back.contains(e) && e.0 != e.1)
        .collect();
    // Kahn's algorithm over the forward edges, relaxing depths as we go.
    let mut indegree = vec![0usize; n];
    for &(_, b) in &forward {
        indegree[b] += 1;
    }
    let mut depth = vec![0usize; n];
    let mut ready: VecDeque<usize> = (0..n).filter(|&k| indegree[k] == 0).collect();
    while let Some(k) = ready.pop_front() {
        for &(_, b) in forward.iter().filter(|e| e.0 == k) {
            depth[b] = depth[b].max(depth[k] + 1);
            indegree[b] -= 1;
            if indegree[b] == 0 {
                ready.push_back(b);
            }
        }
    }
    depth
}

/// Edges that close a cycle: depth-first from the entry, then from nodes nobody calls,
/// then from the rest, an edge into a node still on the stack.
fn back_edges(facts: &Facts) -> Vec<(usize, usize)> {
    let g = &facts.a.graph;
    let n = g.nodes.len();
    let children: Vec<Vec<usize>> = (0..n)
        .map(|k| {
            let mut c: Vec<usize> = g
                .edges
                .iter()
                .filter(|e| e.0 as usize == k)
                .map(|e| e.1 as usize)
                .collect();
            c.sort_unstable();
            c
        })
        .collect();
    let called: Vec<bool> = (0..n)
        .map(|k| g.edges.iter().any(|e| e.1 as usize == k && e.0 != e.1))
        .collect();
    let entry = facts.entry_stats().map(|s| s.id as usize);
    let starts = entry
        .into_iter()
        .chain((0..n).filter(|&k| !called[k]))
        .chain(0..n);
    // 0 = unvisited, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; n];
    let mut back = Vec::new();
    for s in starts {
        if state[s] != 0 {
            continue;
        }
        let mut stack = vec![(s, 0usize)];
        state[s] = 1;
        while let Some((k, i)) = stack.pop() {
            match children[k].get(i) {
                Some(&c) => {
                    stack.push((k, i + 1));
                    match state[c] {
                        0 => {
                            state[c] = 1;
                            stack.push((c, 0));
                        }
                        1 => back.push((k, c)),
                        _ => {}
                    }
                }
                None => state[k] = 2,
            }
        }
    }
    back
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
        assert!(
            g.edges.iter().all(|e| e.highlight),
            "both edges lie on db → api → frontend"
        );
        let api_db = g.edges.iter().find(|e| g.nodes[e.to].name == "db").unwrap();
        let fe_api = g
            .edges
            .iter()
            .find(|e| g.nodes[e.to].name == "api")
            .unwrap();
        // api retries timed-out db calls: that edge is busier and redder.
        assert!(api_db.width >= fe_api.width, "{api_db:?} {fe_api:?}");
        assert!(
            api_db.color.1 < palette::scale(0.0, 0.0, 1.0).1,
            "{api_db:?}"
        );
        assert!(api_db.label.starts_with('×'), "{}", api_db.label);
    }

    #[test]
    fn a_callee_sits_right_of_every_caller_even_when_a_shorter_path_reaches_it() {
        let facts = Facts::new(faulty());
        let l = layers(&facts);
        let g = &facts.a.graph;
        for &(a, b) in &g.edges {
            assert!(
                l[b as usize] > l[a as usize],
                "{} → {}",
                g.name(a),
                g.name(b)
            );
        }
    }

    #[test]
    fn a_quiet_system_has_no_highlight_and_healthy_nodes() {
        let facts = Facts::new(quiet());
        let c = spec(&facts).unwrap();
        let g = graph(&c);
        assert!(g
            .nodes
            .iter()
            .all(|n| !n.highlight && n.color == palette::HEALTHY));
        assert!(g.edges.iter().all(|e| !e.highlight));
    }
}
