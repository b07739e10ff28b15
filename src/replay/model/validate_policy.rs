//! Validation of the `policies` section: per-service and per-edge overrides name real
//! services and edges, and every policy value is in range (the field is named in the error).

use anyhow::{bail, Result};

use super::policy::PolicySpec;
use super::validate::{callees, known_service, non_negative, positive, probability};
use super::IncidentModel;
use super::CLIENT;

/// Checks `policies.default`, `policies.services` and `policies.edges`.
pub fn check_policies(m: &IncidentModel) -> Result<()> {
    if let Some(d) = &m.policies.default {
        if d.from.is_some() || d.to.is_some() {
            bail!("policies.default: `from`/`to` only belong in policies.edges[]");
        }
        check_policy("policies.default", d)?;
    }
    for (name, p) in &m.policies.services.0 {
        let f = format!("policies.services.{name}");
        known_service(m, &f, name)?;
        if p.from.is_some() || p.to.is_some() {
            bail!("{f}: `from`/`to` only belong in policies.edges[]");
        }
        check_policy(&f, p)?;
    }
    let graph = callees(m);
    for (i, e) in m.policies.edges.iter().enumerate() {
        let f = format!("policies.edges[{i}]");
        let (Some(from), Some(to)) = (&e.from, &e.to) else {
            bail!("{f}: `from` and `to` are required");
        };
        check_edge_exists(m, &graph, &f, from, to)?;
        check_policy(&f, e)?;
    }
    Ok(())
}

fn check_edge_exists(
    m: &IncidentModel,
    graph: &[Vec<usize>],
    f: &str,
    from: &str,
    to: &str,
) -> Result<()> {
    known_service(m, &format!("{f}.to"), to)?;
    if from == CLIENT {
        if to != m.arrivals.entry {
            bail!(
                "{f}: `client` only calls the entry `{}`, not `{to}`",
                m.arrivals.entry
            );
        }
        return Ok(());
    }
    known_service(m, &format!("{f}.from"), from)?;
    let (a, b) = (m.service_index(from), m.service_index(to));
    if let (Some(a), Some(b)) = (a, b) {
        if !graph[a].contains(&b) {
            bail!("{f}: no call from `{from}` to `{to}` in `calls`");
        }
    }
    Ok(())
}

/// Checks the values of one policy spec (field names prefixed with `f`).
pub fn check_policy(f: &str, p: &PolicySpec) -> Result<()> {
    if let Some(Some(t)) = p.timeout_ms {
        positive(&format!("{f}.timeout_ms"), t)?;
    }
    if p.max_attempts == Some(0) {
        bail!("{f}.max_attempts must be >= 1");
    }
    if let Some(b) = &p.backoff {
        non_negative(&format!("{f}.backoff.base_ms"), b.base_ms.unwrap_or(0.0))?;
        if let Some(Some(mx)) = b.max_ms {
            non_negative(&format!("{f}.backoff.max_ms"), mx)?;
        }
        non_negative(
            &format!("{f}.backoff.multiplier"),
            b.multiplier.unwrap_or(2.0),
        )?;
    }
    if let Some(Some(r)) = p.retry_budget_ratio {
        non_negative(&format!("{f}.retry_budget_ratio"), r)?;
    }
    non_negative(
        &format!("{f}.retry_budget_burst"),
        p.retry_budget_burst.unwrap_or(10.0),
    )?;
    check_extensions(f, p)
}

fn check_extensions(f: &str, p: &PolicySpec) -> Result<()> {
    if let Some(Some(t)) = p.retry_throttle {
        positive(&format!("{f}.retry_throttle.max_tokens"), t.max_tokens)?;
        non_negative(&format!("{f}.retry_throttle.token_ratio"), t.token_ratio)?;
    }
    if let Some(Some(a)) = p.adaptive_throttle {
        positive(&format!("{f}.adaptive_throttle.k"), a.k)?;
        positive(&format!("{f}.adaptive_throttle.window_s"), a.window_s)?;
    }
    if let Some(Some(b)) = p.breaker {
        probability(&format!("{f}.breaker.error_rate"), b.error_rate)?;
        positive(&format!("{f}.breaker.window_s"), b.window_s)?;
        positive(&format!("{f}.breaker.open_s"), b.open_s)?;
        if b.half_open_calls == 0 {
            bail!("{f}.breaker.half_open_calls must be >= 1");
        }
    }
    if let Some(Some(h)) = p.hedge {
        if !(h.percentile > 0.0 && h.percentile < 1.0) {
            bail!(
                "{f}.hedge.percentile must be in (0, 1) (got {})",
                h.percentile
            );
        }
    }
    if let Some(Some(c)) = p.concurrency_limit {
        if c.limit == 0 || c.max_limit < c.limit {
            bail!(
                "{f}.concurrency_limit: need 1 <= limit <= max_limit (got {} / {})",
                c.limit,
                c.max_limit
            );
        }
    }
    Ok(())
}
