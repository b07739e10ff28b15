//! The terminal summary: what a tired on-call engineer reads in 30 seconds — the incident
//! window, the source, the path it spread along, the top findings with their numbers, and
//! the data-quality caveats.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use petgraph::Direction;

use super::detectors::latency_contagion;
use super::incident::K_SIGMA;
use super::recovery;
use super::rootcause::Role;
use super::Analysis;
use crate::model::window::{Window, NS_PER_S};
use crate::output::safe;

/// How many root causes and findings the summary lists.
const TOP_ROOT_CAUSES: usize = 3;
const TOP_FINDINGS: usize = 5;

/// The summary text (several lines, ends with a newline).
pub fn summary_text(a: &Analysis) -> String {
    let mut out = String::new();
    header(a, &mut out);
    match a.windows.incident {
        Some(inc) => incident(a, &inc, &mut out),
        None => no_incident(a, &mut out),
    }
    findings(a, &mut out);
    caveats(a, &mut out);
    out
}

/// Fewer buckets than this cannot show a sustained departure against a baseline.
const MIN_JUDGED_BUCKETS: usize = 2 * super::incident::SUSTAIN_BUCKETS;

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Why no incident was found: quiet signals, or too little data to judge.
fn no_incident(a: &Analysis, out: &mut String) {
    let n = a.windows.buckets.count;
    if n < MIN_JUDGED_BUCKETS {
        let entries: u64 = a.windows.signals.entry_requests.iter().sum();
        let _ = writeln!(
            out,
            "\nNo incident detected: {entries} entry request{} in {n} bucket{} are too few to \
             tell an incident from a baseline; give the window with --incident A..B.",
            plural(entries as usize),
            plural(n)
        );
        return;
    }
    let _ = writeln!(
        out,
        "\nNo incident detected: error rate and entry p99 stayed under median + {K_SIGMA}·MAD over {n} buckets."
    );
}

fn clock(t_ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(t_ns)
        .format("%H:%M:%S")
        .to_string()
}

fn offset_s(a: &Analysis, t_ns: i64) -> f64 {
    (t_ns - a.windows.range.start_ns) as f64 / NS_PER_S as f64
}

fn span_text(a: &Analysis, w: &Window) -> String {
    format!(
        "{} → {} UTC (+{:.0}…+{:.0} s, {:.0} s)",
        clock(w.start_ns),
        clock(w.end_ns),
        offset_s(a, w.start_ns),
        offset_s(a, w.end_ns),
        w.len_ns() as f64 / NS_PER_S as f64
    )
}

fn header(a: &Analysis, out: &mut String) {
    let r = &a.windows.range;
    let _ = writeln!(
        out,
        "cascade analyze: {} span{}, {} trace{}, {} service{}, {} → {} ({} s buckets)",
        a.table.len(),
        plural(a.table.len()),
        a.table.trace_rows.len(),
        plural(a.table.trace_rows.len()),
        a.services.len(),
        plural(a.services.len()),
        crate::model::window::rfc3339(r.start_ns),
        crate::model::window::rfc3339(r.end_ns),
        a.windows.buckets.width_s()
    );
}

/// The entry-traffic surge that triggered the incident, when there was one.
fn surge_line(a: &Analysis) -> Option<String> {
    let tr = recovery::surge(&a.windows)?;
    let b = &a.windows.buckets;
    let rel = |k: usize| (b.start_of(k) - a.windows.range.start_ns) as f64 / 1e9;
    Some(format!(
        "entry traffic at {} rose {:.1}× ({:.1} → {:.1} traced requests/s) from +{:.0} s to +{:.0} s",
        safe(&tr.service),
        tr.active_mean / tr.baseline.max(f64::MIN_POSITIVE),
        tr.baseline,
        tr.active_mean,
        rel(tr.start),
        rel(tr.end)
    ))
}

fn incident(a: &Analysis, inc: &Window, out: &mut String) {
    let how = if a.windows.detected() {
        "detected"
    } else {
        "given"
    };
    let _ = writeln!(out, "\nIncident   {} [{how}]", span_text(a, inc));
    let _ = writeln!(out, "Baseline   {}", span_text(a, &a.windows.baseline));
    if let Some(line) = surge_line(a) {
        let _ = writeln!(out, "Trigger    {line}");
    }
    match a.root_causes.first() {
        Some(top) => {
            let _ = writeln!(out, "Source     {}", safe(&top.reason));
            if let Some(line) = thin_evidence_line(a) {
                let _ = writeln!(out, "           {}", safe(&line));
            }
        }
        None => {
            let _ = writeln!(
                out,
                "Source     not identified (no service's own time, errors or onset stood out)"
            );
        }
    }
    let path = spread_path(a);
    if path.len() > 1 {
        let _ = writeln!(out, "Spread     {}", safe(&path.join(" → ")));
    }
    for line in contagion_paths(a) {
        let _ = writeln!(out, "Contagion  {}", safe(&line));
    }
    if a.root_causes.len() > 1 {
        let _ = writeln!(out, "\nRoot-cause ranking");
        for (k, r) in a.root_causes.iter().take(TOP_ROOT_CAUSES).enumerate() {
            let _ = writeln!(
                out,
                "  {}. {:<16} {:.2}  {}",
                k + 1,
                safe(&r.service),
                r.score,
                safe(&r.reason)
            );
        }
    }
}

