//! Hostile but real shapes, small: a deep call chain, thousands of services, degenerate
//! inputs and stray timestamps. Each test is named after the failure it guards against.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const T0: u64 = 1_717_243_200_000_000_000; // 2024-06-01T12:00:00Z

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cascade-patho-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One OTLP/JSON span (ids as numbers, written as hex).
struct Span<'a> {
    service: &'a str,
    trace: u64,
    id: u64,
    parent: Option<u64>,
    kind: u8,
    start: u64,
    end: u64,
}

fn span_json(s: &Span) -> String {
    let parent = s
        .parent
        .map(|p| format!(r#""parentSpanId":"{p:016x}","#))
        .unwrap_or_default();
    format!(
        r#"{{"traceId":"{:032x}","spanId":"{:016x}",{parent}"name":"op","kind":{},"startTimeUnixNano":"{}","endTimeUnixNano":"{}","status":{{}}}}"#,
        s.trace, s.id, s.kind, s.start, s.end
    )
}

/// OTLP/JSON Lines: 256 spans a line, one resource per span (the service name).
fn otlp(spans: &[Span]) -> String {
    let mut out = String::new();
    for chunk in spans.chunks(256) {
        let resources: Vec<String> = chunk
            .iter()
            .map(|s| {
                format!(
                    r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"t"}},"spans":[{}]}}]}}"#,
                    s.service,
                    span_json(s)
                )
            })
            .collect();
        out.push_str(&format!(r#"{{"resourceSpans":[{}]}}"#, resources.join(",")));
        out.push('\n');
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn cascade(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .output()
        .expect("running cascade")
}

/// Runs `analyze` and `report` on `input`: neither may panic (a clean refusal is fine).
fn no_panic(input: &Path, dir: &Path) -> [Output; 2] {
    let report_dir = dir.join("report");
    let outs = [
        cascade(&["analyze".as_ref(), input.as_os_str()]),
        cascade(&[
            "report".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            report_dir.as_os_str(),
            "--force".as_ref(),
        ]),
    ];
    for o in &outs {
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            !err.contains("panicked") && o.status.code() != Some(101),
            "{}: {err}",
            input.display()
        );
    }
    outs
}

/// A chain `depth` spans deep: SERVER, CLIENT, SERVER, … over four services.
fn chain(depth: u64) -> Vec<Span<'static>> {
    (0..depth)
        .map(|i| Span {
            service: ["a", "b", "c", "d"][(i / 2 % 4) as usize],
            trace: 1,
            id: i + 1,
            parent: (i > 0).then_some(i),
            kind: if i % 2 == 0 { 2 } else { 3 },
            start: T0 + i * 1_000,
            end: T0 + (2 * depth - i) * 1_000,
        })
        .collect()
}

