//! The latency_contagion finding of one source: title, services, the numbers it rests on
//! (rise per infected service, blame per callee, lag per hop, critical-path shares, shared
//! pool endpoints) and the evidence traces.

use std::collections::BTreeMap;

use super::{evidence, lag_s, means, path, rose, severity, Contagion, Infected};
use crate::analyze::detectors::Context;
use crate::model::finding::Finding;

/// A wait this small (per request, ms) on the path towards the source means the endpoint
/// does not call towards it.
const NO_WAIT_MS: f64 = 0.01;

/// The finding of `source`, if any infected service reaches it.
pub fn finding(ctx: &Context, c: &Contagion, source: u32) -> Option<Finding> {
    let inc = ctx.incident()?;
    let mine: Vec<&Infected> = c.infected.iter().filter(|i| i.source == source).collect();
    if mine.is_empty() {
        return None;
    }
    let hops = path(ctx, c, source);
    let name = |id: u32| ctx.graph.name(id).to_string();
    let mut services: Vec<String> = hops.iter().map(|&n| name(n)).collect();
    for i in &mine {
        if !hops.contains(&i.service) {
            services.push(name(i.service));
        }
    }
    let mut m = BTreeMap::new();
    source_metrics(ctx, source, &mut m);
    for i in &mine {
        infected_metrics(ctx, i, &mut m);
    }
    let lags: Vec<f64> = hops
        .windows(2)
        .filter_map(|w| {
            let l = lag_s(ctx, w[0], w[1])?;
            m.insert(format!("onset_lag_s.{}", name(w[1])), l);
            Some(l)
        })
        .collect();
    if !lags.is_empty() {
        // DETECTION.md: onsets along the path should be non-decreasing (1 = they are).
        let ordered = lags.iter().all(|&l| l >= 0.0);
        m.insert("onsets_non_decreasing".into(), f64::from(u8::from(ordered)));
    }
    let pool = shared_pool(ctx, &mine, &mut m);
    Some(Finding {
        kind: "latency_contagion".into(),
        severity: severity(ctx, c, source),
        title: title(ctx, &hops, &mine, &pool),
        services,
        edge: None,
        start_ns: inc.start_ns,
        end_ns: inc.end_ns,
        metrics: m,
        evidence: evidence(ctx, source),
    })
}

fn source_metrics(ctx: &Context, source: u32, m: &mut BTreeMap<String, f64>) {
    if let Some(s) = ctx.service_by_id(source) {
        if let (Some(b), Some(i)) = (
            s.baseline.self_ms.value,
            s.incident.and_then(|i| i.self_ms.value),
        ) {
            m.insert("source_self_ms_baseline".into(), b);
            m.insert("source_self_ms_incident".into(), i);
        }
    }
    crit_shares(ctx, source, m);
    let cp = ctx.critical_path;
    m.insert("traces_baseline".into(), cp.baseline_traces as f64);
    m.insert("traces_incident".into(), cp.incident_traces as f64);
}

fn crit_shares(ctx: &Context, node: u32, m: &mut BTreeMap<String, f64>) {
    let Some(n) = ctx.critical_path.nodes.get(node as usize) else {
        return;
    };
    if let Some(b) = n.baseline.share {
        m.insert(format!("critical_path_share_baseline.{}", n.name), b);
    }
    if let Some(i) = n.incident.and_then(|i| i.share) {
        m.insert(format!("critical_path_share_incident.{}", n.name), i);
    }
}

fn infected_metrics(ctx: &Context, i: &Infected, m: &mut BTreeMap<String, f64>) {
    let name = ctx.graph.name(i.service);
    let e = ctx.critical_path.requests.service(i.service);
    m.insert(format!("mean_ms_baseline.{name}"), i.mean_ms.0);
    m.insert(format!("mean_ms_incident.{name}"), i.mean_ms.1);
    m.insert(format!("requests_baseline.{name}"), e.requests[0] as f64);
    m.insert(format!("requests_incident.{name}"), e.requests[1] as f64);
    m.insert(format!("child_wait_share.{name}"), i.wait_share);
    for &(callee, share) in &i.blame {
        m.insert(
            format!("wait_share.{name}.{}", ctx.graph.name(callee)),
            share,
        );
    }
    crit_shares(ctx, i.service, m);
}

/// Endpoints of infected services that slowed without waiting on the node their service
/// blames most (so not on the way to the source): `(service, endpoint)`.
fn shared_pool(
    ctx: &Context,
    mine: &[&Infected],
    m: &mut BTreeMap<String, f64>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for i in mine {
        let Some(&(towards, _)) = i.blame.first() else {
            continue;
        };
        for e in ctx
            .critical_path
            .requests
            .endpoints
            .iter()
            .filter(|e| e.service == i.service)
        {
            let Some(mm) = means(e) else { continue };
            let w = e.wait_on(towards);
            let waited = (0..2).any(|k| e.mean_ms(w, k).unwrap_or(0.0) > NO_WAIT_MS);
            if rose(mm) && !waited {
                let (svc, ep) = (ctx.graph.name(i.service), ctx.table.names.name(e.name));
                m.insert(format!("shared_pool_latency_ratio.{svc}.{ep}"), mm.1 / mm.0);
                out.push((svc.to_string(), ep.to_string()));
            }
        }
    }
    out
}

fn title(ctx: &Context, hops: &[u32], mine: &[&Infected], pool: &[(String, String)]) -> String {
    let name = |id: u32| ctx.graph.name(id);
    let mut chain = name(hops[0]).to_string();
    for w in hops.windows(2) {
        match lag_s(ctx, w[0], w[1]) {
            Some(l) => chain.push_str(&format!(" → {} ({l:+.0} s)", name(w[1]))),
            None => chain.push_str(&format!(" → {}", name(w[1]))),
        }
    }
    let mut t = format!("{} slowed its callers: {chain}", name(hops[0]));
    if let Some(first) = hops
        .get(1)
        .and_then(|&h| mine.iter().find(|i| i.service == h))
    {
        let share = first.blame.first().map_or(0.0, |b| b.1);
        t.push_str(&format!(
            "; {:.0} % of {}'s rise ({:.1} → {:.1} ms) is waiting on {}",
            share * 100.0,
            name(first.service),
            first.mean_ms.0,
            first.mean_ms.1,
            name(hops[0])
        ));
    }
    if !pool.is_empty() {
        let eps: Vec<String> = pool.iter().map(|(s, e)| format!("{s} {e}")).collect();
        t.push_str(&format!(
            "; slowed without calling towards it (shared pool?): {}",
            eps.join(", ")
        ));
    }
    t
}
