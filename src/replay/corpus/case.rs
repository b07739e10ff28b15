//! One generated case: plan → model → simulated run with the telemetry recorder →
//! `traces.jsonl.gz`, `logs.jsonl.gz` and `truth.json` in `<seed>-<fault_kind>/`. The truth
//! is the simulator's (roles from its own per-visit tally, mechanisms from what the run
//! measured) after the case's trigger, plus the fault kind, the instance, the incident
//! window (until users recovered and every queue that grew drained) and the generator's
//! parameters.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::{json, Map, Value};

use crate::replay::model::parse_model;
use crate::replay::model::policy::PolicySpec;
use crate::replay::sim::{self, RunStats, Topology};
use crate::replay::telemetry::{TelemetryOptions, TelemetryRecorder};
use crate::replay::truth::{truth_with, Trigger};

use super::draw::round;
use super::model::{case_name, model, producers, quirk_names};
use super::outcome;
use super::plan::{self, Plan, Variant};

/// A queue drained once it is back under this many times its pre-trigger peak (plus one
/// visit per worker: a busy service always has a short queue).
const DRAINED_FACTOR: f64 = 2.0;

/// What was written for one case.
#[derive(Debug, Clone)]
pub struct CaseSummary {
    pub seed: u64,
    pub name: String,
    pub kind: &'static str,
    pub root_cause: Option<String>,
    pub services: usize,
    pub rate: f64,
    pub sample: f64,
    pub spans: u64,
    pub dir: PathBuf,
}

/// Plans, simulates and writes the case of `seed` under `root`.
pub fn write_case(seed: u64, root: &Path) -> Result<CaseSummary> {
    write_plan(&plan::draw(seed), root)
}

