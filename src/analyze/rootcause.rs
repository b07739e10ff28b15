//! Root-cause ranking and service roles.
//!
//! A node is ranked by how much of the user-facing change it explains (its share from
//! [`super::localize`]: its own work on the critical path, gaps charged to it, error
//! origins), not by the size of its own ratios. Six further pieces of evidence, each in
//! 0..=1, order candidates that explain about the same and carry the incident when users
//! saw nothing (a backlog): its own (self) time rose; it originated the errors; it departed
//! first; it sits below the other symptomatic services in the call graph (a cause sits
//! below its symptoms); the latency_contagion chains of infected callers end at it; its
//! logs turned to errors. A load surge at the front door comes first when it led the
//! incident. Every entry carries one sentence with the numbers behind it.

use petgraph::algo::has_path_connecting;

use super::detectors::latency_contagion::{self, Contagion};
use super::detectors::Context;
use super::localize::below::{concentration, Concentration};
use super::localize::gaps::GapSide;
use super::localize::{Localization, NodeBlame};
use super::services::ServiceStats;
use super::stats::ratio;
use crate::model::window::{Window, NS_PER_S};

/// Weights of the evidence: self-time rise is the defining trait of a source (DETECTION.md),
/// error origins next; timing, graph position and contagion corroborate; logs support.
const W_SELF: f64 = 0.30;
const W_ORIGIN: f64 = 0.25;
const W_ONSET: f64 = 0.15;
const W_POSITION: f64 = 0.10;
const W_CONTAGION: f64 = 0.10;
const W_LOGS: f64 = 0.10;
/// Scores below this are noise, not a candidate.
const MIN_SCORE: f64 = 0.1;
/// A ratio needs this many samples on each side to count.
const MIN_SAMPLES: u64 = 10;
/// A rise of 1.5× in self time or p99 is a clear departure for a role.
const RISE: f64 = 1.5;
/// Self-time ratios within this factor either way read as "unchanged".
const UNCHANGED_BAND: f64 = 1.2;
/// A p99 rests on at least one sample beyond it from this many samples on.
const P99_SAMPLES: u64 = 100;
/// A second source must score at least this share of the top score.
const SECOND_SOURCE_SHARE: f64 = 0.8;
/// The corroborating evidence only orders candidates whose explained shares are within
/// about a tenth of the change of each other: it is scaled to at most this much.
const CORROBORATION: f64 = 0.1;
/// A node explaining at least this share of the user-facing change is a candidate even
/// with no other evidence (a slow network leaves the callee's own spans unchanged).
const MIN_SHARE: f64 = 0.05;

/// A service's part in the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Source,
    Infected,
    Affected,
    Healthy,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Source => "source",
            Role::Infected => "infected",
            Role::Affected => "affected",
            Role::Healthy => "healthy",
        }
    }
}

/// One ranked candidate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RootCause {
    pub service: String,
    pub score: f64,
    pub reason: String,
    /// Self time incident / baseline.
    pub self_time_ratio: Option<f64>,
    pub origin_share: f64,
    pub onset_ns: Option<i64>,
    /// Share of the user-facing change this node explains (0..=1), when users saw one.
    pub explained: Option<f64>,
    /// The evidence that carried the verdict, in words a person can check in one trace.
    pub evidence: String,
    /// What the cause's bad requests share (an instance, an operation), for the top cause.
    pub below: Option<Concentration>,
    /// How sure (0..=1, calibrated: causes given 0.8 are right about 80 % of the time).
    pub confidence: Option<f64>,
}

impl RootCause {
    /// A candidate with only a name, a score and a reason (no measured evidence yet).
    pub fn bare(service: &str, score: f64, reason: String) -> Self {
        RootCause {
            service: service.to_string(),
            score,
            reason,
            self_time_ratio: None,
            origin_share: 0.0,
            onset_ns: None,
            explained: None,
            evidence: String::new(),
            below: None,
            confidence: None,
        }
    }
}

/// A reason reads "<who>: <clauses>": `words` become its first clause.
fn lead_with(reason: &str, service: &str, words: &str) -> String {
    match reason.split_once(": ") {
        Some((who, rest)) if !rest.is_empty() => format!("{who}: {words}; {rest}"),
        Some((who, _)) => format!("{who}: {words}"),
        None => format!("{service}: {words}"),
    }
}

