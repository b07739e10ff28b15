//! Root-cause ranking and service roles.
//!
//! Each service is scored from six pieces of evidence, each in 0..=1: its own (self) time
//! rose; it originated the errors; it departed first; it sits below the other symptomatic
//! services in the call graph (a cause sits below its symptoms); the latency_contagion
//! chains of infected callers end at it; its logs turned to errors.
//! Every entry carries one sentence with the numbers behind it.

use petgraph::algo::has_path_connecting;

use super::detectors::latency_contagion::{self, Contagion};
use super::detectors::Context;
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
/// A second source must score at least this share of the top score.
const SECOND_SOURCE_SHARE: f64 = 0.8;

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
    /// The probability that this candidate is the root cause; `None` until the ranking is
    /// calibrated (a score orders candidates, it is not a probability).
    pub confidence: Option<f64>,
}

/// Ranks the services (best first); empty without an incident.
pub fn rank(ctx: &Context) -> Vec<RootCause> {
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
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.service.cmp(&b.service)));
    out
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
    let onset_c = match (s.onset_ns, earliest) {
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
        confidence: None,
    })
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
pub fn roles(ctx: &Context, ranking: &[RootCause]) -> Vec<Role> {
    let contagion = latency_contagion::contagion(ctx);
    ctx.services
        .iter()
        .map(|s| role(ctx, s, ranking, &contagion))
        .collect()
}

fn role(ctx: &Context, s: &ServiceStats, ranking: &[RootCause], c: &Contagion) -> Role {
    let Some(inc) = s.incident.filter(|_| ctx.incident().is_some()) else {
        return Role::Healthy;
    };
    let self_up = rise(s, |w| w.self_ms).is_some_and(|r| r >= RISE);
    let p99_up = rise(s, |w| w.p99_ms).is_some_and(|r| r >= RISE);
    let top = ranking.first().map_or(0.0, |r| r.score);
    let rank = ranking.iter().position(|r| r.service == s.name);
    let source = match rank {
        Some(0) => self_up || ranking[0].origin_share >= 0.5 || c.sources.contains(&s.id),
        Some(k) => self_up && ranking[k].score >= SECOND_SOURCE_SHARE * top,
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
