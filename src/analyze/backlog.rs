//! Queue evidence per service per bucket, each series naming where it came from, strongest
//! kind first: a queue-depth field in the logs, a queue-wait field in the logs, messaging
//! lag (consumer start − producer end), the wait before service (server span start − client
//! span start), and in-flight server spans (= cumulative arrivals − completions, the
//! backlog(t) of the spans that were kept).
//!
//! The `queue_growth` and `metastable_overload` detectors read these series, and the report
//! charts them ("queue depth / wait / in-flight over time where there is evidence").

use std::collections::BTreeMap;

use polars::prelude::{DataFrame, DataType};

use super::graph::CallGraph;
use super::incident::Windows;
use super::logs::{i64s, strs};
use super::series::Series;
use super::services::ServiceStats;
use super::table::SpanTable;
use crate::model::columns::{self as col, kind};

/// Log fields read as a queue depth (items waiting), as loggers and our simulator write them.
pub const DEPTH_FIELDS: [&str; 7] = [
    "queue_depth",
    "queue_size",
    "queue_length",
    "queue_len",
    "backlog",
    "consumer_lag",
    "pending",
];
/// Log fields read as time spent waiting in a queue, in milliseconds.
pub const WAIT_FIELDS: [&str; 4] = ["queue_ms", "queue_time_ms", "queue_wait_ms", "wait_ms"];

/// The kinds of queue evidence, strongest first (their declaration order, which `Ord` follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// Items waiting, from a log field: the queue itself, unsampled.
    LogDepth,
    /// Time waited in the queue, from a log field (ms).
    LogWait,
    /// Consumer start − producer end (ms): time a message sat in the broker.
    MessagingLag,
    /// Server span start − client span start (ms): time a request waited before service.
    ServerWait,
    /// Server spans active at the bucket's end (sampled spans only).
    InFlight,
}

impl QueueKind {
    /// Snake-case name (as serialised).
    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::LogDepth => "log_depth",
            QueueKind::LogWait => "log_wait",
            QueueKind::MessagingLag => "messaging_lag",
            QueueKind::ServerWait => "server_wait",
            QueueKind::InFlight => "in_flight",
        }
    }

    /// Unit of the values.
    pub fn unit(self) -> &'static str {
        match self {
            QueueKind::LogDepth | QueueKind::InFlight => "items",
            _ => "ms",
        }
    }
}

/// One series of queue evidence for one service.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct QueueSeries {
    pub service: String,
    pub kind: QueueKind,
    /// Where the values come from, e.g. `logs.queue_depth` or `spans: server − client start`.
    pub source: String,
    pub unit: &'static str,
    /// Per bucket: the maximum for a depth, the mean for a wait, the level for in-flight
    /// (`None` where the bucket has no sample).
    pub values: Series<Option<f64>>,
    /// Samples behind each value.
    pub samples: Series<u32>,
}

/// Every queue series found, ordered by service name, then strongest kind first.
pub fn queue_evidence(
    t: &SpanTable,
    g: &CallGraph,
    services: &[ServiceStats],
    logs: &DataFrame,
    w: &Windows,
) -> Vec<QueueSeries> {
    let mut out = log_series(logs, w);
    out.extend(span_wait_series(t, g, w));
    out.extend(services.iter().map(in_flight_series));
    out.sort_by(|a, b| (&a.service, a.kind, &a.source).cmp(&(&b.service, b.kind, &b.source)));
    out
}

/// Per-bucket accumulator: sum, max and count.
#[derive(Debug, Clone, Copy, Default)]
struct Acc {
    sum: f64,
    max: f64,
    n: u32,
}

impl Acc {
    fn add(&mut self, v: f64) {
        self.max = if self.n == 0 { v } else { self.max.max(v) };
        self.sum += v;
        self.n += 1;
    }
}

/// Bucketed accumulators of one series: a short list of (bucket, acc) while it has few
/// buckets, a full row once it has more than [`SPARSE_BUCKETS`]. A callee seen in a few
/// buckets of a thousand (10^5 services, one call each) costs those few; a busy one gets
/// its row after a handful of samples, so the common case stays an index per sample.
#[derive(Debug, Default)]
struct Accs {
    row: Vec<Acc>,
    few: Vec<(usize, Acc)>,
}

/// Past this many buckets a linear scan of the list costs more than the row.
const SPARSE_BUCKETS: usize = 16;

impl Accs {
    /// The accumulator of bucket `k` of `buckets`.
    fn at(&mut self, k: usize, buckets: usize) -> &mut Acc {
        if self.row.is_empty() {
            if let Some(i) = self.few.iter().position(|e| e.0 == k) {
                return &mut self.few[i].1;
            }
            if self.few.len() < SPARSE_BUCKETS {
                self.few.push((k, Acc::default()));
                return &mut self.few.last_mut().expect("just pushed").1;
            }
            self.row = self.dense(buckets);
        }
        &mut self.row[k]
    }