/// Ranks the services (best first); empty without an incident.
pub fn rank(ctx: &Context, loc: &Localization) -> Vec<RootCause> {
    let Some(inc) = ctx.incident() else {
        return Vec::new();
    };
    let symptomatic: Vec<&ServiceStats> = ctx
        .services
        .iter()
        .filter(|s| s.onset_ns.is_some())
        .collect();
    let earliest = symptomatic.iter().filter_map(|s| s.onset_ns).min();
    let c = latency_contagion::contagion(ctx);
    let mut out: Vec<RootCause> = ctx
        .services
        .iter()
        .filter_map(|s| score(ctx, s, &inc, earliest, &symptomatic, &c))
        .collect();
    let virtual_nodes = ctx.table.services.len() as u32..ctx.graph.nodes.len() as u32;
    out.extend(virtual_nodes.filter_map(|n| score_virtual(ctx, n, !symptomatic.is_empty(), &c)));
    weigh_by_explained(ctx, loc, &mut out);
    surge_first(ctx, &mut out);
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.service.cmp(&b.service)));
    if let Some(top) = out.first_mut() {
        top.below = ctx
            .table
            .services
            .get(&top.service)
            .and_then(|id| concentration(ctx.table, ctx.windows, id));
        if let Some(c) = &top.below {
            top.reason = format!("{}; {}", top.reason, c.words());
        }
    }
    let n = if loc.user_facing() {
        loc.entry.incident.requests
    } else {
        ctx.services
            .iter()
            .filter_map(|s| s.incident)
            .map(|i| i.requests)
            .max()
            .unwrap_or(0)
    };
    super::confidence::assign(&mut out, n);
    out
}

/// Re-scores every candidate by the share of the user-facing change it explains (the
/// evidence score scaled down to order near-ties), adding nodes that explain a clear
/// share but had no other evidence. Without a user-facing change the evidence stands.
fn weigh_by_explained(ctx: &Context, loc: &Localization, out: &mut Vec<RootCause>) {
    if !loc.user_facing() {
        return;
    }
    for b in loc.nodes.iter().filter(|b| b.share >= MIN_SHARE) {
        let name = ctx.graph.name(b.node);
        if !out.iter().any(|r| r.service == name) {
            out.push(RootCause::bare(name, 0.0, name.to_string()));
        }
    }
    for r in out.iter_mut() {
        let Some(node) = ctx.graph.nodes.get(&r.service) else {
            continue;
        };
        let b = loc.nodes[node as usize];
        r.score = ((b.share + CORROBORATION * r.score) * 1000.0).round() / 1000.0;
        r.explained = Some(b.share);
        r.evidence = explained_evidence(ctx, loc, &b);
        // The explained share leads: it is what carried the verdict.
        if !r.evidence.is_empty() {
            r.reason = lead_with(&r.reason, &r.service, &r.evidence);
        }
    }
    out.retain(|r| r.score >= MIN_SCORE * CORROBORATION || r.explained.unwrap_or(0.0) >= MIN_SHARE);
}

/// "explains 84 % of what users saw: own work +10.2 ms per request; gap on calls into X
/// from 3 callers rose 2.8 → 40.1 ms (n=…)".
fn explained_evidence(ctx: &Context, loc: &Localization, b: &NodeBlame) -> String {
    // Under half a percent is rounding, not an explanation.
    if b.share < 0.005 {
        return String::new();
    }
    let mut parts = Vec::new();
    // A component under a tenth of the node's latency explanation is not worth a clause.
    let worth = |x: f64| b.latency_share > 0.0 && x > 0.1 * (b.work_ms + b.gap_ms);
    if worth(b.work_ms) {
        parts.push(format!(
            "its own work adds {:.1} ms per user request",
            b.work_ms
        ));
    }
    if worth(b.gap_ms) {
        parts.push(gap_words(ctx, loc, b));
    }
    if b.error_share > 0.0 {
        parts.push(format!(
            "{:.0} % of the extra failed requests start here",
            b.error_share * 100.0
        ));
    }
    format!(
        "explains {:.0} % of what users saw ({})",
        b.share * 100.0,
        parts.join("; ")
    )
}

