//! The incident model (`incident-model/v1`, shared/bench/SCENARIO.md) as serde structs, with
//! the replay extensions: arrival `schedule`, empirical service times, parallel call groups,
//! per-edge and per-service resilience policies. `load_model` reads and validates a file.
//!
//! Extensions (every SCENARIO.md file stays valid):
//! - `arrivals.times_s: [0.013, 0.021, ...]`: exact arrival instants instead of a rate;
//! - `service_time_ms: {"dist":"empirical","quantiles":[[0.5,3.1],[0.9,8.0],[0.99,20.0]]}`:
//!   inverse-CDF linear interpolation, from `(0, 0 ms)` unless a 0 quantile is given,
//!   holding the last value above the last quantile;
//! - `calls[]` entry `{"from":"web","parallel":true,"p":0.8,"calls":[{"to":"a","count":2},
//!   {"to":"b","p":0.5}]}`: a call group made with probability `p`; parallel members are sent
//!   at once and the visit waits for all (the first failure fails it); without `parallel`
//!   the members run in order;
//! - policy fields (default and per edge): `backoff.jitter: "decorrelated"`,
//!   `retry_throttle {max_tokens, token_ratio}`, `adaptive_throttle {k, window_s}`,
//!   `breaker {error_rate, min_requests, window_s, open_s, half_open_calls}`,
//!   `deadline_propagation: bool`, `hedge {percentile}`,
//!   `concurrency_limit {kind: static|aimd|vegas, limit, max_limit}`; `null` clears a default;
//! - `policies.services: {"api": {...policy fields}}`: every call made by that service,
//!   between the default and the per-edge overrides;
//! - per service: `codel {target_ms, interval_ms, adaptive_lifo}`; call templates with their observed
//!   frequencies: `"variants": {"browse": 0.7, "buy": 0.3}` on the service and
//!   `"variant": "buy"` on its `calls[]` entries (entries without one apply to every visit);
//! - per service: `instances` (pods sharing its workers; a visit lands on one by its id),
//!   `network_ms` (a one-way network delay distribution on every call into it),
//!   `pool {permits, hold_ms, kind: pool|lock}` (after its own time a visit holds one of
//!   `permits` for `hold_ms`, waiting inside the service when none is free);
//! - `calls[]` entry `"async": true`: the caller publishes to a queue and goes on at once
//!   (the whole edge becomes asynchronous: PRODUCER/CONSUMER);
//! - per fault: `instance` (only visits on that instance), `network_delay_ms` (added each
//!   way to every call into the service, or only from caller `from`), `silent_error_rate`
//!   (the visit answers OK with a wrong result), `hold_share` and `hold_multiplier` (that
//!   share of pool holders holds its permit that many times longer).

mod ordered;
pub mod policy;
mod validate;
mod validate_policy;

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;

pub use ordered::Ordered;
pub use policy::{BackoffSpec, PolicySpec};

/// The pseudo-service that sends external requests to `arrivals.entry`.
pub const CLIENT: &str = "client";

/// A whole incident model, as read from its JSON file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentModel {
    /// `"incident-model/v1"` (informational).
    #[serde(default)]
    pub format: Option<String>,
    /// Scenario name, echoed in the output.
    #[serde(default)]
    pub name: Option<String>,
    /// Simulated span `[0, duration_s)`.
    pub duration_s: f64,
    /// RNG seed (default 1, like the peer).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Bucket width of the time series (default 1 s).
    #[serde(default = "default_interval")]
    pub sample_interval_s: f64,
    pub arrivals: Arrivals,
    /// Services in file order.
    pub services: Ordered<ServiceSpec>,
    #[serde(default)]
    pub calls: Vec<CallEntry>,
    #[serde(default)]
    pub policies: Policies,
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
}

fn default_seed() -> u64 {
    1
}

fn default_interval() -> f64 {
    1.0
}

/// External load: a constant Poisson rate or a piecewise-constant schedule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrivals {
    pub entry: String,
    #[serde(default)]
    pub rate_per_s: Option<f64>,
    /// `[[start_s, rate], ...]`; the rate is 0 before the first entry.
    #[serde(default)]
    pub schedule: Option<Vec<(f64, f64)>>,
    /// Extension: exact arrival instants (seconds, non-decreasing), e.g. the root spans'
    /// start times, replayed as they are.
    #[serde(default)]
    pub times_s: Option<Vec<f64>>,
}

/// One service: its worker pool, queue and own processing time.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub workers: u32,
    #[serde(default)]
    pub queue_limit: Option<u32>,
    pub service_time_ms: DistSpec,
    /// Extension: CoDel-style shedding of visits that waited too long in the queue.
    #[serde(default)]
    pub codel: Option<CodelSpec>,
    /// Extension: call templates (`name -> weight`); each visit picks one by weight and
    /// makes the `calls[]` entries of that `variant` plus those without one.
    #[serde(default)]
    pub variants: Ordered<f64>,
    /// Extension: instances (pods) of the service; default one per 32 workers, at most 8.
    #[serde(default)]
    pub instances: Option<u32>,
    /// Extension: one-way network delay of every call into the service.
    #[serde(default)]
    pub network_ms: Option<DistSpec>,
    /// Extension: a connection pool or lock taken after the own time.
    #[serde(default)]
    pub pool: Option<PoolSpec>,
}

