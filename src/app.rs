//! The one place that chains the stages: ingest → analyze → report / replay.

use anyhow::Result;

use crate::cli::{Cli, Command, InputArgs};
use crate::ingest::{self, IngestOptions};

/// Runs one command; returns the process exit status on success.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Inspect(args) => {
            let data = ingest::ingest(&ingest_options(&args.input))?;
            println!("{} spans", data.spans.height());
            Ok(0)
        }
        Command::Analyze(_) => anyhow::bail!("analyze is being built"),
        Command::Simulate(_) => anyhow::bail!("simulate is being built"),
    }
}

fn ingest_options(input: &InputArgs) -> IngestOptions {
    IngestOptions {
        traces: input.inputs.clone(),
        logs: input.logs.clone(),
        progress: crate::output::progress_allowed(),
    }
}
