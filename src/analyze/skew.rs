//! Clock-skew detection and correction across services, in the manner of Jaeger's adjuster.
//!
//! A SERVER child of a CLIENT span in another service whose start lies outside the
//! client's interval by more than the client's own duration cannot be explained by network
//! delay or a caller that
//! gave up early (a child may outlive its parent, but it cannot start long before it or
//! long after it): its service's clock is off. We shift that child — and every descendant
//! in the same service, which shares its clock — so that it sits centred inside the parent
//! (or starts with it, when it is longer), as Jaeger's `clockSkewAdjuster` does.

use std::collections::BTreeMap;

use super::table::SpanTable;

/// What skew correction found and did.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SkewCounts {
    /// Cross-service parent → child links whose child sat outside the parent.
    pub skewed_links: u64,
    /// Spans whose times were shifted.
    pub shifted_spans: u64,
    /// Shifted spans per service.
    pub shifted_by_service: BTreeMap<String, u64>,
    /// Largest absolute shift applied, nanoseconds.
    pub max_shift_ns: i64,
}

/// Detects skew per trace and shifts the affected spans in place.
pub fn correct_skew(t: &mut SpanTable) -> SkewCounts {
    let shifts: Vec<(Vec<i64>, u64)> = t.par_traces(|rows| trace_shifts(t, rows));
    let mut counts = SkewCounts::default();
    let mut by_service: BTreeMap<u32, u64> = BTreeMap::new();
    let mut row = 0usize;
    for (per_row, links) in shifts {
        counts.skewed_links += links;
        for d in per_row {
            if d != 0 {
                t.start[row] += d;
                t.end[row] += d;
                counts.shifted_spans += 1;
                counts.max_shift_ns = counts.max_shift_ns.max(d.abs());
                *by_service.entry(t.service[row]).or_default() += 1;
            }
            row += 1;
        }
    }
    counts.shifted_by_service = by_service
        .into_iter()
        .map(|(s, n)| (t.services.name(s).to_string(), n))
        .collect();
    counts
}

/// Shift per row of one trace (relative to `rows.start`) and the number of skewed links.
fn trace_shifts(t: &SpanTable, rows: std::ops::Range<usize>) -> (Vec<i64>, u64) {
    let base = rows.start;
    let mut shift = vec![0i64; rows.len()];
    let mut links = 0;
    let mut stack: Vec<usize> = rows.clone().filter(|&i| t.parent_of(i).is_none()).collect();
    while let Some(p) = stack.pop() {
        let (ps, pe) = (t.start[p] + shift[p - base], t.end[p] + shift[p - base]);
        for &c in t.children(p) {
            let c = c as usize;
            shift[c - base] = if t.service[c] == t.service[p] {
                shift[p - base]
            } else if !is_sync_call(t, p, c) {
                0
            } else {
                let gave_up = t.status[p] as i32 == crate::model::columns::status::ERROR;
                let d = skew_delta(ps, pe, t.start[c], t.end[c], gave_up);
                links += u64::from(d != 0);
                d
            };
            stack.push(c);
        }
    }
    (shift, links)
}

/// A synchronous call: CLIENT parent, SERVER child. A CONSUMER may legitimately start long
/// after its PRODUCER ended (the message waited in a queue), so messaging is never skew.
fn is_sync_call(t: &SpanTable, p: usize, c: usize) -> bool {
    use crate::model::columns::kind;
    t.kind[p] as i32 == kind::CLIENT && t.kind[c] as i32 == kind::SERVER
}

/// The shift that puts child `[cs, ce]` inside parent `[ps, pe]`, or 0 when the child's
/// start lies within the parent widened by the parent's own duration on each side.
///
/// When the client failed (`gave_up`: it timed out or was cancelled), a server that starts
/// long after the client ended is what queueing at the callee looks like — the request
/// waited for a worker after its caller had stopped waiting — so only an early start counts
/// as skew then. A client that got an answer cannot have ended before its server started.
fn skew_delta(ps: i64, pe: i64, cs: i64, ce: i64, gave_up: bool) -> i64 {
    let pdur = pe - ps;
    let late_ok = gave_up || cs <= pe + pdur;
    if cs >= ps - pdur && late_ok {
        return 0;
    }
    let cdur = ce - cs;
    let lead = ((pdur - cdur) / 2).max(0);
    ps + lead - cs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{Frames, SpanSpec};
    use crate::model::columns::kind;

    #[test]
    fn child_far_before_its_parent_is_centred_with_its_subtree() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::CLIENT, 1000, 1010));
        f.push(SpanSpec::new(1, 2, 1, "db", kind::SERVER, 0, 6)); // db clock 1 s behind
        f.push(SpanSpec::new(1, 3, 2, "db", kind::INTERNAL, 1, 3));
        let mut t = SpanTable::from_frame(&f.spans()).unwrap();
        let c = correct_skew(&mut t);
        assert_eq!(c.skewed_links, 1);
        assert_eq!(c.shifted_spans, 2);
        assert_eq!(c.shifted_by_service.get("db"), Some(&2));
        let db = (0..3).find(|&i| t.span_id[i] == 2).unwrap();
        let inner = (0..3).find(|&i| t.span_id[i] == 3).unwrap();
        let ms = |ns: i64| (ns - crate::analyze::testkit::T0) / 1_000_000;
        assert_eq!((ms(t.start[db]), ms(t.end[db])), (1002, 1008));
        assert_eq!((ms(t.start[inner]), ms(t.end[inner])), (1003, 1005));
    }

    #[test]
    fn a_consumer_long_after_its_producer_is_queueing_not_skew() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "checkout", kind::PRODUCER, 0, 2));
        f.push(SpanSpec::new(
            1,
            2,
            1,
            "fulfillment",
            kind::CONSUMER,
            500,
            520,
        ));
        let mut t = SpanTable::from_frame(&f.spans()).unwrap();
        assert_eq!(correct_skew(&mut t), SkewCounts::default());
    }

    #[test]
    fn a_server_outliving_its_timed_out_client_is_not_skew() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::CLIENT, 0, 30));
        f.push(SpanSpec::new(1, 2, 1, "db", kind::SERVER, 1, 80));
        f.push(SpanSpec::new(1, 3, 0, "api", kind::CLIENT, 100, 110));
        f.push(SpanSpec::new(1, 4, 3, "db", kind::SERVER, 99, 109)); // 1 ms early: jitter
        let mut t = SpanTable::from_frame(&f.spans()).unwrap();
        let before = t.start.clone();
        assert_eq!(correct_skew(&mut t), SkewCounts::default());
        assert_eq!(t.start, before);
    }

    /// Regression: in a metastable retry storm, db server spans start seconds after their
    /// timed-out client spans (they waited in db's queue); that is not clock skew.
    #[test]
    fn a_server_queued_long_after_its_timed_out_client_is_not_skew() {
        let mut f = Frames::default();
        let mut client = SpanSpec::new(1, 1, 0, "inventory", kind::CLIENT, 0, 100);
        client.status = crate::model::columns::status::ERROR;
        f.push(client);
        f.push(SpanSpec::new(1, 2, 1, "db", kind::SERVER, 5_000, 5_040));
        let mut t = SpanTable::from_frame(&f.spans()).unwrap();
        assert_eq!(correct_skew(&mut t), SkewCounts::default());
    }
}
