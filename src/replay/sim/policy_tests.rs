//! Policy tests: each policy, switched on in a small two-tier model with a fault, does what
//! its source says (retries amplify, a budget caps them, gRPC throttling stops them, a
//! breaker fails fast and closes again, adaptive throttling rejects locally, deadlines drop
//! wasted work, CoDel sheds a standing queue, a bulkhead caps concurrency, hedging cuts the
//! tail). Plus determinism: same seed, same output.

use crate::replay::model::parse_model;
use crate::replay::model::policy::PolicySpec;
use crate::replay::sim::{run, NoRecorder, RunStats, Topology};
use crate::replay::summary::summary;

/// api (64 workers) → db (8 workers, 4 ms median); 200 req/s for 60 s; `fault` on db;
/// `policy` (a JSON object) on the edge api → db only.
fn model(db: &str, policy: &str, fault: &str) -> Topology {
    let edge = format!(
        r#"{{"from":"api","to":"db",{}"#,
        policy.trim_start_matches('{')
    );
    let text = format!(
        r#"{{"name":"two_tier","duration_s":60,"seed":3,
        "arrivals":{{"entry":"api","rate_per_s":200}},
        "services":{{"api":{{"workers":64,"service_time_ms":{{"dist":"lognormal","median":1,"p99":4}}}},
                    "db":{db}}},
        "calls":[{{"from":"api","to":"db","count":1}}],
        "policies":{{"edges":[{edge}]}},
        "faults":[{fault}]}}"#
    );
    let m = parse_model(&text).unwrap_or_else(|e| panic!("{e:#}"));
    Topology::compile(&m, &PolicySpec::default())
}

const DB: &str = r#"{"workers":8,"service_time_ms":{"dist":"lognormal","median":4,"p99":12}}"#;
const DB_DOWN: &str = r#"{"service":"db","start_s":10,"end_s":30,"error_rate":1.0}"#;
const DB_SLOW: &str = r#"{"service":"db","start_s":10,"end_s":30,"latency_multiplier":20}"#;
const RETRY4: &str = r#"{"timeout_ms":200,"max_attempts":4,"backoff":{"base_ms":1,"max_ms":10}"#;

fn go(t: &Topology) -> RunStats {
    run(t, 3, NoRecorder).0
}

fn amp(st: &RunStats) -> f64 {
    let e = &st.edges[1];
    e.attempts() as f64 / e.first as f64
}

fn ok(st: &RunStats, from_bucket: usize) -> u32 {
    st.ext_ok[from_bucket..].iter().sum()
}

