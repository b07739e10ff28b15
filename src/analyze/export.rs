//! The bench-comparable tables `inspect --export` / `analyze --export` write: `edges.csv`
//! and `service_rates.csv`, with the definitions of `shared/bench/README.md`.
//!
//! edges: every SERVER span whose parent is a CLIENT span is one call (an attempt); grouped
//! by (client's service, server's service): calls, errors (client status 2), retries
//! (client resend_count > 0), p50/p99 of the client's duration with linear interpolation.
//! service rates: SERVER and CONSUMER spans per (service, whole second of their start).
//! Both use the spans as recorded (no clock-skew correction), like the peers.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::Result;
use polars::prelude::DataFrame;

use super::stats::quantile;
use super::table::SpanTable;
use crate::model::columns::kind;
use crate::model::window::NS_PER_S;

/// One row of `edges.csv`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EdgeRow {
    pub caller: String,
    pub callee: String,
    pub calls: u64,
    pub errors: u64,
    pub retries: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// The edge rows, sorted by caller then callee.
pub fn edge_rows(t: &SpanTable) -> Vec<EdgeRow> {
    let mut groups: BTreeMap<(&str, &str), (u64, u64, Vec<f64>)> = BTreeMap::new();
    for i in 0..t.len() {
        let Some(p) = t.parent_of(i) else { continue };
        if t.kind[i] as i32 != kind::SERVER || t.kind[p] as i32 != kind::CLIENT {
            continue;
        }
        let g = groups
            .entry((t.service_name(p), t.service_name(i)))
            .or_default();
        g.0 += u64::from(t.is_error(p));
        g.1 += u64::from(t.resend[p] > 0);
        g.2.push(t.duration(p) as f64);
    }
    groups
        .into_iter()
        .map(|((caller, callee), (errors, retries, mut d))| EdgeRow {
            caller: caller.to_string(),
            callee: callee.to_string(),
            calls: d.len() as u64,
            errors,
            retries,
            p50_ms: quantile(&mut d, 0.5).unwrap_or(0.0) / 1e6,
            p99_ms: quantile(&mut d, 0.99).unwrap_or(0.0) / 1e6,
        })
        .collect()
}

/// `edges.csv` text from the spans frame.
pub fn edges_csv(spans: &DataFrame) -> Result<String> {
    let t = SpanTable::from_frame(spans)?;
    let mut out = String::from("caller,callee,calls,errors,retries,p50_ms,p99_ms\n");
    for r in edge_rows(&t) {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{:.6},{:.6}",
            csv_field(&r.caller),
            csv_field(&r.callee),
            r.calls,
            r.errors,
            r.retries,
            r.p50_ms,
            r.p99_ms
        );
    }
    Ok(out)
}

/// Requests (SERVER + CONSUMER spans) per (service, second of start), sorted.
pub fn service_rates(t: &SpanTable) -> Vec<(String, i64, u64)> {
    let mut counts: BTreeMap<(&str, i64), u64> = BTreeMap::new();
    for i in (0..t.len()).filter(|&i| t.is_server(i)) {
        *counts
            .entry((t.service_name(i), t.start[i].div_euclid(NS_PER_S)))
            .or_default() += 1;
    }
    counts
        .into_iter()
        .map(|((s, sec), n)| (s.to_string(), sec, n))
        .collect()
}

/// `service_rates.csv` text (`service,second,requests`) from the spans frame.
pub fn service_rates_csv(spans: &DataFrame) -> Result<String> {
    let t = SpanTable::from_frame(spans)?;
    let mut out = String::from("service,second,requests\n");
    for (s, sec, n) in service_rates(&t) {
        let _ = writeln!(out, "{},{sec},{n}", csv_field(&s));
    }
    Ok(out)
}

/// Quotes a CSV field when it holds a comma, quote or line break.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{Frames, SpanSpec};
    use crate::model::columns::status;

    #[test]
    fn edges_follow_the_bench_definitions() {
        let mut f = Frames::default();
        let mut c1 = SpanSpec::new(1, 1, 0, "api", kind::CLIENT, 0, 10);
        c1.status = status::ERROR;
        f.push(c1);
        f.push(SpanSpec::new(1, 2, 1, "db", kind::SERVER, 1, 9));
        let mut c2 = SpanSpec::new(1, 3, 0, "api", kind::CLIENT, 20, 40);
        c2.resend = Some(1);
        f.push(c2);
        f.push(SpanSpec::new(1, 4, 3, "db", kind::SERVER, 21, 39));
        f.push(SpanSpec::new(1, 5, 0, "api", kind::CLIENT, 50, 60)); // no server: not a pair
        f.push(SpanSpec::new(1, 6, 0, "we,ird", kind::CONSUMER, 1000, 1001));
        let csv = edges_csv(&f.spans()).unwrap();
        assert_eq!(
            csv,
            "caller,callee,calls,errors,retries,p50_ms,p99_ms\napi,db,2,1,1,15.000000,19.900000\n"
        );
        let rates = service_rates_csv(&f.spans()).unwrap();
        let sec = crate::analyze::testkit::T0 / NS_PER_S;
        let want = format!(
            "service,second,requests\ndb,{sec},2\n\"we,ird\",{},1\n",
            sec + 1
        );
        assert_eq!(rates, want);
    }
}
