//! inventory: the lab's Rust leaf service. OpenTelemetry Rust SDK (no auto-instrumentation
//! exists for Rust, so the SERVER and CLIENT spans are made by hand with the standard HTTP
//! semantic conventions), a fixed pool of worker threads, a stock lock, and a small
//! keep-alive connection pool to the uninstrumented key-value store.
//!
//! Faults are read out of band from `$LAB_CONTROL/inventory.json` and
//! `$LAB_CONTROL/<instance>.json` (merged, instance wins) twice a second; nothing about them
//! reaches the telemetry.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex, RwLock};
use std::thread;
use std::time::{Duration, Instant};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{Span, SpanKind, Status, TraceContextExt, Tracer, TracerProvider};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;

/// The fault knobs; all zero when healthy.
#[derive(Default, Clone, Copy)]
struct Control {
    cpu_ms: f64,
    error_rate: f64,
    silent_rate: f64,
    lock_hold_ms: f64,
    lock_period_ms: f64,
}

/// A blocking HTTP/1.1 POST over std::net: the exporter's transport (one request per batch).
#[derive(Debug)]
struct StdHttp;

#[async_trait::async_trait]
impl HttpClient for StdHttp {
    async fn send_bytes(&self, req: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let uri = req.uri().clone();
        let host = uri.authority().ok_or("no authority")?.to_string();
        let mut s = TcpStream::connect(&host)?;
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
            uri.path(),
            req.body().len()
        );
        for (k, v) in req.headers() {
            head.push_str(&format!("{}: {}\r\n", k, v.to_str().unwrap_or("")));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes())?;
        s.write_all(req.body())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf)?;
        let text = String::from_utf8_lossy(&buf);
        let code: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(500);
        Ok(Response::builder().status(code).body(Bytes::new())?)
    }
}

/// A keep-alive connection to the key-value store.
struct KvConn {
    reader: BufReader<TcpStream>,
}

/// A fixed-size pool of keep-alive connections (blocking acquire).
struct KvPool {
    addr: String,
    idle: Mutex<Vec<KvConn>>,
}

impl KvPool {
    fn get(&self, path: &str) -> std::io::Result<(u16, String)> {
        let conn = self.idle.lock().unwrap().pop();
        let mut conn = match conn {
            Some(c) => c,
            None => {
                let s = TcpStream::connect(&self.addr)?;
                s.set_read_timeout(Some(Duration::from_secs(2)))?;
                s.set_nodelay(true)?;
                KvConn {
                    reader: BufReader::new(s),
                }
            }
        };
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: keep-alive\r\n\r\n",
            self.addr
        );
        conn.reader.get_mut().write_all(req.as_bytes())?;
        let mut status = String::new();
        conn.reader.read_line(&mut status)?;
        let code: u16 = status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut len = 0usize;
        loop {
            let mut line = String::new();
            conn.reader.read_line(&mut line)?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; len];
        conn.reader.read_exact(&mut body)?;
        let mut idle = self.idle.lock().unwrap();
        if idle.len() < 8 {
            idle.push(conn);
        }
        Ok((code, String::from_utf8_lossy(&body).into_owned()))
    }
}

struct HeaderMapView<'a>(&'a HashMap<String, String>);
impl Extractor for HeaderMapView<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|s| s.as_str())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|k| k.as_str()).collect()
    }
}
struct Headers(Vec<(String, String)>);
impl Injector for Headers {
    fn set(&mut self, key: &str, value: String) {
        self.0.push((key.to_string(), value));
    }
}

fn read_control(dir: &str, instance: &str) -> Control {
    let mut c = Control::default();
    for name in ["inventory", instance] {
        let Ok(text) = std::fs::read_to_string(format!("{dir}/{name}.json")) else {
            continue;
        };
        for (key, slot) in [
            ("cpu_ms", &mut c.cpu_ms),
            ("error_rate", &mut c.error_rate),
            ("silent_rate", &mut c.silent_rate),
            ("lock_hold_ms", &mut c.lock_hold_ms),
            ("lock_period_ms", &mut c.lock_period_ms),
        ] {
            if let Some(v) = json_number(&text, key) {
                *slot = v;
            }
        }
    }
    c
}

