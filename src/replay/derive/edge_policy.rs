//! The resilience policy each edge showed: attempts per logical call (the most seen),
//! timeouts (error client spans that end at one fixed duration), and the backoff between
//! attempts (the longest pause before retry k estimates the k-th delay bound; the spread
//! of the pauses tells the jitter).

use serde_json::{json, Value};

use super::frame::round;
use crate::analyze::attempts::Attempts;
use crate::analyze::graph::CallGraph;
use crate::analyze::table::SpanTable;

/// Error client spans within this distance (ns) of each other end "at one duration":
/// timers fire at their deadline to the microsecond, network jitter is wider.
pub const TIMEOUT_CLUSTER_NS: i64 = 200_000;
/// A timeout needs at least this many error spans in its cluster…
pub const TIMEOUT_MIN_SPANS: usize = 5;
/// …and at least this share of the edge's error spans.
pub const TIMEOUT_MIN_SHARE: f64 = 0.3;
/// Pauses whose shortest is under this share of the longest are full jitter `U(0, d)`.
pub const FULL_JITTER_MAX_RATIO: f64 = 0.25;
/// …under this share (and above full) equal jitter `d/2 + U(0, d/2)`; above, no jitter.
pub const EQUAL_JITTER_MAX_RATIO: f64 = 0.75;
/// Pause estimates need this many samples per retry ordinal.
pub const MIN_PAUSES: usize = 3;

/// What one edge showed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObservedPolicy {
    pub max_attempts: u32,
    pub timeout_ms: Option<f64>,
    /// Upper bound of the pause before retry k (index k-1), ms.
    pub pause_ms: Vec<f64>,
    pub jitter: &'static str,
    pub logical_calls: u64,
    pub retries: u64,
}

/// Per graph edge (in graph edge order).
pub fn observed(t: &SpanTable, g: &CallGraph, a: &Attempts) -> Vec<ObservedPolicy> {
    let n = g.edges.len();
    let mut errors: Vec<Vec<i64>> = vec![Vec::new(); n];
    let mut pauses: Vec<Vec<Vec<f64>>> = vec![Vec::new(); n];
    let mut out = vec![ObservedPolicy::default(); n];
    for members in &a.members {
        let Some(&first) = members.first() else {
            continue;
        };
        let e = g.call_edge[first as usize] as usize;
        let o = &mut out[e];
        o.max_attempts = o.max_attempts.max(members.len() as u32);
        o.logical_calls += 1;
        o.retries += members.len() as u64 - 1;
        let rows: Vec<usize> = members
            .iter()
            .map(|&m| g.calls[m as usize].client as usize)
            .collect();
        for (k, w) in rows.windows(2).enumerate() {
            if pauses[e].len() <= k {
                pauses[e].push(Vec::new());
            }
            pauses[e][k].push((t.start[w[1]] - t.end[w[0]]).max(0) as f64 / 1e6);
        }
        errors[e].extend(
            members
                .iter()
                .map(|&m| g.calls[m as usize])
                .filter(|c| abandoned(t, c))
                .map(|c| t.duration(c.client as usize)),
        );
    }
    for (e, o) in out.iter_mut().enumerate() {
        o.timeout_ms = timeout_ms(&mut errors[e]);
        (o.pause_ms, o.jitter) = backoff(&pauses[e]);
    }
    out
}

/// Whether the caller gave up on an attempt: an error client span flagged as a timeout,
/// or whose callee was still working when it ended. An error the callee answered with
/// (or a rejection without a server span) is not a timeout, however regular its duration.
fn abandoned(t: &SpanTable, c: &crate::analyze::graph::Call) -> bool {
    let r = c.client as usize;
    t.is_error(r) && (t.timeout[r] || c.server_row().is_some_and(|s| t.end[s] > t.end[r]))
}

