//! Per service, per bucket: requests (SERVER/CONSUMER spans), errors, latency percentiles,
//! self time and child wait, in-flight, arrivals and completions; window summaries and the
//! onset of each service's departure from its baseline.

use rayon::prelude::*;

use super::incident::{Windows, MIN_BUCKET_SAMPLES, MIN_LATENCY_RISE};
use super::onset::{error_onset, latency_onset, LOOKBACK_BUCKETS};
use super::series::Series;
use super::stats::{quantile, Counted};
use super::table::SpanTable;
use crate::model::window::Window;

/// Per-bucket series of one service (requests bucketed by start).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ServiceSeries {
    pub requests: Series<u32>,
    pub errors: Series<u32>,
    pub p50_ms: Series<Option<f64>>,
    pub p99_ms: Series<Option<f64>>,
    /// Mean self time per request.
    pub self_ms: Series<Option<f64>>,
    /// Mean child wait per request.
    pub child_wait_ms: Series<Option<f64>>,
    /// Server spans active at each bucket's end.
    pub in_flight: Series<u32>,
    pub arrivals: Series<u32>,
    pub completions: Series<u32>,
}

/// A service over one window; every statistic carries its sample count.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct ServiceWindow {
    pub requests: u64,
    pub errors: u64,
    pub error_rate: Option<f64>,
    pub p50_ms: Counted,
    pub p99_ms: Counted,
    /// Mean self time per request.
    pub self_ms: Counted,
    pub child_wait_ms: Counted,
}

/// Which signal moved first for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnsetSignal {
    SelfTime,
    Latency,
    Errors,
}

/// Everything known about one service.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ServiceStats {
    pub name: String,
    pub id: u32,
    pub series: ServiceSeries,
    pub baseline: ServiceWindow,
    pub incident: Option<ServiceWindow>,
    /// First sustained departure (bucket start, Unix ns) and its signal.
    pub onset_ns: Option<i64>,
    pub onset_signal: Option<OnsetSignal>,
    /// First error departure (Unix ns).
    pub error_onset_ns: Option<i64>,
}

