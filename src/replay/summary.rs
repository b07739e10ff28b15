//! Outputs of a simulation run: the summary document (the peer's summary.json fields plus
//! per-edge amplification over time, per-service peak queue and the recovery figures), the
//! mean over several seeds, and `timeseries.csv` with the peer's columns.

use serde_json::{json, Map, Value};

use super::recovery::recovery;
use super::sim::stats::{p99, RunStats};
use super::sim::Topology;

/// Format tag of the summary document.
pub const SUMMARY_FORMAT: &str = "cascade.simulate/v1";

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// The summary of one run (deterministic: no wall time in it).
pub fn summary(topo: &Topology, st: &RunStats) -> Value {
    let ev = &st.events;
    let sum = |xs: &[u32]| xs.iter().map(|&x| x as u64).sum::<u64>();
    let mut all: Vec<f64> = st.ext_latency.iter().flatten().copied().collect();
    json!({
        "format": SUMMARY_FORMAT,
        "scenario": topo.name,
        "duration_s": topo.duration,
        "seed": st.seed,
        "events": ev.total(),
        "events_by_type": {"arrival": ev.arrival, "queue_entry": ev.queue_entry,
            "service_start": ev.service_start, "service_end": ev.service_end,
            "timeout": ev.timeout, "retry": ev.retry},
        "external": {"arrivals": sum(&st.ext_arrivals), "successes": sum(&st.ext_ok),
            "failures": sum(&st.ext_fail), "p99_ms": p99(&mut all).map(|s| round(s * 1000.0, 3))},
        "edges": edges(topo, st),
        "services": services(topo, st),
        "recovery": recovery(topo, st),
    })
}

fn edges(topo: &Topology, st: &RunStats) -> Value {
    let mut m = Map::new();
    for (e, es) in topo.edges.iter().zip(&st.edges) {
        let attempts = es.attempts();
        let amp = (es.first > 0).then(|| round(attempts as f64 / es.first as f64, 4));
        let amp_ts: Vec<Option<f64>> = es
            .attempts_ts
            .iter()
            .zip(&es.first_ts)
            .map(|(&a, &f)| (f > 0).then(|| round(a as f64 / f as f64, 3)))
            .collect();
        m.insert(e.name.clone(), json!({
            "first_attempts": es.first, "attempts": attempts, "retries": es.retries,
            "timeouts": es.timeouts, "amplification": amp, "local_rejects": es.local_rejects,
            "retries_denied": es.retries_denied, "hedges": es.hedges, "amplification_ts": amp_ts,
        }));
    }
    Value::Object(m)
}

fn services(topo: &Topology, st: &RunStats) -> Value {
    let mut m = Map::new();
    for (s, ss) in topo.services.iter().zip(&st.services) {
        let last = topo.buckets - 1;
        m.insert(
            s.name.clone(),
            json!({
                "arrivals": ss.arrivals, "rejected": ss.rejected,
                "final_inflight": ss.inflight_ts[last], "final_queue": ss.queue_ts[last],
                "max_queue": ss.queue_ts.iter().copied().max().unwrap_or(0),
                "peak_queue": ss.peak_queue, "deadline_dropped": ss.deadline_dropped,
                "codel_dropped": ss.codel_dropped,
            }),
        );
    }
    Value::Object(m)
}

/// Mean over seeds of the headline figures (ok, failed, events, p99, amplification).
pub fn seeds_mean(topo: &Topology, runs: &[RunStats]) -> Value {
    let n = runs.len().max(1) as f64;
    let mean = |f: &dyn Fn(&RunStats) -> f64| runs.iter().map(f).sum::<f64>() / n;
    let sum = |xs: &[u32]| xs.iter().map(|&x| x as f64).sum::<f64>();
    let p99_ms = |st: &RunStats| {
        let mut all: Vec<f64> = st.ext_latency.iter().flatten().copied().collect();
        p99(&mut all).unwrap_or(0.0) * 1000.0
    };
    let mut amp = Map::new();
    for (i, e) in topo.edges.iter().enumerate() {
        // Mean over the runs where the edge carried calls; null when it never did.
        let amps: Vec<f64> = runs
            .iter()
            .map(|st| &st.edges[i])
            .filter(|es| es.first > 0)
            .map(|es| es.attempts() as f64 / es.first as f64)
            .collect();
        let a = (!amps.is_empty()).then(|| round(amps.iter().sum::<f64>() / amps.len() as f64, 4));
        amp.insert(e.name.clone(), json!(a));
    }
    let recovered = runs
        .iter()
        .filter(|st| recovery(topo, st).is_some_and(|r| !r.overload_outlived_fault))
        .count();
    json!({
        "seeds": runs.iter().map(|r| r.seed).collect::<Vec<_>>(),
        "successes": round(mean(&|st| sum(&st.ext_ok)), 2),
        "failures": round(mean(&|st| sum(&st.ext_fail)), 2),
        "events": round(mean(&|st| st.events.total() as f64), 1),
        "p99_ms": round(mean(&p99_ms), 3),
        "amplification": amp,
        "runs_recovered": recovered,
    })
}

/// `timeseries.csv` text with the peer's columns, in the peer's order.
pub fn timeseries_csv(topo: &Topology, st: &RunStats) -> String {
    let mut cols = vec![
        "t_s".to_string(),
        "arrivals".into(),
        "successes".into(),
        "failures".into(),
        "p99_ms".into(),
    ];
    cols.extend(topo.services.iter().map(|s| format!("{}.inflight", s.name)));
    cols.extend(topo.services.iter().map(|s| format!("{}.queue", s.name)));
    cols.extend(topo.edges.iter().map(|e| format!("attempts.{}", e.name)));
    // Service and edge names come from the model (derived from traces): cells, not markup.
    let cols: Vec<String> = cols.iter().map(|c| crate::report::escape::csv(c)).collect();
    let mut out = cols.join(",");
    out.push('\n');
    for b in 0..topo.buckets {
        out.push_str(&row(topo, st, b).join(","));
        out.push('\n');
    }
    out
}

fn row(topo: &Topology, st: &RunStats, b: usize) -> Vec<String> {
    let mut lat = st.ext_latency[b].clone();
    let p = p99(&mut lat).map_or(String::new(), |s| format!("{:.3}", s * 1000.0));
    let mut r = vec![
        format!("{}", b as f64 * topo.interval),
        st.ext_arrivals[b].to_string(),
        st.ext_ok[b].to_string(),
        st.ext_fail[b].to_string(),
        p,
    ];
    r.extend(st.services.iter().map(|s| s.inflight_ts[b].to_string()));
    r.extend(st.services.iter().map(|s| s.queue_ts[b].to_string()));
    r.extend(st.edges.iter().map(|e| e.attempts_ts[b].to_string()));
    r
}
