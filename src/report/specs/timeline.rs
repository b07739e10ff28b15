//! The timeline per service: small multiples with one row per service and three panels
//! (request rate, error rate, p99), the incident shaded, each service's onset marked.

use super::{group_s, grouped, role_color, role_legend, sum, X_LABEL};
use crate::analyze::rootcause::Role;
use crate::analyze::services::ServiceStats;
use crate::report::charts::palette;
use crate::report::charts::spec::{Chart, ChartFile, Line, Marker, Panel, SmallMultiples};
use crate::report::facts::Facts;

/// At most this many services get a row (a taller picture stops being glanceable); the
/// hurt services come first, then the busiest.
pub const MAX_SERVICES: usize = 10;

/// The per-service timeline chart.
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let chosen = chosen_services(facts);
    if chosen.is_empty() {
        return Err("no service handled a request (no SERVER spans)".into());
    }
    let left_out = facts.a.services.len() - chosen.len();
    let panels = chosen
        .iter()
        .flat_map(|&k| service_panels(facts, k))
        .collect();
    let mut caption = format!("Each row is one service: requests per second, the share of its requests that failed, and its p99 latency (each point covers {:.0} s; for p99 the worst bucket in it). The shaded band is the incident; the vertical line marks when the service departed from its baseline.", group_s(facts));
    if left_out > 0 {
        caption.push_str(&format!(" {left_out} quieter services are not shown."));
    }
    Ok(ChartFile {
        stem: "timeline",
        caption,
        chart: Chart::SmallMultiples(SmallMultiples {
            title: "Timeline per service: rate, errors, p99 (title colour = role)".into(),
            x_label: X_LABEL.into(),
            columns: 3,
            panels,
            shade: facts.incident_s(),
            shade_label: "incident window".into(),
            legend: role_legend(),
        }),
    })
}

/// Services to draw: path order first (source first), then other hurt services by onset,
/// then the rest by requests; at most [`MAX_SERVICES`].
pub fn chosen_services(facts: &Facts) -> Vec<usize> {
    let a = facts.a;
    let mut order: Vec<usize> = facts
        .path
        .iter()
        .filter_map(|&n| facts.service_of_node(n))
        .collect();
    let mut rest: Vec<usize> = (0..a.services.len())
        .filter(|k| !order.contains(k) && requests(&a.services[*k]) > 0)
        .collect();
    rest.sort_by_key(|&k| {
        let s = &a.services[k];
        (
            facts.role(k) == Role::Healthy,
            s.onset_ns.unwrap_or(i64::MAX),
            std::cmp::Reverse(requests(s)),
            s.name.clone(),
        )
    });
    order.extend(rest);
    order.truncate(MAX_SERVICES);
    order
}

fn requests(s: &ServiceStats) -> u64 {
    s.series.requests.iter().map(|&r| u64::from(r)).sum()
}

fn service_panels(facts: &Facts, k: usize) -> Vec<Panel> {
    let s = &facts.a.services[k];
    let color = role_color(facts.role(k));
    let sr = &s.series;
    let width = facts.a.windows.buckets.width_s();
    let rate = grouped(facts, |r| {
        Some(sum(&sr.requests, r.clone()) / (r.len() as f64 * width))
    });
    let errors = grouped(facts, |r| {
        let n = sum(&sr.requests, r.clone());
        (n > 0.0).then(|| 100.0 * sum(&sr.errors, r) / n)
    });
    let p99 = grouped(facts, |r| {
        sr.p99_ms.get(r)?.iter().flatten().copied().reduce(f64::max)
    });
    let markers: Vec<Marker> = s
        .onset_ns
        .map(|o| Marker {
            x: facts.secs(o),
            label: "onset".into(),
            color: palette::TEXT,
        })
        .into_iter()
        .collect();
    let panel = |what: &str, unit: &str, points| Panel {
        title: format!("{} · {what}", s.name),
        title_color: color,
        y_label: unit.to_string(),
        lines: vec![Line {
            label: what.to_string(),
            color,
            points,
        }],
        markers: markers.clone(),
    };
    vec![
        panel("requests/s", "req/s", rate),
        panel("errors", "% failed", errors),
        panel("p99 latency", "ms", p99),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::faulty;

    #[test]
    fn three_panels_per_service_source_first_with_onsets() {
        let facts = Facts::new(faulty());
        let c = spec(&facts).unwrap();
        let Chart::SmallMultiples(s) = &c.chart else {
            panic!("{c:?}")
        };
        assert_eq!(s.panels.len(), 9);
        assert!(
            s.panels[0].title.starts_with("db · "),
            "{}",
            s.panels[0].title
        );
        assert_eq!(s.panels[0].title_color, palette::SOURCE);
        let (a, b) = s.shade.unwrap();
        assert!(a > 200.0 && b > a);
        let onset = s.panels[0].markers[0].x;
        assert!(
            (a - 5.0..a + 5.0).contains(&onset),
            "onset {onset} vs incident {a}"
        );
        // db's p99 rises about tenfold inside the shaded window.
        let p99 = &s.panels[2].lines[0].points;
        let mean = |lo: f64, hi: f64| {
            let v: Vec<f64> = p99
                .iter()
                .filter(|p| p.0 > lo && p.0 < hi)
                .map(|p| p.1)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        assert!(mean(a + 10.0, b - 10.0) > 5.0 * mean(0.0, a - 10.0));
        // Request rate is per second, whatever the bucket width.
        let rate = &s.panels[0].lines[0].points;
        assert!(rate.iter().all(|p| p.1 >= 0.0) && rate.len() <= crate::report::specs::MAX_POINTS);
        let total: f64 = rate
            .iter()
            .map(|p| p.1 * crate::report::specs::group_s(&facts))
            .sum();
        let requests: u32 = facts.a.services[1].series.requests.iter().sum();
        assert!(
            (total - f64::from(requests)).abs() < 1.0,
            "{total} vs {requests}"
        );
    }
}
