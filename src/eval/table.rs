//! The eval table a person reads in a minute: the ranking's AS@k per fault kind, the
//! mechanisms, roles, controls, windows and calibration; with `cases`, every case with its
//! truth, the top three and what was missed.

use std::fmt::Write;

use super::score::{CaseScore, Scores, Spread, NO_DETECTOR};
use crate::output::safe;

/// Longest untrusted name printed as is (service and case names come from the data).
const MAX_NAME: usize = 60;

/// Renders the scores (and with `cases` the per-case listing).
pub fn render(s: &Scores, corpora: &[String], cases: bool) -> String {
    let mut out = String::new();
    header(&mut out, s, corpora);
    ranking(&mut out, s);
    mechanisms(&mut out, s);
    roles(&mut out, s);
    controls(&mut out, s);
    windows(&mut out, s);
    calibration(&mut out, s);
    failed(&mut out, s);
    if cases {
        per_case(&mut out, s);
    }
    out
}

/// Untrusted text for the terminal: long names cut (a table row stays a row), then what a
/// terminal would act on escaped.
fn clean(s: &str) -> String {
    let cut: String = s.chars().take(MAX_NAME).collect();
    let mut out = safe(&cut).into_owned();
    if s.chars().count() > MAX_NAME {
        out.push('…');
    }
    out
}

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{:.0} %", v * 100.0))
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1} s"))
}

fn header(out: &mut String, s: &Scores, corpora: &[String]) {
    let controls = s.controls.n;
    let names: Vec<String> = corpora.iter().map(|c| clean(c)).collect();
    let _ = writeln!(
        out,
        "cascade eval: {} case(s) in {} ({} incident(s), {controls} control(s), {} failed)",
        s.cases,
        names.join(", "),
        s.cases - s.failed.len() - controls,
        s.failed.len()
    );
}

fn ranking(out: &mut String, s: &Scores) {
    let _ = writeln!(
        out,
        "\nRoot cause: AS@k = the true service among the first k (a load surge also counts \
         when recognised at the true entry)"
    );
    let _ = writeln!(
        out,
        "  {:<18} {:>4} {:>6} {:>6} {:>6}  instance",
        "fault kind", "n", "AS@1", "AS@3", "AS@5"
    );
    for r in s.ranking.iter().chain([&s.ranking_overall]) {
        let instance = if r.instance.n == 0 {
            "–".to_string()
        } else {
            format!("{} (n={})", pct(r.instance.rate), r.instance.n)
        };
        let mut line = format!(
            "  {:<18} {:>4} {:>6} {:>6} {:>6}  {instance}",
            clean(&r.kind),
            r.n,
            pct(r.as1),
            pct(r.as3),
            pct(r.as5)
        );
        if r.no_root_cause > 0 && r.kind != "all" {
            let _ = write!(
                line,
                "  (+{} whose truth names no root cause)",
                r.no_root_cause
            );
        }
        let _ = writeln!(out, "{line}");
    }
}

fn mechanisms(out: &mut String, s: &Scores) {
    let m = &s.mechanisms;
    let _ = writeln!(
        out,
        "\nMechanisms: detector findings at warning or above vs the truth's mechanisms\n  \
         recall {} ({} of {})   precision {} ({} of {})",
        pct(m.recall),
        m.true_positives,
        m.true_positives + m.false_negatives,
        pct(m.precision),
        m.true_positives,
        m.true_positives + m.false_positives
    );
    if !m.per_mechanism.is_empty() {
        let _ = writeln!(
            out,
            "  {:<22} {:>8} {:>6} {:>6} {:>7} {:>10}",
            "detector", "expected", "found", "extra", "recall", "precision"
        );
    }
    for r in &m.per_mechanism {
        let _ = writeln!(
            out,
            "  {:<22} {:>8} {:>6} {:>6} {:>7} {:>10}",
            clean(&r.mechanism),
            r.expected,
            r.found,
            r.extra,
            pct(r.recall),
            pct(r.precision)
        );
    }
    let unscored: Vec<String> = NO_DETECTOR
        .iter()
        .map(|k| format!("{k} ({} case(s))", m.unscored.get(*k).copied().unwrap_or(0)))
        .chain(
            m.unscored
                .iter()
                .filter(|(k, _)| !NO_DETECTOR.contains(&k.as_str()))
                .map(|(k, n)| format!("{} ({n} case(s))", clean(k))),
        )
        .collect();
    let _ = writeln!(
        out,
        "  not scored, no detector: {}; metastable_failure is metastable_overload",
        unscored.join(", ")
    );
}

