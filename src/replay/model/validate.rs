//! Validation of a parsed incident model: every error names the field and says why
//! (unknown service, negative rate, p99 below the median, call cycle, ...).

use anyhow::{bail, Result};

use super::{CallEntry, DistSpec, IncidentModel, CLIENT};

/// Call templates per service (the engine tags steps with a u8, 0 = every visit).
const MAX_VARIANTS: usize = 255;
/// Most time-series buckets a run may have (each costs a few words per service and edge).
const MAX_BUCKETS: f64 = 10_000_000.0;

/// Checks the whole model; the first problem found is returned.
pub fn validate(m: &IncidentModel) -> Result<()> {
    positive("duration_s", m.duration_s)?;
    positive("sample_interval_s", m.sample_interval_s)?;
    if m.duration_s / m.sample_interval_s > MAX_BUCKETS {
        bail!(
            "sample_interval_s: {} s gives more than {MAX_BUCKETS} buckets over {} s",
            m.sample_interval_s,
            m.duration_s
        );
    }
    check_arrivals(m)?;
    check_services(m)?;
    check_calls(m)?;
    check_cycles(m)?;
    super::validate_policy::check_policies(m)?;
    check_faults(m)
}

pub(super) fn positive(field: &str, v: f64) -> Result<()> {
    if !(v.is_finite() && v > 0.0) {
        bail!("{field} must be a finite number > 0 (got {v})");
    }
    Ok(())
}

pub(super) fn non_negative(field: &str, v: f64) -> Result<()> {
    if !(v.is_finite() && v >= 0.0) {
        bail!("{field} must be a finite number >= 0 (got {v})");
    }
    Ok(())
}

pub(super) fn probability(field: &str, v: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&v) {
        bail!("{field} must be a probability in [0, 1] (got {v})");
    }
    Ok(())
}

pub(super) fn known_service(m: &IncidentModel, field: &str, name: &str) -> Result<()> {
    if m.service_index(name).is_none() {
        bail!("{field}: unknown service `{name}` (not in `services`)");
    }
    Ok(())
}

fn check_arrivals(m: &IncidentModel) -> Result<()> {
    let a = &m.arrivals;
    known_service(m, "arrivals.entry", &a.entry)?;
    match (&a.rate_per_s, &a.schedule, &a.times_s) {
        (Some(r), None, None) => non_negative("arrivals.rate_per_s", *r),
        (None, Some(s), None) => check_schedule(s),
        (None, None, Some(t)) => check_times(t),
        (None, None, None) => {
            bail!("arrivals: one of `rate_per_s`, `schedule` or `times_s` is required")
        }
        _ => bail!("arrivals: give only one of `rate_per_s`, `schedule` and `times_s`"),
    }
}

fn check_times(times: &[f64]) -> Result<()> {
    let mut prev = 0.0;
    for (i, &t) in times.iter().enumerate() {
        non_negative(&format!("arrivals.times_s[{i}]"), t)?;
        if t < prev {
            bail!("arrivals.times_s[{i}]: {t} is before the previous instant {prev}");
        }
        prev = t;
    }
    Ok(())
}

fn check_schedule(s: &[(f64, f64)]) -> Result<()> {
    let mut prev = f64::NEG_INFINITY;
    for (i, (start, rate)) in s.iter().enumerate() {
        non_negative(&format!("arrivals.schedule[{i}] start_s"), *start)?;
        non_negative(&format!("arrivals.schedule[{i}] rate"), *rate)?;
        if *start < prev {
            bail!("arrivals.schedule[{i}]: start_s {start} is before the previous entry's {prev}");
        }
        prev = *start;
    }
    Ok(())
}