/// The gap evidence charged to node `b`, in words.
fn gap_words(ctx: &Context, loc: &Localization, b: &NodeBlame) -> String {
    let g = ctx.graph;
    let into: Vec<_> = loc
        .gaps
        .iter()
        .filter(|e| {
            e.rose() && g.edges[e.edge as usize].1 == b.node && e.side != Some(GapSide::Caller)
        })
        .collect();
    let out_of: Vec<_> = loc
        .gaps
        .iter()
        .filter(|e| e.side == Some(GapSide::Caller) && g.edges[e.edge as usize].0 == b.node)
        .collect();
    let ms = |v: Option<f64>| v.map_or("?".to_string(), |v| format!("{v:.1}"));
    let range = |es: &[&super::localize::gaps::EdgeGap]| {
        let lo = es
            .iter()
            .filter_map(|e| e.median_ms[0])
            .fold(f64::INFINITY, f64::min);
        let hi = es.iter().filter_map(|e| e.median_ms[1]).fold(0.0, f64::max);
        let n: u64 = es
            .iter()
            .filter_map(|e| e.shift)
            .map(|s| s.n_incident)
            .sum();
        (ms(lo.is_finite().then_some(lo)), ms(Some(hi)), n)
    };
    let name = g.name(b.node);
    if !out_of.is_empty() {
        let (lo, hi, n) = range(&out_of);
        return format!(
            "the gap on its calls to {} callees rose (median {lo} → {hi} ms, n={n}): its client side (pool, network or CPU)",
            out_of.len()
        );
    }
    if into.is_empty() {
        return format!(
            "{:.1} ms per user request waiting on calls into {name} beyond its own spans",
            b.gap_ms
        );
    }
    let (lo, hi, n) = range(&into);
    let who = if into.len() >= 2 {
        format!("from {} callers", into.len())
    } else {
        format!(
            "from {} (either end possible)",
            g.name(g.edges[into[0].edge as usize].0)
        )
    };
    format!("the gap on calls into {name} {who} rose, median {lo} → {hi} ms (n={n}), while its own spans did not explain it")
}

/// A load surge that led the incident is the trigger: the front door comes first.
fn surge_first(ctx: &Context, out: &mut Vec<RootCause>) {
    let Some(s) = super::recovery::surge(ctx.windows) else {
        return;
    };
    let words = format!(
        "entry traffic rose {:.1}× ({:.1} → {:.1} traced requests/s) and led the incident",
        s.active_mean / s.baseline.max(f64::MIN_POSITIVE),
        s.baseline,
        s.active_mean
    );
    let top = out.iter().map(|r| r.score).fold(0.0, f64::max);
    match out.iter_mut().find(|r| r.service == s.service) {
        Some(r) => {
            r.score = top + CORROBORATION;
            r.reason = lead_with(&r.reason, &r.service, &words);
            r.evidence = words;
        }
        None => {
            let reason = format!("{}: {words}", s.service);
            let mut r = RootCause::bare(&s.service, top + CORROBORATION, reason);
            r.evidence = words;
            out.push(r);
        }
    }
}

/// Incident / baseline of a counted statistic, when both have enough samples.
fn rise(
    s: &ServiceStats,
    f: impl Fn(&super::services::ServiceWindow) -> super::stats::Counted,
) -> Option<f64> {
    let (b, i) = (f(&s.baseline), f(s.incident.as_ref()?));
    if b.n < MIN_SAMPLES || i.n < MIN_SAMPLES {
        return None;
    }
    ratio(i.value, b.value)
}

