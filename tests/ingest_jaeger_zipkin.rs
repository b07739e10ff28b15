//! Jaeger and Zipkin ingest end to end: one frame whatever the tracer (OTLP fixtures
//! rendered as Jaeger and Zipkin give the same graph), every real sample loads, compressed
//! and mixed folders work, and truncated or garbled files never panic.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use cascade::export::{edges_csv, service_rates_csv};
use cascade::ingest::diag::Level;
use cascade::ingest::{ingest, Dataset, Format, IngestOptions};
use cascade::model::columns as col;
use serde_json::{json, Map, Value};

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/", "../shared/samples");

fn samples(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(SAMPLES).join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: {} not found", dir.display());
        None
    }
}

fn load(paths: Vec<PathBuf>) -> anyhow::Result<Dataset> {
    ingest(&IngestOptions {
        traces: paths,
        ..Default::default()
    })
}

fn load_text(dir: &Path, name: &str, text: &[u8]) -> Dataset {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    load(vec![path]).unwrap()
}

fn strs(d: &Dataset, name: &str) -> Vec<String> {
    let c = d.spans.column(name).unwrap().str().unwrap();
    c.iter().map(|v| v.unwrap_or("-").to_string()).collect()
}

/// (service, parent's service) of every span, sorted: the call structure of a dataset.
fn service_pairs(d: &Dataset) -> Vec<(String, String)> {
    let (trace, span, parent, service) = (
        strs(d, col::TRACE_ID),
        strs(d, col::SPAN_ID),
        strs(d, col::PARENT_SPAN_ID),
        strs(d, col::SERVICE),
    );
    let by_id: BTreeMap<(&str, &str), &str> = (0..trace.len())
        .map(|i| ((trace[i].as_str(), span[i].as_str()), service[i].as_str()))
        .collect();
    let mut pairs: Vec<(String, String)> = (0..trace.len())
        .map(|i| {
            let up = by_id.get(&(trace[i].as_str(), parent[i].as_str()));
            (service[i].clone(), up.unwrap_or(&"(root)").to_string())
        })
        .collect();
    pairs.sort();
    pairs
}

fn per_service(d: &Dataset) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for s in strs(d, col::SERVICE) {
        *out.entry(s).or_default() += 1;
    }
    out
}

/// Per span, sorted by id: parent, status and the normalised integers, as text.
fn span_facts(d: &Dataset) -> Vec<String> {
    let ints = |c: &str| {
        let c = d.spans.column(c).unwrap().i32().unwrap();
        c.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>()
    };
    let (status, http, resend) = (
        ints(col::STATUS_CODE),
        ints(col::HTTP_STATUS_CODE),
        ints(col::RESEND_COUNT),
    );
    let (trace, span, parent) = (
        strs(d, col::TRACE_ID),
        strs(d, col::SPAN_ID),
        strs(d, col::PARENT_SPAN_ID),
    );
    let mut out: Vec<String> = (0..trace.len())
        .map(|i| {
            let ids = format!("{} {} {}", trace[i], span[i], parent[i]);
            format!("{ids} {} {} {}", status[i], http[i], resend[i])
        })
        .collect();
    out.sort();
    out
}

/// The edges table without its latency columns (µs rendering truncates sub-µs times).
fn edge_counts(d: &Dataset) -> Vec<String> {
    let csv = edges_csv(&d.spans).unwrap();
    csv.lines()
        .map(|l| l.split(',').take(5).collect::<Vec<_>>().join(","))
        .collect()
}

