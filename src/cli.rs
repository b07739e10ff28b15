//! Command-line definitions (clap only lives here); `into_options` turns them into plain
//! option structs of the stages, so no other module sees clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Trace-driven postmortem analyser for cascading failures.
///
/// Reads OpenTelemetry OTLP/JSON traces (plain, JSON Lines, gzip or zstd) and structured logs,
/// rebuilds the service call graph and finds how a failure spread.
#[derive(Debug, Parser)]
#[command(name = "cascade", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Load, validate and summarise the input: spans, traces, services, time range, logs,
    /// data quality, what was skipped and why.
    Inspect(InspectArgs),
    /// Diagnose the incident: windows, call graph, root cause, findings.
    Analyze(AnalyzeArgs),
    /// Run an incident model (incident-model/v1) as a discrete-event simulation.
    Simulate(SimulateArgs),
    /// Write the report folder: index.html, charts/*.png, postmortem.md, findings.json.
    Report(ReportArgs),
    /// Derive the incident model from the traces, check its fidelity, and replay the
    /// incident under the observed policy and the alternatives.
    Replay(ReplayArgs),
    /// Score the analysis against the truth of every case of one or more corpus folders:
    /// root-cause AS@1/3/5 per fault kind, mechanisms, roles, controls, windows, calibration.
    Eval(EvalArgs),
}

/// Inputs shared by every command that reads telemetry.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Trace files or folders (OTLP/JSON, Jaeger or Zipkin JSON; JSON Lines; plain, gzip or
    /// zstd; `-` for stdin).
    #[arg(required = true, value_name = "INPUT")]
    pub inputs: Vec<PathBuf>,
    /// Log files or folders (OTLP/JSON logs or JSON-lines application logs); repeatable.
    #[arg(long = "logs", value_name = "PATH")]
    pub logs: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Print the summary as a JSON document (`cascade.inspect/v1`).
    #[arg(long)]
    pub json: bool,
    /// Write spans.parquet, events.parquet, links.parquet, logs.parquet, edges.csv and
    /// service_rates.csv into this folder.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// With --export: write only the two CSV tables, no Parquet frames.
    #[arg(long, requires = "export")]
    pub tables_only: bool,
    /// Replace outputs an earlier cascade run wrote (other files are never replaced).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub windows: WindowArgs,
    /// Print the findings document (`cascade.findings/v1`) instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Write the findings document to this file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the frames and per-bucket statistics into this folder.
    #[arg(long, value_name = "DIR")]
    pub export: Option<PathBuf>,
    /// Exit with status 1 when a finding at this severity or above exists.
    #[arg(long, value_name = "SEVERITY", value_parser = ["info", "warning", "error"])]
    pub fail_on: Option<String>,
    /// Replace outputs an earlier cascade run wrote (other files are never replaced).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The incident model (incident-model/v1 JSON).
    #[arg(value_name = "MODEL.json", required_unless_present = "generate")]
    pub model: Option<PathBuf>,
    /// Instead of running a model, generate this many simulated incidents with their truth
    /// into --out-dir (case i uses seed --seed + i, default 0).
    #[arg(long, value_name = "N", conflicts_with_all = ["model", "traces_out", "logs_out", "compare"], requires = "out_dir")]
    pub generate: Option<u32>,
    /// Replace the model's policies (repeatable), e.g. `retry:attempts=3,base=100ms`.
    #[arg(long = "policy", value_name = "SPEC")]
    pub policies: Vec<String>,
    /// RNG seed (default: the model's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also run this alternative policy set over the same seeds and compare (repeatable;
    /// `;` joins several specs, e.g. `retry:attempts=3;budget:ratio=0.1`).
    #[arg(long = "compare", value_name = "SPECS")]
    pub compare: Vec<String>,
    /// Run this many seeds (seed, seed+1, ...) in parallel and report their mean.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seeds: u32,
    /// Write timeseries.csv and summary.json into this folder.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Write the OTLP/JSON Lines traces the simulated services would have exported.
    #[arg(long, value_name = "FILE")]
    pub traces_out: Option<PathBuf>,
    /// Write the JSON-lines logs the simulated services would have written.
    #[arg(long, value_name = "FILE")]
    pub logs_out: Option<PathBuf>,
    /// Head-sampling rate for --traces-out / --logs-out (0 < RATE <= 1).
    #[arg(long, value_name = "RATE", default_value_t = 1.0)]
    pub sample: f64,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Replace outputs an earlier cascade run wrote (other files are never replaced).
    #[arg(long)]
    pub force: bool,
}

