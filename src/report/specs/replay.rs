//! Replay charts: per policy, goodput, p99 and time to recover, each with its 95 %
//! confidence interval as a whisker; the observed policy first, then the alternatives in
//! the replay's rank order.

use crate::model::replay::{Estimate, PolicyOutcome, ReplayView};
use crate::report::charts::palette;
use crate::report::charts::spec::{BarRow, Bars, Chart, ChartFile};

/// One chart per measure (goodput, p99, recovery); recovery is left out when no policy
/// recovered.
pub fn specs(view: &ReplayView) -> Vec<Result<ChartFile, String>> {
    if view.policies.is_empty() {
        return vec![Err("the replay compared no policies".into())];
    }
    vec![
        Ok(measure(view, &GOODPUT)),
        Ok(measure(view, &P99)),
        if view.policies.iter().any(|p| p.time_to_recover_s.is_some()) {
            Ok(measure(view, &RECOVERY))
        } else {
            Err("no policy recovered after the fault ended in most seeds".into())
        },
    ]
}

struct Measure {
    stem: &'static str,
    title: &'static str,
    unit: &'static str,
    caption: &'static str,
    get: fn(&PolicyOutcome) -> Option<Estimate>,
    fmt: fn(f64) -> String,
}

const GOODPUT: Measure = Measure {
    stem: "replay-goodput",
    title: "Replay: goodput per policy (higher is better)",
    unit: "successful entry requests per second in the incident window",
    caption: "Successful entry requests per second during the replayed incident under each policy; whiskers are 95 % confidence intervals over the seeds.",
    get: |p| Some(p.goodput_rps),
    fmt: |v| format!("{v:.1} req/s"),
};

const P99: Measure = Measure {
    stem: "replay-p99",
    title: "Replay: p99 latency per policy (lower is better)",
    unit: "p99 latency of entry requests (ms)",
    caption: "p99 latency of entry requests in the replayed incident under each policy; whiskers are 95 % confidence intervals.",
    get: |p| Some(p.p99_ms),
    fmt: |v| format!("{v:.0} ms"),
};

const RECOVERY: Measure = Measure {
    stem: "replay-recovery",
    title: "Replay: time to recover after the fault ended (lower is better)",
    unit: "seconds from the fault's end to recovery",
    caption: "How long each policy took to return to normal after the fault ended; a missing bar means most seeds never recovered within the replay. Whiskers are 95 % confidence intervals.",
    get: |p| p.time_to_recover_s,
    fmt: |v| format!("{v:.0} s"),
};

fn measure(view: &ReplayView, m: &Measure) -> ChartFile {
    let rows = view
        .policies
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let e = (m.get)(p);
            BarRow {
                label: p.name.clone(),
                label_color: if i == 0 {
                    palette::TEXT
                } else {
                    palette::categorical(0)
                },
                values: vec![e.map_or(f64::NAN, |e| e.mean)],
                note: e.map_or_else(|| "never recovered".into(), |e| (m.fmt)(e.mean)),
            }
        })
        .collect();
    let intervals = view
        .policies
        .iter()
        .map(|p| vec![(m.get)(p).map(|e| (e.lo, e.hi))])
        .collect();
    ChartFile {
        stem: m.stem,
        caption: m.caption.into(),
        chart: Chart::Bars(Bars {
            title: m.title.into(),
            value_label: m.unit.into(),
            groups: vec![(format!("mean over {} seeds", view.seeds), palette::BASELINE)],
            rows,
            intervals,
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::replay::{FidelityCheck, Verdict};

    fn est(mean: f64, half: f64) -> Estimate {
        Estimate {
            mean,
            lo: mean - half,
            hi: mean + half,
            n: 20,
        }
    }

    fn policy(name: &str, goodput: f64, p99: f64, recover: Option<f64>) -> PolicyOutcome {
        PolicyOutcome {
            name: name.into(),
            specs: if name == "observed" {
                Vec::new()
            } else {
                vec![format!("budget:ratio=0.1 # {name}")]
            },
            goodput_rps: est(goodput, goodput * 0.05),
            error_rate: est(0.1, 0.01),
            p99_ms: est(p99, p99 * 0.1),
            peak_amplification: est(1.5, 0.1),
            peak_queue: est(40.0, 4.0),
            time_to_recover_s: recover.map(|r| est(r, 1.0)),
            outlived_trigger: if recover.is_none() { 0.9 } else { 0.0 },
            robust: name != "observed",
        }
    }

    /// A hand-built replay answer: the observed policy never recovers, a retry budget does.
    pub(crate) fn view() -> ReplayView {
        ReplayView {
            verdict: Verdict::Good,
            fidelity: vec![FidelityCheck {
                metric: "incident amplification api→inventory".into(),
                observed: 1.96,
                replayed: 1.9,
                tolerance: 0.1,
                ok: true,
            }],
            policies: vec![
                policy("observed", 40.0, 900.0, None),
                policy("retry budget 10 %", 95.0, 180.0, Some(4.0)),
                policy("circuit breaker", 80.0, 250.0, Some(9.0)),
            ],
            recommendation: "A retry budget of 10 % on api→inventory would have recovered within 4 s of the fault's end in every seed and across the band".into(),
            seeds: 20,
        }
    }

    #[test]
    fn three_charts_with_whiskers_and_the_observed_policy_first() {
        let charts: Vec<ChartFile> = specs(&view()).into_iter().map(|r| r.unwrap()).collect();
        let stems: Vec<&str> = charts.iter().map(|c| c.stem).collect();
        assert_eq!(stems, ["replay-goodput", "replay-p99", "replay-recovery"]);
        let Chart::Bars(b) = &charts[0].chart else {
            panic!()
        };
        assert_eq!(b.rows[0].label, "observed");
        assert_eq!(b.rows[1].values, vec![95.0]);
        assert_eq!(b.intervals[1], vec![Some((90.25, 99.75))]);
        let Chart::Bars(r) = &charts[2].chart else {
            panic!()
        };
        assert!(r.rows[0].values[0].is_nan());
        assert_eq!(r.rows[0].note, "never recovered");
        assert_eq!(r.intervals[0], vec![None]);
    }

    #[test]
    fn recovery_is_left_out_when_nothing_recovered() {
        let mut v = view();
        v.policies
            .iter_mut()
            .for_each(|p| p.time_to_recover_s = None);
        let out = specs(&v);
        assert!(out[2].is_err() && out[0].is_ok());
    }
}
