//! Error origins: per error trace, where the failure started.
//!
//! The origin is the deepest erroring span whose own children all succeeded (or that has
//! none). When that span is a CLIENT/PRODUCER call — the caller gave up (timeout) or got an
//! error the callee did not record — the failure is charged to the callee, whose slowness or
//! fault it reports. Also: for each service, how many of its failed requests had an origin
//! below it in another service.

use super::graph::CallGraph;
use super::table::SpanTable;
use crate::model::window::Window;

/// One origin span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub row: u32,
    /// Node (service or virtual) the failure is charged to.
    pub node: u32,
    /// The origin was a caller-side timeout.
    pub timeout: bool,
}

/// Errors of one service inside a window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ServiceErrors {
    /// Failed requests (SERVER/CONSUMER spans with error status).
    pub errors: u64,
    /// …of which had an origin below them charged to another node.
    pub from_below: u64,
}

/// Error origins inside one window.
#[derive(Debug, Clone, Default)]
pub struct ErrorOrigins {
    pub window: Option<Window>,
    pub origins: Vec<Origin>,
    /// Traces with at least one error span.
    pub error_traces: u64,
    /// Indexed by service id.
    pub per_service: Vec<ServiceErrors>,
    /// Origins charged to each node id (a lookup per service, not a scan of every origin).
    per_node: Vec<u64>,
}

impl ErrorOrigins {
    /// Origins charged to `node`.
    pub fn count_for(&self, node: u32) -> u64 {
        self.per_node.get(node as usize).copied().unwrap_or(0)
    }
}

/// Finds the origins of errors whose span starts in `win`.
pub fn error_origins(t: &SpanTable, g: &CallGraph, win: Window) -> ErrorOrigins {
    let per_trace: Vec<(Vec<Origin>, bool)> = t.par_traces(|rows| {
        let origins: Vec<Origin> = rows
            .clone()
            .filter(|&i| t.is_error(i) && win.contains(t.start[i]))
            .filter(|&i| !t.children(i).iter().any(|&c| t.is_error(c as usize)))
            .map(|i| charge(t, g, i))
            .collect();
        let any_error = rows
            .clone()
            .any(|i| t.is_error(i) && win.contains(t.start[i]));
        (origins, any_error)
    });
    let mut out = ErrorOrigins {
        window: Some(win),
        per_service: vec![ServiceErrors::default(); t.services.len()],
        ..Default::default()
    };
    for (o, any) in per_trace {
        out.error_traces += u64::from(any);
        out.origins.extend(o);
    }
    out.per_node = vec![0; g.nodes.len()];
    for o in &out.origins {
        if let Some(n) = out.per_node.get_mut(o.node as usize) {
            *n += 1;
        }
    }
    count_from_below(t, g, win, &mut out.per_service);
    out
}

fn charge(t: &SpanTable, g: &CallGraph, i: usize) -> Origin {
    let callee = g.call_of_client(i).map(|c| g.calls[c].callee);
    match callee {
        Some(node) if t.is_client(i) => Origin {
            row: i as u32,
            node,
            timeout: t.timeout[i],
        },
        _ => Origin {
            row: i as u32,
            node: logged_callee(t, g, i).unwrap_or(t.service[i]),
            timeout: false,
        },
    }
}

/// When all that says row `i` failed is an ERROR log, and the message names exactly one of
/// the nodes the request called, that dependency is where the failure came from: a service
/// that returns a wrong value shows up only as an error its caller logs about it.
fn logged_callee(t: &SpanTable, g: &CallGraph, i: usize) -> Option<u32> {
    let msg = t.logged_error(i)?.to_lowercase();
    let mut named: Vec<u32> = Vec::new();
    let mut stack: Vec<usize> = t.children(i).iter().map(|&c| c as usize).collect();
    while let Some(c) = stack.pop() {
        if t.is_client(c) {
            if let Some(ci) = g.call_of_client(c) {
                let node = g.calls[ci].callee;
                if !named.contains(&node) && mentions(&msg, g.name(node)) {
                    named.push(node);
                }
            }
        } else if t.service[c] == t.service[i] {
            stack.extend(t.children(c).iter().map(|&x| x as usize));
        }
    }
    (named.len() == 1).then(|| named[0])
}

