//! Ranking and the recommendation in plain words. Alternatives rank by: robust across the
//! sensitivity band, share of seeds where the overload outlived the trigger, goodput (in
//! steps of 1 % of the best, so noise does not decide), error rate, peak amplification,
//! p99. A claim that a policy "would have prevented it" is made only when it holds across
//! the band and its confidence interval clears the observed policy's.

use crate::model::replay::PolicyOutcome;

/// Goodputs within this share of the best are ranked as equal.
pub const GOODPUT_STEP: f64 = 0.01;
/// The observed policy "collapsed" when the overload outlived the trigger in more than this
/// share of seeds.
pub const COLLAPSE_SHARE: f64 = 0.5;

/// Sorts the alternatives (every outcome but the first, the observed one), best first.
pub fn rank(outcomes: &mut [PolicyOutcome]) {
    let Some((_, alts)) = outcomes.split_first_mut() else {
        return;
    };
    let best = alts
        .iter()
        .map(|o| o.goodput_rps.mean)
        .fold(0.0, f64::max)
        .max(1e-9);
    let step = |o: &PolicyOutcome| -((o.goodput_rps.mean / best / GOODPUT_STEP).round() as i64);
    alts.sort_by(|a, b| {
        (!a.robust)
            .cmp(&!b.robust)
            .then(a.outlived_trigger.total_cmp(&b.outlived_trigger))
            .then(step(a).cmp(&step(b)))
            .then(a.error_rate.mean.total_cmp(&b.error_rate.mean))
            .then(
                a.peak_amplification
                    .mean
                    .total_cmp(&b.peak_amplification.mean),
            )
            .then(a.p99_ms.mean.total_cmp(&b.p99_ms.mean))
            .then(a.name.cmp(&b.name))
    });
}

/// A gain must also matter: at least this share more goodput…
pub const MIN_GOODPUT_GAIN: f64 = 0.02;
/// …or this much less error rate (absolute).
pub const MIN_ERROR_DROP: f64 = 0.01;

/// Whether `alt` did clearly better than `observed`: it recovered where the observed policy
/// collapsed, or its goodput (or error rate) interval clears the observed one by a margin
/// that matters.
pub fn clearly_better(alt: &PolicyOutcome, observed: &PolicyOutcome) -> bool {
    let rescued = observed.outlived_trigger > COLLAPSE_SHARE && alt.outlived_trigger == 0.0;
    let (g, og) = (&alt.goodput_rps, &observed.goodput_rps);
    let goodput = g.lo > og.hi && g.mean >= (1.0 + MIN_GOODPUT_GAIN) * og.mean;
    let (e, oe) = (&alt.error_rate, &observed.error_rate);
    let errors = e.hi < oe.lo && oe.mean - e.mean >= MIN_ERROR_DROP && g.hi >= og.lo;
    rescued || goodput || errors
}

/// What set the incident off, as far as the replay can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A fault at a source service (the model's fault window).
    Fault,
    /// An external load surge (the model's arrival schedule), no fault: recovery is not
    /// measured, since it counts from a fault's end.
    Surge,
    /// Neither: nothing to fix.
    Nothing,
}

fn figures(o: &PolicyOutcome, cause: Cause) -> String {
    let ttr = match (cause, o.time_to_recover_s) {
        (Cause::Surge, _) => String::new(),
        (_, Some(t)) => format!(", recovered {:.0} s after the fault ended", t.mean),
        (_, None) => ", did not recover in most seeds".to_string(),
    };
    format!(
        "goodput {:.1} req/s, error rate {:.1} %, p99 {:.0} ms{ttr}",
        o.goodput_rps.mean,
        100.0 * o.error_rate.mean,
        o.p99_ms.mean
    )
}