    /// The full row.
    fn dense(&mut self, buckets: usize) -> Vec<Acc> {
        if !self.row.is_empty() {
            return std::mem::take(&mut self.row);
        }
        let mut v = vec![Acc::default(); buckets];
        for (k, a) in self.few.drain(..) {
            v[k] = a;
        }
        v
    }
}

/// Bucketed accumulators of one (service, kind, source).
type Groups = BTreeMap<(String, QueueKind, String), Accs>;

fn finish(groups: Groups, buckets: usize) -> Vec<QueueSeries> {
    let dense = |mut sparse: Accs| sparse.dense(buckets);
    groups
        .into_iter()
        .map(|(key, sparse)| (key, dense(sparse)))
        .map(|((service, kind, source), accs)| QueueSeries {
            service,
            kind,
            source,
            unit: kind.unit(),
            values: accs
                .iter()
                .map(|a| {
                    let v = if kind == QueueKind::LogDepth {
                        a.max
                    } else {
                        a.sum / f64::from(a.n.max(1))
                    };
                    (a.n > 0).then_some(v)
                })
                .collect::<Vec<_>>()
                .into(),
            samples: accs.iter().map(|a| a.n).collect::<Vec<_>>().into(),
        })
        .collect()
}

/// Queue depth and wait fields of the logs frame, per service.
fn log_series(logs: &DataFrame, w: &Windows) -> Vec<QueueSeries> {
    let (Some(times), Some(service)) = (i64s(logs, col::TIME_NS), strs(logs, col::SERVICE)) else {
        return Vec::new();
    };
    let fields = DEPTH_FIELDS
        .iter()
        .map(|f| (*f, QueueKind::LogDepth))
        .chain(WAIT_FIELDS.iter().map(|f| (*f, QueueKind::LogWait)));
    let mut groups = Groups::new();
    for (field, kind) in fields {
        let Some(values) = numbers(logs, field) else {
            continue;
        };
        let mut by_service: BTreeMap<&str, Accs> = BTreeMap::new();
        for ((t, s), v) in times.iter().zip(&service).zip(values) {
            let (Some(t), Some(s), Some(v)) = (t, s, v) else {
                continue;
            };
            if v.is_finite() && v >= 0.0 {
                by_service
                    .entry(s.as_str())
                    .or_default()
                    .at(w.buckets.index(*t), w.buckets.count)
                    .add(v);
            }
        }
        for (s, accs) in by_service {
            groups.insert((s.to_string(), kind, format!("logs.{field}")), accs);
        }
    }
    finish(groups, w.buckets.count)
}

/// Wait before service (CLIENT → SERVER) and messaging lag (PRODUCER → CONSUMER), per callee.
fn span_wait_series(t: &SpanTable, g: &CallGraph, w: &Windows) -> Vec<QueueSeries> {
    let mut by_callee: BTreeMap<(u32, QueueKind), Accs> = BTreeMap::new();
    for call in &g.calls {
        let Some(srv) = call.server_row() else {
            continue;
        };
        let cl = call.client as usize;
        let (kind, from) = if i32::from(t.kind[cl]) == kind::PRODUCER {
            (QueueKind::MessagingLag, t.end[cl])
        } else {
            (QueueKind::ServerWait, t.start[cl])
        };
        let wait_ms = (t.start[srv] - from).max(0) as f64 / 1e6;
        by_callee
            .entry((t.service[srv], kind))
            .or_default()
            .at(w.buckets.index(t.start[cl]), w.buckets.count)
            .add(wait_ms);
    }
    let source = |k: QueueKind| match k {
        QueueKind::MessagingLag => "spans: consumer start − producer end",
        _ => "spans: server start − client start",
    };
    let groups: Groups = by_callee
        .into_iter()
        .map(|((svc, k), accs)| {
            let key = (t.services.name(svc).to_string(), k, source(k).to_string());
            (key, accs)
        })
        .collect();
    finish(groups, w.buckets.count)
}

fn in_flight_series(s: &ServiceStats) -> QueueSeries {
    QueueSeries {
        service: s.name.clone(),
        kind: QueueKind::InFlight,
        source: "spans: cumulative arrivals − completions".into(),
        unit: QueueKind::InFlight.unit(),
        // A level: an empty bucket holds 0 in flight, so only the busy stretch is stored.
        values: Series::with_fill(
            s.series
                .in_flight
                .iter()
                .map(|&v| Some(f64::from(v)))
                .collect(),
            Some(0.0),
        ),
        samples: s.series.arrivals.clone(),
    }
}

/// A numeric column as floats (`None` when absent or not numeric: a field logged as text).
fn numbers(df: &DataFrame, name: &str) -> Option<Vec<Option<f64>>> {
    let c = df.column(name).ok()?;
    if !c.dtype().is_primitive_numeric() {
        return None;
    }
    let c = c.cast(&DataType::Float64).ok()?;
    Some(c.f64().ok()?.iter().collect())
}

