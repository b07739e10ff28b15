//! The HTML page: one self-contained, offline file (inline CSS, no scripts, fonts or CDNs;
//! images as relative `charts/*.png`). Every string that came from the input is escaped.

use std::fmt::Write as _;

use super::charts::spec::ChartFile;
use super::escape::html as esc;
use super::facts::{clock, instant, Facts};
use super::specs::Omitted;
use super::story;
use crate::model::finding::Finding;
use crate::model::replay::ReplayView;

/// Everything the page shows.
pub struct Page<'a> {
    pub facts: &'a Facts<'a>,
    pub charts: &'a [ChartFile],
    pub omitted: &'a [Omitted],
    pub replay: Option<&'a ReplayView>,
}

/// Metric name/value pairs per table row (keeps a finding's numbers to a few lines).
const METRIC_COLUMNS: usize = 3;

const STYLE: &str = "body{font:15px/1.5 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1e1e1e;max-width:1320px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f4f4}.metrics th{font-weight:normal;color:#444}.metrics td{font-variant-numeric:tabular-nums;min-width:60px}figure{margin:16px 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#444;max-width:900px}
.sev{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:13px}.error{background:#c62828}.warning{background:#ef6c00}.info{background:#546e7a}
.finding{border-left:4px solid #ddd;padding:4px 12px;margin:12px 0}code{font-size:13px;background:#f4f4f4;padding:1px 4px}
.source{color:#d62728}.infected{color:#ff7f0e}.affected{color:#a08a1d}.healthy{color:#5a6e82}.note{color:#666;font-style:italic}";

/// The whole page.
pub fn render(p: &Page) -> String {
    let mut out = String::new();
    let title = esc(&story::headline(p.facts));
    let _ = write!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>\n{STYLE}\n</style>\n</head>\n<body>\n<h1>{title}</h1>\n");
    meta(p, &mut out);
    summary(p, &mut out);
    impact(p, &mut out);
    charts(p, &mut out, |stem| stem == "service-graph");
    timeline(p, &mut out);
    root_causes(p, &mut out);
    findings(p, &mut out);
    out.push_str("<h2 id=\"charts\">Charts</h2>\n");
    charts(p, &mut out, |stem| {
        stem != "service-graph" && !stem.starts_with("replay-")
    });
    omitted(p, &mut out);
    if let Some(view) = p.replay {
        replay(p, view, &mut out);
    }
    quality(p, &mut out);
    out.push_str("<p class=\"meta\">Made by cascade. The same findings are in <a href=\"findings.json\">findings.json</a>; a postmortem draft is in <a href=\"postmortem.md\">postmortem.md</a>.</p>\n</body>\n</html>\n");
    out
}

fn meta(p: &Page, out: &mut String) {
    let a = p.facts.a;
    let r = &a.windows.range;
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} spans, {} traces, {} services, {} → {}; {} s buckets.</p>",
        a.table.len(),
        a.table.trace_rows.len(),
        a.services.len(),
        esc(&instant(r.start_ns)),
        esc(&instant(r.end_ns)),
        a.windows.buckets.width_s()
    );
}

fn summary(p: &Page, out: &mut String) {
    let text: Vec<String> = story::summary(p.facts).iter().map(|s| esc(s)).collect();
    let _ = writeln!(
        out,
        "<h2 id=\"summary\">Summary</h2>\n<p>{}</p>",
        text.join(" ")
    );
}

fn impact(p: &Page, out: &mut String) {
    out.push_str("<h2 id=\"impact\">Impact</h2>\n<table>\n");
    for (k, v) in story::impact(p.facts) {
        let _ = writeln!(out, "<tr><th>{}</th><td>{}</td></tr>", esc(&k), esc(&v));
    }
    out.push_str("</table>\n");
}

fn timeline(p: &Page, out: &mut String) {
    out.push_str("<h2 id=\"timeline\">Timeline (UTC)</h2>\n<table>\n<tr><th>time</th><th>+s</th><th>event</th></tr>\n");
    for e in story::timeline(p.facts) {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{:.0}</td><td>{}</td></tr>",
            clock(e.t_ns),
            p.facts.secs(e.t_ns),
            esc(&e.text)
        );
    }
    out.push_str("</table>\n");
}

