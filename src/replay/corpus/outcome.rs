//! What a run's users saw after its trigger, judged over pooled windows rather than single
//! buckets (a thin case has a handful of requests per second, and one slow request in a
//! bucket is not an incident): when users were served as before again, and whether the
//! overload outlived the trigger by feeding itself (a metastable failure).

use std::ops::Range;

use crate::replay::recovery::{HEALTHY_P99_FACTOR, HEALTHY_SUCCESS_FRACTION};
use crate::replay::sim::stats::p99;
use crate::replay::sim::{RunStats, Topology};
use crate::replay::truth::AMPLIFICATION_THRESHOLD;

/// Width of the windows the recovery is judged on.
const WINDOW_S: f64 = 10.0;

fn buckets(topo: &Topology, a: f64, b: f64) -> Range<usize> {
    let x = ((a / topo.interval) as usize).min(topo.buckets);
    let y = ((b / topo.interval).ceil() as usize).clamp(x, topo.buckets);
    x..y
}

/// Success ratio and p99 of the external requests completed over `r`.
fn pooled(st: &RunStats, r: Range<usize>) -> (Option<f64>, Option<f64>) {
    let ok: u64 = st.ext_ok[r.clone()].iter().map(|&x| u64::from(x)).sum();
    let fail: u64 = st.ext_fail[r.clone()].iter().map(|&x| u64::from(x)).sum();
    let mut lat: Vec<f64> = st.ext_latency[r].iter().flatten().copied().collect();
    let ratio = (ok + fail > 0).then(|| ok as f64 / (ok + fail) as f64);
    (ratio, p99(&mut lat))
}

/// Users were served as in the baseline over `r` (an empty window is healthy).
fn healthy(st: &RunStats, r: Range<usize>, base: (Option<f64>, Option<f64>)) -> bool {
    let (ratio, p) = pooled(st, r);
    let ok_ratio = match (ratio, base.0) {
        (Some(x), Some(b)) => x >= HEALTHY_SUCCESS_FRACTION * b,
        _ => true,
    };
    let ok_p99 = match (p, base.1) {
        (Some(x), Some(b)) => x <= HEALTHY_P99_FACTOR * b,
        _ => true,
    };
    ok_ratio && ok_p99
}

/// The end of the last unhealthy window after the trigger (its end when none was).
pub fn users_recovered(topo: &Topology, st: &RunStats, start: f64, end: f64) -> f64 {
    let base = pooled(st, buckets(topo, 0.0, start));
    let mut t = end;
    let mut at = end;
    while t < topo.duration {
        let next = (t + WINDOW_S).min(topo.duration);
        if !healthy(st, buckets(topo, t, next), base) {
            at = next;
        }
        t = next;
    }
    at
}

/// A metastable failure: users are still served worse than in the baseline this long
/// after the trigger ended while retries amplify the load. A backlog alone drains within
/// seconds at the utilisations the generator draws; a sustained overload fed by retries
/// does not.
const METASTABLE_LAG_S: f64 = 30.0;

/// Whether the overload outlived the trigger (`start..end`) by `METASTABLE_LAG_S`, with
/// retries amplifying some edge's load over that stretch.
pub fn metastable(topo: &Topology, st: &RunStats, start: f64, end: f64) -> bool {
    let recovered = users_recovered(topo, st, start, end);
    if recovered - end < METASTABLE_LAG_S {
        return false;
    }
    let after = buckets(topo, end, recovered);
    let sum = |v: &[u32]| -> u64 { v[after.clone()].iter().map(|&x| u64::from(x)).sum() };
    st.edges.iter().any(|e| {
        let first = sum(&e.first_ts);
        first > 0 && sum(&e.attempts_ts) as f64 > AMPLIFICATION_THRESHOLD * first as f64
    })
}
