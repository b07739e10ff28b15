//! Ground-truth roles of a simulated run: every visit (sampled or not) is tallied per
//! service and bucket as the engine reports it; then, comparing the fault window with the
//! stretch before it, source = a faulted service; infected = a service on a call path
//! above a source whose mean latency rose; affected = any other whose latency or error
//! rate rose (a wrong answer a caller detected counts as that caller's error); healthy =
//! the rest.

use std::collections::BTreeMap;

use crate::replay::sim::recorder::{AttemptRecord, Recorder, VisitRecord};
use crate::replay::sim::topology::CLIENT_IDX;
use crate::replay::sim::Topology;

/// Mean visit latency rose when the fault window's is this many times the baseline's (the
/// analyser's "clear departure", DETECTION.md).
pub const LATENCY_RISE: f64 = 1.5;
/// The error rate rose when it is this much higher (absolute) in the fault window.
pub const ERROR_RISE: f64 = 0.01;
/// A window needs this many visits for its mean or rate to count.
pub const MIN_VISITS: u64 = 10;

/// Per service and bucket (by visit start): visits, failed visits, summed duration (s).
#[derive(Debug, Clone, Default)]
pub struct VisitTally {
    visits: Vec<Vec<u32>>,
    failures: Vec<Vec<u32>>,
    busy_s: Vec<Vec<f64>>,
    /// Wrong (silently failed) answers each service received as a caller, by bucket.
    silent: Vec<Vec<u32>>,
}

impl VisitTally {
    /// An empty tally for the services and buckets of `topo`.
    pub fn new(topo: &Topology) -> VisitTally {
        let n = topo.services.len();
        VisitTally {
            visits: vec![vec![0; topo.buckets]; n],
            failures: vec![vec![0; topo.buckets]; n],
            busy_s: vec![vec![0.0; topo.buckets]; n],
            silent: vec![vec![0; topo.buckets]; n],
        }
    }

    /// Counts one finished visit.
    pub fn add(&mut self, topo: &Topology, r: &VisitRecord) {
        let s = r.service as usize;
        let k = ((r.start / topo.interval).max(0.0) as usize).min(topo.buckets.saturating_sub(1));
        if let (Some(v), Some(f), Some(b)) = (
            self.visits.get_mut(s).and_then(|v| v.get_mut(k)),
            self.failures.get_mut(s).and_then(|v| v.get_mut(k)),
            self.busy_s.get_mut(s).and_then(|v| v.get_mut(k)),
        ) {
            *v += 1;
            *f += u32::from(!r.ok);
            *b += r.end - r.start;
        }
    }

    /// Counts a wrong answer received by caller `s` at time `t`.
    pub fn add_silent(&mut self, topo: &Topology, s: usize, t: f64) {
        let k = ((t / topo.interval).max(0.0) as usize).min(topo.buckets.saturating_sub(1));
        if let Some(c) = self.silent.get_mut(s).and_then(|v| v.get_mut(k)) {
            *c += 1;
        }
    }

    /// (visits, failures incl. detected wrong answers, mean latency s) of service `s` over
    /// buckets `win`.
    fn window(&self, s: usize, win: std::ops::Range<usize>) -> (u64, u64, Option<f64>) {
        let sum_u = |v: &Vec<Vec<u32>>| -> u64 {
            v.get(s)
                .and_then(|x| x.get(win.clone()))
                .map_or(0, |x| x.iter().map(|&c| u64::from(c)).sum())
        };
        let (n, f) = (
            sum_u(&self.visits),
            sum_u(&self.failures) + sum_u(&self.silent),
        );
        let busy: f64 = self
            .busy_s
            .get(s)
            .and_then(|x| x.get(win.clone()))
            .map_or(0.0, |x| x.iter().sum());
        (n, f, (n >= MIN_VISITS).then(|| busy / n as f64))
    }
}

impl VisitTally {
    /// Whether service `s` failed visits (its own answers, not wrong answers it received)
    /// more often over `win` than over `base`, by `ERROR_RISE`.
    pub fn failures_rose(
        &self,
        s: usize,
        base: std::ops::Range<usize>,
        win: std::ops::Range<usize>,
    ) -> bool {
        let sum = |v: &Vec<Vec<u32>>, w: std::ops::Range<usize>| -> u64 {
            v.get(s)
                .and_then(|x| x.get(w))
                .map_or(0, |x| x.iter().map(|&c| u64::from(c)).sum())
        };
        let (bn, bf) = (sum(&self.visits, base.clone()), sum(&self.failures, base));
        let (wn, wf) = (sum(&self.visits, win.clone()), sum(&self.failures, win));
        let rate = |f: u64, n: u64| f as f64 / n.max(1) as f64;
        wn >= MIN_VISITS && rate(wf, wn) >= rate(bf, bn) + ERROR_RISE
    }
}

