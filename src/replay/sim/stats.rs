//! What one run counts: model events by type (SCENARIO.md "Events"), external outcomes and
//! latencies per bucket, per-service and per-edge counters and time series.

/// Model events by type; their sum is the event count of events/s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub arrival: u64,
    pub queue_entry: u64,
    pub service_start: u64,
    pub service_end: u64,
    pub timeout: u64,
    pub retry: u64,
}

impl EventCounts {
    /// Total model events.
    pub fn total(&self) -> u64 {
        self.arrival
            + self.queue_entry
            + self.service_start
            + self.service_end
            + self.timeout
            + self.retry
    }
}

/// Per-service counters and samples.
#[derive(Debug, Clone, Default)]
pub struct ServiceStats {
    pub arrivals: u64,
    pub rejected: u64,
    /// Visits dropped at start because their caller's deadline had passed.
    pub deadline_dropped: u64,
    /// Visits dropped by CoDel.
    pub codel_dropped: u64,
    /// Largest instantaneous queue length.
    pub peak_queue: u32,
    pub inflight_ts: Vec<u32>,
    pub queue_ts: Vec<u32>,
}

/// Per-edge counters and per-bucket series.
#[derive(Debug, Clone, Default)]
pub struct EdgeStats {
    pub first: u64,
    pub retries: u64,
    pub timeouts: u64,
    /// Calls failed locally without sending (breaker open, throttled, concurrency limit).
    pub local_rejects: u64,
    /// Retries denied by the retry budget or gRPC throttling.
    pub retries_denied: u64,
    pub hedges: u64,
    pub attempts_ts: Vec<u32>,
    pub first_ts: Vec<u32>,
    pub timeouts_ts: Vec<u32>,
}

impl EdgeStats {
    /// All attempts sent on the edge.
    pub fn attempts(&self) -> u64 {
        self.attempts_ts.iter().map(|&x| x as u64).sum()
    }
}

/// Everything a run produced.
#[derive(Debug, Clone, Default)]
pub struct RunStats {
    pub seed: u64,
    pub events: EventCounts,
    pub ext_arrivals: Vec<u32>,
    pub ext_ok: Vec<u32>,
    pub ext_fail: Vec<u32>,
    /// End-to-end latencies (seconds) of the external requests completed in each bucket.
    pub ext_latency: Vec<Vec<f64>>,
    pub services: Vec<ServiceStats>,
    pub edges: Vec<EdgeStats>,
}

impl RunStats {
    /// Zeroed statistics for `services` services, `edges` edges and `buckets` buckets.
    pub fn new(seed: u64, services: usize, edges: usize, buckets: usize) -> Self {
        let svc = ServiceStats {
            inflight_ts: vec![0; buckets],
            queue_ts: vec![0; buckets],
            ..Default::default()
        };
        let edge = EdgeStats {
            attempts_ts: vec![0; buckets],
            first_ts: vec![0; buckets],
            timeouts_ts: vec![0; buckets],
            ..Default::default()
        };
        RunStats {
            seed,
            events: EventCounts::default(),
            ext_arrivals: vec![0; buckets],
            ext_ok: vec![0; buckets],
            ext_fail: vec![0; buckets],
            ext_latency: vec![Vec::new(); buckets],
            services: vec![svc; services],
            edges: vec![edge; edges],
        }
    }
}

/// p99 with linear interpolation between order statistics (`pos = 0.99 (n-1)`), sorting `xs`.
pub fn p99(xs: &mut [f64]) -> Option<f64> {
    quantile(xs, 0.99)
}

/// Quantile `q` with linear interpolation, sorting `xs`; `None` when empty.
pub fn quantile(xs: &mut [f64], q: f64) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    xs.sort_unstable_by(f64::total_cmp);
    let pos = q * (xs.len() - 1) as f64;
    let lo = pos as usize;
    let hi = (lo + 1).min(xs.len() - 1);
    Some(xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_interpolates_like_numpy_linear() {
        let mut xs: Vec<f64> = (1..=101).rev().map(f64::from).collect();
        assert_eq!(p99(&mut xs), Some(100.0));
        let mut two = vec![0.0, 10.0];
        assert!((p99(&mut two).unwrap() - 9.9).abs() < 1e-12);
        assert_eq!(p99(&mut []), None);
    }
}
