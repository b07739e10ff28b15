//! What the analysis said about a case, reduced to what the scoring compares with the
//! truth: the ranking, a recognised load surge, the mechanisms it warned about, the roles
//! and the incident window.

use std::collections::{BTreeMap, BTreeSet};

use crate::analyze::{recovery, Analysis};
use crate::model::finding::Severity;

/// One ranked candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub service: String,
    pub score: f64,
    pub confidence: Option<f64>,
}

/// The analysis of one case, as scored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observed {
    /// Best first.
    pub ranking: Vec<Candidate>,
    /// The instance the analysis blames, when it names one (the top cause's bad requests
    /// concentrate on it).
    pub instance: Option<String>,
    /// The entry service of a recognised load-surge trigger.
    pub surge_at: Option<String>,
    /// Detector kinds with a warning-or-worse finding.
    pub mechanisms: BTreeSet<String>,
    /// Services by name → role.
    pub roles: BTreeMap<String, String>,
    /// The incident window, Unix ns; `None` when no incident was found.
    pub incident_ns: Option<(i64, i64)>,
    /// The first span's start, Unix ns (what offsets count from without a time base).
    pub first_span_ns: i64,
}

impl Observed {
    /// Anything a person would act on: a warning-or-worse finding or a named root cause.
    pub fn raises_alarm(&self) -> bool {
        !self.mechanisms.is_empty() || !self.ranking.is_empty()
    }
}

/// Reduces an analysis to what is scored.
pub fn observe(a: &Analysis) -> Observed {
    Observed {
        ranking: a
            .root_causes
            .iter()
            .map(|r| Candidate {
                service: r.service.clone(),
                score: r.score,
                confidence: r.confidence,
            })
            .collect(),
        instance: a
            .root_causes
            .first()
            .and_then(|r| r.below.as_ref())
            .filter(|c| c.attribute == "instance")
            .map(|c| c.value.clone()),
        surge_at: recovery::surge(&a.windows).map(|t| t.service),
        mechanisms: a
            .findings
            .iter()
            .filter(|f| f.severity >= Severity::Warning)
            .map(|f| f.kind.clone())
            .collect(),
        roles: a
            .services
            .iter()
            .zip(&a.roles)
            .map(|(s, r)| (s.name.clone(), r.as_str().to_string()))
            .chain(
                a.virtual_roles
                    .iter()
                    .map(|&(n, r)| (a.graph.name(n).to_string(), r.as_str().to_string())),
            )
            .collect(),
        incident_ns: a.windows.incident.map(|w| (w.start_ns, w.end_ns)),
        first_span_ns: a.windows.range.start_ns,
    }
}
