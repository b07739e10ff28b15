//! Arrivals: the entry service is the one that owns most root SERVER/CONSUMER spans, and
//! the arrival schedule is their count per bucket divided by the bucket width and by the
//! sampling rate (a piecewise-constant Poisson rate, SCENARIO.md `arrivals.schedule`).

use super::frame::{round, Frame};
use super::segment::{segments, Channel};
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

/// A schedule step must change the rate by at least this share of the mean rate.
pub const MIN_RATE_STEP: f64 = 0.1;
/// …and last at least this many buckets.
pub const MIN_STEP_BUCKETS: usize = 3;

/// `[[start_s, rate], ...]`: the per-bucket arrival counts cut into piecewise-constant
/// segments (sampling noise removed, real steps kept), equal neighbours merged.
pub fn schedule(counts: &[f64], f: &Frame) -> Vec<(f64, f64)> {
    let mean = counts.iter().sum::<f64>() / counts.len().max(1) as f64;
    let mut c = Channel::new(f.buckets, MIN_RATE_STEP * mean);
    for (b, &n) in counts.iter().enumerate() {
        c.add(b, n);
    }
    let mut out: Vec<(f64, f64)> = Vec::new();
    for r in segments(&[c], 0..f.buckets, MIN_STEP_BUCKETS) {
        let total: f64 = counts[r.clone()].iter().sum();
        let rate = round(total / (r.len() as f64 * f.width_s()), 4);
        if out.last().is_none_or(|&(_, x)| x != rate) {
            out.push((round(r.start as f64 * f.width_s(), 6), rate));
        }
    }
    out
}

/// Root spans starting in each bucket, scaled by the sampling rate.
pub fn counts(t: &SpanTable, e: &Entry, f: &Frame) -> Vec<f64> {
    let mut counts = vec![0f64; f.buckets];
    for &r in &e.rows {
        if let Some(b) = f.bucket(t.start[r as usize]) {
            counts[b] += f.scale(1.0);
        }
    }
    counts
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
