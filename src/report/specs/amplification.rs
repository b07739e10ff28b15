//! Retry amplification per edge over time: attempts per logical call in each bucket, for
//! the edges that retried noticeably (1.0 = no retries).

use super::{grouped, sum, X_LABEL};
use crate::analyze::edges::EdgeStats;
use crate::report::charts::palette;
use crate::report::charts::spec::{Chart, ChartFile, Line, Panel, SmallMultiples};
use crate::report::facts::Facts;

/// At most this many edges (the most amplified) get a panel.
pub const MAX_EDGES: usize = 6;
/// Points with fewer logical calls than this give a ratio too noisy to plot.
const MIN_CALLS: u32 = 3;
/// An edge whose amplification never reaches this (5 % extra attempts) is background
/// retrying, not a feedback loop worth a panel.
const NOTICEABLE_AMPLIFICATION: f64 = 1.05;

/// The amplification chart (only edges that retried).
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let mut edges: Vec<&EdgeStats> = facts
        .a
        .edges
        .iter()
        .filter(|e| peak(e) >= NOTICEABLE_AMPLIFICATION)
        .collect();
    if edges.is_empty() {
        return Err(format!(
            "no edge retried noticeably (amplification stayed under {NOTICEABLE_AMPLIFICATION})"
        ));
    }
    edges.sort_by(|a, b| {
        peak(b)
            .total_cmp(&peak(a))
            .then(a.caller.cmp(&b.caller))
            .then(a.callee.cmp(&b.callee))
    });
    edges.truncate(MAX_EDGES);
    let panels: Vec<Panel> = edges
        .iter()
        .enumerate()
        .map(|(i, e)| panel(facts, i, e))
        .collect();
    Ok(ChartFile {
        stem: "retry-amplification",
        caption: "Attempts per logical call on each edge that retried: 1.0 means no retries, 2.0 means every call was tried twice. The shaded band is the incident.".into(),
        chart: Chart::SmallMultiples(SmallMultiples {
            title: "Retry amplification per edge (attempts per call)".into(),
            x_label: X_LABEL.into(),
            columns: panels.len().min(2),
            panels,
            shade: facts.incident_s(),
            shade_label: "incident window".into(),
            legend: Vec::new(),
        }),
    })
}

/// The edge's worst amplification over the incident (or overall).
fn peak(e: &EdgeStats) -> f64 {
    e.incident
        .and_then(|c| c.amplification())
        .or(e.total.amplification())
        .unwrap_or(1.0)
}

/// attempts / calls per plotted point, where the point has enough calls.
pub fn series(facts: &Facts, e: &EdgeStats) -> Vec<(f64, f64)> {
    let sr = &e.series;
    grouped(facts, |r| {
        let calls = sum(&sr.calls, r.clone());
        (calls >= f64::from(MIN_CALLS)).then(|| sum(&sr.attempts, r) / calls)
    })
}

fn panel(facts: &Facts, i: usize, e: &EdgeStats) -> Panel {
    Panel {
        title: format!("{} → {}", e.caller, e.callee),
        title_color: palette::TEXT,
        y_label: "attempts per call".into(),
        lines: vec![Line {
            label: "attempts per call".into(),
            color: palette::categorical(i),
            points: series(facts, e),
        }],
        markers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::{faulty, quiet};

    #[test]
    fn the_retrying_edge_climbs_above_one_in_the_incident() {
        let facts = Facts::new(faulty());
        let c = spec(&facts).unwrap();
        let Chart::SmallMultiples(s) = &c.chart else {
            panic!("{c:?}")
        };
        assert_eq!(s.panels[0].title, "api → db");
        let (a, b) = s.shade.unwrap();
        let pts = &s.panels[0].lines[0].points;
        let inside = pts
            .iter()
            .filter(|p| p.0 > a && p.0 < b)
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let before: Vec<f64> = pts.iter().filter(|p| p.0 < a - 5.0).map(|p| p.1).collect();
        assert!(inside > 1.5, "peak {inside}");
        let mean_before = before.iter().sum::<f64>() / before.len() as f64;
        assert!(mean_before < 1.05, "{mean_before}");
        assert!(pts.iter().all(|p| p.1 >= 1.0));
    }

    #[test]
    fn no_retries_no_chart() {
        let facts = Facts::new(quiet());
        assert!(spec(&facts).unwrap_err().contains("retried noticeably"));
    }
}
