//! Eval: the analyser scored against the truth of every case of a corpus — how often the
//! root cause is among the first k, which mechanisms it finds, whether the roles and the
//! window are right, whether controls stay quiet.
//!
//! [`corpus`] finds the cases, [`truth`] reads their truth files, [`observe`] reduces an
//! analysis to what is scored, [`score`] compares (pure), [`table`] and [`document`] render.
//! `app.rs` runs the analysis of each case.

pub mod corpus;
pub mod document;
pub mod observe;
pub mod score;
pub mod table;
pub mod truth;
