//! The latency heatmap at the entry service: time × latency (log scale), each cell counting
//! the entry requests that started in that time slice and took that long.

use super::X_LABEL;
use crate::report::charts::spec::{Chart, ChartFile, Heatmap};
use crate::report::facts::Facts;

/// At most this many time columns (buckets are merged to fit): a cell stays wider than a
/// couple of pixels on a 1100-pixel chart.
pub const MAX_COLUMNS: usize = 240;
/// Latency rows per decade: ten give ~1.26× per row, and edges at 10^(k/10) fall within
/// 0.3 % of 1, 2 and 5 × 10^j, so the axis can be labelled with round numbers.
pub const ROWS_PER_DECADE: i32 = 10;
/// At most this many decades (rows are merged beyond: 1 µs … 1000 s is nine).
const MAX_DECADES: i32 = 6;
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
    let y_edges = decade_edges(lo.max(FLOOR_MS), hi.max(lo.max(FLOOR_MS)));
    let rows = y_edges.len() - 1;
    let b = &facts.a.windows.buckets;
    let merge = b.count.div_ceil(MAX_COLUMNS).max(1);
    let columns = b.count.div_ceil(merge);
    let x_edges: Vec<f64> = (0..=columns)
        .map(|c| facts.secs(b.start_of(c * merge)))
        .collect();
    let mut counts = vec![vec![0u32; rows]; columns];
    for (k, ms) in samples {
        let row = y_edges
            .partition_point(|&e| e <= ms)
            .saturating_sub(1)
            .min(rows - 1);
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

/// Edges 10^(k/10) from just below `lo` to just above `hi` (at least one decade, at most
/// [`MAX_DECADES`]: the top is kept, the bottom raised).
pub fn decade_edges(lo: f64, hi: f64) -> Vec<f64> {
    let step = |v: f64| v.log10() * f64::from(ROWS_PER_DECADE);
    let top = step(hi).ceil() as i32;
    let bottom = (step(lo).floor() as i32)
        .min(top - ROWS_PER_DECADE)
        .max(top - MAX_DECADES * ROWS_PER_DECADE);
    (bottom..=top)
        .map(|k| 10f64.powf(f64::from(k) / f64::from(ROWS_PER_DECADE)))
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
        assert!(h.counts.iter().all(|c| c.len() + 1 == h.y_edges.len()));
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
    fn edges_span_whole_decades_and_hit_round_numbers() {
        let e = decade_edges(4.2, 480.0);
        assert!((e[0] - 3.98).abs() < 0.01, "{e:?}");
        assert!((e.last().unwrap() - 501.2).abs() < 0.1, "{e:?}");
        assert!(e.iter().any(|v| (v - 2.0 * 10.0).abs() < 0.1));
        assert!(e.iter().any(|v| (v - 50.0).abs() < 0.2));
        assert_eq!(decade_edges(1.0, 1.0).len(), 11);
        assert_eq!(decade_edges(1e-3, 1e9).len(), 61);
    }
}
