//! The facts every part of the report shares, derived once from the analysis: the time origin
//! of the charts, the entry service, the contagion path, roles by graph node, and how to turn
//! instants into readable times.

use chrono::{DateTime, Utc};
use petgraph::Direction;

use crate::analyze::rootcause::Role;
use crate::analyze::services::ServiceStats;
use crate::analyze::Analysis;
use crate::model::window::{Window, NS_PER_S};

/// What the report knows beyond the analysis itself.
pub struct Facts<'a> {
    pub a: &'a Analysis,
    /// x = 0 of every time chart: the first span's start (Unix ns).
    pub origin_ns: i64,
    /// Index into `a.services` of the entry service (most root SERVER spans).
    pub entry: Option<usize>,
    /// Graph node ids from the top root cause upward to the entry (empty without one).
    pub path: Vec<u32>,
    /// Index into `a.services` of each graph node (`None` for virtual nodes): one lookup
    /// per node instead of a scan of every service.
    node_service: Vec<Option<usize>>,
}

impl<'a> Facts<'a> {
    /// Derives the facts of an analysis.
    pub fn new(a: &'a Analysis) -> Facts<'a> {
        let entry = entry_service(a);
        Facts {
            a,
            origin_ns: a.windows.range.start_ns,
            entry,
            path: contagion_path(a),
            node_service: node_services(a),
        }
    }

    /// Seconds since the first span.
    pub fn secs(&self, t_ns: i64) -> f64 {
        (t_ns - self.origin_ns) as f64 / NS_PER_S as f64
    }

    /// The incident window in chart seconds.
    pub fn incident_s(&self) -> Option<(f64, f64)> {
        self.a
            .windows
            .incident
            .map(|w| (self.secs(w.start_ns), self.secs(w.end_ns)))
    }

    /// Role of a graph node: a service's role; an uninstrumented node is the source when it
    /// tops the root-cause ranking, otherwise healthy.
    pub fn role_of_node(&self, node: u32) -> Role {
        match self.service_of_node(node) {
            Some(k) => self.a.roles.get(k).copied().unwrap_or(Role::Healthy),
            None if self.top_cause() == Some(self.a.graph.name(node)) => Role::Source,
            None => Role::Healthy,
        }
    }

    /// Index into `a.services` of graph node `node` (`None` for virtual nodes).
    pub fn service_of_node(&self, node: u32) -> Option<usize> {
        self.node_service.get(node as usize).copied().flatten()
    }

    /// The role of service `k` (index into `a.services`).
    pub fn role(&self, k: usize) -> Role {
        self.a.roles.get(k).copied().unwrap_or(Role::Healthy)
    }

    /// The best-ranked root cause's name.
    pub fn top_cause(&self) -> Option<&str> {
        self.a.root_causes.first().map(|r| r.service.as_str())
    }

    /// Onset of a graph node: the service's, or the root cause entry's for virtual nodes.
    pub fn onset_of_node(&self, node: u32) -> Option<i64> {
        match self.service_of_node(node) {
            Some(k) => self.a.services[k].onset_ns,
            None => {
                let name = self.a.graph.name(node);
                let rc = self.a.root_causes.iter().find(|r| r.service == name)?;
                rc.onset_ns
            }
        }
    }

    /// The entry service's statistics.
    pub fn entry_stats(&self) -> Option<&'a ServiceStats> {
        self.entry.and_then(|k| self.a.services.get(k))
    }

    /// Names along the contagion path, source first.
    pub fn path_names(&self) -> Vec<&'a str> {
        self.path.iter().map(|&n| self.a.graph.name(n)).collect()
    }
}

/// `12:00:59` (UTC wall clock, seconds).
pub fn clock(t_ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(t_ns)
        .format("%H:%M:%S")
        .to_string()
}

/// `2024-06-01 12:00:59 UTC`.
pub fn instant(t_ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(t_ns)
        .format("%Y-%m-%d %H:%M:%S UTC")
        .to_string()
}

/// `12:00:59 → 12:02:00 UTC (61 s)`.
pub fn span_text(w: &Window) -> String {
    format!(
        "{} → {} UTC ({})",
        clock(w.start_ns),
        clock(w.end_ns),
        duration_text(w.len_ns())
    )
}

/// A duration that reads well: `61 s`, `4 min 10 s`, `2 h 5 min`.
pub fn duration_text(ns: i64) -> String {
    let s = (ns as f64 / NS_PER_S as f64).round() as i64;
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min {} s", s / 60, s % 60),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

/// Index into `a.services` of every graph node id (services are ordered by name, node ids
/// by first sight).
fn node_services(a: &Analysis) -> Vec<Option<usize>> {
    let mut out = vec![None; a.graph.nodes.len()];
    for (k, s) in a.services.iter().enumerate() {
        if let Some(slot) = out.get_mut(s.id as usize) {
            *slot = Some(k);
        }
    }
    out
}

/// The service with the most root SERVER/CONSUMER spans (the system's front door).
fn entry_service(a: &Analysis) -> Option<usize> {
    let t = &a.table;
    let mut roots = vec![0u64; t.services.len()];
    for i in (0..t.len()).filter(|&i| t.is_server(i) && t.parent_of(i).is_none()) {
        if let Some(c) = roots.get_mut(t.service[i] as usize) {
            *c += 1;
        }
    }
    let (id, n) = roots
        .iter()
        .enumerate()
        .max_by(|x, y| x.1.cmp(y.1).then(y.0.cmp(&x.0)))?;
    if *n == 0 {
        return None;
    }
    a.services.iter().position(|s| s.id as usize == id)
}

/// From the top root cause upward: at each step the caller (not healthy, not yet on the
/// path) that departed first; ties by name.
fn contagion_path(a: &Analysis) -> Vec<u32> {
    let Some(top) = a.root_causes.first() else {
        return Vec::new();
    };
    let g = &a.graph;
    let Some(start) = (0..g.nodes.len() as u32).find(|&n| g.name(n) == top.service) else {
        return Vec::new();
    };
    let mut path = vec![start];
    while let Some(next) = next_caller(a, &path) {
        path.push(next);
    }
    path
}

fn next_caller(a: &Analysis, path: &[u32]) -> Option<u32> {
    let g = &a.graph;
    let cur = *path.last()?;
    let idx = *g.node_index.get(cur as usize)?;
    g.graph
        .neighbors_directed(idx, Direction::Incoming)
        .map(|n| g.graph[n])
        .filter(|id| !path.contains(id))
        .filter_map(|id| {
            let k = a.service_index(id)?;
            let hurt = a.roles.get(k).is_some_and(|r| *r != Role::Healthy);
            hurt.then(|| (a.services[k].onset_ns.unwrap_or(i64::MAX), g.name(id), id))
        })
        .min()
        .map(|(_, _, id)| id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::faulty;

    #[test]
    fn entry_is_the_front_door_and_the_path_climbs_from_the_source() {
        let f = Facts::new(faulty());
        assert_eq!(f.entry_stats().map(|s| s.name.as_str()), Some("frontend"));
        assert_eq!(f.path_names(), ["db", "api", "frontend"]);
        let (s, e) = f.incident_s().unwrap();
        assert!(
            (235.0..245.0).contains(&s) && (415.0..425.0).contains(&e),
            "{s} {e}"
        );
    }

    #[test]
    fn durations_read_as_a_person_would_write_them() {
        assert_eq!(duration_text(61 * NS_PER_S), "61 s");
        assert_eq!(duration_text(250 * NS_PER_S), "4 min 10 s");
        assert_eq!(duration_text(7500 * NS_PER_S), "2 h 5 min");
    }
}
