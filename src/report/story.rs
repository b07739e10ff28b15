//! The words of the report: plain sentences a person would write, built from the analysis
//! (and the replay, when there is one). Both the HTML page and the Markdown draft render
//! these; they escape them, so sentences here are plain text with input names inside.

use super::facts::{clock, duration_text, span_text, Facts};
use crate::analyze::incident::K_SIGMA;
use crate::analyze::rootcause::Role;
use crate::model::finding::Finding;
use crate::model::replay::ReplayView;

/// One line of the incident timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub t_ns: i64,
    pub text: String,
}

/// One action item: what to do and the evidence that asks for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionItem {
    pub what: String,
    pub why: String,
}

/// The report's one-line headline.
pub fn headline(f: &Facts) -> String {
    match (f.a.windows.incident, f.top_cause()) {
        (Some(inc), Some(src)) => format!("Cascading failure from {src}, {}", span_text(&inc)),
        (Some(inc), None) => format!("Incident {}", span_text(&inc)),
        (None, _) => "No incident detected".into(),
    }
}

/// The summary paragraph, sentence by sentence.
pub fn summary(f: &Facts) -> Vec<String> {
    let a = f.a;
    let Some(inc) = a.windows.incident else {
        return vec![format!(
            "cascade found no incident in these traces: neither the error rate of entry requests nor their p99 rose above median + {K_SIGMA}·MAD over {} buckets.",
            a.windows.buckets.count
        )];
    };
    let mut out = vec![format!(
        "From {} to {} UTC ({}) the system was degraded.",
        clock(inc.start_ns),
        clock(inc.end_ns),
        duration_text(inc.len_ns())
    )];
    if let Some(line) = entry_impact_sentence(f) {
        out.push(line);
    }
    match a.root_causes.first() {
        Some(top) => out.push(format!(
            "The failure started in {}: {}.",
            top.service,
            strip_name(&top.reason, &top.service)
        )),
        None => out.push(
            "No single source stood out: no service's own time, errors or onset led the others."
                .into(),
        ),
    }
    let path = f.path_names();
    if path.len() > 1 {
        out.push(format!("It spread along {}.", path.join(" → ")));
    }
    if !a.findings.is_empty() {
        let kinds: Vec<String> = a.findings.iter().map(|x| kind_phrase(&x.kind)).collect();
        out.push(format!("Feedback loops seen: {}.", dedup(kinds).join(", ")));
    }
    out
}

/// "inventory: own time …" → "own time …" (the sentence already names the service).
fn strip_name<'s>(reason: &'s str, name: &str) -> &'s str {
    reason
        .strip_prefix(name)
        .and_then(|r| r.strip_prefix(": "))
        .unwrap_or(reason)
}

fn dedup(mut v: Vec<String>) -> Vec<String> {
    let mut seen = Vec::new();
    v.retain(|x| {
        let new = !seen.contains(x);
        seen.push(x.clone());
        new
    });
    v
}

/// A detector kind in words.
pub fn kind_phrase(kind: &str) -> String {
    match kind {
        "retry_amplification" => "retry amplification".into(),
        "latency_contagion" => "latency contagion".into(),
        "queue_growth" => "queue growth".into(),
        "error_propagation" => "error propagation".into(),
        "metastable_overload" => "overload that outlived its trigger".into(),
        other => other.replace('_', " "),
    }
}

fn entry_impact_sentence(f: &Facts) -> Option<String> {
    let e = f.entry_stats()?;
    let inc = e.incident?;
    let rate = inc.error_rate? * 100.0;
    let base = e.baseline.error_rate.unwrap_or(0.0) * 100.0;
    let p99 = match (e.baseline.p99_ms.value, inc.p99_ms.value) {
        (Some(b), Some(i)) => format!(", and its p99 latency went from {b:.0} ms to {i:.0} ms"),
        _ => String::new(),
    };
    Some(format!(
        "At the entry service {}, {} of {} requests failed ({rate:.1} % against {base:.1} % before){p99}.",
        e.name, inc.errors, inc.requests
    ))
}

/// The impact table: (what, value) rows.
pub fn impact(f: &Facts) -> Vec<(String, String)> {
    let a = f.a;
    let mut rows = Vec::new();
    if let Some(inc) = a.windows.incident {
        rows.push(("Duration".into(), duration_text(inc.len_ns())));
    }
    if let Some(e) = f.entry_stats() {
        rows.push(("Entry service".into(), e.name.clone()));
        if let Some(inc) = e.incident {
            rows.push((
                "Entry requests in the incident".into(),
                inc.requests.to_string(),
            ));
            let excess =
                inc.errors as f64 - e.baseline.error_rate.unwrap_or(0.0) * inc.requests as f64;
            rows.push((
                "Failed entry requests".into(),
                format!(
                    "{} ({:.0} above the baseline rate)",
                    inc.errors,
                    excess.max(0.0)
                ),
            ));
            rows.push((
                "Entry error rate".into(),
                pct_pair(e.baseline.error_rate, inc.error_rate),
            ));
            rows.push((
                "Entry p99 latency".into(),
                ms_pair(e.baseline.p99_ms.value, inc.p99_ms.value),
            ));
        }
    }
    let hurt = a.roles.iter().filter(|r| **r != Role::Healthy).count();
    rows.push((
        "Services hurt".into(),
        format!("{hurt} of {}", a.services.len()),
    ));
    rows
}

