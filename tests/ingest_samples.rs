//! Ingest on the real sample files of `shared/samples` (skipped loudly when absent).

use std::path::{Path, PathBuf};

use cascade::ingest::diag::Level;
use cascade::ingest::{ingest, Dataset, Format, IngestOptions};
use cascade::model::columns as col;

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

fn load(traces: Vec<PathBuf>, logs: Vec<PathBuf>) -> anyhow::Result<Dataset> {
    ingest(&IngestOptions {
        traces,
        logs,
        ..Default::default()
    })
}

fn skips(d: &Dataset) -> Vec<String> {
    d.diagnostics
        .iter()
        .filter(|(l, _, _)| *l == Level::Skip)
        .map(|(_, r, e)| format!("{r} x{} {:?}", e.count, e.examples))
        .collect()
}

#[test]
fn every_valid_sample_loads_without_a_skip() {
    let Some(dir) = samples("otlp") else { return };
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let d = load(vec![path.clone()], vec![]).unwrap();
        assert!(skips(&d).is_empty(), "{}: {:?}", path.display(), skips(&d));
        let f = &d.files[0];
        assert!(
            f.spans + f.log_records > 0,
            "{}: nothing read",
            path.display()
        );
        assert_eq!(f.spans as usize, d.spans.height());
    }
}

#[test]
fn every_jaeger_and_zipkin_sample_loads_without_a_skip() {
    for (sub, format) in [("jaeger", Format::Jaeger), ("zipkin", Format::Zipkin)] {
        let Some(dir) = samples(sub) else { continue };
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let d = load(vec![path.clone()], vec![]).unwrap();
            assert!(skips(&d).is_empty(), "{}: {:?}", path.display(), skips(&d));
            let f = &d.files[0];
            assert_eq!(f.format, format, "{}", path.display());
            assert!(f.spans > 0, "{}: nothing read", path.display());
            assert_eq!(f.spans as usize, d.spans.height());
        }
    }
}

#[test]
fn jaeger_and_zipkin_samples_keep_their_facts() {
    let (Some(jaeger), Some(zipkin)) = (samples("jaeger"), samples("zipkin")) else {
        return;
    };
    let count = |p: PathBuf| load(vec![p], vec![]).unwrap().spans.height();
    assert_eq!(count(jaeger.join("jaeger__uimodel-ui_01.json")), 5);
    assert_eq!(count(jaeger.join("jaeger-ui__genaiTestTrace.json")), 57);
    assert_eq!(
        count(zipkin.join("zipkin__smartthings-oauth-authorization.json")),
        175
    );
    let ui = load(vec![jaeger.join("jaeger__uimodel-ui_01.json")], vec![]).unwrap();
    let trace = ui
        .spans
        .column(col::TRACE_ID)
        .unwrap()
        .str()
        .unwrap()
        .get(0);
    assert_eq!(trace, Some("00000000000000000000000000000001"));
    // Envoy writes no serviceName: kept as unknown_service, with its legacy string tags typed.
    let envoy = load(vec![zipkin.join("zipkin__envoy.json")], vec![]).unwrap();
    let http = envoy
        .spans
        .column(col::HTTP_STATUS_CODE)
        .unwrap()
        .i32()
        .unwrap();
    assert_eq!(http.get(0), Some(200));
    let service = envoy
        .spans
        .column(col::SERVICE)
        .unwrap()
        .str()
        .unwrap()
        .get(0);
    assert_eq!(service, Some("unknown_service"));
    // OTel status carried as Zipkin tags.
    let otel = load(
        vec![zipkin.join("collector-contrib__zipkinreceiver-sample3.json")],
        vec![],
    )
    .unwrap();
    let msg = otel
        .spans
        .column(col::STATUS_MESSAGE)
        .unwrap()
        .str()
        .unwrap()
        .get(0);
    assert_eq!(msg, Some("Something failed"));
}

#[test]
fn the_otel_demo_recording_has_every_signal() {
    let Some(dir) = samples("otlp") else { return };
    let d = load(vec![dir.join("otel-tui__test_data.json.gz")], vec![]).unwrap();
    let f = &d.files[0];
    assert_eq!((f.spans, f.log_records, f.other_signals), (547, 23, 40));
    let errors = d.spans.column(col::STATUS_CODE).unwrap().i32().unwrap();
    // 107 spans carry OTLP status 2; 40 Envoy spans carry only the legacy `error="true"` tag.
    assert_eq!(errors.iter().filter(|c| *c == Some(2)).count(), 107 + 40);
    let services = d.spans.column(col::SERVICE).unwrap().n_unique().unwrap();
    assert!(services > 5, "{services} services");
}

