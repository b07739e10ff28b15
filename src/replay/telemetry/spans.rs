//! OTLP/JSON spans and resources of the simulated services: a CLIENT span per attempt
//! (HTTP, a database call when the callee is a database, a PRODUCER span on a queue edge;
//! `http.request.resend_count` on retries, `error.type=timeout` and an `exception` event on
//! timeouts), a SERVER (or CONSUMER) span per visit, its child, and on request an INTERNAL
//! span over a pool or lock wait. Each service's producer decides names, kind and status.

use serde_json::{json, Value};

use super::{mix, ns, Producer, TelemetryRecorder, WaitReport};
use crate::replay::sim::recorder::{AttemptRecord, Outcome, Recorder, VisitRecord};
use crate::replay::sim::topology::CLIENT_IDX;
use crate::replay::sim::Topology;

/// Port every simulated HTTP service listens on.
const PORT: i64 = 8080;
/// Kind numbers of OTLP/JSON.
const INTERNAL: i64 = 1;
const SERVER: i64 = 2;
const CLIENT: i64 = 3;
const PRODUCER: i64 = 4;
const CONSUMER: i64 = 5;

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

/// The queue a consumer reads.
pub fn topic(consumer: &str) -> String {
    format!("{consumer}-events")
}

/// Hash of a service name (stable resource ids).
fn name_hash(svc: &str) -> u64 {
    svc.bytes()
        .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64))
}

/// `(service.instance.id, pod name)` of instance `i` of `svc`.
pub fn instance_ids(svc: &str, i: u32, seed: u64) -> (String, String) {
    let h = mix(seed, mix(i as u64, name_hash(svc)));
    let pod = format!("{svc}-{:09x}-{:05x}", h >> 28, (h & 0xFFFFF) ^ i as u64);
    let uuid = format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xFFFF,
        h & 0xFFF,
        (h >> 12) & 0xFFF,
        mix(h, 7) & 0xFFFF_FFFF_FFFF
    );
    (uuid, pod)
}

/// Resource of instance `i` of service `svc` (stable ids from the seed).
pub fn resource(svc: &str, i: u32, seed: u64) -> Value {
    let (uuid, pod) = instance_ids(svc, i, seed);
    json!({"attributes": [
        sattr("service.name", svc), sattr("service.namespace", "sim"), sattr("service.version", "1.0.0"),
        sattr("service.instance.id", &uuid), sattr("deployment.environment.name", "simulation"),
        sattr("host.name", &pod), sattr("k8s.namespace.name", "sim"), sattr("k8s.pod.name", &pod),
        sattr("telemetry.sdk.language", "rust"), sattr("telemetry.sdk.name", "opentelemetry"),
        sattr("telemetry.sdk.version", "0.24.0"),
    ]})
}

/// What the callee of an attempt is, as its caller's instrumentation sees it.
#[derive(Clone, Copy)]
enum Callee<'a> {
    Http(&'a str),
    Db(&'a str, &'a str),
    Queue(&'a str),
}

impl Recorder for TelemetryRecorder {
    const ENABLED: bool = true;

    fn attempt(&mut self, topo: &Topology, r: &AttemptRecord) {
        let edge = &topo.edges[r.edge as usize];
        if edge.from == CLIENT_IDX {
            return; // the external client is not instrumented
        }
        if r.silent {
            self.tally.add_silent(topo, edge.from as usize, r.end);
        }
        let caller_p = &self.producers[edge.from as usize];
        if caller_p.hidden || !self.sampled(r.trace) {
            return;
        }
        let callee_name = topo.services[edge.to as usize].name.as_str();
        let caller = topo.services[edge.from as usize].name.as_str();
        let callee = match (
            &self.producers[edge.to as usize].db_system,
            edge.asynchronous,
        ) {
            (_, true) => Callee::Queue(callee_name),
            (Some(db), false) => Callee::Db(callee_name, db),
            (None, false) => Callee::Http(callee_name),
        };
        let (trace, span) = (self.trace_id(r.trace), self.span_id(r.serial, true));
        let timeout_ms = edge
            .policy
            .timeout
            .map_or(0, |t| (t * 1000.0).round() as i64);
        let parent = self.span_id(r.parent, false);
        let s = client_span(r, (&trace, &span, &parent), callee, timeout_ms, caller_p);
        let skew = caller_p.clock_skew_ns;
        let inst = topo.services[edge.from as usize].instance_of(self.opts.seed, r.parent);
        let res = self.resource_of(edge.from, inst);
        self.emit(res, s);
        let ids = (trace.as_str(), span.as_str());
        self.client_logs(
            r,
            caller,
            callee_name,
            timeout_ms,
            ids,
            edge.policy.max_attempts,
            skew,
        );
        if r.silent {
            self.silent_log(r, caller, callee_name, ids, skew);
        }
    }

    fn visit(&mut self, topo: &Topology, r: &VisitRecord) {
        self.tally.add(topo, r);
        let p = &self.producers[r.service as usize];
        if p.hidden || !self.sampled(r.trace) {
            return;
        }
        let edge = &topo.edges[r.edge as usize];
        let svc = topo.services[r.service as usize].name.as_str();
        let (trace, span) = (self.trace_id(r.trace), self.span_id(r.serial, false));
        let root = edge.from == CLIENT_IDX;
        let shape = match (root && p.sender_only, edge.asynchronous) {
            (true, _) => Shape::Sender,
            (false, true) => Shape::Consumer,
            (false, false) => Shape::Server,
        };
        let mut s = server_span(r, (&trace, &span), svc, shape, p);
        if !root {
            s["parentSpanId"] = json!(self.span_id(r.serial, true));
        }
        let res = self.resource_of(r.service, r.instance);
        let wait = wait_span(r, (&trace, &span), self.wait_span_id(r.serial), topo, p);
        let pool = topo.services[r.service as usize].pool.as_ref();
        let wait_field = (p.wait_report == WaitReport::LogField)
            .then(|| {
                pool.map(|p| {
                    if p.lock {
                        "lock_wait_ms"
                    } else {
                        "pool_wait_ms"
                    }
                })
            })
            .flatten();
        let skew = p.clock_skew_ns;
        self.emit(res, s);
        if let Some(w) = wait {
            self.emit(res, w);
        }
        self.server_log(r, svc, (&trace, &span), wait_field, skew);
    }
}

impl TelemetryRecorder {
    fn wait_span_id(&self, serial: u32) -> String {
        format!("{:016x}", mix(self.opts.seed ^ 0xA11C, serial as u64))
    }
}

/// `(trace id, span id, parent span id)`.
type SpanIds<'a> = (&'a str, &'a str, &'a str);

