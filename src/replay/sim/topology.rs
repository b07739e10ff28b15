//! The model compiled for the engine: services, edges and call plans as dense indices,
//! times in seconds, policies resolved per edge (model defaults, edge overrides, then the
//! `--policy` overrides of the command line).

use crate::replay::model::policy::{EdgePolicy, PolicySpec};
use crate::replay::model::{CodelSpec, IncidentModel, CLIENT};

use super::dist::Dist;

/// Index of the pseudo-service `client` in `Edge::from`.
pub const CLIENT_IDX: u32 = u32::MAX;

/// One service instance (pod) per this many workers when the model does not say.
const WORKERS_PER_INSTANCE: u32 = 32;
/// At most this many instances per service by default.
const MAX_INSTANCES: u32 = 8;

/// One fault window on a service.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    pub start: f64,
    pub end: f64,
    pub multiplier: f64,
    pub error_rate: f64,
    /// Only visits on this instance.
    pub instance: Option<u32>,
    /// Seconds added each way to calls into the service (from `from` only, when set).
    pub network_delay: f64,
    pub from: Option<u32>,
    pub silent_error_rate: f64,
    pub hold_share: f64,
    pub hold_multiplier: f64,
}

impl Fault {
    /// Active at `t` (for a visit on `instance`).
    #[inline]
    pub fn hits(&self, t: f64, instance: u32) -> bool {
        self.start <= t && t < self.end && self.instance.is_none_or(|i| i == instance)
    }
}

/// A pool of permits (connections, or a lock) held after the own time.
#[derive(Debug, Clone)]
pub struct Pool {
    pub permits: u32,
    pub hold: Dist,
    pub lock: bool,
}

/// One member of a call step: `count` sequential tries, each made with probability `p`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallSpec {
    pub edge: u32,
    pub count: u32,
    pub p: f64,
}

/// One step of a visit's downstream work, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Sequential calls to one callee.
    Seq(CallSpec),
    /// A sequential call group: with probability `1 - p` skip the next `len` steps.
    Gate { p: f64, len: u32 },
    /// A parallel call group, made with probability `p`: all members sent at once.
    Par { members: Vec<CallSpec>, p: f64 },
}

/// A compiled service.
#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub workers: u32,
    pub queue_limit: Option<u32>,
    pub dist: Dist,
    pub faults: Vec<Fault>,
    pub steps: Vec<Step>,
    /// Call template of each step: 0 = every visit, i = template i (1-based).
    pub step_variant: Vec<u8>,
    /// Cumulative template weights, normalised to end at 1 (empty = no templates).
    pub variant_cdf: Vec<f64>,
    pub codel: Option<CodelSpec>,
    /// Instances (pods); a visit's instance is a hash of its id.
    pub instances: u32,
    /// One-way network delay of calls into the service.
    pub network: Option<Dist>,
    pub pool: Option<Pool>,
    /// Any fault with a network delay or a silent error rate (lets the engine skip both).
    pub net_faults: bool,
    pub silent_faults: bool,
}

impl Service {
    /// Instance of the visit with id `serial` in a run seeded `seed`.
    #[inline]
    pub fn instance_of(&self, seed: u64, serial: u32) -> u32 {
        if self.instances <= 1 {
            return 0;
        }
        (super::rng::mix(seed ^ 0x1D, serial as u64) % self.instances as u64) as u32
    }
}

/// A compiled edge (caller → callee) with its policy.
#[derive(Debug, Clone)]
pub struct Edge {
    pub name: String,
    pub from: u32,
    pub to: u32,
    pub policy: EdgePolicy,
    /// The caller publishes and goes on (PRODUCER/CONSUMER).
    pub asynchronous: bool,
}

/// Everything the engine needs, independent of the seed.
#[derive(Debug, Clone)]
pub struct Topology {
    pub name: String,
    pub duration: f64,
    pub interval: f64,
    pub buckets: usize,
    pub services: Vec<Service>,
    pub edges: Vec<Edge>,
    pub entry_edge: u32,
    /// `(start_s, rate)` segments, sorted.
    pub schedule: Vec<(f64, f64)>,
    /// Exact arrival instants (replaces `schedule` when not empty).
    pub arrival_times: Vec<f64>,
}

