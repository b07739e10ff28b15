//! The compact span table every analysis step reads: built once from the spans frame.
//!
//! Rows are grouped by trace (traces in first-seen order) and sorted by start time inside a
//! trace, so per-trace work is a contiguous slice that rayon can fan out over. Parents are
//! row indices, children a CSR list. Building it also counts the structural data-quality
//! problems (duplicates, orphans, end before start, parent cycles).

use std::ops::Range;

use anyhow::Result;
use polars::prelude::DataFrame;
use rayon::prelude::*;

use super::frame_read::{read_spans, RawSpans};
use super::intern::{FastMap, Interner};
use super::timerange::{span_range, StraySpan, MAX_EXAMPLES};
use crate::model::columns::kind;

/// Parent index of a root or orphan span.
pub const NO_PARENT: u32 = u32::MAX;

/// Structural problems found while building the table.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StructureCounts {
    /// Exact copies of a span (same trace, id, times, service), dropped.
    pub duplicate_copies: u64,
    /// Distinct spans sharing a span id inside a trace (kept; parents resolve to the first).
    pub duplicate_span_ids: u64,
    /// Spans whose parent id names no span of the trace (treated as roots).
    pub orphans: u64,
    /// Spans ending before they start (end clamped to start).
    pub end_before_start: u64,
    /// Parent links that closed a cycle (cut; the span becomes a root).
    pub parent_cycles: u64,
    /// Ids that were not hex.
    pub bad_ids: u64,
    /// Spans with a start or end far outside the stretch holding the rest (a bad clock, a
    /// replayed batch): set aside, so they cannot stretch the analysed range.
    #[serde(skip_serializing_if = "is_zero")]
    pub time_strays: u64,
    /// The first of them by start time.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub time_stray_examples: Vec<StraySpan>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Spans as vectors (one entry per row); see the module docs for the row order.
#[derive(Debug, Default)]
pub struct SpanTable {
    pub trace: Vec<u32>,
    pub span_id: Vec<u64>,
    pub parent: Vec<u32>,
    pub service: Vec<u32>,
    pub name: Vec<u32>,
    pub kind: Vec<u8>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub status: Vec<u8>,
    pub http_status: Vec<i32>,
    pub grpc_status: Vec<i32>,
    pub resend: Vec<i32>,
    pub peer: Vec<u32>,
    /// Instance of the span's service (pod, host; [`Interner::NONE`] when not recorded).
    pub instance: Vec<u32>,
    pub timeout: Vec<bool>,
    pub trace_ids: Vec<u128>,
    /// Row range of each trace.
    pub trace_rows: Vec<Range<u32>>,
    child_start: Vec<u32>,
    child_list: Vec<u32>,
    pub services: Interner,
    pub names: Interner,
    pub peers: Interner,
    pub instances: Interner,
    /// Rows whose failure is known only from an ERROR log record, with its message
    /// (sorted by row): the message may name the dependency that failed.
    pub logged_errors: Vec<(u32, String)>,
    pub structure: StructureCounts,
}

impl SpanTable {
    /// Builds the table from the spans frame.
    pub fn from_frame(df: &DataFrame) -> Result<SpanTable> {
        Ok(build(read_spans(df)?))
    }

    /// Number of spans.
    pub fn len(&self) -> usize {
        self.span_id.len()
    }

    /// Whether there are no spans.
    pub fn is_empty(&self) -> bool {
        self.span_id.is_empty()
    }

    /// Children of row `i`, in start order.
    pub fn children(&self, i: usize) -> &[u32] {
        let (a, b) = (
            self.child_start[i] as usize,
            self.child_start[i + 1] as usize,
        );
        &self.child_list[a..b]
    }

    /// The parent row of `i`, if any.
    pub fn parent_of(&self, i: usize) -> Option<usize> {
        let p = self.parent[i];
        (p != NO_PARENT).then_some(p as usize)
    }

    /// Duration of row `i` in nanoseconds (never negative).
    pub fn duration(&self, i: usize) -> i64 {
        self.end[i] - self.start[i]
    }

    /// Whether row `i` has error status.
    pub fn is_error(&self, i: usize) -> bool {
        self.status[i] == crate::model::columns::status::ERROR as u8
    }

    /// Whether row `i` is a SERVER or CONSUMER span (a request a service handled).
    pub fn is_server(&self, i: usize) -> bool {
        matches!(self.kind[i] as i32, kind::SERVER | kind::CONSUMER)
    }