fn score(
    ctx: &Context,
    s: &ServiceStats,
    inc: &Window,
    earliest: Option<i64>,
    symptomatic: &[&ServiceStats],
    c: &Contagion,
) -> Option<RootCause> {
    let self_ratio = rise(s, |w| w.self_ms);
    let self_c = self_ratio.map_or(0.0, |r| r.log10().clamp(0.0, 1.0));
    let origins = ctx.errors.count_for(s.id);
    let origin_share = origins as f64 / ctx.errors.origins.len().max(1) as f64;
    // Errors charged to a service count from when they began, even when its own spans
    // never failed (a wrong answer its caller logged).
    let onset = match (s.onset_ns, first_origin(ctx, s.id)) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let onset_c = match (onset, earliest) {
        (Some(o), Some(e)) => (1.0 - (o - e) as f64 / inc.len_ns().max(1) as f64).clamp(0.0, 1.0),
        _ => 0.0,
    };
    let above = upstream_of(ctx, s, symptomatic);
    let others = symptomatic.iter().filter(|o| o.id != s.id).count();
    let position_c = match (s.onset_ns.is_some() || origins > 0, others) {
        (false, _) => 0.0,
        (true, 0) => 1.0,
        (true, n) => above.len() as f64 / n as f64,
    };
    let logs_c = ctx.logs.excess_share(&s.name, inc, &ctx.windows.baseline);
    let contagion_c = contagion_share(c, s.id);
    let total = W_SELF * self_c
        + W_ORIGIN * origin_share
        + W_ONSET * onset_c
        + W_POSITION * position_c
        + W_CONTAGION * contagion_c
        + W_LOGS * logs_c;
    if total < MIN_SCORE || (self_c == 0.0 && origins == 0 && s.onset_ns.is_none()) {
        return None;
    }
    let parts = Parts {
        self_ratio,
        origins,
        origin_share,
        above,
        logs_c,
        first: s.onset_ns.is_some() && s.onset_ns == earliest,
        infected: infected_callers(ctx, c, s.id),
    };
    Some(RootCause {
        service: s.name.clone(),
        score: (total * 1000.0).round() / 1000.0,
        reason: reason(ctx, s, inc, &parts),
        self_time_ratio: self_ratio,
        origin_share,
        onset_ns: s.onset_ns,
        explained: None,
        evidence: String::new(),
        below: None,
        confidence: None,
    })
}

/// The bucket start of the earliest incident error origin charged to `node`.
fn first_origin(ctx: &Context, node: u32) -> Option<i64> {
    let t = ctx.table;
    let b = &ctx.windows.buckets;
    ctx.errors
        .origins
        .iter()
        .filter(|o| o.node == node)
        .map(|o| t.start[o.row as usize])
        .min()
        .map(|at| b.start_of(b.index(at)))
}

/// An uninstrumented callee (a virtual node: no server spans, so no self time): its
/// callers' client p99 towards it stands in for its own time.
fn score_virtual(ctx: &Context, node: u32, callers_hurt: bool, c: &Contagion) -> Option<RootCause> {
    let name = ctx.graph.name(node);
    let ratio = ctx
        .edges
        .iter()
        .filter(|e| e.callee == name)
        .filter_map(|e| {
            let (b, i) = (e.baseline.p99_ms, e.incident?.p99_ms);
            (b.n >= MIN_SAMPLES && i.n >= MIN_SAMPLES).then(|| ratio(i.value, b.value))?
        })
        .max_by(f64::total_cmp);
    let origins = ctx.errors.count_for(node);
    let origin_share = origins as f64 / ctx.errors.origins.len().max(1) as f64;
    let self_c = ratio.map_or(0.0, |r| r.log10().clamp(0.0, 1.0));
    let position_c = if callers_hurt { 1.0 } else { 0.0 };
    let total = W_SELF * self_c
        + W_ORIGIN * origin_share
        + W_POSITION * position_c
        + W_CONTAGION * contagion_share(c, node);
    if total < MIN_SCORE || (self_c == 0.0 && origins == 0) {
        return None;
    }
    let mut clauses = Vec::new();
    if let Some(r) = ratio.filter(|&r| r >= UNCHANGED_BAND) {
        clauses.push(format!("callers' p99 towards it rose {r:.1}×"));
    }
    if origins > 0 {
        let n = ctx.errors.origins.len();
        clauses.push(format!(
            "{:.0} % of error origins ({origins} of {n})",
            origin_share * 100.0
        ));
    }
    Some(RootCause {
        service: name.to_string(),
        score: (total * 1000.0).round() / 1000.0,
        reason: format!(
            "{name} (not instrumented, seen from its callers): {}",
            clauses.join("; ")
        ),
        self_time_ratio: ratio,
        origin_share,
        onset_ns: None,
        explained: None,
        evidence: String::new(),
        below: None,
        confidence: None,
    })
}

