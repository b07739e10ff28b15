//! Queue evidence over time: for each service where work piled up, its strongest evidence
//! (a queue depth or wait its logs reported, messaging lag, the wait between a client's
//! start and its server's start, or requests in flight from the spans).

use super::timeline::chosen_services;
use super::{group_s, grouped, role_color, role_legend, X_LABEL};
use crate::analyze::backlog::{QueueKind, QueueSeries};
use crate::report::charts::spec::{Chart, ChartFile, Line, Panel, SmallMultiples};
use crate::report::facts::Facts;

/// At most this many services get a panel.
pub const MAX_SERVICES: usize = 6;
/// Below these peaks a series shows no queue worth a panel: two requests in flight (or
/// items queued), or a few milliseconds of waiting.
const MIN_PEAK_ITEMS: f64 = 2.0;
const MIN_PEAK_MS: f64 = 5.0;

/// The queue chart: one panel per service with evidence, strongest evidence first.
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let chosen: Vec<(usize, &QueueSeries)> = chosen_services(facts)
        .into_iter()
        .filter_map(|k| strongest(facts, &facts.a.services[k].name).map(|q| (k, q)))
        .take(MAX_SERVICES)
        .collect();
    if chosen.is_empty() {
        return Err(
            "no service showed queueing: no queue-depth log field, no wait before \
                    service and never two requests in flight"
                .into(),
        );
    }
    let panels: Vec<Panel> = chosen.iter().map(|&(k, q)| panel(facts, k, q)).collect();
    Ok(ChartFile {
        stem: "queues",
        caption: format!("Work piling up, from the strongest evidence each service left (named in each panel: a queue depth its logs reported, time waited before service, or requests started but not yet finished); each point is the peak over {:.0} s. A backlog that keeps growing after the trigger ends is the sign of overload that outlives its cause.", group_s(facts)),
        chart: Chart::SmallMultiples(SmallMultiples {
            title: "Queues per service (title colour = role)".into(),
            x_label: X_LABEL.into(),
            columns: panels.len().min(3),
            panels,
            shade: facts.incident_s(),
            shade_label: "incident window".into(),
            legend: role_legend(),
        }),
    })
}

/// The service's strongest series whose peak clears its floor.
fn strongest<'a>(facts: &'a Facts, service: &str) -> Option<&'a QueueSeries> {
    facts
        .a
        .queues
        .iter()
        .filter(|q| q.service == service)
        .find(|q| peak(q) >= floor(q.kind))
}

fn floor(kind: QueueKind) -> f64 {
    match kind.unit() {
        "items" => MIN_PEAK_ITEMS,
        _ => MIN_PEAK_MS,
    }
}

fn peak(q: &QueueSeries) -> f64 {
    q.values.iter().flatten().copied().fold(0.0, f64::max)
}

/// A panel-title name for the evidence (the caption explains the kinds).
fn short_label(q: &QueueSeries) -> String {
    match q.kind {
        QueueKind::LogDepth | QueueKind::LogWait => {
            let field = q.source.strip_prefix("logs.").unwrap_or(&q.source);
            format!("{field} (logs)")
        }
        QueueKind::MessagingLag => "messaging lag".into(),
        QueueKind::ServerWait => "wait before service".into(),
        QueueKind::InFlight => "in flight".into(),
    }
}

fn panel(facts: &Facts, k: usize, q: &QueueSeries) -> Panel {
    let color = role_color(facts.role(k));
    let points = grouped(facts, |r| {
        q.values.get(r)?.iter().flatten().copied().reduce(f64::max)
    });
    Panel {
        title: format!("{} · {}", q.service, short_label(q)),
        title_color: color,
        y_label: q.unit.into(),
        lines: vec![Line {
            label: q.kind.as_str().replace('_', " "),
            color,
            points,
        }],
        markers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::backlog::testdata::{db_queue, with_queue_logs};
    use crate::analyze::testkit::Scenario;
    use crate::analyze::{analyze, Analysis, AnalyzeOptions};
    use crate::report::specs::testdata::quiet;

    fn queued() -> Analysis {
        let sc = Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        };
        let data = with_queue_logs(&sc, "db", "queue_depth", db_queue(5, 10));
        analyze(&data, &AnalyzeOptions::default()).unwrap()
    }

    #[test]
    fn a_logged_queue_depth_is_drawn_from_its_log_field() {
        let a = queued();
        let facts = Facts::new(&a);
        let c = spec(&facts).unwrap();
        let Chart::SmallMultiples(s) = &c.chart else {
            panic!("{c:?}")
        };
        let db = s
            .panels
            .iter()
            .find(|p| p.title.starts_with("db "))
            .unwrap();
        assert!(db.title.contains("queue_depth"), "{}", db.title);
        assert_eq!(db.y_label, "items");
        let (lo, hi) = s.shade.unwrap();
        let peak_in = db.lines[0]
            .points
            .iter()
            .filter(|p| p.0 > lo && p.0 < hi + 30.0)
            .map(|p| p.1)
            .fold(0.0, f64::max);
        let before = db.lines[0]
            .points
            .iter()
            .filter(|p| p.0 < lo - 10.0)
            .map(|p| p.1)
            .fold(0.0, f64::max);
        assert!(peak_in > 10.0 * before, "{peak_in} vs {before}");
    }

    #[test]
    fn no_queue_means_no_chart_and_a_reason() {
        let facts = Facts::new(quiet());
        let reason = spec(&facts).unwrap_err();
        assert!(reason.contains("queue"), "{reason}");
    }
}