fn pct_pair(b: Option<f64>, i: Option<f64>) -> String {
    let p = |v: Option<f64>| v.map_or("–".into(), |v| format!("{:.1} %", v * 100.0));
    format!("{} before → {} during", p(b), p(i))
}

fn ms_pair(b: Option<f64>, i: Option<f64>) -> String {
    let p = |v: Option<f64>| v.map_or("–".into(), |v| format!("{v:.0} ms"));
    format!("{} before → {} during", p(b), p(i))
}

/// Timeline events in time order (ties keep this order: windows, onsets, findings).
pub fn timeline(f: &Facts) -> Vec<Event> {
    let a = f.a;
    let w = &a.windows;
    let mut out = vec![Event {
        t_ns: w.range.start_ns,
        text: "First span in the export.".into(),
    }];
    if let Some(inc) = w.incident {
        let how = if w.detected() {
            "detected from the traces"
        } else {
            "as given on the command line"
        };
        out.push(Event {
            t_ns: inc.start_ns,
            text: format!("Incident window opens ({how})."),
        });
        out.push(Event {
            t_ns: inc.end_ns,
            text: "Incident window closes: error rate and latency back under their thresholds."
                .into(),
        });
    }
    for (k, s) in a.services.iter().enumerate() {
        if let Some(o) = s.onset_ns {
            let signal = s.onset_signal.map_or("", |sig| match sig {
                crate::analyze::services::OnsetSignal::SelfTime => " (its own work slowed)",
                crate::analyze::services::OnsetSignal::Latency => " (p99 latency rose)",
                crate::analyze::services::OnsetSignal::Errors => " (errors rose)",
            });
            out.push(Event {
                t_ns: o,
                text: format!(
                    "{} ({}) departs from its baseline{signal}.",
                    s.name,
                    f.role(k).as_str()
                ),
            });
        }
    }
    for x in &a.findings {
        out.push(Event {
            t_ns: x.start_ns,
            text: format!("{} begins: {}", capitalise(&kind_phrase(&x.kind)), x.title),
        });
    }
    out.push(Event {
        t_ns: w.range.end_ns,
        text: "Last span in the export.".into(),
    });
    out.sort_by_key(|e| e.t_ns);
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or_else(String::new, |first| first.to_uppercase().chain(c).collect())
}

/// The trigger: when the source departed, and who showed symptoms first.
pub fn trigger(f: &Facts) -> String {
    let a = f.a;
    let first = a
        .services
        .iter()
        .filter_map(|s| Some((s.onset_ns?, s.name.as_str())))
        .min();
    let source = f
        .path
        .first()
        .and_then(|&n| Some((a.graph.name(n), f.onset_of_node(n)?)));
    let mut out = match source {
        Some((name, t)) => format!(
            "The source, {name}, departed from its baseline at {} UTC.",
            clock(t)
        ),
        None => match first {
            Some((t, name)) => format!(
                "The first service to depart from its baseline was {name} at {} UTC.",
                clock(t)
            ),
            None => return "No service departed from its baseline in the traces.".into(),
        },
    };
    if let (Some((src, ts)), Some((t0, name))) = (source, first) {
        if name != src && t0 < ts {
            out.push_str(&format!(
                " The first service to show symptoms was {name} at {} UTC; with {} s buckets, cause and symptoms moved within {} of each other.",
                clock(t0),
                a.windows.buckets.width_s(),
                duration_text(ts - t0)
            ));
        }
    }
    if let Some(surge) = surge_text(f) {
        out = format!("{surge} {out}");
    }
    out.push_str(" The traces show what moved, not what changed.");
    out
}

/// An external load surge that led the incident, in a sentence.
fn surge_text(f: &Facts) -> Option<String> {
    let w = &f.a.windows;
    let tr = crate::analyze::recovery::surge(w)?;
    Some(format!(
        "Entry traffic at {} rose {:.1}× above its baseline at {} UTC and was back at {} UTC: an external load surge, the trigger.",
        tr.service,
        tr.active_mean / tr.baseline.max(f64::MIN_POSITIVE),
        clock(w.buckets.start_of(tr.start)),
        clock(w.buckets.start_of(tr.end))
    ))
}

/// Detection: when the signals crossed their thresholds.
pub fn detection(f: &Facts) -> String {
    let w = &f.a.windows;
    match w.incident {
        Some(inc) if w.detected() => format!(
            "In the traces the incident is visible from {} UTC, when the entry error rate or p99 latency rose above median + {K_SIGMA}·MAD of the whole export.",
            clock(inc.start_ns)
        ),
        Some(inc) => format!("The incident window {} was given on the command line.", span_text(&inc)),
        None => "The traces show no incident.".into(),
    }
}

