//! `--policy SPEC` parsing: `kind:key=value,...` (e.g. `retry:attempts=3,base=100ms,
//! cap=20s,jitter=full`, `budget:ratio=0.2`, `breaker:errors=50%,min=20,open=5s`) into
//! policy overrides. Several specs combine; later ones win field by field. Defaults are the
//! published ones of design/REPLAY.md (AWS SDK retries, Finagle budget, gRPC throttling,
//! SRE adaptive throttling, Hystrix / resilience4j breakers, CoDel, bulkheads).

use anyhow::{bail, Context, Result};

use super::model::policy::{
    AdaptiveSpec, BackoffSpec, BreakerSpec, ConcurrencySpec, HedgeSpec, Jitter, LimitKind,
    PolicySpec, ThrottleSpec, FINAGLE_BUDGET,
};
use super::model::CodelSpec;

/// Overrides from the command line: edge policy fields, and CoDel for services.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub edge: PolicySpec,
    /// `(service or None = every service, CoDel parameters)`.
    pub codel: Option<(Option<String>, CodelSpec)>,
}

/// Parses and combines `--policy` specs.
pub fn parse_specs(specs: &[String]) -> Result<Overrides> {
    let mut out = Overrides::default();
    for s in specs {
        apply(&mut out, s).with_context(|| format!("--policy `{s}`"))?;
    }
    Ok(out)
}

fn apply(out: &mut Overrides, spec: &str) -> Result<()> {
    let (kind, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let kv = pairs(rest)?;
    let p = &mut out.edge;
    match kind.trim() {
        "retry" => retry(p, &kv),
        "timeout" => {
            p.timeout_ms = Some(Some(duration_ms(one_value(&kv, "after")?)?));
            Ok(())
        }
        "none" => {
            p.max_attempts = Some(1);
            Ok(())
        }
        "budget" => budget(p, &kv),
        "throttle" => throttle(p, &kv),
        "adaptive" => adaptive(p, &kv),
        "breaker" => breaker(p, &kv),
        "deadline" => {
            p.deadline_propagation = Some(!matches!(one_value(&kv, "on").unwrap_or("on"), "off" | "false"));
            Ok(())
        }
        "hedge" => hedge(p, &kv),
        "limit" => limit(p, &kv),
        "codel" => codel(out, &kv),
        other => bail!(
            "unknown policy kind `{other}` (retry, timeout, none, budget, throttle, adaptive, breaker, deadline, hedge, limit, codel)"
        ),
    }
}

type Pairs<'a> = Vec<(&'a str, &'a str)>;

fn pairs(rest: &str) -> Result<Pairs<'_>> {
    let items = rest.split(',').map(str::trim).filter(|s| !s.is_empty());
    Ok(items
        .map(|it| {
            it.split_once('=')
                .map_or(("", it), |(k, v)| (k.trim(), v.trim()))
        })
        .collect())
}

/// The value of a one-value spec (`timeout:100ms` or `timeout:after=100ms`).
fn one_value<'a>(kv: &Pairs<'a>, key: &str) -> Result<&'a str> {
    match kv.as_slice() {
        [("", v)] => Ok(*v),
        [(k, v)] if *k == key => Ok(*v),
        _ => bail!("expected one value (`{key}=...`)"),
    }
}

fn unknown(key: &str, allowed: &str) -> anyhow::Error {
    anyhow::anyhow!("unknown key `{key}` (allowed: {allowed})")
}

/// `100ms`, `20s`, `2m`, `250us` or a bare number of milliseconds → milliseconds.
pub fn duration_ms(v: &str) -> Result<f64> {
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60_000.0)
    } else {
        (v, 1.0)
    };
    let x: f64 = num
        .trim()
        .parse()
        .with_context(|| format!("bad duration `{v}`"))?;
    if !(x.is_finite() && x >= 0.0) {
        bail!("duration `{v}` must be >= 0");
    }
    Ok(x * scale)
}

fn seconds(v: &str) -> Result<f64> {
    Ok(duration_ms(v)? / 1000.0)
}

/// `50%` or `0.5` → 0.5.
fn fraction(v: &str) -> Result<f64> {
    let x = match v.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
        None => v.parse::<f64>(),
    }
    .with_context(|| format!("bad fraction `{v}`"))?;
    if !(0.0..=1.0).contains(&x) {
        bail!("fraction `{v}` must be within 0..1 (or 0%..100%)");
    }
    Ok(x)
}

fn number<T: std::str::FromStr>(v: &str) -> Result<T> {
    v.parse().map_err(|_| anyhow::anyhow!("bad number `{v}`"))
}

/// A retry preset: (attempts, base ms, cap ms, jitter) from REPLAY.md's table.
type RetryPreset = (u32, f64, f64, Jitter);
/// AWS SDK "standard" retry mode: 3 attempts, base 100 ms, cap 20 s, full jitter.
const AWS_STANDARD: RetryPreset = (3, 100.0, 20_000.0, Jitter::Full);
/// Envoy route retries: 1 retry, base 25 ms, cap 250 ms (10× base), full jitter.
const ENVOY: RetryPreset = (2, 25.0, 250.0, Jitter::Full);
/// gRPC retry policy: at most 5 attempts; initial backoff 100 ms, max 1 s (common config).
const GRPC_RETRY: RetryPreset = (5, 100.0, 1_000.0, Jitter::Full);

