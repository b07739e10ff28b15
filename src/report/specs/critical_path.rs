//! Critical-path share per service, baseline vs incident: how much of the end-to-end
//! latency each service's own work accounted for. The rows come from the critical-path
//! analysis as plain `(service, baseline share, incident share)` with shares in 0..=1.

use super::CriticalPathRow;
use crate::report::charts::palette;
use crate::report::charts::spec::{BarRow, Bars, Chart, ChartFile};
use crate::report::facts::Facts;

/// At most this many services (the largest incident shares).
pub const MAX_ROWS: usize = 12;

/// Rows from the analysis: every node with a critical-path share in either window (a window
/// without traces reads as NaN, which the chart leaves out).
pub fn rows(cp: &crate::analyze::critpath::CriticalPath) -> Vec<CriticalPathRow> {
    cp.nodes
        .iter()
        .map(|n| {
            let share = |w: Option<&crate::analyze::critpath::CritWindow>| {
                w.and_then(|w| w.share).unwrap_or(f64::NAN)
            };
            (
                n.name.clone(),
                share(Some(&n.baseline)),
                share(n.incident.as_ref()),
            )
        })
        .filter(|r| r.1.is_finite() || r.2.is_finite())
        .collect()
}

/// The critical-path chart from the given rows.
pub fn spec(facts: &Facts, rows: &[CriticalPathRow]) -> Result<ChartFile, String> {
    let mut rows: Vec<&CriticalPathRow> = rows
        .iter()
        .filter(|r| r.1.is_finite() || r.2.is_finite())
        .collect();
    if rows.is_empty() {
        return Err("no critical-path shares to show".into());
    }
    rows.sort_by(|a, b| key(b).total_cmp(&key(a)).then(a.0.cmp(&b.0)));
    rows.truncate(MAX_ROWS);
    let bars = rows.iter().map(|r| row(facts, r)).collect();
    Ok(ChartFile {
        stem: "critical-path",
        caption: "The share of end-to-end request latency spent in each service's own work on the critical path, before and during the incident. The service whose share grows is where the time went.".into(),
        chart: Chart::Bars(Bars {
            title: "Critical-path share per service: baseline vs incident".into(),
            value_label: "share of end-to-end latency on the critical path (%)".into(),
            groups: vec![("baseline".into(), palette::BASELINE), ("incident".into(), palette::INCIDENT)],
            rows: bars,
            intervals: Vec::new(),
        }),
    })
}

fn key(r: &CriticalPathRow) -> f64 {
    if r.2.is_finite() {
        r.2
    } else {
        r.1
    }
}

fn row(facts: &Facts, (name, base, inc): &CriticalPathRow) -> BarRow {
    let role = facts
        .a
        .services
        .iter()
        .position(|s| &s.name == name)
        .map_or(crate::analyze::rootcause::Role::Healthy, |k| facts.role(k));
    let note = if base.is_finite() && inc.is_finite() {
        format!("{:+.0} pp", (inc - base) * 100.0)
    } else {
        String::new()
    };
    BarRow {
        label: name.clone(),
        label_color: super::role_color(role),
        values: vec![base * 100.0, inc * 100.0],
        note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::faulty;

    #[test]
    fn rows_sort_by_incident_share_in_percent_with_the_change_noted() {
        let facts = Facts::new(faulty());
        let rows = vec![
            ("frontend".to_string(), 0.2, 0.05),
            ("db".to_string(), 0.3, 0.85),
            ("api".to_string(), 0.5, 0.10),
        ];
        let c = spec(&facts, &rows).unwrap();
        let Chart::Bars(b) = &c.chart else {
            panic!("{c:?}")
        };
        let labels: Vec<&str> = b.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["db", "api", "frontend"]);
        assert_eq!(b.rows[0].values, vec![30.0, 85.0]);
        assert_eq!(b.rows[0].note, "+55 pp");
        assert_eq!(b.rows[0].label_color, palette::SOURCE);
        assert_eq!(b.groups.len(), 2);
    }

    #[test]
    fn empty_rows_are_left_out() {
        let facts = Facts::new(faulty());
        assert!(spec(&facts, &[]).is_err());
        assert!(spec(&facts, &[("x".into(), f64::NAN, f64::NAN)]).is_err());
    }
}
