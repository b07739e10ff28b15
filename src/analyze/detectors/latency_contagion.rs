//! latency_contagion — a slow dependency makes its callers slow.
//!
//! An **infected** service's mean latency rose while its own (self) time did not: most of
//! the rise is waiting on callees. Each request's critical path is split into own time and
//! wait per callee (`critpath::requests`), so the rise decomposes exactly into what waiting
//! on each callee added. Following every infected service's largest contributor downward
//! ends at a **source**: a node whose rise is its own (self time, queueing in front of it,
//! or an uninstrumented dependency). One finding per source: the contagion path from the
//! source upward with the onset lag per hop, each infected service's share of its rise
//! explained by each callee, the critical-path shares baseline vs incident, and the
//! endpoints of an infected service that slowed although they never wait on the path
//! towards the source (a shared worker pool or connection pool exhausted).

mod report;

use std::collections::BTreeMap;

use super::{Context, Detector};
use crate::analyze::critpath::requests::EndpointPaths;
use crate::model::finding::{Evidence, Finding, Severity};
use crate::model::window::NS_PER_S;

/// Mean latency must rise by this factor to count (DETECTION.md's clear departure).
pub const RISE: f64 = 1.5;
/// A rise of less than this is timer noise, whatever the factor.
const MIN_RISE_MS: f64 = 0.5;
/// At least this share of an infected service's rise must be child wait.
pub const MIN_WAIT_SHARE: f64 = 0.5;
/// A mean needs this many requests on each side.
const MIN_REQUESTS: u64 = 10;
/// Callees explaining less than this share of a rise are not listed.
const MIN_BLAME_SHARE: f64 = 0.05;

pub struct LatencyContagion;

/// A service whose latency rose because it waited longer on its callees.
#[derive(Debug, Clone, PartialEq)]
pub struct Infected {
    pub service: u32,
    /// Mean latency, baseline and incident, ms.
    pub mean_ms: (f64, f64),
    /// Share of the rise that is child wait (1 − own-time rise / rise).
    pub wait_share: f64,
    /// Share of the rise added by waiting on each callee node, largest first.
    pub blame: Vec<(u32, f64)>,
    /// The source its chain of largest contributors ends at.
    pub source: u32,
}

/// Every infected service (by service id) and the sources their chains end at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contagion {
    pub infected: Vec<Infected>,
    /// Node ids, ascending.
    pub sources: Vec<u32>,
}

impl Contagion {
    /// The infected entry of service `id`.
    pub fn infected(&self, id: u32) -> Option<&Infected> {
        self.infected.iter().find(|i| i.service == id)
    }
}

impl Detector for LatencyContagion {
    fn id(&self) -> &'static str {
        "latency_contagion"
    }

    fn summary(&self) -> &'static str {
        "a slow dependency makes its callers slow: sources, infected callers, the path and its lags"
    }

    fn detect(&self, ctx: &Context) -> Vec<Finding> {
        let c = contagion(ctx);
        c.sources
            .iter()
            .filter_map(|&s| report::finding(ctx, &c, s))
            .collect()
    }
}

/// Incident / baseline of a service's own time per request (from `selftime`).
fn self_ratio(ctx: &Context, id: u32) -> Option<f64> {
    let s = ctx.service_by_id(id)?;
    let (b, i) = (s.baseline.self_ms, s.incident?.self_ms);
    if b.n < MIN_REQUESTS || i.n < MIN_REQUESTS {
        return None;
    }
    crate::analyze::stats::ratio(i.value, b.value)
}

/// Mean latency (baseline, incident) in ms, with enough requests on both sides.
pub fn means(e: &EndpointPaths) -> Option<(f64, f64)> {
    if e.requests[0] < MIN_REQUESTS || e.requests[1] < MIN_REQUESTS {
        return None;
    }
    Some((e.mean_ms(e.dur_ns, 0)?, e.mean_ms(e.dur_ns, 1)?))
}

/// Whether a (baseline, incident) pair of means is a clear rise.
pub fn rose(m: (f64, f64)) -> bool {
    m.1 >= RISE * m.0 && m.1 - m.0 >= MIN_RISE_MS
}

