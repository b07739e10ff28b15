//! Engine extensions seen from the recorder: a network delay into a service lengthens its
//! callers' client spans and leaves its own spans alone; a slow pool holder makes visits
//! wait inside the service; a queue edge lets the producer go on at once; a fault in one
//! instance slows only that instance; silent errors reach the caller as OK.

use super::recorder::{AttemptRecord, Outcome, Recorder, VisitRecord};
use super::{run, Topology};
use crate::replay::model::parse_model;
use crate::replay::model::policy::PolicySpec;

#[derive(Default)]
struct Keep {
    attempts: Vec<AttemptRecord>,
    visits: Vec<VisitRecord>,
}

impl Recorder for Keep {
    const ENABLED: bool = true;
    fn attempt(&mut self, _: &Topology, r: &AttemptRecord) {
        self.attempts.push(*r);
    }
    fn visit(&mut self, _: &Topology, r: &VisitRecord) {
        self.visits.push(*r);
    }
}

/// api → db; `db` and `faults` are JSON fragments.
fn two(db: &str, call: &str, faults: &str) -> Keep {
    let text = format!(
        r#"{{"duration_s":40,"seed":5,"arrivals":{{"entry":"api","rate_per_s":50}},
        "services":{{"api":{{"workers":64,"service_time_ms":{{"dist":"lognormal","median":1,"p99":3}}}},
                    "db":{{"workers":64,"service_time_ms":{{"dist":"lognormal","median":4,"p99":12}}{db}}}}},
        "calls":[{{"from":"api","to":"db"{call}}}],
        "faults":[{faults}]}}"#
    );
    let t = Topology::compile(&parse_model(&text).unwrap(), &PolicySpec::default());
    run(&t, 5, Keep::default()).1
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Median duration (ms) of `xs` that start inside / outside 15..30 s.
fn split(xs: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let (inside, outside): (Vec<_>, Vec<_>) = xs.partition(|(s, _)| (15.0..30.0).contains(s));
    let ms = |v: Vec<(f64, f64)>| median(v.into_iter().map(|(s, e)| (e - s) * 1e3).collect());
    (ms(inside), ms(outside))
}

#[test]
fn network_delay_grows_client_spans_and_leaves_the_callee_spans_alone() {
    let k = two(
        "",
        "",
        r#"{"service":"db","start_s":15,"end_s":30,"network_delay_ms":40}"#,
    );
    let server = k.visits.iter().filter(|v| v.service == 1);
    let (s_in, s_out) = split(server.map(|v| (v.start, v.end)));
    assert!((s_in / s_out - 1.0).abs() < 0.2, "callee {s_in} vs {s_out}");
    let client = k.attempts.iter().filter(|a| a.edge == 1);
    let (c_in, c_out) = split(client.map(|a| (a.start, a.end)));
    assert!(
        (c_in - c_out - 80.0).abs() < 5.0,
        "client {c_in} vs {c_out}"
    );
}

#[test]
fn a_slow_pool_holder_makes_visits_wait_inside_the_service() {
    let pool = r#","pool":{"permits":2,"hold_ms":{"dist":"constant","value":5}}"#;
    let k = two(
        pool,
        "",
        r#"{"service":"db","start_s":15,"end_s":30,"hold_share":0.2,"hold_multiplier":40}"#,
    );
    let db: Vec<&VisitRecord> = k.visits.iter().filter(|v| v.service == 1).collect();
    let waits = |inside: bool| {
        median(
            db.iter()
                .filter(|v| (15.0..30.0).contains(&v.start) == inside)
                .map(|v| (v.wait.1 - v.wait.0) * 1e3)
                .collect(),
        )
    };
    assert!(
        waits(true) > 50.0 && waits(false) < 1.0,
        "{} {}",
        waits(true),
        waits(false)
    );
    // The wait sits inside the server span: queueing for a worker did not change.
    assert!(db.iter().all(|v| v.start <= v.wait.0 && v.wait.1 <= v.end));
}

#[test]
fn a_queue_edge_lets_the_producer_go_on() {
    let k = two(
        "",
        r#","async":true"#,
        r#"{"service":"db","start_s":15,"end_s":30,"latency_multiplier":50}"#,
    );
    let produce: Vec<f64> = k
        .attempts
        .iter()
        .filter(|a| a.edge == 1)
        .map(|a| a.end - a.start)
        .collect();
    assert!(
        produce.iter().all(|&d| d == 0.0),
        "publishing waits for nobody"
    );
    assert!(k
        .attempts
        .iter()
        .filter(|a| a.edge == 1)
        .all(|a| a.outcome == Outcome::Ok));
    let slow = k
        .visits
        .iter()
        .filter(|v| v.service == 1 && v.end - v.start > 0.1);
    assert!(slow.count() > 10, "the consumer itself slowed");
}

#[test]
fn a_fault_in_one_instance_slows_only_that_instance() {
    let k = two(
        r#","instances":3"#,
        "",
        r#"{"service":"db","start_s":15,"end_s":30,"latency_multiplier":20,"instance":1}"#,
    );
    let by = |i: u32| {
        let v = k
            .visits
            .iter()
            .filter(|v| v.service == 1 && v.instance == i);
        split(v.map(|v| (v.start, v.end)))
    };
    let ((a_in, a_out), (b_in, b_out)) = (by(0), by(1));
    assert!(b_in > 10.0 * b_out, "faulty instance {b_in} vs {b_out}");
    assert!(a_in < 2.0 * a_out, "healthy instance {a_in} vs {a_out}");
}

#[test]
fn silent_errors_reach_the_caller_as_ok() {
    let k = two(
        "",
        "",
        r#"{"service":"db","start_s":15,"end_s":30,"silent_error_rate":0.5}"#,
    );
    let calls: Vec<&AttemptRecord> = k.attempts.iter().filter(|a| a.edge == 1).collect();
    assert!(calls
        .iter()
        .all(|a| a.outcome == Outcome::Ok && a.status == 200));
    let silent = calls.iter().filter(|a| a.silent);
    assert!(silent.clone().all(|a| (15.0..30.5).contains(&a.start)));
    let n = silent.count() as f64
        / calls
            .iter()
            .filter(|a| (15.0..30.0).contains(&a.start))
            .count() as f64;
    assert!((0.4..0.6).contains(&n), "{n}");
}