#[test]
fn deep_chain_trace_does_not_overflow_the_stack() {
    // Deeper than any recursion survives on a 2 MB worker stack in a debug build.
    let dir = scratch("chain");
    let input = write(&dir, "chain.jsonl", &otlp(&chain(30_000)));
    let [analyze, report] = no_panic(&input, &dir);
    assert!(analyze.status.success() && report.status.success());
    let text = String::from_utf8_lossy(&analyze.stdout);
    assert!(text.contains("30000 spans, 1 trace"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// PNG width and height from the IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    let be = |k: usize| u32::from_be_bytes([b[k], b[k + 1], b[k + 2], b[k + 3]]);
    (be(16), be(20))
}

#[test]
fn report_with_many_services_folds_charts_instead_of_panicking() {
    // A service name carrying a request id: every span its own service.
    let dir = scratch("services");
    let names: Vec<String> = (0..3_000)
        .map(|k| {
            format!(
                "{}-{:05}",
                if k % 2 == 0 { "api" } else { "backend" },
                k / 2
            )
        })
        .collect();
    let spans: Vec<Span> = (0..3_000u64)
        .map(|k| {
            let (pair, server) = (k / 2, k % 2 == 1);
            let start = T0 + pair * 100_000_000 + u64::from(server) * 1_000;
            Span {
                service: &names[k as usize],
                trace: pair + 1,
                id: k + 1,
                parent: server.then_some(k),
                kind: if server { 2 } else { 3 },
                start,
                end: start + 5_000_000 - u64::from(server) * 2_000,
            }
        })
        .collect();
    let input = write(&dir, "services.jsonl", &otlp(&spans));
    let [analyze, report] = no_panic(&input, &dir);
    assert!(analyze.status.success());
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let (_, h) = png_size(&dir.join("report/charts/service-graph.png"));
    assert!(h < 4_000, "service graph {h} px tall");
    let html = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
    assert!(
        html.contains("others are folded into one box"),
        "caption names the fold"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn degenerate_inputs_never_panic_in_any_renderer() {
    let dir = scratch("degenerate");
    let one = |service, start: u64, end: u64| Span {
        service,
        trace: 1,
        id: 1,
        parent: None,
        kind: 2,
        start,
        end,
    };
    let zero_length: Vec<Span> = (0..200u64)
        .map(|k| Span {
            trace: k + 1,
            id: k + 1,
            ..one("api", T0 + k * 10_000_000, T0 + k * 10_000_000)
        })
        .collect();
    let fan_out: Vec<Span> = (0..5_000u64)
        .map(|k| Span {
            id: k + 2,
            parent: Some(1),
            kind: 3,
            ..one("fe", T0 + k * 1_000, T0 + k * 1_000 + 500)
        })
        .chain([one("fe", T0, T0 + 10_000_000)])
        .collect();
    // Year 2262 (the last instant Unix nanoseconds in an i64 hold) and year 9999.
    let far = 9_200_000_000_000_000_000u64;
    let cases: Vec<(&str, String)> = vec![
        ("one-span", otlp(&[one("api", T0, T0 + 1_000_000)])),
        ("zero-length", otlp(&zero_length)),
        ("one-trace-fan-out", otlp(&fan_out)),
        ("year-2262", otlp(&[one("api", far, far + 1_000)])),
        (
            "year-9999",
            otlp(&[one("api", T0, T0 + 1)]).replace(
                &format!(r#""endTimeUnixNano":"{}""#, T0 + 1),
                r#""endTimeUnixNano":"253402300799000000000""#,
            ),
        ),
    ];
    for (name, text) in cases {
        let input = write(&dir, &format!("{name}.jsonl"), &text);
        let case = dir.join(name);
        std::fs::create_dir_all(&case).unwrap();
        no_panic(&input, &case);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The retry-storm fixture's traces as text.
fn retry_storm() -> String {
    let gz = std::fs::read(common::fixture_dir("retry-storm").join("traces.jsonl.gz")).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn analyze_json(input: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<&std::ffi::OsStr> = vec!["analyze".as_ref(), input.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.push("--json".as_ref());
    let out = common::run_cascade(args);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn one_span_in_1970_does_not_hide_the_incident() {
    let dir = scratch("strays");
    let clean = write(&dir, "clean.jsonl", &retry_storm());
    // A bad clock (1970), a far-future one (2100) and a batch replayed 30 days later.
    let day = 86_400_000_000_000u64;
    let strays = [
        (0xa1, 1_000_000u64),
        (0xa2, 4_102_444_800_000_000_000),
        (0xa3, T0 + 30 * day),
    ];
    let spans: Vec<Span> = strays
        .iter()
        .map(|&(id, at)| Span {
            service: "frontend",
            trace: id,
            id,
            parent: None,
            kind: 2,
            start: at,
            end: at + 5_000_000,
        })
        .collect();
    let dirty = write(&dir, "strays.jsonl", &(retry_storm() + &otlp(&spans)));
    let (a, b) = (analyze_json(&clean, &[]), analyze_json(&dirty, &[]));
    assert_eq!(a["windows"], b["windows"], "same incident and baseline");
    assert_eq!(
        a["root_causes"][0]["service"], b["root_causes"][0]["service"],
        "same root cause"
    );
    assert_eq!(a["root_causes"][0]["service"], "inventory");
    let caveats = b["data_quality"]["caveats"].to_string();
    for (id, _) in strays {
        assert!(caveats.contains(&format!("{id:016x}")), "{caveats}");
    }
    assert!(caveats.contains("1970-01-01T00:00:00.001Z"), "{caveats}");
    assert_eq!(b["data_quality"]["structure"]["time_strays"], 3);
    assert!(a["data_quality"]["structure"].get("time_strays").is_none());
    // The summary says it too, and offsets still count from the spans' first instant.
    let text = common::run_cascade([std::ffi::OsStr::new("analyze"), dirty.as_os_str()]).stdout;
    let text = String::from_utf8_lossy(&text);
    assert!(
        text.contains("3 spans far outside the time range"),
        "{text}"
    );
    let window = ["--incident", "+60s..+90s"];
    assert_eq!(
        analyze_json(&clean, &window)["windows"],
        analyze_json(&dirty, &window)["windows"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
