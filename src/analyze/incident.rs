//! Incident and baseline windows: detected from the data, or given by the user.
//!
//! Two system-level signals per bucket: the share of entry requests (root SERVER/CONSUMER
//! spans) whose trace holds an error, and the entry requests' p99 duration. A bucket departs
//! when a signal exceeds its robust threshold (median + k·MAD over all buckets); the
//! incident runs from the first to the last run of [`SUSTAIN_BUCKETS`] departing buckets
//! (runs within [`MERGE_GAP_BUCKETS`] of each other; the largest such cluster).

use super::buckets::Buckets;
use super::stats::{quantile, shift_sorted, upper_threshold, MEDIUM_EFFECT};
use super::table::SpanTable;
use crate::model::window::Window;

/// k in median + k·σ̂: four robust standard deviations keeps a quiet system quiet across
/// ~1000 buckets (a normal tail beyond 4σ is ~3e-5 per bucket), yet a 10× shift clears it.
pub const K_SIGMA: f64 = 4.0;
/// A departure must hold this many consecutive buckets (one slow bucket is noise).
pub const SUSTAIN_BUCKETS: usize = 3;
/// Buckets with fewer samples than this are not judged (a p99 of two values means little).
pub const MIN_BUCKET_SAMPLES: u64 = 3;
/// Entry p99 must also rise by at least this fraction over its median (MAD can be ~0).
pub const MIN_LATENCY_RISE: f64 = 0.5;
/// Error rate must also rise by at least this much (absolute) over its median.
pub const MIN_ERROR_RATE_RISE: f64 = 0.01;
/// …and by at least this many errors above the expected count in the bucket, so a single
/// unlucky error in a thin bucket is not an incident.
pub const MIN_EXCESS_ERRORS: f64 = 3.0;
/// Sustained runs closer than this are one incident (a signal dips inside an incident,
/// and thin buckets break runs); of several separate clusters the one with the most
/// departing buckets is the incident.
pub const MERGE_GAP_BUCKETS: usize = 10;
/// …and a long incident tolerates longer dips: up to a quarter of its length so far.
pub const MERGE_GAP_DIVISOR: usize = 4;
/// The default baseline needs at least this many buckets; otherwise the stretch after the
/// incident is used.
pub const MIN_BASELINE_BUCKETS: usize = 3;

/// Where the incident window came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowSource {
    Detected,
    User,
    None,
}

/// Per-bucket system signals and their thresholds (kept for charts and the report).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SystemSignals {
    pub spans: Vec<u64>,
    /// Entry requests whose trace holds an error span.
    pub errors: Vec<u64>,
    pub entry_requests: Vec<u64>,
    /// The service most entry requests arrive at (the front door).
    pub entry_service: Option<String>,
    /// Entry p99 in ms per bucket (`None` when too few samples).
    pub entry_p99_ms: Vec<Option<f64>>,
    pub error_rate_threshold: Option<f64>,
    pub entry_p99_threshold_ms: Option<f64>,
    /// Whether each bucket departed.
    pub departed: Vec<bool>,
}

/// The windows every statistic refers to.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Windows {
    /// Whole data range.
    pub range: Window,
    pub buckets: Buckets,
    pub incident: Option<Window>,
    pub baseline: Window,
    pub source: WindowSource,
    pub signals: SystemSignals,
}

impl Windows {
    /// Whether the incident was found in the data (not given by the user).
    pub fn detected(&self) -> bool {
        self.source == WindowSource::Detected
    }
}

/// Computes the windows, honouring user overrides.
pub fn windows(t: &SpanTable, incident: Option<Window>, baseline: Option<Window>) -> Windows {
    let (lo, hi) = t.time_range().unwrap_or((0, 0));
    let entries = entry_requests(t);
    let buckets = Buckets::for_traffic(lo, hi, entries.len() as u64);
    let mut signals = system_signals(t, &buckets, &entries);
    signals.entry_service = front_door(t, &entries);
    let (incident, source) = match incident {
        Some(w) => (Some(w), WindowSource::User),
        None => match detect(&signals.departed)
            .or_else(|| detect(&service_departures(t, &buckets, &entries)))
            .map(|r| buckets.window(r))
            .or_else(|| super::scan::burst(t, &entries))
            .or_else(|| super::scan::service_burst(t, &entries))
        {
            Some(w) => (Some(w), WindowSource::Detected),
            None => (None, WindowSource::None),
        },
    };
    let range = Window::new(lo, hi);
    let baseline = baseline.unwrap_or_else(|| default_baseline(range, incident, &buckets));
    Windows {
        range,
        buckets,
        incident,
        baseline,
        source,
        signals,
    }
}

