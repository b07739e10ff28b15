//! Tests of the whole log path on one realistic line per logger of FORMATS.md §4, logfmt,
//! garbage, hostile input, the frame's typed extra columns, and the bench log file.

use polars::prelude::*;

use super::detect::Dialect;
use super::frame::MAX_EXTRA_COLUMNS;
use super::*;
use crate::ingest::record::FieldValue;
use crate::model::columns::{
    ATTRIBUTES, MESSAGE, SERVICE, SEVERITY_NUMBER, SEVERITY_TEXT, SPAN_ID, TIME_NS, TRACE_ID,
};

/// 2024-06-01T12:00:00Z in Unix nanoseconds.
const BASE_NS: i64 = 1_717_243_200_000_000_000;
const MS: i64 = 1_000_000;
const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

/// Parses one line; asserts it gave exactly one record and no diagnostics.
fn one(line: &str) -> LogRecord {
    let mut diag = Diagnostics::default();
    let mut recs = parse_json_logs(line.as_bytes(), "t.log", &mut diag);
    assert!(
        diag.is_empty(),
        "{line}: {:?}",
        diag.iter().collect::<Vec<_>>()
    );
    assert_eq!(recs.len(), 1, "{line}");
    recs.remove(0)
}

fn field<'r>(r: &'r LogRecord, key: &str) -> Option<&'r FieldValue> {
    r.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

fn has_ids(r: &LogRecord, trace: &str, span: &str) {
    assert_eq!(r.trace_id.as_deref(), Some(trace));
    assert_eq!(r.span_id.as_deref(), Some(span));
}

#[test]
fn pino() {
    let line = r#"{"level":30,"time":1717243200123,"pid":4242,"hostname":"web-1","name":"checkout","msg":"order placed","orderId":"A-17","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","trace_flags":"01"}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Pino);
    let r = one(line);
    assert_eq!(r.time_ns, Some(BASE_NS + 123 * MS));
    assert_eq!(
        (r.severity_number, r.severity_text.as_deref()),
        (Some(9), Some("30"))
    );
    assert_eq!(r.message.as_deref(), Some("order placed"));
    assert_eq!(r.service.as_deref(), Some("checkout"));
    has_ids(&r, TRACE, SPAN);
    assert_eq!(field(&r, "pid"), Some(&FieldValue::Int(4242)));
    assert_eq!(
        field(&r, "trace_flags"),
        Some(&FieldValue::Str("01".into()))
    );
}

#[test]
fn bunyan() {
    let line = r#"{"name":"cart","hostname":"cart-7d9","pid":18,"level":50,"msg":"payment failed","time":"2024-06-01T12:00:00.250Z","v":0,"err":{"message":"timeout","name":"TimeoutError"}}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Bunyan);
    let r = one(line);
    assert_eq!(
        (r.time_ns, r.severity_number),
        (Some(BASE_NS + 250 * MS), Some(17))
    );
    assert_eq!(r.service.as_deref(), Some("cart"));
    assert_eq!(
        field(&r, "err.name"),
        Some(&FieldValue::Str("TimeoutError".into()))
    );
    assert_eq!(field(&r, "v"), Some(&FieldValue::Int(0)));
}

#[test]
fn zap() {
    let line = r#"{"level":"error","ts":1717243200.25,"caller":"server/handler.go:88","msg":"upstream timeout","upstream":"inventory","attempt":3,"stacktrace":"main.handler\n\t/app/server/handler.go:88"}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Zap);
    let r = one(line);
    let t = r.time_ns.unwrap();
    assert!((t - (BASE_NS + 250 * MS)).abs() < 1_000, "{t}");
    assert_eq!(r.severity_number, Some(17));
    assert_eq!(r.message.as_deref(), Some("upstream timeout"));
    assert_eq!(r.service, None);
    assert_eq!(field(&r, "attempt"), Some(&FieldValue::Int(3)));
}

#[test]
fn logrus() {
    let line = r#"{"attempt":2,"level":"warning","msg":"retrying request","peer":"10.0.0.7:8080","time":"2024-06-01T12:00:00Z"}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Logrus);
    let r = one(line);
    assert_eq!((r.time_ns, r.severity_number), (Some(BASE_NS), Some(13)));
    assert_eq!(r.severity_text.as_deref(), Some("warning"));
    assert_eq!(
        field(&r, "peer"),
        Some(&FieldValue::Str("10.0.0.7:8080".into()))
    );
}

