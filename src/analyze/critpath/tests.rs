//! Critical-path walks on hand-built traces (sequential, parallel, async, clock-skewed) and
//! the per-node aggregation on a generated incident.

use std::collections::BTreeMap;

use super::*;
use crate::analyze::graph::build_graph;
use crate::analyze::incident::windows;
use crate::analyze::testkit::{scenario, Frames, Scenario, SpanSpec};
use crate::model::columns::kind;
/// Nanoseconds per millisecond.
const NS_PER_MS: i64 = 1_000_000;

/// Critical-path ms per span id of the single trace in `f`.
fn path_ms(f: &Frames) -> BTreeMap<u64, i64> {
    let t = SpanTable::from_frame(&f.spans()).unwrap();
    let root = main_root(&t, 0..t.len()).unwrap();
    let mut out = BTreeMap::new();
    walk(&t, &t.start, root, &mut Scratch::default(), |row, ns| {
        *out.entry(t.span_id[row]).or_insert(0) += ns;
    });
    let total: i64 = out.values().sum();
    assert_eq!(total, t.duration(root), "charges add up to the root");
    out.into_iter()
        .filter(|&(_, ns)| ns > 0)
        .map(|(id, ns)| (id, ns / NS_PER_MS))
        .collect()
}

fn sp(id: u64, parent: u64, svc: &str, k: i32, a: i64, b: i64) -> SpanSpec {
    SpanSpec::new(1, id, parent, svc, k, a, b)
}

fn frames(spans: Vec<SpanSpec>) -> Frames {
    let mut f = Frames::default();
    for s in spans {
        f.push(s);
    }
    f
}

#[test]
fn sequential_children_each_hold_the_path() {
    let f = frames(vec![
        sp(1, 0, "api", kind::SERVER, 0, 100),
        sp(2, 1, "api", kind::INTERNAL, 10, 30),
        sp(3, 1, "api", kind::INTERNAL, 40, 90),
    ]);
    assert_eq!(path_ms(&f), BTreeMap::from([(1, 30), (2, 20), (3, 50)]));
}

#[test]
fn parallel_children_count_once_last_finisher_wins() {
    // 3 ends last; 2 overlaps 3's stretch and ends after 3 starts: off the path.
    let f = frames(vec![
        sp(1, 0, "api", kind::SERVER, 0, 100),
        sp(2, 1, "api", kind::CLIENT, 10, 60),
        sp(3, 1, "api", kind::CLIENT, 40, 90),
    ]);
    assert_eq!(path_ms(&f), BTreeMap::from([(1, 50), (3, 50)]));
    // 5 is nested in 4's time: 4 alone determines the end.
    let g = frames(vec![
        sp(1, 0, "api", kind::SERVER, 0, 100),
        sp(4, 1, "api", kind::CLIENT, 10, 80),
        sp(5, 1, "api", kind::CLIENT, 20, 60),
    ]);
    assert_eq!(path_ms(&g), BTreeMap::from([(1, 30), (4, 70)]));
}

#[test]
fn nested_calls_descend_into_the_chosen_child() {
    let f = frames(vec![
        sp(1, 0, "fe", kind::SERVER, 0, 100),
        sp(2, 1, "fe", kind::CLIENT, 10, 90),
        sp(3, 2, "api", kind::SERVER, 12, 88),
        sp(4, 3, "api", kind::CLIENT, 20, 30),
        sp(5, 3, "api", kind::CLIENT, 25, 80), // parallel with 4, ends later
        sp(6, 5, "db", kind::SERVER, 26, 79),
    ]);
    let want = BTreeMap::from([(1, 20), (2, 4), (3, 21), (5, 2), (6, 53), (4, 0)]);
    let want: BTreeMap<u64, i64> = want.into_iter().filter(|&(_, v)| v > 0).collect();
    assert_eq!(path_ms(&f), want);
}

#[test]
fn async_children_are_excluded() {
    // 2 is fire-and-forget: it outlives its SERVER parent. 4 starts after the parent ended.
    let f = frames(vec![
        sp(1, 0, "api", kind::SERVER, 0, 100),
        sp(2, 1, "api", kind::PRODUCER, 50, 150),
        sp(3, 1, "api", kind::INTERNAL, 10, 20),
        sp(4, 2, "worker", kind::CONSUMER, 160, 200),
    ]);
    assert_eq!(path_ms(&f), BTreeMap::from([(1, 90), (3, 10)]));
}

#[test]
fn clock_skewed_and_timed_out_children_are_clipped() {
    // 3 starts 5 ms before its client (skew): clipped to the client's start.
    let f = frames(vec![
        sp(1, 0, "fe", kind::SERVER, 0, 100),
        sp(2, 1, "fe", kind::CLIENT, 10, 90),
        sp(3, 2, "api", kind::SERVER, 5, 85),
    ]);
    assert_eq!(path_ms(&f), BTreeMap::from([(1, 20), (2, 5), (3, 75)]));
    // The caller gave up at 60 while the server carried on: the wait is the server's.
    let g = frames(vec![
        sp(1, 0, "fe", kind::SERVER, 0, 100),
        sp(2, 1, "fe", kind::CLIENT, 10, 60),
        sp(3, 2, "api", kind::SERVER, 15, 200),
    ]);
    assert_eq!(path_ms(&g), BTreeMap::from([(1, 50), (2, 5), (3, 45)]));
    // ... and its own call, cut by that clip, is still on the path (not async).
    let mut h = g.clone();
    h.push(sp(4, 3, "api", kind::CLIENT, 20, 150));
    let want = BTreeMap::from([(1, 50), (2, 5), (3, 5), (4, 40)]);
    assert_eq!(path_ms(&h), want);
}

