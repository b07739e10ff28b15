//! Integration: `cascade analyze --json` on every shipped fixture finds the truth's root cause
//! first, and the control fixture yields no warning- or error-level finding.

mod common;

use common::{analyze_json, truth};

fn analyze(fixture: &str) -> serde_json::Value {
    analyze_json(fixture, true, &[])
}

fn truth_root(fixture: &str) -> Option<String> {
    truth(fixture)?["root_cause"].as_str().map(str::to_string)
}

#[test]
fn root_cause_is_first_on_every_incident_fixture() {
    let mut wrong = Vec::new();
    for fixture in [
        "retry-storm",
        "metastable",
        "latency-contagion",
        "queue-growth",
        "error-propagation",
        "mid-tier-source",
    ] {
        let doc = analyze(fixture);
        let want = truth_root(fixture).expect("truth file with a root cause");
        let got = doc["root_causes"][0]["service"].as_str().unwrap_or("-");
        let detected = doc["windows"]["detected"].as_bool() == Some(true);
        if got != want || !detected {
            wrong.push(format!(
                "{fixture}: root cause {got} (want {want}), detected {detected}"
            ));
        }
    }
    let doc = analyze("bench-inventory");
    if doc["root_causes"][0]["service"] != "inventory" {
        wrong.push(format!("bench-inventory: {}", doc["root_causes"][0]));
    }
    assert!(wrong.is_empty(), "out of range:\n{}", wrong.join("\n"));
}

#[test]
fn control_fixture_has_no_warning_findings() {
    let doc = analyze("control");
    assert_eq!(doc["windows"]["detected"].as_bool(), Some(false));
    let loud: Vec<_> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert!(loud.is_empty(), "{loud:?}");
}

/// Seconds after the truth's time base of an RFC 3339 instant in the findings document.
fn offset_s(rfc3339: &serde_json::Value, base_unix_s: f64) -> f64 {
    let t = chrono::DateTime::parse_from_rfc3339(rfc3339.as_str().expect("an instant"))
        .expect("RFC 3339");
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9 - base_unix_s
}

/// (fixture, truth incident start s, end s, time base Unix s) for every incident fixture.
fn incident_truths() -> Vec<(&'static str, f64, f64, f64)> {
    let mut out: Vec<_> = [
        "retry-storm",
        "metastable",
        "latency-contagion",
        "queue-growth",
        "error-propagation",
        "mid-tier-source",
    ]
    .into_iter()
    .map(|f| {
        let t = truth(f).expect("truth file");
        let base = t["time_base_unix_ns"]
            .as_str()
            .and_then(|s| s.parse::<f64>().ok())
            .expect("time base")
            / 1e9;
        let s = t["incident"]["start_s"].as_f64().expect("start");
        let e = t["incident"]["end_s"].as_f64().expect("end");
        (f, s, e, base)
    })
    .collect();
    // shared/bench's generator: the middle third of 300 s from 2024-06-01T12:00:00Z.
    out.push(("bench-inventory", 100.0, 200.0, 1_717_243_200.0));
    out
}

#[test]
fn incident_window_is_within_two_buckets_of_the_truth() {
    let mut wrong = Vec::new();
    for (fixture, start, end, base) in incident_truths() {
        let doc = analyze(fixture);
        let w = &doc["windows"];
        let bucket = w["bucket_s"].as_f64().expect("bucket width");
        let got = (
            offset_s(&w["incident"]["start"], base),
            offset_s(&w["incident"]["end"], base),
        );
        if (got.0 - start).abs() > 2.0 * bucket || (got.1 - end).abs() > 2.0 * bucket {
            wrong.push(format!(
                "{fixture}: {got:?} vs truth {start}..{end} (bucket {bucket} s)"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `analyze --json` with the incident window set to the truth's fault window.
fn analyze_fault_window(fixture: &str, start_s: f64, end_s: f64) -> serde_json::Value {
    analyze_json(
        fixture,
        false,
        &[&format!("--incident=+{start_s}s..+{end_s}s")],
    )
}

#[test]
fn per_edge_amplification_is_within_five_percent_of_the_truth() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for fixture in [
        "retry-storm",
        "metastable",
        "queue-growth",
        "error-propagation",
    ] {
        let t = truth(fixture).expect("truth file");
        let (start, end) = (
            t["fault"]["start_s"].as_f64().expect("fault start"),
            t["fault"]["end_s"].as_f64().expect("fault end"),
        );
        // Offsets count from the first span, the truth from its time base: both are the run's
        // start to within the first request's arrival, well under a bucket.
        let doc = analyze_fault_window(fixture, start, end);
        for e in t["edges"].as_array().expect("truth edges") {
            let Some(want) = e["amplification_fault_window"].as_f64() else {
                continue;
            };
            let got = doc["edges"].as_array().and_then(|edges| {
                edges
                    .iter()
                    .find(|d| d["caller"] == e["caller"] && d["callee"] == e["callee"])
            });
            // The simulator's external client has no spans: its edge has no caller span.
            let Some(got) = got else { continue };
            let got = got["incident"]["amplification"].as_f64().unwrap_or(0.0);
            checked += 1;
            if (got - want).abs() > 0.05 * want {
                wrong.push(format!(
                    "{fixture} {}→{}: {got:.3} vs truth {want:.3}",
                    e["caller"], e["callee"]
                ));
            }
        }
    }
    assert!(checked >= 8, "only {checked} edges compared");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
