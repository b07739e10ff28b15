//! Integration: `cascade eval fixtures` finds every fixture with a truth (not the incident
//! models, not the fixture recorded without one), prints every section of its table, and
//! scores the fixtures as the analyser does today: the true service first wherever the
//! truth names one, the control quiet, every incident detected. The floors below are
//! today's figures, so a change that makes the analyser worse on the fixtures fails here.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

/// Today's figures on the fixtures as floors (`--fail-under`): improving is fine, falling
/// is not. Roles are 24 of 28 (the load surge's truth calls every service healthy, the
/// analysis sees the overload); precision is 12 of 19 (the error-propagation truth lists
/// no mechanism).
const FIXTURE_FLOORS: [&str; 6] = [
    "as1=1",
    "control_quiet=1",
    "incident_detected=1",
    "mechanism_recall=1",
    "mechanism_precision=0.63",
    "role_accuracy=0.85",
];

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

fn eval_json(corpus: &Path) -> Value {
    let out = common::run_cascade([
        "eval".as_ref(),
        corpus.as_os_str(),
        "--json".as_ref(),
        "--cases".as_ref(),
    ]);
    serde_json::from_slice(&out.stdout).expect("eval JSON")
}

#[test]
fn the_fixtures_score_as_today_in_the_document() {
    let doc = eval_json(&fixtures());
    assert_eq!(doc["schema"], "cascade.eval/v1");
    let cases: Vec<&str> = doc["per_case"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let mut want: Vec<String> = common::SIMULATED
        .iter()
        .chain(&["load-surge"])
        .map(|f| fixtures().join(f).display().to_string())
        .collect();
    want.sort();
    assert_eq!(
        cases, want,
        "bench-inventory has no truth; models are no case"
    );
    assert_eq!(doc["failed"].as_array().unwrap().len(), 0, "{doc}");
    let overall = &doc["ranking_overall"];
    // Six fixtures name a root cause; the load surge's truth names none, the control none.
    assert_eq!(overall["n"], 6, "{overall}");
    assert_eq!(overall["as1"], 1.0, "{overall}");
    let controls = &doc["controls"];
    assert_eq!(
        (controls["n"].as_u64(), controls["false_positives"].as_u64()),
        (Some(1), Some(0))
    );
    let windows = &doc["windows"];
    assert_eq!(
        (windows["n"].as_u64(), windows["not_detected"].as_u64()),
        (Some(7), Some(0))
    );
    assert_eq!(
        doc["mechanisms"]["unscored"]["timeouts"], 2,
        "timeouts has no detector and is left out"
    );
    let bands = doc["calibration"]["bands"].as_array().unwrap();
    assert_eq!(bands.len(), 5);
    // Every fixture's first candidate is right, and the ranking says so with confidence.
    let n: u64 = bands.iter().map(|b| b["n"].as_u64().unwrap()).sum();
    assert_eq!(n, 6, "{bands:?}");
    let hits: u64 = bands.iter().map(|b| b["hits"].as_u64().unwrap()).sum();
    assert_eq!(hits, n, "{bands:?}");
}

#[test]
fn the_fixtures_table_reads_in_a_minute_and_holds_todays_floors() {
    let mut args: Vec<String> = vec![
        "eval".into(),
        fixtures().display().to_string(),
        "--cases".into(),
    ];
    for f in FIXTURE_FLOORS {
        args.extend(["--fail-under".into(), f.into()]);
    }
    let out = common::cascade_output(None, &args);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "a floor broke: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    for section in [
        "cascade eval: 8 case(s) in",
        "(7 incident(s), 1 control(s), 0 failed)",
        "Root cause: AS@k",
        "Mechanisms:",
        "Roles:",
        "Controls:",
        "Incident window:",
        "Confidence calibration:",
        "Cases (for development seeds only",
    ] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    let all = text
        .lines()
        .find(|l| l.trim_start().starts_with("all "))
        .unwrap_or_else(|| panic!("no overall row:\n{text}"));
    let cols: Vec<&str> = all.split_whitespace().collect();
    assert_eq!(
        &cols[..8],
        ["all", "6", "100", "%", "100", "%", "100", "%"],
        "{all}"
    );
    assert!(text.contains("false positives 0 of 1 (0 %)"), "{text}");
    assert!(text.contains("0.6–0.8  n=6"), "{text}");
    let listed = text.lines().filter(|l| l.contains("→ rank 1")).count();
    assert_eq!(listed, 6, "{text}");
}

