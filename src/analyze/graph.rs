//! Calls and the service call graph.
//!
//! A call is a CLIENT (or PRODUCER) span plus the SERVER (or CONSUMER) span that is its child
//! in another service, or that links to it (messaging). A client span with no such child
//! still calls something: the node is named from peer.service, server.address, db.system or
//! the messaging destination (Grafana Tempo's virtual nodes) — unless that same name is
//! seen on calls that did reach an instrumented service, in which case that service is the
//! callee (a timed-out attempt to `inventory` is still a call to `inventory`).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use petgraph::graph::{DiGraph, NodeIndex};
use polars::prelude::DataFrame;

use super::intern::Interner;
use super::table::SpanTable;
use crate::model::columns as col;

/// "No server span" in [`Call::server`].
pub const NO_SERVER: u32 = u32::MAX;
/// Name of the node for a client span that says nothing about its peer.
pub const UNKNOWN_PEER: &str = "unknown";

/// One attempt: a client span, its server span if instrumented, caller and callee nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub client: u32,
    pub server: u32,
    pub caller: u32,
    pub callee: u32,
}

impl Call {
    /// The server row, if the callee recorded one.
    pub fn server_row(&self) -> Option<usize> {
        (self.server != NO_SERVER).then_some(self.server as usize)
    }
}

/// Every call and the graph over nodes (services first, then virtual nodes).
#[derive(Debug, Default)]
pub struct CallGraph {
    /// Calls in row order of their client span.
    pub calls: Vec<Call>,
    /// Node names: ids `0..services.len()` are the services' ids.
    pub nodes: Interner,
    /// Edge index (into [`CallGraph::edges`]) of each call.
    pub call_edge: Vec<u32>,
    /// Distinct (caller, callee) node pairs, sorted by names.
    pub edges: Vec<(u32, u32)>,
    /// The graph: node weights are node ids, edge weights are edge indices.
    pub graph: DiGraph<u32, u32>,
    /// Graph index of each node id.
    pub node_index: Vec<NodeIndex>,
    /// Peer names that reached more than one service (their unanswered calls stay virtual).
    pub ambiguous_peers: u64,
}

impl CallGraph {
    /// The name of node `id`.
    pub fn name(&self, id: u32) -> &str {
        self.nodes.name(id)
    }

    /// Index of the call whose client span is row `row`.
    pub fn call_of_client(&self, row: usize) -> Option<usize> {
        let i = self.calls.partition_point(|c| (c.client as usize) < row);
        (self.calls.get(i)?.client as usize == row).then_some(i)
    }

    /// Index of the edge (caller, callee), if such calls exist.
    pub fn edge_of(&self, caller: u32, callee: u32) -> Option<usize> {
        self.edges.iter().position(|&e| e == (caller, callee))
    }
}

