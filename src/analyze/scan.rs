//! Incidents in thin traffic: a scan for the stretch of time where bad requests cluster.
//!
//! Buckets need enough requests each to be judged, and a departure must hold several of
//! them; an export with one traced request a second leaves a one-minute incident two or
//! three buckets, too few to judge. Here each entry request is bad or not (it failed, or it
//! took longer than nine in ten of all of them) and, in time order, every stretch between
//! two cut points of a fine grid is tested against the rest of the data (the likelihood
//! ratio of its own bad rate against one rate everywhere: Kulldorff's scan statistic). The
//! stretch with the largest ratio is the incident when it clears a bar that allows for
//! having tried every stretch.

use super::stats::quantile;
use super::table::SpanTable;
use crate::model::window::Window;

/// A request slower than this quantile of all entry requests is bad.
const SLOW_QUANTILE: f64 = 0.9;
/// Cells of the grid (equal numbers of requests): stretches start and end on their edges.
const GRID: usize = 200;
/// Log-likelihood ratio a stretch must reach. Twice the ratio is about χ²(1) under no
/// change, so 15 is a tail of ~4e-8 per stretch: across the ~20 000 stretches of a
/// 200-cell grid, a quiet system raises a false burst about once in a thousand exports.
const SCAN_LLR: f64 = 15.0;
/// A stretch needs this many bad requests to mean anything.
const MIN_BAD: u64 = 5;
/// At most this share of the requests may be inside the stretch (the rest is the
/// reference).
const MAX_INSIDE: f64 = 0.8;

/// The burst of bad entry requests, if one clears the bar. `entries`: (row, failed).
pub fn burst(t: &SpanTable, entries: &[(usize, bool)]) -> Option<Window> {
    scored_burst(t, entries)
        .filter(|b| b.0 >= SCAN_LLR)
        .map(|b| b.1)
}

/// The strongest burst among `rows` (row, failed) and its likelihood ratio.
fn scored_burst(t: &SpanTable, entries: &[(usize, bool)]) -> Option<(f64, Window)> {
    let mut reqs: Vec<(i64, f64, bool)> = entries
        .iter()
        .map(|&(i, failed)| (t.start[i], t.duration(i) as f64, failed))
        .collect();
    reqs.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut durs: Vec<f64> = reqs.iter().map(|r| r.1).collect();
    let slow = quantile(&mut durs, SLOW_QUANTILE)?;
    let bad: Vec<bool> = reqs.iter().map(|r| r.2 || r.1 > slow).collect();
    let (z, a, b) = best_stretch(&bad)?;
    let end = reqs.get(b).map_or(reqs[b - 1].0 + 1, |r| r.0);
    Some((z, Window::new(reqs[a].0, end)))
}

/// A burst among some service's own requests (server spans that are not entry requests),
/// for incidents the front door does not show. Trying every service is more chances for
/// noise: the bar rises by ln(services), which divides the false-alarm rate by their count.
pub fn service_burst(t: &SpanTable, entries: &[(usize, bool)]) -> Option<Window> {
    let is_entry: std::collections::HashSet<usize> = entries.iter().map(|e| e.0).collect();
    let mut rows: Vec<Vec<(usize, bool)>> = vec![Vec::new(); t.services.len()];
    for i in (0..t.len()).filter(|&i| t.is_server(i) && !is_entry.contains(&i)) {
        rows[t.service[i] as usize].push((i, t.is_error(i)));
    }
    let tried: Vec<&Vec<(usize, bool)>> = rows.iter().filter(|r| r.len() >= MIN_REQUESTS).collect();
    let bar = SCAN_LLR + (tried.len().max(1) as f64).ln();
    tried
        .into_iter()
        .filter_map(|r| scored_burst(t, r).filter(|b| b.0 >= bar))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|b| b.1)
}

/// A service with fewer requests than this is not scanned on its own.
const MIN_REQUESTS: usize = 20;

/// The request range `a..b` where bad requests stand out most from the rest, with its
/// likelihood ratio ([`llr`]).
fn best_stretch(bad: &[bool]) -> Option<(f64, usize, usize)> {
    let n = bad.len();
    let cells = GRID.min(n);
    if cells < 2 {
        return None;
    }
    let edge = |j: usize| j * n / cells;
    let mut prefix = vec![0u64; n + 1];
    for (i, &x) in bad.iter().enumerate() {
        prefix[i + 1] = prefix[i] + u64::from(x);
    }
    let total = prefix[n];
    let mut best: Option<(f64, usize, usize)> = None;
    for ja in 0..cells {
        for jb in ja + 1..=cells {
            let (a, b) = (edge(ja), edge(jb));
            let m = (b - a) as f64;
            if m > MAX_INSIDE * n as f64 {
                break;
            }
            let k = prefix[b] - prefix[a];
            if k < MIN_BAD {
                continue;
            }
            let z = llr(k, m, total - k, (n - (b - a)) as f64);
            if best.is_none_or(|(bz, _, _)| z > bz) {
                best = Some((z, a, b));
            }
        }
    }
    best
}

/// The log-likelihood ratio of "the stretch has its own bad rate" against "one rate
/// everywhere", for `k` bad of `m` inside and `ko` bad of `mo` outside; zero unless the
/// inside rate is the higher (a burst, not a lull).
fn llr(k: u64, m: f64, ko: u64, mo: f64) -> f64 {
    let (k, ko) = (k as f64, ko as f64);
    let (p_in, p_out, p) = (k / m, ko / mo, (k + ko) / (m + mo));
    if p_in <= p_out {
        return 0.0;
    }
    // x·ln(x/y), with 0·ln 0 = 0.
    let term = |count: f64, q: f64, q0: f64| {
        if count > 0.0 {
            count * (q / q0).ln()
        } else {
            0.0
        }
    };
    term(k, p_in, p)
        + term(m - k, 1.0 - p_in, 1.0 - p)
        + term(ko, p_out, p)
        + term(mo - ko, 1.0 - p_out, 1.0 - p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded(n: usize, seed: u64, p: f64) -> Vec<bool> {
        let mut r = crate::analyze::testkit::Rng::new(seed);
        (0..n).map(|_| r.unit() < p).collect()
    }

    #[test]
    fn a_burst_in_thin_traffic_is_found() {
        let mut bad = seeded(300, 3, 0.1);
        for x in &mut bad[120..160] {
            *x = true;
        }
        let (z, a, b) = best_stretch(&bad).expect("a burst");
        assert!(z >= SCAN_LLR);
        assert!(a.abs_diff(120) <= 6 && b.abs_diff(160) <= 6, "{a}..{b}");
    }

    #[test]
    fn noise_alone_is_no_burst() {
        for seed in 0..20 {
            let best = best_stretch(&seeded(2000, seed, 0.1)).map_or(0.0, |b| b.0);
            assert!(best < SCAN_LLR, "seed {seed}: {best}");
        }
    }
}