fn client_span(
    r: &AttemptRecord,
    (trace, span, parent): SpanIds,
    callee: Callee,
    timeout_ms: i64,
    p: &Producer,
) -> Value {
    let k = |key| p.key(key, false);
    let (name, kind, mut attrs) = match callee {
        Callee::Http(c) => {
            let attrs = vec![
                sattr(k("http.request.method"), "GET"),
                sattr(k("server.address"), c),
                iattr(k("server.port"), PORT),
                sattr(k("url.full"), &format!("http://{c}:{PORT}{}", route(c))),
                sattr(k("network.protocol.version"), "1.1"),
            ];
            ("GET".to_string(), CLIENT, attrs)
        }
        Callee::Db(c, system) => {
            let op = if system == "redis" { "GET" } else { "SELECT" };
            let attrs = vec![
                sattr("db.system", system),
                sattr("db.operation.name", op),
                sattr(k("server.address"), c),
            ];
            (format!("{op} {c}"), CLIENT, attrs)
        }
        Callee::Queue(c) => {
            let attrs = vec![
                sattr("messaging.system", "kafka"),
                sattr("messaging.destination.name", &topic(c)),
                sattr("messaging.operation.type", "publish"),
            ];
            (format!("{} publish", topic(c)), PRODUCER, attrs)
        }
    };
    if p.old_semconv && !matches!(callee, Callee::Queue(_)) {
        // Old instrumentations name the peer through the configured `peer.service`.
        let peer = match callee {
            Callee::Http(c) | Callee::Db(c, _) | Callee::Queue(c) => c,
        };
        attrs.push(sattr("peer.service", peer));
    }
    let http = matches!(callee, Callee::Http(_));
    let (status, events) = client_outcome(r, &mut attrs, callee, timeout_ms, http, p);
    if r.attempt > 1 {
        attrs.push(iattr("http.request.resend_count", (r.attempt - 1) as i64));
    }
    let mut s = json!({"traceId": trace, "spanId": span, "parentSpanId": parent, "name": name,
        "startTimeUnixNano": p.clock(ns(r.start)).to_string(),
        "endTimeUnixNano": p.clock(ns(r.end)).to_string(),
        "attributes": attrs, "status": if p.status_unset { json!({}) } else { status }});
    if !p.kind_unset {
        s["kind"] = json!(kind);
    }
    if let Some(ev) = events {
        s["events"] = ev;
    }
    s
}

