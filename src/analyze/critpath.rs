//! Per-trace critical path (the chain of spans that determined end-to-end latency, as in
//! Uber's CRISP and Jaeger's critical-path view), aggregated to each node's share of the
//! critical path in the baseline and incident windows.
//!
//! The walk (CRISP): from a span's end, step back to the last-finishing child that ended
//! before the current point, charge the gap to the span itself, descend into that child
//! (later, from a stack), and continue from the child's start; the time before the first
//! chosen child is the span's own. Parallel children therefore count once: a child that
//! overlaps the chosen one is skipped. Children are clipped to the parent interval
//! (clock skew); a child entirely outside it is dropped; a child that outlives a non-CLIENT
//! parent is asynchronous (fire-and-forget) and excluded, while a SERVER outliving its
//! CLIENT parent is the caller giving up (timeout) and is clipped.
//!
//! Time is charged to graph nodes: a span's service, except that a CLIENT/PRODUCER span's
//! own time (network, queueing at the callee, or an uninstrumented callee) goes to the
//! callee node of its call.

use rayon::prelude::*;

use super::graph::CallGraph;
use super::incident::Windows;
use super::table::SpanTable;
use crate::model::window::Window;

/// Example traces kept per node (those where it held the most critical-path time).
pub const TOP_TRACES: usize = 5;

/// One node over one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct CritWindow {
    /// Critical-path time charged to the node, ns.
    pub ns: i64,
    /// Traces (rooted in the window) whose critical path the node was on.
    pub traces: u64,
    /// `ns` over the summed critical-path length of the window's traces.
    pub share: Option<f64>,
}

/// Critical-path statistics of one graph node.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NodeCritPath {
    pub node: u32,
    pub name: String,
    pub baseline: CritWindow,
    pub incident: Option<CritWindow>,
    /// Incident traces where the node held the most critical-path time: (ns, trace index),
    /// most first, ties by trace order.
    pub top_incident_traces: Vec<(i64, u32)>,
}

/// Critical-path totals of every node (indexed by node id).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CriticalPath {
    pub nodes: Vec<NodeCritPath>,
    pub baseline_traces: u64,
    pub incident_traces: u64,
    /// Summed critical-path length (= root durations) per window, ns.
    pub baseline_total_ns: i64,
    pub incident_total_ns: i64,
    /// Each request's critical path split into own time and waits per callee.
    pub requests: requests::RequestPaths,
    /// Critical-path time each node spent working (its own spans), `[baseline, incident]`,
    /// indexed by node id.
    pub work_ns: Vec<[i64; 2]>,
    /// Critical-path time inside client spans but outside their server span (network,
    /// the callee's queue, backoff, or an uninstrumented callee), per graph edge.
    pub gap_ns: Vec<[i64; 2]>,
}

