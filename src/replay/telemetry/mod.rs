//! The telemetry a run's services would have exported, written through the engine's
//! `Recorder` hook: OTLP/JSON Lines traces shaped like the bench generator's (a CLIENT span
//! per attempt in the caller's resource with `http.request.resend_count` on retries, the
//! SERVER span as its child in the callee's resource, timeouts as ERROR client spans ending
//! at the timer with `error.type=timeout` while the server span carries on, queueing as the
//! gap before the server span starts), JSON-lines logs with trace/span ids (`logs.rs`), and
//! the ground truth file. Ids derive from attempt serials, so telemetry never perturbs the
//! model's RNG, and head sampling keeps or drops whole traces. Each service's producer
//! may deviate from the conventions (`producer.rs`); a `.gz` path is written gzipped.

mod logs;
pub mod producer;
mod spans;

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use serde_json::{json, Value};

use super::sim::{RunStats, Topology};
use super::truth;

/// Simulated time 0 = 2024-06-01T12:00:00Z (the bench generator's base).
pub const BASE_NS: u64 = 1_717_243_200_000_000_000;
/// Spans per ExportTraceServiceRequest line (Collector file exporter batches ~512).
const BATCH: usize = 512;
/// Share of successful visits that log an INFO line (the generator's P_LOG).
const P_INFO_LOG: f64 = 0.37;
/// Semantic-conventions schema of the resources.
const SCHEMA_URL: &str = "https://opentelemetry.io/schemas/1.26.0";

/// Where to write and how much to sample.
#[derive(Debug, Clone)]
pub struct TelemetryOptions {
    pub traces: Option<PathBuf>,
    pub logs: Option<PathBuf>,
    /// Head-sampling rate per trace (external request).
    pub sample: f64,
    pub seed: u64,
    /// Producer of each service, by index (missing = a clean producer).
    pub producers: Vec<Producer>,
}

pub use producer::{Producer, Sink, WaitReport};
pub use spans::instance_ids;

/// Writes traces and logs as the engine reports attempts and visits.
pub struct TelemetryRecorder {
    opts: TelemetryOptions,
    traces: Option<Sink>,
    logs: Option<Sink>,
    /// `producers`, one per service.
    producers: Vec<Producer>,
    /// Resource of each (service, instance), flattened.
    resources: Vec<Value>,
    /// First resource index of each service, and its instance count.
    res_base: Vec<(usize, u32)>,
    batch: Vec<(usize, Value)>,
    error: Option<std::io::Error>,
    pub spans: u64,
    pub log_lines: u64,
    /// Every visit (sampled or not), for the truth file's roles.
    tally: truth::VisitTally,
}

use super::sim::rng::mix;

/// A uniform number in [0, 1) from a hash (deterministic per id).
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Simulated seconds → Unix nanoseconds.
fn ns(t: f64) -> u64 {
    BASE_NS + (t * 1e9).round() as u64
}

fn create(p: &Option<PathBuf>) -> Result<Option<Sink>> {
    p.as_deref().map(Sink::create).transpose()
}

impl TelemetryRecorder {
    /// Opens the output files and builds one resource per service instance.
    pub fn create(topo: &Topology, opts: &TelemetryOptions) -> Result<Self> {
        let (mut resources, mut res_base) = (Vec::new(), Vec::new());
        for s in &topo.services {
            let n = s.instances;
            res_base.push((resources.len(), n));
            resources.extend((0..n).map(|i| spans::resource(&s.name, i, opts.seed)));
        }
        let mut producers = opts.producers.clone();
        producers.resize(topo.services.len(), Producer::default());
        Ok(TelemetryRecorder {
            opts: opts.clone(),
            producers,
            traces: create(&opts.traces)?,
            logs: create(&opts.logs)?,
            resources,
            res_base,
            batch: Vec::with_capacity(BATCH),
            error: None,
            spans: 0,
            log_lines: 0,
            tally: truth::VisitTally::new(topo),
        })
    }

