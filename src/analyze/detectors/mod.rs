//! Detectors: one file per detector, behind one trait, run in parallel by the registry.
//!
//! A detector is a pure function of the [`Context`] (no printing, no threads, no clock);
//! its id equals its file name and the `kind` of its findings. To add one: write
//! `detectors/<id>.rs` with a unit struct implementing [`Detector`], and list it in
//! [`registry`].

pub mod error_propagation;
pub mod latency_contagion;
pub mod metastable_overload;
pub mod queue_growth;
pub mod retry_amplification;

use rayon::prelude::*;

use super::attempts::Attempts;
use super::backlog::QueueSeries;
use super::critpath::CriticalPath;
use super::edges::EdgeStats;
use super::errors::ErrorOrigins;
use super::graph::CallGraph;
use super::incident::Windows;
use super::logs::LogEvidence;
use super::services::ServiceStats;
use super::table::SpanTable;
use crate::model::finding::Finding;

/// Everything a detector may read.
pub struct Context<'a> {
    pub table: &'a SpanTable,
    pub graph: &'a CallGraph,
    pub attempts: &'a Attempts,
    pub windows: &'a Windows,
    /// Ordered by name.
    pub services: &'a [ServiceStats],
    /// In graph edge order.
    pub edges: &'a [EdgeStats],
    /// Self time per row ([`super::selftime::NOT_SERVER`] for non-server rows).
    pub self_ns: &'a [i64],
    /// Error origins in the incident window (the whole range without an incident).
    pub errors: &'a ErrorOrigins,
    /// Error origins in the baseline window.
    pub baseline_errors: &'a ErrorOrigins,
    pub logs: &'a LogEvidence,
    /// Per-node critical-path shares, baseline vs incident.
    pub critical_path: &'a CriticalPath,
    /// Queue evidence per service: by service, strongest kind first.
    pub queues: &'a [QueueSeries],
}

impl Context<'_> {
    /// Statistics of the service named `name`.
    pub fn service(&self, name: &str) -> Option<&ServiceStats> {
        // `services` is ordered by name: a lookup per service stays O(log n).
        let k = self
            .services
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()?;
        self.services.get(k)
    }

    /// Statistics of the service with id `id` (`None` for a virtual node).
    pub fn service_by_id(&self, id: u32) -> Option<&ServiceStats> {
        if id as usize >= self.table.services.len() {
            return None;
        }
        self.service(self.table.services.name(id))
            .filter(|s| s.id == id)
    }

    /// The incident window, if there is one.
    pub fn incident(&self) -> Option<crate::model::window::Window> {
        self.windows.incident
    }
}

/// A detector plug-in.
pub trait Detector: Sync {
    /// The id: equals the file name and the findings' `kind`.
    fn id(&self) -> &'static str;
    /// One line saying what it looks for.
    fn summary(&self) -> &'static str;
    /// Its findings (pure).
    fn detect(&self, ctx: &Context) -> Vec<Finding>;
}

/// Every detector, in id order.
pub fn registry() -> Vec<&'static dyn Detector> {
    vec![
        &error_propagation::ErrorPropagation,
        &latency_contagion::LatencyContagion,
        &metastable_overload::MetastableOverload,
        &queue_growth::QueueGrowth,
        &retry_amplification::RetryAmplification,
    ]
}

/// Runs every detector in parallel; findings sorted (worst first), independent of threads.
pub fn run_all(ctx: &Context) -> Vec<Finding> {
    let mut out: Vec<Finding> = registry()
        .par_iter()
        .map(|d| d.detect(ctx))
        .collect::<Vec<_>>()
        .into_iter()
        .flatten()
        .collect();
    out.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out
}

/// The worst few traces from `(score, trace index)` pairs (one pair per occurrence; scores
/// of a trace add up), highest total first, ties by trace order; ids as hex.
pub fn worst_traces(t: &SpanTable, scored: Vec<(u64, u32)>, n: usize) -> Vec<String> {
    let mut totals: std::collections::BTreeMap<u32, u64> = std::collections::BTreeMap::new();
    for (score, tr) in scored {
        *totals.entry(tr).or_default() += score;
    }
    let mut v: Vec<(u64, u32)> = totals.into_iter().map(|(tr, s)| (s, tr)).collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    v.into_iter()
        .take(n)
        .map(|(_, tr)| format!("{:032x}", t.trace_ids[tr as usize]))
        .collect()
}

/// How many example traces a finding names.
pub const EVIDENCE_TRACES: usize = 5;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_sorted_and_name_their_files() {
        let ids: Vec<&str> = registry().iter().map(|d| d.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted);
        for d in registry() {
            let file = format!(
                "{}/src/analyze/detectors/{}.rs",
                env!("CARGO_MANIFEST_DIR"),
                d.id()
            );
            assert!(std::path::Path::new(&file).exists(), "{file}");
            assert!(!d.summary().is_empty());
        }
    }
}
