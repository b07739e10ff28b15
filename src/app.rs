//! The one place that chains the stages: ingest → analyze → report / replay.

use anyhow::Result;

use crate::cli::{Cli, Command, InputArgs, SimulateArgs};
use crate::ingest::{self, IngestOptions};
use crate::replay::simulate::SimulateOptions;

/// Runs one command; returns the process exit status on success.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Inspect(args) => {
            let data = ingest::ingest(&ingest_options(&args.input))?;
            println!("{} spans", data.spans.height());
            Ok(0)
        }
        Command::Analyze(_) => anyhow::bail!("analyze is being built"),
        Command::Simulate(args) => crate::replay::simulate::run(&simulate_options(&args)),
    }
}

fn ingest_options(input: &InputArgs) -> IngestOptions {
    IngestOptions {
        traces: input.inputs.clone(),
        logs: input.logs.clone(),
        progress: crate::output::progress_allowed(),
    }
}

fn simulate_options(args: &SimulateArgs) -> SimulateOptions {
    SimulateOptions {
        model: args.model.clone(),
        policies: args.policies.clone(),
        seed: args.seed,
        seeds: args.seeds,
        out_dir: args.out_dir.clone(),
        traces_out: args.traces_out.clone(),
        logs_out: args.logs_out.clone(),
        sample: args.sample,
        json: args.json,
        compare: args.compare.clone(),
    }
}
