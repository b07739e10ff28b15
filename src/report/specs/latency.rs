//! The latency heatmap at the entry service: time × latency (log scale), each cell counting
//! the entry requests that started in that time slice and took that long.

use super::X_LABEL;
use crate::report::charts::spec::{Chart, ChartFile, Heatmap};
use crate::report::facts::Facts;

/// At most this many time columns (buckets are merged to fit): a cell stays wider than a
/// couple of pixels on a 1100-pixel chart.
pub const MAX_COLUMNS: usize = 240;
/// Latency rows: 24 log-spaced bins give ~1.5× per row over a typical 0.1 ms–10 s range.
pub const LATENCY_ROWS: usize = 24;
/// The lowest latency edge (ms): below this durations are timer noise.
const FLOOR_MS: f64 = 0.01;

/// The heatmap chart at the entry service.
pub fn spec(facts: &Facts) -> Result<ChartFile, String> {
    let Some(entry) = facts.entry_stats() else {
        return Err("no root SERVER spans, so no entry service".into());
    };
    let samples = entry_samples(facts, entry.id);
    let (lo, hi) = samples.iter().fold((f64::INFINITY, 0f64), |(lo, hi), s| {
        (lo.min(s.1), hi.max(s.1))
    });
    if samples.is_empty() {
        return Err("the entry service has no requests".into());
    }
    let y_edges = log_edges(
        lo.max(FLOOR_MS),
        hi.max(lo.max(FLOOR_MS) * 10.0),
        LATENCY_ROWS,
    );
    let b = &facts.a.windows.buckets;
    let merge = b.count.div_ceil(MAX_COLUMNS).max(1);
    let columns = b.count.div_ceil(merge);
    let x_edges: Vec<f64> = (0..=columns)
        .map(|c| facts.secs(b.start_of(c * merge)))
        .collect();
    let mut counts = vec![vec![0u32; LATENCY_ROWS]; columns];
    for (k, ms) in samples {
        let row = y_edges
            .partition_point(|&e| e <= ms)
            .saturating_sub(1)
            .min(LATENCY_ROWS - 1);
        if let Some(col) = counts.get_mut(k / merge) {
            col[row] += 1;
        }
    }
    Ok(ChartFile {
        stem: "latency-heatmap",
        caption: format!(
            "Every request {} served: when it started (x) and how long it took (y, log scale). Darker cells hold more requests; the red frame is the incident. A second band appearing higher up is the incident's latency.",
            entry.name
        ),
        chart: Chart::Heatmap(Heatmap {
            title: format!("Latency of requests at the entry service, {}", entry.name),
            x_label: X_LABEL.into(),
            y_label: "request duration (log scale)".into(),
            x_edges,
            y_edges,
            counts,
            shade: facts.incident_s(),
        }),
    })
}

/// (bucket, duration ms) of every root SERVER span of service `id`.
fn entry_samples(facts: &Facts, id: u32) -> Vec<(usize, f64)> {
    let t = &facts.a.table;
    let b = &facts.a.windows.buckets;
    (0..t.len())
        .filter(|&i| t.service[i] == id && t.is_server(i) && t.parent_of(i).is_none())
        .map(|i| (b.index(t.start[i]), t.duration(i) as f64 / 1e6))
        .collect()
}

/// `n + 1` geometric edges from `lo` to `hi`.
pub fn log_edges(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (a, z) = (lo.ln(), hi.ln());
    (0..=n)
        .map(|i| (a + (z - a) * i as f64 / n as f64).exp())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::faulty;

    #[test]
    fn every_entry_request_lands_in_a_cell_and_the_incident_sits_higher() {
        let facts = Facts::new(faulty());
        let c = spec(&facts).unwrap();
        let Chart::Heatmap(h) = &c.chart else {
            panic!("{c:?}")
        };
        let total: u32 = h.counts.iter().flatten().sum();
        let entry = facts.entry_stats().unwrap();
        assert_eq!(
            u64::from(total),
            entry
                .series
                .requests
                .iter()
                .map(|&r| u64::from(r))
                .sum::<u64>()
        );
        assert_eq!(h.x_edges.len(), h.counts.len() + 1);
        assert_eq!(h.y_edges.len(), LATENCY_ROWS + 1);
        let (a, b) = h.shade.unwrap();
        let mean_row = |lo: f64, hi: f64| {
            let (mut n, mut sum) = (0.0, 0.0);
            for (x, col) in h.counts.iter().enumerate() {
                if h.x_edges[x] > lo && h.x_edges[x + 1] < hi {
                    for (y, &c) in col.iter().enumerate() {
                        n += f64::from(c);
                        sum += f64::from(c) * y as f64;
                    }
                }
            }
            sum / n
        };
        assert!(mean_row(a + 5.0, b - 5.0) > mean_row(0.0, a - 5.0) + 2.0);
    }

    #[test]
    fn log_edges_are_geometric() {
        let e = log_edges(1.0, 1000.0, 3);
        assert!((e[1] - 10.0).abs() < 1e-9 && (e[3] - 1000.0).abs() < 1e-9);
    }
}
