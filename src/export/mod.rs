//! `--export DIR`: the frames as Parquet plus `edges.csv` and `service_rates.csv`.
//!
//! `edges.csv` and `service_rates.csv` follow the definitions of the peer benchmark
//! (`shared/bench/README.md`) so they can be compared with DuckDB or polars directly:
//! a call is a SERVER span whose parent is a CLIENT span of the same trace; `calls` counts
//! those pairs (attempts), `errors` client spans with status 2, `retries` client spans with
//! `resend_count > 0`, `p50_ms`/`p99_ms` the client span duration (linear interpolation);
//! `service_rates.csv` counts SERVER and CONSUMER spans per service and Unix second.

pub mod buckets;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, ParquetCompression, ParquetWriter, PlHashMap};

use crate::ingest::Dataset;
use crate::model::columns as col;
use crate::model::frame::{i32_col, i64_col, quantile_sorted, str_col};
use crate::report::escape;
use crate::write::Folder;

const NS_PER_MS: f64 = 1e6;
const NS_PER_S: i64 = 1_000_000_000;

/// What `--export` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// The four frames as Parquet and the two CSV tables.
    All,
    /// Only `edges.csv` and `service_rates.csv`.
    TablesOnly,
}

/// The files `--export` writes with `contents` (checked before the work starts).
pub fn files(contents: Contents) -> &'static [&'static str] {
    match contents {
        Contents::All => &[
            "edges.csv",
            "service_rates.csv",
            "spans.parquet",
            "events.parquet",
            "links.parquet",
            "logs.parquet",
        ],
        Contents::TablesOnly => &["edges.csv", "service_rates.csv"],
    }
}

/// Writes the frames (unless `TablesOnly`) and the two CSV tables into the output folder.
pub fn export(data: &Dataset, dir: &Folder, contents: Contents) -> Result<()> {
    let frames = [
        ("spans.parquet", &data.spans),
        ("events.parquet", &data.events),
        ("links.parquet", &data.links),
        ("logs.parquet", &data.logs),
    ];
    // The tables (a pass over the spans each) alongside the Parquet files (which encode
    // their columns in parallel themselves).
    let (tables, parquet) = rayon::join(
        || -> Result<()> {
            let (edges, rates) =
                rayon::join(|| edges_csv(&data.spans), || service_rates_csv(&data.spans));
            dir.write("edges.csv", edges?.as_bytes())?;
            dir.write("service_rates.csv", rates?.as_bytes())
        },
        || -> Result<()> {
            if contents == Contents::TablesOnly {
                return Ok(());
            }
            for (name, df) in frames {
                write_parquet(df, &dir.stage(name)?)?;
            }
            Ok(())
        },
    );
    tables.and(parquet)
}

/// Rows per Parquet row group: large enough to compress well, small enough that only one
/// group at a time is copied out of the frame's parse chunks.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// Writes `df` one row group at a time. `ParquetWriter::finish` would first rechunk the whole
/// frame into row groups: a second copy of every column (+450 MB on 1M spans).
pub(crate) fn write_parquet(df: &DataFrame, path: &Path) -> Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let context = || format!("writing {}", path.display());
    let mut writer = ParquetWriter::new(std::io::BufWriter::new(file))
        .with_compression(ParquetCompression::Zstd(None))
        .batched(df.schema())
        .with_context(context)?;
    for offset in (0..df.height()).step_by(ROW_GROUP_ROWS) {
        let mut group = df.slice(offset as i64, ROW_GROUP_ROWS);
        group.rechunk_mut_par();
        writer.write_batch(&group).with_context(context)?;
    }
    writer.finish().with_context(context)?;
    Ok(())
}

/// Per-edge tallies while pairing.
#[derive(Default)]
struct EdgeTally {
    calls: u64,
    errors: u64,
    retries: u64,
    durations_ns: Vec<f64>,
}

/// The bench-compatible edge table as CSV text, sorted by caller, callee.
pub fn edges_csv(spans: &DataFrame) -> Result<String> {
    let tallies = tally_edges(spans)?;
    let mut out = String::from("caller,callee,calls,errors,retries,p50_ms,p99_ms\n");
    for ((caller, callee), mut t) in tallies {
        t.durations_ns.sort_by(f64::total_cmp);
        let q = |p| quantile_sorted(&t.durations_ns, p).unwrap_or(0.0) / NS_PER_MS;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{:.6},{:.6}",
            csv_field(&caller),
            csv_field(&callee),
            t.calls,
            t.errors,
            t.retries,
            q(0.5),
            q(0.99)
        );
    }
    Ok(out)
}