impl Topology {
    /// Compiles a validated model; `overrides` (from `--policy`) go over every edge's policy.
    pub fn compile(m: &IncidentModel, overrides: &PolicySpec) -> Topology {
        let mut edges = EdgeTable {
            m,
            overrides,
            edges: Vec::new(),
        };
        let entry = m.service_index(&m.arrivals.entry).unwrap_or(0) as u32;
        let entry_edge = edges.get(CLIENT_IDX, entry);
        let mut services: Vec<Service> = m
            .services
            .0
            .iter()
            .map(|(n, s)| compile_service(n, s))
            .collect();
        for f in &m.faults {
            if let Some(i) = m.service_index(&f.service) {
                let s = &mut services[i];
                s.net_faults |= f.network_delay_ms > 0.0;
                s.silent_faults |= f.silent_error_rate > 0.0;
                s.faults.push(Fault {
                    start: f.start_s,
                    end: f.end_s,
                    multiplier: f.latency_multiplier,
                    error_rate: f.error_rate,
                    instance: f.instance,
                    network_delay: f.network_delay_ms / 1000.0,
                    from: f
                        .from
                        .as_deref()
                        .and_then(|n| m.service_index(n))
                        .map(|i| i as u32),
                    silent_error_rate: f.silent_error_rate,
                    hold_share: f.hold_share,
                    hold_multiplier: f.hold_multiplier,
                });
            }
        }
        compile_calls(m, &mut edges, &mut services);
        let mut edges = edges.edges;
        for c in m.calls.iter().filter(|c| c.asynchronous) {
            let (Some(a), Some(b)) = (
                m.service_index(&c.from),
                c.to.as_deref().and_then(|t| m.service_index(t)),
            ) else {
                continue;
            };
            let hit = edges
                .iter_mut()
                .filter(|e| e.from == a as u32 && e.to == b as u32);
            hit.for_each(|e| e.asynchronous = true);
        }
        Topology {
            name: m.name.clone().unwrap_or_default(),
            duration: m.duration_s,
            interval: m.sample_interval_s,
            buckets: (m.duration_s / m.sample_interval_s).ceil().max(1.0) as usize,
            services,
            edges,
            entry_edge,
            schedule: schedule(m),
            arrival_times: m.arrivals.times_s.clone().unwrap_or_default(),
        }
    }

    /// Caller name of an edge (`client` for the pseudo-edge).
    pub fn caller_name(&self, e: &Edge) -> &str {
        self.services
            .get(e.from as usize)
            .map_or(CLIENT, |s| s.name.as_str())
    }

    /// The fault window covering every fault: `(first start, last end)`.
    pub fn fault_window(&self) -> Option<(f64, f64)> {
        let all = self.services.iter().flat_map(|s| s.faults.iter());
        all.fold(None, |acc, f| match acc {
            None => Some((f.start, f.end)),
            Some((a, b)) => Some((f64::min(a, f.start), f64::max(b, f.end))),
        })
    }
}

fn compile_service(name: &str, s: &crate::replay::model::ServiceSpec) -> Service {
    Service {
        name: name.to_string(),
        workers: s.workers,
        queue_limit: s.queue_limit,
        dist: Dist::from_spec(&s.service_time_ms),
        faults: Vec::new(),
        steps: Vec::new(),
        step_variant: Vec::new(),
        variant_cdf: cdf(&s.variants.0),
        codel: s.codel,
        instances: s.instances.unwrap_or_else(|| {
            s.workers
                .div_ceil(WORKERS_PER_INSTANCE)
                .clamp(1, MAX_INSTANCES)
        }),
        network: s.network_ms.as_ref().map(Dist::from_spec),
        pool: s.pool.as_ref().map(|p| Pool {
            permits: p.permits,
            hold: Dist::from_spec(&p.hold_ms),
            lock: p.kind.as_deref() == Some("lock"),
        }),
        net_faults: false,
        silent_faults: false,
    }
}

