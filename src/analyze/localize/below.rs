//! Below the service: what the bad requests of a suspect share (BubbleUp-style).
//!
//! A request of the suspect is *bad* when it failed, took longer than nearly every baseline
//! request (its p99), or waited longer than that in the gap before it started. The
//! attribute values (instance, operation) of the bad requests are compared with the rest;
//! a value is named when the bad requests concentrate on it beyond doubt: the 95 % Wilson
//! interval of its share among the bad lies wholly above that among the rest, and it holds
//! most of the bad ones.

use crate::analyze::incident::Windows;
use crate::analyze::intern::Interner;
use crate::analyze::stats::quantile;
use crate::analyze::table::SpanTable;

/// z of a two-sided 95 % interval.
const Z95: f64 = 1.96;
/// Fewer bad requests than this cannot show where they concentrate.
const MIN_BAD: u64 = 10;
/// Quantile of the baseline that marks a request as bad.
const BAD_QUANTILE: f64 = 0.99;

/// Where a suspect's bad requests concentrate.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Concentration {
    /// `instance` or `operation`.
    pub attribute: &'static str,
    pub value: String,
    /// Distinct values of the attribute among the suspect's requests.
    pub values: usize,
    /// Share of the bad requests with the value, and of the rest.
    pub bad_share: f64,
    pub rest_share: f64,
    pub bad: u64,
    pub rest: u64,
}

impl Concentration {
    /// "one instance of 3: inventory-2 holds 97 % of its slow or failing requests (n=340)
    /// against 31 % of the rest (n=2,100)".
    pub fn words(&self) -> String {
        format!(
            "one {} of {}: {} holds {:.0} % of its slow or failing requests (n={}) against {:.0} % of the rest (n={})",
            self.attribute,
            self.values,
            self.value,
            self.bad_share * 100.0,
            self.bad,
            self.rest_share * 100.0,
            self.rest
        )
    }
}

/// Wilson score interval of `k` successes in `n`.
fn wilson(k: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    (centre - half, centre + half)
}

/// The strongest concentration of `service`'s bad requests, if any.
pub fn concentration(t: &SpanTable, w: &Windows, service: u32) -> Option<Concentration> {
    let inc = w.incident?;
    let rows: Vec<usize> = (0..t.len())
        .filter(|&i| t.service[i] == service && t.is_server(i))
        .collect();
    let gap = |i: usize| -> i64 {
        match t.parent_of(i) {
            Some(p) if t.is_client(p) && t.service[p] != service => t.duration(p) - t.duration(i),
            _ => 0,
        }
    };
    let base: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&i| w.baseline.contains(t.start[i]))
        .collect();
    let p99 = |f: &dyn Fn(usize) -> i64| {
        let mut v: Vec<f64> = base.iter().map(|&i| f(i) as f64).collect();
        quantile(&mut v, BAD_QUANTILE)
    };
    let (dur_line, gap_line) = (p99(&|i| t.duration(i))?, p99(&gap).unwrap_or(f64::INFINITY));
    let bad = |i: usize| {
        inc.contains(t.start[i])
            && (t.is_error(i) || t.duration(i) as f64 > dur_line || gap(i) as f64 > gap_line)
    };
    let flags: Vec<bool> = rows.iter().map(|&i| bad(i)).collect();
    let attrs: [(&'static str, &[u32], &Interner); 2] = [
        ("instance", &t.instance, &t.instances),
        ("operation", &t.name, &t.names),
    ];
    attrs
        .into_iter()
        .filter_map(|(name, col, names)| best_value(name, col, names, &rows, &flags))
        .max_by(|a, b| (a.bad_share - a.rest_share).total_cmp(&(b.bad_share - b.rest_share)))
}

fn best_value(
    attribute: &'static str,
    col: &[u32],
    names: &Interner,
    rows: &[usize],
    bad: &[bool],
) -> Option<Concentration> {
    let mut counts: std::collections::BTreeMap<u32, (u64, u64)> = Default::default();
    for (&i, &b) in rows.iter().zip(bad) {
        let e = counts.entry(col[i]).or_default();
        if b {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let n_bad: u64 = counts.values().map(|c| c.0).sum();
    let n_rest: u64 = counts.values().map(|c| c.1).sum();
    if counts.len() < 2 || n_bad < MIN_BAD {
        return None;
    }
    let (&value, &(a, c)) = counts.iter().max_by_key(|(_, c)| c.0)?;
    let (bad_lo, _) = wilson(a, n_bad);
    let (_, rest_hi) = wilson(c, n_rest);
    let bad_share = a as f64 / n_bad as f64;
    if value == Interner::NONE || bad_share < 0.5 || bad_lo <= rest_hi {
        return None;
    }
    Some(Concentration {
        attribute,
        value: names.name(value).to_string(),
        values: counts.len(),
        bad_share,
        rest_share: c as f64 / n_rest.max(1) as f64,
        bad: n_bad,
        rest: n_rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_interval_narrows_with_samples() {
        let (lo, hi) = wilson(9, 10);
        assert!(lo > 0.55 && lo < 0.6 && hi > 0.98);
        let (lo, hi) = wilson(900, 1000);
        assert!(lo > 0.87 && hi < 0.92);
        assert_eq!(wilson(0, 0), (0.0, 1.0));
    }
}
