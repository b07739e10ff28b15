//! Replay: re-run an incident through a discrete-event simulation model under other
//! policies. `model` reads and validates `incident-model/v1` files, `spec` parses
//! `--policy` specs, `sim` is the engine, `summary`/`recovery` compute the outputs,
//! `telemetry`/`truth` write the traces, logs and ground truth a run would have produced,
//! `simulate` is the entry point of `cascade simulate`, and `corpus` generates many
//! simulated incidents with their truth (`cascade simulate --generate`).

pub mod calibrate;
pub mod command;
pub mod compare;
pub mod corpus;
pub mod derive;
pub mod entry_trace;
pub mod fidelity;
pub mod health;
pub mod model;
pub mod policies;
pub mod recommend;
pub mod recovery;
pub mod render;
pub mod sensitivity;
pub mod sim;
pub mod simulate;
pub mod spec;
pub mod summary;
pub mod telemetry;
pub mod truth;

#[cfg(test)]
mod range_tests;