#[test]
fn retries_amplify_and_a_budget_caps_them() {
    let plain = go(&model(DB, &format!("{RETRY4}}}"), DB_DOWN));
    // 40 s at 1 attempt per call + 20 s at 4 attempts per call ≈ 2.0.
    assert!(
        (1.8..2.2).contains(&amp(&plain)),
        "plain amplification {}",
        amp(&plain)
    );
    let budget = go(&model(
        DB,
        &format!(r#"{RETRY4},"retry_budget_ratio":0.1,"retry_budget_burst":10}}"#),
        DB_DOWN,
    ));
    let e = &budget.edges[1];
    assert!(
        e.retries as f64 <= 0.1 * e.first as f64 + 10.0,
        "budget let {} retries for {} calls",
        e.retries,
        e.first
    );
    assert!(e.retries_denied > 1000, "{}", e.retries_denied);
}

#[test]
fn grpc_throttling_stops_retries_below_half_the_tokens() {
    let st = go(&model(
        DB,
        &format!(r#"{RETRY4},"retry_throttle":{{"max_tokens":10,"token_ratio":0.1}}}}"#),
        DB_DOWN,
    ));
    let e = &st.edges[1];
    // 10 tokens, retries stop at <= 5: a handful of retries, then none during the fault.
    assert!(e.retries < 20, "{} retries", e.retries);
    assert!(amp(&st) < 1.01, "{}", amp(&st));
    assert!(
        ok(&st, 35) > 4500,
        "recovers after the fault: {}",
        ok(&st, 35)
    );
}

#[test]
fn breaker_fails_fast_then_closes_again() {
    let off = go(&model(DB, r#"{"timeout_ms":200}"#, DB_DOWN));
    let on = go(&model(DB, r#"{"timeout_ms":200,"breaker":{}}"#, DB_DOWN));
    assert!(
        on.edges[1].local_rejects > 2000,
        "{}",
        on.edges[1].local_rejects
    );
    // While open, db sees far fewer attempts than without the breaker.
    assert!(on.services[1].arrivals * 10 < off.services[1].arrivals * 9);
    // After the fault (30 s) plus one sleep window (5 s), the breaker closed again.
    assert!(ok(&on, 40) > 3700, "{}", ok(&on, 40));
}

#[test]
fn adaptive_throttling_rejects_locally_with_sre_probability() {
    let st = go(&model(
        DB,
        r#"{"timeout_ms":200,"adaptive_throttle":{"k":2,"window_s":10}}"#,
        DB_DOWN,
    ));
    let e = &st.edges[1];
    assert!(e.local_rejects > 2000, "{}", e.local_rejects);
    // Late in the fault every request fails, so P = (requests - 2 accepts) / (requests + 1)
    // approaches 1: almost nothing reaches db.
    let sent: u32 = e.attempts_ts[20..30].iter().sum();
    let asked: u32 = e.first_ts[20..30].iter().sum();
    assert!(
        sent * 20 < asked,
        "{sent} of {asked} sent late in the fault"
    );
    // Before the fault accepts ≈ requests, so P = 0: nothing was rejected.
    assert_eq!(e.attempts_ts[..10], e.first_ts[..10]);
}

#[test]
fn deadline_propagation_drops_work_nobody_waits_for() {
    let slow = |p: &str| go(&model(DB, p, DB_SLOW));
    let off = slow(r#"{"timeout_ms":50,"max_attempts":2}"#);
    let on = slow(r#"{"timeout_ms":50,"max_attempts":2,"deadline_propagation":true}"#);
    assert_eq!(off.services[1].deadline_dropped, 0);
    assert!(
        on.services[1].deadline_dropped > 1000,
        "{}",
        on.services[1].deadline_dropped
    );
    assert!(
        on.services[1].peak_queue < off.services[1].peak_queue,
        "{} vs {}",
        on.services[1].peak_queue,
        off.services[1].peak_queue
    );
}

#[test]
fn codel_sheds_a_standing_queue() {
    let codel_db =
        r#"{"workers":8,"service_time_ms":{"dist":"lognormal","median":4,"p99":12},"codel":{}}"#;
    let off = go(&model(DB, r#"{"timeout_ms":null}"#, DB_SLOW));
    let on = go(&model(codel_db, r#"{"timeout_ms":null}"#, DB_SLOW));
    assert!(
        on.services[1].codel_dropped > 500,
        "{}",
        on.services[1].codel_dropped
    );
    let (a, b) = (on.services[1].peak_queue, off.services[1].peak_queue);
    assert!(a < b, "peak queue {a} with CoDel vs {b} without");
}

#[test]
fn static_bulkhead_caps_in_flight_attempts() {
    let st = go(&model(
        DB,
        r#"{"timeout_ms":null,"concurrency_limit":{"kind":"static","limit":4}}"#,
        DB_SLOW,
    ));
    assert!(
        st.edges[1].local_rejects > 500,
        "{}",
        st.edges[1].local_rejects
    );
    // Never more than 4 in flight on the edge, so db never queues beyond its 8 workers.
    assert_eq!(st.services[1].peak_queue, 0);
}

#[test]
fn hedging_cuts_the_tail() {
    let tail_db = r#"{"workers":64,"service_time_ms":{"dist":"lognormal","median":2,"p99":200}}"#;
    let p99 = |st: &RunStats| {
        let mut xs: Vec<f64> = st.ext_latency.iter().flatten().copied().collect();
        crate::replay::sim::stats::p99(&mut xs).unwrap_or(0.0)
    };
    let no_fault = r#"{"service":"db","start_s":10,"end_s":11}"#;
    let off = go(&model(tail_db, r#"{"timeout_ms":null}"#, no_fault));
    let hedged = r#"{"timeout_ms":null,"hedge":{"percentile":0.9}}"#;
    let on = go(&model(tail_db, hedged, no_fault));
    assert!(on.edges[1].hedges > 500, "{}", on.edges[1].hedges);
    assert!(p99(&on) < 0.8 * p99(&off), "{} vs {}", p99(&on), p99(&off));
}

#[test]
fn same_seed_same_output_and_seed_order_kept_in_parallel() {
    let t = model(DB, &format!("{RETRY4}}}"), DB_SLOW);
    let a = summary(&t, &go(&t));
    let b = summary(&t, &go(&t));
    assert_eq!(a.to_string(), b.to_string());
    let (par, _) = crate::replay::simulate::run_seeds(&t, &[3, 4]);
    assert_eq!(summary(&t, &par[0]).to_string(), a.to_string());
    assert_ne!(summary(&t, &par[1]).to_string(), a.to_string());
}

#[test]
fn aimd_limit_shrinks_when_attempts_time_out() {
    let aimd = r#"{"timeout_ms":50,"concurrency_limit":{"kind":"aimd","limit":50}}"#;
    let fixed = r#"{"timeout_ms":50,"concurrency_limit":{"kind":"static","limit":50}}"#;
    let a = go(&model(DB, aimd, DB_SLOW));
    let s = go(&model(DB, fixed, DB_SLOW));
    // ×0.9 per timeout drives the limit far below 50; the static bulkhead never binds.
    assert_eq!(s.edges[1].local_rejects, 0);
    assert!(
        a.edges[1].local_rejects > 500,
        "{}",
        a.edges[1].local_rejects
    );
}

#[test]
fn bounded_queue_rejects_at_its_limit() {
    let bounded = r#"{"workers":8,"queue_limit":5,"service_time_ms":{"dist":"lognormal","median":4,"p99":12}}"#;
    let st = go(&model(bounded, r#"{"timeout_ms":null}"#, DB_SLOW));
    assert!(st.services[1].rejected > 500, "{}", st.services[1].rejected);
    assert_eq!(st.services[1].peak_queue, 5);
}

#[test]
fn service_policy_sits_between_default_and_edge() {
    let text = r#"{"duration_s":1,"arrivals":{"entry":"a","rate_per_s":1},
        "services":{"a":{"workers":1,"service_time_ms":{"dist":"constant","value":1}},
                    "b":{"workers":1,"service_time_ms":{"dist":"constant","value":1}},
                    "c":{"workers":1,"service_time_ms":{"dist":"constant","value":1}}},
        "calls":[{"from":"a","to":"b"},{"from":"a","to":"c"}],
        "policies":{"default":{"max_attempts":2,"timeout_ms":100},
                    "services":{"a":{"max_attempts":3}},
                    "edges":[{"from":"a","to":"c","max_attempts":4}]}}"#;
    let t = Topology::compile(&parse_model(text).unwrap(), &PolicySpec::default());
    let attempts: Vec<(String, u32)> = t
        .edges
        .iter()
        .map(|e| (e.name.clone(), e.policy.max_attempts))
        .collect();
    assert_eq!(
        attempts,
        [
            ("client->a".to_string(), 2),
            ("a->b".into(), 3),
            ("a->c".into(), 4)
        ]
    );
    assert!(t.edges.iter().all(|e| e.policy.timeout == Some(0.1)));
    let bad = text.replace(r#"{"a":{"max_attempts""#, r#"{"zz":{"max_attempts""#);
    assert!(format!("{:#}", parse_model(&bad).unwrap_err())
        .contains("policies.services.zz: unknown service"));
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let t = model(DB, &format!("{RETRY4}}}"), DB_SLOW);
    let seeds = [1, 2, 3, 4];
    let with = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        let (runs, _) = pool.install(|| crate::replay::simulate::run_seeds(&t, &seeds));
        runs.iter()
            .map(|r| summary(&t, r).to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(with(1), with(3));
}

#[test]
fn vegas_limit_backs_off_when_latency_rises() {
    let vegas = r#"{"timeout_ms":null,"concurrency_limit":{"kind":"vegas","limit":20}}"#;
    let st = go(&model(DB, vegas, DB_SLOW));
    let e = &st.edges[1];
    // Healthy: (almost) no rejects before the fault; the ×20 latency makes rtt/rtt_min
    // large, so the estimated queue exceeds beta and the limit shrinks, rejecting locally.
    let asked: u32 = e.first_ts[..10].iter().sum();
    let sent: u32 = e.attempts_ts[..10].iter().sum();
    assert!(
        asked - sent < asked / 100,
        "{} rejected before the fault",
        asked - sent
    );
    assert!(e.local_rejects > 500, "{}", e.local_rejects);
}

#[test]
fn exact_arrival_instants_are_replayed() {
    let text = r#"{"duration_s":2,"arrivals":{"entry":"a","times_s":[0.1,0.1,0.5,1.5,2.5]},
        "services":{"a":{"workers":1,"service_time_ms":{"dist":"constant","value":1}}}}"#;
    let t = Topology::compile(&parse_model(text).unwrap(), &PolicySpec::default());
    let st = go(&t);
    assert_eq!(st.ext_arrivals, [3, 1]);
    assert_eq!(
        st.events.queue_entry, 1,
        "the second request at 0.1 s waits for the first"
    );
    let bad = text.replace("0.5,1.5", "1.5,0.5");
    assert!(format!("{:#}", parse_model(&bad).unwrap_err()).contains("arrivals.times_s[3]"));
}

#[test]
fn call_templates_follow_their_weights() {
    let text = r#"{"duration_s":60,"arrivals":{"entry":"web","rate_per_s":100},
        "services":{"web":{"workers":64,"variants":{"browse":0.7,"buy":0.3},
                           "service_time_ms":{"dist":"constant","value":1}},
                    "auth":{"workers":64,"service_time_ms":{"dist":"constant","value":1}},
                    "catalog":{"workers":64,"service_time_ms":{"dist":"constant","value":1}},
                    "pay":{"workers":64,"service_time_ms":{"dist":"constant","value":1}}},
        "calls":[{"from":"web","to":"auth"},
                 {"from":"web","to":"catalog","variant":"browse","count":2},
                 {"from":"web","parallel":true,"variant":"buy","calls":[{"to":"pay"},{"to":"catalog"}]}]}"#;
    let t = Topology::compile(&parse_model(text).unwrap(), &PolicySpec::default());
    let st = go(&t);
    let first =
        |name: &str| st.edges[t.edges.iter().position(|e| e.name == name).unwrap()].first as f64;
    let visits = first("web->auth");
    assert!(
        (first("web->pay") / visits - 0.3).abs() < 0.02,
        "{}",
        first("web->pay") / visits
    );
    // browse: 2 catalog calls at 0.7, buy: 1 at 0.3 → 1.7 per visit.
    assert!((first("web->catalog") / visits - 1.7).abs() < 0.05);
    let bad = text.replace(r#""variant":"buy""#, r#""variant":"sell""#);
    assert!(format!("{:#}", parse_model(&bad).unwrap_err()).contains("calls[2].variant: `sell`"));
}

#[test]
fn adaptive_lifo_serves_the_newest_first_under_a_standing_queue() {
    // Target 10 s: almost nothing is dropped; interval 10 ms: the queue is soon "standing".
    let db = |lifo: bool| {
        format!(
            r#"{{"workers":8,"service_time_ms":{{"dist":"lognormal","median":4,"p99":12}},
               "codel":{{"target_ms":10000,"interval_ms":10,"adaptive_lifo":{lifo}}}}}"#
        )
    };
    let quantile = |st: &RunStats, q: f64| {
        let mut xs: Vec<f64> = st.ext_latency[10..30].iter().flatten().copied().collect();
        crate::replay::sim::stats::quantile(&mut xs, q).unwrap_or(0.0)
    };
    let fifo = go(&model(&db(false), r#"{"timeout_ms":null}"#, DB_SLOW));
    let lifo = go(&model(&db(true), r#"{"timeout_ms":null}"#, DB_SLOW));
    // Only visits queued in a queue's first 10 ms (not yet standing) can be dropped.
    assert!(lifo.services[1].codel_dropped * 100 < lifo.services[1].arrivals);
    assert!(fifo.services[1].codel_dropped * 100 < fifo.services[1].arrivals);
    // Newest first: most requests wait less, a few wait much longer.
    assert!(
        quantile(&lifo, 0.5) < quantile(&fifo, 0.5),
        "{} vs {}",
        quantile(&lifo, 0.5),
        quantile(&fifo, 0.5)
    );
    assert!(quantile(&lifo, 0.999) > quantile(&fifo, 0.999));
}
