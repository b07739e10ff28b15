//! Resilience policy fields of the model: the raw per-edge spec (every field optional so an
//! override merges field by field over `policies.default`), and its resolution into the
//! plain `EdgePolicy` the engine reads. Defaults are those of SCENARIO.md and, for the
//! extensions, the published defaults listed in design/REPLAY.md.

use serde::Deserialize;

use super::ordered::tri_state;

/// Backoff jitter (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    #[default]
    None,
    Full,
    Equal,
    Decorrelated,
}

/// `backoff` object; each field overrides the default's separately.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BackoffSpec {
    #[serde(default)]
    pub base_ms: Option<f64>,
    #[serde(default, deserialize_with = "tri_state")]
    pub max_ms: Option<Option<f64>>,
    #[serde(default)]
    pub multiplier: Option<f64>,
    #[serde(default)]
    pub jitter: Option<Jitter>,
}

/// gRPC retry throttling (gRFC A6): tokens start at `max_tokens`, −1 per failure,
/// +`token_ratio` per success; retries only while tokens > max_tokens / 2. Defaults 10 / 0.1.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ThrottleSpec {
    #[serde(default = "d_max_tokens")]
    pub max_tokens: f64,
    #[serde(default = "d_token_ratio")]
    pub token_ratio: f64,
}

/// Adaptive client throttling (Google SRE book ch. 21): reject locally with probability
/// max(0, (requests − K·accepts) / (requests + 1)) over a window. Defaults K = 2, 120 s.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveSpec {
    #[serde(default = "d_k")]
    pub k: f64,
    #[serde(default = "d_window_adaptive")]
    pub window_s: f64,
}

/// Circuit breaker over a rolling time window. Defaults = Hystrix (20 requests, 50 %,
/// 5 s sleep window, 10 s rolling window, one trial request).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BreakerSpec {
    #[serde(default = "d_error_rate")]
    pub error_rate: f64,
    #[serde(default = "d_min_requests")]
    pub min_requests: u32,
    #[serde(default = "d_window_breaker")]
    pub window_s: f64,
    #[serde(default = "d_open_s")]
    pub open_s: f64,
    #[serde(default = "d_half_open")]
    pub half_open_calls: u32,
}

impl BreakerSpec {
    /// Hystrix defaults (Netflix/Hystrix wiki, Configuration).
    pub const HYSTRIX: BreakerSpec = BreakerSpec {
        error_rate: 0.5,
        min_requests: 20,
        window_s: 10.0,
        open_s: 5.0,
        half_open_calls: 1,
    };
    /// resilience4j defaults (50 %, 100 calls, 60 s open, 10 half-open calls); its
    /// count-based window of 100 calls is approximated by a 60 s time window.
    pub const RESILIENCE4J: BreakerSpec = BreakerSpec {
        error_rate: 0.5,
        min_requests: 100,
        window_s: 60.0,
        open_s: 60.0,
        half_open_calls: 10,
    };
}

/// Hedging ("The Tail at Scale"): after the edge's recent `percentile` latency, send one
/// more copy; the first answer wins.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HedgeSpec {
    #[serde(default = "d_hedge_pct")]
    pub percentile: f64,
}

/// Client-side concurrency limit per edge: a static bulkhead or AIMD.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencySpec {
    #[serde(default)]
    pub kind: LimitKind,
    /// Static limit, or the initial limit of AIMD (resilience4j bulkhead default 25).
    #[serde(default = "d_limit")]
    pub limit: u32,
    #[serde(default = "d_max_limit")]
    pub max_limit: u32,
}

/// How a concurrency limit moves.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum LimitKind {
    #[default]
    Static,
    /// +1 per success (per limit successes), ×0.9 on a failure or timeout (Netflix
    /// concurrency-limits AIMDLimit backoffRatio 0.9).
    Aimd,
    /// TCP-Vegas-like (Netflix VegasLimit): estimated queue = limit·(1 − rtt_min/rtt);
    /// grow by log10(limit) below alpha = 3·log10(limit), shrink above beta = 6·log10(limit)
    /// or on a failure.
    Vegas,
}

impl ThrottleSpec {
    /// gRFC A6 example values (maxTokens 10, tokenRatio 0.1).
    pub const GRPC: ThrottleSpec = ThrottleSpec {
        max_tokens: 10.0,
        token_ratio: 0.1,
    };
}

