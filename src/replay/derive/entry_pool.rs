//! A full worker pool at the entry. Nothing calls the entry service through a traced
//! client, so its queue is invisible: its root spans start when a worker frees up. When,
//! over the incident buckets where the entry's busy workers sit far above their baseline,
//! the root-span rate is below the baseline rate, that is read as a full pool (requests
//! kept arriving but waited unseen): the pool size is the busy level there, and the
//! arrivals over those buckets are taken at the baseline rate.

use std::ops::Range;

use super::frame::{round, Frame};

/// A root-span rate below this share of the baseline rate is a dip.
pub const ENTRY_DIP: f64 = 0.85;
/// …that counts as a full pool only when busy workers sit at least this multiple of their
/// baseline mean.
pub const CEILING_RISE: f64 = 3.0;
/// …for at least this many buckets.
pub const MIN_DIP_BUCKETS: usize = 3;

/// The pool size and the schedule with its dips filled.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryPool {
    pub workers: f64,
    pub schedule: Vec<(f64, f64)>,
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len().max(1) as f64
}

/// Detects a full entry pool from the scaled root-span `counts` and the entry's `busy`
/// workers per bucket; the returned schedule has the saturated stretch at the baseline rate.
pub fn entry_pool(
    schedule: &[(f64, f64)],
    counts: &[f64],
    busy: &[f64],
    f: &Frame,
    baseline: Range<usize>,
    incident: Range<usize>,
) -> Option<EntryPool> {
    let r0 = mean(counts.get(baseline.clone())?) / f.width_s();
    let base_busy = mean(busy.get(baseline)?);
    let high: Vec<usize> = incident
        .filter(|&b| {
            busy.get(b)
                .is_some_and(|&x| x >= CEILING_RISE * base_busy.max(1.0))
        })
        .collect();
    if high.len() < MIN_DIP_BUCKETS {
        return None;
    }
    let rate = mean(&high.iter().map(|&b| counts[b]).collect::<Vec<_>>()) / f.width_s();
    if rate >= ENTRY_DIP * r0 {
        return None;
    }
    let workers = mean(&high.iter().map(|&b| busy[b]).collect::<Vec<_>>());
    let (lo, hi) = (
        high[0] as f64 * f.width_s(),
        (high[high.len() - 1] + 1) as f64 * f.width_s(),
    );
    let mut cuts: Vec<(f64, f64)> = schedule
        .iter()
        .copied()
        .filter(|s| s.0 < lo - 1e-9)
        .collect();
    let after = schedule
        .iter()
        .rev()
        .find(|s| s.0 <= hi + 1e-9)
        .map_or(r0, |s| s.1);
    cuts.push((lo, round(r0, 4)));
    cuts.push((hi, after));
    cuts.extend(schedule.iter().copied().filter(|s| s.0 > hi + 1e-9));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (t, r) in cuts {
        if out.last().is_none_or(|p| p.1 != r) {
            out.push((round(t, 6), r));
        }
    }
    Some(EntryPool {
        workers,
        schedule: out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dip_with_busy_workers_is_a_full_pool() {
        let f = Frame {
            origin_ns: 0,
            width_ns: 1_000_000_000,
            buckets: 30,
            sample_rate: 1.0,
        };
        let schedule = [(0.0, 300.0), (10.0, 200.0), (20.0, 300.0)];
        let mut counts = vec![300.0; 30];
        counts[10..20].iter_mut().for_each(|x| *x = 200.0);
        let mut busy = vec![3.0; 30];
        busy[10..20].iter_mut().for_each(|x| *x = 256.0);
        let p = entry_pool(&schedule, &counts, &busy, &f, 0..10, 10..25).unwrap();
        assert_eq!(p.workers, 256.0);
        assert_eq!(p.schedule, vec![(0.0, 300.0)]);
        // The same dip with idle workers is a real drop in load.
        assert!(entry_pool(&schedule, &counts, &[3.0; 30], &f, 0..10, 10..25).is_none());
        // Busy workers at a steady rate are slow requests, not a full pool.
        assert!(entry_pool(&schedule, &[300.0; 30], &busy, &f, 0..10, 10..25).is_none());
    }
}
