//! Filling in what producers leave out, before anything reads the span table.
//!
//! Many producers never set span kind or span status. A span without a kind whose parent
//! lives in another service is still the server half of a call (and its parent, when that
//! parent has no kind either, the client half). A span without a status still failed when
//! its HTTP status is 5xx, its gRPC code is a failure, it recorded an `exception` event, or
//! an ERROR log record was written inside it. Every inference is counted, so the reader
//! sees how much of the diagnosis rests on it; an explicit OK status is never overridden.

use std::collections::{HashMap, HashSet};

use polars::prelude::DataFrame;

use super::table::SpanTable;
use crate::model::columns::{self as col, kind, status};

/// OTLP severity number of ERROR (ERROR..ERROR4 are 17..=20, FATAL 21..=24).
const SEVERITY_ERROR: i64 = 17;
/// gRPC codes a server reports as its own failure (the OpenTelemetry semantic conventions'
/// list: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS).
const GRPC_SERVER_FAILURES: [i32; 6] = [2, 4, 12, 13, 14, 15];

/// What was inferred, per source of the inference.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Inferred {
    /// Spans without a kind read as the server half of a call (parent in another service).
    pub server_kinds: u64,
    /// Spans without a kind read as the client half of a call (a child in another service).
    pub client_kinds: u64,
    /// Spans without an error status read as failed, by the first evidence found.
    pub errors_from_http: u64,
    pub errors_from_grpc: u64,
    pub errors_from_exceptions: u64,
    pub errors_from_logs: u64,
}

impl Inferred {
    /// Errors inferred from any source.
    pub fn errors(&self) -> u64 {
        self.errors_from_http
            + self.errors_from_grpc
            + self.errors_from_exceptions
            + self.errors_from_logs
    }
}

/// Infers kinds, then errors, in place.
pub fn infer(t: &mut SpanTable, events: &DataFrame, logs: &DataFrame) -> Inferred {
    let mut out = Inferred::default();
    infer_kinds(t, &mut out);
    let exceptions: HashSet<(u128, u64)> = span_keys(events, exception_rows).into_keys().collect();
    let error_logs = span_keys(logs, error_log_rows);
    infer_errors(t, &exceptions, &error_logs, &mut out);
    out
}

fn unkinded(k: u8) -> bool {
    matches!(k as i32, kind::UNSPECIFIED | kind::INTERNAL)
}

fn infer_kinds(t: &mut SpanTable, out: &mut Inferred) {
    let mut new_kind = t.kind.clone();
    for i in 0..t.len() {
        let Some(p) = t.parent_of(i) else { continue };
        if t.service[p] == t.service[i] {
            continue;
        }
        if unkinded(t.kind[i]) {
            new_kind[i] = if t.kind[p] as i32 == kind::PRODUCER {
                kind::CONSUMER as u8
            } else {
                kind::SERVER as u8
            };
            out.server_kinds += 1;
        }
        // The parent is the client half only when it is inside its own service's request
        // (its parent in the same service); a kindless root stays as it is.
        let inside = t
            .parent_of(p)
            .is_some_and(|pp| t.service[pp] == t.service[p]);
        if unkinded(t.kind[p]) && unkinded(new_kind[p]) && inside {
            new_kind[p] = kind::CLIENT as u8;
            out.client_kinds += 1;
        }
    }
    t.kind = new_kind;
}

fn infer_errors(
    t: &mut SpanTable,
    exceptions: &HashSet<(u128, u64)>,
    error_logs: &HashMap<(u128, u64), String>,
    out: &mut Inferred,
) {
    for i in 0..t.len() {
        if t.status[i] as i32 != status::UNSET {
            continue;
        }
        let key = || (t.trace_ids[t.trace[i] as usize], t.span_id[i]);
        let counter = if t.http_status[i] >= 500 {
            &mut out.errors_from_http
        } else if grpc_failed(t, i) {
            &mut out.errors_from_grpc
        } else if !exceptions.is_empty() && exceptions.contains(&key()) {
            &mut out.errors_from_exceptions
        } else if let Some(msg) = (!error_logs.is_empty())
            .then(|| error_logs.get(&key()))
            .flatten()
        {
            t.logged_errors.push((i as u32, msg.clone()));
            &mut out.errors_from_logs
        } else {
            continue;
        };
        *counter += 1;
        t.status[i] = status::ERROR as u8;
    }
}

/// A client sees every non-OK code as a failure; a server only its own failures.
fn grpc_failed(t: &SpanTable, i: usize) -> bool {
    let g = t.grpc_status[i];
    if g <= 0 {
        return false;
    }
    t.is_client(i) || GRPC_SERVER_FAILURES.contains(&g)
}

/// (trace id, span id) of the rows `pick` selects, with the row's message (the first one
/// per span); empty when the frame lacks ids.
fn span_keys(
    df: &DataFrame,
    pick: impl Fn(&DataFrame) -> Vec<bool>,
) -> HashMap<(u128, u64), String> {
    let (Ok(tr), Ok(sp)) = (
        crate::model::frame::str_col(df, col::TRACE_ID),
        crate::model::frame::str_col(df, col::SPAN_ID),
    ) else {
        return HashMap::new();
    };
    let messages: Vec<Option<&str>> = match crate::model::frame::str_col(df, col::MESSAGE) {
        Ok(m) => m.iter().collect(),
        Err(_) => vec![None; df.height()],
    };
    let keep = pick(df);
    let mut out = HashMap::new();
    for (((a, b), k), m) in tr.iter().zip(sp.iter()).zip(keep).zip(messages) {
        let key = (|| {
            let a = u128::from_str_radix(a?, 16).ok()?;
            let b = u64::from_str_radix(b?, 16).ok()?;
            Some((a, b))
        })();
        if let (true, Some(key)) = (k, key) {
            out.entry(key)
                .or_insert_with(|| m.unwrap_or("").to_string());
        }
    }
    out
}