#[test]
fn otlp_and_its_jaeger_rendering_give_the_same_structure() {
    let (Some(otlp), Some(jaeger)) = (samples("otlp"), samples("jaeger")) else {
        return;
    };
    let a = load(vec![otlp.join("jaeger__otlp2jaeger-in.json")]).unwrap();
    let b = load(vec![jaeger.join("jaeger__otlp2jaeger-out.json")]).unwrap();
    assert_eq!(b.files[0].format, Format::Jaeger);
    assert_eq!(service_pairs(&a), service_pairs(&b));
    assert_eq!(per_service(&a), per_service(&b));
    for c in [col::TRACE_ID, col::SPAN_ID, col::PARENT_SPAN_ID, col::SCOPE] {
        assert_eq!(strs(&a, c), strs(&b, c), "{c}");
    }
    for c in [col::KIND, col::START_NS, col::END_NS, col::STATUS_CODE] {
        assert!(
            a.spans
                .column(c)
                .unwrap()
                .equals(b.spans.column(c).unwrap()),
            "{c}"
        );
    }
    assert_eq!(strs(&a, col::SERVER_ADDRESS), strs(&b, col::SERVER_ADDRESS));
    assert_eq!(strs(&a, col::PEER_SERVICE), strs(&b, col::PEER_SERVICE));
}

// ---- An OTLP fixture rendered as Jaeger and as Zipkin (as the OTel exporters write them).

fn otlp_value(v: &Value) -> Value {
    if let Some(s) = v.get("stringValue") {
        return s.clone();
    }
    if let Some(i) = v.get("intValue") {
        let text = i
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| i.to_string());
        return json!(text.parse::<i64>().unwrap());
    }
    v.get("boolValue")
        .or_else(|| v.get("doubleValue"))
        .cloned()
        .unwrap_or(Value::Null)
}

fn attrs(v: &Value) -> Vec<(String, Value)> {
    let list = v.get("attributes").and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .map(|kv| {
            (
                kv["key"].as_str().unwrap().to_string(),
                otlp_value(&kv["value"]),
            )
        })
        .collect()
}

fn jaeger_tag(k: &str, v: &Value) -> Value {
    let ty = match v {
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        _ => "string",
    };
    json!({"key": k, "type": ty, "value": v})
}

fn nanos(v: &Value) -> i64 {
    v.as_str().unwrap().parse().unwrap()
}

/// One OTLP span with its service, resource attributes and scope name.
type OtlpSpan = (String, Vec<(String, Value)>, String, Value);

/// Every span of an OTLP JSON Lines text.
fn otlp_spans(text: &str) -> Vec<OtlpSpan> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let doc: Value = serde_json::from_str(line).unwrap();
        for rs in doc["resourceSpans"].as_array().into_iter().flatten() {
            let res = attrs(&rs["resource"]);
            let service = res
                .iter()
                .find(|(k, _)| k == "service.name")
                .unwrap()
                .1
                .clone();
            for ss in rs["scopeSpans"].as_array().unwrap() {
                let scope = ss["scope"]["name"].as_str().unwrap_or_default().to_string();
                for span in ss["spans"].as_array().unwrap() {
                    let s = service.as_str().unwrap().to_string();
                    out.push((s, res.clone(), scope.clone(), span.clone()));
                }
            }
        }
    }
    out
}

const KINDS: [&str; 6] = ["", "internal", "server", "client", "producer", "consumer"];

