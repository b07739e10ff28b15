//! Integration: `cascade analyze --json` on every shipped fixture finds the truth's root cause
//! first, and the control fixture yields no warning- or error-level finding.

use std::path::Path;
use std::process::Command;

fn analyze(fixture: &str) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(fixture);
    let out = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("analyze")
        .arg(dir.join("traces.jsonl.gz"))
        .arg("--logs")
        .arg(dir.join("logs.jsonl.gz"))
        .arg("--json")
        .output()
        .expect("running cascade");
    assert!(
        out.status.success(),
        "{fixture}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("findings JSON")
}

fn truth_root(fixture: &str) -> Option<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(fixture)
        .join("traces.truth.json");
    let truth: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    truth["root_cause"].as_str().map(str::to_string)
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
