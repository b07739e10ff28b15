//! Per-edge runtime state of the client-side policies: retry budget, gRPC retry
//! throttling, adaptive client throttling, circuit breaker, concurrency limit and the
//! latency window that sets the hedging delay. The engine asks it before each attempt and
//! retry and tells it every attempt's outcome.

use crate::replay::model::policy::{BreakerSpec, EdgePolicy, LimitKind};

use super::rng::Rng;

/// Slots of a rolling window (a window of 10 s has 1 s slots, like Hystrix's 10 buckets).
const ROLLING_SLOTS: usize = 10;
/// Latency samples kept for the hedging percentile.
const HEDGE_WINDOW: usize = 512;
/// The hedging percentile is recomputed every this many new samples.
const HEDGE_REFRESH: u32 = 64;
/// No hedging before this many latency samples (the percentile would be noise).
const HEDGE_MIN_SAMPLES: usize = 20;
/// Vegas thresholds in units of log10(limit) (Netflix VegasLimit defaults alpha 3, beta 6).
const VEGAS_ALPHA: f64 = 3.0;
const VEGAS_BETA: f64 = 6.0;
/// AIMD decrease factor (Netflix concurrency-limits AIMDLimit default backoffRatio).
const AIMD_BACKOFF: f64 = 0.9;

/// Counts of two quantities over a rolling time window, in `ROLLING_SLOTS` slots.
#[derive(Debug, Clone)]
struct Rolling {
    width: f64,
    slots: [(f64, f64); ROLLING_SLOTS],
    head: i64,
    sum: (f64, f64),
}

impl Rolling {
    fn new(window_s: f64) -> Self {
        Rolling {
            width: window_s / ROLLING_SLOTS as f64,
            slots: [(0.0, 0.0); ROLLING_SLOTS],
            head: 0,
            sum: (0.0, 0.0),
        }
    }

    fn advance(&mut self, now: f64) {
        let idx = (now / self.width) as i64;
        let steps = (idx - self.head).clamp(0, ROLLING_SLOTS as i64);
        for k in 1..=steps {
            let slot = &mut self.slots[((self.head + k) as usize) % ROLLING_SLOTS];
            self.sum.0 -= slot.0;
            self.sum.1 -= slot.1;
            *slot = (0.0, 0.0);
        }
        self.head = self.head.max(idx);
    }

    fn add(&mut self, now: f64, a: f64, b: f64) {
        self.advance(now);
        let slot = &mut self.slots[(self.head as usize) % ROLLING_SLOTS];
        slot.0 += a;
        slot.1 += b;
        self.sum.0 += a;
        self.sum.1 += b;
    }

    fn totals(&mut self, now: f64) -> (f64, f64) {
        self.advance(now);
        self.sum
    }

    fn clear(&mut self) {
        self.slots = [(0.0, 0.0); ROLLING_SLOTS];
        self.sum = (0.0, 0.0);
    }
}

/// Circuit-breaker state.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Breaker {
    Closed,
    Open { until: f64 },
    HalfOpen { sent: u32, successes: u32 },
}

/// Runtime state of one edge's policies.
#[derive(Debug, Clone)]
pub struct Guard {
    budget: f64,
    throttle: f64,
    breaker: Breaker,
    /// (requests, failures) for the breaker.
    breaker_window: Rolling,
    /// (requests, accepts) for adaptive throttling.
    adaptive_window: Rolling,
    pub inflight: u32,
    limit: f64,
    /// Smallest latency seen (Vegas' no-load RTT).
    rtt_min: f64,
    latencies: Vec<f64>,
    next_latency: usize,
    since_refresh: u32,
    hedge_delay: Option<f64>,
    /// Times the breaker opened (for the summary and the policy tests).
    pub breaker_opens: u32,
}

impl Guard {
    /// Fresh state: full buckets, breaker closed.
    pub fn new(p: &EdgePolicy) -> Self {
        let breaker_window = p.breaker.map_or(10.0, |b| b.window_s);
        Guard {
            budget: p.budget.map_or(0.0, |(_, burst)| burst),
            throttle: p.throttle.map_or(0.0, |t| t.max_tokens),
            breaker: Breaker::Closed,
            breaker_window: Rolling::new(breaker_window),
            adaptive_window: Rolling::new(p.adaptive.map_or(120.0, |a| a.window_s)),
            inflight: 0,
            limit: p.concurrency.map_or(f64::INFINITY, |c| c.limit as f64),
            rtt_min: f64::INFINITY,
            latencies: Vec::new(),
            next_latency: 0,
            since_refresh: 0,
            hedge_delay: None,
            breaker_opens: 0,
        }
    }

