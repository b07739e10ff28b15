//! `--compare`: the same model and seeds under alternative policy sets, run in parallel
//! (policies × seeds with rayon, merged in input order) with common random numbers (every
//! alternative sees the same seeds), summarised side by side.

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::model::IncidentModel;
use super::recovery::recovery;
use super::simulate::{compile, run_matrix};
use super::spec::parse_specs;
use super::summary::seeds_mean;

/// Splits one `--compare` value into its specs (`;` joins several, e.g.
/// `retry:attempts=3;budget:ratio=0.1`).
pub fn split_specs(alt: &str) -> Vec<String> {
    alt.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Runs every alternative (on top of the base `--policy` specs) over `seeds`.
pub fn compare(
    model: &IncidentModel,
    base: &[String],
    alts: &[String],
    seeds: &[u64],
) -> Result<Value> {
    let mut topos = Vec::with_capacity(alts.len());
    for alt in alts {
        let mut specs = base.to_vec();
        specs.extend(split_specs(alt));
        let o = parse_specs(&specs).with_context(|| format!("--compare `{alt}`"))?;
        topos.push(compile(model, &o)?);
    }
    let results = run_matrix(&topos, seeds);
    let rows: Vec<Value> = alts
        .iter()
        .zip(&topos)
        .zip(&results)
        .map(|((alt, topo), runs)| {
            let recovered: Vec<Option<f64>> = runs
                .iter()
                .map(|r| recovery(topo, r).and_then(|x| x.time_to_recover_s))
                .collect();
            json!({"policy": split_specs(alt), "seeds_mean": seeds_mean(topo, runs),
                   "time_to_recover_s": recovered})
        })
        .collect();
    Ok(Value::Array(rows))
}

/// One text line per alternative.
pub fn print(rows: &Value) {
    for r in rows.as_array().into_iter().flatten() {
        let m = &r["seeds_mean"];
        println!(
            "  compare {:<48} ok={} failed={} p99_ms={} recovered {}/{} runs",
            r["policy"].to_string(),
            m["successes"],
            m["failures"],
            m["p99_ms"],
            m["runs_recovered"],
            m["seeds"].as_array().map_or(0, |s| s.len())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternatives_keep_their_order_and_share_seeds() {
        let Ok(m) = crate::replay::model::load_model(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/",
            "../shared/bench/scenarios/small.json"
        ))) else {
            return;
        };
        let alts = [
            "budget:ratio=0.1".to_string(),
            "retry:attempts=1;breaker:min=5".to_string(),
        ];
        let rows = compare(&m, &[], &alts, &[1, 2]).unwrap();
        assert_eq!(rows[0]["policy"], json!(["budget:ratio=0.1"]));
        assert_eq!(
            rows[1]["policy"],
            json!(["retry:attempts=1", "breaker:min=5"])
        );
        assert_eq!(rows[1]["seeds_mean"]["seeds"], json!([1, 2]));
        assert!(compare(&m, &[], &["retry:nope=1".to_string()], &[1]).is_err());
    }
}