fn root_causes(p: &Page, out: &mut String) {
    let a = p.facts.a;
    out.push_str("<h2 id=\"root-causes\">Root causes</h2>\n");
    if a.root_causes.is_empty() {
        out.push_str("<p>No candidate stood out.</p>\n");
        return;
    }
    out.push_str("<table>\n<tr><th>#</th><th>service</th><th>score</th><th>why</th></tr>\n");
    for (i, r) in a.root_causes.iter().enumerate() {
        let role = a.graph.nodes.len() as u32;
        let class = (0..role)
            .find(|&n| a.graph.name(n) == r.service)
            .map_or("healthy", |n| p.facts.role_of_node(n).as_str());
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"{class}\">{}</td><td>{:.2}</td><td>{}</td></tr>",
            i + 1,
            esc(&r.service),
            r.score,
            esc(&r.reason)
        );
    }
    out.push_str("</table>\n");
}

fn findings(p: &Page, out: &mut String) {
    let a = p.facts.a;
    let _ = writeln!(
        out,
        "<h2 id=\"findings\">Findings ({})</h2>",
        a.findings.len()
    );
    if a.findings.is_empty() {
        out.push_str("<p>No detector fired.</p>\n");
    }
    for f in &a.findings {
        finding(p, f, out);
    }
}