/// A recorder that only tallies visits (the telemetry recorder feeds one too).
impl Recorder for VisitTally {
    const ENABLED: bool = true;
    fn attempt(&mut self, _: &Topology, _: &AttemptRecord) {}
    fn visit(&mut self, topo: &Topology, r: &VisitRecord) {
        self.add(topo, r);
    }
}

/// Services that can reach one of `sources` along the call edges (the sources excluded).
fn above(topo: &Topology, sources: &[usize]) -> Vec<bool> {
    let mut up = vec![false; topo.services.len()];
    let mut reach: Vec<bool> = (0..topo.services.len())
        .map(|s| sources.contains(&s))
        .collect();
    let mut changed = true;
    while changed {
        changed = false;
        for e in topo.edges.iter().filter(|e| e.from != CLIENT_IDX) {
            let (a, b) = (e.from as usize, e.to as usize);
            if reach.get(b) == Some(&true) && reach.get(a) == Some(&false) {
                reach[a] = true;
                up[a] = true;
                changed = true;
            }
        }
    }
    up
}

/// The role of every service by name; empty sources (no fault) make everyone healthy.
pub fn roles(
    topo: &Topology,
    tally: &VisitTally,
    sources: &[usize],
    base: std::ops::Range<usize>,
    fault: std::ops::Range<usize>,
) -> BTreeMap<String, &'static str> {
    let up = above(topo, sources);
    let mut out = BTreeMap::new();
    for (s, svc) in topo.services.iter().enumerate() {
        let (bn, bf, bl) = tally.window(s, base.clone());
        let (fn_, ff, fl) = tally.window(s, fault.clone());
        let latency_up = matches!((bl, fl), (Some(b), Some(f)) if f >= LATENCY_RISE * b);
        let rate = |f: u64, n: u64| f as f64 / n.max(1) as f64;
        let errors_up = fn_ >= MIN_VISITS && rate(ff, fn_) >= rate(bf, bn) + ERROR_RISE;
        let role = if sources.contains(&s) {
            "source"
        } else if sources.is_empty() {
            "healthy"
        } else if up[s] && latency_up {
            "infected"
        } else if latency_up || errors_up {
            "affected"
        } else {
            "healthy"
        };
        out.insert(svc.name.clone(), role);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replay::model::parse_model;
    use crate::replay::model::policy::PolicySpec;
    use crate::replay::sim::run;

    fn topo(faults: &str) -> Topology {
        let text = format!(
            r#"{{"name":"roles","duration_s":20,"seed":3,
            "arrivals":{{"entry":"fe","rate_per_s":50}},
            "services":{{"fe":{{"workers":64,"service_time_ms":{{"dist":"lognormal","median":1,"p99":3}}}},
                        "api":{{"workers":64,"service_time_ms":{{"dist":"lognormal","median":2,"p99":6}}}},
                        "db":{{"workers":64,"service_time_ms":{{"dist":"lognormal","median":4,"p99":12}}}},
                        "cache":{{"workers":64,"service_time_ms":{{"dist":"lognormal","median":1,"p99":3}}}}}},
            "calls":[{{"from":"fe","to":"cache","count":1}},{{"from":"fe","to":"api","count":1}},
                     {{"from":"api","to":"db","count":1}}],
            "policies":{{"default":{{"timeout_ms":null,"max_attempts":1}}}},
            "faults":[{faults}]}}"#
        );
        Topology::compile(&parse_model(&text).unwrap(), &PolicySpec::default())
    }

    fn roles_of(t: &Topology) -> BTreeMap<String, &'static str> {
        let (_, tally) = run(t, 3, VisitTally::new(t));
        let sources: Vec<usize> = (0..t.services.len())
            .filter(|&s| !t.services[s].faults.is_empty())
            .collect();
        roles(t, &tally, &sources, 0..8, 8..16)
    }

    #[test]
    fn slow_db_makes_its_callers_infected_and_leaves_cache_healthy() {
        let t = topo(r#"{"service":"db","start_s":8,"end_s":16,"latency_multiplier":10}"#);
        let r = roles_of(&t);
        let want = [
            ("api", "infected"),
            ("cache", "healthy"),
            ("db", "source"),
            ("fe", "infected"),
        ];
        assert_eq!(
            r,
            want.into_iter().map(|(a, b)| (a.to_string(), b)).collect()
        );
    }

    #[test]
    fn failing_db_leaves_callers_affected_and_no_fault_is_all_healthy() {
        let t = topo(r#"{"service":"db","start_s":8,"end_s":16,"error_rate":0.5}"#);
        let r = roles_of(&t);
        assert_eq!(
            (r["db"], r["api"], r["fe"], r["cache"]),
            ("source", "affected", "affected", "healthy")
        );
        let quiet = roles_of(&topo(""));
        assert!(quiet.values().all(|&v| v == "healthy"), "{quiet:?}");
    }
}
