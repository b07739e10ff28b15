//! The JSON-lines application logs of the simulated services (bench generator shape):
//! `timestamp`, `severity`, `service`, `message`, `trace_id`, `span_id`, plus `route`,
//! `status`, `duration_ms`, `queue_ms`, `queue_depth`, `peer`, `attempt`, `timeout_ms`,
//! and `pool_wait_ms` / `lock_wait_ms` where the service reports its waits that way.
//! A caller that received a wrong result logs it as an ERROR (the callee saw nothing).

use serde_json::{json, Value};

use super::spans::route;
use super::{mix, ns, unit, write_line, TelemetryRecorder, P_INFO_LOG};
use crate::replay::sim::recorder::{AttemptRecord, Outcome, VisitRecord};

/// RFC 3339 with nanoseconds, UTC.
pub fn rfc3339(ns: u64) -> String {
    let secs = (ns / 1_000_000_000) as i64;
    let nanos = (ns % 1_000_000_000) as u32;
    chrono::DateTime::from_timestamp(secs, nanos).map_or_else(String::new, |d| {
        d.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
    })
}

/// (trace id, span id) of a log line.
type Ids<'a> = (&'a str, &'a str);

impl TelemetryRecorder {
    #[allow(clippy::too_many_arguments)]
    fn log(
        &mut self,
        t: f64,
        skew: i64,
        severity: &str,
        service: &str,
        message: String,
        ids: Ids,
        extra: Value,
    ) {
        let Some(w) = self.logs.as_mut() else { return };
        let mut rec = json!({"timestamp": rfc3339(ns(t).saturating_add_signed(skew)), "severity": severity, "service": service,
            "message": message, "trace_id": ids.0, "span_id": ids.1});
        if let (Value::Object(m), Value::Object(x)) = (&mut rec, extra) {
            m.extend(x);
        }
        self.log_lines += 1;
        if let Err(e) = write_line(w, &rec) {
            self.error.get_or_insert(e);
        }
    }

    /// Caller-side lines: a WARN per retry, WARN/ERROR (last attempt) per timeout/rejection.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn client_logs(
        &mut self,
        r: &AttemptRecord,
        caller: &str,
        callee: &str,
        timeout_ms: i64,
        ids: Ids,
        max: u32,
        skew: i64,
    ) {
        if r.attempt > 1 {
            let extra = json!({"peer": callee, "attempt": r.attempt});
            self.log(
                r.start,
                skew,
                "WARN",
                caller,
                format!("retrying GET {callee}"),
                ids,
                extra,
            );
        }
        let sev = if r.attempt >= max { "ERROR" } else { "WARN" };
        match r.outcome {
            Outcome::Timeout => {
                let extra = json!({"peer": callee, "attempt": r.attempt, "timeout_ms": timeout_ms});
                let msg = format!("call to {callee} timed out after {timeout_ms} ms");
                self.log(r.end, skew, sev, caller, msg, ids, extra);
            }
            Outcome::Rejected => {
                let extra = json!({"peer": callee, "attempt": r.attempt, "status": 503});
                self.log(
                    r.end,
                    skew,
                    sev,
                    caller,
                    format!("call to {callee} rejected: 503"),
                    ids,
                    extra,
                );
            }
            Outcome::Ok | Outcome::Error => {}
        }
    }

    /// The caller's ERROR line for an answer that was OK on the wire but wrong.
    pub(super) fn silent_log(
        &mut self,
        r: &AttemptRecord,
        caller: &str,
        callee: &str,
        ids: Ids,
        skew: i64,
    ) {
        let extra = json!({"peer": callee, "status": 200});
        let msg = format!("invalid response from {callee}: unexpected payload");
        self.log(r.end, skew, "ERROR", caller, msg, ids, extra);
    }

    /// Server-side line: ERROR on failure, INFO on a share of successes.
    pub(super) fn server_log(
        &mut self,
        r: &VisitRecord,
        svc: &str,
        ids: Ids,
        wait_field: Option<&str>,
        skew: i64,
    ) {
        let info = unit(mix(self.opts.seed ^ 0x106, r.serial as u64)) < P_INFO_LOG;
        if r.ok && !info {
            return;
        }
        let ms = |s: f64| (s * 1e6).round() / 1e3;
        let mut extra = json!({"route": route(svc), "status": r.status,
            "duration_ms": ms(r.end - r.start), "queue_ms": ms(r.start - r.arrive),
            "queue_depth": r.queue_at_arrival});
        if let (Some(k), false) = (wait_field, r.wait.0.is_nan()) {
            extra[k] = json!(ms(r.wait.1 - r.wait.0));
        }
        let (sev, verb) = if r.ok {
            ("INFO", "completed")
        } else {
            ("ERROR", "failed")
        };
        self.log(
            r.end,
            skew,
            sev,
            svc,
            format!("GET {} {verb}", route(svc)),
            ids,
            extra,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_keeps_nanoseconds() {
        assert_eq!(
            rfc3339(super::super::BASE_NS + 1_000_000_123),
            "2024-06-01T12:00:01.000000123Z"
        );
    }
}
