//! One flat line → a [`LogRecord`]: the best-ranked key of each role fills the well-known
//! fields; every other field (including lower-ranked duplicates of a role) is kept, typed.

use std::borrow::Cow;

use super::detect::{Mapping, Role, ROLES};
use super::ids::{self, Id};
use super::level;
use super::time;
use super::value::{Flat, Val};
use crate::ingest::diag::{Diagnostics, Level};
use crate::ingest::record::{FieldValue, LogRecord};

pub(crate) const NO_LOG_FIELDS: &str = "log line without a time, level or message";
pub(crate) const BAD_TIME: &str = "unparseable log timestamp (kept without time)";
pub(crate) const BAD_TRACE_ID: &str = "invalid trace id in log line (dropped)";
pub(crate) const BAD_SPAN_ID: &str = "invalid span id in log line (dropped)";

/// Where a line came from, for diagnostics.
pub(crate) struct Place<'p> {
    pub(crate) label: &'p str,
    pub(crate) line: usize,
}

impl Place<'_> {
    fn text(&self) -> String {
        format!("{}:{}", self.label, self.line)
    }
}

/// Builds the record of one line. `from_text`: values are logfmt text, typed by their look.
/// `None` (with a Skip counted) when the line has none of time, level and message.
pub(crate) fn to_record(
    flat: Flat,
    m: &Mapping,
    from_text: bool,
    at: &Place,
    diag: &mut Diagnostics,
) -> Option<LogRecord> {
    let chosen = choose(&flat, m);
    let mut rec = LogRecord::default();
    let mut fields = Vec::with_capacity(flat.len());
    let mut split = [None, None];
    for (i, (key, val)) in flat.into_iter().enumerate() {
        match chosen
            .iter()
            .position(|c| *c == Some(i))
            .map(|r| ROLE_ORDER[r])
        {
            Some(Role::Seconds) => split[0] = as_int(&val),
            Some(Role::Nanos) => split[1] = as_int(&val),
            Some(role) => fill(&mut rec, role, &key, &val, m, at, diag),
            None => fields.push((key.into_owned(), field_value(val, from_text))),
        }
    }
    rec.fields = fields;
    if rec.time_ns.is_none() {
        rec.time_ns = split_time(split);
    }
    if rec.time_ns.is_none() && rec.severity_text.is_none() && rec.message.is_none() {
        diag.add(Level::Skip, NO_LOG_FIELDS, || at.text());
        return None;
    }
    Some(rec)
}

/// Roles in the index order of [`choose`]'s result.
const ROLE_ORDER: [Role; ROLES] = [
    Role::Time,
    Role::Level,
    Role::LevelNumber,
    Role::Message,
    Role::Service,
    Role::Trace,
    Role::Span,
    Role::Seconds,
    Role::Nanos,
];

fn role_index(role: Role) -> usize {
    ROLE_ORDER.iter().position(|r| *r == role).unwrap_or(0)
}

/// For each role, the index of the best-ranked field carrying it (arrays never qualify).
fn choose(flat: &Flat, m: &Mapping) -> [Option<usize>; ROLES] {
    let mut best: [Option<(u8, usize)>; ROLES] = [None; ROLES];
    for (i, (key, val)) in flat.iter().enumerate() {
        let Some((role, rank)) = m.role(key) else {
            continue;
        };
        if matches!(val, Val::Json(_)) {
            continue;
        }
        let slot = &mut best[role_index(role)];
        if slot.is_none_or(|(r, _)| rank < r) {
            *slot = Some((rank, i));
        }
    }
    best.map(|b| b.map(|(_, i)| i))
}

