//! Attempt grouping: which client spans are attempts of one logical call.
//!
//! Sibling CLIENT spans under the same parent span, to the same callee and operation, in
//! sequence, are attempts of one call. `resend_count` decides when present (0 is a new call,
//! a positive count a retry of the current one); without it a repeat counts as a retry when
//! the previous attempt failed, or as a hedge when it starts a while after the previous one
//! but before that one ended (calls started together are a parallel fan-out); a
//! repeat after a success is a new call (a loop making two queries is not retrying).

use super::intern::FastMap;

use rayon::prelude::*;

use super::frame_read::ABSENT;
use super::graph::CallGraph;
use super::table::SpanTable;

/// Logical calls over the calls of a [`CallGraph`].
#[derive(Debug, Default)]
pub struct Attempts {
    /// Logical call of each call (indexed like `CallGraph::calls`).
    pub group: Vec<u32>,
    /// 0 for the first attempt of its logical call, 1 for the first retry, …
    pub ordinal: Vec<u32>,
    /// Calls of each logical call, in order.
    pub members: Vec<Vec<u32>>,
}

impl Attempts {
    /// Number of logical calls.
    pub fn logical_calls(&self) -> usize {
        self.members.len()
    }

    /// The attempt before call `c` in its logical call, if `c` is a retry.
    pub fn previous(&self, c: usize) -> Option<usize> {
        let ord = self.ordinal[c] as usize;
        let m = &self.members[self.group[c] as usize];
        (ord > 0).then(|| m[ord - 1] as usize)
    }
}

/// Groups the calls into logical calls, trace by trace.
pub fn group_attempts(t: &SpanTable, g: &CallGraph) -> Attempts {
    let ranges = call_ranges(t, g);
    let per_trace: Vec<Vec<Vec<u32>>> = ranges
        .par_iter()
        .map(|r| group_trace(t, g, r.clone()))
        .collect();
    let mut a = Attempts {
        group: vec![0; g.calls.len()],
        ordinal: vec![0; g.calls.len()],
        members: Vec::new(),
    };
    for groups in per_trace {
        for members in groups {
            let id = a.members.len() as u32;
            for (k, &c) in members.iter().enumerate() {
                a.group[c as usize] = id;
                a.ordinal[c as usize] = k as u32;
            }
            a.members.push(members);
        }
    }
    a
}

/// Call index range of each trace (calls are in client-row order, traces are row ranges).
fn call_ranges(t: &SpanTable, g: &CallGraph) -> Vec<std::ops::Range<usize>> {
    t.trace_rows
        .iter()
        .map(|r| {
            let lo = g.calls.partition_point(|c| c.client < r.start);
            let hi = g.calls.partition_point(|c| c.client < r.end);
            lo..hi
        })
        .collect()
}

/// The logical calls of one trace (lists of call indices), in order of their first attempt.
fn group_trace(t: &SpanTable, g: &CallGraph, calls: std::ops::Range<usize>) -> Vec<Vec<u32>> {
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut current: FastMap<(u32, u32, u32), usize> = FastMap::default();
    for ci in calls {
        let c = g.calls[ci];
        let row = c.client as usize;
        let Some(parent) = t.parent_of(row) else {
            groups.push(vec![ci as u32]);
            continue;
        };
        let key = (parent as u32, c.callee, t.name[row]);
        let joined = current.get(&key).copied().filter(|&gi| {
            let prev = groups[gi]
                .last()
                .map_or(row, |&p| g.calls[p as usize].client as usize);
            is_retry_of(t, row, prev)
        });
        match joined {
            Some(gi) => groups[gi].push(ci as u32),
            None => {
                current.insert(key, groups.len());
                groups.push(vec![ci as u32]);
            }
        }
    }
    groups
}

/// Whether client row `c` repeats client row `prev` (retry or hedge) rather than making a
/// new call.
fn is_retry_of(t: &SpanTable, c: usize, prev: usize) -> bool {
    match t.resend[c] {
        ABSENT if t.start[c] >= t.end[prev] => t.is_error(prev),
        ABSENT => t.start[c] - t.start[prev] >= HEDGE_MIN_DELAY_NS,
        n => n > 0,
    }
}

/// An overlapping repeat is a hedge only when it started this long after the attempt it
/// repeats: hedging fires after a delay (typically the callee's p95, tens of ms), while a
/// parallel fan-out to the same operation starts its calls together.
const HEDGE_MIN_DELAY_NS: i64 = 5_000_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::graph::build_graph;
    use crate::analyze::testkit::{Frames, SpanSpec};
    use crate::model::columns::{kind, status};

    fn client(id: u64, s: i64, e: i64, resend: Option<i32>, err: bool) -> SpanSpec {
        let mut c = SpanSpec::new(1, id, 1, "api", kind::CLIENT, s, e);
        c.resend = resend;
        c.peer = Some("db".into());
        if err {
            c.status = status::ERROR;
        }
        c
    }

    fn groups_of(spans: Vec<SpanSpec>) -> Vec<Vec<u32>> {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::SERVER, 0, 1000));
        spans.into_iter().for_each(|s| f.push(s));
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let g = build_graph(&t, &f.links());
        group_attempts(&t, &g).members
    }

    #[test]
    fn resend_count_decides_when_present() {
        let g = groups_of(vec![
            client(2, 0, 50, Some(0), true),
            client(3, 60, 110, Some(1), true),
            client(4, 120, 130, Some(2), false),
            client(5, 200, 210, Some(0), false),
        ]);
        assert_eq!(g, vec![vec![0, 1, 2], vec![3]]);
    }

    #[test]
    fn without_resend_count_failures_and_overlaps_make_retries() {
        let g = groups_of(vec![
            client(2, 0, 50, None, true),   // failed
            client(3, 60, 70, None, false), // retry of 2
            client(4, 80, 90, None, false), // after a success: new call
            client(5, 87, 95, None, false), // overlaps 4, 7 ms later: hedge
        ]);
        assert_eq!(g, vec![vec![0, 1], vec![2, 3]]);
        let fan_out = groups_of(vec![
            client(2, 0, 50, None, true),
            client(3, 1, 40, None, false),
            client(4, 1, 45, None, false),
        ]);
        assert_eq!(fan_out, vec![vec![0], vec![1], vec![2]]);
    }
}