#[test]
fn go_slog() {
    let line = r#"{"time":"2024-06-01T12:00:00.123456789Z","level":"WARN+2","source":{"function":"main.main","file":"/app/main.go","line":42},"msg":"queue filling","queue_depth":97}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Slog);
    let r = one(line);
    assert_eq!(r.time_ns, Some(BASE_NS + 123_456_789));
    assert_eq!(r.severity_number, Some(15));
    assert_eq!(field(&r, "source.line"), Some(&FieldValue::Int(42)));
    assert_eq!(field(&r, "queue_depth"), Some(&FieldValue::Int(97)));
}

#[test]
fn structlog() {
    let line = r#"{"key":"sku-17","event":"cache miss","level":"info","logger":"catalog.cache","timestamp":"2024-06-01T12:00:00.5Z"}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Structlog);
    let r = one(line);
    assert_eq!(r.message.as_deref(), Some("cache miss"));
    assert_eq!(
        (r.time_ns, r.severity_number),
        (Some(BASE_NS + 500 * MS), Some(9))
    );
}

#[test]
fn python_json_logger_keeps_name_as_a_field() {
    let line = r#"{"asctime":"2024-06-01 12:00:00,123","levelname":"ERROR","name":"payments.gateway","message":"charge declined","lineno":88}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::PythonJson);
    let r = one(line);
    assert_eq!(
        (r.time_ns, r.severity_number),
        (Some(BASE_NS + 123 * MS), Some(17))
    );
    assert_eq!(r.service, None);
    assert_eq!(
        field(&r, "name"),
        Some(&FieldValue::Str("payments.gateway".into()))
    );
}

#[test]
fn ecs_nested() {
    let line = r#"{"@timestamp":"2024-06-01T12:00:00.000Z","log":{"level":"warn","logger":"app"},"message":"slow query","ecs":{"version":"1.6.0"},"service":{"name":"orders"},"trace":{"id":"4BF92F3577B34DA6A3CE929D0E0E4736"},"span":{"id":"00f067aa0ba902b7"},"transaction":{"id":"b7ad6b7169203331"},"event":{"duration":1200000}}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Ecs);
    let r = one(line);
    assert_eq!((r.time_ns, r.severity_number), (Some(BASE_NS), Some(13)));
    assert_eq!(r.service.as_deref(), Some("orders"));
    has_ids(&r, TRACE, SPAN);
    let tx = FieldValue::Str("b7ad6b7169203331".into());
    assert_eq!(field(&r, "transaction.id"), Some(&tx));
    assert_eq!(
        field(&r, "event.duration"),
        Some(&FieldValue::Int(1_200_000))
    );
}

#[test]
fn ecs_dotted_with_transaction_as_span() {
    let line = r#"{"@timestamp":"2024-06-01T12:00:00.000Z","log.level":"error","message":"db down","ecs.version":"1.6.0","service.name":"orders","trace.id":"4bf92f3577b34da6a3ce929d0e0e4736","transaction.id":"00f067aa0ba902b7"}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Ecs);
    let r = one(line);
    assert_eq!(r.severity_number, Some(17));
    assert_eq!(r.service.as_deref(), Some("orders"));
    has_ids(&r, TRACE, SPAN);
}

#[test]
fn otel_python_logging_instrumentation() {
    let with_formatter = r#"{"asctime":"2024-06-01 12:00:00,000","levelname":"INFO","name":"app","message":"checkout ok","otelTraceID":"4bf92f3577b34da6a3ce929d0e0e4736","otelSpanID":"00f067aa0ba902b7","otelServiceName":"checkout","otelTraceSampled":true}"#;
    let r = one(with_formatter);
    assert_eq!(r.service.as_deref(), Some("checkout"));
    has_ids(&r, TRACE, SPAN);
    assert_eq!(field(&r, "otelTraceSampled"), Some(&FieldValue::Bool(true)));
    let bare = r#"{"created":1717243200.0,"lvl":"info","message":"checkout ok","otelTraceID":"4bf92f3577b34da6a3ce929d0e0e4736","otelSpanID":"00f067aa0ba902b7","otelServiceName":"checkout"}"#;
    assert_eq!(detect_dialect(bare.as_bytes()), Dialect::OtelPython);
    has_ids(&one(bare), TRACE, SPAN);
}