#[test]
fn jaeger_api_v3_without_times_loads_with_warnings() {
    let Some(dir) = samples("otlp") else { return };
    let d = load(vec![dir.join("jaeger__apiv3-GetTrace.json")], vec![]).unwrap();
    assert_eq!(d.spans.height(), 1);
    assert_eq!(
        d.diagnostics.total(Level::Warn),
        3,
        "two missing times + no service.name"
    );
}

#[test]
fn the_2038_log_timestamp_is_exact() {
    let Some(dir) = samples("otlp") else { return };
    let path = dir.join("fluent-bit__in_opentelemetry-test_logs_2038.in.json");
    let d = load(vec![], vec![path]).unwrap();
    assert_eq!(d.files[0].log_records, 1);
    assert!(d.diagnostics.is_empty(), "{:?}", skips(&d));
}

/// Writes each case's `input` to its own file and loads it.
fn run_cases(file: &Path, as_logs: bool, check: impl Fn(&str, bool, anyhow::Result<Dataset>)) {
    let table: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    for (name, case) in &table {
        let path = tmp.path().join(format!("{name}.json"));
        std::fs::write(&path, case["input"].to_string()).unwrap();
        let (t, l) = if as_logs {
            (vec![], vec![path])
        } else {
            (vec![path], vec![])
        };
        check(name, case.get("expected_error").is_some(), load(t, l));
    }
}

#[test]
fn fluent_bit_trace_cases_skip_or_fail_and_valid_ones_load() {
    let Some(dir) = samples("otlp-invalid") else {
        return;
    };
    run_cases(
        &dir.join("fluent-bit__internal-opentelemetry-traces-cases.json"),
        false,
        |name, bad, res| match (bad, res) {
            (true, Err(_)) => {}
            (true, Ok(d)) => assert!(d.diagnostics.total(Level::Skip) > 0, "{name}: accepted"),
            (false, Ok(d)) => {
                assert!(
                    d.spans.height() > 0 && skips(&d).is_empty(),
                    "{name}: {:?}",
                    skips(&d)
                )
            }
            (false, Err(e)) => panic!("{name}: {e:#}"),
        },
    );
}

#[test]
fn fluent_bit_log_cases_never_panic_and_valid_ones_load() {
    let Some(dir) = samples("otlp-invalid") else {
        return;
    };
    run_cases(
        &dir.join("fluent-bit__internal-opentelemetry-logs-cases.json"),
        true,
        |name, bad, res| {
            match (bad, res) {
                (true, Err(_)) => {}
                // `body: []` deserialises as an empty AnyValue (serde reads a struct from a
                // sequence): the record is kept with no message, which loses nothing.
                (true, Ok(_)) if name == "unexpected_body_type" => {}
                (true, Ok(d)) => assert!(!d.diagnostics.is_empty(), "{name}: nothing noticed"),
                (false, Ok(d)) => assert!(skips(&d).is_empty(), "{name}: {:?}", skips(&d)),
                (false, Err(e)) => panic!("{name}: {e:#}"),
            }
        },
    );
}

#[test]
fn collector_base64_trace_is_converted() {
    let Some(dir) = samples("otlp-invalid") else {
        return;
    };
    let yaml = dir.join("collector-contrib__otlpjsonconnector-input-invalid-trace.yaml");
    assert!(load(vec![yaml.clone()], vec![])
        .unwrap_err()
        .to_string()
        .contains("expected"));
    let text = std::fs::read_to_string(&yaml).unwrap();
    let start = text.find("'{").unwrap() + 1;
    let end = text.rfind("}'").unwrap() + 1;
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("trace.json");
    std::fs::write(&path, &text[start..end]).unwrap();
    let d = load(vec![path], vec![]).unwrap();
    assert_eq!(d.spans.height(), 1);
    assert_eq!(
        d.diagnostics
            .count(Level::Warn, "base64 id converted to hex"),
        2
    );
    let kind = d.spans.column(col::KIND).unwrap().i32().unwrap().get(0);
    assert_eq!(kind, Some(1));
}
