//! The fast path held to the serde path on volume: a simulated incident fixture rendered as
//! Jaeger (as OTel's OTLP → Jaeger translation writes it, logs and all) and the bench file.

use std::io::Read;
use std::path::Path;

use serde_json::{json, Value};

use super::fast_tests::{assert_same, envelope_traces, traces_both};

const BENCH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/",
    "../shared/bench/data/spans_100k.jaeger.json"
);

fn attr_value(v: &Value) -> (Value, &'static str) {
    let int = |i: &Value| {
        i.as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .or(i.as_i64())
    };
    if let Some(s) = v.get("stringValue") {
        (s.clone(), "string")
    } else if let Some(i) = v.get("intValue") {
        (json!(int(i)), "int64")
    } else if let Some(b) = v.get("boolValue") {
        (b.clone(), "bool")
    } else {
        (
            v.get("doubleValue").cloned().unwrap_or(Value::Null),
            "float64",
        )
    }
}

fn jaeger_tags(attrs: &Value) -> Vec<Value> {
    let list = attrs.as_array().into_iter().flatten();
    list.map(|kv| {
        let (value, ty) = attr_value(&kv["value"]);
        json!({"key": kv["key"], "type": ty, "value": value})
    })
    .collect()
}

fn micros(v: &Value) -> i64 {
    v.as_str().and_then(|s| s.parse::<i64>().ok()).unwrap_or(0) / 1000
}

/// One OTLP span as a Jaeger span of process `pid`.
fn jaeger_span(span: &Value, pid: &str) -> Value {
    let mut tags = jaeger_tags(&span["attributes"]);
    let kinds = ["", "internal", "server", "client", "producer", "consumer"];
    let kind = kinds
        .get(span["kind"].as_u64().unwrap_or(0) as usize)
        .unwrap_or(&"");
    if !kind.is_empty() {
        tags.push(json!({"key": "span.kind", "type": "string", "value": kind}));
    }
    if span["status"]["code"].as_u64() == Some(2) {
        tags.push(json!({"key": "otel.status_code", "type": "string", "value": "ERROR"}));
        tags.push(json!({"key": "error", "type": "bool", "value": true}));
    }
    let trace = &span["traceId"];
    let parent = span["parentSpanId"].as_str().unwrap_or_default();
    let refs = if parent.is_empty() {
        json!([])
    } else {
        json!([{"refType": "CHILD_OF", "traceID": trace, "spanID": parent}])
    };
    let logs: Vec<Value> = span["events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let mut fields = vec![json!({"key": "event", "type": "string", "value": e["name"]})];
            fields.extend(jaeger_tags(&e["attributes"]));
            json!({"timestamp": micros(&e["timeUnixNano"]), "fields": fields})
        })
        .collect();
    let start = micros(&span["startTimeUnixNano"]);
    json!({"traceID": trace, "spanID": span["spanId"], "operationName": span["name"],
           "references": refs, "startTime": start,
           "duration": micros(&span["endTimeUnixNano"]) - start,
           "tags": tags, "logs": logs, "processID": pid, "warnings": null})
}

/// An OTLP JSON Lines text as a Jaeger query-API envelope, processes after the spans.
fn render_jaeger(text: &str) -> String {
    let mut traces: std::collections::BTreeMap<
        String,
        (Vec<Value>, serde_json::Map<String, Value>),
    > = Default::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let doc: Value = serde_json::from_str(line).unwrap();
        for rs in doc["resourceSpans"].as_array().into_iter().flatten() {
            let res = &rs["resource"]["attributes"];
            let service = res
                .as_array()
                .into_iter()
                .flatten()
                .find(|kv| kv["key"] == "service.name")
                .map_or(json!("unknown"), |kv| kv["value"]["stringValue"].clone());
            let pid = format!("p-{}", service.as_str().unwrap_or_default());
            let process = json!({"serviceName": service, "tags": jaeger_tags(res)});
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for span in ss["spans"].as_array().into_iter().flatten() {
                    let trace = span["traceId"].as_str().unwrap_or_default().to_string();
                    let (spans, processes) = traces.entry(trace).or_default();
                    spans.push(jaeger_span(span, &pid));
                    processes.insert(pid.clone(), process.clone());
                }
            }
        }
    }
    let data: Vec<Value> = traces.into_iter().map(|(id, (spans, processes))| {
        json!({"traceID": id, "spans": spans, "processes": processes, "warnings": null})
    }).collect();
    serde_json::to_string_pretty(&json!({"data": data, "total": 0, "errors": null})).unwrap()
}

#[test]
fn a_fixture_rendered_as_jaeger_reads_alike() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/retry-storm/traces.jsonl.gz");
    let mut text = String::new();
    let file = std::fs::File::open(&path).unwrap();
    flate2::read::MultiGzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    let doc = render_jaeger(&text);
    let traces = envelope_traces(doc.as_bytes());
    assert!(traces.len() > 100, "{} traces", traces.len());
    let (fast, serde) = traces_both(doc.as_bytes(), traces);
    assert!(serde.frames[0].height() > 1000 && serde.frames[1].height() > 0);
    assert_same(&fast.expect("taken"), &serde, "retry-storm as Jaeger");
}

#[test]
fn the_bench_file_reads_alike() {
    let Ok(bytes) = std::fs::read(BENCH) else {
        eprintln!("SKIPPED: {BENCH} not found (benches/jaeger.sh writes it)");
        return;
    };
    let traces: Vec<_> = envelope_traces(&bytes).into_iter().take(1500).collect();
    let (fast, serde) = traces_both(&bytes, traces);
    assert_same(&fast.expect("taken"), &serde, BENCH);
}
