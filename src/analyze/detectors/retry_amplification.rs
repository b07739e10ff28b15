//! retry_amplification — one failure becomes many requests.
//!
//! Per edge: attempts per logical call in the incident vs the baseline. For a flagged edge
//! also: the end-to-end factor (attempts reaching the callee per attempt that would have
//! been made with no retries anywhere above it) against the product of the per-edge factors
//! along the usual path, the retries' share of the callee's load, retries of errors that
//! retrying cannot fix (4xx), and wasted work (callee time after its caller gave up).

use std::collections::BTreeMap;

use super::{worst_traces, Context, Detector, EVIDENCE_TRACES};
use crate::analyze::edges::{EdgeCounts, EdgeStats};
use crate::model::finding::{EdgeRef, Evidence, Finding, Severity};
use crate::model::window::Window;

/// Below 1.1 attempts per call, retries are under 10 % of the traffic: routine.
const MIN_AMPLIFICATION: f64 = 1.1;
/// "Clearly exceeds its baseline": at least 10 % more attempts per call than before.
const MIN_RISE: f64 = 1.1;
/// Fewer retries than this in the window are too few to call a storm.
const MIN_RETRIES: u64 = 10;
/// Two attempts per call on average: the callee sees double load — an error-level finding.
const ERROR_AMPLIFICATION: f64 = 2.0;
/// HTTP 4xx that a retry can fix (timeout, too early, too many requests).
const RETRYABLE_4XX: [i32; 3] = [408, 425, 429];
/// gRPC codes a retry cannot fix: INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS,
/// PERMISSION_DENIED, FAILED_PRECONDITION, OUT_OF_RANGE, UNIMPLEMENTED, UNAUTHENTICATED.
const NON_RETRYABLE_GRPC: [i32; 8] = [3, 5, 6, 7, 9, 11, 12, 16];

pub struct RetryAmplification;

impl Detector for RetryAmplification {
    fn id(&self) -> &'static str {
        "retry_amplification"
    }

    fn summary(&self) -> &'static str {
        "one failure becomes many requests: attempts per logical call, per edge and end to end"
    }

    fn detect(&self, ctx: &Context) -> Vec<Finding> {
        ctx.edges
            .iter()
            .enumerate()
            .filter_map(|(e, s)| edge_finding(ctx, e, s))
            .collect()
    }
}

fn edge_finding(ctx: &Context, e: usize, s: &EdgeStats) -> Option<Finding> {
    let (win, now, before) = match (ctx.incident(), s.incident) {
        (Some(w), Some(inc)) => (w, inc, Some(s.baseline)),
        _ => (ctx.windows.range, s.total, None),
    };
    let amp = now.amplification()?;
    if amp < MIN_AMPLIFICATION || now.retries < MIN_RETRIES {
        return None;
    }
    let base_amp = before.and_then(|b| b.amplification()).unwrap_or(1.0);
    let severity = match before {
        Some(_) if amp >= base_amp * MIN_RISE && amp >= ERROR_AMPLIFICATION => Severity::Error,
        Some(_) if amp >= base_amp * MIN_RISE => Severity::Warning,
        _ => Severity::Info,
    };
    let scan = scan_edge(ctx, e, &win);
    let product = path_product(ctx, &scan.path, before.is_some());
    let mut f = Finding {
        kind: "retry_amplification".into(),
        severity,
        title: title(s, amp, base_amp, before.is_some(), &scan, product),
        services: scan
            .path
            .iter()
            .map(|&n| ctx.graph.name(n).to_string())
            .collect(),
        edge: Some(EdgeRef {
            caller: s.caller.clone(),
            callee: s.callee.clone(),
        }),
        start_ns: win.start_ns,
        end_ns: win.end_ns,
        metrics: BTreeMap::new(),
        evidence: Evidence {
            trace_ids: worst_traces(ctx.table, scan.retries_by_trace.clone(), EVIDENCE_TRACES),
        },
    };
    fill_metrics(&mut f.metrics, ctx, s, now, before, &scan, product);
    Some(f)
}

fn title(s: &EdgeStats, amp: f64, base: f64, has_base: bool, scan: &Scan, product: f64) -> String {
    let mut t = format!("{} → {}: {amp:.2} attempts per call", s.caller, s.callee);
    if has_base {
        t.push_str(&format!(" in the incident (baseline {base:.2})"));
    }
    if scan.path.len() > 2 {
        t.push_str(&format!(
            "; end to end {:.2}× (product of edges {product:.2}×)",
            scan.end_to_end()
        ));
    }
    t
}

