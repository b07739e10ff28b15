//! error_propagation — failure follows the graph.
//!
//! Per node that originated errors in the incident (see `analyze::errors` for the origin
//! rule), how many origins it had against its baseline rate, which services upstream of it
//! failed because of errors from below (and what share of their errors that was), and
//! when each of them started to fail.

use std::collections::BTreeMap;

use petgraph::algo::has_path_connecting;

use super::{worst_traces, Context, Detector, EVIDENCE_TRACES};
use crate::model::finding::{Evidence, Finding, Severity};
use crate::model::window::{Window, NS_PER_S};

/// Fewer origins than this in the incident are too few to describe a propagation.
const MIN_ORIGINS: u64 = 20;
/// The excess over the count the baseline rate predicts must exceed this many Poisson
/// standard deviations (background errors come and go in clumps).
const MIN_EXCESS_SIGMAS: f64 = 3.0;
/// The origin rate (per second) must at least double over the baseline to be a finding.
const MIN_RATE_RISE: f64 = 2.0;
/// A service counts as reached when at least half of its failed requests came from below.
const MIN_SHARE_FROM_BELOW: f64 = 0.5;

pub struct ErrorPropagation;

impl Detector for ErrorPropagation {
    fn id(&self) -> &'static str {
        "error_propagation"
    }

    fn summary(&self) -> &'static str {
        "failure follows the graph: where errors originated and which callers they reached"
    }

    fn detect(&self, ctx: &Context) -> Vec<Finding> {
        let Some(inc) = ctx.incident() else {
            return Vec::new();
        };
        let mut nodes: Vec<u32> = ctx.errors.origins.iter().map(|o| o.node).collect();
        nodes.sort_unstable();
        nodes.dedup();
        nodes
            .into_iter()
            .filter_map(|n| origin_finding(ctx, n, &inc))
            .collect()
    }
}

fn per_second(count: u64, w: &Window) -> f64 {
    count as f64 / (w.len_ns().max(1) as f64 / NS_PER_S as f64)
}

fn origin_finding(ctx: &Context, node: u32, inc: &Window) -> Option<Finding> {
    let origins = ctx.errors.count_for(node);
    let base = ctx.baseline_errors.count_for(node);
    let base_rate = per_second(base, &ctx.windows.baseline);
    let expected = base_rate * inc.len_ns() as f64 / NS_PER_S as f64;
    let significant = origins as f64 - expected >= MIN_EXCESS_SIGMAS * expected.max(1.0).sqrt();
    if origins < MIN_ORIGINS || per_second(origins, inc) < MIN_RATE_RISE * base_rate || !significant
    {
        return None;
    }
    let reached = reached_services(ctx, node);
    let name = ctx.graph.name(node).to_string();
    let entry_reached = reached.iter().any(|&s| is_entry(ctx, s));
    let mut services = vec![name.clone()];
    services.extend(
        reached
            .iter()
            .map(|&s| ctx.table.services.name(s).to_string()),
    );
    let mut f = Finding {
        kind: "error_propagation".into(),
        severity: if entry_reached {
            Severity::Error
        } else {
            Severity::Warning
        },
        title: title(&name, origins, base, &services[1..]),
        services,
        edge: None,
        start_ns: inc.start_ns,
        end_ns: inc.end_ns,
        metrics: BTreeMap::new(),
        evidence: Evidence {
            trace_ids: evidence(ctx, node),
        },
    };
    fill_metrics(&mut f.metrics, ctx, node, &reached, inc);
    f.metrics.insert("baseline_origins".into(), base as f64);
    Some(f)
}

fn title(name: &str, origins: u64, base: u64, reached: &[String]) -> String {
    let mut t = format!("{name}: {origins} error origins in the incident (baseline {base})");
    if !reached.is_empty() {
        t.push_str(&format!("; errors reached {}", reached.join(", ")));
    }
    t
}

/// Services upstream of `node` whose failures mostly came from below, by error onset.
fn reached_services(ctx: &Context, node: u32) -> Vec<u32> {
    let g = ctx.graph;
    let target = g.node_index[node as usize];
    let mut out: Vec<(Option<i64>, String, u32)> = ctx
        .errors
        .per_service
        .iter()
        .enumerate()
        .filter(|&(s, e)| {
            s as u32 != node
                && e.errors > 0
                && e.from_below as f64 / e.errors as f64 >= MIN_SHARE_FROM_BELOW
                && has_path_connecting(&g.graph, g.node_index[s], target, None)
        })
        .map(|(s, _)| {
            let name = ctx.table.services.name(s as u32).to_string();
            let onset = ctx.service(&name).and_then(|st| st.error_onset_ns);
            (onset, name, s as u32)
        })
        .collect();
    out.sort_by(|a, b| (a.0.unwrap_or(i64::MAX), &a.1).cmp(&(b.0.unwrap_or(i64::MAX), &b.1)));
    out.into_iter().map(|(_, _, s)| s).collect()
}

fn is_entry(ctx: &Context, service: u32) -> bool {
    let name = ctx.table.services.name(service);
    ctx.graph
        .graph
        .neighbors_directed(
            ctx.graph.node_index[service as usize],
            petgraph::Direction::Incoming,
        )
        .next()
        .is_none()
        && ctx
            .service(name)
            .is_some_and(|s| s.baseline.requests + s.incident.map_or(0, |i| i.requests) > 0)
}

fn fill_metrics(
    m: &mut BTreeMap<String, f64>,
    ctx: &Context,
    node: u32,
    reached: &[u32],
    inc: &Window,
) {
    let origins = ctx.errors.count_for(node);
    let all = ctx.errors.origins.len().max(1) as f64;
    let timeouts = ctx
        .errors
        .origins
        .iter()
        .filter(|o| o.node == node && o.timeout)
        .count();
    m.insert("origins".into(), origins as f64);
    m.insert("origin_share".into(), origins as f64 / all);
    m.insert("timeout_origins".into(), timeouts as f64);
    m.insert("error_traces".into(), ctx.errors.error_traces as f64);
    for &s in reached {
        let e = ctx.errors.per_service[s as usize];
        let name = ctx.table.services.name(s);
        m.insert(format!("errors.{name}"), e.errors as f64);
        m.insert(
            format!("share_from_below.{name}"),
            e.from_below as f64 / e.errors.max(1) as f64,
        );
        if let Some(t) = ctx.service(name).and_then(|st| st.error_onset_ns) {
            m.insert(
                format!("error_onset_s.{name}"),
                (t - inc.start_ns) as f64 / NS_PER_S as f64,
            );
        }
    }
}

/// Traces with the most origins charged to `node`.
fn evidence(ctx: &Context, node: u32) -> Vec<String> {
    let scored = ctx
        .errors
        .origins
        .iter()
        .filter(|o| o.node == node)
        .map(|o| (1, ctx.table.trace[o.row as usize]))
        .collect();
    worst_traces(ctx.table, scored, EVIDENCE_TRACES)
}
