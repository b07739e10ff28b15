//! The replay's verdict as the report reads it: fidelity, one row per policy with
//! confidence intervals, and the recommendation. `replay` fills it; `report` renders it.

use serde::Serialize;

/// A mean over seeds with its confidence interval (the same unit as `mean`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    /// Lower bound of the 95 % confidence interval.
    pub lo: f64,
    /// Upper bound of the 95 % confidence interval.
    pub hi: f64,
    /// Seeds behind the estimate.
    pub n: u32,
}

/// How closely replaying the observed policy reproduced the traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Good,
    Rough,
    Poor,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Good => "good",
            Verdict::Rough => "rough",
            Verdict::Poor => "poor",
        }
    }
}

/// One compared quantity: observed in the traces vs replayed under the observed policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FidelityCheck {
    /// e.g. `baseline throughput (req/s)`, `incident amplification api→db`.
    pub metric: String,
    pub observed: f64,
    pub replayed: f64,
    /// Allowed relative error for this metric (0.05 = ±5 %).
    pub tolerance: f64,
    pub ok: bool,
}

/// One policy's outcome over the seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyOutcome {
    /// Short name, e.g. `observed`, `retry budget 10 %`.
    pub name: String,
    /// The `--policy` specs that express it (empty for the observed policy).
    pub specs: Vec<String>,
    /// Successful entry requests per second over the incident window.
    pub goodput_rps: Estimate,
    pub error_rate: Estimate,
    pub p99_ms: Estimate,
    pub peak_amplification: Estimate,
    pub peak_queue: Estimate,
    /// Seconds from the fault's end to recovery; `None` when most seeds never recovered.
    pub time_to_recover_s: Option<Estimate>,
    /// Share of seeds (0..=1) in which overload outlived the trigger.
    pub outlived_trigger: f64,
    /// Holds across the whole sensitivity band (fault size/duration, capacity).
    pub robust: bool,
}

/// The replay's whole answer, ready to render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplayView {
    pub verdict: Verdict,
    pub fidelity: Vec<FidelityCheck>,
    /// The observed policy first, then the alternatives in rank order (best first).
    pub policies: Vec<PolicyOutcome>,
    /// Plain-words recommendation, e.g. "A retry budget of 10 % on api→inventory would have
    /// recovered within 4 s of the fault's end in every seed and across the band".
    pub recommendation: String,
    pub seeds: u32,
}