fn finding(p: &Page, f: &Finding, out: &mut String) {
    let sev = f.severity.as_str();
    let _ = writeln!(
        out,
        "<div class=\"finding\"><p><span class=\"sev {sev}\">{sev}</span> <b>{}</b> — {}<br><span class=\"meta\">{} → {} UTC (+{:.0} … +{:.0} s); services: {}</span></p>",
        esc(&story::kind_phrase(&f.kind)),
        esc(&f.title),
        clock(f.start_ns),
        clock(f.end_ns),
        p.facts.secs(f.start_ns),
        p.facts.secs(f.end_ns),
        esc(&f.services.join(", "))
    );
    out.push_str("<table class=\"metrics\">\n");
    let metrics: Vec<(&String, &f64)> = f.metrics.iter().collect();
    for row in metrics.chunks(METRIC_COLUMNS) {
        out.push_str("<tr>");
        for (k, v) in row {
            let _ = write!(out, "<th>{}</th><td>{}</td>", esc(k), number(**v));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    if !f.evidence.trace_ids.is_empty() {
        let ids: Vec<String> = f
            .evidence
            .trace_ids
            .iter()
            .map(|t| format!("<code>{}</code>", esc(t)))
            .collect();
        let _ = writeln!(out, "<p>Evidence traces: {}</p>", ids.join(" "));
    }
    out.push_str("</div>\n");
}

/// A metric value: integers plain, others with up to three decimals.
pub fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn charts(p: &Page, out: &mut String, keep: impl Fn(&str) -> bool) {
    for c in p.charts.iter().filter(|c| keep(c.stem)) {
        let _ = writeln!(
            out,
            "<figure id=\"{stem}\"><img src=\"charts/{stem}.png\" alt=\"{alt}\"><figcaption>{cap}</figcaption></figure>",
            stem = c.stem,
            alt = esc(c.stem),
            cap = esc(&c.caption)
        );
    }
}

fn omitted(p: &Page, out: &mut String) {
    if p.omitted.is_empty() {
        return;
    }
    out.push_str("<p class=\"note\">Not drawn:</p>\n<ul>\n");
    for o in p.omitted {
        let _ = writeln!(
            out,
            "<li class=\"note\">{}: {}</li>",
            esc(o.title),
            esc(&o.reason)
        );
    }
    out.push_str("</ul>\n");
}

fn replay(p: &Page, view: &ReplayView, out: &mut String) {
    let _ = writeln!(
        out,
        "<h2 id=\"replay\">Replay: what other policies would have done</h2>\n<p><b>Recommendation:</b> {}</p>\n<p>Fidelity of the model: <b>{}</b> over {} seeds.</p>",
        esc(&view.recommendation),
        view.verdict.as_str(),
        view.seeds
    );
    out.push_str("<table>\n<tr><th>check</th><th>observed</th><th>replayed</th><th>tolerance</th><th>ok</th></tr>\n");
    for c in &view.fidelity {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>±{:.0} %</td><td>{}</td></tr>",
            esc(&c.metric),
            number(c.observed),
            number(c.replayed),
            c.tolerance * 100.0,
            if c.ok { "yes" } else { "no" }
        );
    }
    out.push_str("</table>\n<table>\n<tr><th>policy</th><th>goodput (req/s)</th><th>error rate</th><th>p99 (ms)</th><th>recovery (s)</th><th>outlived trigger</th><th>robust</th></tr>\n");
    for pol in &view.policies {
        let ci = |e: crate::model::replay::Estimate| {
            format!("{} [{}, {}]", number(e.mean), number(e.lo), number(e.hi))
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{:.1} %</td><td>{}</td><td>{}</td><td>{:.0} % of seeds</td><td>{}</td></tr>",
            policy_name(pol),
            ci(pol.goodput_rps),
            pol.error_rate.mean * 100.0,
            ci(pol.p99_ms),
            pol.time_to_recover_s.map_or("never".into(), ci),
            pol.outlived_trigger * 100.0,
            if pol.robust { "yes" } else { "no" }
        );
    }
    out.push_str("</table>\n");
    charts(p, out, |stem| stem.starts_with("replay-"));
}

/// The policy's name with the `--policy` specs that express it.
fn policy_name(pol: &crate::model::replay::PolicyOutcome) -> String {
    let specs: Vec<String> = pol
        .specs
        .iter()
        .map(|s| format!("<code>{}</code>", esc(s)))
        .collect();
    if specs.is_empty() {
        esc(&pol.name)
    } else {
        format!("{}<br>{}", esc(&pol.name), specs.join(" "))
    }
}

fn quality(p: &Page, out: &mut String) {
    out.push_str("<h2 id=\"data-quality\">Data quality</h2>\n");
    let caveats = p.facts.a.quality.caveats();
    if caveats.is_empty() {
        out.push_str("<p>No caveats: the spans were well formed.</p>\n");
        return;
    }
    out.push_str("<ul>\n");
    for c in caveats {
        let _ = writeln!(out, "<li>{}</li>", esc(&c));
    }
    out.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::specs;
    use crate::report::specs::testdata::faulty;

    #[test]
    fn the_page_is_offline_and_holds_every_section_and_chart() {
        let f = Facts::new(faulty());
        let view = specs::replay::tests::view();
        let (charts, omitted) = specs::all(&f, Some(&view), None);
        let page = render(&Page {
            facts: &f,
            charts: &charts,
            omitted: &omitted,
            replay: Some(&view),
        });
        for id in [
            "summary",
            "impact",
            "timeline",
            "root-causes",
            "findings",
            "charts",
            "replay",
            "data-quality",
        ] {
            assert!(page.contains(&format!("id=\"{id}\"")), "missing {id}");
        }
        for c in &charts {
            assert!(page.contains(&format!("src=\"charts/{}.png\"", c.stem)));
        }
        assert!(
            !page.contains("http://") && !page.contains("https://") && !page.contains("<script")
        );
        // A chart without evidence is named with the reason it is missing.
        assert!(page.contains("Queues and in-flight work: no service showed queueing"));
        assert!(page.contains("A retry budget of 10 %"));
    }

    #[test]
    fn numbers_read_cleanly() {
        assert_eq!(number(1360.0), "1360");
        assert_eq!(number(1.958333), "1.958");
        assert_eq!(number(0.5), "0.5");
    }
}
