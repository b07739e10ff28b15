//! Tests of the log path on hostile and large input: garbage lines, fuzzed bytes, chunked
//! parallel parsing, content sniffing, the log↔span join, and the bench log files.

use polars::prelude::*;

use super::detect::Dialect;
use super::tests::{field, BASE_NS, SPAN, TRACE};
use super::*;
use crate::ingest::record::FieldValue;
use crate::model::columns::{SPAN_ID, TIME_NS, TRACE_ID};

#[test]
fn garbage_lines_are_counted_with_their_place_and_blank_lines_ignored() {
    let input = b"{\"time\":\"2024-06-01T12:00:00Z\",\"level\":\"info\",\"msg\":\"ok\"}\n\
        \n   \n\
        hello world\n\
        {\"time\":\"2024-06-01T12:00:00Z\",\"level\":\"info\",\"ms\n\
        \xff\xfe\xfd\n\
        [1,2,3]\n\
        {\"foo\":\"bar\"}\r\n\
        {\"time\":\"soon\",\"level\":\"info\",\"msg\":\"kept\",\"trace_id\":\"nothex\"}\n";
    let mut diag = Diagnostics::default();
    let recs = parse_json_logs(input, "app.log", &mut diag);
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1].message.as_deref(), Some("kept"));
    assert_eq!((recs[1].time_ns, recs[1].trace_id.as_deref()), (None, None));
    assert_eq!(diag.count(Level::Skip, NOT_A_LOG_LINE), 4);
    assert_eq!(diag.count(Level::Skip, map::NO_LOG_FIELDS), 1);
    assert_eq!(diag.count(Level::Warn, map::BAD_TIME), 1);
    assert_eq!(diag.count(Level::Warn, map::BAD_TRACE_ID), 1);
    let (_, _, e) = diag.iter().find(|(_, r, _)| *r == NOT_A_LOG_LINE).unwrap();
    assert_eq!(e.examples, ["app.log:4", "app.log:5", "app.log:6"]);
}

/// Deterministic pseudo-random bytes (64-bit LCG; no RNG crate needed for a fuzz loop).
fn lcg(seed: &mut u64) -> u8 {
    *seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (*seed >> 56) as u8
}

#[test]
fn hostile_input_never_panics_and_every_line_is_accounted_for() {
    let good = r#"{"timestamp":"2024-06-01T12:00:00.040136793Z","severity":"INFO","service":"auth","message":"m","trace_id":"f1dde1f64e8172da4a8d4853b6bbcd58","span_id":"82330e6eb89c96e9","n":{"a":[1,{"b":2}]}}"#;
    let mut input = Vec::new();
    for cut in 1..good.len() {
        input.extend_from_slice(&good.as_bytes()[..cut]);
        input.push(b'\n');
    }
    let mut seed = 7;
    let alphabet = b"{}[]\":,=\\ 0123456789abcdefE.-+tnul\xc3\xa9\xff";
    for _ in 0..3000 {
        let len = usize::from(lcg(&mut seed)) % 80;
        let line = (0..len).map(|_| alphabet[usize::from(lcg(&mut seed)) % alphabet.len()]);
        input.extend(line.filter(|b| *b != b'\n'));
        input.push(b'\n');
    }
    input.extend(format!("{}1{}\n", "{\"a\":".repeat(50_000), "}".repeat(50_000)).bytes());
    input.extend(
        format!(
            "{{\"msg\":\"{}\",\"level\":\"info\"}}\n",
            "x".repeat(2_000_000)
        )
        .bytes(),
    );
    let lines = input
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .count();
    let mut diag = Diagnostics::default();
    let recs = parse_json_logs(&input, "fuzz", &mut diag);
    assert_eq!(recs.len() as u64 + diag.total(Level::Skip), lines as u64);
    assert_eq!(
        recs.last()
            .and_then(|r| r.message.as_ref())
            .map(String::len),
        Some(2_000_000)
    );
    let _ = looks_like_json_logs(&input);
    let _ = detect_dialect(&input);
    logs_frame(&recs).unwrap();
}

#[test]
fn chunked_parsing_keeps_line_order_and_line_numbers() {
    let line = r#"{"time":"2024-06-01T12:00:00Z","level":"info","msg":"m","i":IDX}"#;
    let total = 3 * CHUNK_BYTES / line.len();
    let mut input = String::new();
    for i in 1..=total {
        let text = if i == total - 5 {
            "garbage".to_string()
        } else {
            line.replace("IDX", &i.to_string())
        };
        input.push_str(&text);
        input.push('\n');
    }
    let mut diag = Diagnostics::default();
    let recs = parse_json_logs(input.as_bytes(), "big", &mut diag);
    assert!(chunks(input.as_bytes()).len() >= 3);
    assert_eq!(recs.len(), total - 1);
    let order: Vec<i64> = recs
        .iter()
        .filter_map(|r| match field(r, "i") {
            Some(FieldValue::Int(n)) => Some(*n),
            _ => None,
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]));
    let (_, _, e) = diag.iter().next().unwrap();
    assert_eq!(e.examples, [format!("big:{}", total - 5)]);
}

#[test]
fn sniffing_accepts_log_files_and_rejects_otlp_and_prose() {
    let logs = "{\"ts\":1717243200.1,\"level\":\"info\",\"msg\":\"a\"}\nnot json\n{\"ts\":1717243200.2,\"level\":\"info\",\"msg\":\"b\"}\n";
    assert!(looks_like_json_logs(logs.as_bytes()));
    let otlp = r#"{"resourceSpans":[{"resource":{},"scopeSpans":[]}]}"#;
    assert!(!looks_like_json_logs(otlp.as_bytes()));
    let bare = r#"{"resource":{"attributes":[]},"scopeSpans":[{"spans":[]}]}"#;
    assert!(!looks_like_json_logs(bare.as_bytes()));
    let wrapped = r#"{"result":{"resourceSpans":[]},"time":1}"#;
    assert!(!looks_like_json_logs(wrapped.as_bytes()));
    assert!(!looks_like_json_logs(b"hello\nworld\n"));
    assert!(!looks_like_json_logs(b"{\"a\":1}\n{\"b\":2}\n"));
    assert!(!looks_like_json_logs(b"\n\n"));
}

