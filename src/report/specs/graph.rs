//! The service graph spec: nodes layered by call depth from the entry, coloured by role;
//! edge width by calls, edge colour by amplification or error rate (whichever is worse);
//! the source and the contagion path highlighted.

use std::collections::VecDeque;

use std::collections::BTreeMap;

use super::{role_color, role_legend};
use crate::analyze::edges::{EdgeCounts, EdgeStats};
use crate::analyze::rootcause::Role;
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

/// Most boxes the graph draws: a layered layout past a few dozen boxes is unreadable and
/// its bitmap grows without bound (10^5 services would need millions of pixels). The rest
/// are drawn as one box that says how many it stands for.
pub const MAX_NODES: usize = 30;

/// The service graph chart.
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let g = &facts.a.graph;
    if g.nodes.is_empty() {
        return Err("no services in the input".into());
    }
    let fold = Fold::new(facts);
    let mut nodes: Vec<Node> = fold
        .kept
        .iter()
        .map(|&n| Node {
            name: g.name(n).to_string(),
            layer: 0,
            color: role_color(facts.role_of_node(n)),
            highlight: facts.path.contains(&n),
        })
        .collect();
    if fold.folded > 0 {
        nodes.push(Node {
            name: format!("{} others", fold.folded),
            layer: 0,
            color: role_color(Role::Healthy),
            highlight: false,
        });
    }
    let edges = fold.edges(facts);
    let pairs: Vec<(usize, usize)> = edges.iter().map(|e| (e.from, e.to)).collect();
    let entry = facts
        .entry_stats()
        .and_then(|s| fold.index.get(s.id as usize).copied());
    for (node, layer) in nodes
        .iter_mut()
        .zip(layers(nodes_len(&fold), &pairs, entry))
    {
        node.layer = layer;
    }
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
    let folded = if fold.folded > 0 {
        format!(
            " The {} busiest services and the path are drawn; the {} others are folded into one box.",
            fold.kept.len(),
            fold.folded
        )
    } else {
        String::new()
    };
    Ok(ChartFile {
        stem: "service-graph",
        caption: format!(
            "Who calls whom ({window}). Boxes are coloured by role; thick outlines and bold arrows trace the path the failure took from its source to the entry. Arrow width grows with calls; edges that retried or failed noticeably are labelled with attempts per call and the share of attempts that failed.{folded}"
        ),
        chart: Chart::Graph(Graph {
            title: "Service graph: where it started and how it spread".into(),
            nodes,
            edges,
            legend,
        }),
    })
}

fn nodes_len(fold: &Fold) -> usize {
    fold.kept.len() + usize::from(fold.folded > 0)
}

/// Which graph nodes get a box of their own: all of them up to [`MAX_NODES`], else the
/// path, the entry and the busiest nodes, the rest folded into one box.
struct Fold {
    /// Kept node ids, ascending.
    kept: Vec<u32>,
    /// Box of every node id (the folded ones share the last box).
    index: Vec<usize>,
    folded: usize,
}

impl Fold {
    fn new(facts: &Facts) -> Fold {
        let g = &facts.a.graph;
        let n = g.nodes.len();
        if n <= MAX_NODES {
            return Fold {
                kept: (0..n as u32).collect(),
                index: (0..n).collect(),
                folded: 0,
            };
        }
        let mut traffic = vec![0u64; n];
        for (&(a, b), e) in g.edges.iter().zip(&facts.a.edges) {
            let c = counts(facts, e).calls;
            traffic[a as usize] += c;
            traffic[b as usize] += c;
        }
        let entry = facts.entry_stats().map(|s| s.id);
        let mut order: Vec<u32> = (0..n as u32).collect();
        // The path and the entry first, then hurt services, then by traffic; ties by name.
        let rank = |k: u32| {
            (
                !facts.path.contains(&k) && Some(k) != entry,
                facts.role_of_node(k) == Role::Healthy,
                std::cmp::Reverse(traffic[k as usize]),
            )
        };
        order.sort_by_cached_key(|&k| (rank(k), g.name(k)));
        let mut kept: Vec<u32> = order[..MAX_NODES - 1].to_vec();
        kept.sort_unstable();
        let other = kept.len();
        let mut index = vec![other; n];
        for (i, &k) in kept.iter().enumerate() {
            index[k as usize] = i;
        }
        Fold {
            kept,
            index,
            folded: n - (MAX_NODES - 1),
        }
    }