fn check_services(m: &IncidentModel) -> Result<()> {
    if m.services.0.is_empty() {
        bail!("services: at least one service is required");
    }
    for (name, s) in &m.services.0 {
        if name == CLIENT {
            bail!("services.{CLIENT}: the name is reserved for the external pseudo-service");
        }
        if s.workers == 0 {
            bail!("services.{name}.workers must be >= 1");
        }
        check_dist(
            &format!("services.{name}.service_time_ms"),
            &s.service_time_ms,
        )?;
        for (v, w) in &s.variants.0 {
            non_negative(&format!("services.{name}.variants.{v}"), *w)?;
        }
        if s.variants.0.len() > MAX_VARIANTS {
            bail!("services.{name}.variants: at most {MAX_VARIANTS} call templates");
        }
        if !s.variants.0.is_empty() && s.variants.0.iter().all(|(_, w)| *w == 0.0) {
            bail!("services.{name}.variants: the weights must not all be 0");
        }
        if let Some(c) = &s.codel {
            positive(&format!("services.{name}.codel.target_ms"), c.target_ms)?;
            positive(&format!("services.{name}.codel.interval_ms"), c.interval_ms)?;
        }
        check_service_extensions(name, s)?;
    }
    Ok(())
}

fn check_service_extensions(name: &str, s: &super::ServiceSpec) -> Result<()> {
    if s.instances == Some(0) {
        bail!("services.{name}.instances must be >= 1");
    }
    if let Some(d) = &s.network_ms {
        check_dist(&format!("services.{name}.network_ms"), d)?;
    }
    if let Some(p) = &s.pool {
        if p.permits == 0 {
            bail!("services.{name}.pool.permits must be >= 1");
        }
        check_dist(&format!("services.{name}.pool.hold_ms"), &p.hold_ms)?;
        if !matches!(p.kind.as_deref(), None | Some("pool") | Some("lock")) {
            bail!("services.{name}.pool.kind must be `pool` or `lock`");
        }
    }
    Ok(())
}

/// Checks one distribution's parameters.
pub fn check_dist(field: &str, d: &DistSpec) -> Result<()> {
    let need = |name: &str, v: Option<f64>| -> Result<f64> {
        v.ok_or_else(|| anyhow::anyhow!("{field}.{name} is required for dist `{}`", d.dist))
    };
    match d.dist.as_str() {
        "lognormal" => {
            let (median, p99) = (need("median", d.median)?, need("p99", d.p99)?);
            positive(&format!("{field}.median"), median)?;
            if !(p99.is_finite() && p99 >= median) {
                bail!("{field}.p99 ({p99}) must be >= median ({median})");
            }
            Ok(())
        }
        "exponential" => positive(&format!("{field}.mean"), need("mean", d.mean)?),
        "constant" => {
            let v = d.value.or(d.mean).or(d.median);
            non_negative(&format!("{field}.value"), need("value", v)?)
        }
        "empirical" => check_quantiles(field, d.quantiles.as_deref()),
        other => bail!(
            "{field}.dist: unknown distribution `{other}` (lognormal, exponential, constant, empirical)"
        ),
    }
}

fn check_quantiles(field: &str, q: Option<&[(f64, f64)]>) -> Result<()> {
    let Some(q) = q.filter(|q| !q.is_empty()) else {
        bail!(
            "{field}.quantiles: a non-empty [[quantile, ms], ...] list is required for `empirical`"
        );
    };
    let mut prev = (-1.0, 0.0);
    for (i, &(p, v)) in q.iter().enumerate() {
        probability(&format!("{field}.quantiles[{i}] quantile"), p)?;
        non_negative(&format!("{field}.quantiles[{i}] value"), v)?;
        if p <= prev.0 || v < prev.1 {
            bail!("{field}.quantiles[{i}]: quantiles and values must increase ([{p}, {v}] after [{}, {}])", prev.0, prev.1);
        }
        prev = (p, v);
    }
    Ok(())
}

