//! Report: chart specs → PNG (plotters), the HTML page, the Markdown postmortem draft.

pub mod charts;
pub mod escape;
pub mod facts;
pub mod folder;
pub mod specs;
