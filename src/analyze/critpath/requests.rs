//! Each request's own critical path split by where its time went: the service itself, or
//! each callee it waited on (everything below a call counts for that call's callee node).
//! Summed per (service, endpoint) over the baseline and incident windows, the split makes
//! a latency change add up exactly: Δ mean latency = Δ own + Σ Δ wait on each callee.

use rayon::prelude::*;

use super::{node_of, walk_until, window_of, Scratch};
use crate::analyze::graph::CallGraph;
use crate::analyze::incident::Windows;
use crate::analyze::intern::FastMap;
use crate::analyze::table::SpanTable;

/// [`EndpointPaths::name`] of a whole-service sum.
pub const ALL_ENDPOINTS: u32 = u32::MAX;

/// Requests of one (service, endpoint), `[baseline, incident]` in every pair.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct EndpointPaths {
    pub service: u32,
    /// Span-name id (`SpanTable::names`), or [`ALL_ENDPOINTS`].
    pub name: u32,
    pub requests: [u64; 2],
    /// Summed request durations, ns.
    pub dur_ns: [i64; 2],
    /// Summed critical-path time the requests held themselves, ns.
    pub own_ns: [i64; 2],
    /// Summed critical-path wait per callee node, sorted by node.
    pub waits: Vec<(u32, [i64; 2])>,
}

impl EndpointPaths {
    /// Mean of a summed quantity per request of window `w` (0 baseline, 1 incident), ms.
    pub fn mean_ms(&self, sum: [i64; 2], w: usize) -> Option<f64> {
        (self.requests[w] > 0).then(|| sum[w] as f64 / self.requests[w] as f64 / 1e6)
    }

    /// Summed wait on `node` (zero when never waited on).
    pub fn wait_on(&self, node: u32) -> [i64; 2] {
        self.waits
            .binary_search_by_key(&node, |w| w.0)
            .map_or([0, 0], |k| self.waits[k].1)
    }

    /// Adds `o`'s sums; its waits go into `waits` (one map for a whole sum, so adding many
    /// endpoints stays linear in their waits).
    fn add(&mut self, o: &EndpointPaths, waits: &mut FastMap<u32, [i64; 2]>) {
        for w in 0..2 {
            self.requests[w] += o.requests[w];
            self.dur_ns[w] += o.dur_ns[w];
            self.own_ns[w] += o.own_ns[w];
        }
        for &(n, v) in &o.waits {
            let e = waits.entry(n).or_default();
            e[0] += v[0];
            e[1] += v[1];
        }
    }
}

/// Every (service, endpoint) with requests in a window, sorted by (service, name id).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RequestPaths {
    pub endpoints: Vec<EndpointPaths>,
}

impl RequestPaths {
    /// The sum over every endpoint of `service`.
    pub fn service(&self, service: u32) -> EndpointPaths {
        let mut out = EndpointPaths {
            service,
            name: ALL_ENDPOINTS,
            ..Default::default()
        };
        // Endpoints are sorted by service: the service's are one contiguous run.
        let from = self.endpoints.partition_point(|e| e.service < service);
        let to = self.endpoints.partition_point(|e| e.service <= service);
        let mut waits = FastMap::default();
        for e in &self.endpoints[from..to] {
            out.add(e, &mut waits);
        }
        out.waits = waits.into_iter().collect();
        out.waits.sort_unstable_by_key(|w| w.0);
        out
    }
}

type Acc = FastMap<(u32, u32), (EndpointPaths, FastMap<u32, [i64; 2]>)>;

/// Splits the critical path of every SERVER/CONSUMER span in the two windows.
pub fn request_paths(t: &SpanTable, g: &CallGraph, w: &Windows, starts: &[i64]) -> RequestPaths {
    let acc = (0..t.trace_rows.len())
        .into_par_iter()
        .fold(
            || (Acc::default(), Scratch::default()),
            |(mut acc, mut s), tr| {
                let r = &t.trace_rows[tr];
                for i in (r.start as usize..r.end as usize).filter(|&i| t.is_server(i)) {
                    let _visited = add_request(t, g, w, starts, i, &mut acc, &mut s);
                }
                (acc, s)
            },
        )
        .map(|(acc, _)| acc)
        .reduce(Acc::default, merge);
    let mut endpoints: Vec<EndpointPaths> = acc
        .into_values()
        .map(|(mut e, waits)| {
            e.waits = waits.into_iter().collect();
            e.waits.sort_unstable_by_key(|w| w.0);
            e
        })
        .collect();
    endpoints.sort_unstable_by_key(|e| (e.service, e.name));
    RequestPaths { endpoints }
}

fn merge(mut a: Acc, b: Acc) -> Acc {
    for (k, (e, waits)) in b {
        let (ae, aw) = a.entry(k).or_insert_with(|| (blank(k), FastMap::default()));
        for w in 0..2 {
            ae.requests[w] += e.requests[w];
            ae.dur_ns[w] += e.dur_ns[w];
            ae.own_ns[w] += e.own_ns[w];
        }
        for (n, v) in waits {
            let x = aw.entry(n).or_default();
            x[0] += v[0];
            x[1] += v[1];
        }
    }
    a
}

fn blank((service, name): (u32, u32)) -> EndpointPaths {
    EndpointPaths {
        service,
        name,
        ..Default::default()
    }
}