/// The stretch before the incident, else after it, else the whole range.
fn default_baseline(range: Window, incident: Option<Window>, b: &Buckets) -> Window {
    let Some(inc) = incident else { return range };
    let min_len = MIN_BASELINE_BUCKETS as i64 * b.width_ns;
    let before = Window::new(range.start_ns, inc.start_ns);
    let after = Window::new(inc.end_ns, range.end_ns);
    if before.len_ns() >= min_len || before.len_ns() >= after.len_ns() {
        before
    } else {
        after
    }
}

/// First to last bucket of the sustained runs of departures.
fn detect(departed: &[bool]) -> Option<std::ops::Range<usize>> {
    let runs = sustained_runs(departed, SUSTAIN_BUCKETS);
    let mut clusters: Vec<(std::ops::Range<usize>, usize)> = Vec::new();
    for r in runs {
        match clusters.last_mut() {
            Some((c, n))
                if r.start - c.end <= MERGE_GAP_BUCKETS.max(c.len() / MERGE_GAP_DIVISOR) =>
            {
                *n += r.len();
                c.end = r.end;
            }
            _ => clusters.push((r.clone(), r.len())),
        }
    }
    let best = clusters
        .iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.start.cmp(&a.0.start)))?;
    Some(extend_to_edges(departed, best.0.clone()))
}

/// Widens `r` over departing buckets just outside it (at most [`SUSTAIN_BUCKETS`] apart):
/// the incident starts at the first departing bucket, even one too short to be a run.
fn extend_to_edges(departed: &[bool], mut r: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let near = |from: usize, to: usize| (from..to).filter(|&k| departed.get(k) == Some(&true));
    while let Some(k) = near(r.start.saturating_sub(SUSTAIN_BUCKETS), r.start).next() {
        r.start = k;
    }
    while let Some(k) = near(r.end, r.end + SUSTAIN_BUCKETS).next_back() {
        r.end = k + 1;
    }
    r
}