/// The recommendation for ranked outcomes (observed first); `cause` says what set the
/// incident off, `band` describes the sensitivity band (`None`: not swept).
pub fn recommendation(outcomes: &[PolicyOutcome], cause: Cause, band: Option<&str>) -> String {
    let (Some(observed), Some(best)) = (outcomes.first(), outcomes.get(1)) else {
        return "No alternative policy was replayed.".into();
    };
    if cause == Cause::Nothing {
        return "The traces show no fault at a source service and no load surge, so there is \
                nothing to fix: the observed policy stands."
            .into();
    }
    let figures = |o: &PolicyOutcome| figures(o, cause);
    let next: Vec<&str> = outcomes
        .iter()
        .skip(2)
        .take(2)
        .map(|o| o.name.as_str())
        .collect();
    let then = if next.is_empty() {
        String::new()
    } else {
        format!(" Next best: {}.", next.join(", "))
    };
    let obs = format!("the observed policy had {}", figures(observed));
    if !clearly_better(best, observed) {
        return format!(
            "No alternative clearly beat the observed policy ({obs}). The best ranked, {}, had {}; \
             the difference is within the seeds' confidence intervals or too small to matter, so nothing here justifies a change.{then}",
            best.name,
            figures(best)
        );
    }
    if cause == Cause::Surge {
        return format!(
            "{} would have done better under the same load surge: {}; {obs}. The replay measures \
             recovery from a fault's end, so with a surge as the trigger this compares goodput, \
             errors and latency only, not whether the overload would have outlived the surge.{then}",
            best.name,
            figures(best)
        );
    }
    let verb = if observed.outlived_trigger > COLLAPSE_SHARE {
        "would have prevented the collapse"
    } else {
        "would have done better"
    };
    match (best.robust, band) {
        (_, None) => format!(
            "{} did best in the replay ({}), while {obs}; no sensitivity sweep was run, so \
             this is not yet a robust claim.{then}",
            best.name,
            figures(best)
        ),
        (true, Some(band)) => format!(
            "{} {verb}: {} in every seed, and the result holds across the band ({band}); {obs}.{then}",
            best.name,
            figures(best)
        ),
        (false, Some(band)) => format!(
            "{} did best in the replay ({}), while {obs}; but the result does not hold across \
             the band ({band}), so treat it as a lead, not a conclusion.{then}",
            best.name,
            figures(best)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::replay::Estimate;

    fn est(m: f64) -> Estimate {
        Estimate {
            mean: m,
            lo: m * 0.95,
            hi: m * 1.05,
            n: 5,
        }
    }

    fn outcome(name: &str, goodput: f64, outlived: f64, robust: bool) -> PolicyOutcome {
        PolicyOutcome {
            name: name.into(),
            specs: vec![],
            goodput_rps: est(goodput),
            error_rate: est(0.1),
            p99_ms: est(100.0),
            peak_amplification: est(1.5),
            peak_queue: est(3.0),
            time_to_recover_s: (outlived == 0.0).then(|| est(2.0)),
            outlived_trigger: outlived,
            robust,
        }
    }

    #[test]
    fn robust_recovery_ranks_first_and_is_claimed() {
        let mut v = vec![
            outcome("observed", 10.0, 1.0, false),
            outcome("fragile", 50.0, 0.0, false),
            outcome("budget", 40.0, 0.0, true),
            outcome("worse", 5.0, 1.0, false),
        ];
        rank(&mut v);
        assert_eq!(v[1].name, "budget");
        let r = recommendation(&v, Cause::Fault, Some("band"));
        assert!(
            r.starts_with("budget would have prevented the collapse"),
            "{r}"
        );
        assert!(recommendation(&v, Cause::Nothing, Some("band")).contains("nothing to fix"));
        assert!(recommendation(&v, Cause::Fault, None).contains("no sensitivity sweep"));
        let surge = recommendation(&v, Cause::Surge, Some("band"));
        assert!(
            surge.starts_with("budget would have done better under the same load surge"),
            "{surge}"
        );
        assert!(!surge.contains("recovered "), "{surge}");
    }

    #[test]
    fn no_claim_within_the_noise() {
        let v = vec![
            outcome("observed", 10.0, 0.0, true),
            outcome("x", 10.2, 0.0, true),
        ];
        assert!(recommendation(&v, Cause::Fault, Some("band"))
            .starts_with("No alternative clearly beat"));
    }
}
