//! Ground truth of a simulated incident (`cascade.truth/v1`), written beside the traces so
//! the analyser can be scored: the fault, the root-cause service, the incident window, the
//! mechanisms that actually occurred in this run (each decided by a named threshold on what
//! the run measured), per-edge amplification in the fault window, and each service's role
//! (`roles.rs`).

mod roles;

pub use self::roles::VisitTally;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::recovery::recovery_between;
use super::sim::{RunStats, Topology};
use super::telemetry::BASE_NS;

/// An edge amplified retries when attempts / first attempts in the fault window exceed this.
pub const AMPLIFICATION_THRESHOLD: f64 = 1.2;
/// A queue grew when its peak sample after the fault started is this many times its
/// pre-fault peak (or the floor below, whichever is larger).
pub const QUEUE_GROWTH_FACTOR: f64 = 10.0;
/// Queue growth needs at least this many queued visits (a tiny baseline would trip it).
pub const QUEUE_GROWTH_FLOOR: u32 = 50;

/// `spans.jsonl` → `spans.truth.json` in the same folder.
pub fn truth_path(traces: &Path) -> PathBuf {
    let stem = traces
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("traces");
    let stem = stem.split('.').next().unwrap_or(stem);
    traces.with_file_name(format!("{stem}.truth.json"))
}

/// What set an incident off: its window and the services where it came in (the faulted
/// services, or the entry of a load surge); roles compare `start..role_end` with before.
#[derive(Debug, Clone, PartialEq)]
pub struct Trigger {
    pub start: f64,
    pub end: f64,
    pub role_end: f64,
    pub sources: Vec<usize>,
}

impl Trigger {
    /// The model's faults as the trigger (`None` without a fault).
    pub fn from_faults(topo: &Topology) -> Option<Trigger> {
        let (start, end) = topo.fault_window()?;
        let sources = (0..topo.services.len())
            .filter(|&s| !topo.services[s].faults.is_empty())
            .collect();
        Some(Trigger {
            start,
            end,
            role_end: end,
            sources,
        })
    }
}

/// The ground-truth document of one run; `tally` holds every visit of it.
pub fn truth(topo: &Topology, st: &RunStats, sample: f64, tally: &VisitTally) -> Value {
    truth_with(topo, st, sample, tally, Trigger::from_faults(topo).as_ref())
}

/// The ground truth of one run after `trigger` (`None`: nothing was set off).
pub fn truth_with(
    topo: &Topology,
    st: &RunStats,
    sample: f64,
    tally: &VisitTally,
    trigger: Option<&Trigger>,
) -> Value {
    let faults = faults(topo);
    let first = faults
        .iter()
        .min_by(|a, b| start_of(a).total_cmp(&start_of(b)))
        .cloned();
    let (start, end) = trigger.map_or((0.0, 0.0), |t| (t.start, t.end));
    let rec = trigger.map(|t| recovery_between(topo, st, t.start, t.end));
    let recovered_at = rec.as_ref().and_then(|r| r.recovered_at_s);
    let incident_end = recovered_at.unwrap_or(topo.duration).max(end);
    let edges = edge_amplification(topo, st, start, end);
    let metastable = rec.as_ref().is_some_and(|r| r.overload_outlived_fault);
    let (sources, role_end) = trigger.map_or((&[][..], end), |t| (&t.sources[..], t.role_end));
    let roles = roles::roles(
        topo,
        tally,
        sources,
        bucket_range(topo, 0.0, start),
        bucket_range(topo, start, role_end),
    );
    let mut mechanisms = mechanisms(topo, st, &edges, (start, end), metastable);
    if roles.values().any(|&r| r == "infected") {
        mechanisms.push("latency_contagion");
    }
    if errors_spread(&roles, sources, topo, tally, (start, role_end)) {
        mechanisms.push("error_propagation");
    }
    json!({
        "format": "cascade.truth/v1",
        "scenario": topo.name,
        "seed": st.seed,
        "time_base_unix_ns": BASE_NS.to_string(),
        "sample_rate": sample,
        "root_cause": first.as_ref().and_then(|f| f["service"].as_str()),
        "fault": first,
        "faults": faults,
        "incident": {"start_s": start, "end_s": incident_end},
        "recovery": rec,
        "mechanisms": mechanisms,
        "edges": edges,
        "roles": roles,
        "thresholds": {"amplification": AMPLIFICATION_THRESHOLD, "queue_growth_factor": QUEUE_GROWTH_FACTOR,
                       "queue_growth_floor": QUEUE_GROWTH_FLOOR,
                       "metastable_grace_s": super::recovery::METASTABLE_GRACE_S,
                       "role_latency_rise": roles::LATENCY_RISE, "role_error_rise": roles::ERROR_RISE},
    })
}

