//! Integration: `cascade analyze --json` on every shipped fixture flags each mechanism its
//! truth lists (`queue_growth`, `metastable_failure` → `metastable_overload`,
//! `retry_amplification`) at warning or worse, naming the truth's root cause; it flags none of
//! them at warning or worse where the truth does not list them; the control fixture has no
//! warning-level finding at all. Every deviation is reported at once.

mod common;

use serde_json::Value;

const FIXTURES: [&str; 7] = common::SIMULATED;

/// Truth mechanism → the detector that must flag it.
const MECHANISMS: [(&str, &str); 3] = [
    ("queue_growth", "queue_growth"),
    ("metastable_failure", "metastable_overload"),
    ("retry_amplification", "retry_amplification"),
];

fn analyze(fixture: &str) -> Value {
    common::analyze_json(fixture, true, &[])
}

fn truth(fixture: &str) -> Value {
    common::truth(fixture).expect("truth file")
}

/// Findings of `kind` at warning or error.
fn loud<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == kind && f["severity"] != "info")
        .collect()
}

fn names_service(f: &Value, service: &str) -> bool {
    f["services"]
        .as_array()
        .is_some_and(|s| s.iter().any(|x| x == service))
}

/// What is wrong with one fixture's answer (empty when right).
fn deviations(fixture: &str) -> Vec<String> {
    let (doc, truth) = (analyze(fixture), truth(fixture));
    let listed: Vec<&str> = truth["mechanisms"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let root = truth["root_cause"].as_str();
    let mut out = Vec::new();
    for (mechanism, kind) in MECHANISMS {
        let found = loud(&doc, kind);
        match (listed.contains(&mechanism), root) {
            (true, Some(root)) if !found.iter().any(|f| names_service(f, root)) => {
                out.push(format!(
                    "{fixture}: {mechanism} not flagged at {root} ({} {kind} findings)",
                    found.len()
                ))
            }
            (false, _) if !found.is_empty() => out.push(format!(
                "{fixture}: {kind} flagged but not in the truth: {}",
                found[0]["title"]
            )),
            _ => {}
        }
    }
    out
}

#[test]
fn every_truth_mechanism_is_flagged_and_nothing_else() {
    let wrong: Vec<String> = FIXTURES.iter().flat_map(|f| deviations(f)).collect();
    assert!(wrong.is_empty(), "out of range:\n{}", wrong.join("\n"));
}

#[test]
fn metastable_findings_say_how_long_and_cite_the_paper() {
    for (fixture, outlived, at_end) in [("metastable", 60.0, 1.0), ("queue-growth", 10.0, 0.0)] {
        let doc = analyze(fixture);
        let f = loud(&doc, "metastable_overload");
        let f = f
            .first()
            .unwrap_or_else(|| panic!("{fixture}: no metastable finding"));
        let m = &f["metrics"];
        assert!(
            m["outlived_s"].as_f64().unwrap() >= outlived,
            "{fixture}: {m}"
        );
        assert_eq!(m["still_active_at_end"].as_f64(), Some(at_end), "{fixture}");
        assert!(f["title"].as_str().unwrap().contains("HotOS '21"));
        assert!(!f["evidence"]["trace_ids"].as_array().unwrap().is_empty());
    }
}

#[test]
fn queue_growth_reports_peak_drain_and_littles_law() {
    let doc = analyze("queue-growth");
    let orders = loud(&doc, "queue_growth")
        .into_iter()
        .find(|f| names_service(f, "orders"))
        .expect("queue growth at orders");
    let m = &orders["metrics"];
    assert!(m["peak"].as_f64().unwrap() >= 50.0, "{m}");
    assert_eq!(m["drained"].as_f64(), Some(1.0));
    let drain = m["drain_after_trigger_s"].as_f64().unwrap();
    assert!(
        (10.0..=20.0).contains(&drain),
        "truth: recovered 14 s after the fault; {drain}"
    );
    // A logged depth over λ·W from 2 %-sampled spans estimates 1 / 0.02 = 50.
    let ratio = m["little_queue_l_ratio"].as_f64().unwrap();
    assert!((25.0..=100.0).contains(&ratio), "{ratio}");
}
