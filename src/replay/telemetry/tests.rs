//! Telemetry tests: the written spans link up like real instrumentation (client span per
//! attempt, server span its child in the callee's resource, timeouts ending at the timer,
//! resend counts on retries), head sampling keeps whole traces, logs carry ids, and the
//! truth file names the fault and the mechanisms.

use std::collections::HashMap;

use serde_json::Value;

use super::{TelemetryOptions, TelemetryRecorder};
use crate::replay::model::parse_model;
use crate::replay::model::policy::PolicySpec;
use crate::replay::sim::{run, Topology};

fn topo() -> Topology {
    let text = r#"{"name":"tele","duration_s":12,"seed":2,
        "arrivals":{"entry":"api","rate_per_s":40},
        "services":{"api":{"workers":16,"service_time_ms":{"dist":"lognormal","median":1,"p99":4}},
                    "db":{"workers":2,"service_time_ms":{"dist":"lognormal","median":4,"p99":12}}},
        "calls":[{"from":"api","to":"db","count":1}],
        "policies":{"default":{"timeout_ms":50,"max_attempts":3,"backoff":{"base_ms":5}},
                    "edges":[{"from":"client","to":"api","timeout_ms":null,"max_attempts":1}]},
        "faults":[{"service":"db","start_s":4,"end_s":8,"latency_multiplier":10}]}"#;
    Topology::compile(&parse_model(text).unwrap(), &PolicySpec::default())
}

struct Written {
    spans: Vec<Value>,
    /// span id → service.name of its resource
    service_of: HashMap<String, String>,
    logs: Vec<Value>,
    truth: Value,
}

fn write(sample: f64) -> Written {
    let dir = tempfile::tempdir().unwrap();
    let (tp, lp) = (
        dir.path().join("spans.jsonl"),
        dir.path().join("logs.jsonl"),
    );
    let t = topo();
    let opts = TelemetryOptions {
        traces: Some(tp.clone()),
        logs: Some(lp.clone()),
        sample,
        seed: 2,
        producers: Vec::new(),
    };
    let rec = TelemetryRecorder::create(&t, &opts).unwrap();
    let (stats, rec) = run(&t, 2, rec);
    rec.finish(&t, &stats).unwrap();
    let (mut spans, mut service_of) = (Vec::new(), HashMap::new());
    for line in std::fs::read_to_string(&tp).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            let svc = rs["resource"]["attributes"][0]["value"]["stringValue"]
                .as_str()
                .unwrap()
                .to_string();
            for s in rs["scopeSpans"][0]["spans"].as_array().unwrap() {
                service_of.insert(s["spanId"].as_str().unwrap().to_string(), svc.clone());
                spans.push(s.clone());
            }
        }
    }
    let logs = std::fs::read_to_string(&lp)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let truth = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("spans.truth.json")).unwrap(),
    )
    .unwrap();
    Written {
        spans,
        service_of,
        logs,
        truth,
    }
}

fn attr<'a>(s: &'a Value, key: &str) -> Option<&'a Value> {
    s["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)
        .map(|a| &a["value"])
}

fn nanos(s: &Value, key: &str) -> u64 {
    s[key].as_str().unwrap().parse().unwrap()
}

#[test]
fn spans_link_like_real_instrumentation() {
    let w = write(1.0);
    let by_id: HashMap<&str, &Value> = w
        .spans
        .iter()
        .map(|s| (s["spanId"].as_str().unwrap(), s))
        .collect();
    let (mut timeouts, mut resends, mut queued) = (0, 0, 0);
    for s in &w.spans {
        let Some(parent) = s["parentSpanId"].as_str() else {
            assert_eq!(s["kind"], 2, "only entry SERVER spans are roots");
            continue;
        };
        let p = by_id
            .get(parent)
            .unwrap_or_else(|| panic!("orphan span {s}"));
        if s["kind"] == 2 {
            assert_eq!(p["kind"], 3, "a SERVER span's parent is the CLIENT attempt");
            assert_eq!(w.service_of[s["spanId"].as_str().unwrap()], "db");
            assert_eq!(
                w.service_of[parent], "api",
                "the client span lives in the caller's resource"
            );
            queued += (nanos(s, "startTimeUnixNano") > nanos(p, "startTimeUnixNano")) as u32;
        }
        if s["kind"] == 3 && attr(s, "error.type").is_some_and(|v| v["stringValue"] == "timeout") {
            timeouts += 1;
            assert_eq!(
                nanos(s, "endTimeUnixNano") - nanos(s, "startTimeUnixNano"),
                50_000_000
            );
            assert_eq!(s["status"]["code"], 2);
        }
        resends += attr(s, "http.request.resend_count").is_some() as u32;
    }
    assert!(
        timeouts > 20 && resends > 20 && queued > 20,
        "{timeouts} {resends} {queued}"
    );
    assert!(w.logs.iter().any(|l| l["severity"] == "WARN"
        && l["timeout_ms"] == 50
        && l["trace_id"].as_str().is_some()));
    assert!(w
        .logs
        .iter()
        .any(|l| l["queue_depth"].as_u64().is_some_and(|q| q > 0)));
}

#[test]
fn head_sampling_keeps_whole_traces() {
    let all = write(1.0);
    let some = write(0.2);
    let ratio = some.spans.len() as f64 / all.spans.len() as f64;
    assert!((0.1..0.3).contains(&ratio), "{ratio}");
    let ids: std::collections::HashSet<&str> = some
        .spans
        .iter()
        .map(|s| s["spanId"].as_str().unwrap())
        .collect();
    for s in &some.spans {
        if let Some(p) = s["parentSpanId"].as_str() {
            assert!(ids.contains(p), "sampling split a trace");
        }
    }
}

#[test]
fn truth_names_the_fault_and_mechanisms() {
    let t = write(1.0).truth;
    assert_eq!(t["format"], "cascade.truth/v1");
    assert_eq!(t["root_cause"], "db");
    assert_eq!(t["fault"]["start_s"], 4.0);
    let mech: Vec<&str> = t["mechanisms"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    assert!(
        mech.contains(&"retry_amplification") && mech.contains(&"timeouts"),
        "{mech:?}"
    );
    let edge = t["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["callee"] == "db")
        .unwrap();
    assert!(edge["amplification_fault_window"].as_f64().unwrap() > 1.2);
}
