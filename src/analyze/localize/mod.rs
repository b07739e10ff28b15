//! Localization: how much of what the users saw each node explains.
//!
//! Every millisecond of an entry request's critical path is either some service's *work*
//! (its own spans) or a *gap* on a call edge (inside the client span, outside the server
//! span). Comparing the incident with the baseline per entry request, the changes add up
//! to the change users saw. A service whose work grew explains its part. A gap is charged
//! to the end of its edge where rising gaps concentrate (see [`gaps`]); charged to a callee
//! that itself got slower, the gap is queueing behind that slowness, so it is passed on in
//! proportion to what made the callee slower (its own work, or its waits on its own
//! callees) until it reaches a node whose requests did not get slower: the source changed
//! its work, a bottleneck only its wait. Failed entry requests are explained by their error
//! origins. The two parts are weighted by how many users each touched.

pub mod below;
pub mod entry;
pub mod gaps;

use self::entry::{entry_change, EntryChange};
use self::gaps::{edge_gaps, EdgeGap, GapSide};
use super::detectors::Context;
use super::stats::{shift, Shift};
use super::table::SpanTable;

/// Below this (ms per entry request) a change is rounding, not evidence.
const EPS_MS: f64 = 1e-6;

/// What one node explains.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct NodeBlame {
    pub node: u32,
    /// Extra critical-path time per entry request explained by the node's own work, ms.
    pub work_ms: f64,
    /// …by gaps on its calls (its network or queue, or the caller side of its calls), ms.
    pub gap_ms: f64,
    /// Extra share of entry requests that failed with their origin at this node.
    pub error_excess: f64,
    /// Share of the user-facing latency change, of the error change, and combined (0..=1).
    pub latency_share: f64,
    pub error_share: f64,
    pub share: f64,
}

/// The localization of an incident.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Localization {
    pub entry: EntryChange,
    /// In graph edge order.
    pub gaps: Vec<EdgeGap>,
    /// By node id.
    pub nodes: Vec<NodeBlame>,
    /// Per service id: its server spans' durations, incident against baseline.
    pub duration_shift: Vec<Option<Shift>>,
    /// Per service id: its own (self) time per request, incident against baseline.
    pub work_shift: Vec<Option<Shift>>,
}

impl Localization {
    /// The weights of the latency and the error part: the extra share of users each touched.
    pub fn weights(&self) -> (f64, f64) {
        (self.entry.slow_excess(), self.entry.error_excess())
    }

    /// Whether users saw a change at all.
    pub fn user_facing(&self) -> bool {
        let (l, e) = self.weights();
        l + e > 0.0
    }
}

/// Localizes the incident of `ctx` (empty without one).
pub fn localize(ctx: &Context) -> Localization {
    if ctx.incident().is_none() {
        return Localization::default();
    }
    let t = ctx.table;
    let entry = entry_change(t, ctx.windows);
    let gaps = edge_gaps(t, ctx.graph, ctx.windows);
    let (duration_shift, work_shift) = service_shifts(ctx);
    let mut loc = Localization {
        entry,
        gaps,
        nodes: Vec::new(),
        duration_shift,
        work_shift,
    };
    let latency = latency_blame(ctx, &loc);
    let errors = error_blame(ctx);
    loc.nodes = combine(&loc, latency, errors);
    loc
}

/// Per entry request, incident minus baseline, ms.
fn per_request(ns: [i64; 2], roots: [u64; 2]) -> f64 {
    if roots[0] == 0 || roots[1] == 0 {
        return 0.0;
    }
    (ns[1] as f64 / roots[1] as f64 - ns[0] as f64 / roots[0] as f64) / 1e6
}

/// (work, gap) ms explained per node.
fn latency_blame(ctx: &Context, loc: &Localization) -> Vec<(f64, f64)> {
    let cp = ctx.critical_path;
    let g = ctx.graph;
    let roots = [cp.baseline_traces, cp.incident_traces];
    let n = g.nodes.len();
    let mut out = vec![(0.0, 0.0); n];
    for (k, ns) in cp.work_ns.iter().enumerate().take(n) {
        out[k].0 += per_request(*ns, roots).max(0.0);
    }
    let mut pending = Pending::default();
    for (e, ns) in cp.gap_ns.iter().enumerate() {
        let d = per_request(*ns, roots);
        if d > EPS_MS {
            let (caller, callee) = g.edges[e];
            pending.add(callee, caller, d);
        }
    }
    resolve(ctx, loc, pending, &mut out);
    out
}

/// Gap time waiting to be placed: per node, the amounts and the caller each came through.
#[derive(Default)]
struct Pending {
    at: std::collections::BTreeMap<u32, Vec<(u32, f64)>>,
}

impl Pending {
    fn add(&mut self, node: u32, from: u32, ms: f64) {
        self.at.entry(node).or_default().push((from, ms));
    }
}

/// The most placements the walk makes per node before it stops (only call cycles get there).
const MAX_VISITS_PER_NODE: usize = 64;