fn to_jaeger(text: &str) -> Vec<u8> {
    let mut traces: BTreeMap<String, (Vec<Value>, Map<String, Value>)> = BTreeMap::new();
    for (service, res, scope, span) in otlp_spans(text) {
        let trace = span["traceId"].as_str().unwrap().to_string();
        let (spans, processes) = traces.entry(trace.clone()).or_default();
        let pid = format!("p-{service}");
        let tags: Vec<Value> = res.iter().map(|(k, v)| jaeger_tag(k, v)).collect();
        processes.insert(pid.clone(), json!({"serviceName": service, "tags": tags}));
        let mut tags: Vec<Value> = attrs(&span).iter().map(|(k, v)| jaeger_tag(k, v)).collect();
        let kind = span["kind"].as_u64().unwrap_or(0) as usize;
        if kind > 0 {
            tags.push(jaeger_tag("span.kind", &json!(KINDS[kind])));
        }
        tags.push(jaeger_tag("otel.scope.name", &json!(scope)));
        match span["status"]["code"].as_u64() {
            Some(2) => {
                tags.push(jaeger_tag("otel.status_code", &json!("ERROR")));
                tags.push(jaeger_tag("error", &json!(true)));
            }
            Some(1) => tags.push(jaeger_tag("otel.status_code", &json!("OK"))),
            _ => {}
        }
        let parent = span["parentSpanId"].as_str().unwrap_or_default();
        let refs: Vec<Value> = if parent.is_empty() {
            vec![]
        } else {
            vec![json!({"refType": "CHILD_OF", "traceID": trace, "spanID": parent})]
        };
        let (start, end) = (
            nanos(&span["startTimeUnixNano"]),
            nanos(&span["endTimeUnixNano"]),
        );
        spans.push(json!({
            "traceID": trace, "spanID": span["spanId"], "operationName": span["name"],
            "references": refs, "startTime": start / 1000, "duration": (end - start) / 1000,
            "tags": tags, "logs": [], "processID": pid, "warnings": null
        }));
    }
    let data: Vec<Value> = traces
        .into_iter()
        .map(|(id, (spans, processes))| json!({"traceID": id, "spans": spans, "processes": processes}))
        .collect();
    serde_json::to_vec_pretty(
        &json!({"data": data, "total": 0, "limit": 0, "offset": 0, "errors": null}),
    )
    .unwrap()
}

fn to_zipkin(text: &str) -> Vec<u8> {
    let spans: Vec<Value> = otlp_spans(text)
        .into_iter()
        .map(|(service, _, _, span)| {
            let mut tags: Map<String, Value> = attrs(&span)
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        json!(v.as_str().map(String::from).unwrap_or(v.to_string())),
                    )
                })
                .collect();
            if span["status"]["code"].as_u64() == Some(2) {
                tags.insert("otel.status_code".into(), json!("ERROR"));
                tags.insert("error".into(), json!(""));
            }
            let (start, end) = (
                nanos(&span["startTimeUnixNano"]),
                nanos(&span["endTimeUnixNano"]),
            );
            let mut z = json!({
                "traceId": span["traceId"], "id": span["spanId"], "name": span["name"],
                "timestamp": start / 1000, "duration": (end - start) / 1000,
                "localEndpoint": {"serviceName": service}, "tags": tags
            });
            let kind = span["kind"].as_u64().unwrap_or(0) as usize;
            if kind > 1 {
                z["kind"] = json!(KINDS[kind].to_uppercase());
            }
            let parent = span["parentSpanId"].as_str().unwrap_or_default();
            if !parent.is_empty() {
                z["parentId"] = json!(parent);
            }
            z
        })
        .collect();
    serde_json::to_vec(&spans).unwrap()
}

fn gunzip(path: &Path) -> String {
    let mut out = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[test]
fn a_fixture_read_as_otlp_jaeger_or_zipkin_gives_one_graph() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/retry-storm/traces.jsonl.gz");
    let text = gunzip(&fixture);
    let tmp = tempfile::tempdir().unwrap();
    let otlp = load(vec![fixture]).unwrap();
    let jaeger = load_text(tmp.path(), "t.jaeger.json", &to_jaeger(&text));
    let zipkin = load_text(tmp.path(), "t.zipkin.json", &to_zipkin(&text));
    assert_eq!(jaeger.files[0].format, Format::Jaeger);
    assert_eq!(zipkin.files[0].format, Format::Zipkin);
    assert!(otlp.spans.height() > 1000);
    for (name, other) in [("jaeger", &jaeger), ("zipkin", &zipkin)] {
        assert!(
            other.diagnostics.is_empty(),
            "{name}: {:?}",
            other.diagnostics
        );
        assert_eq!(other.spans.height(), otlp.spans.height(), "{name}");
        assert_eq!(per_service(other), per_service(&otlp), "{name}");
        assert_eq!(service_pairs(other), service_pairs(&otlp), "{name}");
        assert_eq!(edge_counts(other), edge_counts(&otlp), "{name}");
        let rates = |d: &Dataset| service_rates_csv(&d.spans).unwrap();
        assert_eq!(rates(other), rates(&otlp), "{name}");
        assert_eq!(span_facts(other), span_facts(&otlp), "{name}");
    }
}

