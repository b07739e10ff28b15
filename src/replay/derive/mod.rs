//! Model derivation: the traces (through the analysis) become an `incident-model/v1` file
//! that `cascade simulate` runs: arrivals from the entry's root spans, empirical self-time
//! distributions, call templates, the policies each edge showed, the fault at the source
//! and the services' capacity. Entry point: [`derive`].

pub mod arrivals;
pub mod calls;
pub mod capacity;
pub mod document;
pub mod edge_policy;
pub mod entry_pool;
pub mod fault;
pub mod frame;
pub mod segment;
pub mod service_time;

use anyhow::{bail, Context, Result};
use serde_json::Value;

use self::calls::Template;
use self::capacity::Capacity;
use self::edge_policy::ObservedPolicy;
use self::fault::Fault;
use self::frame::{round, Frame};
use crate::analyze::Analysis;
use crate::model::window::Window;
use crate::replay::model::{parse_model, IncidentModel};

/// What derivation needs beyond the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct DeriveOptions {
    /// Share of traces kept by head sampling, 0 < rate <= 1 (default 1: every trace).
    pub sample_rate: f64,
    /// Worker counts from configuration (`--capacity svc=N`; default none: from the traces).
    pub capacity: Vec<(String, u32)>,
}

impl Default for DeriveOptions {
    fn default() -> Self {
        DeriveOptions {
            sample_rate: 1.0,
            capacity: Vec::new(),
        }
    }
}

/// One modelled service.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ServiceSummary {
    pub name: String,
    pub capacity: Capacity,
    pub self_p50_ms: Option<f64>,
    pub samples: usize,
    /// False for a virtual node (a callee without server spans).
    pub instrumented: bool,
}

/// One modelled edge.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EdgeSummary {
    pub from: String,
    pub to: String,
    pub count: u32,
    pub p: f64,
    pub parallel: bool,
    pub max_attempts: u32,
    pub timeout_ms: Option<f64>,
    pub backoff_bounds_ms: Vec<f64>,
    pub jitter: String,
}

/// The derived model and what it was derived from.
#[derive(Debug, Clone)]
pub struct Derived {
    pub frame: Frame,
    /// The `incident-model/v1` document (what `--model-out` writes).
    pub json: Value,
    pub model: IncidentModel,
    pub entry: String,
    /// Service id of the entry in the analysis' span table.
    pub entry_id: u32,
    pub mean_arrival_rate: f64,
    pub services: Vec<ServiceSummary>,
    pub edges: Vec<EdgeSummary>,
    pub fault: Option<Fault>,
    /// Things the model leaves out or had to guess.
    pub notes: Vec<String>,
}

/// Derives the incident model from an analysis.
pub fn derive(a: &Analysis, o: &DeriveOptions) -> Result<Derived> {
    if !(o.sample_rate > 0.0 && o.sample_rate <= 1.0) {
        bail!(
            "the sampling rate must be within (0, 1] (got {})",
            o.sample_rate
        );
    }
    let t = &a.table;
    let Some(entry) = arrivals::entry(t) else {
        bail!("no root SERVER span in the traces: cannot tell where requests enter");
    };
    let f = Frame::new(&a.windows, o.sample_rate);
    let templates = calls::templates(t, &a.graph, &a.attempts, &a.windows.baseline);
    let nodes = reachable(entry.service, &templates);
    let mut notes = Vec::new();
    if entry.other_roots > 0 {
        notes.push(format!(
            "{} root spans of other services are not modelled (one entry only)",
            entry.other_roots
        ));
    }
    let (mut services, dists): (Vec<ServiceSummary>, Vec<Value>) =
        nodes.iter().map(|&n| service(a, n, &f, o)).unzip();
    let observed = edge_policy::observed(t, &a.graph, &a.attempts);
    let edges = edges(a, &nodes, &templates, &observed);
    let fault = fit_fault(a, &f, &nodes);
    let counts = arrivals::counts(t, &entry, &f);
    let mut schedule = arrivals::schedule(&counts, &f);
    if let Some(pool) = full_entry_pool(a, &f, entry.service, &schedule, &counts, o) {
        notes.push(format!(
            "the entry's root-span rate dipped while {:.0} workers stayed busy: read as a full worker pool, arrivals kept at the rate before the dip",
            pool.workers
        ));
        schedule = pool.schedule;
        if let Some(s) = services.first_mut() {
            s.capacity = capacity::plateau(pool.workers);
        }
    }
    let calls = document::calls_json(a, &nodes, &templates, &edges);
    let variants: Vec<Value> = nodes
        .iter()
        .map(|&n| document::variants_json(templates.get(n as usize)))
        .collect();
    let parts = document::Parts {
        schedule: &schedule,
        services: &services,
        dists: &dists,
        variants: &variants,
        calls,
    };
    let json = document::model_json(&f, &parts, &edges, fault.as_ref());
    let model = parse_model(&json.to_string()).context("the derived model does not validate")?;
    for s in services.iter().filter(|s| !s.capacity.consistent) {
        notes.push(format!(
            "{}: in-flight plateau and Little's law disagree by more than 25 %",
            s.name
        ));
    }
    Ok(Derived {
        frame: f,
        mean_arrival_rate: round(arrivals::mean_rate(&schedule, f.duration_s()), 3),
        entry: t.services.name(entry.service).to_string(),
        entry_id: entry.service,
        json,
        model,
        services,
        edges,
        fault,
        notes,
    })
}