/// Statistics of every service, ordered by name.
pub fn service_stats(t: &SpanTable, self_ns: &[i64], w: &Windows) -> Vec<ServiceStats> {
    let mut rows: Vec<Vec<u32>> = vec![Vec::new(); t.services.len()];
    for i in (0..t.len()).filter(|&i| t.is_server(i)) {
        rows[t.service[i] as usize].push(i as u32);
    }
    let mut out: Vec<ServiceStats> = rows
        .par_iter()
        .enumerate()
        .map(|(s, r)| one_service(t, self_ns, w, s as u32, r))
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn one_service(t: &SpanTable, self_ns: &[i64], w: &Windows, id: u32, rows: &[u32]) -> ServiceStats {
    let series = series(t, self_ns, w, rows);
    let summarise = |win: &Window| window_stats(t, self_ns, win, rows);
    let baseline = summarise(&w.baseline);
    let mut s = ServiceStats {
        name: t.services.name(id).to_string(),
        id,
        series,
        baseline,
        incident: w.incident.as_ref().map(summarise),
        onset_ns: None,
        onset_signal: None,
        error_onset_ns: None,
    };
    find_onsets(&mut s, w);
    s
}

fn ms(ns: i64) -> f64 {
    ns as f64 / 1e6
}

fn series(t: &SpanTable, self_ns: &[i64], w: &Windows, rows: &[u32]) -> ServiceSeries {
    let n = w.buckets.count;
    let mut durs: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut selfs = vec![0.0; n];
    let [mut requests, mut errors, mut completions] = std::array::from_fn(|_| vec![0u32; n]);
    for &i in rows {
        let i = i as usize;
        let k = w.buckets.index(t.start[i]);
        requests[k] += 1;
        errors[k] += u32::from(t.is_error(i));
        completions[w.buckets.index(t.end[i])] += 1;
        durs[k].push(ms(t.duration(i)));
        selfs[k] += ms(self_ns[i]);
    }
    let in_flight = in_flight(&requests, &completions);
    let mean = |sum: f64, d: &Vec<f64>| (!d.is_empty()).then(|| sum / d.len() as f64);
    let self_ms: Vec<Option<f64>> = (0..n).map(|k| mean(selfs[k], &durs[k])).collect();
    let child_wait_ms: Vec<Option<f64>> = (0..n)
        .map(|k| mean(durs[k].iter().sum::<f64>() - selfs[k], &durs[k]))
        .collect();
    let mut pct = |q| {
        durs.iter_mut()
            .map(|d| {
                (d.len() as u64 >= MIN_BUCKET_SAMPLES)
                    .then(|| quantile(d, q))
                    .flatten()
            })
            .collect::<Vec<_>>()
            .into()
    };
    let requests: Series<u32> = requests.into();
    ServiceSeries {
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        arrivals: requests.clone(),
        requests,
        errors: errors.into(),
        self_ms: self_ms.into(),
        child_wait_ms: child_wait_ms.into(),
        in_flight: in_flight.into(),
        completions: completions.into(),
    }
}

/// Active spans at each bucket's end: cumulative arrivals minus cumulative completions.
fn in_flight(arrivals: &[u32], completions: &[u32]) -> Vec<u32> {
    let mut active: i64 = 0;
    arrivals
        .iter()
        .zip(completions)
        .map(|(&a, &c)| {
            active += i64::from(a) - i64::from(c);
            active.max(0) as u32
        })
        .collect()
}

fn window_stats(t: &SpanTable, self_ns: &[i64], win: &Window, rows: &[u32]) -> ServiceWindow {
    let mut durs = Vec::new();
    let (mut errors, mut self_sum) = (0u64, 0.0);
    for &i in rows.iter().filter(|&&i| win.contains(t.start[i as usize])) {
        let i = i as usize;
        durs.push(ms(t.duration(i)));
        errors += u64::from(t.is_error(i));
        self_sum += ms(self_ns[i]);
    }
    let n = durs.len() as u64;
    let total: f64 = durs.iter().sum();
    let mean = |v: f64| (n > 0).then(|| v / n as f64);
    ServiceWindow {
        requests: n,
        errors,
        error_rate: mean(errors as f64),
        p50_ms: Counted::new(quantile(&mut durs, 0.5), n),
        p99_ms: Counted::new(quantile(&mut durs, 0.99), n),
        self_ms: Counted::new(mean(self_sum), n),
        child_wait_ms: Counted::new(mean(total - self_sum), n),
    }
}

/// Onset per signal; the service's onset is the earliest (ties: self time first).
fn find_onsets(s: &mut ServiceStats, w: &Windows) {
    let Some(inc) = w.incident else { return };
    let base = w.buckets.within(&w.baseline);
    let inc_b = w.buckets.within(&inc);
    let search = inc_b.start.saturating_sub(LOOKBACK_BUCKETS)..inc_b.end;
    let p0 = s.baseline.error_rate.unwrap_or(0.0);
    let candidates = [
        (
            OnsetSignal::SelfTime,
            latency_onset(
                &s.series.self_ms.to_vec(),
                base.clone(),
                search.clone(),
                MIN_LATENCY_RISE,
            ),
        ),
        (
            OnsetSignal::Latency,
            latency_onset(
                &s.series.p99_ms.to_vec(),
                base,
                search.clone(),
                MIN_LATENCY_RISE,
            ),
        ),
        (
            OnsetSignal::Errors,
            error_onset(
                &s.series.requests.to_vec(),
                &s.series.errors.to_vec(),
                p0,
                search,
            ),
        ),
    ];
    s.error_onset_ns = candidates[2].1.map(|k| w.buckets.start_of(k));
    if let Some((sig, k)) = candidates
        .iter()
        .filter_map(|(sig, k)| k.map(|k| (*sig, k)))
        .min_by_key(|&(_, k)| k)
    {
        s.onset_ns = Some(w.buckets.start_of(k));
        s.onset_signal = Some(sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::incident::windows;
    use crate::analyze::selftime::self_times;
    use crate::analyze::testkit::{scenario, Scenario, T0};
    use crate::model::window::NS_PER_S;

    #[test]
    fn in_flight_is_a_sweep() {
        assert_eq!(in_flight(&[3, 2, 0, 0], &[1, 1, 2, 1]), vec![2, 3, 1, 0]);
    }

    #[test]
    fn db_self_time_rises_tenfold_and_starts_first() {
        let f = scenario(&Scenario {
            fault: Some((240, 420)),
            ..Default::default()
        });
        let t = SpanTable::from_frame(&f.spans()).unwrap();
        let g = crate::analyze::graph::build_graph(&t, &f.links());
        let a = crate::analyze::attempts::group_attempts(&t, &g);
        let st = self_times(&t, &crate::analyze::selftime::wait_starts(&t, &g, &a));
        let w = windows(&t, None, None);
        let svc = service_stats(&t, &st, &w);
        let names: Vec<&str> = svc.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["api", "db", "frontend"]);
        let db = &svc[1];
        let inc = db.incident.unwrap();
        let ratio = inc.self_ms.value.unwrap() / db.baseline.self_ms.value.unwrap();
        assert!((8.0..12.0).contains(&ratio), "db self-time ratio {ratio}");
        assert!(inc.self_ms.n > 500);
        let onset = db.onset_ns.unwrap();
        assert!((onset - (T0 + 240 * NS_PER_S)).abs() <= 2 * w.buckets.width_ns);
        assert_eq!(db.onset_signal, Some(OnsetSignal::SelfTime));
        let api = &svc[0];
        let api_self =
            api.incident.unwrap().self_ms.value.unwrap() / api.baseline.self_ms.value.unwrap();
        assert!(api_self < 2.0, "api self-time ratio {api_self}");
    }
}
