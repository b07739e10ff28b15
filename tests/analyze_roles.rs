//! Integration: the roles `cascade analyze --json` assigns agree with the simulator's ground
//! truth (`roles` in traces.truth.json) for at least 90 % of services across the fixtures,
//! and latency_contagion is flagged, with the truth's source first, exactly where the truth
//! lists the mechanism, and nowhere else (the control run included).

mod common;

use serde_json::Value;

const FIXTURES: [&str; 7] = common::SIMULATED;
/// Share of services whose role must match the truth (issue #6).
const MIN_AGREEMENT: f64 = 0.9;

fn analyze(fixture: &str) -> Value {
    common::analyze_json(fixture, true, &[])
}

fn truth(fixture: &str) -> Value {
    common::truth(fixture).expect("truth file")
}

/// (matching, total, mismatches) of one fixture.
fn agreement(doc: &Value, truth: &Value) -> (usize, usize, Vec<String>) {
    let want = truth["roles"].as_object().expect("truth roles");
    let mut wrong = Vec::new();
    for (name, role) in want {
        let got = doc["services"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["name"] == name.as_str())
            .map_or(Value::Null, |s| s["role"].clone());
        if &got != role {
            wrong.push(format!("{name}: {got} (truth {role})"));
        }
    }
    (want.len() - wrong.len(), want.len(), wrong)
}

fn contagion_sources(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == "latency_contagion")
        .filter_map(|f| f["services"][0].as_str().map(str::to_string))
        .collect()
}

#[test]
fn roles_agree_with_the_truth_and_contagion_is_flagged_where_it_happened() {
    let (mut hit, mut all, mut report, mut wrong) = (0, 0, Vec::new(), Vec::new());
    for fixture in FIXTURES {
        let (doc, t) = (analyze(fixture), truth(fixture));
        let (h, n, miss) = agreement(&doc, &t);
        report.push(format!("{fixture}: {h}/{n} {miss:?}"));
        (hit, all) = (hit + h, all + n);
        let listed = t["mechanisms"]
            .as_array()
            .is_some_and(|m| m.iter().any(|x| x == "latency_contagion"));
        let sources = contagion_sources(&doc);
        let root = t["root_cause"].as_str().map(str::to_string);
        match (listed, root) {
            (true, Some(r)) if !sources.contains(&r) => wrong.push(format!(
                "{fixture}: contagion sources {sources:?}, truth {r}"
            )),
            (false, _) if !sources.is_empty() => wrong.push(format!(
                "{fixture}: contagion flagged {sources:?}, not in truth"
            )),
            _ => {}
        }
    }
    let share = hit as f64 / all.max(1) as f64;
    eprintln!("role agreement {hit}/{all}:\n{}", report.join("\n"));
    assert!(
        share >= MIN_AGREEMENT,
        "agreement {share:.2}:\n{}",
        report.join("\n")
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
