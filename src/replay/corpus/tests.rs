//! Generator tests: a seed gives byte-identical cases on any thread count, the seeds of a
//! range produce every fault kind and about one control in six, and the producer quirks
//! a case's truth lists are really in the telemetry it wrote.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use super::plan::{self, Plan, Variant, CONTROL_SHARE, INCIDENTS};
use super::write_plan;

/// A plan made quick to run: short, light traffic, fully sampled.
fn quick(seed: u64) -> Plan {
    let mut p = plan::draw(seed);
    p.duration = 60.0;
    if let Some(f) = p.fault.as_mut() {
        (f.start, f.end) = (20.0, 40.0);
    }
    if let Some(s) = p.surge.as_mut() {
        (s.start, s.end) = (20.0, 40.0);
    }
    p.rate = p.rate.min(10.0);
    p.sample = 1.0;
    p
}

fn gunzip(path: &Path) -> String {
    let mut s = String::new();
    let f = std::fs::File::open(path).unwrap();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for case in std::fs::read_dir(dir).unwrap() {
        let case = case.unwrap().path();
        for f in std::fs::read_dir(&case).unwrap() {
            let f = f.unwrap().path();
            let key = f.strip_prefix(dir).unwrap().display().to_string();
            out.insert(key, std::fs::read(&f).unwrap());
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_on_any_thread_count() {
    use rayon::prelude::*;
    let run = |threads: usize| {
        let dir = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            [7u64, 8, 9].par_iter().for_each(|&s| {
                write_plan(&quick(s), dir.path()).unwrap();
            })
        });
        files(dir.path())
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.len(), 9, "{:?}", one.keys().collect::<Vec<_>>());
    assert_eq!(one, two);
    // The plan itself is a function of the seed alone.
    assert_eq!(
        format!("{:?}", plan::draw(8)),
        format!("{:?}", plan::draw(8))
    );
}

#[test]
fn a_seed_range_produces_every_fault_kind_and_a_sixth_of_controls() {
    let plans: Vec<Plan> = (0..300).map(plan::draw).collect();
    let variants: BTreeSet<&str> = plans.iter().map(|p| p.variant.name()).collect();
    for v in INCIDENTS.iter().chain([&Variant::Control]) {
        assert!(variants.contains(v.name()), "no {} case", v.name());
    }
    let kinds: BTreeSet<&str> = plans.iter().map(|p| p.kind).collect();
    let want = [
        "cpu",
        "network_delay",
        "errors",
        "silent_errors",
        "pool_exhaustion",
        "lock_contention",
        "slow_consumer",
        "load_surge",
        "retry_storm",
        "none",
    ];
    assert_eq!(kinds, want.into_iter().collect());
    let controls = plans.iter().filter(|p| p.kind == "none").count() as f64 / 300.0;
    assert!(
        (CONTROL_SHARE - 0.06..CONTROL_SHARE + 0.06).contains(&controls),
        "{controls}"
    );
    let sizes: Vec<usize> = plans.iter().map(|p| p.graph.nodes.len()).collect();
    assert!(sizes.iter().all(|&n| (4..=60).contains(&n)));
    assert!(sizes.iter().any(|&n| n <= 6) && sizes.iter().any(|&n| n >= 40));
    let rates: Vec<f64> = plans.iter().map(|p| p.rate).collect();
    assert!(rates.iter().any(|&r| r < 3.0) && rates.iter().any(|&r| r > 100.0));
    let samples: Vec<f64> = plans.iter().map(|p| p.sample).collect();
    assert!(samples.iter().any(|&s| s < 0.05) && samples.iter().any(|&s| s > 0.5));
}

/// Every span of a traces file, with its resource's `service.name`.
fn spans(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        for rs in v["resourceSpans"].as_array().unwrap() {
            let svc = rs["resource"]["attributes"][0]["value"]["stringValue"]
                .as_str()
                .unwrap()
                .to_string();
            for s in rs["scopeSpans"][0]["spans"].as_array().unwrap() {
                out.push((svc.clone(), s.clone()));
            }
        }
    }
    out
}

fn has_attr(s: &Value, key: &str) -> bool {
    s["attributes"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["key"] == key))
}

fn nanos(s: &Value, k: &str) -> i128 {
    s[k].as_str().unwrap().parse().unwrap()
}

/// The quirks every corpus shows somewhere (besides a skewed clock).
const WANT: [&str; 4] = ["kind_unset", "not_exported", "old_semconv", "status_unset"];