    /// Whether row `i` is a CLIENT or PRODUCER span (an outgoing call).
    pub fn is_client(&self, i: usize) -> bool {
        matches!(self.kind[i] as i32, kind::CLIENT | kind::PRODUCER)
    }

    /// The trace id of row `i` as 32 hex digits.
    pub fn trace_hex(&self, i: usize) -> String {
        format!("{:032x}", self.trace_ids[self.trace[i] as usize])
    }

    /// The message of the ERROR log that is all that says row `i` failed, if any.
    pub fn logged_error(&self, i: usize) -> Option<&str> {
        let k = self
            .logged_errors
            .binary_search_by_key(&(i as u32), |e| e.0)
            .ok()?;
        Some(&self.logged_errors[k].1)
    }

    /// The service name of row `i`.
    pub fn service_name(&self, i: usize) -> &str {
        self.services.name(self.service[i])
    }

    /// Runs `f` on every trace's row range in parallel; results in trace order.
    pub fn par_traces<T: Send>(&self, f: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
        self.trace_rows
            .par_iter()
            .map(|r| f(r.start as usize..r.end as usize))
            .collect()
    }

    /// Earliest start and latest end over all spans (`None` when empty).
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let lo = self.start.par_iter().min()?;
        let hi = self.end.par_iter().max()?;
        Some((*lo, *hi))
    }
}

fn build(raw: RawSpans) -> SpanTable {
    let mut structure = StructureCounts {
        bad_ids: raw.bad_ids,
        ..Default::default()
    };
    let (trace_of_row, trace_ids) = intern_traces(&raw.trace_id);
    let mut order = row_order(&raw, &trace_of_row, &mut structure);
    set_aside_strays(&raw, &mut order, &mut structure);
    let mut t = permute(&raw, &trace_of_row, &order);
    t.trace_ids = trace_ids;
    t.services = raw.services;
    t.names = raw.names;
    t.peers = raw.peers;
    t.instances = raw.instances;
    structure.end_before_start = clamp_ends(&mut t.start, &mut t.end);
    t.trace_rows = trace_ranges(&t.trace);
    let parent_ids: Vec<u64> = order.iter().map(|&r| raw.parent_id[r as usize]).collect();
    resolve_parents(&mut t, &parent_ids, &mut structure);
    build_children(&mut t);
    t.structure = structure;
    t
}

/// Trace index per row (first-seen order) and the trace ids.
fn intern_traces(ids: &[u128]) -> (Vec<u32>, Vec<u128>) {
    let mut map: FastMap<u128, u32> = FastMap::default();
    let mut list = Vec::new();
    let rows = ids
        .iter()
        .map(|&id| {
            *map.entry(id).or_insert_with(|| {
                list.push(id);
                (list.len() - 1) as u32
            })
        })
        .collect();
    (rows, list)
}

/// Frame rows sorted by (trace, start, span id, frame row), exact copies dropped.
fn row_order(raw: &RawSpans, trace: &[u32], s: &mut StructureCounts) -> Vec<u32> {
    let mut order: Vec<u32> = (0..trace.len() as u32).collect();
    order.par_sort_unstable_by_key(|&r| {
        let r = r as usize;
        (trace[r], raw.start[r], raw.span_id[r], r)
    });
    let same = |a: usize, b: usize| {
        trace[a] == trace[b]
            && raw.span_id[a] == raw.span_id[b]
            && raw.start[a] == raw.start[b]
            && raw.end[a] == raw.end[b]
            && raw.service[a] == raw.service[b]
            && raw.kind[a] == raw.kind[b]
    };
    let before = order.len();
    order.dedup_by(|b, a| same(*a as usize, *b as usize));
    s.duplicate_copies = (before - order.len()) as u64;
    order
}

