//! End-to-end tests of [`super::analyze`] on generated frontend → api → db systems.

use super::testkit::{scenario, Scenario, T0};
use super::*;
use crate::model::columns::kind;
use crate::model::finding::Severity;
use crate::model::window::NS_PER_S;

fn faulty() -> Scenario {
    Scenario {
        fault: Some((240, 420)),
        ..Default::default()
    }
}

fn run(sc: &Scenario) -> (Analysis, Dataset) {
    let data = scenario(sc).dataset();
    let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
    (a, data)
}

#[test]
fn db_is_the_root_cause_and_the_source() {
    let (a, _) = run(&faulty());
    assert_eq!(a.root_causes[0].service, "db", "{:#?}", a.root_causes);
    let role = |n: &str| a.roles[a.services.iter().position(|s| s.name == n).unwrap()];
    assert_eq!(role("db"), Role::Source);
    assert_eq!(role("api"), Role::Infected);
    assert!(a.root_causes[0]
        .reason
        .contains("own time per request rose"));
}

#[test]
fn retry_amplification_on_api_to_db_has_the_right_factor() {
    let sc = faulty();
    let frames = scenario(&sc);
    let (a, _) = run(&sc);
    let inc = a.windows.incident.unwrap();
    let api_db: Vec<_> = frames
        .spans
        .iter()
        .filter(|s| s.service == "api" && s.kind == kind::CLIENT && inc.contains(s.start_ns))
        .collect();
    let calls = api_db.iter().filter(|s| s.resend == Some(0)).count() as f64;
    let expected = api_db.len() as f64 / calls;
    assert!(expected > 1.3, "scenario should retry: {expected}");
    let f = a
        .findings
        .iter()
        .find(|f| f.kind == "retry_amplification")
        .expect("retry finding");
    assert_eq!(
        f.edge
            .as_ref()
            .map(|e| (e.caller.as_str(), e.callee.as_str())),
        Some(("api", "db"))
    );
    assert!(f.severity >= Severity::Warning);
    assert!((f.metrics["amplification"] - expected).abs() < 1e-9);
    assert!((f.metrics["end_to_end_factor"] - expected).abs() < 1e-9);
    assert!((f.metrics["path_product_factor"] - expected).abs() < 1e-9);
    assert!(f.metrics["wasted_work_ms"] > 0.0);
    assert_eq!(f.services, ["frontend", "api", "db"]);
    assert_eq!(f.evidence.trace_ids.len(), 5);
}

#[test]
fn error_propagation_charges_db_and_reaches_the_callers() {
    let (a, _) = run(&faulty());
    let f = a
        .findings
        .iter()
        .find(|f| f.kind == "error_propagation")
        .expect("error finding");
    assert_eq!(f.services[0], "db");
    assert!(f.metrics["origin_share"] > 0.95, "{:?}", f.metrics);
    assert!(f.services.contains(&"api".to_string()));
    assert!(f.metrics["share_from_below.api"] > 0.95);
    assert_eq!(f.severity, Severity::Error); // it reached frontend, the entry
}

#[test]
fn quiet_system_says_nothing_alarming() {
    let (a, data) = run(&Scenario::default());
    assert!(a.windows.incident.is_none());
    assert!(
        a.findings.iter().all(|f| f.severity < Severity::Warning),
        "{:#?}",
        a.findings
    );
    assert!(a.root_causes.is_empty());
    assert!(summary_text(&a).contains("No incident detected"));
    let doc = findings_document(&a, &data);
    assert_eq!(doc["windows"]["detected"], false);
    assert!(doc["windows"]["incident"].is_null());
}

#[test]
fn skewed_db_clock_is_corrected_and_the_diagnosis_holds() {
    let sc = Scenario {
        db_skew_ms: -2000,
        ..faulty()
    };
    let (a, _) = run(&sc);
    let db_spans = a
        .table
        .service
        .iter()
        .filter(|&&s| a.table.services.name(s) == "db")
        .count() as u64;
    assert_eq!(a.quality.skew.shifted_spans, db_spans);
    assert_eq!(
        a.quality.skew.shifted_by_service.keys().collect::<Vec<_>>(),
        ["db"]
    );
    assert_eq!(a.root_causes[0].service, "db");
    assert!(summary_text(&a).contains("clock skew"));
}

