//! cascade: a trace-driven postmortem analyser for cascading failures.
//!
//! The crate reads like its pipeline:
//!
//! 1. [`ingest`] turns OTLP/JSON traces and structured logs into polars frames, counting
//!    whatever it could not read;
//! 2. `analyze` rebuilds the call graph, finds the incident window and runs the detectors;
//! 3. `report` renders charts, an HTML page and a Markdown postmortem; `replay` re-runs the
//!    incident through a simulation model under other policies.
//!
//! `eval` scores the analysis against the truth of every case of a corpus.
//!
//! [`model`] holds the vocabulary every stage shares; [`app`] is the one place that chains
//! the stages; [`cli`] is the only module that knows clap; [`write`] is the one place that
//! writes output files, and [`output`] sanitises what reaches the terminal.

pub mod analyze;
pub mod app;
pub mod cli;
pub mod eval;
pub mod export;
pub mod ingest;
pub mod model;
pub mod output;
pub mod replay;
pub mod report;
pub mod write;
