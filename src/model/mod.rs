//! Shared vocabulary of every stage: frame column names, time windows, findings.

pub mod columns;
pub mod finding;
pub mod window;
