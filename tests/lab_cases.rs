//! The recorded lab cases (`lab/cases/*`): real OpenTelemetry SDK output must ingest whole,
//! and each truth file must describe the recording it sits beside.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

/// Each committed recording file stays under the repository's 2 MB limit.
const MAX_FILE_BYTES: u64 = 2 * 1024 * 1024;

fn case_dirs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("lab/cases");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn inspect(dir: &std::path::Path) -> Value {
    let out = common::run_cascade([
        "inspect".as_ref(),
        dir.join("traces.jsonl.gz").as_os_str(),
        "--logs".as_ref(),
        dir.join("logs.jsonl.gz").as_os_str(),
        "--json".as_ref(),
    ]);
    serde_json::from_slice(&out.stdout).expect("inspect JSON")
}

fn truth(dir: &std::path::Path) -> Value {
    let text = std::fs::read(dir.join("truth.json")).expect("truth.json");
    serde_json::from_slice(&text).expect("truth JSON")
}

#[test]
fn the_lab_has_twelve_fault_cases_and_a_control() {
    let kinds: Vec<String> = case_dirs()
        .iter()
        .map(|d| truth(d)["fault_kind"].as_str().unwrap().to_string())
        .collect();
    assert!(
        kinds.iter().filter(|k| *k != "none").count() >= 12,
        "{kinds:?}"
    );
    assert!(kinds.iter().any(|k| k == "none"), "{kinds:?}");
}

#[test]
fn every_lab_case_ingests_without_skipping_a_span_or_a_log_line() {
    for dir in case_dirs() {
        let doc = inspect(&dir);
        let name = dir.display();
        assert_eq!(doc["skipped"]["count"], 0, "{name}: {}", doc["skipped"]);
        assert_eq!(doc["data_quality"]["ingest_skipped"], 0, "{name}");
        assert!(
            doc["spans"].as_u64().unwrap() > 1000,
            "{name}: {}",
            doc["spans"]
        );
        let logs = &doc["log_join"];
        assert!(doc["log_records"].as_u64().unwrap() > 100, "{name}");
        // A line logged after its span ended (the load generator's failure warnings) has no
        // trace id; every id that is there must be a real trace of the recording.
        let (records, with_id) = (
            doc["log_records"].as_u64().unwrap(),
            logs["with_trace_id"].as_u64().unwrap(),
        );
        assert!(with_id * 10 >= records * 9, "{name}: {logs}");
        assert_eq!(
            logs["matched_trace"], logs["with_trace_id"],
            "{name}: {logs}"
        );
    }
}

#[test]
fn every_lab_truth_names_the_services_of_its_recording() {
    for dir in case_dirs() {
        let (doc, truth) = (inspect(&dir), truth(&dir));
        let name = dir.display();
        assert_eq!(truth["format"], "cascade.truth/v1", "{name}");
        let mut seen: BTreeSet<String> = doc["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect();
        // The uninstrumented store exports nothing: it is known only from its callers.
        seen.insert("kvstore".into());
        let roles: BTreeSet<String> = truth["roles"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(roles, seen, "{name}");
        match truth["root_cause"].as_str() {
            None => assert_eq!(truth["fault_kind"], "none", "{name}"),
            Some(rc) => {
                assert!(seen.contains(rc), "{name}: {rc}");
                assert_eq!(truth["roles"][rc], "source", "{name}");
            }
        }
    }
}

#[test]
fn lab_recordings_stay_under_two_megabytes() {
    for dir in case_dirs() {
        for file in ["traces.jsonl.gz", "logs.jsonl.gz", "truth.json"] {
            let len = std::fs::metadata(dir.join(file)).unwrap().len();
            assert!(
                len <= MAX_FILE_BYTES,
                "{}/{file}: {len} bytes",
                dir.display()
            );
        }
    }
}
