//! `cascade simulate`: load a model, apply `--policy` overrides, run one or several seeds
//! (in parallel with rayon, merged in seed order), and write the summary, the time series
//! and, on request, the telemetry the simulated services would have emitted.

use std::path::PathBuf;

use anyhow::{bail, Result};
use rayon::prelude::*;
use serde_json::Value;

use super::compare;
use super::model::load_model;
use super::sim::{self, RunStats, Topology};
use super::spec::{parse_specs, Overrides};
use super::summary::{seeds_mean, summary, timeseries_csv};
use super::telemetry::{TelemetryOptions, TelemetryRecorder};
use super::truth::truth_path;
use crate::output::safe;
use crate::report::escape;
use crate::write::{Claims, Dest, FileDest, Folder, Outputs};

/// Options of `cascade simulate` (filled from the command line by `app`).
#[derive(Debug, Clone, Default)]
pub struct SimulateOptions {
    /// The incident model file.
    pub model: PathBuf,
    /// `--policy` specs, combined in order (default: the model's own policies).
    pub policies: Vec<String>,
    /// First seed (default: the model's `seed`).
    pub seed: Option<u64>,
    /// Number of seeds, `seed, seed+1, ...` (default 1).
    pub seeds: u32,
    /// Folder for timeseries.csv and summary.json (default: none).
    pub out_dir: Option<PathBuf>,
    /// OTLP/JSON Lines traces file (default: none).
    pub traces_out: Option<PathBuf>,
    /// JSON-lines logs file (default: none).
    pub logs_out: Option<PathBuf>,
    /// Head-sampling rate of traces and logs, 0 < rate <= 1 (default 1).
    pub sample: f64,
    /// Print the summary as JSON instead of text (default false).
    pub json: bool,
    /// Alternative policy sets to compare over the same seeds (`;` joins specs; default none).
    pub compare: Vec<String>,
    /// Replace outputs an earlier cascade run wrote (default false: refuse existing files).
    pub force: bool,
}

/// The files of `--out-dir`.
const OUT_DIR_FILES: [&str; 2] = ["timeseries.csv", "summary.json"];

/// Where the run's files go, claimed before it starts.
struct Targets {
    outputs: Outputs,
    out_dir: Option<Dest>,
    traces: Option<FileDest>,
    truth: Option<FileDest>,
    logs: Option<FileDest>,
}

/// Claims every output (the model is the input) and opens them.
fn targets(opts: &SimulateOptions) -> Result<Targets> {
    let mut claims = Claims::new([&opts.model]);
    let force = opts.force;
    let out_dir = opts
        .out_dir
        .as_ref()
        .map(|d| claims.folder("--out-dir", d, force, &OUT_DIR_FILES))
        .transpose()?;
    let traces = opts
        .traces_out
        .as_ref()
        .map(|p| claims.file("--traces-out", p, force))
        .transpose()?;
    // The ground truth is written beside the traces.
    let truth = opts
        .traces_out
        .as_ref()
        .map(|p| claims.file("--traces-out", &truth_path(p), force))
        .transpose()?;
    let logs = opts
        .logs_out
        .as_ref()
        .map(|p| claims.file("--logs-out", p, force))
        .transpose()?;
    Ok(Targets {
        outputs: claims.open()?,
        out_dir,
        traces,
        truth,
        logs,
    })
}

/// Runs the command; returns the exit status.
pub fn run(opts: &SimulateOptions) -> Result<u8> {
    if !(opts.sample > 0.0 && opts.sample <= 1.0) {
        bail!("--sample must be within (0, 1] (got {})", opts.sample);
    }
    let model = load_model(&opts.model)?;
    let overrides = parse_specs(&opts.policies)?;
    let topo = compile(&model, &overrides)?;
    let targets = targets(opts)?;
    let first = opts.seed.unwrap_or(model.seed);
    let seeds: Vec<u64> = (0..opts.seeds.max(1) as u64)
        .map(|i| first.wrapping_add(i))
        .collect();
    if wants_telemetry(opts) && seeds.len() > 1 {
        eprintln!("note: telemetry is recorded for one run only (seed {first}); --seeds ignored");
    }
    let (runs, walls) = if wants_telemetry(opts) {
        run_with_telemetry(&topo, first, opts, &targets)?
    } else {
        run_seeds(&topo, &seeds)
    };
    let mut doc = document(&topo, &runs, &opts.policies);
    if !opts.compare.is_empty() {
        doc["alternatives"] = compare::compare(&model, &opts.policies, &opts.compare, &seeds)?;
    }
    if let Some(dir) = targets.out_dir {
        write_out_dir(targets.outputs.folder(dir), &topo, &runs, &doc)?;
    }
    targets.outputs.commit()?;
    print(&topo, &runs, &doc, opts.json)?;
    report_speed(&runs, &walls);
    Ok(0)
}