/// Incident and baseline windows (analyze, report, replay).
#[derive(Debug, Args)]
pub struct WindowArgs {
    /// Incident window `A..B` (RFC 3339 instants or offsets like `+600s` from the first span;
    /// default: detected).
    #[arg(long, value_name = "A..B")]
    pub incident: Option<String>,
    /// Baseline window `A..B` (default: the stretch before the incident).
    #[arg(long, value_name = "A..B")]
    pub baseline: Option<String>,
}

/// How a replay derives and runs its model (`replay`, and `report --replay`).
#[derive(Debug, Args)]
pub struct ReplayTuning {
    /// Also replay this policy set (repeatable; `;` joins several specs, e.g.
    /// `retry:attempts=2;budget:ratio=0.1`).
    #[arg(long = "policy", value_name = "SPEC")]
    pub policies: Vec<String>,
    /// Seeds per policy (common to every policy).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub seeds: u32,
    /// First seed.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Head-sampling rate of the traces (0 < RATE <= 1): counts are divided by it.
    #[arg(long, value_name = "RATE", default_value_t = 1.0)]
    pub sample_rate: f64,
    /// Workers of a service from configuration (repeatable), e.g. `db=8`.
    #[arg(long, value_name = "SVC=N")]
    pub capacity: Vec<String>,
    /// Skip the sensitivity sweep (faster; no robustness claims).
    #[arg(long)]
    pub no_sweep: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub windows: WindowArgs,
    /// The report folder (default: reports/incident-<start time> under the current folder).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Write into a folder that is not empty: replace what an earlier cascade run wrote
    /// there, keep every other file.
    #[arg(long)]
    pub force: bool,
    /// Also replay the incident under alternative policies and add the comparison.
    #[arg(long)]
    pub replay: bool,
    #[command(flatten)]
    pub tuning: ReplayTuning,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[command(flatten)]
    pub windows: WindowArgs,
    #[command(flatten)]
    pub tuning: ReplayTuning,
    /// Print the replay document (`cascade.replay/v1`) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write the derived model (incident-model/v1) to this file.
    #[arg(long, value_name = "FILE")]
    pub model_out: Option<PathBuf>,
    /// Replace outputs an earlier cascade run wrote (other files are never replaced).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Seeds kept apart: tune on the development range of the generated \
corpus (seeds 0-299) and read its cases with --cases; the held-out range (seeds \
100000-100299) is only ever scored, never read case by case."
)]
pub struct EvalArgs {
    /// Corpus folders, searched recursively for cases: folders holding traces, optional
    /// logs and a truth file (`truth.json` or `traces.truth.json`, `cascade.truth/v1`).
    #[arg(required = true, value_name = "CORPUS")]
    pub corpora: Vec<PathBuf>,
    /// Print the scores as a JSON document (`cascade.eval/v1`) instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Exit with status 1 when a metric is below its floor (repeatable), e.g. `as1=0.8`,
    /// `control_quiet=95%`. Metrics: as1, as3, as5, instance, mechanism_recall,
    /// mechanism_precision, role_accuracy, control_quiet, incident_detected.
    #[arg(long = "fail-under", value_name = "METRIC=VALUE")]
    pub fail_under: Vec<String>,
    /// Also list every case: its truth, the top three and what was missed. For development
    /// seeds only: a held-out range is scored, never read case by case.
    #[arg(long)]
    pub cases: bool,
}
