//! The `cascade` binary: parse the command line, run it, map the outcome to an exit status.
//!
//! Exit status: 0 success, 1 a finding at or above `--fail-on`, 2 bad usage or unreadable input.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cascade::cli::Cli::parse();
    match cascade::app::run(cli) {
        Ok(status) => ExitCode::from(status),
        Err(err) => {
            // Messages quote file names and input data: sanitised like all terminal text.
            let message = format!("{err:#}");
            eprintln!("cascade: error: {}", cascade::output::safe(&message));
            ExitCode::from(2)
        }
    }
}