/// The number after `"key":` in a flat JSON object (the control files are written by the
/// lab's own scripts; a missing or odd key leaves the knob unchanged).
fn json_number(text: &str, key: &str) -> Option<f64> {
    let at = text.find(&format!("\"{key}\""))?;
    let rest = text[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = rest
        .find(|ch: char| !(ch.is_ascii_digit() || ch == '.' || ch == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Real CPU work: a hash chain whose length is proportional to the wanted milliseconds.
fn burn(ms: f64) -> u64 {
    let until = Instant::now() + Duration::from_secs_f64(ms / 1000.0);
    let mut h: u64 = 1469598103934665603;
    while Instant::now() < until {
        for i in 0..2000u64 {
            h = (h ^ i).wrapping_mul(1099511628211);
        }
    }
    h
}

/// A cheap deterministic-per-thread random number in [0, 1).
fn rand01(state: &mut u64) -> f64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args
        .get(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: inventory PORT INSTANCE KV_ADDR");
    let instance = args.get(2).cloned().unwrap_or_else(|| "inventory-1".into());
    let kv_addr = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:7001".into());
    let otlp = std::env::var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        .unwrap_or_else(|_| "http://127.0.0.1:4318/v1/traces".into());
    let control_dir = std::env::var("LAB_CONTROL").unwrap_or_else(|_| "/tmp".into());

    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(StdHttp)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(otlp)
        .build()
        .expect("exporter");
    let resource = Resource::builder()
        .with_service_name("inventory")
        .with_attribute(KeyValue::new("service.instance.id", instance.clone()))
        .with_attribute(KeyValue::new("service.version", "1.4.2"))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    let tracer = Arc::new(provider.tracer("lab-inventory"));

    let control = Arc::new(RwLock::new(Control::default()));
    {
        let control = control.clone();
        let (dir, inst) = (control_dir.clone(), instance.clone());
        thread::spawn(move || loop {
            *control.write().unwrap() = read_control(&dir, &inst);
            thread::sleep(Duration::from_millis(500));
        });
    }
    // The stock table: every reservation takes this lock.
    let stock = Arc::new(Mutex::new(HashMap::<String, i64>::new()));
    {
        // A "rebalance" job that, when told to, holds the stock lock for long stretches.
        let (stock, control) = (stock.clone(), control.clone());
        thread::spawn(move || loop {
            let c = *control.read().unwrap();
            if c.lock_hold_ms > 0.0 {
                let guard = stock.lock().unwrap();
                thread::sleep(Duration::from_secs_f64(c.lock_hold_ms / 1000.0));
                drop(guard);
                thread::sleep(Duration::from_secs_f64(
                    (c.lock_period_ms - c.lock_hold_ms).max(1.0) / 1000.0,
                ));
            } else {
                thread::sleep(Duration::from_millis(100));
            }
        });
    }
    let kv = Arc::new(KvPool {
        addr: kv_addr.clone(),
        idle: Mutex::new(Vec::new()),
    });
    let server = Arc::new(tiny_http::Server::http(("127.0.0.1", port)).expect("bind"));
    let workers = 8;
    let mut handles = Vec::new();
    for w in 0..workers {
        let (server, tracer, control, stock, kv) = (
            server.clone(),
            tracer.clone(),
            control.clone(),
            stock.clone(),
            kv.clone(),
        );
        let (instance, kv_addr) = (instance.clone(), kv_addr.clone());
        handles.push(thread::spawn(move || {
            let prop = TraceContextPropagator::new();
            let mut rng: u64 = 0x9E3779B97F4A7C15 ^ ((port as u64) << 32) ^ (w as u64 + 1);
            loop {
                let Ok(req) = server.recv() else { break };
                let headers: HashMap<String, String> = req.headers().iter().map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_string())).collect();
                let parent = prop.extract(&HeaderMapView(&headers));
                let url = req.url().to_string();
                let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
                let route = if path.starts_with("/reserve") { "/reserve" } else { path };
                let mut span = tracer
                    .span_builder(format!("GET {route}"))
                    .with_kind(SpanKind::Server)
                    .with_attributes(vec![
                        KeyValue::new("http.request.method", "GET"),
                        KeyValue::new("http.route", route.to_string()),
                        KeyValue::new("url.path", path.to_string()),
                        KeyValue::new("url.scheme", "http"),
                        KeyValue::new("server.address", "127.0.0.1"),
                        KeyValue::new("server.port", port as i64),
                        KeyValue::new("network.protocol.version", "1.1"),
                    ])
                    .start_with_context(tracer.as_ref(), &parent);
                let c = *control.read().unwrap();
                let sku = query.split('&').find_map(|kv| kv.strip_prefix("sku=")).unwrap_or("sku-0").to_string();
                let qty: i64 = query.split('&').find_map(|kv| kv.strip_prefix("qty=")).and_then(|q| q.parse().ok()).unwrap_or(1);
                let (code, body) = if route != "/reserve" {
                    (404, "{\"error\":\"not found\"}".to_string())
                } else {
                    // Read the price and stock record from the store (a CLIENT span).
                    let cx = parent.with_remote_span_context(span.span_context().clone());
                    let mut client = tracer
                        .span_builder("GET")
                        .with_kind(SpanKind::Client)
                        .with_attributes(vec![
                            KeyValue::new("http.request.method", "GET"),
                            KeyValue::new("server.address", "127.0.0.1"),
                            KeyValue::new("server.port", kv_addr.rsplit(':').next().and_then(|p| p.parse::<i64>().ok()).unwrap_or(0)),
                            KeyValue::new("peer.service", "kvstore"),
                            KeyValue::new("url.full", format!("http://{kv_addr}/kv/stock:{sku}")),
                        ])
                        .start_with_context(tracer.as_ref(), &cx);
                    let mut h = Headers(Vec::new());
                    prop.inject_context(&cx.with_remote_span_context(client.span_context().clone()), &mut h);
                    let kv_result = kv.get(&format!("/kv/stock:{sku}"));
                    match &kv_result {
                        Ok((code, _)) => client.set_attribute(KeyValue::new("http.response.status_code", *code as i64)),
                        Err(e) => {
                            client.set_status(Status::error(e.to_string()));
                            client.set_attribute(KeyValue::new("error.type", "io"));
                        }
                    }
                    client.end();
                    // Availability check: real CPU work under the stock lock.
                    let (reserved, left) = {
                        let mut table = stock.lock().unwrap();
                        burn(1.5 + c.cpu_ms);
                        let left = table.entry(sku.clone()).or_insert(1_000_000);
                        *left -= qty;
                        (qty, *left)
                    };
                    if rand01(&mut rng) < c.error_rate {
                        (500, "{\"error\":\"stock ledger unavailable\"}".to_string())
                    } else if rand01(&mut rng) < c.silent_rate {
                        // A bug that answers 200 with a wrong value: nothing reserved.
                        (200, format!("{{\"sku\":\"{sku}\",\"reserved\":0,\"left\":{left},\"instance\":\"{instance}\"}}"))
                    } else {
                        (200, format!("{{\"sku\":\"{sku}\",\"reserved\":{reserved},\"left\":{left},\"instance\":\"{instance}\"}}"))
                    }
                };
                span.set_attribute(KeyValue::new("http.response.status_code", code as i64));
                if code >= 500 {
                    span.set_status(Status::error(format!("HTTP {code}")));
                    span.set_attribute(KeyValue::new("error.type", code.to_string()));
                }
                let resp = tiny_http::Response::from_string(body)
                    .with_status_code(code)
                    .with_header(tiny_http::Header::from_bytes(&b"Content-Type"[..], &b"application/json"[..]).unwrap());
                let _ = req.respond(resp);
                span.end();
            }
        }));
    }
    for h in handles {
        let _ = h.join();
    }
    let _ = provider.shutdown();
    let _ = Context::current();
}
