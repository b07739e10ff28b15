//! A plan as an incident model (`incident-model/v1` with the replay extensions) and as the
//! producers that export its telemetry, drawn per service: span kind or status unset, old
//! semantic-convention names, a skewed clock, how pool waits are reported.

use serde_json::{json, Map, Value};

use crate::replay::sim::rng::{mix, Rng};
use crate::replay::telemetry::{Producer, WaitReport};

use super::draw::{chance, log_uniform, pick, round};
use super::plan::Plan;
use super::shape::Role;

/// The incident model of the plan, as JSON.
pub fn model(p: &Plan) -> Value {
    let g = &p.graph;
    let mut services = Map::new();
    for (i, nd) in g.nodes.iter().enumerate() {
        let mut s = json!({
            "workers": p.sizing.workers[i], "queue_limit": null,
            "service_time_ms": {"dist": "lognormal", "median": nd.median_ms, "p99": nd.p99_ms},
            "instances": nd.instances,
            "network_ms": {"dist": "lognormal", "median": nd.net_ms, "p99": 3.0 * nd.net_ms},
        });
        if let Some(pl) = &p.pools[i] {
            s["pool"] = json!({"permits": pl.permits, "kind": if pl.lock { "lock" } else { "pool" },
                "hold_ms": {"dist": "lognormal", "median": pl.median_ms, "p99": pl.p99_ms}});
        }
        services.insert(nd.name.clone(), s);
    }
    let entry = &g.nodes[0].name;
    let arrivals = match p.surge {
        Some(s) => {
            json!({"entry": entry, "schedule": [[0.0, p.rate], [s.start, p.rate * s.factor], [s.end, p.rate]]})
        }
        None => json!({"entry": entry, "rate_per_s": p.rate}),
    };
    let mut edges =
        vec![json!({"from": "client", "to": entry, "timeout_ms": null, "max_attempts": 1})];
    for (l, pol) in g.links.iter().zip(&p.sizing.policies) {
        edges.push(json!({"from": g.nodes[l.from].name, "to": g.nodes[l.to].name,
            "timeout_ms": pol.timeout_ms, "max_attempts": pol.attempts,
            "backoff": {"base_ms": pol.base_ms, "max_ms": 1000.0, "multiplier": 2.0, "jitter": pol.jitter}}));
    }
    let faults: Vec<Value> = p.fault.iter().map(|f| {
        let mut v = json!({"service": g.nodes[f.service].name, "start_s": f.start, "end_s": f.end,
            "latency_multiplier": f.latency_multiplier, "error_rate": f.error_rate,
            "network_delay_ms": f.network_delay_ms, "silent_error_rate": f.silent_error_rate,
            "hold_share": f.hold_share, "hold_multiplier": f.hold_multiplier});
        if let Some(i) = f.instance {
            v["instance"] = json!(i);
        }
        if let Some(from) = f.from {
            v["from"] = json!(g.nodes[from].name);
        }
        v
    }).collect();
    json!({
        "format": "incident-model/v1",
        "name": case_name(p),
        "duration_s": p.duration,
        "seed": p.seed,
        "sample_interval_s": 1.0,
        "arrivals": arrivals,
        "services": services,
        "calls": calls(p),
        "policies": {"default": {"timeout_ms": null, "max_attempts": 1}, "edges": edges},
        "faults": faults,
    })
}

/// `<seed>-<fault_kind>`: the case's folder and scenario name.
pub fn case_name(p: &Plan) -> String {
    format!("{}-{}", p.seed, p.kind)
}

/// Calls in link order; a node's synchronous calls become one parallel group when sized so.
fn calls(p: &Plan) -> Vec<Value> {
    let g = &p.graph;
    let mut out = Vec::new();
    for i in 0..g.nodes.len() {
        let from = &g.nodes[i].name;
        let links: Vec<_> = g.links.iter().filter(|l| l.from == i).collect();
        let (group, single): (Vec<_>, Vec<_>) = links
            .into_iter()
            .partition(|l| p.sizing.parallel[i] && !l.asynchronous);
        for l in single {
            let mut c = json!({"from": from, "to": g.nodes[l.to].name, "count": l.count, "p": l.p});
            if l.asynchronous {
                c["async"] = json!(true);
            }
            out.push(c);
        }
        if !group.is_empty() {
            let members: Vec<Value> = group
                .iter()
                .map(|l| json!({"to": g.nodes[l.to].name, "count": l.count, "p": l.p}))
                .collect();
            out.push(json!({"from": from, "parallel": true, "calls": members}));
        }
    }
    out
}

/// The producer of every service: quirks drawn at the case's quirk rate, from a stream of
/// their own (so they never change the model).
pub fn producers(p: &Plan) -> Vec<Producer> {
    let mut rng = Rng::new(mix(p.seed, 0x9_0D0C));
    let rng = &mut rng;
    let q = p.quirk_rate;
    p.graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, nd)| {
            let mut pr = Producer {
                hidden: nd.hidden,
                db_system: nd.db_system.map(str::to_string),
                sender_only: nd.role == Role::Entry && nd.name == "loadgen",
                ..Producer::default()
            };
            pr.kind_unset = chance(rng, q / 2.0);
            pr.status_unset = chance(rng, q / 2.0);
            pr.old_semconv = chance(rng, q / 2.0);
            if chance(rng, q / 3.0) {
                let sign = if chance(rng, 0.5) { 1.0 } else { -1.0 };
                pr.clock_skew_ns = (sign * log_uniform(rng, 1.0, 300.0) * 1e6) as i64;
            }
            let report = *pick(
                rng,
                &[WaitReport::Silent, WaitReport::Span, WaitReport::LogField],
            );
            if p.pools[i].is_some() {
                pr.wait_report = report;
            }
            if pr.hidden {
                // Nothing of it is exported, so nothing of it can be quirky.
                pr = Producer {
                    hidden: true,
                    db_system: pr.db_system,
                    ..Producer::default()
                };
            }
            pr
        })
        .collect()
}

/// The quirks of one producer, by name (for the truth's generator parameters).
pub fn quirk_names(pr: &Producer) -> Vec<Value> {
    let mut q = Vec::new();
    for (on, name) in [
        (pr.hidden, "not_exported"),
        (pr.kind_unset, "kind_unset"),
        (pr.status_unset, "status_unset"),
        (pr.old_semconv, "old_semconv"),
        (pr.sender_only, "sender_only"),
    ] {
        if on {
            q.push(json!(name));
        }
    }
    if pr.clock_skew_ns != 0 {
        q.push(json!({"clock_skew_ms": round(pr.clock_skew_ns as f64 / 1e6, 3)}));
    }
    match pr.wait_report {
        WaitReport::Silent => {}
        WaitReport::Span => q.push(json!("wait_span")),
        WaitReport::LogField => q.push(json!("wait_log_field")),
    }
    q
}