/// Symptomatic services that can reach `s` in the call graph (they sit above it).
fn upstream_of<'a>(
    ctx: &Context,
    s: &ServiceStats,
    symptomatic: &[&'a ServiceStats],
) -> Vec<&'a str> {
    let g = ctx.graph;
    let target = g.node_index[s.id as usize];
    symptomatic
        .iter()
        .filter(|o| {
            o.id != s.id && has_path_connecting(&g.graph, g.node_index[o.id as usize], target, None)
        })
        .map(|o| o.name.as_str())
        .collect()
}

/// Share of the infected services whose contagion chain ends at `node`.
fn contagion_share(c: &Contagion, node: u32) -> f64 {
    let mine = c.infected.iter().filter(|i| i.source == node).count();
    mine as f64 / c.infected.len().max(1) as f64
}

/// "checkout 100 % of its rise, frontend via checkout": infected services whose chain ends
/// at `node`, with the share of the rise spent waiting on `node` for its direct callers.
fn infected_callers(ctx: &Context, c: &Contagion, node: u32) -> Vec<String> {
    let mut out: Vec<(bool, String)> = c
        .infected
        .iter()
        .filter(|i| i.source == node)
        .filter_map(|i| {
            let (top, share) = *i.blame.first()?;
            let name = ctx.graph.name(i.service);
            Some(if top == node {
                (false, format!("{name} {:.0} % of its rise", share * 100.0))
            } else {
                (true, format!("{name} via {}", ctx.graph.name(top)))
            })
        })
        .collect();
    out.sort(); // direct callers first, then by name
    out.into_iter().map(|(_, s)| s).collect()
}

struct Parts<'a> {
    infected: Vec<String>,
    self_ratio: Option<f64>,
    origins: u64,
    origin_share: f64,
    above: Vec<&'a str>,
    logs_c: f64,
    first: bool,
}

fn reason(ctx: &Context, s: &ServiceStats, inc: &Window, p: &Parts) -> String {
    let mut clauses = Vec::new();
    if let (Some(r), Some(i)) = (p.self_ratio, s.incident) {
        let (b, n) = (s.baseline.self_ms, i.self_ms);
        let moved = if r >= UNCHANGED_BAND {
            format!("rose {r:.1}×")
        } else if r <= 1.0 / UNCHANGED_BAND {
            format!("fell {:.1}×", 1.0 / r)
        } else {
            "unchanged".to_string()
        };
        clauses.push(format!(
            "own time per request {moved} ({:.1} → {:.1} ms, n={}/{})",
            b.value.unwrap_or(0.0),
            n.value.unwrap_or(0.0),
            b.n,
            n.n
        ));
    }
    if p.origins > 0 {
        let total = ctx.errors.origins.len();
        clauses.push(format!(
            "{:.0} % of error origins ({} of {total})",
            p.origin_share * 100.0,
            p.origins
        ));
    }
    if let (Some(o), Some(sig)) = (s.onset_ns, s.onset_signal) {
        let at = (o - inc.start_ns) as f64 / NS_PER_S as f64;
        let first = if p.first {
            "first to depart"
        } else {
            "departed"
        };
        clauses.push(format!("{first} at {at:+.0} s ({})", signal_name(sig)));
    }
    if !p.above.is_empty() {
        clauses.push(format!("sits below {}", p.above.join(", ")));
    }
    if !p.infected.is_empty() {
        clauses.push(format!(
            "callers slowed waiting on it ({})",
            p.infected.join(", ")
        ));
    }
    if p.logs_c > 0.0 {
        clauses.push(format!(
            "{:.0} % of the incident's extra error logs",
            p.logs_c * 100.0
        ));
    }
    format!("{}: {}", s.name, clauses.join("; "))
}

fn signal_name(s: super::services::OnsetSignal) -> &'static str {
    match s {
        super::services::OnsetSignal::SelfTime => "self time",
        super::services::OnsetSignal::Latency => "p99 latency",
        super::services::OnsetSignal::Errors => "errors",
    }
}