impl AdaptiveSpec {
    /// Google SRE book: K = 2 over two minutes.
    pub const SRE: AdaptiveSpec = AdaptiveSpec {
        k: 2.0,
        window_s: 120.0,
    };
}

impl HedgeSpec {
    /// "The Tail at Scale": hedge after the 95th-percentile latency.
    pub const TAIL_AT_SCALE: HedgeSpec = HedgeSpec { percentile: 0.95 };
}

impl ConcurrencySpec {
    /// resilience4j bulkhead default (25 concurrent calls), static.
    pub const BULKHEAD: ConcurrencySpec = ConcurrencySpec {
        kind: LimitKind::Static,
        limit: 25,
        max_limit: 1000,
    };
}

/// Finagle RetryBudget: retries up to 20 % of calls, plus a reserve of 10.
pub const FINAGLE_BUDGET: (f64, f64) = (0.2, 10.0);

fn d_max_tokens() -> f64 {
    ThrottleSpec::GRPC.max_tokens
}
fn d_token_ratio() -> f64 {
    ThrottleSpec::GRPC.token_ratio
}
fn d_k() -> f64 {
    AdaptiveSpec::SRE.k
}
fn d_window_adaptive() -> f64 {
    AdaptiveSpec::SRE.window_s
}
fn d_error_rate() -> f64 {
    BreakerSpec::HYSTRIX.error_rate
}
fn d_min_requests() -> u32 {
    BreakerSpec::HYSTRIX.min_requests
}
fn d_window_breaker() -> f64 {
    BreakerSpec::HYSTRIX.window_s
}
fn d_open_s() -> f64 {
    BreakerSpec::HYSTRIX.open_s
}
fn d_half_open() -> u32 {
    BreakerSpec::HYSTRIX.half_open_calls
}
fn d_hedge_pct() -> f64 {
    HedgeSpec::TAIL_AT_SCALE.percentile
}
fn d_limit() -> u32 {
    ConcurrencySpec::BULKHEAD.limit
}
fn d_max_limit() -> u32 {
    ConcurrencySpec::BULKHEAD.max_limit
}

/// A policy as written in the model: every field optional (absent = inherit).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    /// Only in `policies.edges[]`: the edge this override applies to.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default, deserialize_with = "tri_state")]
    pub timeout_ms: Option<Option<f64>>,
    #[serde(default)]
    pub max_attempts: Option<u32>,
    #[serde(default)]
    pub backoff: Option<BackoffSpec>,
    #[serde(default, deserialize_with = "tri_state")]
    pub retry_budget_ratio: Option<Option<f64>>,
    #[serde(default)]
    pub retry_budget_burst: Option<f64>,
    #[serde(default, deserialize_with = "tri_state")]
    pub retry_throttle: Option<Option<ThrottleSpec>>,
    #[serde(default, deserialize_with = "tri_state")]
    pub adaptive_throttle: Option<Option<AdaptiveSpec>>,
    #[serde(default, deserialize_with = "tri_state")]
    pub breaker: Option<Option<BreakerSpec>>,
    #[serde(default)]
    pub deadline_propagation: Option<bool>,
    #[serde(default, deserialize_with = "tri_state")]
    pub hedge: Option<Option<HedgeSpec>>,
    #[serde(default, deserialize_with = "tri_state")]
    pub concurrency_limit: Option<Option<ConcurrencySpec>>,
}

impl PolicySpec {
    /// `self` over `base`, field by field (`backoff` too).
    pub fn over(&self, base: &PolicySpec) -> PolicySpec {
        PolicySpec {
            from: self.from.clone().or_else(|| base.from.clone()),
            to: self.to.clone().or_else(|| base.to.clone()),
            timeout_ms: self.timeout_ms.or(base.timeout_ms),
            max_attempts: self.max_attempts.or(base.max_attempts),
            backoff: merge_backoff(self.backoff.as_ref(), base.backoff.as_ref()),
            retry_budget_ratio: self.retry_budget_ratio.or(base.retry_budget_ratio),
            retry_budget_burst: self.retry_budget_burst.or(base.retry_budget_burst),
            retry_throttle: self.retry_throttle.or(base.retry_throttle),
            adaptive_throttle: self.adaptive_throttle.or(base.adaptive_throttle),
            breaker: self.breaker.or(base.breaker),
            deadline_propagation: self.deadline_propagation.or(base.deadline_propagation),
            hedge: self.hedge.or(base.hedge),
            concurrency_limit: self.concurrency_limit.or(base.concurrency_limit),
        }
    }
}

