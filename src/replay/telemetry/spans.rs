//! OTLP/JSON spans and resources of the simulated services, HTTP semantic conventions:
//! a CLIENT span per attempt (`http.request.resend_count` on retries, `error.type=timeout`
//! and an `exception` event on timeouts) and a SERVER span per visit, its child.

use serde_json::{json, Value};

use super::{mix, ns, TelemetryRecorder};
use crate::replay::sim::recorder::{AttemptRecord, Outcome, Recorder, VisitRecord};
use crate::replay::sim::topology::CLIENT_IDX;
use crate::replay::sim::Topology;

/// Port every simulated HTTP service listens on.
const PORT: i64 = 8080;

fn sattr(k: &str, v: &str) -> Value {
    json!({"key": k, "value": {"stringValue": v}})
}

fn iattr(k: &str, v: i64) -> Value {
    json!({"key": k, "value": {"intValue": v.to_string()}})
}

/// The HTTP route every simulated service serves.
pub fn route(svc: &str) -> String {
    format!("/api/{svc}")
}

/// Resource of instance `i` of service `svc` (stable ids from the seed).
pub fn resource(svc: &str, i: u32, seed: u64) -> Value {
    let name_hash = svc
        .bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64));
    let h = mix(seed, mix(i as u64, name_hash));
    let pod = format!("{svc}-{:09x}-{:05x}", h >> 28, (h & 0xFFFFF) ^ i as u64);
    let uuid = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xFFFF,
        h & 0xFFF,
        (h >> 12) & 0xFFF,
        mix(h, 7) & 0xFFFF_FFFF_FFFF
    );
    json!({"attributes": [
        sattr("service.name", svc), sattr("service.namespace", "sim"), sattr("service.version", "1.0.0"),
        sattr("service.instance.id", &uuid), sattr("deployment.environment.name", "simulation"),
        sattr("host.name", &pod), sattr("k8s.namespace.name", "sim"), sattr("k8s.pod.name", &pod),
        sattr("telemetry.sdk.language", "rust"), sattr("telemetry.sdk.name", "opentelemetry"),
        sattr("telemetry.sdk.version", "0.24.0"),
    ]})
}

impl Recorder for TelemetryRecorder {
    const ENABLED: bool = true;

    fn attempt(&mut self, topo: &Topology, r: &AttemptRecord) {
        let edge = &topo.edges[r.edge as usize];
        if edge.from == CLIENT_IDX || !self.sampled(r.trace) {
            return; // the external client is not instrumented
        }
        let callee = topo.services[edge.to as usize].name.as_str();
        let caller = topo.services[edge.from as usize].name.as_str();
        let (trace, span) = (self.trace_id(r.trace), self.span_id(r.serial, true));
        let timeout_ms = edge
            .policy
            .timeout
            .map_or(0, |t| (t * 1000.0).round() as i64);
        let s = client_span(
            r,
            &trace,
            &span,
            &self.span_id(r.parent, false),
            callee,
            timeout_ms,
        );
        let res = self.resource_of(edge.from, r.parent);
        self.emit(res, s);
        self.client_logs(
            r,
            caller,
            callee,
            timeout_ms,
            (&trace, &span),
            edge.policy.max_attempts,
        );
    }

    fn visit(&mut self, topo: &Topology, r: &VisitRecord) {
        self.tally.add(topo, r);
        if !self.sampled(r.trace) {
            return;
        }
        let edge = &topo.edges[r.edge as usize];
        let svc = topo.services[r.service as usize].name.as_str();
        let (trace, span) = (self.trace_id(r.trace), self.span_id(r.serial, false));
        let mut s = server_span(r, &trace, &span, svc);
        if edge.from != CLIENT_IDX {
            s["parentSpanId"] = json!(self.span_id(r.serial, true));
        }
        let res = self.resource_of(r.service, r.serial);
        self.emit(res, s);
        self.server_log(r, svc, (&trace, &span));
    }
}

fn client_span(
    r: &AttemptRecord,
    trace: &str,
    span: &str,
    parent: &str,
    callee: &str,
    timeout_ms: i64,
) -> Value {
    let mut attrs = vec![
        sattr("http.request.method", "GET"),
        sattr("server.address", callee),
        iattr("server.port", PORT),
        sattr(
            "url.full",
            &format!("http://{callee}:{PORT}{}", route(callee)),
        ),
        sattr("network.protocol.version", "1.1"),
    ];
    let (status, events) = client_outcome(r, &mut attrs, callee, timeout_ms);
    if r.attempt > 1 {
        attrs.push(iattr("http.request.resend_count", (r.attempt - 1) as i64));
    }
    let mut s = json!({"traceId": trace, "spanId": span, "parentSpanId": parent, "name": "GET", "kind": 3,
        "startTimeUnixNano": ns(r.start).to_string(), "endTimeUnixNano": ns(r.end).to_string(),
        "attributes": attrs, "status": status});
    if let Some(ev) = events {
        s["events"] = ev;
    }
    s
}

fn client_outcome(
    r: &AttemptRecord,
    attrs: &mut Vec<Value>,
    callee: &str,
    timeout_ms: i64,
) -> (Value, Option<Value>) {
    match r.outcome {
        Outcome::Ok => {
            attrs.push(iattr("http.response.status_code", 200));
            (json!({}), None)
        }
        Outcome::Error | Outcome::Rejected => {
            let code = r.status as i64;
            attrs.push(iattr("http.response.status_code", code));
            attrs.push(sattr("error.type", &code.to_string()));
            (json!({"code": 2, "message": format!("GET {code}")}), None)
        }
        Outcome::Timeout => {
            attrs.push(sattr("error.type", "timeout"));
            let msg = format!(
                "error sending request to {callee}: operation timed out after {timeout_ms} ms"
            );
            let ev = json!([{"timeUnixNano": ns(r.end).to_string(), "name": "exception",
                "attributes": [sattr("exception.type", "reqwest::Error"), sattr("exception.message", &msg)]}]);
            (json!({"code": 2, "message": msg}), Some(ev))
        }
    }
}

fn server_span(r: &VisitRecord, trace: &str, span: &str, svc: &str) -> Value {
    let code = r.status as i64;
    let mut attrs = vec![
        sattr("http.request.method", "GET"),
        sattr("http.route", &route(svc)),
        sattr("url.scheme", "http"),
        sattr("url.path", &route(svc)),
        sattr("server.address", svc),
        iattr("server.port", PORT),
        sattr("network.protocol.version", "1.1"),
        iattr("http.response.status_code", code),
    ];
    let mut s = json!({"traceId": trace, "spanId": span, "name": format!("GET {}", route(svc)), "kind": 2,
        "startTimeUnixNano": ns(r.start).to_string(), "endTimeUnixNano": ns(r.end).to_string(), "status": {}});
    if !r.ok {
        attrs.push(sattr("error.type", &code.to_string()));
        let why = if code == 503 {
            "overloaded"
        } else {
            "upstream call failed"
        };
        let msg = format!("GET {} failed: {why}", route(svc));
        s["events"] = json!([{"timeUnixNano": ns(r.end).to_string(), "name": "exception",
            "attributes": [sattr("exception.type", "ServiceError"), sattr("exception.message", &msg)]}]);
        s["status"] = json!({"code": 2, "message": msg});
    }
    s["attributes"] = json!(attrs);
    s
}
