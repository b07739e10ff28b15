//! Time windows (incident, baseline, buckets) and how a user writes them on the command line.
//!
//! A [`Window`] is a half-open interval of Unix nanoseconds. `--incident A..B` and
//! `--baseline A..B` are parsed by [`parse_window`]: each end is an RFC 3339 instant or an
//! offset such as `+600s` from the first span.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};

/// Nanoseconds per second.
pub const NS_PER_S: i64 = 1_000_000_000;

/// A half-open time interval `[start_ns, end_ns)` in Unix nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    pub start_ns: i64,
    pub end_ns: i64,
}

impl Window {
    /// A window; `end_ns` is raised to `start_ns` when it lies before it.
    pub fn new(start_ns: i64, end_ns: i64) -> Self {
        Window {
            start_ns,
            end_ns: end_ns.max(start_ns),
        }
    }

    /// Whether `t_ns` lies inside the window.
    pub fn contains(&self, t_ns: i64) -> bool {
        t_ns >= self.start_ns && t_ns < self.end_ns
    }

    /// Length in nanoseconds.
    pub fn len_ns(&self) -> i64 {
        self.end_ns - self.start_ns
    }

    /// Whether the window has no length.
    pub fn is_empty(&self) -> bool {
        self.end_ns <= self.start_ns
    }
}

/// Formats Unix nanoseconds as an RFC 3339 UTC instant (`2024-06-01T12:10:00Z`).
pub fn rfc3339(t_ns: i64) -> String {
    DateTime::<Utc>::from_timestamp_nanos(t_ns).to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Parses `A..B` where each end is an RFC 3339 instant or an offset from `first_span_ns`
/// (`+600s`, `+1.5m`, `+2h`, `+250ms`; a bare `+600` means seconds).
pub fn parse_window(spec: &str, first_span_ns: i64) -> Result<Window> {
    let (a, b) = spec
        .split_once("..")
        .with_context(|| format!("window `{spec}`: expected `A..B`"))?;
    let start = parse_instant(a.trim(), first_span_ns)
        .with_context(|| format!("window `{spec}`: start `{a}`"))?;
    let end = parse_instant(b.trim(), first_span_ns)
        .with_context(|| format!("window `{spec}`: end `{b}`"))?;
    if end <= start {
        bail!("window `{spec}`: the end must lie after the start");
    }
    Ok(Window::new(start, end))
}

/// One end of a window: an offset (`+…`) or an RFC 3339 instant.
fn parse_instant(s: &str, first_span_ns: i64) -> Result<i64> {
    if let Some(offset) = s.strip_prefix('+') {
        let ns = parse_offset_ns(offset)?;
        return first_span_ns.checked_add(ns).context("offset out of range");
    }
    let t = DateTime::parse_from_rfc3339(s).with_context(|| {
        "expected an RFC 3339 instant (2024-06-01T12:10:00Z) or an offset like +600s"
    })?;
    t.timestamp_nanos_opt().context("instant out of range")
}

/// `600s`, `1.5m`, `2h`, `250ms`, `600` (seconds) → nanoseconds.
fn parse_offset_ns(s: &str) -> Result<i64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num
        .parse()
        .with_context(|| format!("offset `+{s}`: expected a number then s, ms, m or h"))?;
    let unit_ns = match unit {
        "" | "s" => 1e9,
        "ms" => 1e6,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => bail!("offset `+{s}`: unknown unit `{unit}` (use ms, s, m or h)"),
    };
    let ns = value * unit_ns;
    if !ns.is_finite() || ns > i64::MAX as f64 / 2.0 {
        bail!("offset `+{s}` out of range");
    }
    Ok(ns.round() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_717_243_200 * NS_PER_S; // 2024-06-01T12:00:00Z

    #[test]
    fn offsets_are_relative_to_the_first_span() {
        let w = parse_window("+600s..+1200s", T0).unwrap();
        assert_eq!(w, Window::new(T0 + 600 * NS_PER_S, T0 + 1200 * NS_PER_S));
        let w = parse_window("+10m..+1.5h", T0).unwrap();
        assert_eq!(w.end_ns - T0, 5400 * NS_PER_S);
        let w = parse_window("+250ms..+1", T0).unwrap();
        assert_eq!(w.start_ns - T0, 250_000_000);
    }

    #[test]
    fn instants_and_mixed_forms_parse() {
        let w = parse_window("2024-06-01T12:10:00Z..2024-06-01T14:20:00+02:00", 0).unwrap();
        assert_eq!(w.start_ns, T0 + 600 * NS_PER_S);
        assert_eq!(w.end_ns, T0 + 1200 * NS_PER_S);
        let w = parse_window("2024-06-01T12:10:00Z..+1200s", T0).unwrap();
        assert_eq!(w.len_ns(), 600 * NS_PER_S);
        assert_eq!(rfc3339(w.start_ns), "2024-06-01T12:10:00Z");
    }

    #[test]
    fn bad_windows_are_errors_naming_the_part() {
        assert!(parse_window("+600s", T0).is_err());
        assert!(parse_window("+600s..+100s", T0).is_err());
        let e = parse_window("+600x..+700s", T0).unwrap_err();
        assert!(format!("{e:#}").contains("unknown unit"));
        assert!(parse_window("yesterday..+1s", T0).is_err());
    }
}
