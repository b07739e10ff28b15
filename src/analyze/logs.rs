//! Log evidence: error-level log records per service, baseline vs incident.
//!
//! Reads the logs frame's time, service and severity (number, else text). A frame without
//! those columns gives no evidence, which the root-cause ranking then simply lacks.

use std::collections::BTreeMap;

use polars::prelude::{DataFrame, DataType};

use crate::model::columns as col;
use crate::model::window::Window;

/// OTLP severity number where ERROR begins (17–20 ERROR, 21–24 FATAL).
const ERROR_SEVERITY: i64 = 17;

/// Error log counts per service.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LogEvidence {
    /// Error-level records per service in the incident window.
    pub incident_errors: BTreeMap<String, u64>,
    /// Error-level records per service in the baseline window.
    pub baseline_errors: BTreeMap<String, u64>,
    /// All log records read.
    pub records: u64,
}

impl LogEvidence {
    /// `service`'s share of the incident's error logs beyond its baseline rate (0..=1).
    pub fn excess_share(&self, service: &str, incident: &Window, baseline: &Window) -> f64 {
        let excess = |s: &str| {
            let inc = *self.incident_errors.get(s).unwrap_or(&0) as f64;
            let base = *self.baseline_errors.get(s).unwrap_or(&0) as f64;
            let scale = incident.len_ns() as f64 / baseline.len_ns().max(1) as f64;
            (inc - base * scale).max(0.0)
        };
        let total: f64 = self.incident_errors.keys().map(|s| excess(s)).sum();
        if total > 0.0 {
            excess(service) / total
        } else {
            0.0
        }
    }
}

/// Counts error logs per service in both windows.
pub fn log_evidence(logs: &DataFrame, incident: Option<Window>, baseline: Window) -> LogEvidence {
    let mut ev = LogEvidence {
        records: logs.height() as u64,
        ..Default::default()
    };
    let (Some(time), Some(service)) = (i64s(logs, col::TIME_NS), strs(logs, col::SERVICE)) else {
        return ev;
    };
    let levels = error_flags(logs);
    for (k, (t, s)) in time.into_iter().zip(service).enumerate() {
        let (Some(t), Some(s), true) = (t, s, levels.get(k).copied().unwrap_or(false)) else {
            continue;
        };
        if incident.is_some_and(|w| w.contains(t)) {
            *ev.incident_errors.entry(s).or_default() += 1;
        } else if baseline.contains(t) {
            *ev.baseline_errors.entry(s).or_default() += 1;
        }
    }
    ev
}

/// A column as integers (`None` when absent or not castable).
pub(super) fn i64s(df: &DataFrame, name: &str) -> Option<Vec<Option<i64>>> {
    let c = df.column(name).ok()?.cast(&DataType::Int64).ok()?;
    Some(c.i64().ok()?.iter().collect())
}

/// A string column as owned values (`None` when absent or not a string column).
pub(super) fn strs(df: &DataFrame, name: &str) -> Option<Vec<Option<String>>> {
    let c = df.column(name).ok()?;
    Some(
        c.str()
            .ok()?
            .iter()
            .map(|s| s.map(str::to_string))
            .collect(),
    )
}

/// Whether each record is error level or worse: severity number ≥ 17, else a text level.
fn error_flags(df: &DataFrame) -> Vec<bool> {
    let n = df.height();
    let nums = i64s(df, col::SEVERITY_NUMBER).unwrap_or_else(|| vec![None; n]);
    let texts = strs(df, col::SEVERITY_TEXT).unwrap_or_else(|| vec![None; n]);
    nums.into_iter()
        .zip(texts)
        .map(|(num, text)| match num {
            Some(v) if v > 0 => v >= ERROR_SEVERITY,
            _ => text.is_some_and(|t| is_error_text(&t)),
        })
        .collect()
}

fn is_error_text(t: &str) -> bool {
    let t = t.to_ascii_uppercase();
    ["ERR", "FATAL", "CRIT", "ALERT", "EMERG", "PANIC"]
        .iter()
        .any(|p| t.starts_with(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{Frames, T0};
    use crate::model::window::NS_PER_S;

    #[test]
    fn counts_error_logs_per_window_and_shares_the_excess() {
        let mut f = Frames::default();
        let at = |s: i64| T0 + s * NS_PER_S;
        f.logs.push((at(5), "api".into(), 17, "x".into()));
        f.logs.push((at(15), "api".into(), 17, "x".into()));
        f.logs.push((at(16), "db".into(), 18, "x".into()));
        f.logs.push((at(17), "db".into(), 18, "x".into()));
        f.logs.push((at(18), "db".into(), 9, "info".into()));
        let inc = Window::new(at(10), at(20));
        let base = Window::new(at(0), at(10));
        let ev = log_evidence(&f.logs(), Some(inc), base);
        assert_eq!(ev.incident_errors.get("db"), Some(&2));
        assert_eq!(ev.baseline_errors.get("api"), Some(&1));
        assert_eq!(ev.excess_share("db", &inc, &base), 1.0);
        assert_eq!(ev.excess_share("api", &inc, &base), 0.0);
        assert!(is_error_text("error") && !is_error_text("WARN"));
    }
}