/// Drops the rows outside the analysed time range (see [`span_range`]), counting them and
/// keeping the earliest few as examples.
fn set_aside_strays(raw: &RawSpans, order: &mut Vec<u32>, s: &mut StructureCounts) {
    // Exact copies still in `raw` share their original's times: the range is the same.
    let Some(range) = span_range(&raw.start, &raw.end) else {
        return;
    };
    if !range.strays {
        return;
    }
    let end = |r: usize| raw.end[r].max(raw.start[r]);
    let stray = |r: usize| raw.start[r] < range.lo || end(r) > range.hi;
    let mut strays: Vec<u32> = order
        .iter()
        .copied()
        .filter(|&r| stray(r as usize))
        .collect();
    order.retain(|&r| !stray(r as usize));
    s.time_strays = strays.len() as u64;
    strays.sort_unstable_by_key(|&r| (raw.start[r as usize], r));
    s.time_stray_examples = strays
        .iter()
        .take(MAX_EXAMPLES)
        .map(|&r| {
            let r = r as usize;
            StraySpan::new(raw.trace_id[r], raw.span_id[r], raw.start[r], end(r))
        })
        .collect();
}

fn permute(raw: &RawSpans, trace: &[u32], order: &[u32]) -> SpanTable {
    fn take<T: Copy + Send + Sync>(v: &[T], order: &[u32]) -> Vec<T> {
        order.par_iter().map(|&r| v[r as usize]).collect()
    }
    SpanTable {
        trace: take(trace, order),
        span_id: take(&raw.span_id, order),
        service: take(&raw.service, order),
        name: take(&raw.name, order),
        kind: take(&raw.kind, order),
        start: take(&raw.start, order),
        end: take(&raw.end, order),
        status: take(&raw.status, order),
        http_status: take(&raw.http_status, order),
        grpc_status: take(&raw.grpc_status, order),
        resend: take(&raw.resend, order),
        peer: take(&raw.peer, order),
        instance: take(&raw.instance, order),
        timeout: take(&raw.timeout, order),
        ..Default::default()
    }
}

fn clamp_ends(start: &mut [i64], end: &mut [i64]) -> u64 {
    let mut n = 0;
    for (s, e) in start.iter().zip(end.iter_mut()) {
        if *e < *s {
            *e = *s;
            n += 1;
        }
    }
    n
}

fn trace_ranges(trace: &[u32]) -> Vec<Range<u32>> {
    let mut out: Vec<Range<u32>> = Vec::new();
    for (i, &t) in trace.iter().enumerate() {
        match out.last_mut() {
            Some(r) if trace[r.start as usize] == t => r.end = i as u32 + 1,
            _ => out.push(i as u32..i as u32 + 1),
        }
    }
    out
}

/// Per-trace parent resolution, counting duplicates, orphans and cycles.
fn resolve_parents(t: &mut SpanTable, parent_ids: &[u64], s: &mut StructureCounts) {
    let span_id = &t.span_id;
    let per_trace: Vec<(Vec<u32>, [u64; 3])> = t.par_traces(|rows| {
        let mut map: FastMap<u64, u32> =
            FastMap::with_capacity_and_hasher(rows.len(), Default::default());
        let mut dups = 0;
        for i in rows.clone() {
            if map.insert(span_id[i], i as u32).is_some() {
                dups += 1;
            }
        }
        // First occurrence wins: re-insert in reverse so earlier rows overwrite.
        for i in rows.clone().rev() {
            map.insert(span_id[i], i as u32);
        }
        let mut orphans = 0;
        let mut parents: Vec<u32> = rows
            .clone()
            .map(|i| match parent_ids[i] {
                0 => NO_PARENT,
                p => map.get(&p).copied().unwrap_or_else(|| {
                    orphans += 1;
                    NO_PARENT
                }),
            })
            .collect();
        let cycles = cut_cycles(&mut parents, rows.start);
        (parents, [dups, orphans, cycles])
    });
    t.parent = Vec::with_capacity(t.span_id.len());
    for (parents, [d, o, c]) in per_trace {
        t.parent.extend(parents);
        s.duplicate_span_ids += d;
        s.orphans += o;
        s.parent_cycles += c;
    }
}

/// Cuts every parent link that closes a cycle (`parents` holds global rows; `base` is the
/// global row of `parents[0]`). Returns how many links were cut.
fn cut_cycles(parents: &mut [u32], base: usize) -> u64 {
    const UNSEEN: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![UNSEEN; parents.len()];
    let mut cut = 0;
    let mut path = Vec::new();
    for start in 0..parents.len() {
        let mut i = start;
        while state[i] == UNSEEN {
            state[i] = ON_PATH;
            path.push(i);
            match parents[i] {
                NO_PARENT => break,
                p => {
                    let p = p as usize - base;
                    if state[p] == ON_PATH {
                        parents[i] = NO_PARENT;
                        cut += 1;
                        break;
                    }
                    i = p;
                }
            }
        }
        for &j in &path {
            state[j] = DONE;
        }
        path.clear();
    }
    cut
}

