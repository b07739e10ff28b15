//! The discrete-event simulator: a model compiled into a `Topology`, run for one seed by the
//! `Engine` (virtual clock, event heap, seeded RNG, no threads, no wall clock), producing
//! `RunStats`; telemetry goes through a `Recorder`.

pub mod dist;
pub mod engine;
pub mod guard;
pub mod recorder;
pub mod rng;
pub mod stats;
pub mod timers;
pub mod topology;

mod call;
mod visit;

#[cfg(test)]
mod extension_tests;
#[cfg(test)]
mod policy_tests;

pub use recorder::{NoRecorder, Recorder};
pub use stats::RunStats;
pub use topology::Topology;

/// Runs one seed of `topo` with recorder `rec`; returns the statistics and the recorder.
pub fn run<R: Recorder>(topo: &Topology, seed: u64, rec: R) -> (RunStats, R) {
    engine::Engine::new(topo, seed, rec).run()
}

/// Runs one seed without telemetry and also reports the simulation-loop wall time.
pub fn run_timed(topo: &Topology, seed: u64) -> (RunStats, f64) {
    let t0 = std::time::Instant::now();
    let (stats, _) = run(topo, seed, NoRecorder);
    (stats, t0.elapsed().as_secs_f64())
}
