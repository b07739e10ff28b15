//! What one generated case is, drawn from its seed: the situation (a fault kind and where,
//! or a control), the topology, the duration, the traffic, the sampling, the fault's
//! strength. Strengths are set against the target's utilisation so that the fault does
//! what its kind says (a pool really runs out, a consumer really falls behind).

use crate::replay::sim::rng::{mix, Rng};

use super::draw::{chance, int, log_uniform, pick, round, uniform};
use super::shape::{self, Graph, Role};
use super::sizing::{self, Sizing};

/// The situation of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    CpuLeaf,
    CpuMid,
    NetworkDelay,
    Errors,
    SilentErrors,
    PoolExhaustion,
    LockContention,
    SlowConsumer,
    LoadSurge,
    RetryStorm,
    /// A CPU fault or errors in one instance of a service that runs several.
    Instance,
    Control,
}

/// Every situation but the control, drawn uniformly.
pub const INCIDENTS: [Variant; 11] = [
    Variant::CpuLeaf,
    Variant::CpuMid,
    Variant::NetworkDelay,
    Variant::Errors,
    Variant::SilentErrors,
    Variant::PoolExhaustion,
    Variant::LockContention,
    Variant::SlowConsumer,
    Variant::LoadSurge,
    Variant::RetryStorm,
    Variant::Instance,
];

/// Share of controls (healthy cases).
pub const CONTROL_SHARE: f64 = 1.0 / 6.0;
/// Saturation faults (pool, lock, consumer, surge, retry storm) need this many visits per
/// second at their target: below it nothing can run out, whatever the fault's strength.
pub const MIN_SATURATION_RATE: f64 = 2.0;
/// A slow holder holds its permit at most this long (ms): a stuck transaction, not forever.
const MAX_SLOW_HOLD_MS: f64 = 20_000.0;

impl Variant {
    /// `snake_case` name of the situation.
    pub fn name(self) -> &'static str {
        match self {
            Variant::CpuLeaf => "cpu_leaf",
            Variant::CpuMid => "cpu_mid",
            Variant::NetworkDelay => "network_delay",
            Variant::Errors => "errors",
            Variant::SilentErrors => "silent_errors",
            Variant::PoolExhaustion => "pool_exhaustion",
            Variant::LockContention => "lock_contention",
            Variant::SlowConsumer => "slow_consumer",
            Variant::LoadSurge => "load_surge",
            Variant::RetryStorm => "retry_storm",
            Variant::Instance => "instance",
            Variant::Control => "control",
        }
    }
}

/// A fault as the model states it (indices into the graph).
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    pub service: usize,
    pub start: f64,
    pub end: f64,
    pub latency_multiplier: f64,
    pub error_rate: f64,
    pub instance: Option<u32>,
    pub network_delay_ms: f64,
    pub from: Option<usize>,
    pub silent_error_rate: f64,
    pub hold_share: f64,
    pub hold_multiplier: f64,
}

/// A pool or lock of one service.
#[derive(Debug, Clone)]
pub struct PoolPlan {
    pub permits: u32,
    pub median_ms: f64,
    pub p99_ms: f64,
    pub lock: bool,
}

/// A rise of entry traffic: a load surge, or a control's harmless bump.
#[derive(Debug, Clone, Copy)]
pub struct Surge {
    pub start: f64,
    pub end: f64,
    pub factor: f64,
}

/// Everything about one case.
#[derive(Debug, Clone)]
pub struct Plan {
    pub seed: u64,
    pub variant: Variant,
    /// The truth's `fault_kind`.
    pub kind: &'static str,
    pub graph: Graph,
    pub duration: f64,
    pub rate: f64,
    pub sample: f64,
    /// The sampling rate drawn before the span budget capped it.
    pub sample_drawn: f64,
    pub quirk_rate: f64,
    pub target: Option<usize>,
    pub fault: Option<FaultPlan>,
    pub surge: Option<Surge>,
    pub pools: Vec<Option<PoolPlan>>,
    pub sizing: Sizing,
}

