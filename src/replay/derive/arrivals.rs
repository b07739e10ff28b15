//! Arrivals: the entry service is the one that owns most root SERVER/CONSUMER spans, and
//! the arrival schedule is their count per bucket divided by the bucket width and by the
//! sampling rate (a piecewise-constant Poisson rate, SCENARIO.md `arrivals.schedule`).

use super::frame::{round, Frame};
use crate::analyze::table::SpanTable;

/// The entry: its service id and its root server rows (in row order).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub service: u32,
    pub rows: Vec<u32>,
    /// Root server spans of other services (left out of the model: one entry only).
    pub other_roots: u64,
}

/// Finds the entry service and its root rows; `None` without any root server span.
pub fn entry(t: &SpanTable) -> Option<Entry> {
    let roots: Vec<u32> = (0..t.len())
        .filter(|&i| t.parent_of(i).is_none() && t.is_server(i))
        .map(|i| i as u32)
        .collect();
    let mut counts = vec![0u64; t.services.len()];
    for &r in &roots {
        counts[t.service[r as usize] as usize] += 1;
    }
    // Most roots; ties go to the smaller id (deterministic).
    let (service, _) = counts
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .filter(|(_, &n)| n > 0)?;
    let service = service as u32;
    let (rows, others): (Vec<u32>, Vec<u32>) = roots
        .into_iter()
        .partition(|&r| t.service[r as usize] == service);
    Some(Entry {
        service,
        rows,
        other_roots: others.len() as u64,
    })
}

/// `[[start_s, rate], ...]`: one segment per bucket, equal neighbours merged.
pub fn schedule(t: &SpanTable, e: &Entry, f: &Frame) -> Vec<(f64, f64)> {
    let mut counts = vec![0u64; f.buckets];
    for &r in &e.rows {
        if let Some(b) = f.bucket(t.start[r as usize]) {
            counts[b] += 1;
        }
    }
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (b, &n) in counts.iter().enumerate() {
        let rate = round(f.scale(n as f64) / f.width_s(), 4);
        if out.last().is_none_or(|&(_, r)| r != rate) {
            out.push((round(b as f64 * f.width_s(), 6), rate));
        }
    }
    out
}

/// Mean arrival rate (requests/s) of a schedule over `[0, duration)`.
pub fn mean_rate(schedule: &[(f64, f64)], duration: f64) -> f64 {
    if duration <= 0.0 {
        return 0.0;
    }
    let mut total = 0.0;
    for (i, &(start, rate)) in schedule.iter().enumerate() {
        let end = schedule.get(i + 1).map_or(duration, |s| s.0);
        total += rate * (end.min(duration) - start).max(0.0);
    }
    total / duration
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_rate_weights_segments_by_length() {
        let s = [(0.0, 10.0), (5.0, 20.0)];
        assert!((mean_rate(&s, 10.0) - 15.0).abs() < 1e-12);
        assert_eq!(mean_rate(&[], 10.0), 0.0);
    }
}
