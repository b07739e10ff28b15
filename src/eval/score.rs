//! Scoring: each case's analysis against its truth, then the corpus' figures — the
//! root-cause ranking's AS@k per fault kind, mechanism recall and precision, role accuracy,
//! the controls' false-positive rate, the window error and the calibration of the ranking's
//! confidence — and the floors `--fail-under` checks. Pure: no I/O, no analysis.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::observe::Observed;
use super::truth::{Truth, CONTROL, LOAD_SURGE, UNLABELLED};
use crate::analyze::stats::quantile;

/// The k of AS@k.
pub const KS: [usize; 3] = [1, 3, 5];
/// Confidence bands of the calibration: `[0, 0.2)`, …, `[0.8, 1.0]`.
pub const BANDS: usize = 5;
/// The fault kinds in the order the table lists them (others follow by name).
pub const KIND_ORDER: [&str; 10] = [
    "cpu",
    "network_delay",
    "errors",
    "silent_errors",
    "pool_exhaustion",
    "lock_contention",
    "slow_consumer",
    LOAD_SURGE,
    "retry_storm",
    UNLABELLED,
];
/// Truth mechanisms no detector reports: left out of recall and precision.
pub const NO_DETECTOR: [&str; 1] = ["timeouts"];
/// The metrics `--fail-under` knows.
pub const METRICS: [&str; 9] = [
    "as1",
    "as3",
    "as5",
    "instance",
    "mechanism_recall",
    "mechanism_precision",
    "role_accuracy",
    "control_quiet",
    "incident_detected",
];

/// The detector kind that reports a truth mechanism (`None`: no detector does).
pub fn detector_for(mechanism: &str) -> Option<&str> {
    match mechanism {
        "metastable_failure" => Some("metastable_overload"),
        m if NO_DETECTOR.contains(&m) => None,
        m => Some(m),
    }
}

/// One case: its truth and what the analysis said (or why it could not say anything).
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub name: String,
    pub truth: Truth,
    pub observed: std::result::Result<Observed, String>,
}

/// How one case scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseScore {
    pub name: String,
    pub fault_kind: String,
    pub root_cause: Option<String>,
    pub root_cause_instance: Option<String>,
    /// 1-based position of the true service in the ranking.
    pub rank: Option<usize>,
    /// A load-surge case whose surge the analysis recognised at the true entry service.
    pub surge_hit: bool,
    /// Whether the named instance is the true one; `None` when either side names none.
    pub instance_hit: Option<bool>,
    /// The first three candidates.
    pub top: Vec<String>,
    /// The first candidate's confidence.
    pub confidence: Option<f64>,
    /// Detector kinds: expected and found, expected and missed, found but not expected.
    pub mechanisms_found: Vec<String>,
    pub mechanisms_missed: Vec<String>,
    pub mechanisms_extra: Vec<String>,
    /// Truth mechanisms no detector reports (left out).
    pub mechanisms_unscored: Vec<String>,
    /// Every service the truth names, with the role the analysis gave it.
    pub roles: Vec<RoleCheck>,
    /// Controls only: a warning-or-worse finding or a named root cause.
    pub false_alarm: Option<bool>,
    /// Incident cases only.
    pub window: Option<WindowError>,
}

impl CaseScore {
    /// A control: judged by staying quiet, not by a ranking.
    pub fn is_control(&self) -> bool {
        self.fault_kind == CONTROL
    }

    /// The ranking can be judged: not a control, and the truth names the service.
    pub fn ranked(&self) -> bool {
        !self.is_control() && self.root_cause.is_some()
    }

    /// The true service among the first `k` (or, for a load surge, the surge recognised).
    pub fn hit_at(&self, k: usize) -> bool {
        self.surge_hit || self.rank.is_some_and(|r| r <= k)
    }
}

/// A service's true role and the analysis' (`healthy` when the analysis gives the service
/// no role: it saw nothing wrong with it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleCheck {
    pub service: String,
    pub truth: String,
    pub observed: String,
}

impl RoleCheck {
    pub fn right(&self) -> bool {
        self.truth == self.observed
    }
}