/// A full worker pool at the entry (unless its capacity is configured).
fn full_entry_pool(
    a: &Analysis,
    f: &Frame,
    entry: u32,
    schedule: &[(f64, f64)],
    counts: &[f64],
    o: &DeriveOptions,
) -> Option<entry_pool::EntryPool> {
    let name = a.table.services.name(entry);
    if o.capacity.iter().any(|(s, _)| s == name) {
        return None;
    }
    let busy = capacity::busy_workers(&a.table, entry, f);
    let incident = f.within(&a.windows.incident?);
    entry_pool::entry_pool(
        schedule,
        counts,
        &busy,
        f,
        f.within(&a.windows.baseline),
        incident,
    )
}

/// Nodes reachable from the entry through the templates, breadth first (entry first).
fn reachable(entry: u32, templates: &[Template]) -> Vec<u32> {
    let mut out = vec![entry];
    let mut i = 0;
    while i < out.len() {
        let n = out[i] as usize;
        for c in templates.get(n).map_or(&[][..], |t| &t.callees) {
            if !out.contains(&c.node) {
                out.push(c.node);
            }
        }
        i += 1;
    }
    out
}

/// The summary and the `service_time_ms` distribution of one node.
fn service(a: &Analysis, node: u32, f: &Frame, o: &DeriveOptions) -> (ServiceSummary, Value) {
    let t = &a.table;
    let name = a.graph.name(node).to_string();
    let instrumented = (node as usize) < t.services.len();
    let mut samples = self_samples(a, node, instrumented, &a.windows.baseline);
    if samples.len() < service_time::MIN_SAMPLES {
        samples = self_samples(a, node, instrumented, &whole(a));
    }
    let in_flight = a
        .service_index(node)
        .map_or(Vec::new(), |k| a.services[k].series.in_flight.to_vec());
    let capacity = match o.capacity.iter().find(|(s, _)| *s == name) {
        Some(&(_, n)) => capacity::configured(n),
        None => capacity::estimate(t, &a.graph, node, &in_flight, f, &a.windows.baseline),
    };
    let summary = ServiceSummary {
        self_p50_ms: service_time::median(&mut samples).map(|m| round(m, 4)),
        samples: samples.len(),
        name,
        capacity,
        instrumented,
    };
    (summary, service_time::empirical(&mut samples))
}

/// The whole data range, its last instant included.
fn whole(a: &Analysis) -> Window {
    let r = a.windows.range;
    Window::new(r.start_ns, r.end_ns.saturating_add(1))
}

/// Self times (ms) of a node's successful requests in `w`.
///
/// The model has no network between services, so the round trip a caller saw on top of
/// the callee's server span goes into the callee's own time: twice the response leg
/// (client end − server end; the request leg also holds queueing), at most the whole gap.
fn self_samples(a: &Analysis, node: u32, instrumented: bool, w: &Window) -> Vec<f64> {
    let t = &a.table;
    if instrumented {
        let mut network: std::collections::HashMap<usize, i64> = std::collections::HashMap::new();
        for c in a.graph.calls.iter().filter(|c| c.callee == node) {
            if let Some(s) = c.server_row() {
                let (cl, gap) = (
                    c.client as usize,
                    t.duration(c.client as usize) - t.duration(s),
                );
                network.insert(s, (2 * (t.end[cl] - t.end[s])).clamp(0, gap.max(0)));
            }
        }
        return (0..t.len())
            .filter(|&i| {
                t.service[i] == node && t.is_server(i) && !t.is_error(i) && w.contains(t.start[i])
            })
            .map(|i| (a.self_ns[i].max(0) + network.get(&i).copied().unwrap_or(0)) as f64 / 1e6)
            .collect();
    }
    let g = &a.graph;
    g.calls
        .iter()
        .enumerate()
        .filter(|&(ci, c)| c.callee == node && a.attempts.ordinal[ci] == 0)
        .map(|(_, c)| c.client as usize)
        .filter(|&r| !t.is_error(r) && w.contains(t.start[r]))
        .map(|r| t.duration(r) as f64 / 1e6)
        .collect()
}

fn edges(
    a: &Analysis,
    nodes: &[u32],
    templates: &[Template],
    observed: &[ObservedPolicy],
) -> Vec<EdgeSummary> {
    let mut out = Vec::new();
    for &n in nodes {
        let Some(tpl) = templates.get(n as usize) else {
            continue;
        };
        for c in &tpl.callees {
            let o = a
                .graph
                .edge_of(n, c.node)
                .and_then(|e| observed.get(e))
                .cloned()
                .unwrap_or_default();
            out.push(EdgeSummary {
                from: a.graph.name(n).to_string(),
                to: a.graph.name(c.node).to_string(),
                count: c.count,
                p: c.p,
                parallel: tpl.parallel && tpl.callees.len() > 1,
                max_attempts: o.max_attempts.max(1),
                timeout_ms: o.timeout_ms,
                backoff_bounds_ms: o.pause_ms.clone(),
                jitter: o.jitter.to_string(),
            });
        }
    }
    out
}

fn fit_fault(a: &Analysis, f: &Frame, nodes: &[u32]) -> Option<Fault> {
    let incident = a.windows.incident?;
    let source = a.root_causes.first()?;
    let id = a
        .table
        .services
        .get(&source.service)
        .filter(|id| nodes.contains(id))?;
    fault::fit(&a.table, &a.self_ns, id, f, &a.windows.baseline, &incident)
}
