//! The gap of every call: the time inside the caller's client span but outside the
//! callee's server span — the network both ways and the callee's accept or task queue
//! before its server span started (the whole call when the callee recorded nothing).
//!
//! The gap belongs to the edge, never to the caller's own time. Where a rising gap is
//! localised depends on where it concentrates: on edges into X from two or more callers it
//! is X's (its network or its queue); on edges out of Y to two or more callees it is Y's
//! side (its client pool, its network, its CPU); one caller and one callee leave both ends
//! possible, and the callee is named with that caveat.

use rayon::prelude::*;

use crate::analyze::graph::CallGraph;
use crate::analyze::incident::Windows;
use crate::analyze::stats::{quantile, shift, Shift};
use crate::analyze::table::SpanTable;

/// Which end of an edge a rising gap is charged to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GapSide {
    /// Gaps into the callee rose from two or more callers.
    Callee,
    /// Gaps out of the caller rose towards two or more callees.
    Caller,
    /// One caller, one callee: either end; the callee is named.
    Either,
}

/// The gap of one edge, baseline against incident.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EdgeGap {
    /// Index into the graph's edges.
    pub edge: u32,
    /// Median gap per call, ms, `[baseline, incident]`.
    pub median_ms: [Option<f64>; 2],
    pub shift: Option<Shift>,
    /// Where a rising gap is charged (`None` when it did not rise).
    pub side: Option<GapSide>,
}

impl EdgeGap {
    pub fn rose(&self) -> bool {
        self.shift.is_some_and(|s| s.rose())
    }
}

/// Gaps of every edge (in graph edge order).
pub fn edge_gaps(t: &SpanTable, g: &CallGraph, w: &Windows) -> Vec<EdgeGap> {
    let mut samples: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()]; g.edges.len()];
    for (ci, call) in g.calls.iter().enumerate() {
        let c = call.client as usize;
        let win = if w.incident.is_some_and(|i| i.contains(t.start[c])) {
            1
        } else if w.baseline.contains(t.start[c]) {
            0
        } else {
            continue;
        };
        let inside = call.server_row().map_or(0, |s| t.duration(s));
        let gap = (t.duration(c) - inside).max(0) as f64 / 1e6;
        samples[g.call_edge[ci] as usize][win].push(gap);
    }
    let mut gaps: Vec<EdgeGap> = samples
        .into_par_iter()
        .enumerate()
        .map(|(e, [mut b, mut i])| EdgeGap {
            edge: e as u32,
            shift: shift(&mut b, &i),
            median_ms: [quantile(&mut b, 0.5), quantile(&mut i, 0.5)],
            side: None,
        })
        .collect();
    assign_sides(g, &mut gaps);
    gaps
}

/// Charges each rising gap to the end where rising gaps concentrate.
fn assign_sides(g: &CallGraph, gaps: &mut [EdgeGap]) {
    let rising: Vec<(u32, u32)> = gaps
        .iter()
        .filter(|e| e.rose())
        .map(|e| g.edges[e.edge as usize])
        .collect();
    for e in gaps.iter_mut().filter(|e| e.rose()) {
        let (caller, callee) = g.edges[e.edge as usize];
        let into = rising.iter().filter(|r| r.1 == callee).count();
        let out_of = rising.iter().filter(|r| r.0 == caller).count();
        e.side = Some(if into >= 2 {
            GapSide::Callee
        } else if out_of >= 2 {
            GapSide::Caller
        } else {
            GapSide::Either
        });
    }
}