/// A hand-made corpus: one fixture's telemetry with a truth that blames someone else.
fn wrong_truth_corpus() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("nested/wrong-blame");
    std::fs::create_dir_all(&case).unwrap();
    let src = common::fixture_dir("queue-growth");
    std::fs::copy(src.join("traces.jsonl.gz"), case.join("traces.jsonl.gz")).unwrap();
    std::fs::write(
        case.join("truth.json"),
        r#"{"format":"cascade.truth/v1","root_cause":"nobody-here","fault_kind":"cpu",
            "incident":{"start_s":60,"end_s":104},"time_base_unix_ns":"1717243200000000000",
            "mechanisms":["queue_growth"],"an_unknown_field":{"x":1}}"#,
    )
    .unwrap();
    tmp
}

#[test]
fn a_metric_under_its_floor_exits_1_and_says_which() {
    let tmp = wrong_truth_corpus();
    let run = |floor: &str| {
        common::cascade_output(
            None,
            [
                "eval".as_ref(),
                tmp.path().as_os_str(),
                "--fail-under".as_ref(),
                floor.as_ref(),
            ],
        )
    };
    let out = run("as5=0.5");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("as5 = 0.000 is below its floor 0.500"),
        "{err}"
    );
    assert_eq!(run("as5=0").status.code(), Some(0));
    let bad = run("as7=0.5");
    assert_eq!(bad.status.code(), Some(2), "an unknown metric is bad usage");
}

#[test]
fn a_corpus_without_cases_or_with_a_bad_truth_is_an_error() {
    let empty = tempfile::tempdir().unwrap();
    let out = common::cascade_output(None, ["eval".as_ref(), empty.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no case in the corpus"));
    let tmp = wrong_truth_corpus();
    let truth = tmp.path().join("nested/wrong-blame/truth.json");
    std::fs::write(&truth, r#"{"format":"something/v9"}"#).unwrap();
    let out = common::cascade_output(None, ["eval".as_ref(), tmp.path().as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("truth.json") && err.contains("something/v9"),
        "{err}"
    );
}

#[test]
fn a_load_surge_recognised_at_the_true_entry_is_a_hit() {
    // The load-surge fixture's telemetry with a truth that names the entry service, as the
    // generated corpus does: the surge at frontend is the answer, whatever the ranking.
    let tmp = tempfile::tempdir().unwrap();
    let case = tmp.path().join("surge");
    std::fs::create_dir_all(&case).unwrap();
    let src = common::fixture_dir("load-surge");
    for f in ["traces.jsonl.gz", "logs.jsonl.gz"] {
        std::fs::copy(src.join(f), case.join(f)).unwrap();
    }
    std::fs::write(
        case.join("truth.json"),
        r#"{"format":"cascade.truth/v1","root_cause":"frontend","fault_kind":"load_surge",
            "time_base_unix_ns":"1717243200000000000","incident":{"start_s":60,"end_s":150}}"#,
    )
    .unwrap();
    let doc = eval_json(tmp.path());
    let row = &doc["ranking"][0];
    assert_eq!(
        (row["kind"].as_str(), row["n"].as_u64()),
        (Some("load_surge"), Some(1))
    );
    assert_eq!(row["as1"], 1.0, "{row}");
    assert_eq!(doc["per_case"][0]["surge_hit"], true);
}