/// Events named `exception` (the OpenTelemetry convention for a recorded exception).
fn exception_rows(df: &DataFrame) -> Vec<bool> {
    match crate::model::frame::str_col(df, col::NAME) {
        Ok(c) => c.iter().map(|n| n == Some("exception")).collect(),
        Err(_) => vec![false; df.height()],
    }
}

/// Log records at ERROR severity or worse.
fn error_log_rows(df: &DataFrame) -> Vec<bool> {
    let Ok(c) = df.column(col::SEVERITY_NUMBER) else {
        return vec![false; df.height()];
    };
    let Ok(c) = c.cast(&polars::prelude::DataType::Int64) else {
        return vec![false; df.height()];
    };
    match c.i64() {
        Ok(v) => v
            .iter()
            .map(|s| s.is_some_and(|s| s >= SEVERITY_ERROR))
            .collect(),
        Err(_) => vec![false; df.height()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::testkit::{Frames, SpanSpec};

    fn table(f: &Frames) -> SpanTable {
        SpanTable::from_frame(&f.spans()).unwrap()
    }

    #[test]
    fn kindless_spans_across_services_become_a_call() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::SERVER, 0, 100));
        f.push(SpanSpec::new(1, 2, 1, "api", kind::UNSPECIFIED, 10, 90));
        f.push(SpanSpec::new(1, 3, 2, "db", kind::INTERNAL, 20, 80));
        let mut t = table(&f);
        let inf = infer(&mut t, &DataFrame::default(), &DataFrame::default());
        assert_eq!((inf.server_kinds, inf.client_kinds), (1, 1));
        assert_eq!(t.kind[1] as i32, kind::CLIENT);
        assert_eq!(t.kind[2] as i32, kind::SERVER);
    }

    #[test]
    fn kindless_root_is_not_made_a_client() {
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::UNSPECIFIED, 0, 100));
        f.push(SpanSpec::new(1, 2, 1, "db", kind::UNSPECIFIED, 20, 80));
        let mut t = table(&f);
        let inf = infer(&mut t, &DataFrame::default(), &DataFrame::default());
        assert_eq!((inf.server_kinds, inf.client_kinds), (1, 0));
        assert_eq!(t.kind[0] as i32, kind::UNSPECIFIED);
    }

    #[test]
    fn http_5xx_and_grpc_failures_without_status_are_errors_but_ok_is_kept() {
        let mut f = Frames::default();
        let mut a = SpanSpec::new(1, 1, 0, "api", kind::SERVER, 0, 100);
        a.http_status = Some(503);
        f.push(a);
        let mut b = SpanSpec::new(1, 2, 1, "api", kind::CLIENT, 10, 90);
        b.http_status = Some(500);
        b.status = status::OK;
        f.push(b);
        let mut c = SpanSpec::new(1, 3, 2, "db", kind::SERVER, 20, 80);
        c.grpc_status = Some(14);
        f.push(c);
        let mut d = SpanSpec::new(1, 4, 2, "db", kind::SERVER, 20, 80);
        d.grpc_status = Some(5); // NOT_FOUND: the server's answer, not its failure
        f.push(d);
        let mut t = table(&f);
        let inf = infer(&mut t, &DataFrame::default(), &DataFrame::default());
        assert_eq!((inf.errors_from_http, inf.errors_from_grpc), (1, 1));
        let row = |id: u64| (0..t.len()).find(|&i| t.span_id[i] == id).unwrap();
        assert!(t.is_error(row(1)) && t.is_error(row(3)));
        assert!(!t.is_error(row(2)) && !t.is_error(row(4)));
    }

    #[test]
    fn error_logs_and_exception_events_mark_their_span() {
        use polars::prelude::*;
        let mut f = Frames::default();
        f.push(SpanSpec::new(1, 1, 0, "api", kind::SERVER, 0, 100));
        f.push(SpanSpec::new(1, 2, 1, "api", kind::INTERNAL, 10, 90));
        f.push(SpanSpec::new(1, 3, 0, "api", kind::SERVER, 0, 100));
        let mut t = table(&f);
        let tid = format!("{:032x}", 1u128);
        let logs = df!(
            col::TRACE_ID => [tid.as_str(), tid.as_str()],
            col::SPAN_ID => [format!("{:016x}", 1u64), format!("{:016x}", 3u64)],
            col::SEVERITY_NUMBER => [17i32, 9],
        )
        .unwrap();
        let events = df!(
            col::TRACE_ID => [tid.as_str()],
            col::SPAN_ID => [format!("{:016x}", 2u64)],
            col::NAME => ["exception"],
        )
        .unwrap();
        let inf = infer(&mut t, &events, &logs);
        assert_eq!((inf.errors_from_logs, inf.errors_from_exceptions), (1, 1));
        let row = |id: u64| (0..t.len()).find(|&i| t.span_id[i] == id).unwrap();
        assert!(t.is_error(row(1)) && t.is_error(row(2)) && !t.is_error(row(3)));
    }
}