#[test]
fn datadog_decimal_ids() {
    let line = r#"{"timestamp":"2024-06-01T12:00:00Z","status":"info","message":"charged","dd":{"trace_id":"11803532876627986230","span_id":"5208512171318403364","service":"payments","env":"prod","version":"1.2"}}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Datadog);
    let r = one(line);
    assert_eq!(r.service.as_deref(), Some("payments"));
    has_ids(&r, "0000000000000000a3ce929d0e0e4736", "48485a3953bb6124");
    assert_eq!(field(&r, "dd.env"), Some(&FieldValue::Str("prod".into())));
    let numeric = r#"{"time":"2024-06-01T12:00:00Z","level":"info","msg":"x","dd.trace_id":11803532876627986230,"dd.span_id":67667974448284343}"#;
    has_ids(&one(numeric), "0000000000000000a3ce929d0e0e4736", SPAN);
}

#[test]
fn google_cloud_trace_path() {
    let line = r#"{"severity":"WARNING","message":"quota near limit","time":"2024-06-01T12:00:00Z","logging.googleapis.com/trace":"projects/shop-prod/traces/4bf92f3577b34da6a3ce929d0e0e4736","logging.googleapis.com/spanId":"00f067aa0ba902b7","logging.googleapis.com/trace_sampled":true}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Gcp);
    let r = one(line);
    assert_eq!((r.time_ns, r.severity_number), (Some(BASE_NS), Some(13)));
    has_ids(&r, TRACE, SPAN);
    assert_eq!(
        one(&line.replace("WARNING", "DEFAULT")).severity_number,
        None
    );
}

#[test]
fn otel_data_model() {
    let line = r#"{"Timestamp":"1717243200000000000","SeverityText":"Error","SeverityNumber":18,"Body":"db error","TraceId":"4bf92f3577b34da6a3ce929d0e0e4736","SpanId":"00f067aa0ba902b7","Resource":{"service.name":"orders"},"Attributes":{"db.system":"postgresql"}}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::OtelModel);
    let r = one(line);
    assert_eq!((r.time_ns, r.severity_number), (Some(BASE_NS), Some(18)));
    assert_eq!(r.message.as_deref(), Some("db error"));
    assert_eq!(r.service.as_deref(), Some("orders"));
    has_ids(&r, TRACE, SPAN);
    let db = FieldValue::Str("postgresql".into());
    assert_eq!(field(&r, "Attributes.db.system"), Some(&db));
}

#[test]
fn bench_format() {
    let line = r#"{"timestamp":"2024-06-01T12:00:00.040136793Z","severity":"WARN","service":"auth","message":"retrying","trace_id":"F1DDE1F64E8172DA4A8D4853B6BBCD58","span_id":"82330e6eb89c96e9","attempt":2,"duration_ms":0.854}"#;
    assert_eq!(detect_dialect(line.as_bytes()), Dialect::Bench);
    let r = one(line);
    assert_eq!(
        (r.time_ns, r.severity_number),
        (Some(BASE_NS + 40_136_793), Some(13))
    );
    assert_eq!(r.service.as_deref(), Some("auth"));
    has_ids(&r, "f1dde1f64e8172da4a8d4853b6bbcd58", "82330e6eb89c96e9");
    assert_eq!(field(&r, "duration_ms"), Some(&FieldValue::Float(0.854)));
}

#[test]
fn logfmt_lines_use_the_same_mapping_and_type_values() {
    let line = r#"time=2024-06-01T12:00:00Z level=error msg="upstream \"inventory\" timeout" service=cart trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7 attempt=3 duration_ms=12.5 cached=false code=007"#;
    let r = one(line);
    assert_eq!((r.time_ns, r.severity_number), (Some(BASE_NS), Some(17)));
    assert_eq!(r.message.as_deref(), Some("upstream \"inventory\" timeout"));
    assert_eq!(r.service.as_deref(), Some("cart"));
    has_ids(&r, TRACE, SPAN);
    assert_eq!(field(&r, "attempt"), Some(&FieldValue::Int(3)));
    assert_eq!(field(&r, "duration_ms"), Some(&FieldValue::Float(12.5)));
    assert_eq!(field(&r, "cached"), Some(&FieldValue::Bool(false)));
    assert_eq!(field(&r, "code"), Some(&FieldValue::Str("007".into())));
    assert!(looks_like_json_logs(line.as_bytes()));
}

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