/// Places pending gap time (see the module docs): at a node whose requests got slower it is
/// passed on in proportion to what made them slower; at one that did not, it is the gap of
/// the call it came through, charged to the caller when the caller's side is where rising
/// gaps concentrate, else to the node.
fn resolve(ctx: &Context, loc: &Localization, mut pending: Pending, out: &mut [(f64, f64)]) {
    let g = ctx.graph;
    let services = ctx.table.services.len();
    let index: std::collections::HashMap<(u32, u32), usize> =
        g.edges.iter().enumerate().map(|(k, &e)| (e, k)).collect();
    let side = |from: u32, to: u32| loc.gaps.get(*index.get(&(from, to))?)?.side;
    let mut visits = 0usize;
    let budget = MAX_VISITS_PER_NODE * out.len().max(1);
    while let Some((x, items)) = pending.at.pop_first() {
        visits += 1;
        let total_in: f64 = items.iter().map(|i| i.1).sum();
        let slowed = (x as usize) < services
            && loc
                .duration_shift
                .get(x as usize)
                .copied()
                .flatten()
                .is_some_and(|s| s.rose());
        let parts = if slowed && visits < budget {
            slowdown_parts(ctx, x)
        } else {
            Vec::new()
        };
        let total: f64 = parts.iter().map(|p| p.1).sum();
        if total <= EPS_MS {
            for (from, ms) in items {
                match side(from, x) {
                    Some(GapSide::Caller) => out[from as usize].1 += ms,
                    _ => out[x as usize].1 += ms,
                }
            }
            continue;
        }
        for (to, d) in parts {
            let ms = total_in * d / total;
            match to {
                None => out[x as usize].0 += ms,
                Some(y) => pending.add(y, x, ms),
            }
        }
    }
}

/// What made service `x`'s requests slower, per request (ms, positive parts): its own
/// critical-path time (`None`) and its waits on each callee (`Some(node)`).
fn slowdown_parts(ctx: &Context, x: u32) -> Vec<(Option<u32>, f64)> {
    let e = ctx.critical_path.requests.service(x);
    let mean = |v: [i64; 2]| -> Option<f64> { Some(e.mean_ms(v, 1)? - e.mean_ms(v, 0)?) };
    let mut out = Vec::new();
    if let Some(d) = mean(e.own_ns).filter(|&d| d > 0.0) {
        out.push((None, d));
    }
    for &(node, v) in &e.waits {
        if let Some(d) = mean(v).filter(|&d| d > 0.0) {
            if node != x {
                out.push((Some(node), d));
            }
        }
    }
    out
}

/// Extra share of failed entry requests per node: each incident error trace's origins
/// share it equally, less the same in the baseline.
fn error_blame(ctx: &Context) -> Vec<f64> {
    let n = ctx.graph.nodes.len();
    let cp = ctx.critical_path;
    let per = |o: &super::errors::ErrorOrigins, roots: u64| -> Vec<f64> {
        let mut per_trace: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for x in &o.origins {
            per_trace
                .entry(ctx.table.trace[x.row as usize])
                .or_default()
                .push(x.node);
        }
        let mut v = vec![0.0; n];
        for nodes in per_trace.values() {
            for &k in nodes {
                v[k as usize] += 1.0 / nodes.len() as f64;
            }
        }
        v.iter().map(|x| x / roots.max(1) as f64).collect()
    };
    let inc = per(ctx.errors, cp.incident_traces);
    let base = per(ctx.baseline_errors, cp.baseline_traces);
    inc.iter()
        .zip(base)
        .map(|(i, b)| (i - b).max(0.0))
        .collect()
}

fn combine(loc: &Localization, latency: Vec<(f64, f64)>, errors: Vec<f64>) -> Vec<NodeBlame> {
    let lat_total: f64 = latency.iter().map(|l| l.0 + l.1).sum();
    let err_total: f64 = errors.iter().sum();
    let (wl, we) = loc.weights();
    let share = |x: f64, total: f64| if total > 0.0 { x / total } else { 0.0 };
    latency
        .iter()
        .zip(&errors)
        .enumerate()
        .map(|(k, (&(work_ms, gap_ms), &err))| {
            let latency_share = share(work_ms + gap_ms, lat_total);
            let error_share = share(err, err_total);
            let combined = if wl + we > 0.0 {
                (wl * latency_share + we * error_share) / (wl + we)
            } else {
                0.0
            };
            NodeBlame {
                node: k as u32,
                work_ms,
                gap_ms,
                error_excess: err,
                latency_share,
                error_share,
                share: combined,
            }
        })
        .collect()
}

/// Per service: durations and own time of its server spans, incident against baseline.
type Shifts = (Vec<Option<Shift>>, Vec<Option<Shift>>);

fn service_shifts(ctx: &Context) -> Shifts {
    let t: &SpanTable = ctx.table;
    let w = ctx.windows;
    let n = t.services.len();
    let mut dur: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()]; n];
    let mut own: Vec<[Vec<f64>; 2]> = vec![[Vec::new(), Vec::new()]; n];
    for i in (0..t.len()).filter(|&i| t.is_server(i)) {
        let win = if w.incident.is_some_and(|x| x.contains(t.start[i])) {
            1
        } else if w.baseline.contains(t.start[i]) {
            0
        } else {
            continue;
        };
        let s = t.service[i] as usize;
        dur[s][win].push(t.duration(i) as f64 / 1e6);
        own[s][win].push(ctx.self_ns[i].max(0) as f64 / 1e6);
    }
    let one = |v: &mut [Vec<f64>; 2]| {
        let [b, i] = v;
        shift(b, i)
    };
    (
        dur.iter_mut().map(one).collect(),
        own.iter_mut().map(one).collect(),
    )
}