    /// The edges between boxes: kept edges as they are (graph order), then the merged
    /// edges to and from the folded box; edges inside it are not drawn.
    fn edges(&self, facts: &Facts) -> Vec<Edge> {
        let g = &facts.a.graph;
        let max_calls = facts
            .a
            .edges
            .iter()
            .map(|e| counts(facts, e).calls)
            .max()
            .unwrap_or(1);
        let other = self.kept.len();
        let mut out = Vec::new();
        let mut merged: BTreeMap<(usize, usize), EdgeCounts> = BTreeMap::new();
        for (&(from, to), e) in g.edges.iter().zip(&facts.a.edges) {
            let (a, b) = (self.index[from as usize], self.index[to as usize]);
            if a != other && b != other {
                let on_path = facts.path.windows(2).any(|w| w[0] == to && w[1] == from);
                out.push(edge(a, b, counts(facts, e), on_path, max_calls));
            } else if a != b {
                let m = merged.entry((a, b)).or_default();
                let c = counts(facts, e);
                m.calls += c.calls;
                m.attempts += c.attempts;
                m.retries += c.retries;
                m.errors += c.errors;
                m.timeouts += c.timeouts;
            }
        }
        let max_merged = merged.values().map(|c| c.calls).max().unwrap_or(1);
        out.extend(
            merged
                .into_iter()
                .map(|((a, b), c)| edge(a, b, c, false, max_calls.max(max_merged))),
        );
        out
    }
}

/// Counts of an edge over the incident (or everything without one).
fn counts(facts: &Facts, e: &EdgeStats) -> EdgeCounts {
    e.incident
        .filter(|_| facts.a.windows.incident.is_some())
        .unwrap_or(e.total)
}

fn edge(from: usize, to: usize, c: EdgeCounts, on_path: bool, max_calls: u64) -> Edge {
    let amp = c.amplification().unwrap_or(1.0);
    let err = if c.attempts > 0 {
        c.errors as f64 / c.attempts as f64
    } else {
        0.0
    };
    let badness = ((amp - 1.0) / (RED_AMPLIFICATION - 1.0)).max(err / RED_ERROR_RATE);
    let share = (c.calls as f64 / max_calls.max(1) as f64).sqrt();
    Edge {
        from,
        to,
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
/// ignored. Linear in nodes and edges.
fn layers(n: usize, edges: &[(usize, usize)], entry: Option<usize>) -> Vec<usize> {
    let back: std::collections::HashSet<(usize, usize)> =
        back_edges(n, edges, entry).into_iter().collect();
    let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut indegree = vec![0usize; n];
    for &(a, b) in edges.iter().filter(|e| !back.contains(e) && e.0 != e.1) {
        out_edges[a].push(b);
        indegree[b] += 1;
    }
    // Kahn's algorithm over the forward edges, relaxing depths as we go.
    let mut depth = vec![0usize; n];
    let mut ready: VecDeque<usize> = (0..n).filter(|&k| indegree[k] == 0).collect();
    while let Some(k) = ready.pop_front() {
        for &b in &out_edges[k] {
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
fn back_edges(n: usize, edges: &[(usize, usize)], entry: Option<usize>) -> Vec<(usize, usize)> {
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut called = vec![false; n];
    for &(a, b) in edges {
        children[a].push(b);
        if a != b {
            called[b] = true;
        }
    }
    for c in &mut children {
        c.sort_unstable();
    }
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
        let g = &facts.a.graph;
        let pairs: Vec<(usize, usize)> = g
            .edges
            .iter()
            .map(|&(a, b)| (a as usize, b as usize))
            .collect();
        let entry = facts.entry_stats().map(|s| s.id as usize);
        let l = layers(g.nodes.len(), &pairs, entry);
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
    fn report_with_many_services_folds_the_graph_instead_of_drawing_every_box() {
        use crate::analyze::testkit::{Frames, SpanSpec};
        use crate::analyze::{analyze, AnalyzeOptions};
        use crate::model::columns::kind;
        let services = 100u64;
        let mut f = Frames::default();
        for k in 0..services {
            let (a, id) = (k as i64 * 10, 3 * k);
            let callee = format!("backend-{k:03}");
            f.push(SpanSpec::new(
                u128::from(k) + 1,
                id + 1,
                0,
                "fe",
                kind::SERVER,
                a,
                a + 9,
            ));
            f.push(SpanSpec::new(
                u128::from(k) + 1,
                id + 2,
                id + 1,
                "fe",
                kind::CLIENT,
                a + 1,
                a + 8,
            ));
            f.push(SpanSpec::new(
                u128::from(k) + 1,
                id + 3,
                id + 2,
                &callee,
                kind::SERVER,
                a + 2,
                a + 7,
            ));
        }
        let a = analyze(&f.dataset(), &AnalyzeOptions::default()).unwrap();
        let facts = Facts::new(&a);
        let c = spec(&facts).unwrap();
        let g = graph(&c);
        let folded = services as usize + 1 - (MAX_NODES - 1);
        assert_eq!(g.nodes.len(), MAX_NODES);
        assert_eq!(g.nodes.last().unwrap().name, format!("{folded} others"));
        assert!(g.nodes.iter().any(|n| n.name == "fe"), "the entry is kept");
        assert!(
            c.caption
                .contains(&format!("the {folded} others are folded")),
            "{}",
            c.caption
        );
        // fe's calls into the folded services are one merged edge, drawn right of fe.
        let other = g.nodes.len() - 1;
        let into_other: Vec<_> = g.edges.iter().filter(|e| e.to == other).collect();
        assert_eq!(into_other.len(), 1);
        assert!(g.nodes[other].layer > g.nodes[into_other[0].from].layer);
        assert!(g
            .edges
            .iter()
            .all(|e| e.from < g.nodes.len() && e.to < g.nodes.len()));
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
