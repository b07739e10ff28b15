//! Report: the analysis (and optionally the replay) → a folder a team can paste into its
//! postmortem: `index.html` (one offline page), `charts/*.png`, `postmortem.md` (a draft in
//! the SRE book's sections) and `findings.json` (`cascade.findings/v1`).
//!
//! Entry point: [`write_report`]. Chart specs ([`specs`]) are computed apart from drawing
//! ([`charts`]); the words come from [`story`] and are rendered by [`html`] and [`markdown`];
//! [`folder`] writes everything into a staging folder and renames it into place.

pub mod charts;
pub mod escape;
pub mod facts;
pub mod folder;
pub mod html;
pub mod markdown;
pub mod specs;
pub mod story;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use rayon::prelude::*;

use crate::analyze::Analysis;
use crate::model::replay::ReplayView;
use facts::Facts;
use folder::Staging;
pub use specs::CriticalPathRow;

/// Where and how to write the report.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// The report folder. Default (see [`default_dir`]): `reports/incident-<start>`.
    pub out_dir: PathBuf,
    /// Replace an existing non-empty folder. Default `false`: refuse it.
    pub force: bool,
}

/// What the report is made from.
pub struct ReportInput<'a> {
    pub analysis: &'a Analysis,
    /// The findings document (`analyze::findings_document`), written as `findings.json`.
    pub findings: &'a serde_json::Value,
    /// The replay's answer; adds a section, three charts and an action item.
    pub replay: Option<&'a ReplayView>,
    /// Critical-path shares per service; `None`: those of the analysis.
    pub critical_path: Option<&'a [CriticalPathRow]>,
}

/// Writes the report folder; returns its path.
pub fn write_report(input: &ReportInput, opts: &ReportOptions) -> Result<PathBuf> {
    let staging = Staging::begin(&opts.out_dir, opts.force)?;
    let facts = Facts::new(input.analysis);
    let (charts, omitted) = specs::all(&facts, input.replay, input.critical_path);
    draw_all(&staging, &charts)?;
    let page = html::Page {
        facts: &facts,
        charts: &charts,
        omitted: &omitted,
        replay: input.replay,
    };
    staging.write("index.html", html::render(&page).as_bytes())?;
    let md = markdown::render(&facts, &charts, input.replay);
    staging.write("postmortem.md", md.as_bytes())?;
    let json = serde_json::to_string_pretty(input.findings).context("encoding the findings")?;
    staging.write("findings.json", format!("{json}\n").as_bytes())?;
    staging.finish()
}

/// Draws every chart in parallel; the first error (in chart order) wins.
fn draw_all(staging: &Staging, charts: &[charts::spec::ChartFile]) -> Result<()> {
    let paths = charts
        .iter()
        .map(|c| staging.path(&format!("charts/{}.png", c.stem)))
        .collect::<Result<Vec<_>>>()?;
    let results: Vec<Result<()>> = charts
        .par_iter()
        .zip(&paths)
        .map(|(c, p)| charts::draw(&c.chart, p).with_context(|| format!("chart {}", c.stem)))
        .collect();
    results.into_iter().collect()
}

/// `reports/incident-20240601-120059` (the incident's start, UTC), or
/// `reports/traces-<first span>` without an incident.
pub fn default_dir(a: &Analysis) -> PathBuf {
    let (what, t) = match a.windows.incident {
        Some(w) => ("incident", w.start_ns),
        None => ("traces", a.windows.range.start_ns),
    };
    let stamp = DateTime::<Utc>::from_timestamp_nanos(t).format("%Y%m%d-%H%M%S");
    Path::new("reports").join(format!("{what}-{stamp}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::faulty;

    #[test]
    fn writes_every_file_and_names_the_default_folder_after_the_incident() {
        let dir = tempfile::tempdir().unwrap();
        let a = faulty();
        let doc = serde_json::json!({"schema": "cascade.findings/v1"});
        let view = specs::replay::tests::view();
        let rows = vec![("db".to_string(), 0.3, 0.8)];
        let input = ReportInput {
            analysis: a,
            findings: &doc,
            replay: Some(&view),
            critical_path: Some(&rows),
        };
        // CASCADE_REPORT_SAMPLE=DIR keeps this report (replay and critical path included)
        // for a look by eye.
        let out = std::env::var_os("CASCADE_REPORT_SAMPLE")
            .map_or_else(|| dir.path().join("r"), PathBuf::from);
        let _ = std::fs::remove_dir_all(&out);
        let opts = ReportOptions {
            out_dir: out.clone(),
            force: false,
        };
        write_report(&input, &opts).unwrap();
        for f in [
            "index.html",
            "postmortem.md",
            "findings.json",
            "charts/service-graph.png",
            "charts/critical-path.png",
            "charts/replay-recovery.png",
        ] {
            assert!(out.join(f).is_file(), "{f}");
        }
        assert!(
            write_report(&input, &opts).is_err(),
            "refuses a non-empty folder"
        );
        assert_eq!(
            default_dir(a),
            Path::new("reports/incident-20240601-120400")
        );
    }
}
