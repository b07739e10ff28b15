//! Chart specs: the data behind each picture, computed from the analysis (one file per
//! chart) apart from drawing, so every chart is unit-tested without pixels.
//!
//! [`all`] returns the charts worth drawing, in page order, and a note for each chart left
//! out for lack of evidence (the page says so instead of drawing an empty plot).

pub mod amplification;
pub mod cascade;
pub mod critical_path;
pub mod graph;
pub mod latency;
pub mod queues;
pub mod replay;
pub mod timeline;

use crate::analyze::series::Series;
use std::ops::Range;

use super::charts::palette;
use super::charts::spec::{ChartFile, Rgb};
use super::facts::Facts;
use crate::analyze::rootcause::Role;
use crate::model::replay::ReplayView;

/// Critical-path rows: (service, baseline share, incident share), shares in 0..=1.
pub type CriticalPathRow = (String, f64, f64);

/// A chart left out and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Omitted {
    pub title: &'static str,
    pub reason: String,
}

/// Every chart of the report, in page order, and the ones left out.
pub fn all(
    facts: &Facts,
    replay: Option<&ReplayView>,
    critical: Option<&[CriticalPathRow]>,
) -> (Vec<ChartFile>, Vec<Omitted>) {
    let mut charts = Vec::new();
    let mut omitted = Vec::new();
    let mut take = |title: &'static str, r: Result<ChartFile, String>| match r {
        Ok(c) => charts.push(c),
        Err(reason) => omitted.push(Omitted { title, reason }),
    };
    take("Service graph", graph::spec(facts));
    take("Timeline per service", timeline::spec(facts));
    take("How it spread", cascade::spec(facts));
    take("Retry amplification", amplification::spec(facts));
    take("Queues and in-flight work", queues::spec(facts));
    take("Latency at the entry", latency::spec(facts));
    let derived;
    let rows = match critical {
        Some(rows) => rows,
        None => {
            derived = critical_path::rows(&facts.a.critical_path);
            &derived
        }
    };
    take("Critical-path share", critical_path::spec(facts, rows));
    if let Some(view) = replay {
        for r in replay::specs(view) {
            take("Replay", r);
        }
    }
    (charts, omitted)
}

/// The legend of the four roles.
pub fn role_legend() -> Vec<(String, Rgb)> {
    [Role::Source, Role::Infected, Role::Affected, Role::Healthy]
        .into_iter()
        .map(|r| (r.as_str().to_string(), palette::role(r.as_str())))
        .collect()
}

/// The colour of a role.
pub fn role_color(r: Role) -> Rgb {
    palette::role(r.as_str())
}

/// At most this many points per time series: a panel's plot is ~350 px wide, so a point
/// gets two pixels and the line stays readable (more is noise at a glance).
pub const MAX_POINTS: usize = 180;

/// Buckets merged into one plotted point.
pub fn group(facts: &Facts) -> usize {
    facts.a.windows.buckets.count.div_ceil(MAX_POINTS).max(1)
}

/// Seconds covered by one plotted point.
pub fn group_s(facts: &Facts) -> f64 {
    group(facts) as f64 * facts.a.windows.buckets.width_s()
}

/// One point per group of buckets: x is the group's middle (seconds since the first span),
/// y is `f` of the group's bucket range (`None` leaves a gap).
pub fn grouped(facts: &Facts, f: impl Fn(Range<usize>) -> Option<f64>) -> Vec<(f64, f64)> {
    let b = &facts.a.windows.buckets;
    let g = group(facts);
    (0..b.count.div_ceil(g))
        .filter_map(|j| {
            let r = j * g..((j + 1) * g).min(b.count);
            let x = facts.secs(b.start_of(r.start)) + r.len() as f64 * b.width_s() / 2.0;
            f(r).map(|y| (x, y))
        })
        .collect()
}

/// Sum of `v` over `r` (missing buckets count as zero).
pub fn sum(v: &Series<u32>, r: Range<usize>) -> f64 {
    v.get(r)
        .map_or(0.0, |s| s.iter().map(|&x| f64::from(x)).sum())
}

/// The time axis label.
pub const X_LABEL: &str = "time since the first span (s)";

#[cfg(test)]
mod grouping_tests {
    use super::testdata::faulty;
    use super::*;

    #[test]
    fn groups_cover_every_bucket_once_and_stay_under_the_point_budget() {
        let f = Facts::new(faulty());
        let n = f.a.windows.buckets.count;
        let pts = grouped(&f, |r| Some(r.len() as f64));
        assert!(pts.len() <= MAX_POINTS);
        assert_eq!(pts.iter().map(|p| p.1).sum::<f64>() as usize, n);
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(sum(&vec![1, 2, 3].into(), 1..3), 5.0);
        assert_eq!(sum(&vec![1].into(), 0..5), 0.0);
    }
}

#[cfg(test)]
pub(crate) mod testdata {
    //! One analysed incident shared by the spec tests (analysis is the slow part).

    use std::sync::OnceLock;

    use crate::analyze::testkit::{scenario, Scenario};
    use crate::analyze::{analyze, Analysis, AnalyzeOptions};

    /// frontend → api → db; db's own time rises tenfold from 240 s to 420 s.
    pub fn faulty() -> &'static Analysis {
        static A: OnceLock<Analysis> = OnceLock::new();
        A.get_or_init(|| {
            let data = scenario(&Scenario {
                fault: Some((240, 420)),
                ..Default::default()
            })
            .dataset();
            analyze(&data, &AnalyzeOptions::default()).expect("scenario analyses")
        })
    }

    /// The same system without a fault.
    pub fn quiet() -> &'static Analysis {
        static A: OnceLock<Analysis> = OnceLock::new();
        A.get_or_init(|| {
            let data = scenario(&Scenario::default()).dataset();
            analyze(&data, &AnalyzeOptions::default()).expect("scenario analyses")
        })
    }
}