    /// Head sampling: a whole trace is kept or dropped.
    fn sampled(&self, trace: u32) -> bool {
        self.opts.sample >= 1.0
            || unit(mix(self.opts.seed ^ 0x5A3F, trace as u64)) < self.opts.sample
    }

    fn trace_id(&self, trace: u32) -> String {
        let t = trace as u64;
        format!(
            "{:016x}{:016x}",
            mix(self.opts.seed, t * 2),
            mix(self.opts.seed, t * 2 + 1)
        )
    }

    fn span_id(&self, serial: u32, client: bool) -> String {
        format!(
            "{:016x}",
            mix(self.opts.seed ^ 0xC0FFEE, serial as u64 * 2 + client as u64)
        )
    }

    /// Resource index of instance `i` of service `svc`.
    fn resource_of(&self, svc: u32, i: u32) -> usize {
        let (base, n) = self.res_base[svc as usize];
        base + i.min(n.saturating_sub(1)) as usize
    }

    fn emit(&mut self, res: usize, span: Value) {
        self.spans += 1;
        self.batch.push((res, span));
        if self.batch.len() >= BATCH {
            self.flush();
        }
    }

    /// Writes the batch as one ExportTraceServiceRequest line, grouped by resource.
    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let mut batch = std::mem::take(&mut self.batch);
        batch.sort_by_key(|(r, _)| *r);
        if let Some(w) = self.traces.as_mut() {
            if let Err(e) = write_request(w, &self.resources, &batch) {
                self.error.get_or_insert(e);
            }
        }
        batch.clear();
        self.batch = batch;
    }

    /// Flushes and closes the files; returns the per-visit tally of the run.
    pub fn close(mut self) -> Result<truth::VisitTally> {
        self.flush();
        for w in [self.traces.take(), self.logs.take()].into_iter().flatten() {
            if let Err(e) = w.finish() {
                self.error.get_or_insert(e);
            }
        }
        if let Some(e) = self.error {
            return Err(e).context("writing telemetry");
        }
        Ok(self.tally)
    }

    /// Flushes the files and writes the ground truth beside the traces.
    pub fn finish(self, topo: &Topology, stats: &RunStats) -> Result<()> {
        let (sample, traces) = (self.opts.sample, self.opts.traces.clone());
        let tally = self.close()?;
        if let Some(p) = &traces {
            let path = truth::truth_path(p);
            let doc = truth::truth(topo, stats, sample, &tally);
            let text = crate::report::escape::json_pretty(&doc)? + "\n";
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

/// One ExportTraceServiceRequest line, grouped by resource (`batch` sorted by it), written
/// piece by piece (keys in the order a JSON object map sorts them) rather than built as
/// one document.
fn write_request(
    w: &mut Sink,
    resources: &[Value],
    batch: &[(usize, Value)],
) -> std::io::Result<()> {
    let scope = json!({"name": "opentelemetry.instrumentation.http", "version": "0.48.0"});
    w.write_all(b"{\"resourceSpans\":[")?;
    for (i, chunk) in batch.chunk_by(|a, b| a.0 == b.0).enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        w.write_all(b"{\"resource\":")?;
        serde_json::to_writer(&mut *w, &resources[chunk[0].0])?;
        write!(
            w,
            ",\"schemaUrl\":\"{SCHEMA_URL}\",\"scopeSpans\":[{{\"scope\":"
        )?;
        serde_json::to_writer(&mut *w, &scope)?;
        w.write_all(b",\"spans\":[")?;
        for (k, (_, span)) in chunk.iter().enumerate() {
            if k > 0 {
                w.write_all(b",")?;
            }
            serde_json::to_writer(&mut *w, span)?;
        }
        w.write_all(b"]}]}")?;
    }
    w.write_all(b"]}\n")
}

fn write_line(w: &mut Sink, v: &Value) -> std::io::Result<()> {
    serde_json::to_writer(&mut *w, v).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}

#[cfg(test)]
mod tests;