fn roles(out: &mut String, s: &Scores) {
    let r = &s.roles;
    let per: Vec<String> = r
        .per_role
        .iter()
        .map(|x| {
            format!(
                "{} {} ({}/{})",
                clean(&x.role),
                pct(x.accuracy),
                x.right,
                x.n
            )
        })
        .collect();
    let _ = writeln!(
        out,
        "\nRoles: over the services the truths name (no role in the analysis = healthy)\n  \
         accuracy {} ({} of {}){}{}",
        pct(r.accuracy),
        r.right,
        r.n,
        if per.is_empty() { "" } else { "   " },
        per.join(" · ")
    );
}

fn controls(out: &mut String, s: &Scores) {
    let c = &s.controls;
    let _ = writeln!(
        out,
        "\nControls: a warning-or-worse finding or a named root cause is a false positive\n  \
         false positives {} of {} ({})",
        c.false_positives,
        c.n,
        pct(c.false_positive_rate)
    );
}

fn windows(out: &mut String, s: &Scores) {
    let w = &s.windows;
    let spread = |x: &Spread| format!("median {}, p90 {}", secs(x.median_s), secs(x.p90_s));
    let _ = writeln!(
        out,
        "\nIncident window: |detected − true| over {} incident case(s)\n  start  {}\n  end    {}\n  \
         not detected: {} of {}",
        w.n - w.not_detected,
        spread(&w.start),
        spread(&w.end),
        w.not_detected,
        w.n
    );
}

fn calibration(out: &mut String, s: &Scores) {
    let c = &s.calibration;
    let _ = writeln!(
        out,
        "\nConfidence calibration: hit rate of the first candidate per confidence band"
    );
    let with: usize = c.bands.iter().map(|b| b.n).sum();
    if with == 0 {
        let _ = writeln!(
            out,
            "  n/a: the ranking gives no confidence ({} case(s) with a first candidate)",
            c.without_confidence
        );
        return;
    }
    for b in &c.bands {
        let _ = writeln!(
            out,
            "  {:.1}–{:.1}  n={:<4} hit rate {}",
            b.lo,
            b.hi,
            b.n,
            pct(b.hit_rate)
        );
    }
    if c.without_confidence > 0 {
        let _ = writeln!(out, "  without a confidence: {}", c.without_confidence);
    }
}

fn failed(out: &mut String, s: &Scores) {
    if s.failed.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nNot analysed (left out of every figure):");
    for f in &s.failed {
        let _ = writeln!(out, "  {}: {}", clean(&f.name), clean(&f.error));
    }
}

fn per_case(out: &mut String, s: &Scores) {
    let _ = writeln!(
        out,
        "\nCases (for development seeds only: a held-out range is scored, never read case by \
         case)"
    );
    for c in &s.per_case {
        let _ = writeln!(out, "  {}", case_line(c));
        for detail in case_details(c) {
            let _ = writeln!(out, "      {detail}");
        }
    }
}

fn case_line(c: &CaseScore) -> String {
    let truth = match (&c.root_cause, &c.root_cause_instance) {
        (Some(rc), Some(i)) => format!("{} ({})", clean(rc), clean(i)),
        (Some(rc), None) => clean(rc),
        (None, _) => "no root cause".to_string(),
    };
    let top: Vec<String> = c.top.iter().map(|t| clean(t)).collect();
    let top = if top.is_empty() {
        "nobody".to_string()
    } else {
        top.join(", ")
    };
    let verdict = if c.is_control() {
        match c.false_alarm {
            Some(true) => "FALSE POSITIVE".to_string(),
            _ => "quiet".to_string(),
        }
    } else if !c.ranked() {
        "not ranked".to_string()
    } else if c.surge_hit {
        "hit (surge recognised)".to_string()
    } else {
        c.rank
            .map_or_else(|| "MISS".to_string(), |r| format!("rank {r}"))
    };
    format!(
        "{}  [{}]  truth {truth}  top {top}  → {verdict}",
        clean(&c.name),
        clean(&c.fault_kind)
    )
}