/// Share of the rise in mean latency added by waiting on each callee, largest first.
pub fn blame(e: &EndpointPaths, m: (f64, f64)) -> Vec<(u32, f64)> {
    let rise = m.1 - m.0;
    let mut out: Vec<(u32, f64)> = e
        .waits
        .iter()
        .filter_map(|&(node, v)| {
            let d = e.mean_ms(v, 1).unwrap_or(0.0) - e.mean_ms(v, 0).unwrap_or(0.0);
            (d / rise >= MIN_BLAME_SHARE).then_some((node, d / rise))
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The service's infection, before its source is known (`source` = its top callee).
fn infection(ctx: &Context, id: u32) -> Option<Infected> {
    let e = ctx.critical_path.requests.service(id);
    let m = means(&e)?;
    if !rose(m) || self_ratio(ctx, id).is_some_and(|r| r >= RISE) {
        return None;
    }
    let own = |w| e.mean_ms(e.own_ns, w).unwrap_or(0.0);
    let svc = ctx.service_by_id(id)?;
    // Own time from selftime (retry backoff counts as waiting there), else the path's.
    let own_rise = match (svc.baseline.self_ms.value, svc.incident?.self_ms.value) {
        (Some(b), Some(i)) => i - b,
        _ => own(1) - own(0),
    };
    let wait_share = 1.0 - own_rise / (m.1 - m.0);
    let blame = blame(&e, m);
    let top = blame.first()?.0;
    (wait_share >= MIN_WAIT_SHARE).then_some(Infected {
        service: id,
        mean_ms: m,
        wait_share,
        blame,
        source: top,
    })
}

/// Infected services and the sources their chains of largest contributors end at.
pub fn contagion(ctx: &Context) -> Contagion {
    if ctx.incident().is_none() {
        return Contagion::default();
    }
    let mut infected: Vec<Infected> = ctx
        .services
        .iter()
        .filter_map(|s| infection(ctx, s.id))
        .collect();
    infected.sort_by_key(|i| i.service);
    let next: BTreeMap<u32, u32> = infected.iter().map(|i| (i.service, i.source)).collect();
    for i in infected.iter_mut() {
        i.source = chain_end(&next, i.source);
    }
    let mut sources: Vec<u32> = infected.iter().map(|i| i.source).collect();
    sources.sort_unstable();
    sources.dedup();
    // A chain that loops back (no terminal) names an infected service: not a source.
    infected.retain(|i| !next.contains_key(&i.source));
    sources.retain(|s| !next.contains_key(s));
    Contagion { infected, sources }
}

/// Follows the largest-contributor links from `node` to a node that is not infected.
fn chain_end(next: &BTreeMap<u32, u32>, mut node: u32) -> u32 {
    for _ in 0..=next.len() {
        match next.get(&node) {
            Some(&n) => node = n,
            None => return node,
        }
    }
    node
}

/// Onset lag in seconds from `callee` to `caller` (both services with an onset).
pub fn lag_s(ctx: &Context, callee: u32, caller: u32) -> Option<f64> {
    let onset = |id: u32| ctx.service_by_id(id)?.onset_ns;
    Some((onset(caller)? - onset(callee)?) as f64 / NS_PER_S as f64)
}

/// The contagion path from `source` upward: at each hop the infected caller whose largest
/// contributor is the current node, earliest onset first (ties by name).
pub fn path(ctx: &Context, c: &Contagion, source: u32) -> Vec<u32> {
    let mut path = vec![source];
    let onset = |id: u32| {
        ctx.service_by_id(id)
            .and_then(|s| s.onset_ns)
            .unwrap_or(i64::MAX)
    };
    while let Some(cur) = path.last().copied() {
        let next = c
            .infected
            .iter()
            .filter(|i| i.blame.first().map(|b| b.0) == Some(cur) && !path.contains(&i.service))
            .min_by_key(|i| (onset(i.service), ctx.graph.name(i.service).to_string()));
        match next {
            Some(i) => path.push(i.service),
            None => break,
        }
    }
    path
}

/// Severity: an infected entry service (no callers) means users felt it.
pub fn severity(ctx: &Context, c: &Contagion, source: u32) -> Severity {
    let g = ctx.graph;
    let entry = c.infected.iter().filter(|i| i.source == source).any(|i| {
        g.graph
            .neighbors_directed(
                g.node_index[i.service as usize],
                petgraph::Direction::Incoming,
            )
            .next()
            .is_none()
    });
    if entry {
        Severity::Error
    } else {
        Severity::Warning
    }
}

/// Example traces: where the source held the most critical-path time in the incident.
pub fn evidence(ctx: &Context, source: u32) -> Evidence {
    let top = ctx
        .critical_path
        .nodes
        .get(source as usize)
        .map(|n| n.top_incident_traces.clone())
        .unwrap_or_default();
    Evidence {
        trace_ids: top
            .into_iter()
            .map(|(_, tr)| format!("{:032x}", ctx.table.trace_ids[tr as usize]))
            .collect(),
    }
}

#[cfg(test)]
mod tests;
