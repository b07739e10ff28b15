//! The one place that chains the stages: ingest → analyze → report / replay.

use anyhow::{Context, Result};

use crate::cli::{Cli, Command, InputArgs, InspectArgs};
use crate::ingest::{self, IngestOptions};

/// Runs one command; returns the process exit status on success.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Inspect(args) => inspect(&args),
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

fn inspect(args: &InspectArgs) -> Result<u8> {
    let data = ingest::ingest(&ingest_options(&args.input))?;
    let summary = ingest::summary::summarize(&data)?;
    if args.json {
        let text = serde_json::to_string_pretty(&summary).context("encoding the summary")?;
        println!("{text}");
    } else {
        print!("{}", crate::output::inspect_text(&summary));
    }
    if let Some(dir) = &args.export {
        crate::export::export(&data, dir)?;
    }
    Ok(0)
}
