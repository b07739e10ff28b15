//! `cascade simulate --generate N --seed S --out-dir DIR`: a corpus of simulated incidents
//! with their truth, varying what hand-written fixtures hold fixed (topology, fault kind
//! and place, traffic, sampling, producer quirks). Case `i` uses seed `S + i` and nothing
//! else, so a case is byte-identical whatever the thread count; cases run in parallel.

mod case;
mod draw;
mod model;
mod outcome;
pub mod plan;
mod shape;
mod sizing;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use anyhow::{bail, Result};
use rayon::prelude::*;

pub use case::{write_case, write_plan, CaseSummary};

/// Options of the generator.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub count: u32,
    pub seed: u64,
    pub out_dir: PathBuf,
}

/// Writes every case; prints one line per case in seed order.
pub fn run(opts: &GenerateOptions) -> Result<u8> {
    if opts.count == 0 {
        bail!("--generate needs at least 1 case");
    }
    let t0 = std::time::Instant::now();
    let summaries = generate(opts)?;
    for s in &summaries {
        println!(
            "{:<24} {:<16} root={:<22} services={:<3} rate={:<8.2} sample={:<7} spans={}",
            s.name,
            s.kind,
            s.root_cause.as_deref().unwrap_or("-"),
            s.services,
            s.rate,
            s.sample,
            s.spans
        );
    }
    eprintln!(
        "wrote {} cases into {} in {:.1} s",
        summaries.len(),
        opts.out_dir.display(),
        t0.elapsed().as_secs_f64()
    );
    Ok(0)
}

/// Generates the cases in parallel; the summaries come back in seed order.
pub fn generate(opts: &GenerateOptions) -> Result<Vec<CaseSummary>> {
    let seeds: Vec<u64> = (0..opts.count as u64)
        .map(|i| opts.seed.wrapping_add(i))
        .collect();
    seeds
        .par_iter()
        .map(|&s| write_case(s, &opts.out_dir))
        .collect()
}
