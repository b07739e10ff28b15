//! The findings document, `cascade.findings/v1` (PRODUCT.md): the stable JSON contract
//! written by `analyze --json` / `-o` and by `report`. The wire structs are private here.

use std::collections::BTreeMap;

use serde::Serialize;

use super::incident::WindowSource;
use super::quality::DataQuality;
use super::stats::Counted;
use super::Analysis;
use crate::ingest::Dataset;
use crate::model::finding::{EdgeRef, Evidence, Severity};
use crate::model::window::{rfc3339, Window};

/// The schema id.
pub const SCHEMA: &str = "cascade.findings/v1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    input: Input,
    windows: Windows,
    services: Vec<Service>,
    /// What users saw: entry requests (each trace's root, of any kind), baseline against
    /// incident.
    #[serde(skip_serializing_if = "Option::is_none")]
    users: Option<&'a crate::analyze::localize::entry::EntryChange>,
    /// Uninstrumented dependencies (virtual nodes) and their roles.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    virtual_nodes: Vec<VirtualNode>,
    edges: Vec<Edge>,
    root_causes: Vec<RootCause<'a>>,
    findings: Vec<FindingOut<'a>>,
    data_quality: Quality<'a>,
    /// Each node's share of the traces' critical paths, baseline vs incident.
    critical_path: CritPath,
}

#[derive(Serialize)]
struct CritPath {
    traces_baseline: u64,
    traces_incident: u64,
    /// By name; services and uninstrumented (virtual) nodes.
    nodes: Vec<CritNode>,
}

#[derive(Serialize)]
struct CritNode {
    name: String,
    /// Share of the summed critical-path time of the window's traces.
    share: Pair,
    /// Mean critical-path time per trace of the window, ms.
    mean_ms: Pair,
}

#[derive(Serialize)]
struct Input {
    spans: u64,
    traces: u64,
    services: u64,
    log_records: u64,
    skipped: Skipped,
}

#[derive(Serialize)]
struct Skipped {
    count: u64,
    reasons: Vec<Reason>,
}

#[derive(Serialize)]
struct Reason {
    level: String,
    reason: String,
    count: u64,
    examples: Vec<String>,
}

#[derive(Serialize)]
struct Span {
    start: String,
    end: String,
}

#[derive(Serialize)]
struct Windows {
    baseline: Span,
    incident: Option<Span>,
    detected: bool,
    /// `detected`, `user` or `none`.
    source: WindowSource,
    bucket_s: f64,
}

#[derive(Serialize)]
struct Pair {
    baseline: Option<f64>,
    incident: Option<f64>,
    n_baseline: u64,
    n_incident: u64,
}

#[derive(Serialize)]
struct Service {
    name: String,
    role: &'static str,
    requests: u64,
    errors: u64,
    p99_ms: Pair,
    self_time_ms: Pair,
    onset: Option<String>,
}

#[derive(Serialize)]
struct Edge {
    caller: String,
    callee: String,
    calls: u64,
    attempts: u64,
    retries: u64,
    errors: u64,
    amplification: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    /// The same counts over the baseline and the incident window.
    baseline: EdgeWindow,
    incident: Option<EdgeWindow>,
}

#[derive(Serialize)]
struct EdgeWindow {
    calls: u64,
    attempts: u64,
    retries: u64,
    errors: u64,
    timeouts: u64,
    amplification: Option<f64>,
    p99_ms: Option<f64>,
}

impl EdgeWindow {
    fn of(c: &crate::analyze::edges::EdgeCounts) -> Self {
        EdgeWindow {
            calls: c.calls,
            attempts: c.attempts,
            retries: c.retries,
            errors: c.errors,
            timeouts: c.timeouts,
            amplification: c.amplification().map(r6),
            p99_ms: c.p99_ms.value.map(r6),
        }
    }
}

#[derive(Serialize)]
struct RootCause<'a> {
    service: &'a str,
    score: f64,
    /// Calibrated confidence (causes given 0.8 are right about 80 % of the time).
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<f64>,
    reason: &'a str,
    /// Share of the user-facing change this cause explains.
    #[serde(skip_serializing_if = "Option::is_none")]
    explained: Option<f64>,
    /// The evidence that carried the verdict.
    #[serde(skip_serializing_if = "str::is_empty")]
    evidence: &'a str,
    /// What the cause's bad requests share (an instance, an operation).
    #[serde(skip_serializing_if = "Option::is_none")]
    below: Option<&'a crate::analyze::localize::below::Concentration>,
}

#[derive(Serialize)]
struct FindingOut<'a> {
    kind: &'a str,
    severity: Severity,
    title: &'a str,
    services: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    edge: Option<&'a EdgeRef>,
    start: String,
    end: String,
    metrics: BTreeMap<&'a str, f64>,
    evidence: &'a Evidence,
}

#[derive(Serialize)]
struct Quality<'a> {
    #[serde(flatten)]
    counts: &'a DataQuality,
    caveats: Vec<String>,
}

/// Rounds to 1 µs (for ms values) / 6 decimals, so the document does not carry float noise.
fn r6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

fn span(w: &Window) -> Span {
    Span {
        start: rfc3339(w.start_ns),
        end: rfc3339(w.end_ns),
    }
}

fn pair(b: Counted, i: Option<Counted>) -> Pair {
    Pair {
        baseline: b.value.map(r6),
        incident: i.and_then(|i| i.value).map(r6),
        n_baseline: b.n,
        n_incident: i.map_or(0, |i| i.n),
    }
}