impl CriticalPath {
    /// The entry of the node named `name`.
    pub fn node(&self, name: &str) -> Option<&NodeCritPath> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

/// A child interval, clipped to its parent: (end, start, row).
type Seg = (i64, i64, u32);

/// Reusable buffers of one walker (one per rayon worker).
#[derive(Default)]
pub struct Scratch {
    stack: Vec<(u32, i64, i64)>,
    kids: Vec<Seg>,
}

/// The main root of the trace in `rows`: the longest root span, first on ties.
pub fn main_root(t: &SpanTable, rows: std::ops::Range<usize>) -> Option<usize> {
    rows.filter(|&i| t.parent_of(i).is_none())
        .fold(None, |best: Option<usize>, i| match best {
            Some(b) if t.duration(b) >= t.duration(i) => Some(b),
            _ => Some(i),
        })
}

/// Walks the critical path below `root`, calling `charge(row, ns)` for every stretch of
/// time row `row` itself held the path (the charges add up to the root's duration).
pub fn walk(
    t: &SpanTable,
    starts: &[i64],
    root: usize,
    s: &mut Scratch,
    mut charge: impl FnMut(usize, i64),
) {
    walk_until(t, starts, root, s, |_| false, |row, ns, _| charge(row, ns));
}

/// [`walk`] that does not descend below a child on the path for which `stop(child)` holds:
/// the child's whole stretch on the path (its clipped interval, which is exactly what a
/// full walk would charge to it and everything below it) is charged to it in one call,
/// `charge(child, ns, true)`; other charges are `charge(row, ns, false)`. A request's split
/// needs only its own region this way, which keeps the splits of nested requests linear in
/// the trace instead of quadratic in its depth. Returns how many spans it descended into.
///
/// `starts[row]` is where a child's claim on its parent's time begins: its start, or for a
/// retry the end of the attempt before it (the backoff pause is spent because the callee
/// failed, so it is the call's time, not the caller's work).
pub fn walk_until(
    t: &SpanTable,
    starts: &[i64],
    root: usize,
    s: &mut Scratch,
    stop: impl Fn(usize) -> bool,
    mut charge: impl FnMut(usize, i64, bool),
) -> usize {
    s.stack.clear();
    s.stack.push((root as u32, t.start[root], t.end[root]));
    let mut visited = 0;
    while let Some((span, lo, hi)) = s.stack.pop() {
        visited += 1;
        let span = span as usize;
        eligible_children(t, starts, span, lo, hi, &mut s.kids);
        let mut cur = hi;
        for &(end, start, row) in &s.kids {
            if end > cur {
                continue; // overlaps the child already on the path
            }
            charge(span, cur - end, false);
            if stop(row as usize) {
                charge(row as usize, end - start, true);
            } else {
                s.stack.push((row, start, end));
            }
            cur = start;
        }
        charge(span, cur - lo, false);
    }
    visited
}

/// Children of `span` clipped to `[lo, hi]`, latest end first; async and outside ones
/// dropped (see the module docs).
fn eligible_children(
    t: &SpanTable,
    starts: &[i64],
    span: usize,
    lo: i64,
    hi: i64,
    out: &mut Vec<Seg>,
) {
    out.clear();
    // Async is judged against the span's own end: `hi` may be a clip by its caller.
    let async_after = if t.is_client(span) {
        i64::MAX
    } else {
        t.end[span]
    };
    for &c in t.children(span) {
        let c_us = c as usize;
        let (start, end) = (starts[c_us], t.end[c_us]);
        if start >= hi || end <= lo || end > async_after {
            continue;
        }
        out.push((end.min(hi), start.max(lo), c));
    }
    out.sort_unstable_by(|a, b| b.cmp(a));
}

/// The node a row's own critical-path time is charged to.
pub fn node_of(t: &SpanTable, g: &CallGraph, row: usize) -> u32 {
    if t.is_client(row) {
        if let Some(ci) = g.call_of_client(row) {
            return g.calls[ci].callee;
        }
    }
    t.service[row]
}

/// Per-worker sums: `[baseline, incident]` per node.
#[derive(Clone)]
struct Acc {
    ns: Vec<[i64; 2]>,
    work: Vec<[i64; 2]>,
    gap: Vec<[i64; 2]>,
    traces: Vec<[u64; 2]>,
    top: Vec<Vec<(i64, u32)>>,
    roots: [u64; 2],
    total: [i64; 2],
    per_trace: Vec<i64>,
    touched: Vec<u32>,
}

impl Acc {
    fn new(n: usize, edges: usize) -> Acc {
        Acc {
            ns: vec![[0; 2]; n],
            work: vec![[0; 2]; n],
            gap: vec![[0; 2]; edges],
            traces: vec![[0; 2]; n],
            top: vec![Vec::new(); n],
            roots: [0; 2],
            total: [0; 2],
            per_trace: vec![0; n],
            touched: Vec::new(),
        }
    }

