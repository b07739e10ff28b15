//! Shared by the readers' end-to-end tests: ingest bytes written to a temporary file, and
//! read frame columns back as plain vectors.

use polars::prelude::*;

use crate::ingest::{ingest, Dataset, IngestOptions};

/// A small deterministic generator (no RNG crate in tests), so damage is the same on every run.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize % n
    }
}

/// Ingests `bytes` as one input file.
pub fn ingest_bytes(bytes: &[u8]) -> anyhow::Result<Dataset> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("input.json");
    std::fs::write(&path, bytes)?;
    ingest(&IngestOptions {
        traces: vec![path],
        ..Default::default()
    })
}

/// Ingests `text`, which must load.
pub fn load(text: &str) -> Dataset {
    ingest_bytes(text.as_bytes()).unwrap()
}

pub fn strs(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let c = df.column(name).unwrap().str().unwrap();
    c.iter().map(|v| v.map(String::from)).collect()
}

pub fn i64s(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    df.column(name).unwrap().i64().unwrap().iter().collect()
}

pub fn i32s(df: &DataFrame, name: &str) -> Vec<Option<i32>> {
    df.column(name).unwrap().i32().unwrap().iter().collect()
}