#[test]
fn main_root_is_the_longest_root() {
    let f = frames(vec![
        sp(1, 0, "fe", kind::SERVER, 0, 50),
        sp(2, 0, "fe", kind::SERVER, 10, 100),
        sp(3, 99, "api", kind::SERVER, 20, 30), // orphan: also a root
    ]);
    let t = SpanTable::from_frame(&f.spans()).unwrap();
    assert_eq!(t.span_id[main_root(&t, 0..t.len()).unwrap()], 2);
}

#[test]
fn client_own_time_goes_to_the_callee_node() {
    let mut f = frames(vec![
        sp(1, 0, "fe", kind::SERVER, 0, 100),
        sp(2, 1, "fe", kind::CLIENT, 10, 90),
    ]);
    f.spans[1].peer = Some("redis".into());
    let t = SpanTable::from_frame(&f.spans()).unwrap();
    let g = build_graph(&t, &f.links());
    let w = windows(&t, None, None);
    let cp = critical_path(&t, &g, &w, &t.start);
    let share = |n: &str| cp.node(n).unwrap().baseline.share.unwrap();
    assert!((share("redis") - 0.8).abs() < 1e-9, "{cp:#?}");
    assert!((share("fe") - 0.2).abs() < 1e-9);
    assert_eq!(cp.baseline_traces, 1);
}

#[test]
fn push_top_keeps_the_largest_ties_by_trace() {
    let mut top = Vec::new();
    for (ns, tr) in [(5, 1), (9, 2), (5, 0), (1, 3), (7, 4), (9, 5), (2, 6)] {
        push_top(&mut top, (ns, tr));
    }
    assert_eq!(top, vec![(9, 2), (9, 5), (7, 4), (5, 0), (5, 1)]);
}

fn incident_path() -> (SpanTable, CriticalPath) {
    let f = scenario(&Scenario {
        fault: Some((240, 420)),
        ..Default::default()
    });
    let t = SpanTable::from_frame(&f.spans()).unwrap();
    let g = build_graph(&t, &f.links());
    let w = windows(&t, None, None);
    let cp = critical_path(&t, &g, &w, &t.start);
    (t, cp)
}

#[test]
fn db_share_of_the_critical_path_rises_in_the_incident() {
    let (_, cp) = incident_path();
    let db = cp.node("db").unwrap();
    let (b, i) = (
        db.baseline.share.unwrap(),
        db.incident.unwrap().share.unwrap(),
    );
    assert!(b < 0.8 && i > 0.85 && i > b + 0.1, "db share {b} → {i}");
    assert!(cp.incident_traces > 500 && cp.baseline_traces > 500);
    assert_eq!(db.top_incident_traces.len(), TOP_TRACES);
    let shares: f64 = cp.nodes.iter().filter_map(|n| n.incident?.share).sum();
    assert!((shares - 1.0).abs() < 1e-9, "shares sum to {shares}");
}

#[test]
fn result_does_not_depend_on_the_thread_count() {
    let (_, many) = incident_path();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(incident_path)
        .1;
    assert_eq!(one, many);
}

/// Single-thread throughput of the walk (run with `--ignored --nocapture`; debug builds are
/// ~20× slower than release).
#[test]
#[ignore]
fn throughput_one_thread() {
    let (t, _) = incident_path();
    let mut s = Scratch::default();
    let mut sink = 0i64;
    let t0 = std::time::Instant::now();
    let reps = 20;
    for _ in 0..reps {
        for r in &t.trace_rows {
            if let Some(root) = main_root(&t, r.start as usize..r.end as usize) {
                walk(&t, &t.start, root, &mut s, |_, ns| sink += ns);
            }
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let rate = (t.len() * reps) as f64 / secs;
    println!("critical path: {rate:.0} spans/s on one thread ({sink})");
}

/// Single-thread throughput of the whole aggregation (trace paths + per-request splits) on a
/// spans file: `CASCADE_CRITPATH_SPANS=/path/spans.jsonl cargo test --lib critpath -- --ignored
/// --nocapture`.
#[test]
#[ignore]
fn throughput_on_a_spans_file() {
    let Ok(path) = std::env::var("CASCADE_CRITPATH_SPANS") else {
        return;
    };
    let opts = crate::ingest::IngestOptions {
        traces: vec![path.into()],
        ..Default::default()
    };
    let data = crate::ingest::ingest(&opts).unwrap();
    let t = SpanTable::from_frame(&data.spans).unwrap();
    let g = build_graph(&t, &data.links);
    let w = windows(&t, None, None);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let t0 = std::time::Instant::now();
    let mut s = Scratch::default();
    let mut sink = 0i64;
    pool.install(|| {
        for r in &t.trace_rows {
            if let Some(root) = main_root(&t, r.start as usize..r.end as usize) {
                walk(&t, &t.start, root, &mut s, |row, ns| {
                    sink += ns + node_of(&t, &g, row) as i64
                });
            }
        }
    });
    let walk_s = t0.elapsed().as_secs_f64();
    let t1 = std::time::Instant::now();
    let cp = pool.install(|| critical_path(&t, &g, &w, &t.start));
    let all_s = t1.elapsed().as_secs_f64();
    println!(
        "{} spans: trace walks {:.0} spans/s; critical_path() incl. per-request splits {:.0} spans/s (one thread; {} nodes, {sink})",
        t.len(),
        t.len() as f64 / walk_s,
        t.len() as f64 / all_s,
        cp.nodes.len()
    );
}
