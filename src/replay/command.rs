//! `cascade replay`: derive the incident model from the analysis, check its fidelity
//! under the observed policy, replay the alternatives over common seeds, sweep the
//! sensitivity band, rank and recommend. [`replay`] computes everything, [`replay_view`]
//! is what `report --replay` renders; `render` writes the document and the table.

use std::ops::Range;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};

use super::calibrate::calibrate_entry;
use super::derive::{derive, DeriveOptions, Derived};
use super::fidelity::{fidelity, observed_runs, Fidelity};
use super::policies::{catalogue, metrics, outcome, run_map, topology, Candidate};
use super::recommend::{rank, recommendation, Cause};
pub use super::render::{document, text};
use super::sensitivity::{
    self, BandCell, CAPACITY_BAND, DURATION_BAND, SIZE_BAND, SWEEP_CANDIDATES, SWEEP_SEEDS,
};
use super::sim::Topology;
use crate::analyze::Analysis;
use crate::ingest::Dataset;
use crate::model::replay::{PolicyOutcome, ReplayView};

/// Format tag of the replay document.
pub const REPLAY_FORMAT: &str = "cascade.replay/v1";

/// Options of a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayOptions {
    /// Sampling rate and configured capacities (default: unsampled, capacity from traces).
    pub derive: DeriveOptions,
    /// Extra `--policy` specs, each one alternative (`;` joins several; default none).
    pub policies: Vec<String>,
    /// Seeds per policy (default 10), common to every policy.
    pub seeds: u32,
    /// First seed (default 1).
    pub first_seed: u64,
    /// Run the sensitivity sweep (default true).
    pub sweep: bool,
    /// Draw a progress bar on stderr (default false; `app` sets it on a terminal).
    pub progress: bool,
}

impl Default for ReplayOptions {
    fn default() -> Self {
        ReplayOptions {
            derive: DeriveOptions::default(),
            policies: Vec::new(),
            seeds: 10,
            first_seed: 1,
            sweep: true,
            progress: false,
        }
    }
}

/// Everything a replay found.
#[derive(Debug, Clone)]
pub struct Replay {
    pub derived: Derived,
    pub fidelity: Fidelity,
    pub view: ReplayView,
    pub band: Vec<BandCell>,
    /// Evaluation window of the policy figures (model seconds).
    pub window_s: (f64, f64),
}

/// The view `report --replay` renders.
pub fn replay_view(_data: &Dataset, a: &Analysis, o: &ReplayOptions) -> Result<ReplayView> {
    Ok(replay(a, o)?.view)
}

/// Runs the whole replay.
pub fn replay(a: &Analysis, o: &ReplayOptions) -> Result<Replay> {
    let mut derived = derive(a, &o.derive)?;
    let seeds: Vec<u64> = (0..o.seeds.max(1) as u64)
        .map(|i| o.first_seed.wrapping_add(i))
        .collect();
    calibrate_entry(a, &mut derived, &seeds)?;
    let cands = catalogue(&o.policies);
    let topos = cands
        .iter()
        .map(|c| topology(&derived.model, c))
        .collect::<Result<Vec<_>>>()?;
    let window = eval_window(&derived);
    let variants = if o.sweep {
        sensitivity::variants(&derived.json, derived.frame.width_s())?
    } else {
        Vec::new()
    };
    let sweep_seeds = &seeds[..seeds.len().min(SWEEP_SEEDS)];
    let sweep_runs = variants.len() * (SWEEP_CANDIDATES + 1) * sweep_seeds.len();
    let bar = progress_bar(o.progress, (topos.len() * seeds.len() + sweep_runs) as u64);
    let (fid, mut outcomes) =
        run_policies(a, &derived, &cands, &topos, &seeds, window.clone(), &bar);
    let band = sweep_band(
        &variants,
        &mut outcomes,
        &cands,
        sweep_seeds,
        window.clone(),
        &bar,
    )?;
    bar.finish_and_clear();
    let band_words = o.sweep.then(|| band_text(&derived.json));
    let view = ReplayView {
        verdict: fid.verdict,
        fidelity: fid.checks.clone(),
        recommendation: recommendation(&outcomes, cause(a, &derived), band_words.as_deref()),
        policies: outcomes,
        seeds: seeds.len() as u32,
    };
    let w = derived.frame.width_s();
    Ok(Replay {
        window_s: (window.start as f64 * w, window.end as f64 * w),
        derived,
        fidelity: fid,
        view,
        band,
    })
}