/// `cascade analyze --json` on one file: root causes in order, whether an incident was found,
/// the edges' call counts and the findings' kinds.
fn analyze_summary(path: &Path) -> Vec<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("analyze")
        .arg(path)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
    let mut summary = vec![format!("detected {}", doc["windows"]["detected"])];
    // The first cause in order; the near-ties below it as a set (Jaeger and Zipkin carry
    // microseconds, so their shares differ from the nanosecond OTLP ones in the last digit).
    let causes = list(&doc["root_causes"]);
    if let Some(first) = causes.first() {
        summary.push(format!("first cause {}", first["service"]));
    }
    let mut rest: Vec<String> = causes
        .iter()
        .skip(1)
        .map(|r| format!("root cause {}", r["service"]))
        .collect();
    rest.sort();
    summary.extend(rest);
    for e in list(&doc["edges"]) {
        let keys = ["caller", "callee", "calls", "attempts", "retries", "errors"];
        summary.push(keys.map(|k| e[k].to_string()).join(" "));
    }
    for f in list(&doc["findings"]) {
        summary.push(format!("finding {} {}", f["kind"], f["severity"]));
    }
    summary
}

/// Every later stage is unaware of the tracer: analyze says the same of all three files.
#[test]
fn analyze_finds_the_same_incident_in_every_rendering() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/retry-storm/traces.jsonl.gz");
    let text = gunzip(&fixture);
    let tmp = tempfile::tempdir().unwrap();
    let jaeger = tmp.path().join("t.jaeger.json");
    let zipkin = tmp.path().join("t.zipkin.json");
    std::fs::write(&jaeger, to_jaeger(&text)).unwrap();
    std::fs::write(&zipkin, to_zipkin(&text)).unwrap();
    let want = analyze_summary(&fixture);
    assert!(
        want.iter().any(|l| l == "first cause \"inventory\""),
        "{want:?}"
    );
    assert_eq!(analyze_summary(&jaeger), want, "jaeger");
    assert_eq!(analyze_summary(&zipkin), want, "zipkin");
}

// ---- Real samples: compressed, mixed, truncated, garbled.

fn every_sample() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in ["jaeger", "zipkin"] {
        let Some(dir) = samples(sub) else { continue };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        out.extend(files);
    }
    out
}

#[test]
fn compressed_and_mixed_folders_read_each_file_in_its_format() {
    let (Some(otlp), Some(jaeger), Some(zipkin)) =
        (samples("otlp"), samples("jaeger"), samples("zipkin"))
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let trace = std::fs::read(jaeger.join("jaeger-ui__testTraceNormal.json")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&trace).unwrap();
    std::fs::write(tmp.path().join("a.jaeger.json.gz"), gz.finish().unwrap()).unwrap();
    let yelp = std::fs::read(zipkin.join("zipkin__yelp.json")).unwrap();
    let zst =
        ruzstd::encoding::compress_to_vec(&yelp[..], ruzstd::encoding::CompressionLevel::Fastest);
    std::fs::write(tmp.path().join("b.zipkin.json.zst"), zst).unwrap();
    std::fs::copy(
        otlp.join("opentelemetry-proto__examples__trace.json"),
        tmp.path().join("c.json"),
    )
    .unwrap();
    let d = load(vec![tmp.path().to_path_buf()]).unwrap();
    let formats: Vec<(Format, u64)> = d.files.iter().map(|f| (f.format, f.spans)).collect();
    assert_eq!(
        formats,
        vec![(Format::Jaeger, 5), (Format::Zipkin, 16), (Format::Otlp, 1)]
    );
    let json = serde_json::to_value(&d.files).unwrap();
    assert_eq!(json[0]["format"], "jaeger");
    assert_eq!(json[1]["compression"], "zstd");
}