/// Exported spans a case aims to stay under: the head sampling is lowered to fit, so a
/// busy 60-service case stays as quick to write and to analyse as a small one.
pub const SPAN_BUDGET: f64 = 30_000.0;

/// Draws the case of `seed`.
pub fn draw(seed: u64) -> Plan {
    let mut rng = Rng::new(mix(seed, 0xC0_8905));
    let rng = &mut rng;
    let variant = if chance(rng, CONTROL_SHARE) {
        Variant::Control
    } else {
        *pick(rng, &INCIDENTS)
    };
    let n = (log_uniform(rng, 4.0, 61.0).floor() as usize).clamp(4, 60);
    let sender = chance(rng, 0.15);
    let mut graph = shape::draw(rng, n, variant == Variant::SlowConsumer, sender);
    let duration = uniform(rng, 120.0, 360.0).round();
    let mut rate = log_uniform(rng, 1.0, 300.0);
    let visits = graph.visits();
    let target = choose_target(rng, &graph, &visits, variant);
    if saturating(variant) {
        if let Some(t) = target {
            rate = rate.max(MIN_SATURATION_RATE / visits[t].max(1e-3));
        }
    }
    rate = rate.min(MAX_VISITS_PER_S / (max_factor(variant) * visits.iter().sum::<f64>()));
    if variant == Variant::Instance {
        if let Some(t) = target {
            graph.nodes[t].instances = graph.nodes[t].instances.max(int(rng, 2, 4) as u32);
        }
    }
    let kind = match variant {
        Variant::CpuLeaf | Variant::CpuMid => "cpu",
        Variant::Instance => {
            if chance(rng, 0.5) {
                "cpu"
            } else {
                "errors"
            }
        }
        Variant::Control => "none",
        v => v.name(),
    };
    let (start, end) = window(rng, variant, duration);
    let mut plan = Plan {
        seed,
        variant,
        kind,
        graph,
        duration,
        rate,
        sample: 1.0,
        sample_drawn: 1.0,
        quirk_rate: 0.0,
        target,
        fault: None,
        surge: None,
        pools: Vec::new(),
        sizing: Sizing::default(),
    };
    plan.pools = pools(rng, &plan, (start, end));
    plan.sizing = sizing::size(rng, &mut plan, (start, end));
    plan.fault = fault(rng, &plan, (start, end));
    plan.surge = surge_of(&plan, (start, end));
    sample(rng, &mut plan);
    plan.quirk_rate = if chance(rng, 0.3) {
        0.0
    } else {
        uniform(rng, 0.1, 0.5)
    };
    plan
}

fn saturating(v: Variant) -> bool {
    matches!(
        v,
        Variant::PoolExhaustion
            | Variant::LockContention
            | Variant::SlowConsumer
            | Variant::LoadSurge
            | Variant::RetryStorm
    )
}

/// The trigger's window: after a baseline of at least 30 % of the run, ending early
/// enough to see the recovery (or its absence).
fn window(rng: &mut Rng, v: Variant, d: f64) -> (f64, f64) {
    let start = (d * uniform(rng, 0.3, 0.45)).round();
    let len = match v {
        Variant::RetryStorm => uniform(rng, 5.0, 15.0),
        Variant::LoadSurge | Variant::Control => uniform(rng, 20.0, 60.0),
        Variant::SlowConsumer => d * uniform(rng, 0.2, 0.35),
        _ => d * uniform(rng, 0.15, 0.3),
    };
    (start, (start + len.round()).min(d - 20.0))
}