fn rec(fields: Vec<(&str, FieldValue)>) -> LogRecord {
    let fields = fields
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    LogRecord {
        message: Some("m".into()),
        fields,
        ..LogRecord::default()
    }
}

#[test]
fn frame_infers_one_type_per_extra_column() {
    use FieldValue::{Bool, Float, Int, Str};
    let records = vec![
        rec(vec![
            ("status", Int(200)),
            ("dur", Int(3)),
            ("ok", Bool(true)),
            ("code", Int(1)),
        ]),
        rec(vec![
            ("dur", Float(2.5)),
            ("ok", Bool(false)),
            ("code", Str("E42".into())),
        ]),
        rec(vec![
            ("status", Int(503)),
            ("http-route", Str("/a".into())),
            ("message", Int(1)),
        ]),
    ];
    let df = logs_frame(&records).unwrap();
    assert_eq!(df.height(), 3);
    let dtype = |n: &str| df.column(n).unwrap().dtype().clone();
    assert_eq!(dtype("status"), DataType::Int64);
    assert_eq!(dtype("dur"), DataType::Float64);
    assert_eq!(dtype("ok"), DataType::Boolean);
    assert_eq!(dtype("code"), DataType::String);
    assert_eq!(dtype("http_route"), DataType::String);
    assert_eq!(dtype("field.message"), DataType::Int64);
    let status: Vec<_> = df.column("status").unwrap().i64().unwrap().iter().collect();
    assert_eq!(status, [Some(200), None, Some(503)]);
    let code: Vec<_> = df.column("code").unwrap().str().unwrap().iter().collect();
    assert_eq!(code, [Some("1"), Some("E42"), None]);
}

#[test]
fn empty_frame_has_the_well_known_columns() {
    let df = logs_frame(&[]).unwrap();
    let names: Vec<&str> = df
        .get_column_names()
        .into_iter()
        .map(|n| n.as_str())
        .collect();
    assert_eq!(
        names,
        [
            TIME_NS,
            SEVERITY_NUMBER,
            SEVERITY_TEXT,
            MESSAGE,
            SERVICE,
            TRACE_ID,
            SPAN_ID
        ]
    );
    assert_eq!(df.height(), 0);
    assert_eq!(df.column(TIME_NS).unwrap().dtype(), &DataType::Int64);
    assert_eq!(
        df.column(SEVERITY_NUMBER).unwrap().dtype(),
        &DataType::Int32
    );
}

#[test]
fn extra_columns_past_the_cap_go_to_attributes() {
    let many: Vec<(String, FieldValue)> = (0..MAX_EXTRA_COLUMNS + 5)
        .map(|i| (format!("f{i}"), FieldValue::Int(i as i64)))
        .collect();
    let records = vec![
        LogRecord {
            fields: many,
            ..LogRecord::default()
        },
        LogRecord {
            message: Some("no extras".into()),
            ..LogRecord::default()
        },
    ];
    let df = logs_frame(&records).unwrap();
    assert_eq!(df.width(), 7 + MAX_EXTRA_COLUMNS + 1);
    let attrs: Vec<_> = df
        .column(ATTRIBUTES)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .collect();
    let first: serde_json::Value = serde_json::from_str(attrs[0].unwrap()).unwrap();
    assert_eq!(first["f204"], 204);
    assert_eq!(first.as_object().unwrap().len(), 5);
    assert_eq!(attrs[1], None);
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
    let path = "/work/shared/bench/data/logs_100k.jsonl";
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
/// `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test --lib ingest::logs::tests::timing -- --ignored --nocapture`.
#[test]
#[ignore = "timing run on 50 MB of bench data"]
fn timing_parse_frame_and_join() {
    let path = "/work/shared/bench/data/logs_1m.jsonl";
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
