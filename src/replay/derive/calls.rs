//! Call templates: what a visit to a service calls, seen on its successful baseline
//! requests. Per callee, the number of logical calls per visit (attempts grouped) gives
//! `count` (its 99th percentile) and `p` (mean / count); calls that overlap in time make
//! the service's calls one parallel group; callees are ordered by when they are first
//! called.

use super::frame::round;
use crate::analyze::attempts::Attempts;
use crate::analyze::graph::CallGraph;
use crate::analyze::stats::quantile;
use crate::analyze::table::SpanTable;
use crate::model::window::Window;

/// A service's calls are one parallel group when at least this share of its visits with
/// two or more calls had calls overlapping in time.
pub const PARALLEL_SHARE: f64 = 0.5;
/// The visit-count percentile used as `count` (the odd visit looping more is noise).
pub const COUNT_QUANTILE: f64 = 0.99;

/// One callee of a service's template.
#[derive(Debug, Clone, PartialEq)]
pub struct Callee {
    /// Graph node id of the callee.
    pub node: u32,
    pub count: u32,
    pub p: f64,
    /// Mean logical calls per visit.
    pub mean: f64,
    /// Mean offset of its first call from the visit's start (ns), for ordering.
    offset_ns: f64,
}

/// One call template (`variants` in the model): the calls a share of the visits make.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    pub name: String,
    pub weight: f64,
    /// (callee node, logical calls) in the order the visits made them.
    pub calls: Vec<(u32, u32)>,
    pub parallel: bool,
}

/// The call template of one service.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Template {
    /// Every callee with its mean calls per visit (the whole service).
    pub callees: Vec<Callee>,
    pub parallel: bool,
    /// Visits the template was learnt from.
    pub visits: u64,
    /// Distinct call templates with their frequencies, when a few of them explain the
    /// visits (else empty and `callees` with independent probabilities stand).
    pub variants: Vec<Variant>,
}

/// At most this many call templates per service…
pub const MAX_VARIANTS: usize = 8;
/// …which must explain at least this share of the visits (the rest are dropped).
pub const VARIANT_COVERAGE: f64 = 0.95;

/// What a visit called: (callee node, logical calls), sorted by node.
type Signature = Vec<(u32, u32)>;

/// Logical calls of one visit: (callee node, first start, last end), in start order.
type VisitCalls = Vec<(u32, i64, i64)>;

/// The template of every instrumented service (indexed by service id).
pub fn templates(t: &SpanTable, g: &CallGraph, a: &Attempts, w: &Window) -> Vec<Template> {
    let mut visits: Vec<Vec<VisitCalls>> = vec![Vec::new(); t.services.len()];
    for i in (0..t.len()).filter(|&i| t.is_server(i) && !t.is_error(i)) {
        if w.contains(t.start[i]) {
            visits[t.service[i] as usize].push(visit_calls(t, g, a, i));
        }
    }
    visits.iter().map(|v| template(v, g)).collect()
}

/// The first attempts made under server row `s` (through same-service INTERNAL spans).
fn visit_calls(t: &SpanTable, g: &CallGraph, a: &Attempts, s: usize) -> VisitCalls {
    let mut out = Vec::new();
    let mut stack: Vec<u32> = t.children(s).to_vec();
    while let Some(c) = stack.pop() {
        let c = c as usize;
        if t.service[c] != t.service[s] {
            continue;
        }
        if t.is_client(c) {
            if let Some(ci) = g.call_of_client(c).filter(|&ci| a.ordinal[ci] == 0) {
                let members = &a.members[a.group[ci] as usize];
                let last = members
                    .last()
                    .map_or(c, |&m| g.calls[m as usize].client as usize);
                out.push((
                    g.calls[ci].callee,
                    t.start[c] - t.start[s],
                    t.end[last] - t.start[s],
                ));
            }
        } else if !t.is_server(c) {
            stack.extend_from_slice(t.children(c));
        }
    }
    out.sort_unstable_by_key(|&(n, s, _)| (s, n));
    out
}

fn template(visits: &[VisitCalls], g: &CallGraph) -> Template {
    let n = visits.len();
    let mut nodes: Vec<u32> = visits.iter().flatten().map(|c| c.0).collect();
    nodes.sort_unstable();
    nodes.dedup();
    let mut callees: Vec<Callee> = nodes.iter().map(|&node| callee(visits, node)).collect();
    callees.retain(|c| c.count > 0);
    callees.sort_by(|x, y| {
        x.offset_ns
            .total_cmp(&y.offset_ns)
            .then_with(|| g.name(x.node).cmp(g.name(y.node)))
    });
    Template {
        callees,
        parallel: parallel(visits),
        visits: n as u64,
        variants: variants(visits),
    }
}

