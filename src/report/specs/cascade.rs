//! The cascade: when each service along the propagation path (then every other hurt
//! service) departed from its baseline, as an interval from its onset to the incident's end.

use super::{role_color, role_legend, X_LABEL};
use crate::model::window::NS_PER_S;
use crate::report::charts::spec::{Chart, ChartFile, SpanRow, Spans};
use crate::report::facts::Facts;

/// Most rows drawn: a row per service stays legible up to a couple of dozen; the later
/// onsets beyond are folded into one last row that says how many it stands for.
pub const MAX_ROWS: usize = 20;

/// The cascade chart (needs an incident and at least one onset).
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let Some(inc) = facts.a.windows.incident else {
        return Err("no incident was detected, so nothing spread".into());
    };
    let nodes = ordered_nodes(facts);
    let first = nodes.iter().map(|&(_, o)| o).min();
    let Some(first) = first else {
        return Err("no service departed from its baseline".into());
    };
    let end = facts.secs(inc.end_ns);
    let (nodes, folded) = if nodes.len() > MAX_ROWS {
        nodes.split_at(MAX_ROWS - 1)
    } else {
        (&nodes[..], &[][..])
    };
    let mut rows: Vec<SpanRow> = nodes
        .iter()
        .map(|&(n, onset)| {
            let color = role_color(facts.role_of_node(n));
            let lag = (onset - first) as f64 / NS_PER_S as f64;
            SpanRow {
                label: facts.a.graph.name(n).to_string(),
                label_color: color,
                start: facts.secs(onset),
                end: end.max(facts.secs(onset)),
                color,
                note: if onset == first {
                    "first to depart".into()
                } else {
                    format!("+{lag:.0} s after the first")
                },
            }
        })
        .collect();
    if let Some(&(_, onset)) = folded.iter().min_by_key(|&&(_, o)| o) {
        let color = role_color(crate::analyze::rootcause::Role::Affected);
        rows.push(SpanRow {
            label: format!("{} others", folded.len()),
            label_color: color,
            start: facts.secs(onset),
            end: end.max(facts.secs(onset)),
            color,
            note: format!(
                "{} more services, from +{:.0} s after the first",
                folded.len(),
                (onset - first) as f64 / NS_PER_S as f64
            ),
        });
    }
    let r = &facts.a.windows.range;
    Ok(ChartFile {
        stem: "cascade",
        caption: "When each service went bad: bars start at the service's onset (its first sustained departure from baseline) and run to the end of the incident. The source and the path the failure climbed come first, from the source up to the entry.".into(),
        chart: Chart::Spans(Spans {
            title: "How it spread: onset per service along the propagation path".into(),
            x_label: X_LABEL.into(),
            rows,
            x_range: (0.0, facts.secs(r.end_ns)),
            shade: facts.incident_s(),
            shade_label: "incident window".into(),
            legend: role_legend(),
        }),
    })
}

/// (graph node, onset ns): the path first (source first), then other services with an
/// onset, by onset then name.
fn ordered_nodes(facts: &Facts) -> Vec<(u32, i64)> {
    let mut out: Vec<(u32, i64)> = facts
        .path
        .iter()
        .filter_map(|&n| Some((n, facts.onset_of_node(n)?)))
        .collect();
    let mut rest: Vec<(i64, &str, u32)> = facts
        .a
        .services
        .iter()
        .filter(|s| !facts.path.contains(&s.id))
        .filter_map(|s| Some((s.onset_ns?, s.name.as_str(), s.id)))
        .collect();
    rest.sort();
    out.extend(rest.into_iter().map(|(o, _, id)| (id, o)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::charts::palette;
    use crate::report::specs::testdata::{faulty, quiet};

    #[test]
    fn rows_climb_the_path_from_the_source() {
        let facts = Facts::new(faulty());
        let c = spec(&facts).unwrap();
        let Chart::Spans(s) = &c.chart else {
            panic!("{c:?}")
        };
        let labels: Vec<&str> = s.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels, ["db", "api", "frontend"]);
        assert_eq!(s.rows[0].color, palette::SOURCE);
        let (_, inc_end) = s.shade.unwrap();
        assert!(s
            .rows
            .iter()
            .all(|r| r.start <= r.end && (r.end - inc_end).abs() < 1e-9));
        assert!(s.rows.iter().any(|r| r.note == "first to depart"));
        assert!(s.x_range.1 > inc_end);
    }

    #[test]
    fn without_an_incident_the_chart_is_left_out_with_a_reason() {
        let facts = Facts::new(quiet());
        assert!(spec(&facts).unwrap_err().contains("no incident"));
    }
}