fn check_calls(m: &IncidentModel) -> Result<()> {
    for (i, c) in m.calls.iter().enumerate() {
        let f = format!("calls[{i}]");
        known_service(m, &format!("{f}.from"), &c.from)?;
        check_variant(m, &f, c)?;
        check_count_p(&f, c.count, c.p)?;
        if c.asynchronous && c.to.is_none() {
            bail!("{f}.async applies to a single call (`to`), not a call group");
        }
        match (&c.to, &c.calls) {
            (Some(to), None) if !c.parallel => known_service(m, &format!("{f}.to"), to)?,
            (Some(_), None) => {
                bail!("{f}.parallel needs a call group (`calls`), not a single `to`")
            }
            (None, Some(members)) => check_group(m, &f, c, members)?,
            _ => bail!("{f}: give either `to` (one call) or `calls` (a call group)"),
        }
    }
    Ok(())
}

fn check_variant(m: &IncidentModel, f: &str, c: &CallEntry) -> Result<()> {
    let Some(name) = &c.variant else {
        return Ok(());
    };
    let known = m.services.0.iter().find(|(n, _)| *n == c.from);
    if !known.is_some_and(|(_, s)| s.variants.0.iter().any(|(v, _)| v == name)) {
        bail!(
            "{f}.variant: `{name}` is not in services.{}.variants",
            c.from
        );
    }
    Ok(())
}

fn check_group(
    m: &IncidentModel,
    f: &str,
    c: &CallEntry,
    members: &[super::GroupMember],
) -> Result<()> {
    if members.is_empty() {
        bail!("{f}.calls: a call group needs at least one member");
    }
    if c.count.is_some() {
        bail!("{f}.count: not allowed on a call group (set `count` on its members)");
    }
    for (j, g) in members.iter().enumerate() {
        let gf = format!("{f}.calls[{j}]");
        known_service(m, &format!("{gf}.to"), &g.to)?;
        check_count_p(&gf, g.count, g.p)?;
    }
    Ok(())
}

fn check_count_p(f: &str, count: Option<u32>, p: Option<f64>) -> Result<()> {
    if count == Some(0) {
        bail!("{f}.count must be >= 1");
    }
    probability(&format!("{f}.p"), p.unwrap_or(1.0))
}

/// Callee indices of each service (both plain calls and group members).
pub fn callees(m: &IncidentModel) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); m.services.0.len()];
    for c in &m.calls {
        let Some(from) = m.service_index(&c.from) else {
            continue;
        };
        let tos =
            c.to.iter()
                .cloned()
                .chain(c.calls.iter().flatten().map(|g| g.to.clone()));
        out[from].extend(tos.filter_map(|t| m.service_index(&t)));
    }
    out
}

fn check_cycles(m: &IncidentModel) -> Result<()> {
    let graph = callees(m);
    // 0 = unvisited, 1 = on the current path, 2 = done.
    let mut state = vec![0u8; graph.len()];
    let mut path = Vec::new();
    for start in 0..graph.len() {
        if let Some(cycle) = find_cycle(&graph, start, &mut state, &mut path) {
            let names: Vec<&str> = cycle.iter().map(|&i| m.services.0[i].0.as_str()).collect();
            bail!(
                "calls: call cycle {} (a visit would wait on itself)",
                names.join(" -> ")
            );
        }
    }
    Ok(())
}

fn find_cycle(
    g: &[Vec<usize>],
    v: usize,
    state: &mut [u8],
    path: &mut Vec<usize>,
) -> Option<Vec<usize>> {
    match state[v] {
        2 => return None,
        1 => {
            let from = path.iter().position(|&x| x == v).unwrap_or(0);
            let mut cyc = path[from..].to_vec();
            cyc.push(v);
            return Some(cyc);
        }
        _ => {}
    }
    state[v] = 1;
    path.push(v);
    for &w in &g[v] {
        if let Some(c) = find_cycle(g, w, state, path) {
            return Some(c);
        }
    }
    path.pop();
    state[v] = 2;
    None
}

fn check_faults(m: &IncidentModel) -> Result<()> {
    for (i, f) in m.faults.iter().enumerate() {
        let p = format!("faults[{i}]");
        known_service(m, &format!("{p}.service"), &f.service)?;
        non_negative(&format!("{p}.start_s"), f.start_s)?;
        if !(f.end_s.is_finite() && f.end_s > f.start_s) {
            bail!(
                "{p}.end_s ({}) must be after start_s ({})",
                f.end_s,
                f.start_s
            );
        }
        positive(&format!("{p}.latency_multiplier"), f.latency_multiplier)?;
        probability(&format!("{p}.error_rate"), f.error_rate)?;
        check_fault_extensions(m, &p, f)?;
    }
    Ok(())
}

