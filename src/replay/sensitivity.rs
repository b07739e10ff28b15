//! The sensitivity sweep: the derived fault's size and duration and the calibrated
//! capacity are uncertain, and near a tipping point a few per cent decide between recovery
//! and collapse (Huang et al., OSDI 2022). Each variant edits the derived model; the
//! leading candidates are re-run on every variant, and a candidate is *robust* when it
//! recovered in every seed of every variant.

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use serde::Serialize;
use serde_json::Value;

use super::derive::frame::round;
use super::model::{parse_model, IncidentModel};
use super::policies::{metrics, run_map, topology, Candidate};

/// Fault size band: the multiplier's excess over 1 and the error rate, ±10 %.
pub const SIZE_BAND: f64 = 0.10;
/// Fault duration band: ±10 % of the fault's length (at least one bucket).
pub const DURATION_BAND: f64 = 0.10;
/// Capacity band: every service's workers ±15 % (the plateau's sampling error).
pub const CAPACITY_BAND: f64 = 0.15;
/// Seeds per variant (at most the replay's seeds).
pub const SWEEP_SEEDS: usize = 5;
/// Alternatives re-run on the band (the best ranked), besides the observed policy.
pub const SWEEP_CANDIDATES: usize = 3;

/// One edited model.
#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub model: IncidentModel,
}

/// One candidate on one variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BandCell {
    pub variant: String,
    pub policy: String,
    pub outlived_share: f64,
    pub goodput_rps: f64,
    pub error_rate: f64,
}

/// The variants of a derived model document (`bucket_s` = its bucket width).
pub fn variants(json: &Value, bucket_s: f64) -> Result<Vec<Variant>> {
    let mut docs: Vec<(String, Value)> = Vec::new();
    if json["faults"].as_array().is_some_and(|f| !f.is_empty()) {
        for f in [1.0 - SIZE_BAND, 1.0 + SIZE_BAND] {
            docs.push((format!("fault size ×{f:.2}"), scale_fault(json, f)));
        }
        for f in [-DURATION_BAND, DURATION_BAND] {
            docs.push((
                format!("fault duration {:+.0} %", f * 100.0),
                stretch_fault(json, f, bucket_s),
            ));
        }
    }
    for f in [1.0 - CAPACITY_BAND, 1.0 + CAPACITY_BAND] {
        docs.push((format!("capacity ×{f:.2}"), scale_capacity(json, f)));
    }
    docs.into_iter()
        .map(|(name, doc)| {
            let model = parse_model(&doc.to_string())
                .with_context(|| format!("sensitivity variant `{name}`"))?;
            Ok(Variant { name, model })
        })
        .collect()
}

fn scale_fault(json: &Value, f: f64) -> Value {
    let mut doc = json.clone();
    for x in doc["faults"].as_array_mut().into_iter().flatten() {
        let m = x["latency_multiplier"].as_f64().unwrap_or(1.0);
        let e = x["error_rate"].as_f64().unwrap_or(0.0);
        x["latency_multiplier"] = round(1.0 + (m - 1.0) * f, 4).into();
        x["error_rate"] = round((e * f).min(1.0), 4).into();
    }
    doc
}

/// Stretches the fault about its start by `f` of its length (at least one bucket).
fn stretch_fault(json: &Value, f: f64, bucket_s: f64) -> Value {
    let mut doc = json.clone();
    let faults = doc["faults"].as_array_mut();
    let Some(faults) = faults.filter(|x| !x.is_empty()) else {
        return doc;
    };
    let start = faults
        .iter()
        .filter_map(|x| x["start_s"].as_f64())
        .fold(f64::INFINITY, f64::min);
    let end = faults
        .iter()
        .filter_map(|x| x["end_s"].as_f64())
        .fold(f64::NEG_INFINITY, f64::max);
    let len = end - start;
    let delta = (f.abs() * len).max(bucket_s).min(len * 0.5) * f.signum();
    let k = (len + delta) / len;
    for x in faults.iter_mut() {
        for key in ["start_s", "end_s"] {
            let t = x[key].as_f64().unwrap_or(start);
            x[key] = round(start + (t - start) * k, 6).into();
        }
    }
    doc
}

fn scale_capacity(json: &Value, f: f64) -> Value {
    let mut doc = json.clone();
    if let Some(svcs) = doc["services"].as_object_mut() {
        for s in svcs.values_mut() {
            let w = s["workers"].as_f64().unwrap_or(1.0);
            s["workers"] = ((w * f).round().max(1.0) as u64).into();
        }
    }
    doc
}

/// Runs `candidates` on every variant over `seeds`; cells in (variant, candidate) order.
pub fn sweep(
    variants: &[Variant],
    candidates: &[Candidate],
    seeds: &[u64],
    window: std::ops::Range<usize>,
    bar: &ProgressBar,
) -> Result<Vec<BandCell>> {
    let mut topos = Vec::new();
    for v in variants {
        for c in candidates {
            topos.push(topology(&v.model, c)?);
        }
    }
    let runs = run_map(&topos, seeds, bar, |_, t, st| {
        metrics(t, &st, window.clone())
    });
    let n = candidates.len().max(1);
    Ok(runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let k = r.len().max(1) as f64;
            BandCell {
                variant: variants[i / n].name.clone(),
                policy: candidates[i % n].name.clone(),
                outlived_share: r.iter().filter(|m| m.outlived).count() as f64 / k,
                goodput_rps: round(r.iter().map(|m| m.goodput_rps).sum::<f64>() / k, 3),
                error_rate: round(r.iter().map(|m| m.error_rate).sum::<f64>() / k, 4),
            }
        })
        .collect())
}

/// Whether `policy` recovered in every seed of every variant.
pub fn robust(cells: &[BandCell], policy: &str) -> bool {
    cells
        .iter()
        .filter(|c| c.policy == policy)
        .all(|c| c.outlived_share == 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({"duration_s": 100, "arrivals": {"entry": "a", "rate_per_s": 5},
            "services": {"a": {"workers": 10, "service_time_ms": {"dist": "constant", "value": 1}}},
            "faults": [{"service": "a", "start_s": 40, "end_s": 50, "latency_multiplier": 11},
                       {"service": "a", "start_s": 50, "end_s": 60, "latency_multiplier": 5}]})
    }

    #[test]
    fn variants_edit_size_duration_and_capacity() {
        let v = variants(&doc(), 1.0).unwrap();
        assert_eq!(v.len(), 6);
        assert_eq!(
            scale_fault(&doc(), 1.1)["faults"][0]["latency_multiplier"],
            12.0
        );
        let s = stretch_fault(&doc(), 0.1, 1.0);
        assert_eq!(
            (
                s["faults"][1]["start_s"].as_f64(),
                s["faults"][1]["end_s"].as_f64()
            ),
            (Some(51.0), Some(62.0))
        );
        assert_eq!(scale_capacity(&doc(), 0.85)["services"]["a"]["workers"], 9);
        let cells = vec![BandCell {
            variant: "x".into(),
            policy: "p".into(),
            outlived_share: 0.2,
            goodput_rps: 1.0,
            error_rate: 0.0,
        }];
        assert!(!robust(&cells, "p") && robust(&cells, "q"));
    }
}
