//! Log timestamps → Unix nanoseconds: RFC 3339 / ISO 8601 strings (with or without
//! fraction and zone; no zone = UTC), Python `asctime` (`2024-06-01 12:00:00,123`), and
//! epoch numbers in s / ms / µs / ns told apart by magnitude, as numbers or digit strings.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::value::Val;

/// Epoch values below this are seconds: 1e11 s is the year 5138, while 1e11 ms is 1973.
const MAX_SECONDS: f64 = 1e11;
/// Below this (and above [`MAX_SECONDS`]) milliseconds: 1e14 ms is the year 5138.
const MAX_MILLIS: f64 = 1e14;
/// Below this microseconds; above, nanoseconds.
const MAX_MICROS: f64 = 1e17;
const NANOS_PER_SECOND: f64 = 1e9;

/// Zone-less layouts tried after RFC 3339, all read as UTC.
const NAIVE_FORMATS: [&str; 3] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    // Python logging's default asctime: comma before milliseconds.
    "%Y-%m-%d %H:%M:%S,%3f",
];
/// A bare date: midnight UTC.
const DATE_ONLY: &str = "%Y-%m-%d";
/// Zoned layouts RFC 3339 rejects (`+0000` without colon, space before the zone).
const ZONED_FORMATS: [&str; 2] = ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f %z"];

/// Unix nanoseconds of a timestamp value; `None` when it is not one.
pub(crate) fn unix_nanos(v: &Val) -> Option<i64> {
    match v {
        Val::Int(n) => Some(from_int(*n)),
        Val::UInt(_) => None,
        Val::Float(f) => from_float(*f),
        Val::Str(s) => from_text(s),
        Val::Bool(_) | Val::Json(_) => None,
    }
}

/// An integer epoch: its magnitude tells the unit; exact arithmetic (ns exceed 2^53).
fn from_int(n: i64) -> i64 {
    let magnitude = n.unsigned_abs() as f64;
    let scale = if magnitude < MAX_SECONDS {
        1_000_000_000
    } else if magnitude < MAX_MILLIS {
        1_000_000
    } else if magnitude < MAX_MICROS {
        1_000
    } else {
        1
    };
    n.saturating_mul(scale)
}

/// A float epoch (zap's `ts` seconds with a fraction; sometimes fractional ms).
fn from_float(f: f64) -> Option<i64> {
    if !f.is_finite() {
        return None;
    }
    let magnitude = f.abs();
    let to_seconds = if magnitude < MAX_SECONDS {
        1.0
    } else if magnitude < MAX_MILLIS {
        1e-3
    } else if magnitude < MAX_MICROS {
        1e-6
    } else {
        1e-9
    };
    let ns = (f * to_seconds * NANOS_PER_SECOND).round();
    // `as` saturates out-of-range floats; reject those rather than clamp.
    (ns.abs() < i64::MAX as f64).then_some(ns as i64)
}

fn from_text(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(n) = s.parse::<i64>() {
        return Some(from_int(n));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return s.parse::<f64>().ok().and_then(from_float);
    }
    from_calendar(s)
}

/// RFC 3339 first (the common case), then the other zoned and zone-less layouts.
fn from_calendar(s: &str) -> Option<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return t.timestamp_nanos_opt();
    }
    for f in ZONED_FORMATS {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return t.timestamp_nanos_opt();
        }
    }
    NAIVE_FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(s, DATE_ONLY)
                .ok()?
                .and_hms_opt(0, 0, 0)
        })
        .and_then(|t| t.and_utc().timestamp_nanos_opt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// 2024-06-01T12:00:00Z.
    const BASE_S: i64 = 1_717_243_200;
    const BASE_NS: i64 = BASE_S * 1_000_000_000;

    fn text(s: &str) -> Option<i64> {
        unix_nanos(&Val::Str(Cow::Borrowed(s)))
    }

    #[test]
    fn calendar_strings_with_and_without_fraction_and_zone() {
        assert_eq!(
            text("2024-06-01T12:00:00.040136793Z"),
            Some(BASE_NS + 40_136_793)
        );
        assert_eq!(text("2024-06-01T12:00:00Z"), Some(BASE_NS));
        assert_eq!(
            text("2024-06-01T14:00:00.5+02:00"),
            Some(BASE_NS + 500_000_000)
        );
        assert_eq!(
            text("2024-06-01T12:00:00.123+0000"),
            Some(BASE_NS + 123_000_000)
        );
        assert_eq!(text("2024-06-01T12:00:00.25"), Some(BASE_NS + 250_000_000));
        assert_eq!(text("2024-06-01 12:00:00"), Some(BASE_NS));
        assert_eq!(text("2024-06-01 12:00:00,123"), Some(BASE_NS + 123_000_000));
        assert_eq!(text("2024-06-01 12:00:00.5Z"), Some(BASE_NS + 500_000_000));
        assert_eq!(text("2024-06-01t12:00:00z"), Some(BASE_NS));
        assert_eq!(
            text("2024-06-01"),
            Some(BASE_NS - 12 * 3600 * 1_000_000_000)
        );
        assert_eq!(text("yesterday"), None);
        assert_eq!(text(""), None);
        assert_eq!(text("2024-13-45T99:00:00Z"), None);
    }

    #[test]
    fn epochs_in_every_unit_by_magnitude() {
        assert_eq!(unix_nanos(&Val::Int(BASE_S)), Some(BASE_NS));
        assert_eq!(
            unix_nanos(&Val::Int(BASE_S * 1000 + 7)),
            Some(BASE_NS + 7_000_000)
        );
        assert_eq!(
            unix_nanos(&Val::Int(BASE_S * 1_000_000 + 7)),
            Some(BASE_NS + 7_000)
        );
        assert_eq!(unix_nanos(&Val::Int(BASE_NS + 7)), Some(BASE_NS + 7));
        let zap = unix_nanos(&Val::Float(1_717_243_200.123_456)).unwrap();
        assert!((zap - (BASE_NS + 123_456_000)).abs() < 1_000, "{zap}");
        assert_eq!(text("1717243200123"), Some(BASE_NS + 123_000_000));
        assert_eq!(text("1717243200.5"), Some(BASE_NS + 500_000_000));
        assert_eq!(unix_nanos(&Val::Float(f64::MAX)), None);
        assert_eq!(unix_nanos(&Val::Bool(true)), None);
        assert!(unix_nanos(&Val::Int(i64::MIN)).is_some());
    }
}