/// Resolution: when the signals went back under their thresholds.
pub fn resolution(f: &Facts) -> String {
    match f.a.windows.incident {
        Some(inc) => format!(
            "The signals returned under their thresholds at {} UTC, {} after the incident began.",
            clock(inc.end_ns),
            duration_text(inc.len_ns())
        ),
        None => "Nothing to resolve in these traces.".into(),
    }
}

/// Action items from the findings, then from the replay's recommendation.
pub fn action_items(f: &Facts, replay: Option<&ReplayView>) -> Vec<ActionItem> {
    let mut out: Vec<ActionItem> = Vec::new();
    if let Some(top) = f.a.root_causes.first() {
        out.push(ActionItem {
            what: format!("Find and fix why {} degraded.", top.service),
            why: top.reason.clone(),
        });
    }
    for x in &f.a.findings {
        let item = finding_action(x);
        if !out.iter().any(|o| o.what == item.what) {
            out.push(item);
        }
    }
    if let Some(view) = replay {
        out.push(replay_action(view));
    }
    out
}

fn edge_text(x: &Finding) -> String {
    x.edge.as_ref().map_or_else(
        || x.services.join(", "),
        |e| format!("{} → {}", e.caller, e.callee),
    )
}

fn finding_action(x: &Finding) -> ActionItem {
    let target = edge_text(x);
    let first = x.services.first().cloned().unwrap_or_default();
    let what = match x.kind.as_str() {
        "retry_amplification" => format!("Cap retries on {target}: a retry budget (e.g. retries ≤ 10 % of calls) and jittered exponential backoff."),
        "error_propagation" => format!("Contain failures of {first}: a circuit breaker or fallback at its callers, so its errors stop at the first hop."),
        "latency_contagion" => format!("Set and propagate deadlines on {target}, so callers stop waiting on a slow dependency."),
        "queue_growth" => format!("Bound the queue at {first} and shed load when it fills, instead of letting backlog grow."),
        "metastable_overload" => format!("Add admission control / load shedding at {first}, so it recovers when the trigger ends."),
        _ => format!("Review: {}", x.title),
    };
    ActionItem {
        what,
        why: x.title.clone(),
    }
}

fn replay_action(view: &ReplayView) -> ActionItem {
    let best = view.policies.get(1).map_or_else(String::new, |p| {
        let specs = if p.specs.is_empty() {
            String::new()
        } else {
            format!(" ({})", p.specs.join("; "))
        };
        format!("Adopt {}{specs}. ", p.name)
    });
    ActionItem {
        what: format!("{best}{}.", view.recommendation.trim_end_matches('.')),
        why: format!(
            "Replay over {} seeds; the model reproduced the incident {} ({} of {} fidelity checks within tolerance).",
            view.seeds,
            match view.verdict {
                crate::model::replay::Verdict::Good => "well",
                crate::model::replay::Verdict::Rough => "roughly",
                crate::model::replay::Verdict::Poor => "poorly, so treat this with caution",
            },
            view.fidelity.iter().filter(|c| c.ok).count(),
            view.fidelity.len()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs::testdata::{faulty, quiet};

    #[test]
    fn the_summary_names_the_source_the_path_and_the_entry_impact() {
        let f = Facts::new(faulty());
        let s = summary(&f).join(" ");
        assert!(
            s.contains("The failure started in db: explains 100 % of what users saw"),
            "{s}"
        );
        assert!(s.contains("own time per request rose"), "{s}");
        assert!(s.contains("It spread along db → api → frontend."), "{s}");
        assert!(s.contains("At the entry service frontend"), "{s}");
        assert!(headline(&f).starts_with("Cascading failure from db, "));
        assert!(s.starts_with("From 12:0"), "{s}");
        assert!(trigger(&f).starts_with("The source, db, departed from its baseline at 12:0"));
    }

    #[test]
    fn timeline_is_ordered_and_action_items_follow_the_findings() {
        let f = Facts::new(faulty());
        let t = timeline(&f);
        assert!(t.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
        assert!(
            t.iter().any(|e| e.text.starts_with("db (source) departs")),
            "{t:?}"
        );
        let items = action_items(&f, None);
        assert!(items[0].what.contains("why db degraded"));
        assert!(
            items
                .iter()
                .any(|i| i.what.contains("Cap retries on api → db")),
            "{items:?}"
        );
        let with = action_items(&f, Some(&crate::report::specs::replay::tests::view()));
        let last = with.last().unwrap();
        assert!(last.what.starts_with("Adopt retry budget 10 %"), "{last:?}");
        assert!(last.why.contains("20 seeds"));
    }

    #[test]
    fn a_quiet_system_says_so() {
        let f = Facts::new(quiet());
        assert!(summary(&f)[0].contains("no incident"));
        assert!(action_items(&f, None).is_empty());
        assert_eq!(headline(&f), "No incident detected");
    }
}