fn build_children(t: &mut SpanTable) {
    let n = t.len();
    let mut start = vec![0u32; n + 1];
    for &p in &t.parent {
        if p != NO_PARENT {
            start[p as usize + 1] += 1;
        }
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut list = vec![0u32; start[n] as usize];
    for (i, &p) in t.parent.iter().enumerate() {
        if p != NO_PARENT {
            list[fill[p as usize] as usize] = i as u32;
            fill[p as usize] += 1;
        }
    }
    t.child_start = start;
    t.child_list = list;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{Frames, SpanSpec};

    fn spec(trace: u128, id: u64, parent: u64, start_ms: i64, end_ms: i64) -> SpanSpec {
        SpanSpec::new(trace, id, parent, "svc", kind::INTERNAL, start_ms, end_ms)
    }

    #[test]
    fn groups_traces_and_links_parents_and_children() {
        let mut f = Frames::default();
        f.push(spec(2, 10, 0, 0, 100));
        f.push(spec(1, 1, 0, 5, 50));
        f.push(spec(2, 12, 10, 30, 40));
        f.push(spec(2, 11, 10, 10, 20));
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        assert_eq!(t.trace_rows.len(), 2);
        assert_eq!(t.trace_ids, vec![2, 1]);
        assert_eq!(t.span_id, vec![10, 11, 12, 1]);
        assert_eq!(t.children(0), &[1, 2]);
        assert_eq!(t.parent_of(2), Some(0));
        assert_eq!(t.parent_of(3), None);
        assert_eq!(t.structure, StructureCounts::default());
    }

    #[test]
    fn counts_structural_problems() {
        let mut f = Frames::default();
        f.push(spec(1, 1, 0, 0, 100));
        f.push(spec(1, 1, 0, 0, 100)); // exact copy
        f.push(spec(1, 2, 1, 10, 5)); // end before start
        f.push(spec(1, 2, 1, 20, 30)); // same id, different span
        f.push(spec(1, 3, 99, 10, 20)); // orphan
        f.push(spec(1, 4, 5, 10, 20)); // 4 -> 5 -> 4 cycle
        f.push(spec(1, 5, 4, 11, 20));
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let s = &t.structure;
        assert_eq!(s.duplicate_copies, 1);
        assert_eq!(s.duplicate_span_ids, 1);
        assert_eq!(s.end_before_start, 1);
        assert_eq!(s.orphans, 1);
        assert_eq!(s.parent_cycles, 1);
        assert_eq!(t.len(), 6);
        assert!(t.start.iter().zip(&t.end).all(|(s, e)| e >= s));
    }

    #[test]
    fn optional_columns_may_be_missing_but_required_ones_are_named() {
        use polars::prelude::*;
        let col = |n: &str, v: Vec<&str>| Column::from(Series::new(n.into(), v));
        let mut cols = vec![
            col(crate::model::columns::TRACE_ID, vec!["0a"]),
            col(crate::model::columns::SPAN_ID, vec!["01"]),
            col(crate::model::columns::SERVICE, vec!["api"]),
            col(crate::model::columns::NAME, vec!["GET"]),
            Series::new(crate::model::columns::KIND.into(), vec![2i32]).into(),
            Series::new(crate::model::columns::START_NS.into(), vec![5i64]).into(),
        ];
        let missing_end = DataFrame::new(1, cols.clone()).unwrap();
        let e = SpanTable::from_frame(&missing_end).unwrap_err();
        assert!(format!("{e:#}").contains("end_ns"), "{e:#}");
        cols.push(Series::new(crate::model::columns::END_NS.into(), vec![9i64]).into());
        let t = SpanTable::from_frame(&DataFrame::new(1, cols).unwrap()).unwrap();
        assert_eq!(
            (t.len(), t.status[0], t.resend[0]),
            (1, 0, crate::analyze::frame_read::ABSENT)
        );
    }

    #[test]
    fn empty_frame_gives_empty_table() {
        let t = SpanTable::from_frame(&DataFrame::default()).unwrap();
        assert!(t.is_empty());
        assert_eq!(t.time_range(), None);
    }
}