/// The service the situation happens at (the entry for a surge, none for a control).
fn choose_target(rng: &mut Rng, g: &Graph, visits: &[f64], v: Variant) -> Option<usize> {
    let n = g.nodes.len();
    let called = |i: &usize| !g.sync_callers(*i).is_empty();
    let app = |i: &usize| g.nodes[*i].role == Role::App;
    let all: Vec<usize> = (1..n).collect();
    let cands: Vec<usize> = match v {
        Variant::Control => return None,
        Variant::LoadSurge => return Some(0),
        Variant::CpuLeaf => all
            .iter()
            .copied()
            .filter(|i| called(i) && !g.has_sync_callees(*i))
            .collect(),
        Variant::CpuMid => all
            .iter()
            .copied()
            .filter(|i| called(i) && g.has_sync_callees(*i))
            .collect(),
        Variant::SlowConsumer => all
            .iter()
            .copied()
            .filter(|i| g.nodes[*i].role == Role::Consumer)
            .collect(),
        Variant::PoolExhaustion | Variant::LockContention | Variant::Instance => all
            .iter()
            .copied()
            .filter(|i| app(i) && called(i))
            .collect(),
        _ => all.iter().copied().filter(called).collect(),
    };
    // Prefer targets a trace visits often enough for the fault to show at all.
    let busy: Vec<usize> = cands
        .iter()
        .copied()
        .filter(|&i| visits[i] >= 0.2)
        .collect();
    let pool = if busy.is_empty() { &cands } else { &busy };
    if pool.is_empty() {
        // No such service in this topology (a 2-service chain has no mid-tier): the
        // entry, which every request visits, takes the fault.
        return Some(0);
    }
    Some(*pick(rng, pool))
}

/// The target's pool or lock, and a few harmless pools elsewhere.
fn pools(rng: &mut Rng, p: &Plan, _window: (f64, f64)) -> Vec<Option<PoolPlan>> {
    let n = p.graph.nodes.len();
    let visits = p.graph.visits();
    (0..n)
        .map(|i| {
            let lam = p.rate * visits[i];
            let is_target = p.target == Some(i);
            match p.variant {
                Variant::PoolExhaustion if is_target => Some(pool_plan(rng, lam, false)),
                Variant::LockContention if is_target => Some(pool_plan(rng, lam, true)),
                // Harmless pools elsewhere; never on the target, whose utilisation is set.
                _ if !is_target && p.graph.nodes[i].role == Role::App && chance(rng, 0.15) => {
                    Some(pool_plan(rng, lam / 3.0, false))
                }
                _ => None,
            }
        })
        .collect()
}

/// A pool sized for 30-50 % use at rate `lam` (a lock: one permit, short holds).
fn pool_plan(rng: &mut Rng, lam: f64, lock: bool) -> PoolPlan {
    let (median, tail) = if lock {
        (log_uniform(rng, 0.1, 1.0), 3.0)
    } else {
        (log_uniform(rng, 1.0, 8.0), 3.0)
    };
    let mean_s = sizing::lognormal_mean(median, median * tail) / 1000.0;
    let rho = uniform(rng, 0.3, 0.5);
    let (permits, median) = if lock {
        // One permit: shorten the hold until the lock is at most `rho` busy.
        let shrink = (rho / (lam * mean_s).max(1e-12)).min(1.0);
        (1, median * shrink)
    } else {
        ((lam * mean_s / rho).ceil().max(2.0) as u32, median)
    };
    PoolPlan {
        permits,
        median_ms: median,
        p99_ms: median * tail,
        lock,
    }
}