    /// A new call (first attempt): deposits into the retry budget.
    pub fn on_call(&mut self, p: &EdgePolicy) {
        if let Some((ratio, burst)) = p.budget {
            self.budget = (self.budget + ratio).min(burst);
        }
    }

    /// May an attempt be sent now? False = fail it locally (breaker open, throttled, limit).
    pub fn admit(&mut self, p: &EdgePolicy, now: f64, rng: &mut Rng) -> bool {
        if let Some(b) = p.breaker {
            if !self.breaker_admits(&b, now) {
                return false;
            }
        }
        if let Some(a) = p.adaptive {
            let (requests, accepts) = self.adaptive_window.totals(now);
            let reject_p = ((requests - a.k * accepts) / (requests + 1.0)).max(0.0);
            self.adaptive_window.add(now, 1.0, 0.0);
            if reject_p > 0.0 && rng.uniform() < reject_p {
                return false;
            }
        }
        (self.inflight as f64) < self.limit
    }

    fn breaker_admits(&mut self, b: &BreakerSpec, now: f64) -> bool {
        if let Breaker::Open { until } = self.breaker {
            if now < until {
                return false;
            }
            self.breaker = Breaker::HalfOpen {
                sent: 0,
                successes: 0,
            };
        }
        match &mut self.breaker {
            Breaker::HalfOpen { sent, .. } if *sent < b.half_open_calls => {
                *sent += 1;
                true
            }
            Breaker::HalfOpen { .. } => false,
            _ => true,
        }
    }

    /// May a retry be sent? Takes a budget token; checks gRPC throttling.
    pub fn allow_retry(&mut self, p: &EdgePolicy) -> bool {
        if let Some(t) = p.throttle {
            if self.throttle <= t.max_tokens / 2.0 {
                return false;
            }
        }
        if p.budget.is_some() {
            if self.budget < 1.0 {
                return false;
            }
            self.budget -= 1.0;
        }
        true
    }

    /// An attempt's outcome reached the caller after `latency` seconds.
    pub fn on_result(&mut self, p: &EdgePolicy, now: f64, ok: bool, latency: f64) {
        if let Some(t) = p.throttle {
            self.throttle = if ok {
                (self.throttle + t.token_ratio).min(t.max_tokens)
            } else {
                (self.throttle - 1.0).max(0.0)
            };
        }
        if p.adaptive.is_some() && ok {
            self.adaptive_window.add(now, 0.0, 1.0);
        }
        if let Some(b) = p.breaker {
            self.breaker_result(&b, now, ok);
        }
        if let Some(c) = p.concurrency {
            let next = match c.kind {
                LimitKind::Static => self.limit,
                LimitKind::Aimd if ok => self.limit + 1.0 / self.limit,
                LimitKind::Aimd => self.limit * AIMD_BACKOFF,
                LimitKind::Vegas => self.vegas(ok, latency),
            };
            self.limit = next.clamp(1.0, c.max_limit as f64);
        }
        if p.hedge.is_some() && ok {
            self.record_latency(p, latency);
        }
    }

    /// Next Vegas limit after one sample.
    fn vegas(&mut self, ok: bool, rtt: f64) -> f64 {
        let step = self.limit.log10().max(1.0);
        if !ok {
            return self.limit - step;
        }
        self.rtt_min = self.rtt_min.min(rtt);
        let queue = self.limit * (1.0 - self.rtt_min / rtt.max(f64::MIN_POSITIVE));
        if queue < VEGAS_ALPHA * step {
            self.limit + step
        } else if queue > VEGAS_BETA * step {
            self.limit - step
        } else {
            self.limit
        }
    }