/// Visits grouped by what they called (callee, count); the groups become call templates
/// when there are several and a few explain nearly every visit.
fn variants(visits: &[VisitCalls]) -> Vec<Variant> {
    let mut groups: std::collections::BTreeMap<Signature, Vec<usize>> = Default::default();
    for (i, v) in visits.iter().enumerate() {
        let mut sig: Vec<(u32, u32)> = Vec::new();
        for c in v {
            match sig.iter_mut().find(|s| s.0 == c.0) {
                Some(s) => s.1 += 1,
                None => sig.push((c.0, 1)),
            }
        }
        sig.sort_unstable();
        groups.entry(sig).or_default().push(i);
    }
    let mut ranked: Vec<(Signature, Vec<usize>)> = groups.into_iter().collect();
    ranked.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    ranked.truncate(MAX_VARIANTS);
    let covered: usize = ranked.iter().map(|g| g.1.len()).sum();
    if ranked.len() < 2 || (covered as f64) < VARIANT_COVERAGE * visits.len() as f64 {
        return Vec::new();
    }
    ranked
        .into_iter()
        .enumerate()
        .map(|(k, (sig, members))| {
            let group: Vec<VisitCalls> = members.iter().map(|&i| visits[i].clone()).collect();
            Variant {
                name: format!("t{}", k + 1),
                weight: round(members.len() as f64 / covered as f64, 4),
                calls: ordered(&sig, &group[0]),
                parallel: parallel(&group),
            }
        })
        .collect()
}

/// The signature's callees in the order of a visit's first call to each.
fn ordered(sig: &[(u32, u32)], visit: &VisitCalls) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(sig.len());
    for c in visit {
        if !out.iter().any(|o| o.0 == c.0) {
            if let Some(&s) = sig.iter().find(|s| s.0 == c.0) {
                out.push(s);
            }
        }
    }
    out
}

fn callee(visits: &[VisitCalls], node: u32) -> Callee {
    let mut counts: Vec<f64> = Vec::with_capacity(visits.len());
    let (mut offset, mut seen) = (0.0, 0u64);
    for v in visits {
        let k = v.iter().filter(|c| c.0 == node).count();
        counts.push(k as f64);
        if let Some(first) = v.iter().find(|c| c.0 == node) {
            offset += first.1 as f64;
            seen += 1;
        }
    }
    let mean = counts.iter().sum::<f64>() / counts.len().max(1) as f64;
    let count = quantile(&mut counts, COUNT_QUANTILE).unwrap_or(0.0).ceil() as u32;
    let count = count.max(u32::from(mean > 0.0));
    Callee {
        node,
        count,
        p: if count == 0 {
            0.0
        } else {
            round((mean / count as f64).min(1.0), 4)
        },
        mean,
        offset_ns: offset / seen.max(1) as f64,
    }
}

/// Whether most visits that made several calls made some of them at the same time.
fn parallel(visits: &[VisitCalls]) -> bool {
    let multi: Vec<&VisitCalls> = visits.iter().filter(|v| v.len() >= 2).collect();
    if multi.is_empty() {
        return false;
    }
    let overlapping = multi
        .iter()
        .filter(|v| v.windows(2).any(|w| w[1].1 < w[0].2))
        .count();
    overlapping as f64 >= PARALLEL_SHARE * multi.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_probabilities_from_visits() {
        // 3 visits calling node 7 twice in sequence, 1 visit calling it once.
        let seq = vec![(7, 0, 10), (7, 11, 20)];
        let visits = vec![seq.clone(), seq.clone(), seq, vec![(7, 0, 10)]];
        let c = callee(&visits, 7);
        assert_eq!(c.count, 2);
        assert!((c.p - 0.875).abs() < 1e-9, "{}", c.p);
        assert!(!parallel(&visits));
        let par = vec![vec![(1, 0, 10), (2, 1, 12)], vec![(1, 0, 10), (2, 2, 9)]];
        assert!(parallel(&par));
    }

    #[test]
    fn distinct_call_sets_become_weighted_templates() {
        let browse = vec![(5, 0, 10), (6, 11, 20)];
        let buy = vec![(7, 0, 10), (7, 11, 20)];
        let mut visits = vec![browse.clone(), browse.clone(), browse, buy];
        let v = variants(&visits);
        assert_eq!(v.len(), 2);
        assert_eq!(
            (v[0].weight, v[0].calls.clone()),
            (0.75, vec![(5, 1), (6, 1)])
        );
        assert_eq!(v[1].calls, vec![(7, 2)]);
        visits.truncate(3);
        assert!(variants(&visits).is_empty(), "one template is no variant");
    }
}
