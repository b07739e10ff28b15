//! Did the system recover after the fault, and when? A bucket is healthy when its success
//! ratio and p99 are close to the pre-fault baseline; the system recovered at the first
//! bucket after the fault's end from which every later bucket is healthy. An overload that
//! is still there `METASTABLE_GRACE_S` after the fault ended outlived its trigger.

use serde::Serialize;

use super::sim::stats::{p99, RunStats};
use super::sim::Topology;

/// A healthy bucket keeps at least this fraction of the baseline success ratio.
pub const HEALTHY_SUCCESS_FRACTION: f64 = 0.95;
/// A healthy bucket's p99 is at most this multiple of the baseline p99.
pub const HEALTHY_P99_FACTOR: f64 = 5.0;
/// Still unhealthy this long after the fault ended = the overload outlived the fault
/// (metastable failure, Bronson et al. HotOS 2021 / Huang et al. OSDI 2022).
pub const METASTABLE_GRACE_S: f64 = 10.0;

/// Recovery figures of one run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Recovery {
    pub fault_start_s: f64,
    pub fault_end_s: f64,
    pub baseline_success_ratio: f64,
    pub baseline_p99_ms: Option<f64>,
    /// Start of the healthy stretch that lasts to the end of the run.
    pub recovered_at_s: Option<f64>,
    /// `recovered_at_s - fault_end_s` (0 when healthy right at the fault's end).
    pub time_to_recover_s: Option<f64>,
    pub overload_outlived_fault: bool,
}

/// Recovery of a run, or `None` when the model has no fault.
pub fn recovery(topo: &Topology, st: &RunStats) -> Option<Recovery> {
    let (start, end) = topo.fault_window()?;
    let first_fault = ((start / topo.interval) as usize).min(topo.buckets);
    let (ratio, base_p99) = baseline(st, first_fault);
    let healthy: Vec<bool> = (0..topo.buckets)
        .map(|b| bucket_healthy(st, b, ratio, base_p99))
        .collect();
    let end_bucket = ((end / topo.interval).ceil() as usize).min(topo.buckets);
    let mut from = topo.buckets;
    while from > end_bucket && healthy[from - 1] {
        from -= 1;
    }
    let recovered_at = (from < topo.buckets).then_some(from as f64 * topo.interval);
    let ttr = recovered_at.map(|t| (t - end).max(0.0));
    Some(Recovery {
        fault_start_s: start,
        fault_end_s: end,
        baseline_success_ratio: ratio,
        baseline_p99_ms: base_p99.map(|s| s * 1000.0),
        recovered_at_s: recovered_at,
        time_to_recover_s: ttr,
        overload_outlived_fault: ttr.is_none_or(|t| t > METASTABLE_GRACE_S),
    })
}

/// Success ratio and p99 of the buckets before the fault (1.0 / None when there are none).
fn baseline(st: &RunStats, until: usize) -> (f64, Option<f64>) {
    let ok: u64 = st.ext_ok[..until].iter().map(|&x| x as u64).sum();
    let fail: u64 = st.ext_fail[..until].iter().map(|&x| x as u64).sum();
    let ratio = if ok + fail == 0 {
        1.0
    } else {
        ok as f64 / (ok + fail) as f64
    };
    let mut lat: Vec<f64> = st.ext_latency[..until].iter().flatten().copied().collect();
    (ratio, p99(&mut lat))
}

fn bucket_healthy(st: &RunStats, b: usize, ratio: f64, base_p99: Option<f64>) -> bool {
    let (ok, fail) = (st.ext_ok[b] as f64, st.ext_fail[b] as f64);
    if ok + fail == 0.0 {
        return st.ext_arrivals[b] == 0;
    }
    if ok / (ok + fail) < HEALTHY_SUCCESS_FRACTION * ratio {
        return false;
    }
    let mut lat = st.ext_latency[b].clone();
    match (p99(&mut lat), base_p99) {
        (Some(p), Some(base)) => p <= HEALTHY_P99_FACTOR * base,
        _ => true,
    }
}