    fn breaker_result(&mut self, b: &BreakerSpec, now: f64, ok: bool) {
        match self.breaker {
            Breaker::Closed => {
                self.breaker_window
                    .add(now, 1.0, if ok { 0.0 } else { 1.0 });
                let (req, fail) = self.breaker_window.totals(now);
                if req >= b.min_requests as f64 && fail >= b.error_rate * req {
                    self.trip(b, now);
                }
            }
            Breaker::HalfOpen { successes, sent } if ok => {
                if successes + 1 >= b.half_open_calls {
                    self.breaker = Breaker::Closed;
                    self.breaker_window.clear();
                } else {
                    self.breaker = Breaker::HalfOpen {
                        sent,
                        successes: successes + 1,
                    };
                }
            }
            Breaker::HalfOpen { .. } => self.trip(b, now),
            Breaker::Open { .. } => {}
        }
    }

    fn trip(&mut self, b: &BreakerSpec, now: f64) {
        self.breaker = Breaker::Open {
            until: now + b.open_s,
        };
        self.breaker_opens += 1;
    }

    /// Whether the breaker is currently open (for tests and telemetry).
    pub fn breaker_open(&self, now: f64) -> bool {
        matches!(self.breaker, Breaker::Open { until } if now < until)
    }

    fn record_latency(&mut self, p: &EdgePolicy, latency: f64) {
        if self.latencies.len() < HEDGE_WINDOW {
            self.latencies.push(latency);
        } else {
            self.latencies[self.next_latency] = latency;
            self.next_latency = (self.next_latency + 1) % HEDGE_WINDOW;
        }
        self.since_refresh += 1;
        if self.since_refresh >= HEDGE_REFRESH && self.latencies.len() >= HEDGE_MIN_SAMPLES {
            self.since_refresh = 0;
            let mut xs = self.latencies.clone();
            let q = p.hedge.map_or(0.95, |h| h.percentile);
            self.hedge_delay = super::stats::quantile(&mut xs, q);
        }
    }

    /// Delay after which a hedge copy is sent, once enough latencies were seen.
    pub fn hedge_delay(&self) -> Option<f64> {
        self.hedge_delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::model::policy::PolicySpec;

    #[test]
    fn rolling_window_forgets_old_slots() {
        let mut w = Rolling::new(10.0);
        w.add(0.5, 5.0, 1.0);
        w.add(4.5, 5.0, 2.0);
        assert_eq!(w.totals(9.9), (10.0, 3.0));
        assert_eq!(w.totals(10.5), (5.0, 2.0), "the slot of t = 0.5 s expired");
        assert_eq!(w.totals(100.0), (0.0, 0.0));
    }

    #[test]
    fn breaker_opens_at_the_error_rate_and_half_opens_after_the_sleep() {
        let spec: PolicySpec =
            serde_json::from_str(r#"{"breaker":{"min_requests":4,"open_s":5}}"#).unwrap();
        let p = EdgePolicy::resolve(&spec);
        let (mut g, mut rng) = (Guard::new(&p), Rng::new(1));
        for ok in [true, false, true, false] {
            assert!(g.admit(&p, 1.0, &mut rng));
            g.on_result(&p, 1.0, ok, 0.01);
        }
        assert!(g.breaker_open(1.0), "2 of 4 failed = 50 %");
        assert!(!g.admit(&p, 5.9, &mut rng));
        assert!(g.admit(&p, 6.1, &mut rng), "one trial after the 5 s sleep");
        assert!(!g.admit(&p, 6.2, &mut rng), "only one trial at a time");
        g.on_result(&p, 6.3, true, 0.01);
        assert!(
            g.admit(&p, 6.4, &mut rng) && g.admit(&p, 6.4, &mut rng),
            "closed again"
        );
    }

    #[test]
    fn grpc_throttle_and_budget_tokens() {
        let spec: PolicySpec = serde_json::from_str(
            r#"{"retry_throttle":{"max_tokens":10,"token_ratio":0.1},"retry_budget_ratio":0.5,"retry_budget_burst":2}"#,
        )
        .unwrap();
        let p = EdgePolicy::resolve(&spec);
        let mut g = Guard::new(&p);
        assert!(g.allow_retry(&p) && g.allow_retry(&p), "burst of 2");
        assert!(!g.allow_retry(&p), "budget empty");
        g.on_call(&p);
        g.on_call(&p);
        assert!(g.allow_retry(&p), "two calls deposited one token");
        for _ in 0..5 {
            g.on_result(&p, 0.0, false, 0.0);
        }
        g.on_call(&p);
        g.on_call(&p);
        assert!(!g.allow_retry(&p), "throttled at 5 of 10 tokens");
    }
}
