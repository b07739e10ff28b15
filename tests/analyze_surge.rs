//! An external load surge as the trigger (fixtures/load-surge: entry traffic 60 → 400 →
//! 60 req/s from 60 s to 90 s, no fault anywhere; retries keep the overload going after
//! the surge): the surge is named as the trigger, and the overload that outlived it is a
//! metastable failure; the postmortem tells it. The simulator's truth has no fault to name,
//! so this test pins it.

mod common;

use serde_json::Value;

const FIXTURE: &str = "load-surge";

fn metastable(doc: &Value) -> &Value {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "metastable_overload")
        .expect("a metastable_overload finding")
}

#[test]
fn the_surge_is_the_trigger_and_the_overload_outlived_it() {
    let doc = common::analyze_json(FIXTURE, true, &[]);
    let f = metastable(&doc);
    let title = f["title"].as_str().unwrap();
    assert!(
        title.starts_with("the entry traffic surge at frontend"),
        "{title}"
    );
    let m = &f["metrics"];
    let at = |k: &str| m[k].as_f64().unwrap();
    // The surge ran 60–90 s (buckets are 5 s here).
    assert!((at("trigger_start_s") - 60.0).abs() <= 5.0, "{m}");
    assert!((at("trigger_end_s") - 90.0).abs() <= 5.0, "{m}");
    let ratio = at("source_active_mean") / at("source_baseline");
    assert!((5.0..8.0).contains(&ratio), "6.7× expected, got {ratio}");
    assert_eq!(at("still_active_at_end"), 1.0, "{m}");
    assert!(at("outlived_s") >= 50.0, "{m}");
}

#[test]
fn the_summary_names_the_trigger() {
    let dir = common::fixture_dir(FIXTURE);
    let out = common::run_cascade([
        "analyze".as_ref(),
        dir.join("traces.jsonl.gz").as_os_str(),
        "--logs".as_ref(),
        dir.join("logs.jsonl.gz").as_os_str(),
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Trigger "))
        .unwrap_or_else(|| panic!("no Trigger line:\n{text}"));
    assert!(line.contains("entry traffic at frontend rose"), "{line}");
}

#[test]
fn a_fault_driven_incident_has_no_traffic_trigger() {
    for fixture in ["metastable", "retry-storm", "control"] {
        let doc = common::analyze_json(fixture, true, &[]);
        for f in doc["findings"].as_array().unwrap() {
            let title = f["title"].as_str().unwrap();
            assert!(!title.contains("traffic surge"), "{fixture}: {title}");
        }
    }
}

#[test]
fn the_postmortem_tells_the_surge_as_the_trigger() {
    let dir = common::fixture_dir(FIXTURE);
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("r");
    common::run_cascade([
        "report".as_ref(),
        dir.join("traces.jsonl.gz").as_os_str(),
        "--logs".as_ref(),
        dir.join("logs.jsonl.gz").as_os_str(),
        "-o".as_ref(),
        report.as_os_str(),
    ]);
    let md = std::fs::read_to_string(report.join("postmortem.md")).unwrap();
    assert!(
        md.contains("Entry traffic at frontend rose") && md.contains("an external load surge"),
        "{md}"
    );
}

#[test]
fn replay_compares_policies_under_the_same_surge() {
    let traces = common::fixture_dir(FIXTURE).join("traces.jsonl.gz");
    let out = common::run_cascade([
        "replay".as_ref(),
        traces.as_os_str(),
        "--sample-rate".as_ref(),
        "0.05".as_ref(),
        "--seeds".as_ref(),
        "2".as_ref(),
        "--no-sweep".as_ref(),
        "--json".as_ref(),
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = doc["recommendation"].as_str().unwrap();
    // No fault in the model, yet the surge is something to fix, not "nothing to fix".
    assert!(!text.contains("nothing to fix"), "{text}");
    assert!(text.contains("under the same load surge"), "{text}");
    assert_eq!(doc["sensitivity"]["band"], "capacity ±15 %");
}
