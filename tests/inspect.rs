//! `cascade inspect` end to end: the summary and its data-quality counts, as JSON and text.

use std::process::Command;

use serde_json::Value;

const T1: &str = "0af7651916cd43dd8448eb211c80319c";
const T2: &str = "1af7651916cd43dd8448eb211c80319c";
const T3: &str = "2af7651916cd43dd8448eb211c80319c";
/// 2024-06-01T12:00:00Z in nanoseconds.
const T0: i64 = 1_717_243_200_000_000_000;
const MS: i64 = 1_000_000;

fn span(trace: &str, id: &str, parent: &str, kind: u8, start_ms: i64, end_ms: i64) -> String {
    format!(
        r#"{{"traceId":"{trace}","spanId":"{id}","parentSpanId":"{parent}","name":"op","kind":{kind},"startTimeUnixNano":"{}","endTimeUnixNano":"{}"}}"#,
        T0 + start_ms * MS,
        T0 + end_ms * MS
    )
}

fn line(service: &str, spans: &[String]) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"t"}},"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

/// One export with one of each structural problem, and a server that starts 5 s after
/// its client ended (a clock-skew candidate).
fn flawed_export() -> String {
    let front = [
        span(T1, "a000000000000001", "", 2, 0, 100),
        span(T1, "a000000000000002", "ffffffffffffffff", 1, 10, 20), // orphan
        span(T1, "a000000000000003", "a000000000000001", 1, 10, 20),
        span(T1, "a000000000000003", "a000000000000001", 1, 30, 40), // same id, other span
        span(T1, "a000000000000004", "a000000000000001", 1, 50, 45), // ends before start
        span(T2, "b000000000000001", "b000000000000002", 1, 0, 10),  // cycle
        span(T2, "b000000000000002", "b000000000000001", 1, 0, 10),
        span(T3, "c000000000000001", "", 2, 0, 20),
        span(T3, "c000000000000002", "c000000000000001", 3, 2, 18),
    ];
    let back = [span(
        T3,
        "c000000000000003",
        "c000000000000002",
        2,
        5004,
        5010,
    )];
    format!("{}\n{}\n", line("front", &front), line("back", &back))
}

fn inspect(args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flawed.jsonl");
    std::fs::write(&path, flawed_export()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("inspect")
        .arg(&path)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn json_counts_each_structural_problem_and_the_skew() {
    let doc: Value = serde_json::from_str(&inspect(&["--json"])).unwrap();
    assert_eq!(doc["schema"], "cascade.inspect/v1");
    assert_eq!(doc["spans"], 10);
    let s = &doc["data_quality"]["structure"];
    assert_eq!(s["orphans"], 1, "{s}");
    assert_eq!(s["duplicate_span_ids"], 1, "{s}");
    assert_eq!(s["end_before_start"], 1, "{s}");
    assert_eq!(s["parent_cycles"], 1, "{s}");
    assert_eq!(s["bad_ids"], 0, "{s}");
    let skew = &doc["data_quality"]["skew"];
    assert_eq!(skew["skewed_links"], 1, "{skew}");
    assert_eq!(skew["shifted_by_service"]["back"], 1, "{skew}");
}

#[test]
fn text_shows_the_quality_lines() {
    let text = inspect(&[]);
    assert!(
        text.contains("quality   orphans 1, duplicate span ids 1, exact copies 0, end before start 1, parent cycles 1"),
        "{text}"
    );
    assert!(text.contains("skew      1 cross-service links"), "{text}");
}