/// Detected window minus true window, seconds (`None` both: no incident detected).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WindowError {
    pub start_s: Option<f64>,
    pub end_s: Option<f64>,
}

/// Scores one case.
pub fn score_case(name: &str, t: &Truth, o: &Observed) -> CaseScore {
    let rank = t
        .root_cause
        .as_ref()
        .filter(|_| !t.is_control())
        .and_then(|rc| o.ranking.iter().position(|c| &c.service == rc))
        .map(|p| p + 1);
    let surge_hit = t.fault_kind == LOAD_SURGE
        && t.root_cause.is_some()
        && o.surge_at.as_ref() == t.root_cause.as_ref();
    let instance_hit = match (&t.root_cause_instance, &o.instance) {
        (Some(want), Some(got)) => Some(want == got),
        _ => None,
    };
    let (found, missed, extra, unscored) = mechanisms(t, o);
    CaseScore {
        name: name.to_string(),
        fault_kind: t.fault_kind.clone(),
        root_cause: t.root_cause.clone(),
        root_cause_instance: t.root_cause_instance.clone(),
        rank,
        surge_hit,
        instance_hit,
        top: o
            .ranking
            .iter()
            .take(3)
            .map(|c| c.service.clone())
            .collect(),
        confidence: o.ranking.first().and_then(|c| c.confidence),
        mechanisms_found: found,
        mechanisms_missed: missed,
        mechanisms_extra: extra,
        mechanisms_unscored: unscored,
        roles: roles(t, o),
        false_alarm: t.is_control().then(|| o.raises_alarm()),
        window: window_error(t, o),
    }
}

type MechanismSplit = (Vec<String>, Vec<String>, Vec<String>, Vec<String>);

fn mechanisms(t: &Truth, o: &Observed) -> MechanismSplit {
    let mut unscored = BTreeSet::new();
    let mut expected = BTreeSet::new();
    for m in &t.mechanisms {
        match detector_for(m) {
            Some(d) => expected.insert(d.to_string()),
            None => unscored.insert(m.clone()),
        };
    }
    let found = expected.intersection(&o.mechanisms).cloned().collect();
    let missed = expected.difference(&o.mechanisms).cloned().collect();
    let extra = o.mechanisms.difference(&expected).cloned().collect();
    (found, missed, extra, unscored.into_iter().collect())
}

fn roles(t: &Truth, o: &Observed) -> Vec<RoleCheck> {
    t.roles
        .iter()
        .map(|(service, want)| RoleCheck {
            service: service.clone(),
            truth: want.clone(),
            observed: o
                .roles
                .get(service)
                .map_or("healthy", String::as_str)
                .to_string(),
        })
        .collect()
}

fn window_error(t: &Truth, o: &Observed) -> Option<WindowError> {
    let (start, end) = t.incident.filter(|_| !t.is_control())?;
    let base = t.time_base_ns.unwrap_or(o.first_span_ns);
    // Whole milliseconds: finer than any bucket, and no float noise in the document.
    let offset = |ns: i64| ((ns - base) as f64 / 1e6).round() / 1e3;
    Some(match o.incident_ns {
        Some((s, e)) => WindowError {
            start_s: Some(offset(s) - start),
            end_s: Some(offset(e) - end),
        },
        None => WindowError {
            start_s: None,
            end_s: None,
        },
    })
}

/// The corpus' figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    /// Cases found (failed ones included).
    pub cases: usize,
    /// Cases the analysis could not run on; left out of every figure.
    pub failed: Vec<Failure>,
    /// Per fault kind (controls excluded), in [`KIND_ORDER`].
    pub ranking: Vec<RankRow>,
    pub ranking_overall: RankRow,
    pub mechanisms: MechanismScore,
    pub roles: RoleScore,
    pub controls: ControlScore,
    pub windows: WindowScore,
    pub calibration: Calibration,
    #[serde(skip)]
    pub per_case: Vec<CaseScore>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub name: String,
    pub error: String,
}

/// AS@k over the cases of one kind whose truth names the root cause.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankRow {
    pub kind: String,
    pub n: usize,
    /// Cases of this kind whose truth names no root cause (not scored here).
    pub no_root_cause: usize,
    pub as1: Option<f64>,
    pub as3: Option<f64>,
    pub as5: Option<f64>,
    pub instance: InstanceRate,
}

