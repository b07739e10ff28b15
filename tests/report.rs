//! `cascade report` end to end: the built binary on fixtures into a temp folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const HOSTILE: &str = "<script>alert(1)</script>";

fn cascade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .output()
        .expect("cascade runs")
}

fn fixture(name: &str, file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
        .join(file)
        .to_string_lossy()
        .into_owned()
}

fn report(dir: &Path, extra: &[&str]) -> Output {
    let out = dir.to_string_lossy().into_owned();
    let mut args = vec!["report", "-o", out.as_str()];
    args.extend_from_slice(extra);
    cascade(&args)
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn retry_storm_report_has_every_file_chart_and_section() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("report");
    let (traces, logs) = (
        fixture("retry-storm", "traces.jsonl.gz"),
        fixture("retry-storm", "logs.jsonl.gz"),
    );
    let out = report(&dir, &[&traces, "--logs", &logs]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for stem in [
        "service-graph",
        "timeline",
        "cascade",
        "retry-amplification",
        "queues",
        "latency-heatmap",
        "critical-path",
    ] {
        let png = std::fs::read(dir.join("charts").join(format!("{stem}.png"))).unwrap();
        assert!(png.starts_with(PNG_MAGIC), "{stem}.png is not a PNG");
        assert!(png.len() > 5_000, "{stem}.png is suspiciously small");
    }
    let html = read(dir.join("index.html"));
    assert!(html.contains("Cascading failure from inventory"));
    assert!(html.contains("src=\"charts/retry-amplification.png\""));
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<script"));
    let md = read(dir.join("postmortem.md"));
    for section in [
        "Summary",
        "Impact",
        "Root causes",
        "Trigger",
        "Detection",
        "Resolution",
        "Action items",
        "Lessons learned",
        "Timeline",
    ] {
        assert!(
            md.contains(&format!("\n## {section}\n")),
            "postmortem lacks {section}"
        );
    }
    assert!(md.contains("Cap retries on api → inventory"), "{md}");
    let doc: serde_json::Value = serde_json::from_str(&read(dir.join("findings.json"))).unwrap();
    assert_eq!(doc["schema"], "cascade.findings/v1");
    for key in [
        "input",
        "windows",
        "services",
        "edges",
        "root_causes",
        "findings",
    ] {
        assert!(doc.get(key).is_some(), "findings.json lacks {key}");
    }
    assert_eq!(doc["root_causes"][0]["service"], "inventory");
}

#[test]
fn a_non_empty_folder_is_refused_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let traces = fixture("control", "traces.jsonl.gz");
    let out = report(&dir, &[&traces]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert!(dir.join("notes.txt").exists(), "the folder was left alone");
    let out = report(&dir, &[&traces, "--force"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.join("index.html").exists() && dir.join("notes.txt").exists(),
        "--force adds the report and keeps the files cascade did not write"
    );
}

/// One OTLP/JSON line: a root SERVER span in `service` calling `backend`.
fn otlp_trace(service: &str, span_name: &str, trace: u32, start_ms: u64) -> String {
    let t0: u64 = 1_717_243_200_000_000_000 + start_ms * 1_000_000;
    let ns = |ms: u64| (t0 + ms * 1_000_000).to_string();
    let tid = format!("{trace:032x}");
    let span = |id: u32, parent: Option<u32>, name: &str, kind: u8, a: u64, b: u64| {
        serde_json::json!({
            "traceId": tid, "spanId": format!("{id:016x}"),
            "parentSpanId": parent.map_or(String::new(), |p| format!("{p:016x}")),
            "name": name, "kind": kind,
            "startTimeUnixNano": ns(a), "endTimeUnixNano": ns(b), "status": {}
        })
    };
    let resource = |svc: &str, spans: Vec<serde_json::Value>| {
        serde_json::json!({
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
            "scopeSpans": [{"spans": spans}]
        })
    };
    let base = trace * 10;
    let doc = serde_json::json!({"resourceSpans": [
        resource(service, vec![span(base + 1, None, span_name, 2, 0, 20), span(base + 2, Some(base + 1), span_name, 3, 2, 18)]),
        resource("backend", vec![span(base + 3, Some(base + 2), "query", 2, 3, 17)]),
    ]});
    doc.to_string()
}

#[test]
fn input_strings_are_escaped_in_html_and_markdown() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("hostile.jsonl");
    let lines: Vec<String> = (1..=120)
        .map(|i| otlp_trace(HOSTILE, HOSTILE, i, u64::from(i) * 500))
        .collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let dir = tmp.path().join("r");
    let out = report(&dir, &[&input.to_string_lossy()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let html = read(dir.join("index.html"));
    assert!(!html.contains(HOSTILE), "raw script tag in the page");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name is shown as text"
    );
    let md = read(dir.join("postmortem.md"));
    assert!(!md.contains(HOSTILE));
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let doc: serde_json::Value = serde_json::from_str(&read(dir.join("findings.json"))).unwrap();
    let names: Vec<&str> = doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&HOSTILE),
        "JSON keeps the real name: {names:?}"
    );
}

#[test]
fn the_text_files_do_not_depend_on_the_run() {
    let tmp = tempfile::tempdir().unwrap();
    let traces = fixture("metastable", "traces.jsonl.gz");
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for dir in [&a, &b] {
        let out = report(dir, &[&traces]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for file in ["index.html", "postmortem.md", "findings.json"] {
        assert_eq!(
            read(a.join(file)),
            read(b.join(file)),
            "{file} differs between runs"
        );
    }
}

#[test]
fn with_replay_the_report_compares_policies_and_recommends() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("report");
    let traces = fixture("metastable", "traces.jsonl.gz");
    let args = [
        traces.as_str(),
        "--replay",
        "--sample-rate",
        "0.1",
        "--seeds",
        "3",
        "--no-sweep",
    ];
    let out = report(&dir, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for stem in ["replay-goodput", "replay-p99", "replay-recovery"] {
        let png = std::fs::read(dir.join("charts").join(format!("{stem}.png"))).unwrap();
        assert!(png.starts_with(PNG_MAGIC), "{stem}.png is not a PNG");
    }
    let html = read(dir.join("index.html"));
    assert!(html.contains("id=\"replay\""));
    assert!(html.contains("observed"));
    let md = read(dir.join("postmortem.md"));
    let actions = md.split("## Action items").nth(1).unwrap_or_default();
    assert!(actions.to_lowercase().contains("replay"), "{actions}");
}

#[test]
fn an_input_without_spans_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("cut.json");
    std::fs::write(&input, "{\"resourceSpans\":[").unwrap();
    let dir = tmp.path().join("report");
    let out = report(&dir, &[input.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no spans") && err.contains("truncated"),
        "{err}"
    );
    assert!(!dir.exists(), "no half report is left behind");
}