/// Compiles the model with the command-line overrides.
pub fn compile(model: &super::model::IncidentModel, o: &Overrides) -> Result<Topology> {
    let mut topo = Topology::compile(model, &o.edge);
    if let Some((service, codel)) = &o.codel {
        let mut hit = false;
        for s in topo
            .services
            .iter_mut()
            .filter(|s| service.as_ref().is_none_or(|n| *n == s.name))
        {
            s.codel = Some(*codel);
            hit = true;
        }
        if !hit {
            bail!(
                "--policy codel: unknown service `{}`",
                service.as_deref().unwrap_or("")
            );
        }
    }
    Ok(topo)
}

fn wants_telemetry(o: &SimulateOptions) -> bool {
    o.traces_out.is_some() || o.logs_out.is_some()
}

/// Runs every seed in parallel; results in seed order, whatever the thread count.
pub fn run_seeds(topo: &Topology, seeds: &[u64]) -> (Vec<RunStats>, Vec<f64>) {
    seeds.par_iter().map(|&s| sim::run_timed(topo, s)).unzip()
}

/// Runs every (topology, seed) pair in parallel: policies × seeds, in input order.
pub fn run_matrix(topos: &[Topology], seeds: &[u64]) -> Vec<Vec<RunStats>> {
    topos.par_iter().map(|t| run_seeds(t, seeds).0).collect()
}

fn run_with_telemetry(
    topo: &Topology,
    seed: u64,
    o: &SimulateOptions,
    t: &Targets,
) -> Result<(Vec<RunStats>, Vec<f64>)> {
    let stage = |f: &Option<FileDest>| f.as_ref().map(|f| t.outputs.stage_file(f)).transpose();
    // The recorder writes the truth beside the staged traces: where its claim is staged.
    stage(&t.truth)?;
    let topts = TelemetryOptions {
        traces: stage(&t.traces)?,
        logs: stage(&t.logs)?,
        sample: o.sample,
        seed,
        producers: Vec::new(),
    };
    let rec = TelemetryRecorder::create(topo, &topts)?;
    let t0 = std::time::Instant::now();
    let (stats, rec) = sim::run(topo, seed, rec);
    let wall = t0.elapsed().as_secs_f64();
    rec.finish(topo, &stats)?;
    Ok((vec![stats], vec![wall]))
}

fn document(topo: &Topology, runs: &[RunStats], policies: &[String]) -> Value {
    let mut doc = runs.first().map_or(Value::Null, |r| summary(topo, r));
    if let Value::Object(m) = &mut doc {
        m.insert("policy".into(), serde_json::json!(policies));
        if runs.len() > 1 {
            m.insert("seeds_mean".into(), seeds_mean(topo, runs));
        }
    }
    doc
}

fn write_out_dir(dir: &Folder, topo: &Topology, runs: &[RunStats], doc: &Value) -> Result<()> {
    if let Some(first) = runs.first() {
        dir.write(OUT_DIR_FILES[0], timeseries_csv(topo, first).as_bytes())?;
    }
    let text = escape::json_pretty(doc)?;
    dir.write(OUT_DIR_FILES[1], (text + "\n").as_bytes())
}

fn print(topo: &Topology, runs: &[RunStats], doc: &Value, json: bool) -> Result<()> {
    if json {
        println!("{}", escape::json_pretty(doc)?);
        return Ok(());
    }
    let x = &doc["external"];
    println!(
        "scenario {}: {} external arrivals, {} ok, {} failed, p99 {} ms, {} events",
        safe(&topo.name),
        x["arrivals"],
        x["successes"],
        x["failures"],
        x["p99_ms"],
        doc["events"]
    );
    for name in topo.edges.iter().map(|e| &e.name) {
        let e = &doc["edges"][name];
        println!(
            "  edge {:<24} first={:<8} attempts={:<8} timeouts={:<8} amplification={}",
            safe(name),
            e["first_attempts"],
            e["attempts"],
            e["timeouts"],
            e["amplification"]
        );
    }
    for name in topo.services.iter().map(|s| &s.name) {
        let s = &doc["services"][name];
        println!(
            "  svc  {:<24} arrivals={:<8} rejected={:<6} max_queue={:<7} final_queue={}",
            safe(name),
            s["arrivals"],
            s["rejected"],
            s["max_queue"],
            s["final_queue"]
        );
    }
    if let Some(r) = doc["recovery"].as_object() {
        println!(
            "  recovery: fault {}..{} s, recovered at {} s ({} s after), overload outlived the fault: {}",
            r["fault_start_s"],
            r["fault_end_s"],
            r["recovered_at_s"],
            r["time_to_recover_s"],
            r["overload_outlived_fault"]
        );
    }
    if runs.len() > 1 {
        println!("  mean over {} seeds: {}", runs.len(), doc["seeds_mean"]);
    }
    compare::print(&doc["alternatives"]);
    Ok(())
}

/// Simulation-loop speed goes to stderr: wall time never enters the deterministic output.
fn report_speed(runs: &[RunStats], walls: &[f64]) {
    for (r, w) in runs.iter().zip(walls) {
        let ev = r.events.total();
        let rate = if *w > 0.0 { ev as f64 / w } else { 0.0 };
        eprintln!(
            "seed {}: events={} sim_wall_s={:.3} events_per_s={:.0}",
            r.seed, ev, w, rate
        );
    }
}