/// Runs of at least `min_len` consecutive `true`s.
pub fn sustained_runs(flags: &[bool], min_len: usize) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, &f) in flags.iter().chain(std::iter::once(&false)).enumerate() {
        match (f, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                if i - s >= min_len {
                    out.push(s..i);
                }
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn system_signals(t: &SpanTable, b: &Buckets, entries: &[(usize, bool)]) -> SystemSignals {
    let mut s = request_signals(t, b, entries);
    s.spans = vec![0; b.count];
    for &st in &t.start {
        s.spans[b.index(st)] += 1;
    }
    s
}

/// Per bucket: requests, failed requests, p99, and which buckets departed.
fn request_signals(t: &SpanTable, b: &Buckets, entries: &[(usize, bool)]) -> SystemSignals {
    let mut s = SystemSignals {
        errors: vec![0; b.count],
        entry_requests: vec![0; b.count],
        ..Default::default()
    };
    let mut entry: Vec<Vec<f64>> = vec![Vec::new(); b.count];
    for &(row, failed) in entries {
        let k = b.index(t.start[row]);
        entry[k].push(t.duration(row) as f64 / 1e6);
        s.entry_requests[k] += 1;
        s.errors[k] += u64::from(failed);
    }
    s.entry_p99_ms = entry
        .iter_mut()
        .map(|v| {
            (v.len() as u64 >= MIN_BUCKET_SAMPLES)
                .then(|| quantile(v, 0.99))
                .flatten()
        })
        .collect();
    flag_departures(&mut s);
    for (k, shifted) in shifted_buckets(&entry).into_iter().enumerate() {
        s.departed[k] |= shifted;
    }
    s
}

/// Buckets whose whole latency distribution moved up against the reference: the pooled
/// requests of the quieter half of the buckets (those whose median is at most the median
/// bucket median), so an incident that fills a third of the range does not raise its own
/// bar. Departure: Cliff's delta ≥ 0.33 and a Mann–Whitney z ≥ [`K_SIGMA`]. A p99 over the
/// twenty or thirty requests of a thin bucket is its maximum, and noise; the ranks of all
/// of them are not.
fn shifted_buckets(entry: &[Vec<f64>]) -> Vec<bool> {
    let judged = |v: &Vec<f64>| v.len() as u64 >= MIN_BUCKET_SAMPLES;
    let medians: Vec<Option<f64>> = entry
        .iter()
        .map(|v| judged(v).then(|| quantile(&mut v.clone(), 0.5)).flatten())
        .collect();
    let mut all: Vec<f64> = medians.iter().flatten().copied().collect();
    let Some(mid) = quantile(&mut all, 0.5) else {
        return vec![false; entry.len()];
    };
    let mut reference: Vec<f64> = entry
        .iter()
        .zip(&medians)
        .filter(|(_, m)| m.is_some_and(|m| m <= mid))
        .flat_map(|(v, _)| v.iter().copied())
        .collect();
    reference.sort_unstable_by(f64::total_cmp);
    entry
        .iter()
        .map(|v| {
            judged(v)
                && shift_sorted(&reference, v)
                    .is_some_and(|s| s.delta >= MEDIUM_EFFECT && s.z >= K_SIGMA)
        })
        .collect()
}

/// Buckets where some service departed on its own signals (its requests' error rate or
/// p99, judged like the entry signals), keeping only each service's sustained runs: users
/// may see nothing while a consumer falls behind or a back-end fails into retries.
fn service_departures(t: &SpanTable, b: &Buckets, entries: &[(usize, bool)]) -> Vec<bool> {
    let is_entry: std::collections::HashSet<usize> = entries.iter().map(|e| e.0).collect();
    let mut rows: Vec<Vec<(usize, bool)>> = vec![Vec::new(); t.services.len()];
    for i in (0..t.len()).filter(|&i| t.is_server(i) && !is_entry.contains(&i)) {
        rows[t.service[i] as usize].push((i, t.is_error(i)));
    }
    let mut out = vec![false; b.count];
    // A service needs judged buckets for a sustained run to be possible at all; thinner
    // ones are skipped (which also keeps this linear when services are many).
    let enough = (SUSTAIN_BUCKETS as u64 * MIN_BUCKET_SAMPLES) as usize;
    for r in rows.iter().filter(|r| r.len() >= enough) {
        let s = request_signals(t, b, r);
        for run in sustained_runs(&s.departed, SUSTAIN_BUCKETS) {
            out[run].iter_mut().for_each(|x| *x = true);
        }
    }
    out
}

/// The service that receives the most entry requests (ties: the first by name). A root
/// CLIENT span (a load generator, a browser) enters the system at its server child.
fn front_door(t: &SpanTable, entries: &[(usize, bool)]) -> Option<String> {
    let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
    for &(row, _) in entries {
        let door = if t.is_client(row) {
            t.children(row)
                .iter()
                .map(|&c| c as usize)
                .find(|&c| t.is_server(c) && t.service[c] != t.service[row])
                .unwrap_or(row)
        } else {
            row
        };
        *counts.entry(t.service_name(door)).or_default() += 1;
    }
    let top = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
    Some(top.0.to_string())
}

/// Each trace's entry request (its first root SERVER/CONSUMER span, else its first root)
/// and whether any span of the trace failed. Errors are counted per request, not per span:
/// one failed request marks a span at every layer, which would look like a burst.
fn entry_requests(t: &SpanTable) -> Vec<(usize, bool)> {
    t.par_traces(|rows| {
        let roots = || rows.clone().filter(|&i| t.parent_of(i).is_none());
        let root = roots()
            .find(|&i| t.is_server(i))
            .or_else(|| roots().next())?;
        Some((root, rows.clone().any(|i| t.is_error(i))))
    })
    .into_iter()
    .flatten()
    .collect()
}

/// The leading stretch (1/LEAD_FRACTION of the buckets) is a second reference: an export of
/// an incident usually starts before it, and when the overload outlives its trigger and
/// fills most of the range, the median over all buckets is the incident itself.
const LEAD_FRACTION: usize = 4;
/// The leading stretch is only trusted as a reference with at least this many values…
const MIN_LEAD_VALUES: usize = 10;
/// …so with few buckets it grows to that many, up to this fraction of the range.
const MAX_LEAD_FRACTION: usize = 3;

/// How many leading buckets form the second reference.
fn lead_len(n: usize) -> usize {
    (n / LEAD_FRACTION).max(MIN_LEAD_VALUES.min(n / MAX_LEAD_FRACTION))
}

/// The median of the reference with the lower median: all buckets, or the leading stretch.
fn reference_median(all: &[f64], lead: &[f64]) -> f64 {
    let med = |v: &[f64]| super::stats::median_mad(v).map(|m| m.0);
    match (
        med(all),
        med(lead).filter(|_| lead.len() >= MIN_LEAD_VALUES),
    ) {
        (Some(a), Some(l)) => a.min(l),
        (a, l) => a.or(l).unwrap_or(0.0),
    }
}

/// The lower of the thresholds over all buckets and over the leading stretch.
fn lower_threshold(all: &[f64], lead: &[f64], floor: impl Fn(f64) -> f64) -> Option<f64> {
    let th = |v: &[f64]| {
        let med = super::stats::median_mad(v)?.0;
        upper_threshold(v, K_SIGMA, floor(med))
    };
    let lead_th = th(lead).filter(|_| lead.len() >= MIN_LEAD_VALUES);
    match (th(all), lead_th) {
        (Some(a), Some(l)) => Some(a.min(l)),
        (a, l) => a.or(l),
    }
}

fn flag_departures(s: &mut SystemSignals) {
    let judged = |n: u64| n >= MIN_BUCKET_SAMPLES;
    let n = s.entry_requests.len();
    let rates: Vec<f64> = (0..n)
        .filter(|&i| judged(s.entry_requests[i]))
        .map(|i| s.errors[i] as f64 / s.entry_requests[i] as f64)
        .collect();
    let p99s: Vec<f64> = s.entry_p99_ms.iter().flatten().copied().collect();
    let lead = lead_len(n);
    let lead_rates: Vec<f64> = (0..lead)
        .filter(|&i| judged(s.entry_requests[i]))
        .map(|i| s.errors[i] as f64 / s.entry_requests[i] as f64)
        .collect();
    let lead_p99s: Vec<f64> = s.entry_p99_ms[..lead].iter().flatten().copied().collect();
    let med_rate = reference_median(&rates, &lead_rates);
    s.error_rate_threshold = lower_threshold(&rates, &lead_rates, |_| MIN_ERROR_RATE_RISE);
    s.entry_p99_threshold_ms = lower_threshold(&p99s, &lead_p99s, |m| m * MIN_LATENCY_RISE);
    s.departed = (0..n)
        .map(|i| {
            let req = s.entry_requests[i] as f64;
            let excess = s.errors[i] as f64 - req * med_rate;
            let err = judged(s.entry_requests[i])
                && s.error_rate_threshold.is_some_and(|th| s.errors[i] as f64 / req > th)
                && excess >= MIN_EXCESS_ERRORS;
            let lat = matches!((s.entry_p99_ms[i], s.entry_p99_threshold_ms), (Some(v), Some(th)) if v > th);
            err || lat
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{scenario, Scenario, T0};
    use crate::model::window::NS_PER_S;

    fn table(sc: &Scenario) -> SpanTable {
        SpanTable::from_frame(&scenario(sc).spans()).unwrap()
    }

    #[test]
    fn runs_need_to_be_sustained() {
        let f = [
            true, true, false, true, true, true, false, true, true, true, true,
        ];
        assert_eq!(sustained_runs(&f, 3), vec![3..6, 7..11]);
        assert_eq!(detect(&[true, false, true, true, false]), None);
        let mut far = vec![false; 40];
        far[2..10].iter_mut().for_each(|x| *x = true);
        far[14..17].iter_mut().for_each(|x| *x = true); // within the merge gap
        far[35..38].iter_mut().for_each(|x| *x = true); // a separate blip
        assert_eq!(detect(&far), Some(2..17));
        far[0] = true; // a lone departure just before the run opens the incident
        far[19] = true;
        assert_eq!(detect(&far), Some(0..20));
    }

    #[test]
    fn fault_window_is_found_within_two_buckets() {
        let t = table(&Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        });
        let w = windows(&t, None, None);
        let inc = w.incident.expect("incident detected");
        assert_eq!(w.source, WindowSource::Detected);
        let width = w.buckets.width_ns;
        assert!(
            (inc.start_ns - (T0 + 240 * NS_PER_S)).abs() <= 2 * width,
            "{inc:?}"
        );
        assert!(
            (inc.end_ns - (T0 + 420 * NS_PER_S)).abs() <= 2 * width,
            "{inc:?}"
        );
        assert_eq!(w.baseline.end_ns, inc.start_ns);
    }

    #[test]
    fn quiet_system_has_no_incident_and_overrides_win() {
        let t = table(&Scenario::default());
        let w = windows(&t, None, None);
        assert_eq!(w.incident, None);
        assert_eq!(w.source, WindowSource::None);
        assert_eq!(w.baseline, w.range);
        let inc = Window::new(T0 + 100 * NS_PER_S, T0 + 200 * NS_PER_S);
        let w = windows(&t, Some(inc), None);
        assert_eq!((w.incident, w.source), (Some(inc), WindowSource::User));
        assert_eq!(w.baseline.end_ns, inc.start_ns);
    }
}
