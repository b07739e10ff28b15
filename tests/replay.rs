//! `cascade replay` on the simulated fixtures. Round trips: a fixture's traces were written
//! by `cascade simulate` from the model in fixtures/models; the model derived back from
//! them must match it (arrival rate ±5 %, identifiable worker pools ±15 %, timeouts and
//! attempts exact, fault window ±1 bucket, multiplier ±20 %) and replay with a `good`
//! fidelity verdict. Every deviation is listed at once. Recommendations: on the retry-storm
//! and metastable incidents the top policy recovers; on the control there is nothing to fix.

use std::path::{Path, PathBuf};
use std::process::Command;

use cascade::analyze::{self, AnalyzeOptions};
use cascade::ingest::{self, IngestOptions};
use cascade::model::replay::Verdict;
use cascade::replay::command::{replay, Replay, ReplayOptions};
use cascade::replay::derive::capacity::Source;
use cascade::replay::derive::DeriveOptions;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Replays a fixture at its sampling rate (from its truth file).
fn run(name: &str, seeds: u32, sweep: bool) -> (Replay, Value, Value) {
    let dir = fixture(name);
    let model = fixture("models").join(format!("{name}.json"));
    replay_traces(
        &dir.join("traces.jsonl.gz"),
        &dir.join("traces.truth.json"),
        &model,
        seeds,
        sweep,
    )
}

/// Replays `traces` (made from `model`, with `truth` beside them).
fn replay_traces(
    traces: &Path,
    truth: &Path,
    model: &Path,
    seeds: u32,
    sweep: bool,
) -> (Replay, Value, Value) {
    let truth = json(truth);
    let model = json(model);
    let data = ingest::ingest(&IngestOptions {
        traces: vec![traces.to_path_buf()],
        logs: vec![],
        progress: false,
    })
    .unwrap();
    let a = analyze::analyze(&data, &AnalyzeOptions::default()).unwrap();
    let opts = ReplayOptions {
        derive: DeriveOptions {
            sample_rate: truth["sample_rate"].as_f64().unwrap_or(1.0),
            capacity: vec![],
        },
        seeds,
        sweep,
        ..ReplayOptions::default()
    };
    (replay(&a, &opts).unwrap(), model, truth)
}

/// The model's resolved (max_attempts, timeout_ms) of edge `from -> to`.
fn model_policy(m: &Value, from: &str, to: &str) -> (u64, Option<f64>) {
    let d = &m["policies"]["default"];
    let e = m["policies"]["edges"]
        .as_array()
        .and_then(|es| es.iter().find(|e| e["from"] == from && e["to"] == to));
    let pick = |k: &str| e.and_then(|e| e.get(k)).unwrap_or(&d[k]).clone();
    (
        pick("max_attempts").as_u64().unwrap_or(1),
        pick("timeout_ms").as_f64(),
    )
}