fn client_outcome(
    r: &AttemptRecord,
    attrs: &mut Vec<Value>,
    callee: Callee,
    timeout_ms: i64,
    http: bool,
    p: &Producer,
) -> (Value, Option<Value>) {
    let code_key = p.key("http.response.status_code", false);
    let name = match callee {
        Callee::Http(c) | Callee::Db(c, _) | Callee::Queue(c) => c,
    };
    match r.outcome {
        Outcome::Ok => {
            if http {
                attrs.push(iattr(code_key, 200));
            }
            (json!({}), None)
        }
        Outcome::Error | Outcome::Rejected => {
            let code = r.status as i64;
            if http {
                attrs.push(iattr(code_key, code));
            }
            attrs.push(sattr("error.type", &code.to_string()));
            let msg = if http {
                format!("GET {code}")
            } else {
                format!("{name} answered {code}")
            };
            let ev = json!([{"timeUnixNano": p.clock(ns(r.end)).to_string(), "name": "exception",
                "attributes": [sattr("exception.type", "RemoteError"), sattr("exception.message", &msg)]}]);
            (json!({"code": 2, "message": msg}), (!http).then_some(ev))
        }
        Outcome::Timeout => {
            attrs.push(sattr("error.type", "timeout"));
            let msg = format!(
                "error sending request to {name}: operation timed out after {timeout_ms} ms"
            );
            let ev = json!([{"timeUnixNano": p.clock(ns(r.end)).to_string(), "name": "exception",
                "attributes": [sattr("exception.type", "reqwest::Error"), sattr("exception.message", &msg)]}]);
            (json!({"code": 2, "message": msg}), Some(ev))
        }
    }
}

/// What a visit's span is: an HTTP server span, a queue consumer's, or a sender's root.
#[derive(Clone, Copy, PartialEq)]
enum Shape {
    Server,
    Consumer,
    Sender,
}

fn server_span(
    r: &VisitRecord,
    (trace, span): (&str, &str),
    svc: &str,
    shape: Shape,
    p: &Producer,
) -> Value {
    let code = r.status as i64;
    let k = |key| p.key(key, true);
    let (name, kind, mut attrs) = match shape {
        Shape::Server => {
            let attrs = vec![
                sattr(k("http.request.method"), "GET"),
                sattr("http.route", &route(svc)),
                sattr(k("url.scheme"), "http"),
                sattr(k("url.path"), &route(svc)),
                sattr(k("server.address"), svc),
                iattr(k("server.port"), PORT),
                sattr(k("network.protocol.version"), "1.1"),
                iattr(k("http.response.status_code"), code),
            ];
            (format!("GET {}", route(svc)), SERVER, attrs)
        }
        Shape::Consumer => {
            let attrs = vec![
                sattr("messaging.system", "kafka"),
                sattr("messaging.destination.name", &topic(svc)),
                sattr("messaging.operation.type", "process"),
            ];
            (format!("{} process", topic(svc)), CONSUMER, attrs)
        }
        Shape::Sender => (format!("{svc} iteration"), INTERNAL, Vec::new()),
    };
    let mut s = json!({"traceId": trace, "spanId": span, "name": name,
        "startTimeUnixNano": p.clock(ns(r.start)).to_string(),
        "endTimeUnixNano": p.clock(ns(r.end)).to_string(), "status": {}});
    if !p.kind_unset {
        s["kind"] = json!(kind);
    }
    if !r.ok {
        attrs.push(sattr("error.type", &code.to_string()));
        let why = if code == 503 {
            "overloaded"
        } else {
            "upstream call failed"
        };
        let msg = format!("{name} failed: {why}");
        s["events"] = json!([{"timeUnixNano": p.clock(ns(r.end)).to_string(), "name": "exception",
            "attributes": [sattr("exception.type", "ServiceError"), sattr("exception.message", &msg)]}]);
        if !p.status_unset {
            s["status"] = json!({"code": 2, "message": msg});
        }
    }
    s["attributes"] = json!(attrs);
    s
}

/// The INTERNAL span over a visit's pool or lock wait, when its producer writes one.
fn wait_span(
    r: &VisitRecord,
    (trace, parent): (&str, &str),
    id: String,
    topo: &Topology,
    p: &Producer,
) -> Option<Value> {
    let pool = topo.services[r.service as usize].pool.as_ref()?;
    if p.wait_report != WaitReport::Span || r.wait.0.is_nan() {
        return None;
    }
    let (name, attr) = if pool.lock {
        ("lock.acquire", sattr("lock.name", "state"))
    } else {
        (
            "pool.acquire",
            sattr("db.client.connection.pool.name", "primary"),
        )
    };
    let mut s = json!({"traceId": trace, "spanId": id, "parentSpanId": parent, "name": name,
        "startTimeUnixNano": p.clock(ns(r.wait.0)).to_string(),
        "endTimeUnixNano": p.clock(ns(r.wait.1)).to_string(), "status": {}, "attributes": [attr]});
    if !p.kind_unset {
        s["kind"] = json!(INTERNAL);
    }
    Some(s)
}