/// Whether `msg` (lower case) holds `name` as a whole word.
fn mentions(msg: &str, name: &str) -> bool {
    let name = name.to_lowercase();
    if name.is_empty() {
        return false;
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    msg.match_indices(&name).any(|(at, _)| {
        let before = msg[..at].chars().next_back().is_none_or(|c| !word(c));
        let after = msg[at + name.len()..]
            .chars()
            .next()
            .is_none_or(|c| !word(c));
        before && after
    })
}

/// For each failed request, whether an origin charged to another node lies below it.
fn count_from_below(t: &SpanTable, g: &CallGraph, win: Window, out: &mut [ServiceErrors]) {
    let hits: Vec<Vec<(u32, bool)>> = t.par_traces(|rows| {
        rows.filter(|&i| t.is_server(i) && t.is_error(i) && win.contains(t.start[i]))
            .map(|i| (t.service[i], origin_below(t, g, i)))
            .collect()
    });
    for (svc, below) in hits.into_iter().flatten() {
        let e = &mut out[svc as usize];
        e.errors += 1;
        e.from_below += u64::from(below);
    }
}

fn origin_below(t: &SpanTable, g: &CallGraph, s: usize) -> bool {
    let mut stack: Vec<usize> = t.children(s).iter().map(|&c| c as usize).collect();
    while let Some(c) = stack.pop() {
        if !t.is_error(c) {
            continue;
        }
        let is_origin = !t.children(c).iter().any(|&g| t.is_error(g as usize));
        if is_origin && charge(t, g, c).node != t.service[s] {
            return true;
        }
        stack.extend(t.children(c).iter().map(|&g| g as usize));
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_log_names_a_dependency_as_a_whole_word() {
        assert!(super::mentions(
            "inventory reservation mismatch",
            "inventory"
        ));
        assert!(super::mentions(
            "bad answer from payments-v2.",
            "payments-v2"
        ));
        assert!(!super::mentions("inventoryx failed", "inventory"));
        assert!(!super::mentions("anything", ""));
    }

    use super::*;
    use crate::analyze::graph::build_graph;
    use crate::analyze::testkit::{Frames, SpanSpec};
    use crate::model::columns::{kind, status};

    fn err(mut s: SpanSpec) -> SpanSpec {
        s.status = status::ERROR;
        s
    }

    #[test]
    fn origin_is_the_deepest_error_and_timeouts_charge_the_callee() {
        let mut f = Frames::default();
        // trace 1: db fails, api and frontend fail above it
        f.push(err(SpanSpec::new(
            1,
            1,
            0,
            "frontend",
            kind::SERVER,
            0,
            100,
        )));
        f.push(err(SpanSpec::new(1, 2, 1, "frontend", kind::CLIENT, 1, 99)));
        f.push(err(SpanSpec::new(1, 3, 2, "api", kind::SERVER, 2, 98)));
        f.push(err(SpanSpec::new(1, 4, 3, "api", kind::CLIENT, 3, 50)));
        f.push(err(SpanSpec::new(1, 5, 4, "db", kind::SERVER, 4, 49)));
        // trace 2: api's call to db times out; db itself succeeded (slowly)
        f.push(err(SpanSpec::new(2, 11, 0, "api", kind::SERVER, 0, 100)));
        let mut c = err(SpanSpec::new(2, 12, 11, "api", kind::CLIENT, 1, 51));
        c.error_type = Some("timeout".into());
        f.push(c);
        f.push(SpanSpec::new(2, 13, 12, "db", kind::SERVER, 2, 90));
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let g = build_graph(&t, &f.links());
        let e = error_origins(&t, &g, Window::new(i64::MIN, i64::MAX));
        let db = t.services.get("db").unwrap();
        let api = t.services.get("api").unwrap();
        assert_eq!(e.origins.len(), 2);
        assert!(e.origins.iter().all(|o| o.node == db));
        assert_eq!(e.origins.iter().filter(|o| o.timeout).count(), 1);
        assert_eq!(e.error_traces, 2);
        assert_eq!(
            e.per_service[api as usize],
            ServiceErrors {
                errors: 2,
                from_below: 2
            }
        );
        assert_eq!(
            e.per_service[db as usize],
            ServiceErrors {
                errors: 1,
                from_below: 0
            }
        );
        assert_eq!(e.count_for(db), 2);
    }
}