/// Test data: the testkit scenario plus one log record per second carrying a queue field.
#[cfg(test)]
pub mod testdata {
    use polars::prelude::{Column, DataType};

    use crate::analyze::testkit::{scenario, Scenario, T0};
    use crate::ingest::Dataset;
    use crate::model::window::NS_PER_S;

    /// The scenario's dataset with `service` logging `field = depth(second)` once a second
    /// (`None`: no field on that record).
    pub fn with_queue_logs(
        sc: &Scenario,
        service: &str,
        field: &str,
        depth: impl Fn(i64) -> Option<i64>,
    ) -> Dataset {
        let mut f = scenario(sc);
        let before = f.logs.len();
        for s in 0..sc.duration_s {
            let at = T0 + s * NS_PER_S + NS_PER_S / 2;
            f.logs
                .push((at, service.to_string(), 9, "request completed".into()));
        }
        let values: Vec<Option<i64>> = (0..f.logs.len())
            .map(|i| (i >= before).then(|| depth((i - before) as i64)).flatten())
            .collect();
        let mut data = f.dataset();
        let col = Column::new(field.into(), values)
            .cast(&DataType::Int64)
            .unwrap();
        data.logs.with_column(col).unwrap();
        data
    }

    /// A db queue of ~2 that grows by `rise`/s in the fault window (240–420 s) and then
    /// shrinks by `drain`/s (0: it stays).
    pub fn db_queue(rise: i64, drain: i64) -> impl Fn(i64) -> Option<i64> {
        move |s| {
            let base = 2 + s % 3;
            let peak = base + rise * 180;
            Some(match s {
                ..240 => base,
                240..420 => base + rise * (s - 240),
                _ => (peak - drain * (s - 420)).max(base),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use polars::prelude::Column;

    use super::testdata::{db_queue, with_queue_logs};
    use super::*;
    use crate::analyze::testkit::{scenario, Scenario};
    use crate::analyze::{analyze, AnalyzeOptions};

    fn faulty() -> Scenario {
        Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        }
    }

    fn series<'a>(q: &'a [QueueSeries], svc: &str, kind: QueueKind) -> &'a QueueSeries {
        q.iter()
            .find(|s| s.service == svc && s.kind == kind)
            .unwrap()
    }

    #[test]
    fn logged_depth_is_bucketed_by_its_maximum_and_named() {
        let data = with_queue_logs(&faulty(), "db", DEPTH_FIELDS[0], db_queue(20, 0));
        let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
        let q = series(&a.queues, "db", QueueKind::LogDepth);
        assert_eq!(q.source, "logs.queue_depth");
        assert_eq!(q.unit, "items");
        let b = &a.windows.buckets;
        let at = |s: i64| q.values[b.index(b.origin_ns + s * crate::model::window::NS_PER_S)];
        assert!(at(100).unwrap() <= 4.0);
        assert!(at(419).unwrap() >= 3000.0, "{:?}", at(419));
        // Strongest first within a service: log depth before the span-based kinds.
        let kinds: Vec<QueueKind> = a
            .queues
            .iter()
            .filter(|s| s.service == "db")
            .map(|s| s.kind)
            .collect();
        assert_eq!(kinds.first(), Some(&QueueKind::LogDepth));
        assert_eq!(kinds.last(), Some(&QueueKind::InFlight));
    }

    #[test]
    fn wait_before_service_comes_from_client_and_server_starts() {
        let data = scenario(&faulty()).dataset();
        let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
        let q = series(&a.queues, "db", QueueKind::ServerWait);
        // testkit: db's server span starts 50–150 µs after api's client span.
        let waits: Vec<f64> = q.values.iter().flatten().copied().collect();
        assert!(
            waits.iter().all(|&w| (0.04..=0.16).contains(&w)),
            "{waits:?}"
        );
        assert_eq!(
            q.samples.iter().sum::<u32>() as u64,
            a.edges
                .iter()
                .find(|e| e.callee == "db")
                .unwrap()
                .total
                .attempts
        );
        assert!(a.queues.iter().all(|s| s.kind != QueueKind::LogDepth));
    }

    #[test]
    fn a_depth_logged_as_text_is_not_evidence() {
        let mut data = with_queue_logs(&faulty(), "db", "queue_size", db_queue(20, 0));
        let n = data.logs.height();
        let text = Column::new("queue_depth".into(), vec![Some("deep"); n]);
        data.logs.with_column(text).unwrap();
        let a = analyze(&data, &AnalyzeOptions::default()).unwrap();
        let depth: Vec<&str> = a
            .queues
            .iter()
            .filter(|s| s.kind == QueueKind::LogDepth)
            .map(|s| s.source.as_str())
            .collect();
        assert_eq!(depth, ["logs.queue_size"]);
    }
}