#[allow(clippy::too_many_arguments)]
fn fill_metrics(
    m: &mut BTreeMap<String, f64>,
    ctx: &Context,
    s: &EdgeStats,
    now: EdgeCounts,
    before: Option<EdgeCounts>,
    scan: &Scan,
    product: f64,
) {
    let mut put = |k: &str, v: f64| {
        m.insert(k.to_string(), v);
    };
    put("amplification", now.amplification().unwrap_or(0.0));
    put("calls", now.calls as f64);
    put("attempts", now.attempts as f64);
    put("retries", now.retries as f64);
    put("errors", now.errors as f64);
    put("timeouts", now.timeouts as f64);
    if let Some(b) = before {
        put("baseline_amplification", b.amplification().unwrap_or(1.0));
        put("baseline_calls", b.calls as f64);
        put("baseline_attempts", b.attempts as f64);
    }
    put("end_to_end_factor", scan.end_to_end());
    put("path_product_factor", product);
    put("path_attempts", scan.path_attempts as f64);
    let load = callee_load(ctx, &s.callee, before.is_some());
    put("callee_attempts", load as f64);
    put(
        "retry_share_of_callee_load",
        if load > 0 {
            now.retries as f64 / load as f64
        } else {
            0.0
        },
    );
    put("retries_on_4xx", scan.retries_on_4xx as f64);
    put("wasted_work_ms", scan.wasted_ns as f64 / 1e6);
    let share = if scan.server_ns > 0 {
        scan.wasted_ns as f64 / scan.server_ns as f64
    } else {
        0.0
    };
    put("wasted_work_share", share);
}

/// Attempts into `callee` from every caller, in the incident (or overall).
fn callee_load(ctx: &Context, callee: &str, incident: bool) -> u64 {
    ctx.edges
        .iter()
        .filter(|e| e.callee == callee)
        .map(|e| {
            if incident {
                e.incident.map_or(0, |c| c.attempts)
            } else {
                e.total.attempts
            }
        })
        .sum()
}

/// What one pass over an edge's attempts in the window found.
#[derive(Debug, Default)]
struct Scan {
    /// Most common chain of nodes from the entry service to the callee.
    path: Vec<u32>,
    /// Attempts along `path`, and those with no retry anywhere in their lineage.
    path_attempts: u64,
    pristine: u64,
    retries_on_4xx: u64,
    wasted_ns: i64,
    server_ns: i64,
    retries_by_trace: Vec<(u64, u32)>,
}

impl Scan {
    fn end_to_end(&self) -> f64 {
        if self.pristine > 0 {
            self.path_attempts as f64 / self.pristine as f64
        } else {
            0.0
        }
    }
}

fn scan_edge(ctx: &Context, e: usize, win: &Window) -> Scan {
    let (t, g) = (ctx.table, ctx.graph);
    let mut s = Scan::default();
    let mut lineages: Vec<(Vec<u32>, bool)> = Vec::new();
    for (ci, call) in g.calls.iter().enumerate() {
        let row = call.client as usize;
        if g.call_edge[ci] as usize != e || !win.contains(t.start[row]) {
            continue;
        }
        lineages.push(lineage(ctx, ci));
        if let Some(prev) = ctx.attempts.previous(ci) {
            s.retries_by_trace.push((1, t.trace[row]));
            s.retries_on_4xx += u64::from(not_retryable(ctx, g.calls[prev].client as usize));
        }
        if let Some(srv) = call.server_row() {
            s.server_ns += t.duration(srv);
            if t.is_error(row) && t.end[srv] > t.end[row] {
                s.wasted_ns += t.end[srv] - t.end[row].max(t.start[srv]);
            }
        }
    }
    s.path = most_common(&lineages);
    let on_path = lineages.iter().filter(|(p, _)| *p == s.path);
    for (_, pristine) in on_path {
        s.path_attempts += 1;
        s.pristine += u64::from(*pristine);
    }
    s
}

/// The chain of nodes above call `ci` (entry first, callee last) and whether no attempt in
/// its lineage (itself included) was a retry.
fn lineage(ctx: &Context, ci: usize) -> (Vec<u32>, bool) {
    let (t, g) = (ctx.table, ctx.graph);
    let mut chain = vec![g.calls[ci].callee];
    let mut pristine = ctx.attempts.ordinal[ci] == 0;
    let mut row = Some(g.calls[ci].client as usize);
    while let Some(r) = row {
        if chain.last() != Some(&t.service[r]) {
            chain.push(t.service[r]);
        }
        if let Some(c) = g.call_of_client(r).filter(|&c| c != ci) {
            pristine &= ctx.attempts.ordinal[c] == 0;
        }
        row = t.parent_of(r);
    }
    chain.reverse();
    (chain, pristine)
}

/// The most frequent chain (ties: the smallest chain).
fn most_common(lineages: &[(Vec<u32>, bool)]) -> Vec<u32> {
    let mut counts: BTreeMap<&Vec<u32>, u64> = BTreeMap::new();
    for (p, _) in lineages {
        *counts.entry(p).or_default() += 1;
    }
    let best = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
    best.map(|(p, _)| (*p).clone()).unwrap_or_default()
}

/// Product of the per-edge amplification factors along `path`.
fn path_product(ctx: &Context, path: &[u32], incident: bool) -> f64 {
    path.windows(2)
        .filter_map(|w| ctx.graph.edge_of(w[0], w[1]))
        .filter_map(|e| {
            let s = &ctx.edges[e];
            if incident {
                s.incident?.amplification()
            } else {
                s.total.amplification()
            }
        })
        .product()
}

/// Whether the answer of client row `r` was one that retrying cannot fix.
fn not_retryable(ctx: &Context, r: usize) -> bool {
    let h = ctx.table.http_status[r];
    let grpc = ctx.table.grpc_status[r];
    ((400..500).contains(&h) && !RETRYABLE_4XX.contains(&h)) || NON_RETRYABLE_GRPC.contains(&grpc)
}
