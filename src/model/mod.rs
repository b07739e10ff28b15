//! Shared vocabulary of every stage: frame column names, typed column access, time windows,
//! findings.

pub mod columns;
pub mod finding;
pub mod frame;
pub mod replay;
pub mod window;
