//! Self time of every request a service handled: its duration minus the time it spent
//! waiting on other services (the union of its outgoing calls' intervals).
//!
//! For a SERVER/CONSUMER span the "waits" are its CLIENT/PRODUCER descendants reached
//! through same-service spans (INTERNAL work stays self time), and any child in another
//! service. Intervals are clipped to the span and merged, so parallel calls count once.
//! The backoff pause before a retry counts as waiting on the callee (its failure caused
//! it): a retry's wait starts where the previous attempt ended.

use rayon::prelude::*;

use super::attempts::Attempts;
use super::graph::CallGraph;
use super::table::SpanTable;

/// "Not a server span" in the self-time vector.
pub const NOT_SERVER: i64 = -1;

/// When each row's wait began: its start, or for a retry the end of the previous attempt.
pub fn wait_starts(t: &SpanTable, g: &CallGraph, a: &Attempts) -> Vec<i64> {
    let mut w = t.start.clone();
    for (ci, call) in g.calls.iter().enumerate() {
        if let Some(prev) = a.previous(ci) {
            let row = call.client as usize;
            w[row] = w[row].min(t.end[g.calls[prev].client as usize]);
        }
    }
    w
}

/// Self time in ns of each row that is a SERVER/CONSUMER span ([`NOT_SERVER`] otherwise);
/// `wait_start` from [`wait_starts`].
pub fn self_times(t: &SpanTable, wait_start: &[i64]) -> Vec<i64> {
    t.par_traces(|rows| {
        let mut waits = Vec::new();
        rows.map(|i| {
            if !t.is_server(i) {
                return NOT_SERVER;
            }
            waits.clear();
            collect_waits(t, wait_start, i, &mut waits);
            t.duration(i) - union_len(&mut waits, t.start[i], t.end[i])
        })
        .collect::<Vec<_>>()
    })
    .into_par_iter()
    .flatten()
    .collect()
}

/// Intervals of the outgoing calls below server row `s` within its service.
fn collect_waits(t: &SpanTable, wait_start: &[i64], s: usize, out: &mut Vec<(i64, i64)>) {
    let mut stack: Vec<usize> = t.children(s).iter().map(|&c| c as usize).collect();
    while let Some(c) = stack.pop() {
        if t.service[c] != t.service[s] || t.is_client(c) || t.is_server(c) {
            out.push((wait_start[c], t.end[c]));
        } else {
            stack.extend(t.children(c).iter().map(|&g| g as usize));
        }
    }
}

/// Length of the union of `iv` clipped to `[lo, hi]`.
pub fn union_len(iv: &mut [(i64, i64)], lo: i64, hi: i64) -> i64 {
    iv.sort_unstable();
    let mut total = 0;
    let mut cur: Option<(i64, i64)> = None;
    for &(a, b) in iv.iter() {
        let (a, b) = (a.max(lo), b.min(hi));
        if b <= a {
            continue;
        }
        cur = match cur {
            Some((ca, cb)) if a <= cb => Some((ca, cb.max(b))),
            Some((ca, cb)) => {
                total += cb - ca;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    total + cur.map_or(0, |(a, b)| b - a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{Frames, SpanSpec};
    use crate::model::columns::kind;

    #[test]
    fn union_merges_overlaps_and_clips() {
        let mut iv = vec![(5, 10), (0, 3), (8, 12), (20, 30)];
        assert_eq!(union_len(&mut iv, 1, 25), 2 + 7 + 5);
        assert_eq!(union_len(&mut [], 0, 10), 0);
    }

    #[test]
    fn self_time_excludes_calls_through_internal_spans() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::SERVER, 0, 100));
        f.push(SpanSpec::new(1, 2, 1, "api", kind::INTERNAL, 10, 60));
        f.push(SpanSpec::new(1, 3, 2, "api", kind::CLIENT, 20, 50));
        f.push(SpanSpec::new(1, 4, 3, "db", kind::SERVER, 21, 49));
        f.push(SpanSpec::new(1, 5, 1, "api", kind::CLIENT, 40, 70)); // overlaps call 3
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let st = self_times(&t, &t.start);
        let row = |id: u64| (0..t.len()).find(|&i| t.span_id[i] == id).unwrap();
        assert_eq!(st[row(1)], 50_000_000); // 100 − union(20..70)
        assert_eq!(st[row(4)], 28_000_000);
        assert_eq!(st[row(3)], NOT_SERVER);
    }

    #[test]
    fn retry_backoff_is_waiting_not_self_time() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::SERVER, 0, 100));
        let mut a = SpanSpec::new(1, 2, 1, "api", kind::CLIENT, 10, 40);
        a.status = crate::model::columns::status::ERROR;
        f.push(a);
        let mut b = SpanSpec::new(1, 3, 1, "api", kind::CLIENT, 60, 90);
        b.resend = Some(1);
        f.push(b);
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let g = crate::analyze::graph::build_graph(&t, &f.links());
        let at = crate::analyze::attempts::group_attempts(&t, &g);
        let st = self_times(&t, &wait_starts(&t, &g, &at));
        assert_eq!(st[0], 20_000_000); // 100 − (10..90)
    }
}