fn check_fault_extensions(m: &IncidentModel, p: &str, f: &super::FaultSpec) -> Result<()> {
    non_negative(&format!("{p}.network_delay_ms"), f.network_delay_ms)?;
    probability(&format!("{p}.silent_error_rate"), f.silent_error_rate)?;
    probability(&format!("{p}.hold_share"), f.hold_share)?;
    positive(&format!("{p}.hold_multiplier"), f.hold_multiplier)?;
    if let Some(from) = &f.from {
        known_service(m, &format!("{p}.from"), from)?;
    }
    let svc = m.service_index(&f.service).map(|i| &m.services.0[i].1);
    if let (Some(i), Some(s)) = (f.instance, svc) {
        let n = s.instances.unwrap_or(1);
        if i >= n {
            bail!("{p}.instance: {i} but `{}` has {n} instance(s)", f.service);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::replay::model::parse_model;

    fn base(calls: &str, extra: &str) -> String {
        format!(
            r#"{{"duration_s":10,"arrivals":{{"entry":"a","rate_per_s":5}},
            "services":{{"a":{{"workers":2,"service_time_ms":{{"dist":"constant","value":1}}}},
                        "b":{{"workers":1,"service_time_ms":{{"dist":"lognormal","median":2,"p99":8}}}}}},
            "calls":[{calls}]{extra}}}"#
        )
    }

    fn err(text: &str) -> String {
        format!("{:#}", parse_model(text).unwrap_err())
    }

    #[test]
    fn scenario_files_are_valid() {
        for name in ["small", "retry_storm", "large"] {
            let path = format!(
                "{}/../shared/bench/scenarios/{name}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    parse_model(&text).unwrap_or_else(|e| panic!("{name}: {e:#}"));
                }
                Err(_) => eprintln!("SKIPPED: {path} not found"),
            }
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert!(err(&base(r#"{"from":"a","to":"zz"}"#, ""))
            .contains("calls[0].to: unknown service `zz`"));
        let cyc = err(&base(r#"{"from":"a","to":"b"},{"from":"b","to":"a"}"#, ""));
        assert!(cyc.contains("call cycle a -> b -> a"), "{cyc}");
        let neg = base("", "").replace(r#""rate_per_s":5"#, r#""rate_per_s":-5"#);
        assert!(err(&neg).contains("arrivals.rate_per_s must be"));
        let p99 = base("", "").replace(r#""p99":8"#, r#""p99":1"#);
        assert!(err(&p99).contains("services.b.service_time_ms.p99 (1) must be >= median (2)"));
        let pol = base(
            r#"{"from":"a","to":"b"}"#,
            r#","policies":{"default":{"retry":3}}"#,
        );
        assert!(err(&pol).contains("unknown field `retry`"), "{}", err(&pol));
        let edge = base(
            r#"{"from":"a","to":"b"}"#,
            r#","policies":{"edges":[{"from":"b","to":"a"}]}"#,
        );
        assert!(err(&edge).contains("policies.edges[0]: no call from `b` to `a`"));
    }

    #[test]
    fn groups_and_empirical_are_accepted() {
        let g = base(
            r#"{"from":"a","parallel":true,"calls":[{"to":"b","count":2},{"to":"b","p":0.5}]}"#,
            "",
        )
        .replace(
            r#"{"dist":"constant","value":1}"#,
            r#"{"dist":"empirical","quantiles":[[0.5,3.1],[0.9,8.0],[0.99,20.0]]}"#,
        );
        parse_model(&g).unwrap();
        let bad = g.replace("[0.9,8.0]", "[0.9,2.0]");
        assert!(err(&bad).contains("quantiles[1]: quantiles and values must increase"));
    }
}