/// `retry:` is a whole retry policy: unspecified keys take the AWS SDK standard values (or
/// those of `preset=aws|envoy|grpc`), not the model's.
fn retry(p: &mut PolicySpec, kv: &Pairs) -> Result<()> {
    let preset = match kv.iter().find(|(k, _)| *k == "preset").map(|(_, v)| *v) {
        None | Some("aws") => AWS_STANDARD,
        Some("envoy") => ENVOY,
        Some("grpc") => GRPC_RETRY,
        Some(other) => bail!("unknown retry preset `{other}` (aws, envoy, grpc)"),
    };
    p.max_attempts = Some(preset.0);
    let mut b = BackoffSpec {
        base_ms: Some(preset.1),
        max_ms: Some(Some(preset.2)),
        multiplier: Some(2.0),
        jitter: Some(preset.3),
    };
    for &(k, v) in kv {
        match k {
            "preset" => {}
            "attempts" => p.max_attempts = Some(number(v)?),
            "base" => b.base_ms = Some(duration_ms(v)?),
            "cap" => b.max_ms = Some(Some(duration_ms(v)?)),
            "mult" | "multiplier" => b.multiplier = Some(number(v)?),
            "jitter" => b.jitter = Some(jitter(v)?),
            "timeout" => p.timeout_ms = Some(Some(duration_ms(v)?)),
            _ => {
                return Err(unknown(
                    k,
                    "preset, attempts, base, cap, mult, jitter, timeout",
                ))
            }
        }
    }
    if p.max_attempts == Some(0) {
        bail!("attempts must be >= 1");
    }
    p.backoff = Some(b);
    Ok(())
}

fn jitter(v: &str) -> Result<Jitter> {
    Ok(match v {
        "none" => Jitter::None,
        "full" => Jitter::Full,
        "equal" => Jitter::Equal,
        "decorrelated" => Jitter::Decorrelated,
        _ => bail!("unknown jitter `{v}` (none, full, equal, decorrelated)"),
    })
}

fn budget(p: &mut PolicySpec, kv: &Pairs) -> Result<()> {
    let (mut ratio, mut burst) = FINAGLE_BUDGET;
    for &(k, v) in kv {
        match k {
            "ratio" => ratio = fraction(v)?,
            "burst" | "min" => burst = number(v)?,
            _ => return Err(unknown(k, "ratio, burst")),
        }
    }
    p.retry_budget_ratio = Some(Some(ratio));
    p.retry_budget_burst = Some(burst);
    Ok(())
}

fn throttle(p: &mut PolicySpec, kv: &Pairs) -> Result<()> {
    let mut t = ThrottleSpec::GRPC;
    for &(k, v) in kv {
        match k {
            "tokens" | "max_tokens" => t.max_tokens = number(v)?,
            "ratio" | "token_ratio" => t.token_ratio = number(v)?,
            _ => return Err(unknown(k, "tokens, ratio")),
        }
    }
    p.retry_throttle = Some(Some(t));
    Ok(())
}

fn adaptive(p: &mut PolicySpec, kv: &Pairs) -> Result<()> {
    let mut a = AdaptiveSpec::SRE;
    for &(k, v) in kv {
        match k {
            "k" => a.k = number(v)?,
            "window" => a.window_s = seconds(v)?,
            _ => return Err(unknown(k, "k, window")),
        }
    }
    if !(a.k > 0.0 && a.window_s > 0.0) {
        bail!("k and window must be > 0");
    }
    p.adaptive_throttle = Some(Some(a));
    Ok(())
}

fn breaker(p: &mut PolicySpec, kv: &Pairs) -> Result<()> {
    let mut b = BreakerSpec::HYSTRIX;
    for &(k, v) in kv {
        match k {
            "preset" => {
                b = match v {
                    "hystrix" => BreakerSpec::HYSTRIX,
                    "resilience4j" => BreakerSpec::RESILIENCE4J,
                    _ => bail!("unknown breaker preset `{v}` (hystrix, resilience4j)"),
                }
            }
            "errors" => b.error_rate = fraction(v)?,
            "min" => b.min_requests = number(v)?,
            "open" => b.open_s = seconds(v)?,
            "window" => b.window_s = seconds(v)?,
            "half_open" => b.half_open_calls = number(v)?,
            _ => return Err(unknown(k, "preset, errors, min, open, window, half_open")),
        }
    }
    if b.window_s <= 0.0 || b.open_s <= 0.0 || b.half_open_calls == 0 {
        bail!("window and open must be > 0 and half_open >= 1");
    }
    p.breaker = Some(Some(b));
    Ok(())
}

fn hedge(p: &mut PolicySpec, kv: &Pairs) -> Result<()> {
    let mut h = HedgeSpec::TAIL_AT_SCALE;
    for &(k, v) in kv {
        match k {
            "p" | "percentile" => h.percentile = fraction(v)?,
            _ => return Err(unknown(k, "p")),
        }
    }
    if !(h.percentile > 0.0 && h.percentile < 1.0) {
        bail!("percentile must be within (0, 1)");
    }
    p.hedge = Some(Some(h));
    Ok(())
}