fn cdf(weights: &[(String, f64)]) -> Vec<f64> {
    let total: f64 = weights.iter().map(|(_, w)| w).sum();
    let mut acc = 0.0;
    weights
        .iter()
        .map(|(_, w)| {
            acc += w / total;
            acc
        })
        .collect()
}

fn compile_calls(m: &IncidentModel, edges: &mut EdgeTable, services: &mut [Service]) {
    for c in &m.calls {
        let Some(from) = m.service_index(&c.from) else {
            continue;
        };
        let from = from as u32;
        let mut spec = |to: &str, count: Option<u32>, p: Option<f64>| {
            let to = m.service_index(to).unwrap_or(0) as u32;
            CallSpec {
                edge: edges.get(from, to),
                count: count.unwrap_or(1),
                p: p.unwrap_or(1.0),
            }
        };
        let svc = &mut services[from as usize];
        let variant = c.variant.as_ref().and_then(|v| {
            m.services.0[from as usize]
                .1
                .variants
                .0
                .iter()
                .position(|(n, _)| n == v)
        });
        let tag = variant.map_or(0, |i| (i + 1) as u8);
        let before = svc.steps.len();
        let steps = &mut svc.steps;
        let members: Vec<CallSpec> = match (&c.to, &c.calls) {
            (Some(to), _) => {
                steps.push(Step::Seq(spec(to, c.count, c.p)));
                svc.step_variant.push(tag);
                continue;
            }
            (None, members) => members
                .iter()
                .flatten()
                .map(|g| spec(&g.to, g.count, g.p))
                .collect(),
        };
        let p = c.p.unwrap_or(1.0);
        if c.parallel {
            steps.push(Step::Par { members, p });
        } else {
            steps.push(Step::Gate {
                p,
                len: members.len() as u32,
            });
            steps.extend(members.into_iter().map(Step::Seq));
        }
        let added = svc.steps.len() - before;
        svc.step_variant.extend(std::iter::repeat_n(tag, added));
    }
}

fn schedule(m: &IncidentModel) -> Vec<(f64, f64)> {
    match (&m.arrivals.schedule, m.arrivals.rate_per_s) {
        (Some(s), _) => s.clone(),
        (None, Some(r)) => vec![(0.0, r)],
        (None, None) => Vec::new(),
    }
}

/// Edges in creation order (entry edge first, then calls in file order), like the peer.
struct EdgeTable<'a> {
    m: &'a IncidentModel,
    overrides: &'a PolicySpec,
    edges: Vec<Edge>,
}

impl EdgeTable<'_> {
    fn get(&mut self, from: u32, to: u32) -> u32 {
        if let Some(i) = self.edges.iter().position(|e| e.from == from && e.to == to) {
            return i as u32;
        }
        let m = self.m;
        let name_of = |i: u32| {
            m.services
                .0
                .get(i as usize)
                .map_or(CLIENT, |(n, _)| n.as_str())
        };
        let (a, b) = (name_of(from), name_of(to));
        let model = self.model_policy(a, b);
        // `--policy` replaces the services' policies, not the external client's behaviour.
        let spec = if from == CLIENT_IDX {
            model
        } else {
            self.overrides.over(&model)
        };
        let policy = EdgePolicy::resolve(&spec);
        self.edges.push(Edge {
            name: format!("{a}->{b}"),
            from,
            to,
            policy,
            asynchronous: false,
        });
        (self.edges.len() - 1) as u32
    }

    fn model_policy(&self, from: &str, to: &str) -> PolicySpec {
        let mut default = self.m.policies.default.clone().unwrap_or_default();
        if let Some((_, svc)) = self.m.policies.services.0.iter().find(|(n, _)| n == from) {
            default = svc.over(&default);
        }
        let edge = self
            .m
            .policies
            .edges
            .iter()
            .rev()
            .find(|e| e.from.as_deref() == Some(from) && e.to.as_deref() == Some(to));
        edge.map_or(default.clone(), |e| e.over(&default))
    }
}