/// Every deviation of the derived model from the one that made the traces.
fn round_trip_deviations(r: &Replay, model: &Value, truth: &Value) -> Vec<String> {
    let mut bad = Vec::new();
    let d = &r.derived;
    let rate = model["arrivals"]["rate_per_s"].as_f64().unwrap();
    if (d.mean_arrival_rate / rate - 1.0).abs() > 0.05 {
        bad.push(format!("arrival rate {} vs {rate}", d.mean_arrival_rate));
    }
    for s in &d.services {
        let w = model["services"][&s.name]["workers"].as_f64().unwrap();
        let identified = matches!(s.capacity.source, Source::Plateau | Source::Calibrated);
        if identified && (s.capacity.workers as f64 / w - 1.0).abs() > 0.15 {
            bad.push(format!("{} workers {} vs {w}", s.name, s.capacity.workers));
        }
    }
    for te in truth["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["caller"] != "client")
    {
        let (from, to) = (
            te["caller"].as_str().unwrap(),
            te["callee"].as_str().unwrap(),
        );
        let Some(e) = d.edges.iter().find(|e| e.from == from && e.to == to) else {
            bad.push(format!("edge {from}->{to} missing"));
            continue;
        };
        let (attempts, timeout) = model_policy(model, from, to);
        let want_attempts = if te["retries"].as_u64() > Some(0) {
            attempts
        } else {
            1
        };
        if u64::from(e.max_attempts) != want_attempts {
            bad.push(format!(
                "{from}->{to} attempts {} vs {want_attempts}",
                e.max_attempts
            ));
        }
        let want_timeout = if te["timeouts"].as_u64() > Some(0) {
            timeout
        } else {
            None
        };
        if e.timeout_ms != want_timeout {
            bad.push(format!(
                "{from}->{to} timeout {:?} vs {want_timeout:?}",
                e.timeout_ms
            ));
        }
    }
    let tf = &truth["fault"];
    match d.fault.as_ref().and_then(|f| f.window().map(|w| (f, w))) {
        None => bad.push("no fault derived".into()),
        Some((f, (start, end))) => {
            let (ts, te) = (
                tf["start_s"].as_f64().unwrap(),
                tf["end_s"].as_f64().unwrap(),
            );
            if f.service != tf["service"] || (start - ts).abs() > 1.0 || (end - te).abs() > 1.0 {
                bad.push(format!("fault {} {start}..{end} vs {tf}", f.service));
            }
            let m: f64 = f
                .segments
                .iter()
                .map(|s| s.latency_multiplier * (s.end_s - s.start_s))
                .sum::<f64>()
                / (end - start);
            let want = tf["latency_multiplier"].as_f64().unwrap();
            if (m / want - 1.0).abs() > 0.20 {
                bad.push(format!("fault multiplier {m} vs {want}"));
            }
        }
    }
    if r.view.verdict != Verdict::Good {
        bad.push(format!(
            "fidelity {:?}: {:?}",
            r.view.verdict, r.view.fidelity
        ));
    }
    bad
}

#[test]
fn round_trip_metastable_and_retry_storm_and_their_recommendations() {
    let mut bad = Vec::new();
    for name in ["metastable", "retry-storm"] {
        let (r, model, truth) = run(name, 5, true);
        bad.extend(
            round_trip_deviations(&r, &model, &truth)
                .into_iter()
                .map(|b| format!("{name}: {b}")),
        );
        let best = &r.view.policies[1];
        if best.outlived_trigger > 0.0
            || best.time_to_recover_s.is_none()
            || !r.view.recommendation.contains(&best.name)
        {
            bad.push(format!(
                "{name}: recommended {} does not recover: {}",
                best.name, r.view.recommendation
            ));
        }
        if name == "metastable" {
            let db = r
                .derived
                .services
                .iter()
                .find(|s| s.name == "db")
                .map(|s| s.capacity.source);
            if db != Some(Source::Plateau) {
                bad.push(format!(
                    "metastable: db capacity {db:?}, expected from its plateau"
                ));
            }
            if r.view.policies[0].outlived_trigger < 0.5 {
                bad.push("metastable: the observed policy should not recover".into());
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn round_trip_through_a_fresh_simulation() {
    // Another seed and sampling rate than the fixture: simulate, then derive back.
    let dir = tempfile::tempdir().unwrap();
    let traces = dir.path().join("fresh.jsonl");
    let model = fixture("models").join("metastable.json");
    let o = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("simulate")
        .arg(&model)
        .args(["--seed", "99", "--sample", "0.3", "--traces-out"])
        .arg(&traces)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (r, model, truth) = replay_traces(
        &traces,
        &dir.path().join("fresh.truth.json"),
        &model,
        3,
        false,
    );
    let bad = round_trip_deviations(&r, &model, &truth);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn control_has_nothing_to_fix_and_replays_well() {
    let (r, _, _) = run("control", 3, true);
    assert!(r.derived.fault.is_none(), "{:?}", r.derived.fault);
    assert_eq!(r.view.verdict, Verdict::Good, "{:?}", r.view.fidelity);
    assert!(
        r.view.recommendation.contains("nothing to fix"),
        "{}",
        r.view.recommendation
    );
}

#[test]
fn same_document_on_1_and_4_threads_and_the_model_runs_in_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let doc = |out: &str, threads: &str| {
        let model = dir.path().join(out);
        let o = Command::new(env!("CARGO_BIN_EXE_cascade"))
            .env("RAYON_NUM_THREADS", threads)
            .arg("replay")
            .arg(fixture("retry-storm").join("traces.jsonl.gz"))
            .args([
                "--sample-rate",
                "0.25",
                "--seeds",
                "3",
                "--no-sweep",
                "--json",
                "--policy",
                "budget:ratio=0.05",
                "--model-out",
            ])
            .arg(&model)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (o.stdout, model)
    };
    let (a, model) = doc("a.json", "1");
    let (b, _) = doc("b.json", "4");
    assert_eq!(a, b, "replay output must not depend on the thread count");
    let v: Value = serde_json::from_slice(&a).unwrap();
    assert_eq!(v["schema"], "cascade.replay/v1");
    assert!(v["policies"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "budget:ratio=0.05"));
    let sim = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("simulate")
        .arg(&model)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        sim.status.success(),
        "{}",
        String::from_utf8_lossy(&sim.stderr)
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("replay")
        .arg(fixture("control").join("traces.jsonl.gz"))
        .args(["--capacity", "db"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--capacity `db`"));
}