fn tally_edges(spans: &DataFrame) -> Result<BTreeMap<(String, String), EdgeTally>> {
    // Columns as plain vectors once: row lookups across ~100 parse chunks are slow.
    let trace: Vec<Option<&str>> = str_col(spans, col::TRACE_ID)?.iter().collect();
    let span: Vec<Option<&str>> = str_col(spans, col::SPAN_ID)?.iter().collect();
    let parent = str_col(spans, col::PARENT_SPAN_ID)?;
    let service: Vec<&str> = str_col(spans, col::SERVICE)?
        .iter()
        .map(Option::unwrap_or_default)
        .collect();
    let kind: Vec<Option<i32>> = i32_col(spans, col::KIND)?.iter().collect();
    let status = i32_col(spans, col::STATUS_CODE)?;
    let resend = i32_col(spans, col::RESEND_COUNT)?;
    let duration = i64_col(spans, col::DURATION_NS)?;
    let client_status: Vec<Option<i32>> = status.iter().collect();
    let client_resend: Vec<Option<i32>> = resend.iter().collect();
    let client_duration: Vec<Option<i64>> = duration.iter().collect();
    // Client spans by (trace, span id) → row.
    let mut clients: PlHashMap<(&str, &str), usize> =
        PlHashMap::with_capacity_and_hasher(kind.len() / 2, Default::default());
    for (i, k) in kind.iter().enumerate() {
        if let (Some(col::kind::CLIENT), Some(t), Some(s)) = (k, trace[i], span[i]) {
            clients.insert((t, s), i);
        }
    }
    let mut tallies: PlHashMap<(&str, &str), EdgeTally> = PlHashMap::default();
    for (i, p) in parent.iter().enumerate() {
        let (Some(col::kind::SERVER), Some(t), Some(p)) = (kind[i], trace[i], p) else {
            continue;
        };
        let Some(&c) = clients.get(&(t, p)) else {
            continue;
        };
        let tally = tallies.entry((service[c], service[i])).or_default();
        tally.calls += 1;
        tally.errors += u64::from(client_status[c] == Some(col::status::ERROR));
        tally.retries += u64::from(client_resend[c].unwrap_or(0) > 0);
        tally
            .durations_ns
            .push(client_duration[c].unwrap_or(0) as f64);
    }
    Ok(tallies
        .into_iter()
        .map(|((a, b), t)| ((a.to_string(), b.to_string()), t))
        .collect())
}

/// SERVER and CONSUMER spans per (service, Unix second) as CSV text: `service,second,requests`.
pub fn service_rates_csv(spans: &DataFrame) -> Result<String> {
    let service = str_col(spans, col::SERVICE)?;
    let kind = i32_col(spans, col::KIND)?;
    let start = i64_col(spans, col::START_NS)?;
    let mut counts: PlHashMap<(&str, i64), u64> = PlHashMap::default();
    for (k, (s, t)) in kind.iter().zip(service.iter().zip(start.iter())) {
        if matches!(k, Some(col::kind::SERVER | col::kind::CONSUMER)) {
            let second = t.unwrap_or(0).div_euclid(NS_PER_S);
            *counts.entry((s.unwrap_or_default(), second)).or_default() += 1;
        }
    }
    let mut counts: Vec<((&str, i64), u64)> = counts.into_iter().collect();
    counts.sort_unstable();
    let mut out = String::from("service,second,requests\n");
    for ((s, second), n) in counts {
        let _ = writeln!(out, "{},{second},{n}", csv_field(s));
    }
    Ok(out)
}

/// A CSV cell from the input: quoted when needed, never a live spreadsheet formula.
fn csv_field(s: &str) -> String {
    escape::csv(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn spans() -> DataFrame {
        df!(
            col::TRACE_ID => ["t1", "t1", "t1", "t1", "t1"],
            col::SPAN_ID => ["a", "b", "c", "d", "e"],
            col::PARENT_SPAN_ID => [None, Some("a"), Some("b"), Some("a"), Some("d")],
            col::SERVICE => ["web", "web", "db,x", "web", "db,x"],
            col::KIND => [2, 3, 2, 3, 2],
            col::STATUS_CODE => [0, 2, 0, 0, 0],
            col::RESEND_COUNT => [None, None, None, Some(1), None],
            col::START_NS => [0i64, 1_000_000_000, 1_500_000_000, 2_000_000_000, 2_000_000_000],
            col::DURATION_NS => [5_000_000i64, 1_000_000, 500_000, 3_000_000, 1_000_000],
        )
        .unwrap()
    }

    #[test]
    fn edges_pair_server_children_of_client_spans() {
        let csv = edges_csv(&spans()).unwrap();
        assert_eq!(
            csv,
            "caller,callee,calls,errors,retries,p50_ms,p99_ms\n\
             web,\"db,x\",2,1,1,2.000000,2.980000\n"
        );
    }

    #[test]
    fn parquet_round_trips_chunked_and_empty_frames() {
        let dir = tempfile::tempdir().unwrap();
        let mut df = spans();
        for _ in 0..3 {
            df.vstack_mut(&spans()).unwrap();
        }
        assert!(df.first_col_n_chunks() > 1);
        let path = dir.path().join("s.parquet");
        write_parquet(&df, &path).unwrap();
        let back = ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert!(back.equals_missing(&df));
        let empty = df.clear();
        write_parquet(&empty, &path).unwrap();
        let back = ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert_eq!((back.height(), back.width()), (0, df.width()));
    }

    #[test]
    fn csv_cells_cannot_start_a_formula() {
        let mut df = spans();
        let hostile = Column::new(
            col::SERVICE.into(),
            ["=HYPERLINK(\"x\")", "web", "@cmd", "web", "@cmd"],
        );
        df.with_column(hostile).unwrap();
        for csv in [edges_csv(&df).unwrap(), service_rates_csv(&df).unwrap()] {
            for cell in csv.lines().flat_map(|l| l.split(',')) {
                let bare = cell.trim_start_matches('"');
                assert!(
                    !bare.starts_with(['=', '+', '@', '\t', '\r']),
                    "{cell} in\n{csv}"
                );
            }
            assert!(csv.contains("\"'@cmd\""), "{csv}");
        }
    }

    #[test]
    fn service_rates_count_server_spans_per_second() {
        let csv = service_rates_csv(&spans()).unwrap();
        assert_eq!(
            csv,
            "service,second,requests\n\"db,x\",1,1\n\"db,x\",2,1\nweb,0,1\n"
        );
    }
}
