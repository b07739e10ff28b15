//! `cascade simulate` end to end: the built binary on the bench scenarios writes the peer's
//! time-series columns and a summary, is deterministic, and maps a bad model to exit 2 with
//! the offending field named.

use std::path::Path;
use std::process::Command;

const SMALL: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/",
    "../shared/bench/scenarios/small.json"
);

fn cascade() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cascade"))
}

#[test]
fn small_writes_peer_columns_and_is_deterministic() {
    if !Path::new(SMALL).exists() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |sub: &str| {
        let out = dir.path().join(sub);
        let st = cascade()
            .args(["simulate", SMALL, "--json", "--out-dir"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            st.status.success(),
            "{}",
            String::from_utf8_lossy(&st.stderr)
        );
        (
            String::from_utf8(st.stdout).unwrap(),
            std::fs::read_to_string(out.join("timeseries.csv")).unwrap(),
        )
    };
    let (a, ts) = run("a");
    let (b, _) = run("b");
    assert_eq!(a, b, "same seed, same output");
    let header = ts.lines().next().unwrap();
    assert_eq!(
        header,
        "t_s,arrivals,successes,failures,p99_ms,frontend.inflight,api.inflight,db.inflight,\
         frontend.queue,api.queue,db.queue,attempts.client->frontend,attempts.frontend->api,attempts.api->db"
    );
    assert_eq!(ts.lines().count(), 11);
    let doc: serde_json::Value = serde_json::from_str(&a).unwrap();
    assert!(doc["events"].as_u64().unwrap() > 4000);
    assert_eq!(doc["recovery"]["overload_outlived_fault"], false);
}

#[test]
fn bad_model_exits_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(
        &path,
        r#"{"duration_s":10,"arrivals":{"entry":"a","rate_per_s":5},
           "services":{"a":{"workers":1,"service_time_ms":{"dist":"constant","value":1}}},
           "calls":[{"from":"a","to":"nowhere"}]}"#,
    )
    .unwrap();
    let st = cascade().arg("simulate").arg(&path).output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("calls[0].to: unknown service `nowhere`"),
        "{err}"
    );
    let st = cascade()
        .args(["simulate", SMALL, "--policy", "retry:tries=2"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));
}

#[test]
fn generate_writes_named_cases_with_truth() {
    let dir = tempfile::tempdir().unwrap();
    let st = cascade()
        .args(["simulate", "--generate", "2", "--seed", "14", "--out-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    for n in &names {
        let case = dir.path().join(n);
        let truth: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("truth.json")).unwrap())
                .unwrap();
        let seed = n.split('-').next().unwrap();
        assert_eq!(truth["seed"].to_string(), seed);
        assert_eq!(
            format!("{seed}-{}", truth["fault_kind"].as_str().unwrap()),
            *n
        );
        assert!(case.join("traces.jsonl.gz").exists() && case.join("logs.jsonl.gz").exists());
    }
    let bad = cascade()
        .args(["simulate", "--generate", "2"])
        .output()
        .unwrap();
    assert!(!bad.status.success(), "--generate needs --out-dir");
}