/// The densest cluster of error durations, when it is a timer's deadline.
fn timeout_ms(durations: &mut [i64]) -> Option<f64> {
    durations.sort_unstable();
    let (mut best, mut at, mut lo) = (0usize, 0usize, 0usize);
    for hi in 0..durations.len() {
        while durations[hi] - durations[lo] > TIMEOUT_CLUSTER_NS {
            lo += 1;
        }
        if hi + 1 - lo > best {
            (best, at) = (hi + 1 - lo, lo);
        }
    }
    let enough =
        best >= TIMEOUT_MIN_SPANS && best as f64 >= TIMEOUT_MIN_SHARE * durations.len() as f64;
    // The deadline is where the cluster starts: a timer never fires early.
    enough.then(|| round(durations[at] as f64 / 1e6, 3))
}

/// Delay bounds per retry ordinal and the jitter kind.
fn backoff(pauses: &[Vec<f64>]) -> (Vec<f64>, &'static str) {
    let bounds: Vec<f64> = pauses
        .iter()
        .take_while(|p| p.len() >= MIN_PAUSES)
        .map(|p| round(p.iter().copied().fold(0.0, f64::max), 3))
        .collect();
    let jitter = match pauses.first().filter(|p| p.len() >= MIN_PAUSES) {
        None => "none",
        Some(p) => {
            let max = p.iter().copied().fold(0.0, f64::max);
            let min = p.iter().copied().fold(f64::INFINITY, f64::min);
            let r = if max > 0.0 { min / max } else { 1.0 };
            if r < FULL_JITTER_MAX_RATIO {
                "full"
            } else if r < EQUAL_JITTER_MAX_RATIO {
                "equal"
            } else {
                "none"
            }
        }
    };
    (bounds, jitter)
}

/// The policy fields of an edge for the model file (`from`/`to` added by the caller).
pub fn policy_json(o: &ObservedPolicy) -> Value {
    let mut p = json!({"timeout_ms": o.timeout_ms, "max_attempts": o.max_attempts.max(1)});
    if o.max_attempts > 1 {
        let base = o.pause_ms.first().copied().unwrap_or(0.0);
        let mult = match o.pause_ms.get(1) {
            Some(&d2) if base > 0.0 => round((d2 / base).max(1.0), 1),
            _ => 2.0,
        };
        let cap = o.pause_ms.iter().copied().fold(base, f64::max);
        // The cap is only seen when a later delay fell short of the geometric growth.
        let capped =
            o.pause_ms.len() >= 3 && o.pause_ms.iter().rev().take(2).all(|&d| d >= 0.9 * cap);
        p["backoff"] = json!({"base_ms": base, "multiplier": mult,
            "max_ms": if capped { Some(cap) } else { None }, "jitter": o.jitter});
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cluster_of_error_durations_is_a_timeout() {
        let mut d: Vec<i64> = vec![50_000_000, 50_000_010, 50_000_500, 50_001_000, 50_000_100];
        d.extend([3_000_000, 7_000_000, 12_000_000]);
        assert_eq!(timeout_ms(&mut d), Some(50.0));
        let mut spread: Vec<i64> = (0..20).map(|i| i * 5_000_000).collect();
        assert_eq!(timeout_ms(&mut spread), None);
    }

    #[test]
    fn backoff_bounds_and_jitter() {
        let full: Vec<f64> = (0..50).map(|i| i as f64 * 0.2).collect(); // 0..9.8 ms
        let second: Vec<f64> = (0..50).map(|i| i as f64 * 0.4).collect();
        let (b, j) = backoff(&[full, second]);
        assert_eq!((b, j), (vec![9.8, 19.6], "full"));
        let o = ObservedPolicy {
            max_attempts: 3,
            pause_ms: vec![10.0, 20.0],
            jitter: "full",
            ..Default::default()
        };
        let p = policy_json(&o);
        assert_eq!(p["backoff"]["multiplier"], 2.0);
        assert_eq!(p["backoff"]["max_ms"], Value::Null);
        let (_, none) = backoff(&[vec![10.0, 10.0, 10.0]]);
        assert_eq!(none, "none");
    }
}