fn case_details(c: &CaseScore) -> Vec<String> {
    let list = |v: &[String]| v.iter().map(|m| clean(m)).collect::<Vec<_>>().join(", ");
    let mut out = Vec::new();
    if !c.mechanisms_missed.is_empty() {
        out.push(format!("mechanisms missed: {}", list(&c.mechanisms_missed)));
    }
    if !c.mechanisms_extra.is_empty() {
        out.push(format!(
            "mechanisms not in the truth: {}",
            list(&c.mechanisms_extra)
        ));
    }
    let wrong: Vec<String> = c
        .roles
        .iter()
        .filter(|r| !r.right())
        .map(|r| {
            format!(
                "{} {}→{}",
                clean(&r.service),
                clean(&r.truth),
                clean(&r.observed)
            )
        })
        .collect();
    if !wrong.is_empty() {
        out.push(format!("roles (truth→analysis): {}", wrong.join(", ")));
    }
    match c.window {
        Some(w) if w.start_s.is_none() => out.push("incident not detected".to_string()),
        Some(w) => out.push(format!(
            "window error: start {:+.1} s, end {:+.1} s",
            w.start_s.unwrap_or(0.0),
            w.end_s.unwrap_or(0.0)
        )),
        None => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::observe::{Candidate, Observed};
    use super::super::score::{score, CaseResult};
    use super::super::truth::Truth;
    use super::*;

    fn scores() -> Scores {
        let truth = Truth {
            root_cause: Some("db\u{1b}[31m".into()),
            fault_kind: "cpu".into(),
            incident: Some((60.0, 120.0)),
            time_base_ns: Some(0),
            mechanisms: vec!["latency_contagion".into(), "timeouts".into()],
            ..Truth::default()
        };
        let observed = Observed {
            ranking: vec![Candidate {
                service: "db\u{1b}[31m".into(),
                score: 0.7,
                confidence: None,
            }],
            incident_ns: Some((62_000_000_000, 110_000_000_000)),
            ..Observed::default()
        };
        let control = Truth {
            fault_kind: "none".into(),
            ..Truth::default()
        };
        score(&[
            CaseResult {
                name: "corpus/cpu-1".into(),
                truth,
                observed: Ok(observed),
            },
            CaseResult {
                name: "corpus/control".into(),
                truth: control,
                observed: Ok(Observed::default()),
            },
        ])
    }

    #[test]
    fn the_table_has_every_section_and_the_overall_row() {
        let text = render(&scores(), &["corpus".into()], false);
        for section in [
            "cascade eval: 2 case(s) in corpus (1 incident(s), 1 control(s), 0 failed)",
            "Root cause:",
            "Mechanisms:",
            "Roles:",
            "Controls:",
            "Incident window:",
            "Confidence calibration:",
        ] {
            assert!(text.contains(section), "{section} missing:\n{text}");
        }
        let all = text
            .lines()
            .find(|l| l.trim_start().starts_with("all "))
            .unwrap();
        assert!(all.contains("100 %"), "{all}");
        assert!(text.contains("recall 0 % (0 of 1)"), "{text}");
        assert!(text.contains("timeouts (1 case(s))"), "{text}");
        assert!(text.contains("false positives 0 of 1 (0 %)"), "{text}");
        assert!(text.contains("start  median 2.0 s"), "{text}");
        assert!(
            text.contains("n/a: the ranking gives no confidence"),
            "{text}"
        );
        assert!(
            !text.contains("Cases ("),
            "no per-case listing unless asked"
        );
    }

    #[test]
    fn the_case_listing_shows_truth_top_and_misses_with_names_made_safe() {
        let text = render(&scores(), &["corpus".into()], true);
        assert!(
            !text.contains('\u{1b}'),
            "escape sequences reach the terminal"
        );
        assert!(text.contains("truth db\\x1b[31m"), "{text}");
        let line = text.lines().find(|l| l.contains("corpus/cpu-1")).unwrap();
        assert!(line.contains("[cpu]") && line.contains("rank 1"), "{line}");
        assert!(
            text.contains("mechanisms missed: latency_contagion"),
            "{text}"
        );
        assert!(
            text.contains("window error: start +2.0 s, end -10.0 s"),
            "{text}"
        );
        assert!(text.contains("corpus/control  [none]  truth no root cause  top nobody  → quiet"));
    }
}
