//! Report: the analysis (and optionally the replay) → a folder a team can paste into its
//! postmortem: `index.html` (one offline page), `charts/*.png`, `postmortem.md` (a draft in
//! the SRE book's sections) and `findings.json` (`cascade.findings/v1`).
//!
//! Entry point: [`write_report`]. Chart specs ([`specs`]) are computed apart from drawing
//! ([`charts`]); the words come from [`story`] and are rendered by [`html`] and [`markdown`];
//! the files go into an output folder of [`crate::write`], which owns where they land.

pub mod charts;
pub mod escape;
pub mod facts;
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
use crate::write::Folder;
use facts::Facts;
pub use specs::CriticalPathRow;

/// The files of every report besides its charts (checked before the analysis starts).
pub const FILES: [&str; 3] = ["index.html", "postmortem.md", "findings.json"];

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

/// Writes the report into `staging` (an output folder the caller commits).
pub fn write_report(input: &ReportInput, staging: &Folder) -> Result<()> {
    let facts = Facts::new(input.analysis);
    let (charts, omitted) = specs::all(&facts, input.replay, input.critical_path);
    draw_all(staging, &charts)?;
    let page = html::Page {
        facts: &facts,
        charts: &charts,
        omitted: &omitted,
        replay: input.replay,
    };
    staging.write("index.html", html::render(&page).as_bytes())?;
    let md = markdown::render(&facts, &charts, input.replay);
    staging.write("postmortem.md", md.as_bytes())?;
    let json = escape::json_pretty(input.findings).context("encoding the findings")?;
    staging.write("findings.json", format!("{json}\n").as_bytes())
}

/// Draws every chart in parallel; the first error (in chart order) wins.
fn draw_all(staging: &Folder, charts: &[charts::spec::ChartFile]) -> Result<()> {
    let paths = charts
        .iter()
        .map(|c| staging.stage(&format!("charts/{}.png", c.stem)))
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
        let write = |force: bool| -> Result<()> {
            let mut claims = crate::write::Claims::new(&[]);
            let d = claims.folder("report -o", &out, force, &FILES)?;
            let staged = claims.open()?;
            write_report(&input, staged.folder(d))?;
            staged.commit()
        };
        write(false).unwrap();
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
        assert!(write(false).is_err(), "refuses a non-empty folder");
        write(true).unwrap();
        assert_eq!(
            default_dir(a),
            Path::new("reports/incident-20240601-120400")
        );
    }
}