/// The role of every service (by name order, like `ctx.services`). Infected comes from
/// latency_contagion: latency rose and the rise is mostly waiting on a path to a source.
pub fn roles(ctx: &Context, ranking: &[RootCause], loc: &Localization) -> Vec<Role> {
    let contagion = latency_contagion::contagion(ctx);
    ctx.services
        .iter()
        .map(|s| match sends_only(s) {
            true => sender_role(ctx, s, ranking, loc),
            false => role(ctx, s, ranking, &contagion, loc),
        })
        .collect()
}

/// A service with no requests of its own (a load generator, a batch job, a browser).
fn sends_only(s: &ServiceStats) -> bool {
    s.baseline.requests == 0 && s.incident.is_none_or(|i| i.requests == 0)
}

/// A sender's client spans are what its users saw: affected when they saw a change.
fn sender_role(ctx: &Context, s: &ServiceStats, ranking: &[RootCause], loc: &Localization) -> Role {
    if ctx.incident().is_none() {
        return Role::Healthy;
    }
    if ranking.first().is_some_and(|r| r.service == s.name) {
        return Role::Source;
    }
    let sent = ctx.graph.edges.iter().any(|&(caller, _)| caller == s.id);
    if sent && loc.user_facing() {
        Role::Affected
    } else {
        Role::Healthy
    }
}

/// Roles of the virtual nodes (uninstrumented dependencies, seen only through their callers'
/// client spans), in node order: the source when ranked first (or close, with the same
/// evidence), affected when the calls into it slowed or failed, else healthy.
pub fn virtual_roles(ctx: &Context, ranking: &[RootCause], loc: &Localization) -> Vec<(u32, Role)> {
    let g = ctx.graph;
    let top = ranking.first().map_or(0.0, |r| r.score);
    (ctx.table.services.len() as u32..g.nodes.len() as u32)
        .map(|node| {
            let name = g.name(node);
            let rank = ranking.iter().position(|r| r.service == name);
            let hurt = loc
                .gaps
                .iter()
                .any(|e| e.rose() && g.edges[e.edge as usize].1 == node)
                || ctx.errors.count_for(node) > ctx.baseline_errors.count_for(node);
            let role = match rank {
                Some(0) if ctx.incident().is_some() => Role::Source,
                Some(k) if ranking[k].score >= SECOND_SOURCE_SHARE * top && hurt => Role::Source,
                _ if hurt && ctx.incident().is_some() => Role::Affected,
                _ => Role::Healthy,
            };
            (node, role)
        })
        .collect()
}

fn role(
    ctx: &Context,
    s: &ServiceStats,
    ranking: &[RootCause],
    c: &Contagion,
    loc: &Localization,
) -> Role {
    let Some(inc) = s.incident.filter(|_| ctx.incident().is_some()) else {
        return Role::Healthy;
    };
    let self_up = rise(s, |w| w.self_ms).is_some_and(|r| r >= RISE);
    // A p99 ratio over tens of samples is noise: it counts only from P99_SAMPLES on; the
    // rank-based shift of the durations holds at any n.
    let p99_up = loc
        .duration_shift
        .get(s.id as usize)
        .copied()
        .flatten()
        .is_some_and(|d| d.rose())
        || (rise(s, |w| w.p99_ms).is_some_and(|r| r >= RISE)
            && s.baseline.p99_ms.n.min(inc.p99_ms.n) >= P99_SAMPLES);
    let top = ranking.first().map_or(0.0, |r| r.score);
    let rank = ranking.iter().position(|r| r.service == s.name);
    let explains = |k: usize| ranking[k].explained.unwrap_or(0.0);
    let source = match rank {
        Some(0) => {
            self_up
                || ranking[0].origin_share >= 0.5
                || c.sources.contains(&s.id)
                || explains(0) >= MIN_SHARE
        }
        Some(k) => {
            ranking[k].score >= SECOND_SOURCE_SHARE * top
                && (self_up || explains(k) >= SECOND_SOURCE_SHARE * explains(0))
        }
        None => false,
    };
    let errors_up = s.error_onset_ns.is_some()
        || inc.error_rate.unwrap_or(0.0) > s.baseline.error_rate.unwrap_or(0.0) + 0.01;
    if source {
        Role::Source
    } else if c.infected(s.id).is_some() {
        Role::Infected
    } else if errors_up || p99_up || s.onset_ns.is_some() {
        Role::Affected
    } else {
        Role::Healthy
    }
}