/// The observed policy (with the fidelity check) and every alternative over `seeds`;
/// outcomes ranked, observed first.
fn run_policies(
    a: &Analysis,
    derived: &Derived,
    cands: &[Candidate],
    topos: &[Topology],
    seeds: &[u64],
    window: Range<usize>,
    bar: &ProgressBar,
) -> (Fidelity, Vec<PolicyOutcome>) {
    let (observed, entry) = observed_runs(&topos[0], seeds, derived.frame.sample_rate, bar);
    let fid = fidelity(a, derived, &topos[0], &observed, &entry);
    let first: Vec<_> = observed
        .iter()
        .map(|st| metrics(&topos[0], st, window.clone()))
        .collect();
    let mut all = vec![first];
    all.extend(run_map(&topos[1..], seeds, bar, |_, t, st| {
        metrics(t, &st, window.clone())
    }));
    let mut outcomes: Vec<PolicyOutcome> =
        cands.iter().zip(&all).map(|(c, r)| outcome(c, r)).collect();
    rank(&mut outcomes);
    (fid, outcomes)
}

/// A fault in the model, else a load surge the analysis found, else nothing.
fn cause(a: &Analysis, d: &Derived) -> Cause {
    if d.fault.is_some() {
        Cause::Fault
    } else if crate::analyze::recovery::surge(&a.windows).is_some() {
        Cause::Surge
    } else {
        Cause::Nothing
    }
}

/// From the fault's first bucket (else the incident's, else 0) to the end.
fn eval_window(d: &Derived) -> Range<usize> {
    let w = d.frame.width_s();
    let start = d
        .fault
        .as_ref()
        .and_then(|f| f.window())
        .map_or(0, |(s, _)| (s / w) as usize);
    start.min(d.frame.buckets)..d.frame.buckets
}

/// Re-runs the observed policy and the leading alternatives on the band, sets `robust`
/// and re-ranks.
fn sweep_band(
    variants: &[sensitivity::Variant],
    outcomes: &mut [PolicyOutcome],
    cands: &[Candidate],
    seeds: &[u64],
    window: Range<usize>,
    bar: &ProgressBar,
) -> Result<Vec<BandCell>> {
    let lead: Vec<Candidate> = outcomes
        .iter()
        .take(SWEEP_CANDIDATES + 1)
        .filter_map(|o| cands.iter().find(|c| c.name == o.name).cloned())
        .collect();
    let cells = sensitivity::sweep(variants, &lead, seeds, window, bar)?;
    let swept = |name: &str| !variants.is_empty() && lead.iter().any(|c| c.name == name);
    for o in outcomes.iter_mut() {
        o.robust =
            swept(&o.name) && o.outlived_trigger == 0.0 && sensitivity::robust(&cells, &o.name);
    }
    rank(outcomes);
    Ok(cells)
}

/// The sensitivity band in words.
/// What the sweep varied: the fault (when the model has one) and the capacity.
pub fn band_text(model: &serde_json::Value) -> String {
    let capacity = format!("capacity ±{:.0} %", CAPACITY_BAND * 100.0);
    if model["faults"].as_array().is_some_and(|f| !f.is_empty()) {
        format!(
            "fault size ±{:.0} %, fault duration ±{:.0} %, {capacity}",
            SIZE_BAND * 100.0,
            DURATION_BAND * 100.0,
        )
    } else {
        capacity
    }
}

fn progress_bar(show: bool, runs: u64) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(runs);
    if let Ok(style) = ProgressStyle::with_template("replay {bar:30} {pos}/{len} runs {elapsed}") {
        bar.set_style(style);
    }
    bar
}