#[test]
fn an_uninstrumented_db_is_still_named_from_its_callers() {
    let (a, _) = run(&Scenario {
        db_uninstrumented: true,
        ..faulty()
    });
    assert!(a.windows.incident.is_some());
    let top = &a.root_causes[0];
    assert_eq!(top.service, "db", "{:#?}", a.root_causes);
    assert!(top.reason.contains("not instrumented"), "{}", top.reason);
    assert!(a.services.iter().all(|s| s.name != "db"));
}

#[test]
fn output_does_not_depend_on_thread_count() {
    let data = scenario(&faulty()).dataset();
    let with = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .unwrap();
        pool.install(|| {
            let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
            (findings_document(&a, &data).to_string(), summary_text(&a))
        })
    };
    assert_eq!(with(1), with(2));
}

#[test]
fn findings_document_follows_the_contract() {
    let (a, data) = run(&faulty());
    let doc = findings_document(&a, &data);
    assert_eq!(doc["schema"], "cascade.findings/v1");
    for key in ["spans", "traces", "services", "log_records", "skipped"] {
        assert!(!doc["input"][key].is_null(), "input.{key}");
    }
    assert_eq!(doc["windows"]["detected"], true);
    let svc = &doc["services"][1];
    assert_eq!(svc["name"], "db");
    assert_eq!(svc["role"], "source");
    for key in ["requests", "errors", "p99_ms", "self_time_ms", "onset"] {
        assert!(!svc[key].is_null(), "services[].{key}");
    }
    assert!(svc["self_time_ms"]["n_incident"].as_u64().unwrap() > 0);
    let edge = doc["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["callee"] == "db")
        .unwrap();
    for key in [
        "caller",
        "calls",
        "attempts",
        "retries",
        "errors",
        "amplification",
        "p50_ms",
        "p99_ms",
    ] {
        assert!(!edge[key].is_null(), "edges[].{key}");
    }
    let f = &doc["findings"][0];
    for key in [
        "kind", "severity", "title", "services", "start", "end", "metrics", "evidence",
    ] {
        assert!(!f[key].is_null(), "findings[].{key}");
    }
    assert_eq!(doc["root_causes"][0]["service"], "db");
}

#[test]
fn an_empty_dataset_is_a_quiet_answer_not_an_error() {
    let data = Dataset::default();
    let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
    assert!(a.findings.is_empty() && a.root_causes.is_empty() && a.services.is_empty());
    assert!(summary_text(&a).contains("No incident detected"));
    assert_eq!(findings_document(&a, &data)["input"]["spans"], 0);
}

#[test]
fn summary_reads_in_thirty_seconds() {
    let (a, _) = run(&faulty());
    let text = summary_text(&a);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Incident   12:04:00 → 12:07:00 UTC")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Source     db: explains")
                && l.contains("own time per request rose")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Spread     db (+0 s) → api")),
        "{text}"
    );
    assert!(
        text.contains("[warning] retry_amplification  api → db"),
        "{text}"
    );
    assert!(lines.len() < 30, "{text}");
}

#[test]
fn user_windows_override_detection() {
    let data = scenario(&faulty()).dataset();
    let inc = Window::new(T0 + 300 * NS_PER_S, T0 + 400 * NS_PER_S);
    let base = Window::new(T0, T0 + 200 * NS_PER_S);
    let opts = AnalyzeOptions {
        incident: Some(inc),
        baseline: Some(base),
    };
    let a = analyze(&data, &opts).unwrap();
    assert_eq!((a.windows.incident, a.windows.baseline), (Some(inc), base));
    assert!(!a.windows.detected());
    assert_eq!(a.root_causes[0].service, "db");
}

