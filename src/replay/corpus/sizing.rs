//! Capacity of a generated case: each service's expected hold time (own time, pool hold,
//! and the calls it waits for), its workers for a drawn utilisation, the traffic factor
//! of a surge, and the call policies (timeouts from the callee's tail, retries). The
//! target of a saturation fault and a surge's bottleneck get the utilisation their
//! situation needs; every other service keeps headroom even at the peak traffic.

use crate::replay::sim::dist::Z99;
use crate::replay::sim::rng::Rng;

use super::draw::{chance, int, log_uniform, pick, uniform};
use super::plan::{Plan, Variant};
use super::shape::Role;

/// Largest load-surge factor (keeps the peak affordable to simulate).
pub const MAX_SURGE: f64 = 10.0;
/// Largest harmless traffic bump of a control.
pub const MAX_BUMP: f64 = 1.6;
/// Longest own time (ms) a target is stretched to when its traffic is too thin to load
/// it otherwise.
const MAX_OWN_MS: f64 = 2000.0;

/// Backoff jitters of ordinary links.
const JITTERS: [&str; 3] = ["full", "equal", "none"];

/// A call policy of one link.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub timeout_ms: Option<f64>,
    pub attempts: u32,
    pub base_ms: f64,
    pub jitter: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct Sizing {
    pub workers: Vec<u32>,
    /// Baseline utilisation of each service's workers.
    pub utilisation: Vec<f64>,
    /// Entry traffic at the peak over the baseline (1 = none).
    pub peak_factor: f64,
    /// The service a load surge overloads.
    pub bottleneck: Option<usize>,
    /// Per node: its synchronous calls are made as one parallel group.
    pub parallel: Vec<bool>,
    /// Per link.
    pub policies: Vec<Policy>,
}

/// Mean of a lognormal given its median and p99.
pub fn lognormal_mean(median: f64, p99: f64) -> f64 {
    let sigma = (p99 / median).ln() / Z99;
    median * (sigma * sigma / 2.0).exp()
}

/// Expected (mean, rough p99) hold time of every node in seconds, bottom-up.
fn holds(p: &Plan, parallel: &[bool]) -> (Vec<f64>, Vec<f64>) {
    let g = &p.graph;
    let n = g.nodes.len();
    let (mut mean, mut tail) = (vec![0.0; n], vec![0.0; n]);
    for i in (0..n).rev() {
        let nd = &g.nodes[i];
        let mut m = lognormal_mean(nd.median_ms, nd.p99_ms) / 1000.0;
        let mut t = nd.p99_ms / 1000.0;
        if let Some(pl) = &p.pools[i] {
            m += lognormal_mean(pl.median_ms, pl.p99_ms) / 1000.0;
            t += pl.p99_ms / 1000.0;
        }
        let (mut sm, mut st, mut pm, mut pt) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for l in g.links.iter().filter(|l| l.from == i) {
            let net = 2.0 * g.nodes[l.to].net_ms / 1000.0;
            let (cm, ct) = if l.asynchronous {
                (net, 3.0 * net)
            } else {
                (mean[l.to] + net, tail[l.to] + 3.0 * net)
            };
            let k = l.count as f64;
            if parallel[i] && !l.asynchronous {
                pm = pm.max(k * cm);
                pt = pt.max(k * ct);
            } else {
                sm += k * l.p * cm;
                st += k * ct;
            }
        }
        mean[i] = m + sm + pm;
        tail[i] = t + st + pt;
    }
    (mean, tail)
}