/// Sets the well-known field of `role` from one value.
fn fill(
    rec: &mut LogRecord,
    role: Role,
    key: &str,
    val: &Val,
    m: &Mapping,
    at: &Place,
    diag: &mut Diagnostics,
) {
    match role {
        Role::Time => {
            rec.time_ns = time::unix_nanos(val);
            if rec.time_ns.is_none() {
                diag.add(Level::Warn, BAD_TIME, || at.text());
            }
        }
        Role::Level => fill_level(rec, val, m),
        Role::LevelNumber => {
            if let Some(n) = as_int(val).and_then(|n| level::from_number(n, m.scale)) {
                rec.severity_number = Some(n);
            }
        }
        Role::Message => rec.message = Some(text(val)),
        Role::Service => rec.service = Some(text(val)).filter(|s| !s.is_empty()),
        Role::Trace => rec.trace_id = checked(ids::trace_id(key, val), BAD_TRACE_ID, at, diag),
        Role::Span => rec.span_id = checked(ids::span_id(key, val), BAD_SPAN_ID, at, diag),
        // Combined by the caller.
        Role::Seconds | Role::Nanos => {}
    }
}

/// Unix nanoseconds of a `{seconds, nanos}` timestamp (nanos optional).
fn split_time([seconds, nanos]: [Option<i64>; 2]) -> Option<i64> {
    const NANOS_PER_SECOND: i64 = 1_000_000_000;
    seconds?
        .checked_mul(NANOS_PER_SECOND)?
        .checked_add(nanos.unwrap_or(0))
}

/// Level text as written; its number unless a `SeverityNumber` field already gave one.
fn fill_level(rec: &mut LogRecord, val: &Val, m: &Mapping) {
    let written = text(val);
    let number = match as_int(val) {
        Some(n) => level::from_number(n, m.scale),
        None => level::from_text(&written),
    };
    rec.severity_text = Some(written);
    if rec.severity_number.is_none() {
        rec.severity_number = number;
    }
}

fn checked(id: Id, reason: &str, at: &Place, diag: &mut Diagnostics) -> Option<String> {
    match id {
        Id::Valid(s) => Some(s),
        Id::Absent => None,
        Id::Invalid => {
            diag.add(Level::Warn, reason, || at.text());
            None
        }
    }
}

/// An integral number, or a string of one (logfmt).
fn as_int(val: &Val) -> Option<i64> {
    match val {
        Val::Int(n) => Some(*n),
        Val::Float(f) if f.fract() == 0.0 && f.abs() < i64::MAX as f64 => Some(*f as i64),
        Val::Str(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Any value as text (numbers as written by Rust, arrays as JSON).
fn text(val: &Val) -> String {
    match val {
        Val::Str(s) => s.to_string(),
        Val::Int(n) => n.to_string(),
        Val::UInt(n) => n.to_string(),
        Val::Float(f) => f.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Json(j) => j.clone(),
    }
}

/// A field other than the well-known ones, typed.
fn field_value(val: Val, from_text: bool) -> FieldValue {
    match val {
        Val::Str(s) if from_text => typed_text(s),
        Val::Str(s) => FieldValue::Str(s.into_owned()),
        Val::Int(n) => FieldValue::Int(n),
        Val::UInt(n) => FieldValue::Str(n.to_string()),
        Val::Float(f) => FieldValue::Float(f),
        Val::Bool(b) => FieldValue::Bool(b),
        Val::Json(j) => FieldValue::Str(j),
    }
}

/// A logfmt value: an integer (no leading zero, which would be an id or a code), a float,
/// a boolean, else text.
fn typed_text(s: Cow<str>) -> FieldValue {
    let leading_zero = s.len() > 1 && s.starts_with('0') && !s.starts_with("0.");
    if !leading_zero {
        if let Ok(n) = s.parse::<i64>() {
            return FieldValue::Int(n);
        }
        if let Some(f) = s.parse::<f64>().ok().filter(|f| f.is_finite()) {
            return FieldValue::Float(f);
        }
    }
    match s.as_ref() {
        "true" => FieldValue::Bool(true),
        "false" => FieldValue::Bool(false),
        _ => FieldValue::Str(s.into_owned()),
    }
}