/// Runs on the bench file once ingest lands:
/// `cargo test --release --lib analyze::tests::bench_100k -- --ignored --nocapture`.
/// Truth: source `inventory`, incident 600–1200 s of the 1800 s range from
/// 2024-06-01T12:00:00Z; inventory self time ×10, 3 % 503s; callers time out and retry.
#[test]
#[ignore]
fn bench_100k() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/",
        "../shared/bench/data/spans_100k.jsonl"
    );
    let opts = crate::ingest::IngestOptions {
        traces: vec![path.into()],
        ..Default::default()
    };
    let data = crate::ingest::ingest(&opts).unwrap();
    let t = std::time::Instant::now();
    let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
    eprintln!("analyze: {:?}\n{}", t.elapsed(), summary_text(&a));
    assert_eq!(a.root_causes[0].service, "inventory");
    let inc = a.windows.incident.unwrap();
    let t0 = a.windows.range.start_ns;
    let w = 2 * a.windows.buckets.width_ns;
    assert!((inc.start_ns - t0 - 600 * NS_PER_S).abs() <= w, "{inc:?}");
    assert!((inc.end_ns - t0 - 1200 * NS_PER_S).abs() <= w, "{inc:?}");
}

#[test]
#[ignore]
fn show_summary() {
    let (a, data) = run(&Scenario {
        db_skew_ms: -2000,
        ..faulty()
    });
    eprintln!("{}", summary_text(&a));
    eprintln!(
        "{}",
        serde_json::to_string_pretty(&findings_document(&a, &data)).unwrap()
    );
}

/// Throughput on ~1M generated spans (optimised build):
/// `CARGO_PROFILE_DEV_OPT_LEVEL=3 cargo test --lib analyze::tests::scale_1m -- --ignored --nocapture`.
#[test]
#[ignore]
fn scale_1m() {
    let sc = Scenario {
        rate_per_s: 300,
        ..faulty()
    };
    let data = scenario(&sc).dataset();
    let t = std::time::Instant::now();
    let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
    eprintln!("analyze {} spans: {:?}", a.table.len(), t.elapsed());
    let t = std::time::Instant::now();
    let table = super::table::SpanTable::from_frame(&data.spans).unwrap();
    eprintln!("span table alone: {:?} ({} rows)", t.elapsed(), table.len());
    assert_eq!(a.root_causes[0].service, "db");
}

#[test]
fn a_slow_network_into_db_is_charged_to_db_not_to_its_caller() {
    let (a, _) = run(&Scenario {
        fault_kind: crate::analyze::testkit::FaultKind::DbNetwork,
        ..faulty()
    });
    assert!(a.windows.incident.is_some());
    let top = &a.root_causes[0];
    assert_eq!(top.service, "db", "{:#?}", a.root_causes);
    assert!(
        top.evidence.contains("gap on calls into db"),
        "{}",
        top.evidence
    );
    let db = a.services.iter().position(|s| s.name == "db").unwrap();
    let api = a.services.iter().position(|s| s.name == "api").unwrap();
    assert_eq!(a.roles[db], Role::Source);
    assert_ne!(a.roles[api], Role::Source);
}

#[test]
fn errors_without_span_status_are_read_from_http_status_codes() {
    let (a, _) = run(&Scenario {
        no_status: true,
        ..faulty()
    });
    assert!(a.quality.inferred.errors_from_http > 0);
    assert_eq!(a.root_causes[0].service, "db", "{:#?}", a.root_causes);
    assert!(a.errors.count_for(a.graph.nodes.get("db").unwrap()) > 0);
}

#[test]
fn calls_are_found_when_producers_leave_span_kind_unset() {
    let (a, _) = run(&Scenario {
        no_kinds: true,
        ..faulty()
    });
    assert!(a.quality.inferred.server_kinds > 0 && a.quality.inferred.client_kinds > 0);
    let names: Vec<(&str, &str)> = a
        .graph
        .edges
        .iter()
        .map(|&(x, y)| (a.graph.name(x), a.graph.name(y)))
        .collect();
    assert!(names.contains(&("api", "db")), "{names:?}");
    assert_eq!(a.root_causes[0].service, "db", "{:#?}", a.root_causes);
}