fn merge_backoff(top: Option<&BackoffSpec>, base: Option<&BackoffSpec>) -> Option<BackoffSpec> {
    match (top, base) {
        (None, None) => None,
        (Some(t), None) => Some(t.clone()),
        (None, Some(b)) => Some(b.clone()),
        (Some(t), Some(b)) => Some(BackoffSpec {
            base_ms: t.base_ms.or(b.base_ms),
            max_ms: t.max_ms.or(b.max_ms),
            multiplier: t.multiplier.or(b.multiplier),
            jitter: t.jitter.or(b.jitter),
        }),
    }
}

/// Default retry-budget bucket size (SCENARIO.md).
const DEFAULT_BUDGET_BURST: f64 = 10.0;
/// Default backoff multiplier (SCENARIO.md).
const DEFAULT_MULTIPLIER: f64 = 2.0;

/// A fully resolved edge policy, times in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgePolicy {
    pub timeout: Option<f64>,
    pub max_attempts: u32,
    pub base: f64,
    pub cap: f64,
    pub multiplier: f64,
    pub jitter: Jitter,
    /// `(ratio, burst)` of the retry budget.
    pub budget: Option<(f64, f64)>,
    pub throttle: Option<ThrottleSpec>,
    pub adaptive: Option<AdaptiveSpec>,
    pub breaker: Option<BreakerSpec>,
    pub deadline_propagation: bool,
    pub hedge: Option<HedgeSpec>,
    pub concurrency: Option<ConcurrencySpec>,
}

impl EdgePolicy {
    /// Resolves a merged spec, applying the defaults of absent fields.
    pub fn resolve(spec: &PolicySpec) -> EdgePolicy {
        let b = spec.backoff.clone().unwrap_or_default();
        let burst = spec.retry_budget_burst.unwrap_or(DEFAULT_BUDGET_BURST);
        EdgePolicy {
            timeout: spec.timeout_ms.flatten().map(|ms| ms / 1000.0),
            max_attempts: spec.max_attempts.unwrap_or(1),
            base: b.base_ms.unwrap_or(0.0) / 1000.0,
            cap: b.max_ms.flatten().map_or(f64::INFINITY, |ms| ms / 1000.0),
            multiplier: b.multiplier.unwrap_or(DEFAULT_MULTIPLIER),
            jitter: b.jitter.unwrap_or_default(),
            budget: spec.retry_budget_ratio.flatten().map(|r| (r, burst)),
            throttle: spec.retry_throttle.flatten(),
            adaptive: spec.adaptive_throttle.flatten(),
            breaker: spec.breaker.flatten(),
            deadline_propagation: spec.deadline_propagation.unwrap_or(false),
            hedge: spec.hedge.flatten(),
            concurrency: spec.concurrency_limit.flatten(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_merges_field_by_field_and_null_clears() {
        let d: PolicySpec = serde_json::from_str(
            r#"{"timeout_ms":500,"max_attempts":2,"backoff":{"base_ms":50,"max_ms":1000,"jitter":"equal"}}"#,
        )
        .unwrap();
        let o: PolicySpec = serde_json::from_str(
            r#"{"from":"a","to":"b","timeout_ms":null,"backoff":{"base_ms":100,"jitter":"full"}}"#,
        )
        .unwrap();
        let p = EdgePolicy::resolve(&o.over(&d));
        assert_eq!(p.timeout, None);
        assert_eq!(p.max_attempts, 2);
        assert_eq!((p.base, p.cap, p.jitter), (0.1, 1.0, Jitter::Full));
        assert_eq!(p.multiplier, 2.0);
    }

    #[test]
    fn unknown_policy_key_is_rejected() {
        let e = serde_json::from_str::<PolicySpec>(r#"{"retries":3}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `retries`"), "{e}");
    }
}