/// One request's split into the accumulator; returns the spans its walk descended into.
fn add_request(
    t: &SpanTable,
    g: &CallGraph,
    w: &Windows,
    starts: &[i64],
    i: usize,
    acc: &mut Acc,
    s: &mut Scratch,
) -> usize {
    let Some(win) = window_of(w, t.start[i]) else {
        return 0;
    };
    let svc = t.service[i];
    let key = (svc, t.name[i]);
    let (e, waits) = acc
        .entry(key)
        .or_insert_with(|| (blank(key), FastMap::default()));
    e.requests[win] += 1;
    e.dur_ns[win] += t.duration(i);
    // The request's own region: spans of its service reached without crossing a call.
    // Everything on the path below a child in another service, or below a call, is wait
    // on that child's node (the walk charges it in one piece).
    let wait_node = |c: usize| {
        if t.service[c] != svc {
            Some(t.service[c])
        } else if t.is_client(c) {
            Some(node_of(t, g, c))
        } else {
            None
        }
    };
    walk_until(
        t,
        starts,
        i,
        s,
        |c| wait_node(c).is_some(),
        |row, ns, stopped| match stopped.then(|| wait_node(row)).flatten() {
            Some(node) => waits.entry(node).or_default()[win] += ns,
            None => e.own_ns[win] += ns,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::graph::build_graph;
    use crate::analyze::incident::windows;
    use crate::analyze::testkit::{scenario, Frames, Scenario, SpanSpec};
    use crate::model::columns::kind;

    #[test]
    fn a_request_splits_into_own_time_and_waits_per_callee() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "fe", kind::SERVER, 0, 100));
        f.push(SpanSpec::new(1, 2, 1, "fe", kind::INTERNAL, 5, 95));
        f.push(SpanSpec::new(1, 3, 2, "fe", kind::CLIENT, 10, 40));
        f.push(SpanSpec::new(1, 4, 3, "api", kind::SERVER, 12, 38));
        f.push(SpanSpec::new(1, 5, 2, "fe", kind::CLIENT, 50, 90));
        f.spans[4].peer = Some("redis".into());
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let g = build_graph(&t, &f.links());
        let rp = request_paths(&t, &g, &windows(&t, None, None), &t.start);
        let fe = rp.service(t.services.get("fe").unwrap());
        let ms = |v: [i64; 2]| v[0] / 1_000_000;
        assert_eq!(fe.requests, [1, 0]);
        assert_eq!(ms(fe.own_ns), 30);
        assert_eq!(ms(fe.wait_on(g.nodes.get("api").unwrap())), 30);
        assert_eq!(ms(fe.wait_on(g.nodes.get("redis").unwrap())), 40);
        let api = rp.service(t.services.get("api").unwrap());
        assert_eq!((ms(api.own_ns), api.waits.len()), (26, 0));
    }

    /// A call chain `depth` spans deep in one trace: SERVER, CLIENT, SERVER, … across four
    /// services, each span nested 1 ms inside its parent.
    fn chain(depth: u64) -> Frames {
        let mut f = Frames::default();
        for i in 0..depth {
            let svc = ["a", "b", "c", "d"][(i / 2 % 4) as usize];
            let k = if i % 2 == 0 {
                kind::SERVER
            } else {
                kind::CLIENT
            };
            let (a, b) = (i as i64, 2 * depth as i64 - i as i64);
            f.push(SpanSpec::new(1, i + 1, i, svc, k, a, b));
        }
        f
    }

    #[test]
    fn deep_chain_trace_analyzes_in_linear_time() {
        // Each request's walk covers its own region only: the spans it descends into over
        // all requests stay a small multiple of the trace, not the sum of subtree sizes
        // (depth² / 4 = 4 million here).
        let depth = 4_000;
        let f = chain(depth);
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let g = build_graph(&t, &f.links());
        let w = windows(&t, None, None);
        let (mut acc, mut s) = (Acc::default(), Scratch::default());
        let visited: usize = (0..t.len())
            .filter(|&i| t.is_server(i))
            .map(|i| add_request(&t, &g, &w, &t.start, i, &mut acc, &mut s))
            .sum();
        let judged = (0..t.len())
            .filter(|&i| t.is_server(i) && window_of(&w, t.start[i]).is_some())
            .count();
        assert!(judged >= depth as usize / 2 - 10, "{judged}");
        assert_eq!(visited, judged, "one span per request");
        // The split is unchanged: a request's own time plus its wait is its duration.
        let rp = request_paths(&t, &g, &w, &t.start);
        let a = rp.service(t.services.get("a").unwrap());
        let waits: i64 = a.waits.iter().map(|w| w.1[0]).sum();
        assert_eq!(a.own_ns[0] + waits, a.dur_ns[0]);
    }

    #[test]
    fn api_latency_rise_is_wait_on_db() {
        let f = scenario(&Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        });
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let g = build_graph(&t, &f.links());
        let rp = request_paths(&t, &g, &windows(&t, None, None), &t.start);
        let api = rp.service(t.services.get("api").unwrap());
        let db = g.nodes.get("db").unwrap();
        let d_dur = api.mean_ms(api.dur_ns, 1).unwrap() - api.mean_ms(api.dur_ns, 0).unwrap();
        let wait = api.wait_on(db);
        let d_db = api.mean_ms(wait, 1).unwrap() - api.mean_ms(wait, 0).unwrap();
        assert!(
            d_dur > 20.0 && d_db / d_dur > 0.9,
            "Δ {d_dur} ms, db {d_db} ms"
        );
        let sum: i64 = api.own_ns[1] + api.waits.iter().map(|w| w.1[1]).sum::<i64>();
        assert_eq!(sum, api.dur_ns[1]);
    }
}