#[test]
fn the_quirks_a_truth_lists_are_in_the_telemetry() {
    // Every service quirky, on seeds whose topologies hide a dependency and run a queue.
    let mut seen = BTreeSet::new();
    for seed in (0..400u64).filter(|&s| {
        let p = plan::draw(s);
        p.graph.nodes.len() <= 12 && p.graph.nodes.iter().any(|n| n.hidden)
    }) {
        let mut p = quick(seed);
        p.quirk_rate = 1.0;
        let dir = tempfile::tempdir().unwrap();
        let sum = write_plan(&p, dir.path()).unwrap();
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(sum.dir.join("truth.json")).unwrap())
                .unwrap();
        let all = spans(&gunzip(&sum.dir.join("traces.jsonl.gz")));
        let by_id: BTreeMap<&str, &(String, Value)> = all
            .iter()
            .map(|x| (x.1["spanId"].as_str().unwrap(), x))
            .collect();
        let quirks = truth["generator"]["quirks"].as_object().unwrap();
        for (svc, qs) in quirks {
            let mine: Vec<&Value> = all.iter().filter(|x| &x.0 == svc).map(|x| &x.1).collect();
            for q in qs.as_array().unwrap() {
                match q.as_str() {
                    Some("not_exported") => {
                        assert!(mine.is_empty(), "{svc} exported spans");
                        let named =
                            all.iter().any(|x| {
                                x.1["attributes"].as_array().unwrap().iter().any(|a| {
                                    a["value"]["stringValue"].as_str() == Some(svc.as_str())
                                })
                            });
                        assert!(named, "no caller names the hidden {svc}");
                        seen.insert("not_exported");
                    }
                    Some("kind_unset") if !mine.is_empty() => {
                        assert!(mine.iter().all(|s| s.get("kind").is_none()), "{svc}");
                        seen.insert("kind_unset");
                    }
                    Some("old_semconv") if mine.iter().any(|s| has_attr(s, "http.method")) => {
                        assert!(!mine.iter().any(|s| has_attr(s, "http.request.method")));
                        seen.insert("old_semconv");
                    }
                    Some("status_unset") => {
                        assert!(mine.iter().all(|s| s["status"].get("code").is_none()));
                        if mine.iter().any(|s| has_attr(s, "error.type")) {
                            seen.insert("status_unset");
                        }
                    }
                    None if q.get("clock_skew_ms").is_some() => {
                        let skew = q["clock_skew_ms"].as_f64().unwrap();
                        // A skewed server span shifts against its caller's client span.
                        let shifted =
                            mine.iter()
                                .filter(|s| s.get("parentSpanId").is_some())
                                .any(|s| {
                                    let parent = by_id.get(s["parentSpanId"].as_str().unwrap());
                                    parent.is_some_and(|p| {
                                        p.0 != *svc
                                            && (nanos(s, "startTimeUnixNano")
                                                < nanos(&p.1, "startTimeUnixNano")
                                                || nanos(s, "endTimeUnixNano")
                                                    > nanos(&p.1, "endTimeUnixNano"))
                                    })
                                });
                        if shifted {
                            seen.insert(if skew < 0.0 {
                                "skew_early"
                            } else {
                                "skew_late"
                            });
                        }
                    }
                    _ => {}
                }
            }
        }
        let skewed = seen.contains("skew_early") || seen.contains("skew_late");
        if skewed && WANT.iter().all(|w| seen.contains(w)) {
            break;
        }
    }
    for w in WANT {
        assert!(seen.contains(w), "{w} never seen: {seen:?}");
    }
    assert!(
        seen.contains("skew_early") || seen.contains("skew_late"),
        "{seen:?}"
    );
}

#[test]
fn a_case_truth_names_kind_root_instance_and_window() {
    let seed = (0..300u64)
        .find(|&s| plan::draw(s).variant == Variant::Instance)
        .unwrap();
    let p = quick(seed);
    let dir = tempfile::tempdir().unwrap();
    let sum = write_plan(&p, dir.path()).unwrap();
    assert!(sum.dir.ends_with(format!("{seed}-{}", p.kind)));
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(sum.dir.join("truth.json")).unwrap())
            .unwrap();
    assert_eq!(t["format"], "cascade.truth/v1");
    assert!(t["fault_kind"] == "cpu" || t["fault_kind"] == "errors");
    let root = t["root_cause"].as_str().unwrap();
    assert_eq!(t["roles"][root], "source");
    let id = t["root_cause_instance"].as_str().unwrap();
    let traces = gunzip(&sum.dir.join("traces.jsonl.gz"));
    assert!(
        traces.contains(id),
        "the instance id is a real service.instance.id"
    );
    assert_eq!(t["incident"]["start_s"], 20.0);
    assert!(t["incident"]["end_s"].as_f64().unwrap() >= 40.0);
    assert_eq!(t["generator"]["variant"], "instance");
    let control = (0..300u64)
        .find(|&s| plan::draw(s).variant == Variant::Control)
        .unwrap();
    let sum = write_plan(&quick(control), dir.path()).unwrap();
    let t: Value =
        serde_json::from_str(&std::fs::read_to_string(sum.dir.join("truth.json")).unwrap())
            .unwrap();
    assert!(t["root_cause"].is_null() && t["incident"].is_null());
    assert_eq!(t["fault_kind"], "none");
    assert!(t["roles"]
        .as_object()
        .unwrap()
        .values()
        .all(|r| r == "healthy"));
}
