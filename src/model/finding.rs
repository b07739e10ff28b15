//! A finding: one thing a detector saw, with its severity, window, numbers and evidence.
//!
//! Detectors (in `analyze::detectors`) produce these; the findings document
//! (`cascade.findings/v1`), the report and `--fail-on` consume them.

use std::collections::BTreeMap;

use serde::Serialize;

/// How much a finding matters. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// Parses `info`, `warning` or `error` (as `--fail-on` spells them).
    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "info" => Some(Severity::Info),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A caller → callee edge of the call graph, by service (or virtual node) name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EdgeRef {
    pub caller: String,
    pub callee: String,
}

/// What a person can open to see the same thing: example trace ids, worst first.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Evidence {
    pub trace_ids: Vec<String>,
}

/// One finding. `kind` is the detector id; `metrics` holds the numbers it rests on
/// (sample counts included), keyed by name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: String,
    pub severity: Severity,
    pub title: String,
    pub services: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge: Option<EdgeRef>,
    /// Unix nanoseconds (the document renders RFC 3339).
    pub start_ns: i64,
    pub end_ns: i64,
    pub metrics: BTreeMap<String, f64>,
    pub evidence: Evidence,
}

impl Finding {
    /// Sort key for stable output: severity (worst first), kind, edge, title.
    pub fn sort_key(&self) -> (std::cmp::Reverse<Severity>, &str, Option<&EdgeRef>, &str) {
        (
            std::cmp::Reverse(self.severity),
            self.kind.as_str(),
            self.edge.as_ref(),
            self.title.as_str(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Info < Severity::Warning && Severity::Warning < Severity::Error);
        assert_eq!(Severity::parse("warning"), Some(Severity::Warning));
        assert_eq!(Severity::parse("fatal"), None);
        assert_eq!(Severity::Error.as_str(), "error");
    }
}