#[test]
fn join_counts_parsed_logs_against_a_spans_frame() {
    let input = format!(
        "{}\n{}\n{}\n",
        r#"{"time":"2024-06-01T12:00:00Z","level":"info","msg":"a","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#,
        r#"{"time":"2024-06-01T12:00:00Z","level":"info","msg":"b","dd.trace_id":"11803532876627986230","dd.span_id":"42"}"#,
        r#"{"time":"2024-06-01T12:00:00Z","level":"info","msg":"c"}"#,
    );
    let mut diag = Diagnostics::default();
    let logs = logs_frame(&parse_json_logs(input.as_bytes(), "j", &mut diag)).unwrap();
    let spans = df! {
        TRACE_ID => [TRACE, "0af7651916cd43dda3ce929d0e0e4736"],
        SPAN_ID => [SPAN, "000000000000002a"],
    }
    .unwrap();
    let j = join_logs(&logs, &spans).unwrap();
    assert_eq!(
        (j.with_trace_id, j.matched_trace, j.matched_span),
        (2, 2, 2)
    );
}

#[test]
fn bench_log_file_first_lines() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/",
        "../shared/bench/data/logs_100k.jsonl"
    );
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("SKIPPED bench_log_file_first_lines: {path} is absent");
        return;
    };
    let end = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(1999)
        .map_or(bytes.len(), |(i, _)| i + 1);
    let head = &bytes[..end];
    assert!(looks_like_json_logs(head));
    assert_eq!(detect_dialect(head), Dialect::Bench);
    let mut diag = Diagnostics::default();
    let recs = parse_json_logs(head, "logs_100k.jsonl", &mut diag);
    assert!(diag.is_empty());
    assert_eq!(recs.len(), 2000);
    assert!(recs
        .iter()
        .all(|r| r.time_ns.is_some() && r.service.is_some()));
    assert!(recs
        .iter()
        .all(|r| matches!(r.severity_number, Some(9 | 13 | 17))));
    assert!(recs
        .iter()
        .all(|r| r.trace_id.as_ref().is_some_and(|t| t.len() == 32)));
    assert!(recs
        .iter()
        .all(|r| r.span_id.as_ref().is_some_and(|s| s.len() == 16)));
    let df = logs_frame(&recs).unwrap();
    assert_eq!(
        df.column("duration_ms").unwrap().dtype(),
        &DataType::Float64
    );
    assert_eq!(df.column("status").unwrap().dtype(), &DataType::Int64);
    assert_eq!(df.column("route").unwrap().dtype(), &DataType::String);
    let times = df.column(TIME_NS).unwrap().i64().unwrap();
    assert_eq!(times.get(0), Some(BASE_NS + 40_136_793));
}

/// Timing on the bench data; run in an optimised build:
/// `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test --lib ingest::logs::tests_input::timing -- --ignored --nocapture`.
#[test]
#[ignore = "timing run on 50 MB of bench data"]
fn timing_parse_frame_and_join() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/",
        "../shared/bench/data/logs_1m.jsonl"
    );
    let Ok(bytes) = std::fs::read(path) else {
        eprintln!("SKIPPED timing: {path} is absent");
        return;
    };
    let t = std::time::Instant::now();
    let mut diag = Diagnostics::default();
    let recs = parse_json_logs(&bytes, "logs_1m.jsonl", &mut diag);
    let parsed = t.elapsed();
    let t = std::time::Instant::now();
    let logs = logs_frame(&recs).unwrap();
    let framed = t.elapsed();
    // 1M spans: the logs' own ids, then rotations of them (distinct, and cheap to make).
    let own = |col: &str| -> Vec<String> {
        let ids = logs.column(col).unwrap().str().unwrap().clone();
        ids.iter().flatten().map(str::to_string).collect()
    };
    let (mut traces, mut span_ids) = (own(TRACE_ID), own(SPAN_ID));
    let base = traces.len();
    for i in 0..1_000_000 - base {
        let rotate = |s: &str, by: usize| format!("{}{}", &s[by..], &s[..by]);
        traces.push(rotate(&traces[i % base], 1 + i / base));
        span_ids.push(rotate(&span_ids[i % base], 1 + i / base));
    }
    let spans = df! { TRACE_ID => traces, SPAN_ID => span_ids }.unwrap();
    let t = std::time::Instant::now();
    let j = join_logs(&logs, &spans).unwrap();
    let joined = t.elapsed();
    eprintln!(
        "{} records, {} skipped; parse {parsed:?}, frame {framed:?}, join vs {} spans \
         {joined:?}: {j:?}",
        recs.len(),
        diag.total(Level::Skip),
        spans.height()
    );
    assert_eq!(j.matched_span, recs.len() as u64);
}

#[test]
fn trace_samples_do_not_look_like_json_logs() {
    let root = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/",
        "../shared/samples"
    ));
    let mut checked = 0;
    for dir in ["otlp", "otlp-invalid", "jaeger", "zipkin"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().is_some_and(|e| e == "json") {
                let bytes = std::fs::read(&path).unwrap();
                assert!(!looks_like_json_logs(&bytes), "{}", path.display());
                checked += 1;
            }
        }
    }
    if checked == 0 {
        eprintln!("SKIPPED trace_samples_do_not_look_like_json_logs: no samples under {root:?}");
    }
}
