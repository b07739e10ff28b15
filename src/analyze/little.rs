//! Little's law (L = λW) as a consistency check of queue evidence: in-flight, throughput
//! and latency of one service over a stretch of buckets must tie together, and so must a
//! logged queue depth, the arrival rate and the wait before service. Written into a
//! finding's metrics (`little_*`), so a person can check the queue story by hand.

use std::collections::BTreeMap;
use std::ops::Range;

use super::backlog::{QueueKind, QueueSeries};
use super::services::ServiceStats;

/// Mean waits under this (ms) are network and scheduling time, not a queue: Little's law
/// for the queue is not computed from them.
const MIN_WAIT_MS: f64 = 1.0;

/// Little's law over buckets `r` (sampled spans): λ = arrivals per second, W = mean server
/// span duration, L = mean in-flight; L / λW near 1 says the span data hang together. Also
/// arrivals minus completions over the growth (the backlog the spans saw build up).
pub fn span_metrics(
    m: &mut BTreeMap<String, f64>,
    s: &ServiceStats,
    r: Range<usize>,
    width_s: f64,
) {
    let r = r.start..r.end.max(r.start + 1);
    let ser = &s.series;
    let secs = r.len() as f64 * width_s;
    let arrivals: u64 = ser
        .arrivals
        .get(r.clone())
        .unwrap_or_default()
        .iter()
        .map(|&v| u64::from(v))
        .sum();
    let completions: u64 = ser
        .completions
        .get(r.clone())
        .unwrap_or_default()
        .iter()
        .map(|&v| u64::from(v))
        .sum();
    let (mut w_sum, mut n) = (0.0, 0.0);
    for k in r.clone() {
        let reqs = f64::from(ser.requests.value(k).unwrap_or(0));
        let mean = ser.self_ms.value(k).flatten().unwrap_or(0.0)
            + ser.child_wait_ms.value(k).flatten().unwrap_or(0.0);
        w_sum += mean * reqs;
        n += reqs;
    }
    let in_flight: f64 = ser
        .in_flight
        .get(r.clone())
        .unwrap_or_default()
        .iter()
        .map(|&v| f64::from(v))
        .sum::<f64>()
        / r.len() as f64;
    let lambda = arrivals as f64 / secs;
    let w_s = if n > 0.0 { w_sum / n / 1e3 } else { 0.0 };
    let mut put = |k: &str, v: f64| {
        m.insert(k.to_string(), v);
    };
    put("arrivals", arrivals as f64);
    put("completions", completions as f64);
    put("little_lambda_per_s", lambda);
    put("little_w_s", w_s);
    put("little_l_predicted", lambda * w_s);
    put("little_l_observed", in_flight);
    if lambda * w_s > 0.0 {
        put("little_l_ratio", in_flight / (lambda * w_s));
    }
}

/// Little's law for the queue itself: L_queue = λ × W_wait with the sampled arrival rate and
/// the mean wait (before service, or logged); against a logged depth (never sampled) the
/// ratio depth / λW estimates 1 / the trace sampling rate — 1 when every trace was kept.
pub fn queue_metrics(m: &mut BTreeMap<String, f64>, series: &[&QueueSeries], r: Range<usize>) {
    let mean_of = |kinds: &[QueueKind]| {
        let q = series.iter().find(|q| kinds.contains(&q.kind))?;
        let v: Vec<f64> = q
            .values
            .iter()
            .take(r.end)
            .skip(r.start)
            .flatten()
            .copied()
            .collect();
        (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
    };
    let wait_ms = mean_of(&[
        QueueKind::ServerWait,
        QueueKind::MessagingLag,
        QueueKind::LogWait,
    ]);
    let (Some(wait_ms), Some(&lambda)) = (wait_ms, m.get("little_lambda_per_s")) else {
        return;
    };
    if wait_ms < MIN_WAIT_MS {
        return; // No wait outside the spans: the queue sits inside the server span.
    }
    let predicted = lambda * wait_ms / 1e3;
    m.insert("little_queue_w_s".into(), wait_ms / 1e3);
    m.insert("little_queue_l_predicted".into(), predicted);
    if let Some(depth) = mean_of(&[QueueKind::LogDepth]).filter(|_| predicted > 0.0) {
        m.insert("little_queue_l_logged".into(), depth);
        m.insert("little_queue_l_ratio".into(), depth / predicted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::services::ServiceSeries;

    fn service(n: usize) -> ServiceStats {
        // 10 arrivals per 1-s bucket, each lasting 0.5 s: L = λW = 10 × 0.5 = 5.
        let series = ServiceSeries {
            requests: vec![10; n].into(),
            arrivals: vec![10; n].into(),
            completions: vec![10; n].into(),
            in_flight: vec![5; n].into(),
            self_ms: vec![Some(200.0); n].into(),
            child_wait_ms: vec![Some(300.0); n].into(),
            ..Default::default()
        };
        ServiceStats {
            name: "db".into(),
            id: 0,
            series,
            baseline: Default::default(),
            incident: None,
            onset_ns: None,
            onset_signal: None,
            error_onset_ns: None,
        }
    }

    #[test]
    fn spans_that_hang_together_give_a_ratio_of_one() {
        let mut m = BTreeMap::new();
        span_metrics(&mut m, &service(20), 5..15, 1.0);
        assert_eq!(m["little_lambda_per_s"], 10.0);
        assert_eq!(m["little_w_s"], 0.5);
        assert_eq!(m["little_l_ratio"], 1.0);
        assert_eq!(m["arrivals"], 100.0);
    }

    #[test]
    fn a_logged_depth_over_sampled_spans_estimates_the_sampling() {
        let q = |kind, v: f64| QueueSeries {
            service: "db".into(),
            kind,
            source: "test".into(),
            unit: kind.unit(),
            values: vec![Some(v); 20].into(),
            samples: vec![1; 20].into(),
        };
        let (depth, wait) = (
            q(QueueKind::LogDepth, 200.0),
            q(QueueKind::ServerWait, 2000.0),
        );
        let mut m = BTreeMap::from([("little_lambda_per_s".to_string(), 10.0)]);
        queue_metrics(&mut m, &[&depth, &wait], 0..20);
        // 10/s sampled × 2 s = 20 waiting in the spans; 200 logged: 1 trace in 10 kept.
        assert_eq!(m["little_queue_l_predicted"], 20.0);
        assert_eq!(m["little_queue_l_ratio"], 10.0);
        let tiny = q(QueueKind::ServerWait, 0.2);
        let mut m = BTreeMap::from([("little_lambda_per_s".to_string(), 10.0)]);
        queue_metrics(&mut m, &[&depth, &tiny], 0..20);
        assert!(!m.contains_key("little_queue_l_ratio"));
    }
}
