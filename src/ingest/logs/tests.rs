//! Tests of the whole log path on one realistic line per logger of FORMATS.md §4 and logfmt.
//! Hostile input, chunking, sniffing, the join and the bench files: `tests_input.rs`.

use super::detect::Dialect;
use super::*;
use crate::ingest::record::FieldValue;

/// 2024-06-01T12:00:00Z in Unix nanoseconds.
pub(super) const BASE_NS: i64 = 1_717_243_200_000_000_000;
const MS: i64 = 1_000_000;
pub(super) const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
pub(super) const SPAN: &str = "00f067aa0ba902b7";

/// Parses one line; asserts it gave exactly one record and no diagnostics.
pub(super) fn one(line: &str) -> LogRecord {
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

pub(super) fn field<'r>(r: &'r LogRecord, key: &str) -> Option<&'r FieldValue> {
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
    let with_service = line.replace(r#""v":0"#, r#""v":0,"service":"cart-api""#);
    let r = one(&with_service);
    assert_eq!(r.service.as_deref(), Some("cart-api"));
    assert_eq!(field(&r, "name"), Some(&FieldValue::Str("cart".into())));
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
