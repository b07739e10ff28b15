//! Report: chart specs → PNG (plotters), the HTML page, the Markdown postmortem draft.

pub mod charts;