    fn merge(mut self, o: Acc) -> Acc {
        for k in 0..self.ns.len() {
            for w in 0..2 {
                self.ns[k][w] += o.ns[k][w];
                self.traces[k][w] += o.traces[k][w];
            }
            for &e in &o.top[k] {
                push_top(&mut self.top[k], e);
            }
        }
        add_pairs(&mut self.work, &o.work);
        add_pairs(&mut self.gap, &o.gap);
        for w in 0..2 {
            self.roots[w] += o.roots[w];
            self.total[w] += o.total[w];
        }
        self
    }
}

fn add_pairs(a: &mut [[i64; 2]], b: &[[i64; 2]]) {
    for (x, y) in a.iter_mut().zip(b) {
        x[0] += y[0];
        x[1] += y[1];
    }
}

/// Keeps the [`TOP_TRACES`] largest `(ns, trace)` (ties: earlier trace first).
fn push_top(top: &mut Vec<(i64, u32)>, e: (i64, u32)) {
    let key = |x: &(i64, u32)| (std::cmp::Reverse(x.0), x.1);
    let at = top.partition_point(|x| key(x) < key(&e));
    if at < TOP_TRACES {
        top.insert(at, e);
        top.truncate(TOP_TRACES);
    }
}

/// Which window (0 baseline, 1 incident) a root start falls in.
fn window_of(w: &Windows, start: i64) -> Option<usize> {
    if w.incident.as_ref().is_some_and(|i| i.contains(start)) {
        Some(1)
    } else {
        w.baseline.contains(start).then_some(0)
    }
}

/// One trace into the accumulator.
fn add_trace(cx: &Inputs, tr: usize, acc: &mut Acc, s: &mut Scratch) {
    let Inputs { t, g, w, starts } = *cx;
    let r = &t.trace_rows[tr];
    let Some(root) = main_root(t, r.start as usize..r.end as usize) else {
        return;
    };
    let Some(win) = window_of(w, t.start[root]) else {
        return;
    };
    let Acc {
        per_trace,
        touched,
        work,
        gap,
        ..
    } = acc;
    walk(t, starts, root, s, |row, ns| {
        match t.is_client(row).then(|| g.call_of_client(row)).flatten() {
            Some(ci) => gap[g.call_edge[ci] as usize][win] += ns,
            None => work[t.service[row] as usize][win] += ns,
        }
        let node = node_of(t, g, row) as usize;
        if ns > 0 && per_trace[node] == 0 {
            touched.push(node as u32);
        }
        per_trace[node] += ns;
    });
    acc.roots[win] += 1;
    acc.total[win] += t.duration(root);
    for &node in acc.touched.iter() {
        let k = node as usize;
        let ns = std::mem::take(&mut acc.per_trace[k]);
        acc.ns[k][win] += ns;
        acc.traces[k][win] += 1;
        if win == 1 {
            push_top(&mut acc.top[k], (ns, tr as u32));
        }
    }
    acc.touched.clear();
}

/// What every trace walk reads.
#[derive(Clone, Copy)]
struct Inputs<'a> {
    t: &'a SpanTable,
    g: &'a CallGraph,
    w: &'a Windows,
    starts: &'a [i64],
}

/// Critical paths of every trace, summed per node over the baseline and incident windows
/// (traces assigned by their main root's start). `starts` as in [`walk_until`].
/// Independent of the thread count.
pub fn critical_path(t: &SpanTable, g: &CallGraph, w: &Windows, starts: &[i64]) -> CriticalPath {
    let (n, e) = (g.nodes.len(), g.edges.len());
    let cx = Inputs { t, g, w, starts };
    // Each fold keeps sums for every node, so creating and merging one costs a pass over
    // the nodes: give each fold at least as many spans as there are nodes, so that cost
    // stays below its work (one trace a fold for a dozen services; fewer, larger folds for
    // 10^5 services).
    let traces = t.trace_rows.len();
    let min_len = ((n + e) as u128 * traces as u128)
        .div_ceil(t.len().max(1) as u128)
        .max(1) as usize;
    let acc = (0..traces)
        .into_par_iter()
        .with_min_len(min_len)
        .fold(
            || (Acc::new(n, e), Scratch::default()),
            |(mut acc, mut s), tr| {
                add_trace(&cx, tr, &mut acc, &mut s);
                (acc, s)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(|| Acc::new(n, e), Acc::merge);
    let mut cp = summarise(g, w.incident, acc);
    cp.requests = requests::request_paths(t, g, w, starts);
    cp
}

fn summarise(g: &CallGraph, incident: Option<Window>, mut acc: Acc) -> CriticalPath {
    let share = |ns: i64, total: i64| (total > 0).then(|| ns as f64 / total as f64);
    let nodes = (0..g.nodes.len())
        .map(|k| {
            let one = |w: usize| CritWindow {
                ns: acc.ns[k][w],
                traces: acc.traces[k][w],
                share: share(acc.ns[k][w], acc.total[w]),
            };
            NodeCritPath {
                node: k as u32,
                name: g.name(k as u32).to_string(),
                baseline: one(0),
                incident: incident.map(|_| one(1)),
                top_incident_traces: acc.top[k].clone(),
            }
        })
        .collect();
    CriticalPath {
        nodes,
        baseline_traces: acc.roots[0],
        incident_traces: acc.roots[1],
        baseline_total_ns: acc.total[0],
        incident_total_ns: acc.total[1],
        requests: requests::RequestPaths::default(),
        work_ns: std::mem::take(&mut acc.work),
        gap_ns: std::mem::take(&mut acc.gap),
    }
}

pub mod requests;

#[cfg(test)]
mod tests;