/// The findings document of an analysis.
pub fn findings_document(a: &Analysis, data: &Dataset) -> serde_json::Value {
    let doc = Doc {
        schema: SCHEMA,
        input: input(a, data),
        windows: windows(a),
        services: services(a),
        users: a.windows.incident.map(|_| &a.localization.entry),
        virtual_nodes: virtual_nodes(a),
        edges: edges(a),
        root_causes: a
            .root_causes
            .iter()
            .map(|r| RootCause {
                service: &r.service,
                score: r.score,
                confidence: r.confidence,
                reason: &r.reason,
                explained: r.explained.map(|v| (v * 1000.0).round() / 1000.0),
                evidence: &r.evidence,
                below: r.below.as_ref(),
            })
            .collect(),
        findings: a.findings.iter().map(finding).collect(),
        data_quality: Quality {
            counts: &a.quality,
            caveats: a.quality.caveats(),
        },
        critical_path: critical_path(a),
    };
    serde_json::to_value(doc).unwrap_or(serde_json::Value::Null)
}

fn input(a: &Analysis, data: &Dataset) -> Input {
    let reasons: Vec<Reason> = data
        .diagnostics
        .iter()
        .map(|(level, reason, e)| Reason {
            level: format!("{level:?}").to_lowercase(),
            reason: reason.to_string(),
            count: e.count,
            examples: e.examples.clone(),
        })
        .collect();
    Input {
        spans: a.table.len() as u64,
        traces: a.table.trace_rows.len() as u64,
        services: a.table.services.len() as u64,
        log_records: data.logs.height() as u64,
        skipped: Skipped {
            count: a.quality.ingest_skipped,
            reasons,
        },
    }
}

fn windows(a: &Analysis) -> Windows {
    let w = &a.windows;
    Windows {
        baseline: span(&w.baseline),
        incident: w.incident.as_ref().map(span),
        detected: w.detected(),
        source: w.source,
        bucket_s: w.buckets.width_s(),
    }
}

fn services(a: &Analysis) -> Vec<Service> {
    a.services
        .iter()
        .zip(&a.roles)
        .map(|(s, role)| Service {
            name: s.name.clone(),
            role: role.as_str(),
            requests: s.series.requests.iter().map(|&x| u64::from(x)).sum(),
            errors: s.series.errors.iter().map(|&x| u64::from(x)).sum(),
            p99_ms: pair(s.baseline.p99_ms, s.incident.map(|i| i.p99_ms)),
            self_time_ms: pair(s.baseline.self_ms, s.incident.map(|i| i.self_ms)),
            onset: s.onset_ns.map(rfc3339),
        })
        .collect()
}

/// Uninstrumented dependencies, seen through their callers: name and role.
fn virtual_nodes(a: &Analysis) -> Vec<VirtualNode> {
    a.virtual_roles
        .iter()
        .map(|&(node, role)| VirtualNode {
            name: a.graph.name(node).to_string(),
            role: role.as_str(),
        })
        .collect()
}

#[derive(Serialize)]
struct VirtualNode {
    name: String,
    role: &'static str,
}

fn edges(a: &Analysis) -> Vec<Edge> {
    a.edges
        .iter()
        .map(|e| Edge {
            caller: e.caller.clone(),
            callee: e.callee.clone(),
            calls: e.total.calls,
            attempts: e.total.attempts,
            retries: e.total.retries,
            errors: e.total.errors,
            amplification: e.total.amplification().map(r6),
            p50_ms: e.p50_ms.value.map(r6),
            p99_ms: e.total.p99_ms.value.map(r6),
            baseline: EdgeWindow::of(&e.baseline),
            incident: e.incident.as_ref().map(EdgeWindow::of),
        })
        .collect()
}

fn critical_path(a: &Analysis) -> CritPath {
    let cp = &a.critical_path;
    let per_trace = |ns: i64, traces: u64| (traces > 0).then(|| ns as f64 / traces as f64 / 1e6);
    let mut nodes: Vec<CritNode> = cp
        .nodes
        .iter()
        .filter(|n| n.baseline.ns > 0 || n.incident.is_some_and(|i| i.ns > 0))
        .map(|n| {
            let (b, i) = (n.baseline, n.incident);
            let counted = |v: Option<f64>, k: u64| Counted::new(v, k);
            let (nb, ni) = (cp.baseline_traces, cp.incident_traces);
            CritNode {
                name: n.name.clone(),
                share: pair(counted(b.share, nb), i.map(|i| counted(i.share, ni))),
                mean_ms: pair(
                    counted(per_trace(b.ns, nb), nb),
                    i.map(|i| counted(per_trace(i.ns, ni), ni)),
                ),
            }
        })
        .collect();
    nodes.sort_by(|x, y| x.name.cmp(&y.name));
    CritPath {
        traces_baseline: cp.baseline_traces,
        traces_incident: cp.incident_traces,
        nodes,
    }
}

fn finding(f: &crate::model::finding::Finding) -> FindingOut<'_> {
    FindingOut {
        kind: &f.kind,
        severity: f.severity,
        title: &f.title,
        services: &f.services,
        edge: f.edge.as_ref(),
        start: rfc3339(f.start_ns),
        end: rfc3339(f.end_ns),
        metrics: f
            .metrics
            .iter()
            .map(|(k, v)| (k.as_str(), r6(*v)))
            .collect(),
        evidence: &f.evidence,
    }
}