/// Below this confidence the top cause is a lead, not a verdict: the next ones are named.
const THIN_CONFIDENCE: f64 = 0.5;

/// "confidence 0.82", or with thin evidence "confidence 0.31 — thin evidence; also
/// possible: api (0.22), db (0.12)".
fn thin_evidence_line(a: &Analysis) -> Option<String> {
    let top = a.root_causes.first()?;
    let c = top.confidence?;
    if c >= THIN_CONFIDENCE || a.root_causes.len() < 2 {
        return Some(format!("confidence {c:.2}"));
    }
    let others: Vec<String> = a.root_causes[1..]
        .iter()
        .take(TOP_ROOT_CAUSES - 1)
        .map(|r| format!("{} ({:.2})", r.service, r.confidence.unwrap_or(0.0)))
        .collect();
    Some(format!(
        "confidence {c:.2} — thin evidence; also possible: {}",
        others.join(", ")
    ))
}

/// From the top root cause upward: at each step the non-healthy caller that departed first.
fn spread_path(a: &Analysis) -> Vec<String> {
    let Some(top) = a.root_causes.first() else {
        return Vec::new();
    };
    let Some(mut cur) = a.services.iter().position(|s| s.name == top.service) else {
        return Vec::new();
    };
    let mut path = vec![cur];
    loop {
        let id = a.services[cur].id;
        let g = &a.graph;
        let next = g
            .graph
            .neighbors_directed(g.node_index[id as usize], Direction::Incoming)
            .filter_map(|n| a.service_index(g.graph[n]))
            .filter(|&k| !path.contains(&k) && a.roles.get(k).is_some_and(|r| *r != Role::Healthy))
            .min_by_key(|&k| {
                (
                    a.services[k].onset_ns.unwrap_or(i64::MAX),
                    a.services[k].name.clone(),
                )
            });
        match next {
            Some(k) => {
                path.push(k);
                cur = k;
            }
            None => break,
        }
    }
    path.iter().map(|&k| with_onset(a, k)).collect()
}

/// Per latency_contagion source: "payment → checkout (+1 s, 97 % of its rise) → frontend
/// (+0 s, 99 %)": each hop's onset lag after the node below and the share of its latency
/// rise that was waiting on that node.
fn contagion_paths(a: &Analysis) -> Vec<String> {
    let ctx = a.context();
    let c = latency_contagion::contagion(&ctx);
    c.sources
        .iter()
        .map(|&src| {
            let hops = latency_contagion::path(&ctx, &c, src);
            let mut line = a.graph.name(src).to_string();
            for (k, w) in hops.windows(2).enumerate() {
                let share = c
                    .infected(w[1])
                    .and_then(|i| i.blame.first())
                    .map_or(0.0, |b| b.1 * 100.0);
                let of = if k == 0 { " of its rise" } else { "" };
                let lag = latency_contagion::lag_s(&ctx, w[0], w[1])
                    .map_or(String::new(), |l| format!("{l:+.0} s, "));
                let _ = write!(line, " → {} ({lag}{share:.0} %{of})", a.graph.name(w[1]));
            }
            line
        })
        .collect()
}

fn with_onset(a: &Analysis, k: usize) -> String {
    let s = &a.services[k];
    match (s.onset_ns, a.windows.incident) {
        (Some(o), Some(inc)) => format!(
            "{} ({:+.0} s)",
            s.name,
            (o - inc.start_ns) as f64 / NS_PER_S as f64
        ),
        _ => s.name.clone(),
    }
}

fn findings(a: &Analysis, out: &mut String) {
    if a.findings.is_empty() {
        let _ = writeln!(out, "\nFindings   none");
        return;
    }
    let _ = writeln!(out, "\nFindings ({})", a.findings.len());
    for f in a.findings.iter().take(TOP_FINDINGS) {
        let _ = writeln!(
            out,
            "  [{:<7}] {:<20} {}",
            f.severity.as_str(),
            f.kind,
            safe(&f.title)
        );
        if let Some(t) = f.evidence.trace_ids.first() {
            let _ = writeln!(out, "            e.g. trace {}", safe(t));
        }
    }
    if a.findings.len() > TOP_FINDINGS {
        let _ = writeln!(
            out,
            "  … {} more in the findings document (--json)",
            a.findings.len() - TOP_FINDINGS
        );
    }
}

fn caveats(a: &Analysis, out: &mut String) {
    let mut c = a.quality.caveats();
    if a.graph.ambiguous_peers > 0 {
        c.push(format!(
            "{} peer address{} reached more than one service; unanswered calls to {} stay unattributed",
            a.graph.ambiguous_peers,
            if a.graph.ambiguous_peers == 1 { "" } else { "es" },
            if a.graph.ambiguous_peers == 1 { "it" } else { "them" }
        ));
    }
    if c.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nData quality");
    for line in c {
        let _ = writeln!(out, "  - {line}");
    }
}