/// Errors propagated when a service other than a source failed more often in the incident
/// than before it (by the roles' error threshold).
fn errors_spread(
    roles: &std::collections::BTreeMap<String, &str>,
    sources: &[usize],
    topo: &Topology,
    tally: &VisitTally,
    (start, end): (f64, f64),
) -> bool {
    let (base, win) = (
        bucket_range(topo, 0.0, start),
        bucket_range(topo, start, end),
    );
    (0..topo.services.len())
        .filter(|s| !sources.contains(s))
        .filter(|&s| roles.get(&topo.services[s].name) != Some(&"healthy"))
        .any(|s| tally.failures_rose(s, base.clone(), win.clone()))
}

fn start_of(fault: &Value) -> f64 {
    fault["start_s"].as_f64().unwrap_or(0.0)
}

fn faults(topo: &Topology) -> Vec<Value> {
    let each = |s: &super::sim::topology::Service| -> Vec<Value> {
        s.faults
            .iter()
            .map(|f| {
                json!({"service": s.name, "start_s": f.start, "end_s": f.end,
                       "latency_multiplier": f.multiplier, "error_rate": f.error_rate})
            })
            .collect()
    };
    topo.services.iter().flat_map(each).collect()
}

/// The mechanisms this run shows, each decided by its named threshold.
fn mechanisms(
    topo: &Topology,
    st: &RunStats,
    edges: &[Value],
    window: (f64, f64),
    metastable: bool,
) -> Vec<&'static str> {
    let amp = |e: &Value| e["amplification_fault_window"].as_f64().unwrap_or(0.0);
    let win = bucket_range(topo, window.0, window.1);
    let timeouts_in_window = st
        .edges
        .iter()
        .any(|e| e.timeouts_ts[win.clone()].iter().any(|&x| x > 0));
    let checks = [
        (
            edges.iter().any(|e| amp(e) > AMPLIFICATION_THRESHOLD),
            "retry_amplification",
        ),
        (queue_grew(topo, st, window.0), "queue_growth"),
        (
            st.services.iter().any(|s| s.rejected > 0),
            "queue_overflow_rejections",
        ),
        (timeouts_in_window, "timeouts"),
        (metastable, "metastable_failure"),
    ];
    checks
        .iter()
        .filter(|(hit, _)| *hit)
        .map(|&(_, name)| name)
        .collect()
}

fn bucket_range(topo: &Topology, start: f64, end: f64) -> std::ops::Range<usize> {
    let a = ((start / topo.interval) as usize).min(topo.buckets);
    let b = ((end / topo.interval).ceil() as usize).clamp(a, topo.buckets);
    a..b
}

fn edge_amplification(topo: &Topology, st: &RunStats, start: f64, end: f64) -> Vec<Value> {
    let win = bucket_range(topo, start, end);
    let base = bucket_range(topo, 0.0, start);
    let ratio = |a: &[u32], f: &[u32]| {
        let (a, f): (u64, u64) = (
            a.iter().map(|&x| x as u64).sum(),
            f.iter().map(|&x| x as u64).sum(),
        );
        (f > 0).then(|| (a as f64 / f as f64 * 1e4).round() / 1e4)
    };
    topo.edges.iter().zip(&st.edges).map(|(e, es)| {
        json!({"caller": topo.caller_name(e), "callee": topo.services[e.to as usize].name,
               "amplification_fault_window": ratio(&es.attempts_ts[win.clone()], &es.first_ts[win.clone()]),
               "amplification_baseline": ratio(&es.attempts_ts[base.clone()], &es.first_ts[base.clone()]),
               "timeouts": es.timeouts, "retries": es.retries})
    }).collect()
}

fn queue_grew(topo: &Topology, st: &RunStats, start: f64) -> bool {
    let split = bucket_range(topo, 0.0, start).end;
    st.services.iter().any(|s| {
        let before = s.queue_ts[..split].iter().copied().max().unwrap_or(0);
        let after = s.queue_ts[split..].iter().copied().max().unwrap_or(0);
        let need = (QUEUE_GROWTH_FACTOR * before as f64).max(QUEUE_GROWTH_FLOOR as f64);
        after as f64 >= need
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_path_sits_beside_the_traces() {
        assert_eq!(
            truth_path(Path::new("/tmp/x/spans.jsonl")),
            PathBuf::from("/tmp/x/spans.truth.json")
        );
    }
}
