//! Calibration of a capacity the traces cannot show directly. The entry's queue is
//! invisible (no traced client calls it), so a full entry pool looks like busy workers
//! holding at a ceiling. When the entry's capacity is only a lower bound and its busy
//! workers rose to a ceiling in the incident, both the bound and the ceiling are replayed
//! against the traces, and the one whose replay passes more fidelity checks is kept.

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use serde_json::Value;

use super::derive::capacity::{busy_workers, Capacity, Source};
use super::derive::entry_pool::{CEILING_RISE, MIN_DIP_BUCKETS};
use super::derive::Derived;
use super::fidelity::{fidelity, observed_runs};
use super::model::{parse_model, IncidentModel};
use super::simulate::compile;
use super::spec::Overrides;
use crate::analyze::Analysis;

/// Seeds per calibration candidate.
pub const CALIBRATION_SEEDS: usize = 3;
/// The ceiling is the median busy level of the buckets at least this share of the peak.
pub const CEILING_SHARE: f64 = 0.5;

/// Replaces a lower-bound entry capacity by the busy ceiling when that replays better.
pub fn calibrate_entry(a: &Analysis, d: &mut Derived, seeds: &[u64]) -> Result<()> {
    let Some(entry) = d.services.first() else {
        return Ok(());
    };
    let Some(incident) = a.windows.incident else {
        return Ok(());
    };
    if entry.capacity.source != Source::LowerBound {
        return Ok(());
    }
    let busy = busy_workers(&a.table, d.entry_id, &d.frame);
    let base = mean(busy.get(d.frame.within(&a.windows.baseline)).unwrap_or(&[]));
    let Some(ceiling) = ceiling(busy.get(d.frame.within(&incident)).unwrap_or(&[]), base) else {
        return Ok(());
    };
    let workers = ceiling.round().max(1.0) as u32;
    if workers >= entry.capacity.workers {
        return Ok(());
    }
    let json = with_workers(&d.json, &entry.name, workers);
    let model = parse_model(&json.to_string()).context("calibrated model")?;
    let seeds = &seeds[..seeds.len().min(CALIBRATION_SEEDS)];
    if score(a, d, &model, seeds)? <= score(a, d, &d.model, seeds)? {
        return Ok(());
    }
    d.notes.push(format!(
        "{}: the traces cannot show its queue; a pool of {workers} workers (its busy ceiling) replays the traces better than the lower bound of {}",
        entry.name, entry.capacity.workers
    ));
    d.json = json;
    d.model = model;
    if let Some(s) = d.services.first_mut() {
        s.capacity = Capacity {
            workers,
            source: Source::Calibrated,
            plateau: Some(ceiling),
            ..s.capacity.clone()
        };
    }
    Ok(())
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

/// The busy ceiling of the incident buckets, when it stands well above the baseline.
fn ceiling(busy: &[f64], base: f64) -> Option<f64> {
    let peak = busy.iter().copied().fold(0.0, f64::max);
    let mut top: Vec<f64> = busy
        .iter()
        .copied()
        .filter(|&x| x >= CEILING_SHARE * peak)
        .collect();
    if top.len() < MIN_DIP_BUCKETS {
        return None;
    }
    let c = crate::analyze::stats::quantile(&mut top, 0.5)?;
    (c >= CEILING_RISE * base.max(1.0)).then_some(c)
}

fn with_workers(json: &Value, service: &str, workers: u32) -> Value {
    let mut doc = json.clone();
    doc["services"][service]["workers"] = workers.into();
    doc
}

/// Fidelity checks passed by `model` under the observed policy.
fn score(a: &Analysis, d: &Derived, model: &IncidentModel, seeds: &[u64]) -> Result<usize> {
    let topo = compile(model, &Overrides::default())?;
    let (runs, entry) = observed_runs(&topo, seeds, d.frame.sample_rate, &ProgressBar::hidden());
    Ok(fidelity(a, d, &topo, &runs, &entry)
        .checks
        .iter()
        .filter(|c| c.ok)
        .count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ceiling_well_above_the_baseline() {
        let busy = [3.0, 180.0, 250.0, 240.0, 260.0, 120.0, 4.0];
        assert_eq!(ceiling(&busy, 3.0), Some(245.0));
        assert_eq!(ceiling(&[3.0, 4.0, 5.0, 4.0], 3.0), None);
    }
}
