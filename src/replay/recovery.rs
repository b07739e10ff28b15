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
    Some(recovery_between(topo, st, start, end))
}

/// Recovery of a run after a trigger (a fault, or a load surge) active over `start..end`.
pub fn recovery_between(topo: &Topology, st: &RunStats, start: f64, end: f64) -> Recovery {
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
    Recovery {
        fault_start_s: start,
        fault_end_s: end,
        baseline_success_ratio: ratio,
        baseline_p99_ms: base_p99.map(|s| s * 1000.0),
        recovered_at_s: recovered_at,
        time_to_recover_s: ttr,
        overload_outlived_fault: ttr.is_none_or(|t| t > METASTABLE_GRACE_S),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::model::{parse_model, policy::PolicySpec};

    /// 20 one-second buckets, fault 5..8 s; `ok[b]` successes and `fail[b]` failures of 10.
    fn run(ok: &[u32]) -> (Topology, RunStats) {
        let text = r#"{"duration_s":20,"arrivals":{"entry":"a","rate_per_s":10},
            "services":{"a":{"workers":1,"service_time_ms":{"dist":"constant","value":1}}},
            "faults":[{"service":"a","start_s":5,"end_s":8,"error_rate":1}]}"#;
        let t = Topology::compile(&parse_model(text).unwrap(), &PolicySpec::default());
        let mut st = RunStats::new(1, 1, 1, 20);
        for (b, &k) in ok.iter().enumerate() {
            st.ext_arrivals[b] = 10;
            st.ext_ok[b] = k;
            st.ext_fail[b] = 10 - k;
            st.ext_latency[b] = vec![0.01; 10];
        }
        (t, st)
    }

    #[test]
    fn recovers_at_the_first_bucket_of_the_final_healthy_stretch() {
        let mut ok = vec![10; 20];
        ok[5..11].iter_mut().for_each(|x| *x = 0);
        ok[12] = 0; // a relapse: recovery counts from after it
        let (t, st) = run(&ok);
        let r = recovery(&t, &st).unwrap();
        assert_eq!(
            (r.recovered_at_s, r.time_to_recover_s),
            (Some(13.0), Some(5.0))
        );
        assert!(!r.overload_outlived_fault);
    }

    #[test]
    fn never_recovering_is_a_metastable_failure() {
        let mut ok = vec![10; 20];
        ok[5..].iter_mut().for_each(|x| *x = 1);
        let (t, st) = run(&ok);
        let r = recovery(&t, &st).unwrap();
        assert_eq!(r.recovered_at_s, None);
        assert!(r.overload_outlived_fault);
    }
}
