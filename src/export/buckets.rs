//! `analyze --export DIR`: the per-bucket statistics of the analysis as Parquet frames,
//! `service_buckets.parquet` (one row per service and bucket) and `edge_buckets.parquet`
//! (one row per caller → callee edge and bucket), for notebooks and dashboards.

use anyhow::{Context, Result};
use polars::prelude::{Column, DataFrame};

use crate::analyze::series::Series;
use crate::analyze::Analysis;
use crate::write::Folder;

/// The files of [`export_buckets`].
pub const FILES: [&str; 2] = ["service_buckets.parquet", "edge_buckets.parquet"];

/// Writes `service_buckets.parquet` and `edge_buckets.parquet` into the output folder.
pub fn export_buckets(a: &Analysis, dir: &Folder) -> Result<()> {
    let services = service_buckets(a).context("building service_buckets")?;
    super::write_parquet(&services, &dir.stage(FILES[0])?)?;
    let edges = edge_buckets(a).context("building edge_buckets")?;
    super::write_parquet(&edges, &dir.stage(FILES[1])?)
}

/// Bucket start times (Unix ns) repeated once per series.
fn bucket_starts(a: &Analysis, series: usize) -> Vec<i64> {
    let b = &a.windows.buckets;
    (0..series)
        .flat_map(|_| (0..b.count).map(|i| b.start_of(i)))
        .collect()
}

/// Flattens one per-bucket vector of every item, in item order.
fn flat<T: Copy + Default + PartialEq, I>(items: &[I], get: impl Fn(&I) -> &Series<T>) -> Vec<T> {
    items.iter().flat_map(|i| get(i).iter().copied()).collect()
}

/// Each name repeated once per bucket.
fn repeat_names<I>(items: &[I], count: usize, name: impl Fn(&I) -> &str) -> Vec<String> {
    items
        .iter()
        .flat_map(|i| std::iter::repeat_n(name(i).to_string(), count))
        .collect()
}

/// One row per (service, bucket): requests, errors, latency, self time, child wait,
/// in-flight, arrivals, completions.
pub fn service_buckets(a: &Analysis) -> Result<DataFrame> {
    let s = &a.services;
    let n = a.windows.buckets.count;
    let columns = vec![
        Column::new("service".into(), repeat_names(s, n, |x| &x.name)),
        Column::new("bucket_start_ns".into(), bucket_starts(a, s.len())),
        Column::new("requests".into(), flat(s, |x| &x.series.requests)),
        Column::new("errors".into(), flat(s, |x| &x.series.errors)),
        Column::new("p50_ms".into(), flat(s, |x| &x.series.p50_ms)),
        Column::new("p99_ms".into(), flat(s, |x| &x.series.p99_ms)),
        Column::new("self_ms".into(), flat(s, |x| &x.series.self_ms)),
        Column::new("child_wait_ms".into(), flat(s, |x| &x.series.child_wait_ms)),
        Column::new("in_flight".into(), flat(s, |x| &x.series.in_flight)),
        Column::new("arrivals".into(), flat(s, |x| &x.series.arrivals)),
        Column::new("completions".into(), flat(s, |x| &x.series.completions)),
    ];
    Ok(DataFrame::new(n * s.len(), columns)?)
}

/// One row per (edge, bucket): logical calls, attempts, retries, errors, timeouts, latency.
pub fn edge_buckets(a: &Analysis) -> Result<DataFrame> {
    let e = &a.edges;
    let n = a.windows.buckets.count;
    let columns = vec![
        Column::new("caller".into(), repeat_names(e, n, |x| &x.caller)),
        Column::new("callee".into(), repeat_names(e, n, |x| &x.callee)),
        Column::new("bucket_start_ns".into(), bucket_starts(a, e.len())),
        Column::new("calls".into(), flat(e, |x| &x.series.calls)),
        Column::new("attempts".into(), flat(e, |x| &x.series.attempts)),
        Column::new("retries".into(), flat(e, |x| &x.series.retries)),
        Column::new("errors".into(), flat(e, |x| &x.series.errors)),
        Column::new("timeouts".into(), flat(e, |x| &x.series.timeouts)),
        Column::new("p50_ms".into(), flat(e, |x| &x.series.p50_ms)),
        Column::new("p99_ms".into(), flat(e, |x| &x.series.p99_ms)),
    ];
    Ok(DataFrame::new(n * e.len(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{scenario, Scenario};
    use crate::analyze::{analyze, AnalyzeOptions};

    fn analysis() -> Analysis {
        let sc = Scenario {
            duration_s: 300,
            fault: Some((150, 200)),
            ..Default::default()
        };
        analyze(&scenario(&sc).dataset(), &AnalyzeOptions::default()).unwrap()
    }

    #[test]
    fn one_row_per_service_and_bucket_with_the_series_values() {
        let a = analysis();
        let df = service_buckets(&a).unwrap();
        let n = a.windows.buckets.count;
        assert_eq!(df.height(), a.services.len() * n);
        let requests: u64 = a
            .services
            .iter()
            .flat_map(|s| &s.series.requests)
            .map(|&r| u64::from(r))
            .sum();
        let col = df.column("requests").unwrap().u32().unwrap();
        assert_eq!(col.iter().flatten().map(u64::from).sum::<u64>(), requests);
        let first = df.column("service").unwrap().str().unwrap().get(0);
        assert_eq!(first, Some(a.services[0].name.as_str()));
    }

    #[test]
    fn edge_rows_follow_the_edges() {
        let a = analysis();
        let df = edge_buckets(&a).unwrap();
        assert_eq!(df.height(), a.edges.len() * a.windows.buckets.count);
        let dir = tempfile::tempdir().unwrap();
        let mut claims = crate::write::Claims::new(&[]);
        let d = claims
            .folder("--export", dir.path(), false, &FILES)
            .unwrap();
        let out = claims.open().unwrap();
        export_buckets(&a, out.folder(d)).unwrap();
        out.commit().unwrap();
        assert!(dir.path().join("edge_buckets.parquet").exists());
        assert!(dir.path().join("service_buckets.parquet").exists());
    }
}