/// Finds every call and builds the graph.
pub fn build_graph(t: &SpanTable, links: &DataFrame) -> CallGraph {
    let linked = linked_consumers(t, links);
    let mut raw: Vec<(u32, u32)> = t
        .par_traces(|rows| {
            rows.filter(|&i| t.is_client(i))
                .map(|i| (i as u32, server_child(t, i, &linked)))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .flatten()
        .collect();
    raw.sort_unstable();
    let mut nodes = t.services.clone();
    let (learned, ambiguous_peers) = learn_peers(t, &raw);
    let calls: Vec<Call> = raw
        .iter()
        .map(|&(c, s)| Call {
            client: c,
            server: s,
            caller: t.service[c as usize],
            callee: callee_node(t, c as usize, s, &learned, &mut nodes),
        })
        .collect();
    let mut g = assemble(calls, nodes);
    g.ambiguous_peers = ambiguous_peers;
    g
}

/// The server (or consumer) child of client row `i` in another service, else a consumer
/// that links to it, else [`NO_SERVER`].
fn server_child(t: &SpanTable, i: usize, linked: &HashMap<u32, u32>) -> u32 {
    t.children(i)
        .iter()
        .copied()
        .find(|&c| t.is_server(c as usize) && t.service[c as usize] != t.service[i])
        .or_else(|| linked.get(&(i as u32)).copied())
        .unwrap_or(NO_SERVER)
}

/// Producer row → the first consumer row that links to it (from the links frame).
fn linked_consumers(t: &SpanTable, links: &DataFrame) -> HashMap<u32, u32> {
    let pairs = read_links(links);
    if pairs.is_empty() {
        return HashMap::new();
    }
    let wanted: HashSet<(u128, u64)> = pairs.iter().flat_map(|&(a, b)| [a, b]).collect();
    let mut row_of: HashMap<(u128, u64), u32> = HashMap::new();
    for i in 0..t.len() {
        let key = (t.trace_ids[t.trace[i] as usize], t.span_id[i]);
        if wanted.contains(&key) {
            row_of.entry(key).or_insert(i as u32);
        }
    }
    let mut out = HashMap::new();
    for (consumer, producer) in pairs {
        let (Some(&c), Some(&p)) = (row_of.get(&consumer), row_of.get(&producer)) else {
            continue;
        };
        let ok = t.is_server(c as usize)
            && t.is_client(p as usize)
            && t.service[c as usize] != t.service[p as usize];
        if ok && t.parent_of(c as usize) != Some(p as usize) {
            out.entry(p).or_insert(c);
        }
    }
    out
}

/// (span, linked span) as (trace, span id) pairs; an absent or odd frame gives none.
fn read_links(links: &DataFrame) -> Vec<((u128, u64), (u128, u64))> {
    let get = |name: &str| links.column(name).ok().and_then(|c| c.str().ok());
    let (Some(tr), Some(sp), Some(ltr), Some(lsp)) = (
        get(col::TRACE_ID),
        get(col::SPAN_ID),
        get(col::LINKED_TRACE_ID),
        get(col::LINKED_SPAN_ID),
    ) else {
        return Vec::new();
    };
    let h128 = |s: Option<&str>| s.and_then(|s| u128::from_str_radix(s, 16).ok());
    let h64 = |s: Option<&str>| s.and_then(|s| u64::from_str_radix(s, 16).ok());
    tr.iter()
        .zip(sp.iter())
        .zip(ltr.iter().zip(lsp.iter()))
        .filter_map(|((a, b), (c, d))| Some(((h128(a)?, h64(b)?), (h128(c)?, h64(d)?))))
        .collect()
}

/// Peer name → the one service that answered calls carrying it. A name that reached two or
/// more services (a shared host, a proxy) is ambiguous: an unanswered call with it stays a
/// virtual node rather than inventing an edge; such names are counted.
fn learn_peers(t: &SpanTable, raw: &[(u32, u32)]) -> (HashMap<u32, u32>, u64) {
    let mut reached: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for &(c, s) in raw {
        let peer = t.peer[c as usize];
        if s != NO_SERVER && peer != Interner::NONE {
            reached
                .entry(peer)
                .or_default()
                .insert(t.service[s as usize]);
        }
    }
    let ambiguous = reached.values().filter(|s| s.len() > 1).count() as u64;
    let learned = reached
        .into_iter()
        .filter_map(|(p, s)| (s.len() == 1).then_some((p, *s.first()?)))
        .collect();
    (learned, ambiguous)
}

fn callee_node(
    t: &SpanTable,
    c: usize,
    s: u32,
    learned: &HashMap<u32, u32>,
    nodes: &mut Interner,
) -> u32 {
    if s != NO_SERVER {
        return t.service[s as usize];
    }
    let peer = t.peer[c];
    if let Some(&svc) = learned.get(&peer) {
        return svc;
    }
    match peer {
        Interner::NONE => nodes.intern(UNKNOWN_PEER),
        p => nodes.intern(t.peers.name(p)),
    }
}

fn assemble(calls: Vec<Call>, nodes: Interner) -> CallGraph {
    let mut pairs: Vec<(u32, u32)> = calls.iter().map(|c| (c.caller, c.callee)).collect();
    pairs.sort_unstable_by(|a, b| {
        (nodes.name(a.0), nodes.name(a.1)).cmp(&(nodes.name(b.0), nodes.name(b.1)))
    });
    pairs.dedup();
    let index: HashMap<(u32, u32), u32> = pairs
        .iter()
        .enumerate()
        .map(|(i, &p)| (p, i as u32))
        .collect();
    let call_edge = calls.iter().map(|c| index[&(c.caller, c.callee)]).collect();
    let mut graph = DiGraph::new();
    let node_index: Vec<NodeIndex> = (0..nodes.len() as u32).map(|n| graph.add_node(n)).collect();
    for (i, &(a, b)) in pairs.iter().enumerate() {
        graph.add_edge(node_index[a as usize], node_index[b as usize], i as u32);
    }
    CallGraph {
        calls,
        nodes,
        call_edge,
        edges: pairs,
        graph,
        node_index,
        ambiguous_peers: 0,
    }
}

/// One client→server span pair as the bench counts it (`edges.csv`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpanPair {
    pub caller: u32,
    pub callee: u32,
    pub client_duration_ns: i64,
    pub client_error: bool,
    pub client_retry: bool,
}

/// The client→server span pairs (calls with an instrumented server child via parent id),
/// the bench definition behind `edges.csv`.
pub fn span_pairs(t: &SpanTable, g: &CallGraph) -> Vec<SpanPair> {
    g.calls
        .iter()
        .filter(|c| {
            c.server_row()
                .is_some_and(|s| t.parent_of(s) == Some(c.client as usize))
        })
        .filter(|c| t.kind[c.client as usize] as i32 == col::kind::CLIENT)
        .map(|c| {
            let i = c.client as usize;
            SpanPair {
                caller: c.caller,
                callee: c.callee,
                client_duration_ns: t.duration(i),
                client_error: t.is_error(i),
                client_retry: t.resend[i] > 0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{Frames, SpanSpec};
    use crate::model::columns::kind;

    fn graph_of(f: &Frames) -> (SpanTable, CallGraph) {
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let g = build_graph(&t, &f.links());
        (t, g)
    }

    fn edge_names(g: &CallGraph) -> Vec<(String, String)> {
        g.edges
            .iter()
            .map(|&(a, b)| (g.name(a).to_string(), g.name(b).to_string()))
            .collect()
    }

    #[test]
    fn client_server_pairs_virtual_nodes_and_links() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::SERVER, 0, 100));
        f.push(SpanSpec::new(1, 2, 1, "api", kind::CLIENT, 10, 40));
        f.push(SpanSpec::new(1, 3, 2, "db", kind::SERVER, 12, 38));
        let mut cache = SpanSpec::new(1, 4, 1, "api", kind::CLIENT, 50, 60);
        cache.peer = Some("redis".into());
        f.push(cache);
        f.push(SpanSpec::new(1, 5, 1, "api", kind::PRODUCER, 60, 61));
        f.push(SpanSpec::new(2, 6, 0, "worker", kind::CONSUMER, 70, 90));
        f.links.push((2, 6, 1, 5));
        let (t, g) = graph_of(&f);
        assert_eq!(
            edge_names(&g),
            vec![
                ("api".into(), "db".into()),
                ("api".into(), "redis".into()),
                ("api".into(), "worker".into())
            ]
        );
        assert_eq!(g.graph.edge_count(), 3);
        let pairs = span_pairs(&t, &g);
        assert_eq!(pairs.len(), 1);
        assert_eq!(pairs[0].client_duration_ns, 30_000_000);
    }

    #[test]
    fn timed_out_attempt_without_server_joins_the_learned_service() {
        let mut f = Frames::default();
        let mut a = SpanSpec::new(1, 2, 0, "api", kind::CLIENT, 10, 40);
        a.peer = Some("db.internal".into());
        f.push(a.clone());
        f.push(SpanSpec::new(1, 3, 2, "db", kind::SERVER, 12, 38));
        a.id = 4;
        f.push(a);
        let (_, g) = graph_of(&f);
        assert_eq!(edge_names(&g), vec![("api".into(), "db".into())]);
        assert_eq!(g.calls.len(), 2);
        assert_eq!(g.calls[1].server_row(), None);
    }
}