/// Over the cases whose truth names an instance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InstanceRate {
    pub n: usize,
    /// Cases where the analysis named an instance at all.
    pub named: usize,
    pub hits: usize,
    /// `hits / n`; `None` while the analysis names no instance in any of them.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MechanismScore {
    pub recall: Option<f64>,
    pub precision: Option<f64>,
    pub true_positives: usize,
    pub false_negatives: usize,
    pub false_positives: usize,
    /// By detector kind.
    pub per_mechanism: Vec<MechanismRow>,
    /// Truth mechanisms without a detector, with the number of cases naming each.
    pub unscored: BTreeMap<String, usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MechanismRow {
    pub mechanism: String,
    /// Cases whose truth has it.
    pub expected: usize,
    /// Of those, found.
    pub found: usize,
    /// Cases where it was reported but the truth does not have it.
    pub extra: usize,
    pub recall: Option<f64>,
    pub precision: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleScore {
    /// Services the truths name.
    pub n: usize,
    pub right: usize,
    pub accuracy: Option<f64>,
    /// By true role.
    pub per_role: Vec<RoleRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleRow {
    pub role: String,
    pub n: usize,
    pub right: usize,
    pub accuracy: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlScore {
    pub n: usize,
    pub false_positives: usize,
    pub false_positive_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowScore {
    /// Incident cases (not controls, with a true window).
    pub n: usize,
    pub not_detected: usize,
    /// Absolute error over the detected ones, seconds.
    pub start: Spread,
    pub end: Spread,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub bands: Vec<Band>,
    /// Cases with a first candidate that carries no confidence.
    pub without_confidence: usize,
}

/// Cases whose first candidate's confidence is in `[lo, hi)` (the last band includes 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    pub lo: f64,
    pub hi: f64,
    pub n: usize,
    pub hits: usize,
    pub hit_rate: Option<f64>,
}

/// Scores every case and aggregates.
pub fn score(results: &[CaseResult]) -> Scores {
    let mut failed = Vec::new();
    let mut per_case = Vec::new();
    for r in results {
        match &r.observed {
            Ok(o) => per_case.push(score_case(&r.name, &r.truth, o)),
            Err(e) => failed.push(Failure {
                name: r.name.clone(),
                error: e.clone(),
            }),
        }
    }
    aggregate(results.len(), failed, per_case)
}

fn aggregate(cases: usize, failed: Vec<Failure>, per_case: Vec<CaseScore>) -> Scores {
    let ranked: Vec<&CaseScore> = per_case.iter().filter(|c| !c.is_control()).collect();
    let mut kinds: Vec<&str> = ranked.iter().map(|c| c.fault_kind.as_str()).collect();
    // The listed kinds in their order, then any other by name.
    kinds.sort_by_key(|k| {
        let listed = KIND_ORDER.iter().position(|o| o == k);
        (listed.unwrap_or(KIND_ORDER.len()), *k)
    });
    kinds.dedup();
    let ranking = kinds
        .iter()
        .map(|k| {
            let of_kind: Vec<&CaseScore> = ranked
                .iter()
                .copied()
                .filter(|c| c.fault_kind == *k)
                .collect();
            rank_row(k, &of_kind)
        })
        .collect();
    Scores {
        cases,
        failed,
        ranking,
        ranking_overall: rank_row("all", &ranked),
        mechanisms: mechanism_score(&per_case),
        roles: role_score(&per_case),
        controls: control_score(&per_case),
        windows: window_score(&per_case),
        calibration: calibration(&per_case),
        per_case,
    }
}

fn share(num: usize, den: usize) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn rank_row(kind: &str, cases: &[&CaseScore]) -> RankRow {
    let scored: Vec<&&CaseScore> = cases.iter().filter(|c| c.ranked()).collect();
    let at = |k: usize| share(scored.iter().filter(|c| c.hit_at(k)).count(), scored.len());
    let with_instance: Vec<&&CaseScore> = cases
        .iter()
        .filter(|c| c.root_cause_instance.is_some())
        .collect();
    let named = with_instance
        .iter()
        .filter(|c| c.instance_hit.is_some())
        .count();
    let hits = with_instance
        .iter()
        .filter(|c| c.instance_hit == Some(true))
        .count();
    RankRow {
        kind: kind.to_string(),
        n: scored.len(),
        no_root_cause: cases.len() - scored.len(),
        as1: at(KS[0]),
        as3: at(KS[1]),
        as5: at(KS[2]),
        instance: InstanceRate {
            n: with_instance.len(),
            named,
            hits,
            rate: share(hits, with_instance.len()).filter(|_| named > 0),
        },
    }
}

fn mechanism_score(cases: &[CaseScore]) -> MechanismScore {
    #[derive(Default)]
    struct Tally {
        expected: usize,
        found: usize,
        extra: usize,
    }
    let mut by: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut unscored: BTreeMap<String, usize> = BTreeMap::new();
    for c in cases {
        for m in &c.mechanisms_found {
            let t = by.entry(m).or_default();
            t.expected += 1;
            t.found += 1;
        }
        for m in &c.mechanisms_missed {
            by.entry(m).or_default().expected += 1;
        }
        for m in &c.mechanisms_extra {
            by.entry(m).or_default().extra += 1;
        }
        for m in &c.mechanisms_unscored {
            *unscored.entry(m.clone()).or_default() += 1;
        }
    }
    let tp: usize = by.values().map(|t| t.found).sum();
    let fneg: usize = by.values().map(|t| t.expected - t.found).sum();
    let fp: usize = by.values().map(|t| t.extra).sum();
    MechanismScore {
        recall: share(tp, tp + fneg),
        precision: share(tp, tp + fp),
        true_positives: tp,
        false_negatives: fneg,
        false_positives: fp,
        per_mechanism: by
            .into_iter()
            .map(|(m, t)| MechanismRow {
                mechanism: m.to_string(),
                expected: t.expected,
                found: t.found,
                extra: t.extra,
                recall: share(t.found, t.expected),
                precision: share(t.found, t.found + t.extra),
            })
            .collect(),
        unscored,
    }
}

fn role_score(cases: &[CaseScore]) -> RoleScore {
    let mut by: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in cases.iter().flat_map(|c| &c.roles) {
        let t = by.entry(&r.truth).or_default();
        t.0 += 1;
        t.1 += usize::from(r.right());
    }
    let (n, right) = by.values().fold((0, 0), |(n, r), t| (n + t.0, r + t.1));
    let mut per_role: Vec<RoleRow> = by
        .into_iter()
        .map(|(role, (n, right))| RoleRow {
            role: role.to_string(),
            n,
            right,
            accuracy: share(right, n),
        })
        .collect();
    per_role.sort_by_key(|r| (role_order(&r.role), r.role.clone()));
    RoleScore {
        n,
        right,
        accuracy: share(right, n),
        per_role,
    }
}

/// Source first, healthy last, unknown roles after.
fn role_order(role: &str) -> usize {
    ["source", "infected", "affected", "healthy"]
        .iter()
        .position(|r| *r == role)
        .unwrap_or(4)
}

fn control_score(cases: &[CaseScore]) -> ControlScore {
    let controls: Vec<bool> = cases.iter().filter_map(|c| c.false_alarm).collect();
    let fp = controls.iter().filter(|&&a| a).count();
    ControlScore {
        n: controls.len(),
        false_positives: fp,
        false_positive_rate: share(fp, controls.len()),
    }
}

fn window_score(cases: &[CaseScore]) -> WindowScore {
    let windows: Vec<WindowError> = cases.iter().filter_map(|c| c.window).collect();
    let spread = |pick: fn(&WindowError) -> Option<f64>| {
        let mut abs: Vec<f64> = windows.iter().filter_map(pick).map(f64::abs).collect();
        Spread {
            median_s: quantile(&mut abs, 0.5),
            p90_s: quantile(&mut abs, 0.9),
        }
    };
    WindowScore {
        n: windows.len(),
        not_detected: windows.iter().filter(|w| w.start_s.is_none()).count(),
        start: spread(|w| w.start_s),
        end: spread(|w| w.end_s),
    }
}

/// Hit rate per band of the first candidate's confidence, over the cases where a hit can
/// be judged (a ranked case, or a control, where naming anyone is a miss).
fn calibration(cases: &[CaseScore]) -> Calibration {
    let mut bands: Vec<Band> = (0..BANDS)
        .map(|b| Band {
            lo: b as f64 / BANDS as f64,
            hi: (b + 1) as f64 / BANDS as f64,
            n: 0,
            hits: 0,
            hit_rate: None,
        })
        .collect();
    let mut without_confidence = 0;
    for c in cases.iter().filter(|c| c.ranked() || c.is_control()) {
        if c.top.is_empty() {
            continue;
        }
        let Some(conf) = c.confidence.filter(|v| v.is_finite()) else {
            without_confidence += 1;
            continue;
        };
        let b = ((conf.clamp(0.0, 1.0) * BANDS as f64) as usize).min(BANDS - 1);
        bands[b].n += 1;
        bands[b].hits += usize::from(c.ranked() && c.hit_at(1));
    }
    for b in &mut bands {
        b.hit_rate = share(b.hits, b.n);
    }
    Calibration {
        bands,
        without_confidence,
    }
}

impl Scores {
    /// A metric by its `--fail-under` name (see [`METRICS`]); `None` when no case
    /// measures it.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let r = &self.ranking_overall;
        match name {
            "as1" => r.as1,
            "as3" => r.as3,
            "as5" => r.as5,
            "instance" => r.instance.rate,
            "mechanism_recall" => self.mechanisms.recall,
            "mechanism_precision" => self.mechanisms.precision,
            "role_accuracy" => self.roles.accuracy,
            "control_quiet" => self.controls.false_positive_rate.map(|r| 1.0 - r),
            "incident_detected" => {
                let w = &self.windows;
                share(w.n - w.not_detected, w.n)
            }
            _ => None,
        }
    }
}

/// A `--fail-under METRIC=VALUE` floor.
#[derive(Debug, Clone, PartialEq)]
pub struct Floor {
    pub metric: String,
    pub value: f64,
}

/// Parses `as1=0.8` or `as1=80%`.
pub fn parse_floor(spec: &str) -> Result<Floor> {
    let (metric, value) = spec
        .split_once('=')
        .with_context(|| format!("--fail-under `{spec}`: expected METRIC=VALUE"))?;
    let metric = metric.trim();
    if !METRICS.contains(&metric) {
        bail!(
            "--fail-under `{spec}`: unknown metric `{metric}` (one of {})",
            METRICS.join(", ")
        );
    }
    let value = value.trim();
    let parsed = match value.strip_suffix('%') {
        Some(pct) => pct.trim().parse::<f64>().ok().map(|v| v / 100.0),
        None => value.parse::<f64>().ok(),
    };
    let value = parsed
        .filter(|v| (0.0..=1.0).contains(v))
        .with_context(|| {
            format!("--fail-under `{spec}`: the floor must be in 0..1 (or 0..100 %)")
        })?;
    Ok(Floor {
        metric: metric.to_string(),
        value,
    })
}

/// What breaks the floors, one line each: a metric below its floor, a metric no case
/// measures, a case the analysis could not run on. Empty: all floors hold.
pub fn check_floors(s: &Scores, floors: &[Floor]) -> Vec<String> {
    if floors.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = floors
        .iter()
        .filter_map(|f| match s.metric(&f.metric) {
            None => Some(format!("{} is n/a (no case measures it)", f.metric)),
            Some(v) if v < f.value => Some(format!(
                "{} = {:.3} is below its floor {:.3}",
                f.metric, v, f.value
            )),
            Some(_) => None,
        })
        .collect();
    if !s.failed.is_empty() {
        out.push(format!("{} case(s) could not be analysed", s.failed.len()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::observe::Candidate;
    use super::*;

    const S: i64 = 1_000_000_000;

    fn truth(kind: &str, rc: Option<&str>) -> Truth {
        Truth {
            root_cause: rc.map(str::to_string),
            fault_kind: kind.to_string(),
            time_base_ns: Some(0),
            incident: Some((60.0, 120.0)),
            ..Truth::default()
        }
    }

    fn ranked(services: &[&str]) -> Observed {
        Observed {
            ranking: services
                .iter()
                .map(|s| Candidate {
                    service: s.to_string(),
                    score: 0.5,
                    confidence: None,
                })
                .collect(),
            incident_ns: Some((60 * S, 120 * S)),
            ..Observed::default()
        }
    }

    fn case(name: &str, t: Truth, o: Observed) -> CaseResult {
        CaseResult {
            name: name.to_string(),
            truth: t,
            observed: Ok(o),
        }
    }

    #[test]
    fn as_at_k_counts_the_true_service_among_the_first_k_per_kind_and_overall() {
        let s = score(&[
            case("a", truth("cpu", Some("db")), ranked(&["db", "api"])),
            case("b", truth("cpu", Some("db")), ranked(&["api", "web", "db"])),
            case(
                "c",
                truth("errors", Some("auth")),
                ranked(&["a", "b", "c", "d", "e", "auth"]),
            ),
            case("d", truth("none", None), ranked(&[])),
        ]);
        let kinds: Vec<&str> = s.ranking.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["cpu", "errors"], "controls have no ranking row");
        let cpu = &s.ranking[0];
        assert_eq!(
            (cpu.n, cpu.as1, cpu.as3, cpu.as5),
            (2, Some(0.5), Some(1.0), Some(1.0))
        );
        let all = &s.ranking_overall;
        assert_eq!(all.n, 3);
        assert_eq!(
            (all.as1, all.as3, all.as5),
            (Some(1.0 / 3.0), Some(2.0 / 3.0), Some(2.0 / 3.0))
        );
        assert_eq!(s.per_case[2].rank, Some(6));
        assert_eq!(s.per_case[1].top, ["api", "web", "db"]);
    }

    #[test]
    fn kinds_outside_the_vocabulary_follow_it_by_name() {
        let s = score(&[
            case("a", truth("zebra", Some("x")), ranked(&[])),
            case("b", truth("unlabelled", Some("x")), ranked(&[])),
            case("c", truth("apple", Some("x")), ranked(&[])),
            case("d", truth("retry_storm", Some("x")), ranked(&[])),
        ]);
        let kinds: Vec<&str> = s.ranking.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["retry_storm", "unlabelled", "apple", "zebra"]);
        assert_eq!(s.ranking[0].as5, Some(0.0));
    }

    #[test]
    fn a_load_surge_recognised_at_the_true_entry_is_a_hit_at_every_k() {
        let mut o = ranked(&["db"]);
        o.surge_at = Some("frontend".into());
        let mut elsewhere = o.clone();
        elsewhere.surge_at = Some("api".into());
        let s = score(&[
            case("hit", truth(LOAD_SURGE, Some("frontend")), o.clone()),
            case("miss", truth(LOAD_SURGE, Some("frontend")), elsewhere),
            case("unnamed", truth(LOAD_SURGE, None), o),
        ]);
        let row = &s.ranking[0];
        assert_eq!((row.n, row.no_root_cause), (2, 1));
        assert_eq!((row.as1, row.as5), (Some(0.5), Some(0.5)));
        assert!(s.per_case[0].surge_hit && !s.per_case[1].surge_hit);
    }

    #[test]
    fn a_surge_counts_only_in_a_load_surge_case() {
        let mut o = ranked(&["db"]);
        o.surge_at = Some("frontend".into());
        let s = score(&[case("cpu", truth("cpu", Some("frontend")), o)]);
        assert_eq!(s.ranking_overall.as5, Some(0.0));
    }

    #[test]
    fn mechanisms_map_metastable_and_leave_timeouts_out() {
        let mut t = truth("retry_storm", Some("db"));
        t.mechanisms = ["metastable_failure", "timeouts", "retry_amplification"]
            .map(String::from)
            .to_vec();
        let mut o = ranked(&["db"]);
        o.mechanisms = ["metastable_overload", "error_propagation"]
            .map(String::from)
            .into();
        let s = score(&[case("a", t, o)]);
        let m = &s.mechanisms;
        assert_eq!(
            (m.true_positives, m.false_negatives, m.false_positives),
            (1, 1, 1)
        );
        assert_eq!((m.recall, m.precision), (Some(0.5), Some(0.5)));
        assert_eq!(m.unscored.get("timeouts"), Some(&1));
        let names: Vec<&str> = m
            .per_mechanism
            .iter()
            .map(|r| r.mechanism.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "error_propagation",
                "metastable_overload",
                "retry_amplification"
            ]
        );
        assert_eq!(m.per_mechanism[0].precision, Some(0.0));
        assert_eq!(m.per_mechanism[0].recall, None);
        assert_eq!(m.per_mechanism[2].recall, Some(0.0));
        assert_eq!(s.per_case[0].mechanisms_missed, ["retry_amplification"]);
    }

    #[test]
    fn roles_are_judged_over_the_services_the_truth_names_and_silence_means_healthy() {
        let mut t = truth("cpu", Some("db"));
        for (svc, role) in [
            ("db", "source"),
            ("api", "infected"),
            ("cache", "healthy"),
            ("mq", "affected"),
        ] {
            t.roles.insert(svc.into(), role.into());
        }
        let mut o = ranked(&["db"]);
        for (svc, role) in [("db", "source"), ("api", "affected"), ("extra", "infected")] {
            o.roles.insert(svc.into(), role.into());
        }
        let s = score(&[case("a", t, o)]);
        assert_eq!(
            (s.roles.n, s.roles.right, s.roles.accuracy),
            (4, 2, Some(0.5))
        );
        let per: Vec<(&str, usize, usize)> = s
            .roles
            .per_role
            .iter()
            .map(|r| (r.role.as_str(), r.n, r.right))
            .collect();
        assert_eq!(
            per,
            [
                ("source", 1, 1),
                ("infected", 1, 0),
                ("affected", 1, 0),
                ("healthy", 1, 1)
            ]
        );
        let wrong: Vec<&RoleCheck> = s.per_case[0].roles.iter().filter(|r| !r.right()).collect();
        assert_eq!(wrong[0].service, "api");
        assert_eq!(
            wrong[1].observed, "healthy",
            "mq has no role in the analysis"
        );
    }

    #[test]
    fn a_control_is_a_false_positive_with_a_warning_or_a_named_root_cause() {
        let mut warned = Observed::default();
        warned.mechanisms.insert("queue_growth".into());
        let s = score(&[
            case("quiet", truth("none", None), Observed::default()),
            case("named", truth("none", None), ranked(&["api"])),
            case("warned", truth("none", None), warned),
            case("quiet2", truth("none", None), Observed::default()),
        ]);
        let c = &s.controls;
        assert_eq!(
            (c.n, c.false_positives, c.false_positive_rate),
            (4, 2, Some(0.5))
        );
        assert_eq!(s.metric("control_quiet"), Some(0.5));
        assert_eq!(s.windows.n, 0, "a control's window is not an incident");
        assert_eq!(s.ranking_overall.n, 0);
        assert_eq!(s.metric("as1"), None);
    }

    #[test]
    fn window_error_is_absolute_seconds_and_a_missed_incident_is_counted_apart() {
        let shifted = |ds: i64, de: i64| {
            let mut o = ranked(&["db"]);
            o.incident_ns = Some(((60 + ds) * S, (120 + de) * S));
            o
        };
        let mut missed = ranked(&[]);
        missed.incident_ns = None;
        // Without a time base, offsets count from the first span.
        let mut no_base = truth("cpu", Some("db"));
        no_base.time_base_ns = None;
        let mut from_first = shifted(100, 100);
        from_first.first_span_ns = 100 * S;
        let s = score(&[
            case("a", truth("cpu", Some("db")), shifted(-10, 0)),
            case("b", truth("cpu", Some("db")), shifted(2, 30)),
            case("c", truth("cpu", Some("db")), shifted(4, -20)),
            case("d", truth("cpu", Some("db")), missed),
            case("e", no_base, from_first),
        ]);
        let w = &s.windows;
        assert_eq!((w.n, w.not_detected), (5, 1));
        assert_eq!(w.start.median_s, Some(3.0)); // 0, 2, 4, 10
        assert_eq!(w.end.median_s, Some(10.0)); // 0, 0, 20, 30
        assert!(w.start.p90_s.unwrap() > 4.0 && w.start.p90_s.unwrap() <= 10.0);
        assert_eq!(
            s.per_case[1].window.unwrap().end_s,
            Some(30.0),
            "signed per case"
        );
        assert_eq!(s.metric("incident_detected"), Some(0.8));
    }

    #[test]
    fn calibration_bands_hold_the_first_candidates_confidence_or_say_none_is_given() {
        let with = |services: &[&str], c: f64| {
            let mut o = ranked(services);
            o.ranking[0].confidence = Some(c);
            o
        };
        let s = score(&[
            case("a", truth("cpu", Some("db")), with(&["db"], 0.9)),
            case("b", truth("cpu", Some("db")), with(&["api", "db"], 1.0)),
            case("c", truth("cpu", Some("db")), with(&["db"], 0.1)),
            case("d", truth("none", None), with(&["api"], 0.3)),
            case("e", truth("cpu", Some("db")), ranked(&["db"])),
            case("f", truth("cpu", Some("db")), ranked(&[])),
        ]);
        let bands: Vec<(usize, usize)> =
            s.calibration.bands.iter().map(|b| (b.n, b.hits)).collect();
        assert_eq!(bands, [(1, 1), (1, 0), (0, 0), (0, 0), (2, 1)]);
        assert_eq!(s.calibration.bands[4].hit_rate, Some(0.5));
        assert_eq!(s.calibration.bands[2].hit_rate, None);
        assert_eq!(s.calibration.without_confidence, 1, "e; f names nobody");
    }

    #[test]
    fn the_instance_rate_is_na_until_the_analysis_names_an_instance() {
        let mut t = truth("cpu", Some("db"));
        t.root_cause_instance = Some("db-2".into());
        let s = score(&[case("a", t.clone(), ranked(&["db"]))]);
        let i = &s.ranking_overall.instance;
        assert_eq!((i.n, i.named, i.rate), (1, 0, None));
        let mut named = ranked(&["db"]);
        named.instance = Some("db-2".into());
        let mut wrong = named.clone();
        wrong.instance = Some("db-1".into());
        let s = score(&[case("a", t.clone(), named), case("b", t, wrong)]);
        assert_eq!(s.ranking_overall.instance.rate, Some(0.5));
    }

    #[test]
    fn a_case_that_could_not_be_analysed_is_listed_and_left_out() {
        let s = score(&[
            case("ok", truth("cpu", Some("db")), ranked(&["db"])),
            CaseResult {
                name: "broken".into(),
                truth: truth("cpu", Some("db")),
                observed: Err("no spans".into()),
            },
        ]);
        assert_eq!((s.cases, s.ranking_overall.n), (2, 1));
        assert_eq!(s.failed[0].name, "broken");
        let floors = [parse_floor("as1=0.5").unwrap()];
        assert_eq!(
            check_floors(&s, &floors),
            ["1 case(s) could not be analysed"]
        );
    }

    #[test]
    fn floors_parse_fractions_and_percentages_and_refuse_nonsense() {
        assert_eq!(parse_floor("as1=0.8").unwrap().value, 0.8);
        assert_eq!(parse_floor(" as3 = 90% ").unwrap().value, 0.9);
        for bad in ["as1", "as9=0.5", "as1=1.5", "as1=-0.1", "as1=high"] {
            assert!(parse_floor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_metric_below_its_floor_or_unmeasured_breaks_it() {
        let s = score(&[
            case("a", truth("cpu", Some("db")), ranked(&["db"])),
            case("b", truth("cpu", Some("db")), ranked(&["api", "db"])),
        ]);
        let f = |spec: &str| check_floors(&s, &[parse_floor(spec).unwrap()]);
        assert!(f("as1=0.5").is_empty());
        assert!(f("as3=1").is_empty());
        assert_eq!(f("as1=0.6"), ["as1 = 0.500 is below its floor 0.600"]);
        assert_eq!(
            f("control_quiet=0.9"),
            ["control_quiet is n/a (no case measures it)"]
        );
        assert_eq!(s.metric("nonsense"), None);
    }
}
