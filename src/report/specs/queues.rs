//! Queue evidence over time: requests in flight at each service (server spans started but
//! not finished: cumulative arrivals − completions), for the services where work piled up.

use super::timeline::chosen_services;
use super::{group_s, grouped, role_color, role_legend, X_LABEL};
use crate::analyze::services::ServiceStats;
use crate::report::charts::spec::{Chart, ChartFile, Line, Panel, SmallMultiples};
use crate::report::facts::Facts;

/// At most this many services get a panel.
pub const MAX_SERVICES: usize = 6;
/// A service whose in-flight count never reaches this shows no queue worth a panel.
const MIN_PEAK_IN_FLIGHT: u32 = 2;

/// The queue chart (services whose in-flight work reached [`MIN_PEAK_IN_FLIGHT`]).
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let chosen: Vec<usize> = chosen_services(facts)
        .into_iter()
        .filter(|&k| peak(&facts.a.services[k]) >= MIN_PEAK_IN_FLIGHT)
        .take(MAX_SERVICES)
        .collect();
    if chosen.is_empty() {
        return Err(format!(
            "no service ever had {MIN_PEAK_IN_FLIGHT} or more requests in flight"
        ));
    }
    let panels: Vec<Panel> = chosen.iter().map(|&k| panel(facts, k)).collect();
    Ok(ChartFile {
        stem: "queues",
        caption: format!("Work piling up: requests each service had started but not yet finished (arrivals minus completions so far; each point is the peak over {:.0} s). A backlog that keeps growing after the trigger ends is the sign of overload that outlives its cause.", group_s(facts)),
        chart: Chart::SmallMultiples(SmallMultiples {
            title: "Queues: requests in flight per service (title colour = role)".into(),
            x_label: X_LABEL.into(),
            columns: panels.len().min(3),
            panels,
            shade: facts.incident_s(),
            shade_label: "incident window".into(),
            legend: role_legend(),
        }),
    })
}

fn peak(s: &ServiceStats) -> u32 {
    s.series.in_flight.iter().copied().max().unwrap_or(0)
}

fn panel(facts: &Facts, k: usize) -> Panel {
    let s = &facts.a.services[k];
    let color = role_color(facts.role(k));
    let in_flight = grouped(facts, |r| {
        s.series
            .in_flight
            .get(r)?
            .iter()
            .max()
            .map(|&v| f64::from(v))
    });
    Panel {
        title: format!("{} · in flight", s.name),
        title_color: color,
        y_label: "requests".into(),
        lines: vec![Line {
            label: "in flight".into(),
            color,
            points: in_flight,
        }],
        markers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::faulty;

    #[test]
    fn in_flight_rises_at_the_slow_service_during_the_incident() {
        let facts = Facts::new(faulty());
        let c = spec(&facts).unwrap();
        let Chart::SmallMultiples(s) = &c.chart else {
            panic!("{c:?}")
        };
        let db = s
            .panels
            .iter()
            .find(|p| p.title.starts_with("db "))
            .unwrap();
        let (a, b) = s.shade.unwrap();
        let mean = |pts: &[(f64, f64)], lo: f64, hi: f64| {
            let v: Vec<f64> = pts
                .iter()
                .filter(|p| p.0 > lo && p.0 < hi)
                .map(|p| p.1)
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let pts = &db.lines[0].points;
        assert!(mean(pts, a + 5.0, b - 5.0) > 3.0 * mean(pts, 0.0, a - 5.0).max(0.1));
        // Everything that arrived finished: nothing is left in flight at the end.
        assert_eq!(pts.last().map(|p| p.1), Some(0.0), "{pts:?}");
    }
}
