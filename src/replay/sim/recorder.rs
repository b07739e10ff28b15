//! The engine's telemetry hook: a `Recorder` sees every finished attempt (client side) and
//! every finished visit (server side). `NoRecorder` compiles to nothing, so a run without
//! `--traces-out`/`--logs-out` pays no cost.

use super::topology::Topology;

/// How an attempt ended, from the caller's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The callee answered with a failure.
    Error,
    /// The caller's timer fired first; the callee carries on.
    Timeout,
    /// The callee's queue was full: failed at once.
    Rejected,
}

/// A finished attempt (a CLIENT span).
#[derive(Debug, Clone, Copy)]
pub struct AttemptRecord {
    pub edge: u32,
    /// Unique id of the attempt (also the id of the visit it created).
    pub serial: u32,
    /// Serial of the calling visit; 0 for the external client.
    pub parent: u32,
    /// Serial of the external request (one trace per external request).
    pub trace: u32,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    pub start: f64,
    pub end: f64,
    pub outcome: Outcome,
    /// HTTP status the caller saw: 200, the callee's 5xx, 503 when rejected, 0 on timeout.
    pub status: u16,
    /// An OK answer carrying a wrong result (only the caller can tell).
    pub silent: bool,
}

/// A finished visit (a SERVER span).
#[derive(Debug, Clone, Copy)]
pub struct VisitRecord {
    pub service: u32,
    pub edge: u32,
    pub serial: u32,
    pub trace: u32,
    pub arrive: f64,
    pub start: f64,
    pub end: f64,
    pub ok: bool,
    /// 200, 503 when the visit's own fault failed it, 502 when a downstream call failed.
    pub status: u16,
    /// Queue length the visit found when it arrived.
    pub queue_at_arrival: u32,
    /// Instance (pod) that served it.
    pub instance: u32,
    /// Answered OK with a wrong result.
    pub silent: bool,
    /// Pool wait `(asked, got)`; NaN without a pool.
    pub wait: (f64, f64),
}

/// Receives telemetry from the engine.
pub trait Recorder {
    /// False only for `NoRecorder`: lets the engine skip building records.
    const ENABLED: bool;
    fn attempt(&mut self, topo: &Topology, r: &AttemptRecord);
    fn visit(&mut self, topo: &Topology, r: &VisitRecord);
}

/// Records nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoRecorder;

impl Recorder for NoRecorder {
    const ENABLED: bool = false;
    #[inline(always)]
    fn attempt(&mut self, _: &Topology, _: &AttemptRecord) {}
    #[inline(always)]
    fn visit(&mut self, _: &Topology, _: &VisitRecord) {}
}