/// Sizes the case; may stretch the target's own time (see `MAX_OWN_MS`).
pub fn size(rng: &mut Rng, p: &mut Plan, _window: (f64, f64)) -> Sizing {
    let n = p.graph.nodes.len();
    let parallel: Vec<bool> = (0..n)
        .map(|i| {
            let sync = p
                .graph
                .links
                .iter()
                .filter(|l| l.from == i && !l.asynchronous);
            sync.count() >= 2 && chance(rng, 0.4)
        })
        .collect();
    let visits = p.graph.visits();
    let bottleneck = (p.variant == Variant::LoadSurge).then(|| busiest(p, &visits));
    let special = match p.variant {
        Variant::RetryStorm => p.target.map(|t| (t, uniform(rng, 0.45, 0.65))),
        Variant::SlowConsumer => p.target.map(|t| (t, uniform(rng, 0.3, 0.6))),
        Variant::LoadSurge => bottleneck.map(|b| (b, uniform(rng, 0.25, 0.45))),
        _ => None,
    };
    if let Some((t, rho)) = special {
        stretch(p, &parallel, &visits, t, rho);
    }
    let (hold, tail) = holds(p, &parallel);
    let peak_factor = match (p.variant, special) {
        (Variant::LoadSurge, Some((b, rho))) => {
            let load = p.rate * visits[b] * hold[b];
            let actual = load / workers_for(load, rho) as f64;
            (uniform(rng, 1.3, 3.0) / actual.max(1e-6)).clamp(2.5, MAX_SURGE)
        }
        (Variant::Control, _) if chance(rng, 0.5) => uniform(rng, 1.2, MAX_BUMP),
        _ => 1.0,
    };
    let mut workers = Vec::with_capacity(n);
    let mut utilisation = Vec::with_capacity(n);
    for i in 0..n {
        let load = p.rate * visits[i] * hold[i];
        let w = match special {
            Some((t, rho)) if t == i => workers_for(load, rho),
            _ => workers_for(load * peak_factor, uniform(rng, 0.15, 0.45)),
        };
        // A pool's waits should happen at the pool, not in front of the workers; a node
        // sized for a utilisation keeps its workers (its pool, if any, then never binds).
        let w = match (&p.pools[i], special) {
            (_, Some((t, _))) if t == i => w,
            (Some(pl), _) => w.max(2 * pl.permits + 2),
            (None, _) => w,
        };
        workers.push(w);
        utilisation.push(load / w as f64);
    }
    let policies = policies(rng, p, &tail);
    Sizing {
        workers,
        utilisation,
        peak_factor,
        bottleneck,
        parallel,
        policies,
    }
}

fn workers_for(load: f64, rho: f64) -> u32 {
    (load / rho).ceil().max(1.0) as u32
}

/// The non-entry service a trace visits most (the entry when there is none).
fn busiest(p: &Plan, visits: &[f64]) -> usize {
    let g = &p.graph;
    (1..g.nodes.len())
        .filter(|&i| !g.sync_callers(i).is_empty() && g.nodes[i].role != Role::External)
        .max_by(|&a, &b| visits[a].total_cmp(&visits[b]).then(b.cmp(&a)))
        .unwrap_or(0)
}

/// A single worker at thin traffic cannot reach utilisation `rho`: stretch the node's own
/// time until it does (a slow batch endpoint), up to `MAX_OWN_MS`.
fn stretch(p: &mut Plan, parallel: &[bool], visits: &[f64], t: usize, rho: f64) {
    let (hold, _) = holds(p, parallel);
    let lam = p.rate * visits[t];
    if lam * hold[t] >= rho || lam <= 0.0 {
        return;
    }
    let nd = &mut p.graph.nodes[t];
    let own = lognormal_mean(nd.median_ms, nd.p99_ms);
    let want = own + (rho / lam - hold[t]) * 1000.0;
    let k = (want / own).min(MAX_OWN_MS / nd.median_ms).max(1.0);
    nd.median_ms *= k;
    nd.p99_ms *= k;
}

/// Call policies: a third of the links wait forever; the rest time out at a few times the
/// callee's tail and may retry. A retry storm's links into its target time out tightly and
/// retry three to five times.
fn policies(rng: &mut Rng, p: &Plan, tail: &[f64]) -> Vec<Policy> {
    let g = &p.graph;
    g.links
        .iter()
        .map(|l| {
            let none = Policy {
                timeout_ms: None,
                attempts: 1,
                base_ms: 0.0,
                jitter: "none",
            };
            if l.asynchronous {
                return none;
            }
            let callee = tail[l.to] * 1000.0 + 6.0 * g.nodes[l.to].net_ms;
            let storm = p.variant == Variant::RetryStorm && p.target == Some(l.to);
            if storm {
                return Policy {
                    timeout_ms: Some((callee * uniform(rng, 1.5, 3.0)).max(2.0)),
                    attempts: int(rng, 3, 5) as u32,
                    base_ms: log_uniform(rng, 2.0, 20.0),
                    jitter: "full",
                };
            }
            if chance(rng, 0.35) {
                return none;
            }
            let attempts = *pick(rng, &[1, 1, 1, 2, 2, 3]);
            Policy {
                timeout_ms: Some((callee * uniform(rng, 3.0, 10.0)).max(5.0)),
                attempts,
                base_ms: log_uniform(rng, 5.0, 50.0),
                jitter: JITTERS[int(rng, 0, JITTERS.len() - 1)],
            }
        })
        .collect()
}
