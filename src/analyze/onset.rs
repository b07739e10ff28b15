//! Onset: when a service first departed from its baseline, per signal.
//!
//! Latency-like signals (p99, mean self time) use the same rule as the incident window:
//! median + k·MAD over the baseline buckets, sustained for several buckets. Error counts
//! are too thin per bucket for that, so errors use Page's CUSUM on the excess over the
//! baseline rate: it accumulates small excesses and fires once they add up.

use super::incident::{sustained_runs, K_SIGMA, MIN_EXCESS_ERRORS, SUSTAIN_BUCKETS};
use super::stats::upper_threshold;

/// The search for an onset starts this many buckets before the incident: the source often
/// departs a little before the system-level signals do.
pub const LOOKBACK_BUCKETS: usize = 10;
/// CUSUM allowance over the baseline error rate (absolute): excess below it is noise.
pub const ERROR_DRIFT: f64 = 0.005;

/// First bucket in `search` of a sustained rise of `series` above the threshold learnt from
/// the `baseline` buckets (relative floor `min_rise` × baseline median).
pub fn latency_onset(
    series: &[Option<f64>],
    baseline: std::ops::Range<usize>,
    search: std::ops::Range<usize>,
    min_rise: f64,
) -> Option<usize> {
    let base: Vec<f64> = series.get(baseline)?.iter().flatten().copied().collect();
    let med = super::stats::median_mad(&base)?.0;
    let th = upper_threshold(&base, K_SIGMA, med * min_rise)?;
    let flags: Vec<bool> = series
        .get(search.clone())?
        .iter()
        .map(|v| v.is_some_and(|v| v > th))
        .collect();
    sustained_runs(&flags, SUSTAIN_BUCKETS)
        .first()
        .map(|r| search.start + r.start)
}

/// First bucket of the error excess that CUSUM detects in `search`, given per-bucket
/// requests and errors and the baseline error rate `p0`.
///
/// CUSUM raises the alarm; the onset is the start of the shortest stretch ending at the
/// alarm whose excess alone reaches the alarm level. (The last bucket where the sum left
/// zero would be earlier by however long a stray background error kept it above zero.)
pub fn error_onset(
    requests: &[u32],
    errors: &[u32],
    p0: f64,
    search: std::ops::Range<usize>,
) -> Option<usize> {
    let excess = |k: usize| -> Option<f64> {
        let n = f64::from(*requests.get(k)?);
        let e = f64::from(*errors.get(k)?);
        Some(e - n * (p0 + ERROR_DRIFT))
    };
    let mut s = 0.0;
    let start = search.start;
    for k in search {
        s = (s + excess(k)?).max(0.0);
        if s >= MIN_EXCESS_ERRORS {
            return Some(shortest_suffix(start..k + 1, &excess));
        }
    }
    None
}

/// The latest bucket in `r` from which the summed excess up to `r`'s end reaches the alarm
/// level (`r.end - 1` at the latest).
fn shortest_suffix(r: std::ops::Range<usize>, excess: &impl Fn(usize) -> Option<f64>) -> usize {
    let mut sum = 0.0;
    for k in r.clone().rev() {
        sum += excess(k).unwrap_or(0.0);
        if sum >= MIN_EXCESS_ERRORS {
            return k;
        }
    }
    r.start
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_onset_needs_a_sustained_rise() {
        let mut s: Vec<Option<f64>> = (0..40).map(|i| Some(10.0 + (i % 3) as f64)).collect();
        s[25] = Some(100.0); // a blip
        for v in s.iter_mut().skip(30) {
            *v = Some(50.0);
        }
        assert_eq!(latency_onset(&s, 0..20, 20..40, 0.5), Some(30));
        assert_eq!(latency_onset(&s, 0..20, 20..29, 0.5), None);
    }

    #[test]
    fn error_onset_accumulates_thin_excess() {
        let req = vec![10u32; 30];
        let mut err = vec![0u32; 30];
        err[5] = 1; // background
        for e in err.iter_mut().skip(20).step_by(2) {
            *e = 1;
        }
        assert_eq!(error_onset(&req, &err, 0.01, 0..30), Some(20));
        assert_eq!(error_onset(&req, &err, 0.01, 0..19), None);
    }
}
