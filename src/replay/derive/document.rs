//! The derived model as an `incident-model/v1` document: services with their pools,
//! distributions and call templates, `calls[]`, per-edge policies and the fault segments.

use serde_json::{json, Map, Value};

use super::calls::{self, Template};
use super::edge_policy::{self, ObservedPolicy};
use super::fault::Fault;
use super::frame::{round, Frame};
use super::{EdgeSummary, ServiceSummary};
use crate::analyze::Analysis;
use crate::replay::model::CLIENT;

/// The pieces of the model document, per modelled node (in node order).
pub struct Parts<'a> {
    pub schedule: &'a [(f64, f64)],
    pub services: &'a [ServiceSummary],
    pub dists: &'a [Value],
    pub variants: &'a [Value],
    pub calls: Vec<Value>,
}

pub fn model_json(f: &Frame, p: &Parts, edges: &[EdgeSummary], fault: Option<&Fault>) -> Value {
    let (schedule, services) = (p.schedule, p.services);
    let mut svc = Map::new();
    for ((s, d), v) in services.iter().zip(p.dists).zip(p.variants) {
        let mut spec =
            json!({"workers": s.capacity.workers, "queue_limit": null, "service_time_ms": d});
        if !v.is_null() {
            spec["variants"] = v.clone();
        }
        svc.insert(s.name.clone(), spec);
    }
    json!({
        "format": "incident-model/v1",
        "name": "derived",
        "duration_s": round(f.duration_s(), 6),
        "seed": 1,
        "sample_interval_s": round(f.width_s(), 6),
        "arrivals": {"entry": services.first().map_or("", |s| s.name.as_str()), "schedule": schedule},
        "services": svc,
        "calls": p.calls,
        "policies": {"default": {"timeout_ms": null, "max_attempts": 1},
            "edges": policies_json(edges, services)},
        "faults": fault.map_or_else(Vec::new, faults_json),
    })
}

/// `services.<name>.variants` of a template (`null` without call templates).
pub fn variants_json(t: Option<&Template>) -> Value {
    let Some(t) = t.filter(|t| !t.variants.is_empty()) else {
        return Value::Null;
    };
    Value::Object(
        t.variants
            .iter()
            .map(|v| (v.name.clone(), json!(v.weight)))
            .collect(),
    )
}

/// `calls[]`: per node its call templates when it has some, else its plain calls.
pub fn calls_json(
    a: &Analysis,
    nodes: &[u32],
    templates: &[Template],
    edges: &[EdgeSummary],
) -> Vec<Value> {
    let mut out = Vec::new();
    for &n in nodes {
        let from = a.graph.name(n);
        match templates.get(n as usize).filter(|t| !t.variants.is_empty()) {
            Some(t) => out.extend(t.variants.iter().flat_map(|v| variant_calls(a, from, v))),
            None => out.extend(plain_calls(
                &edges
                    .iter()
                    .filter(|e| e.from == from)
                    .cloned()
                    .collect::<Vec<_>>(),
            )),
        }
    }
    out
}

fn variant_calls(a: &Analysis, from: &str, v: &calls::Variant) -> Vec<Value> {
    let name = |n: u32| a.graph.name(n).to_string();
    if v.parallel && v.calls.len() > 1 {
        let members: Vec<Value> = v
            .calls
            .iter()
            .map(|&(n, k)| json!({"to": name(n), "count": k}))
            .collect();
        return vec![json!({"from": from, "parallel": true, "calls": members, "variant": v.name})];
    }
    v.calls
        .iter()
        .map(|&(n, k)| json!({"from": from, "to": name(n), "count": k, "variant": v.name}))
        .collect()
}

fn plain_calls(edges: &[EdgeSummary]) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    let mut i = 0;
    while i < edges.len() {
        let e = &edges[i];
        if !e.parallel {
            out.push(json!({"from": e.from, "to": e.to, "count": e.count, "p": e.p}));
            i += 1;
            continue;
        }
        let group: Vec<&EdgeSummary> = edges[i..].iter().take_while(|x| x.from == e.from).collect();
        let members: Vec<Value> = group
            .iter()
            .map(|m| json!({"to": m.to, "count": m.count, "p": m.p}))
            .collect();
        out.push(json!({"from": e.from, "parallel": true, "calls": members}));
        i += group.len();
    }
    out
}

fn policies_json(edges: &[EdgeSummary], services: &[ServiceSummary]) -> Vec<Value> {
    let mut out = vec![
        json!({"from": CLIENT, "to": services.first().map_or("", |s| s.name.as_str()),
        "timeout_ms": null, "max_attempts": 1}),
    ];
    for e in edges {
        let o = ObservedPolicy {
            max_attempts: e.max_attempts,
            timeout_ms: e.timeout_ms,
            pause_ms: e.backoff_bounds_ms.clone(),
            jitter: jitter_name(&e.jitter),
            ..Default::default()
        };
        let mut p = edge_policy::policy_json(&o);
        p["from"] = json!(e.from);
        p["to"] = json!(e.to);
        out.push(p);
    }
    out
}

fn jitter_name(j: &str) -> &'static str {
    match j {
        "full" => "full",
        "equal" => "equal",
        _ => "none",
    }
}

fn faults_json(f: &Fault) -> Vec<Value> {
    f.segments
        .iter()
        .map(|s| {
            json!({"service": f.service, "start_s": s.start_s, "end_s": s.end_s,
            "latency_multiplier": s.latency_multiplier, "error_rate": s.error_rate})
        })
        .collect()
}