/// The injected fault of the case (none for a surge or a control).
fn fault(rng: &mut Rng, p: &Plan, (start, end): (f64, f64)) -> Option<FaultPlan> {
    let t = p.target?;
    let base = FaultPlan {
        service: t,
        start,
        end,
        latency_multiplier: 1.0,
        hold_multiplier: 1.0,
        ..FaultPlan::default()
    };
    let f = match p.variant {
        Variant::Control | Variant::LoadSurge => return None,
        Variant::CpuLeaf | Variant::CpuMid => FaultPlan {
            latency_multiplier: log_uniform(rng, 4.0, 25.0),
            ..base
        },
        Variant::NetworkDelay => {
            let callers = p.graph.sync_callers(t);
            let from = (callers.len() >= 2 && chance(rng, 0.3)).then(|| *pick(rng, &callers));
            FaultPlan {
                network_delay_ms: log_uniform(rng, 15.0, 250.0),
                from,
                ..base
            }
        }
        Variant::Errors => FaultPlan {
            error_rate: uniform(rng, 0.05, 0.6),
            ..base
        },
        Variant::SilentErrors => FaultPlan {
            silent_error_rate: uniform(rng, 0.05, 0.5),
            ..base
        },
        Variant::PoolExhaustion | Variant::LockContention => slow_holder(rng, p, base),
        Variant::SlowConsumer => {
            let rho = p.sizing.utilisation[t].max(1e-6);
            FaultPlan {
                latency_multiplier: (uniform(rng, 1.5, 4.0) / rho).clamp(2.0, 50.0),
                ..base
            }
        }
        Variant::RetryStorm => FaultPlan {
            latency_multiplier: log_uniform(rng, 6.0, 15.0),
            ..base
        },
        Variant::Instance => {
            let n = p.graph.nodes[t].instances;
            let instance = Some(int(rng, 0, n as usize - 1) as u32);
            if p.kind == "cpu" {
                FaultPlan {
                    latency_multiplier: log_uniform(rng, 5.0, 30.0),
                    instance,
                    ..base
                }
            } else {
                FaultPlan {
                    error_rate: uniform(rng, 0.3, 0.9),
                    instance,
                    ..base
                }
            }
        }
    };
    Some(f)
}

/// A slow holder: a share of the holders keeps its permit long enough that the permits'
/// demand reaches 1.5 to 4 times what they can serve.
fn slow_holder(rng: &mut Rng, p: &Plan, base: FaultPlan) -> FaultPlan {
    let t = base.service;
    let Some(pool) = p.pools[t].as_ref() else {
        return base;
    };
    let lam = p.rate * p.graph.visits()[t];
    let mean_s = sizing::lognormal_mean(pool.median_ms, pool.p99_ms) / 1000.0;
    let rho = (lam * mean_s / pool.permits as f64).max(1e-9);
    let share = if pool.lock {
        uniform(rng, 0.01, 0.1)
    } else {
        uniform(rng, 0.05, 0.3)
    };
    let demand = uniform(rng, 1.5, 4.0);
    let m = ((demand / rho - 1.0) / share + 1.0).max(2.0);
    FaultPlan {
        hold_share: share,
        hold_multiplier: m.min(MAX_SLOW_HOLD_MS / pool.median_ms),
        ..base
    }
}

/// The load surge (its factor overloads the sized bottleneck) or a control's harmless bump.
fn surge_of(p: &Plan, (start, end): (f64, f64)) -> Option<Surge> {
    let rises = match p.variant {
        Variant::LoadSurge => true,
        Variant::Control => p.sizing.peak_factor > 1.0,
        _ => false,
    };
    rises.then_some(Surge {
        start,
        end,
        factor: p.sizing.peak_factor,
    })
}

/// Keeps the simulated work affordable: peak visits per second at most this.
const MAX_VISITS_PER_S: f64 = 5000.0;

/// The largest traffic factor a variant can draw (see `sizing`).
fn max_factor(v: Variant) -> f64 {
    match v {
        Variant::LoadSurge => sizing::MAX_SURGE,
        Variant::Control => sizing::MAX_BUMP,
        _ => 1.0,
    }
}

/// Head sampling: log-uniform from 1 % to 100 %, lowered to fit the span budget.
fn sample(rng: &mut Rng, p: &mut Plan) {
    let drawn = log_uniform(rng, 0.01, 1.0);
    let spans_per_trace = 2.0 * p.graph.visits().iter().sum::<f64>();
    let traces = p.rate * p.duration * p.sizing.peak_factor.max(1.0);
    let fit = SPAN_BUDGET / (traces * spans_per_trace).max(1.0);
    p.sample_drawn = round(drawn, 4);
    p.sample = round(drawn.min(fit).max(1e-4), 4);
}