fn limit(p: &mut PolicySpec, kv: &Pairs) -> Result<()> {
    let mut c = ConcurrencySpec::BULKHEAD;
    if kv.iter().any(|&(k, v)| k == "kind" && v == "vegas") {
        c.limit = VEGAS_INITIAL_LIMIT;
    }
    for &(k, v) in kv {
        match k {
            "kind" => {
                c.kind = match v {
                    "static" => LimitKind::Static,
                    "aimd" => LimitKind::Aimd,
                    "vegas" => LimitKind::Vegas,
                    _ => bail!("unknown limit kind `{v}` (static, aimd, vegas)"),
                }
            }
            "limit" | "initial" => c.limit = number(v)?,
            "max" => c.max_limit = number(v)?,
            _ => return Err(unknown(k, "kind, limit, max")),
        }
    }
    if c.limit == 0 || c.max_limit < c.limit {
        bail!("need 1 <= limit <= max");
    }
    p.concurrency_limit = Some(Some(c));
    Ok(())
}

/// Netflix concurrency-limits VegasLimit initial limit.
const VEGAS_INITIAL_LIMIT: u32 = 20;

fn codel(out: &mut Overrides, kv: &Pairs) -> Result<()> {
    let (mut spec, mut service) = (CodelSpec::DEFAULT, None);
    for &(k, v) in kv {
        match k {
            "target" => spec.target_ms = duration_ms(v)?,
            "interval" => spec.interval_ms = duration_ms(v)?,
            "service" => service = Some(v.to_string()),
            "lifo" => spec.adaptive_lifo = !matches!(v, "off" | "false"),
            _ => return Err(unknown(k, "target, interval, service, lifo")),
        }
    }
    if spec.target_ms <= 0.0 || spec.interval_ms <= 0.0 {
        bail!("target and interval must be > 0");
    }
    out.codel = Some((service, spec));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(specs: &[&str]) -> Result<Overrides> {
        parse_specs(&specs.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn retry_budget_breaker_specs() {
        let o = parse(&[
            "retry:attempts=3,base=100ms,cap=20s,jitter=full",
            "budget:ratio=0.2",
            "breaker:errors=50%,min=20,open=5s",
        ])
        .unwrap();
        let p = o.edge;
        assert_eq!(p.max_attempts, Some(3));
        let b = p.backoff.unwrap();
        assert_eq!(
            (b.base_ms, b.max_ms, b.jitter),
            (Some(100.0), Some(Some(20_000.0)), Some(Jitter::Full))
        );
        assert_eq!(p.retry_budget_ratio, Some(Some(0.2)));
        assert_eq!(p.breaker, Some(Some(BreakerSpec::HYSTRIX)));
    }

    #[test]
    fn errors_name_the_culprit() {
        let e = format!("{:#}", parse(&["retry:tries=3"]).unwrap_err());
        assert!(e.contains("unknown key `tries`"), "{e}");
        let e = format!("{:#}", parse(&["shield:x=1"]).unwrap_err());
        assert!(e.contains("unknown policy kind `shield`"), "{e}");
        assert!(parse(&["breaker:errors=150%"]).is_err());
        assert!(parse(&["timeout:abc"]).is_err());
    }

    #[test]
    fn retry_defaults_are_the_aws_sdk_standard_and_presets_work() {
        let p = parse(&["retry"]).unwrap().edge;
        let b = p.backoff.unwrap();
        assert_eq!(
            (p.max_attempts, b.base_ms, b.max_ms),
            (Some(3), Some(100.0), Some(Some(20_000.0)))
        );
        let e = parse(&["retry:preset=envoy,jitter=equal"]).unwrap().edge;
        let b = e.backoff.unwrap();
        assert_eq!(
            (e.max_attempts, b.base_ms, b.jitter),
            (Some(2), Some(25.0), Some(Jitter::Equal))
        );
        assert!(parse(&["retry:preset=finagle"]).is_err());
        let v = parse(&["limit:kind=vegas"])
            .unwrap()
            .edge
            .concurrency_limit
            .unwrap()
            .unwrap();
        assert_eq!(v.limit, 20);
    }

    #[test]
    fn durations_and_other_kinds() {
        assert_eq!(duration_ms("250us").unwrap(), 0.25);
        assert_eq!(duration_ms("2m").unwrap(), 120_000.0);
        let o = parse(&[
            "timeout:100ms",
            "deadline",
            "codel:target=5ms,service=db",
            "limit:kind=aimd,limit=10",
        ])
        .unwrap();
        assert_eq!(o.edge.timeout_ms, Some(Some(100.0)));
        assert_eq!(o.edge.deadline_propagation, Some(true));
        assert_eq!(o.codel.unwrap().0.as_deref(), Some("db"));
        assert_eq!(
            o.edge.concurrency_limit.unwrap().unwrap().kind,
            LimitKind::Aimd
        );
    }
}