/// Simulates and writes the case of `plan` under `root`.
pub fn write_plan(plan: &Plan, root: &Path) -> Result<CaseSummary> {
    let seed = plan.seed;
    let name = case_name(plan);
    let m = parse_model(&model(plan).to_string())
        .with_context(|| format!("case {name}: generated model"))?;
    let topo = Topology::compile(&m, &PolicySpec::default());
    let dir = root.join(&name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let order = topo_order(plan, &topo);
    let drawn = producers(plan);
    let producers: Vec<_> = order.iter().map(|&i| drawn[i].clone()).collect();
    let opts = TelemetryOptions {
        traces: Some(dir.join("traces.jsonl.gz")),
        logs: Some(dir.join("logs.jsonl.gz")),
        sample: plan.sample,
        seed,
        producers,
    };
    let rec = TelemetryRecorder::create(&topo, &opts)?;
    let (stats, rec) = sim::run(&topo, seed, rec);
    let spans = rec.spans;
    let tally = rec.close().with_context(|| format!("case {name}"))?;
    let doc = case_truth(plan, &topo, &stats, &tally, &drawn);
    let path = dir.join("truth.json");
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(CaseSummary {
        seed,
        name,
        kind: plan.kind,
        root_cause: doc["root_cause"].as_str().map(str::to_string),
        services: plan.graph.nodes.len(),
        rate: plan.rate,
        sample: plan.sample,
        spans,
        dir,
    })
}

/// For each service of the compiled topology, its node in the plan's graph (the model's
/// JSON orders services by name).
fn topo_order(p: &Plan, topo: &Topology) -> Vec<usize> {
    topo.services
        .iter()
        .map(|s| {
            let at = p.graph.nodes.iter().position(|n| n.name == s.name);
            at.unwrap_or(0)
        })
        .collect()
}

/// The trigger of the case: the fault's window, or the surge's; `None` for a control.
fn trigger_window(p: &Plan) -> Option<(f64, f64, usize)> {
    if p.variant == Variant::Control {
        return None;
    }
    if let Some(f) = &p.fault {
        return Some((f.start, f.end, f.service));
    }
    p.surge.map(|s| (s.start, s.end, 0))
}

/// The truth document of a run of plan `p`.
pub fn case_truth(
    p: &Plan,
    topo: &Topology,
    st: &RunStats,
    tally: &crate::replay::truth::VisitTally,
    producers: &[crate::replay::telemetry::Producer],
) -> Value {
    let trigger = trigger_window(p).map(|(start, end, source)| {
        let users = outcome::users_recovered(topo, st, start, end);
        let drained = drained_at(topo, st, start, end);
        Trigger {
            start,
            end,
            role_end: users.max(drained).min(topo.duration),
            sources: topo
                .services
                .iter()
                .position(|s| s.name == p.graph.nodes[source].name)
                .into_iter()
                .collect(),
        }
    });
    let mut doc = truth_with(topo, st, p.sample, tally, trigger.as_ref());
    let g = &p.graph;
    doc["scenario"] = json!(case_name(p));
    doc["fault_kind"] = json!(p.kind);
    doc["generator"] = generator(p, producers);
    match &trigger {
        None => {
            doc["root_cause"] = Value::Null;
            doc["incident"] = Value::Null;
            doc["mechanisms"] = json!([]);
        }
        Some(t) => {
            // Metastability as the pooled windows judge it (see `outcome`).
            let mut mech: Vec<Value> = doc["mechanisms"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter(|m| m != "metastable_failure")
                .collect();
            if outcome::metastable(topo, st, t.start, t.end) {
                mech.push(json!("metastable_failure"));
            }
            doc["mechanisms"] = json!(mech);
            let source = trigger_window(p).map_or(0, |w| w.2);
            doc["root_cause"] = json!(g.nodes[source].name);
            doc["incident"] = json!({"start_s": t.start, "end_s": t.role_end});
        }
    }
    if let Some(s) = p.surge.filter(|_| p.variant == Variant::LoadSurge) {
        doc["faults"] = json!([{"service": g.nodes[0].name, "start_s": s.start, "end_s": s.end,
            "rate_multiplier": round(s.factor, 3), "latency_multiplier": 1.0, "error_rate": 0.0}]);
        doc["fault"] = doc["faults"][0].clone();
    }
    if let Some(i) = p.fault.as_ref().and_then(|f| f.instance) {
        let t = p.fault.as_ref().map_or(0, |f| f.service);
        let (id, pod) = crate::replay::telemetry::instance_ids(&g.nodes[t].name, i, p.seed);
        doc["root_cause_instance"] = json!(id);
        doc["root_cause_pod"] = json!(pod);
    }
    doc
}

/// When every queue that grew after `start` was back near its pre-trigger level (the
/// trigger's end when none grew; the run's end when one never drained).
fn drained_at(topo: &Topology, st: &RunStats, start: f64, end: f64) -> f64 {
    let split = ((start / topo.interval) as usize).min(topo.buckets);
    let from = ((end / topo.interval).ceil() as usize).min(topo.buckets);
    let mut at = end;
    for (s, svc) in st.services.iter().zip(&topo.services) {
        let before = s.queue_ts[..split].iter().copied().max().unwrap_or(0) as f64;
        let limit = DRAINED_FACTOR * before + svc.workers as f64;
        if !s.queue_ts[split..].iter().any(|&q| q as f64 > limit) {
            continue;
        }
        let mut b = topo.buckets;
        while b > from && (s.queue_ts[b - 1] as f64) <= limit {
            b -= 1;
        }
        at = at.max(b as f64 * topo.interval);
    }
    at
}

/// The generator's parameters of the case (free-form, for slicing results).
fn generator(p: &Plan, producers: &[crate::replay::telemetry::Producer]) -> Value {
    let g = &p.graph;
    let name = |i: usize| g.nodes[i].name.clone();
    let mut quirks = Map::new();
    for (nd, pr) in g.nodes.iter().zip(producers) {
        let q = quirk_names(pr);
        if !q.is_empty() {
            quirks.insert(nd.name.clone(), json!(q));
        }
    }
    let instances: Map<String, Value> = g
        .nodes
        .iter()
        .filter(|n| n.instances > 1)
        .map(|n| (n.name.clone(), json!(n.instances)))
        .collect();
    let queues: Vec<Value> = g
        .links
        .iter()
        .filter(|l| l.asynchronous)
        .map(|l| json!([name(l.from), name(l.to)]))
        .collect();
    let fault = p.fault.as_ref().map(|f| {
        json!({"service": name(f.service), "latency_multiplier": round(f.latency_multiplier, 3),
            "error_rate": round(f.error_rate, 3), "network_delay_ms": round(f.network_delay_ms, 3),
            "from": f.from.map(name), "silent_error_rate": round(f.silent_error_rate, 3),
            "hold_share": round(f.hold_share, 4), "hold_multiplier": round(f.hold_multiplier, 2),
            "instance": f.instance})
    });
    let pools: Map<String, Value> = p
        .pools
        .iter()
        .enumerate()
        .filter_map(|(i, pl)| pl.as_ref().map(|pl| (name(i), pl)))
        .map(|(n, pl)| {
            (
                n,
                json!({"kind": if pl.lock { "lock" } else { "pool" }, "permits": pl.permits,
                "hold_median_ms": round(pl.median_ms, 3)}),
            )
        })
        .collect();
    json!({
        "name": "cascade-corpus/v1",
        "variant": p.variant.name(),
        "services": g.nodes.len(),
        "chain_bias": round(g.chain_bias, 3),
        "visits_per_trace": round(g.visits().iter().sum::<f64>(), 3),
        "duration_s": p.duration,
        "rate_per_s": round(p.rate, 3),
        "sample_rate": p.sample,
        "sample_rate_drawn": p.sample_drawn,
        "quirk_rate": round(p.quirk_rate, 3),
        "traffic_factor": round(p.sizing.peak_factor, 3),
        "bottleneck": p.sizing.bottleneck.map(name),
        "target_utilisation": p.target.map(|t| round(p.sizing.utilisation[t], 3)),
        "fault": fault,
        "pools": pools,
        "queues": queues,
        "instances": instances,
        "quirks": quirks,
    })
}