/// A pool of permits (connections, or 1 for a lock) a visit holds for `hold_ms`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSpec {
    pub permits: u32,
    pub hold_ms: DistSpec,
    /// `pool` (default) or `lock`: only how the telemetry names the wait.
    #[serde(default)]
    pub kind: Option<String>,
}

/// Controlled-delay queue management (Nichols & Jacobson; defaults 5 ms / 100 ms).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CodelSpec {
    #[serde(default = "codel_target")]
    pub target_ms: f64,
    #[serde(default = "codel_interval")]
    pub interval_ms: f64,
    /// Serve the newest queued visit first while the queue is standing (adaptive LIFO,
    /// "Fail at Scale"); default false.
    #[serde(default)]
    pub adaptive_lifo: bool,
}

impl CodelSpec {
    /// CoDel's published defaults: target 5 ms, interval 100 ms.
    pub const DEFAULT: CodelSpec = CodelSpec {
        target_ms: 5.0,
        interval_ms: 100.0,
        adaptive_lifo: false,
    };
}

fn codel_target() -> f64 {
    CodelSpec::DEFAULT.target_ms
}

fn codel_interval() -> f64 {
    CodelSpec::DEFAULT.interval_ms
}

/// A service-time distribution in milliseconds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistSpec {
    /// `lognormal`, `exponential`, `constant` or `empirical`.
    pub dist: String,
    #[serde(default)]
    pub median: Option<f64>,
    #[serde(default)]
    pub p99: Option<f64>,
    #[serde(default)]
    pub mean: Option<f64>,
    #[serde(default)]
    pub value: Option<f64>,
    /// `[[quantile, ms], ...]` for `empirical`, increasing in both.
    #[serde(default)]
    pub quantiles: Option<Vec<(f64, f64)>>,
}

/// An entry of `calls[]`: a plain call (`to`) or a call group (`calls`, maybe `parallel`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallEntry {
    pub from: String,
    #[serde(default)]
    pub to: Option<String>,
    /// Sequential repetitions (default 1).
    #[serde(default)]
    pub count: Option<u32>,
    /// Probability each repetition (or the whole group) is made (default 1).
    #[serde(default)]
    pub p: Option<f64>,
    /// Group only: send the members at once and wait for all of them.
    #[serde(default)]
    pub parallel: bool,
    /// Group only: the member calls.
    #[serde(default)]
    pub calls: Option<Vec<GroupMember>>,
    /// Only visits that picked this call template (see `services.<from>.variants`).
    #[serde(default)]
    pub variant: Option<String>,
    /// Extension: publish to a queue instead of waiting for the callee.
    #[serde(default, rename = "async")]
    pub asynchronous: bool,
}

/// A member of a call group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupMember {
    pub to: String,
    #[serde(default)]
    pub count: Option<u32>,
    #[serde(default)]
    pub p: Option<f64>,
}

/// `policies`: a default, per-service (caller) overrides and per-edge overrides, merged
/// field by field in that order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    #[serde(default)]
    pub default: Option<PolicySpec>,
    /// Extension: the policy of every call a service makes (its client library's config).
    #[serde(default)]
    pub services: Ordered<PolicySpec>,
    /// Per-edge overrides (`from`, `to` and policy fields), merged field by field.
    #[serde(default)]
    pub edges: Vec<PolicySpec>,
}

/// A fault window on one service.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub service: String,
    pub start_s: f64,
    pub end_s: f64,
    #[serde(default = "one")]
    pub latency_multiplier: f64,
    #[serde(default)]
    pub error_rate: f64,
    /// Extension: only visits served by this instance (0-based).
    #[serde(default)]
    pub instance: Option<u32>,
    /// Extension: delay added each way to calls into the service (ms).
    #[serde(default)]
    pub network_delay_ms: f64,
    /// Extension: with `network_delay_ms`, only calls from this caller.
    #[serde(default)]
    pub from: Option<String>,
    /// Extension: share of visits that answer OK with a wrong result.
    #[serde(default)]
    pub silent_error_rate: f64,
    /// Extension: share of pool holders slowed by `hold_multiplier`.
    #[serde(default)]
    pub hold_share: f64,
    #[serde(default = "one")]
    pub hold_multiplier: f64,
}

fn one() -> f64 {
    1.0
}

/// Reads, parses and validates an incident model file.
pub fn load_model(path: &Path) -> Result<IncidentModel> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading model {}", path.display()))?;
    parse_model(&text).with_context(|| format!("model {}", path.display()))
}

/// Parses and validates a model from JSON text.
pub fn parse_model(text: &str) -> Result<IncidentModel> {
    let model: IncidentModel = serde_json::from_str(text).context("parsing incident-model JSON")?;
    validate::validate(&model)?;
    Ok(model)
}

impl IncidentModel {
    /// Index of a service by name.
    pub fn service_index(&self, name: &str) -> Option<usize> {
        self.services.0.iter().position(|(n, _)| n == name)
    }
}