/// Deterministic byte positions (a small LCG), so a failure names a reproducible case.
fn positions(len: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize % len.max(1)
        })
        .collect()
}

#[test]
fn truncated_or_garbled_samples_never_panic() {
    let tmp = tempfile::tempdir().unwrap();
    for path in every_sample() {
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
        for cut in [1, 7, 50, 100, 333, 500, 900, 990] {
            let at = bytes.len() * cut / 1000;
            cases.push((format!("cut at {at}"), bytes.get(..at).unwrap().to_vec()));
        }
        for (seed, garbage) in [
            (1u64, b'"'),
            (2, b'}'),
            (3, b'x'),
            (4, 0xff),
            (5, b'9'),
            (6, b'['),
        ] {
            let mut g = bytes.clone();
            for p in positions(g.len(), 5, seed) {
                g[p] = garbage;
            }
            cases.push((format!("garbled seed {seed}"), g));
        }
        for (what, case) in cases {
            let file = tmp.path().join("case.json");
            std::fs::write(&file, &case).unwrap();
            let caught = std::panic::catch_unwind(|| load(vec![file.clone()]));
            let result = caught.unwrap_or_else(|_| panic!("{name}, {what}: panicked"));
            if let Ok(d) = result {
                let noticed = !d.diagnostics.is_empty() || d.spans.height() > 0;
                assert!(
                    noticed || case.trim_ascii().is_empty(),
                    "{name}, {what}: silent"
                );
            }
        }
    }
}

#[test]
fn zipkin_samples_pair_their_shared_calls() {
    let Some(dir) = samples("zipkin") else { return };
    let d = load(vec![dir.join("zipkin__yelp.json")]).unwrap();
    let edges = edges_csv(&d.spans).unwrap();
    assert!(edges.contains("\nmobile_api,spectre,1,"), "{edges}");
    let warn = "Zipkin shared client/server span id: server half given its own id";
    assert!(d.diagnostics.count(Level::Warn, warn) >= 1);
}

/// A fixture as a one-line Jaeger envelope (the query service's layout, streamed in proven
/// chunks) reads exactly as its pretty-printed rendering (scanned); cut or garbled, it never
/// panics and what is read is noticed.
#[test]
fn a_one_line_envelope_reads_as_a_pretty_one_and_survives_damage() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/retry-storm/traces.jsonl.gz");
    let pretty = to_jaeger(&gunzip(&fixture));
    let value: Value = serde_json::from_slice(&pretty).unwrap();
    let line = serde_json::to_vec(&value).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let a = load_text(tmp.path(), "t.json", &pretty);
    let b = load_text(tmp.path(), "t.json", &line);
    assert!(b.spans.height() > 1000);
    assert!(a.spans.equals_missing(&b.spans));
    assert!(a.events.equals_missing(&b.events) && a.links.equals_missing(&b.links));
    assert_eq!(
        format!("{:?}", a.diagnostics),
        format!("{:?}", b.diagnostics)
    );
    let mut cases: Vec<Vec<u8>> = [3, 250, 500, 999]
        .iter()
        .map(|cut| line.get(..line.len() * cut / 1000).unwrap().to_vec())
        .collect();
    for (seed, garbage) in [
        (11u64, b'"'),
        (12, b'}'),
        (13, b'\n'),
        (14, 0xff),
        (15, b','),
    ] {
        let mut g = line.clone();
        for p in positions(g.len(), 3, seed) {
            g[p] = garbage;
        }
        cases.push(g);
    }
    for (i, case) in cases.iter().enumerate() {
        let file = tmp.path().join("case.json");
        std::fs::write(&file, case).unwrap();
        let caught = std::panic::catch_unwind(|| load(vec![file.clone()]));
        let d = caught
            .unwrap_or_else(|_| panic!("case {i}: panicked"))
            .unwrap();
        assert!(
            !d.diagnostics.is_empty() || d.spans.height() > 0,
            "case {i}: silent"
        );
    }
}
