//! How one simulated service's instrumentation deviates from the semantic conventions, as
//! real producers do: spans not exported at all (an uninstrumented dependency), span kind
//! or status left unset, the pre-1.20 HTTP attribute names, a skewed clock, a database or
//! a sender-only entry (a load generator), and how a pool or lock wait is reported.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

/// How a service reports the time its visits wait for a pool permit or a lock.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WaitReport {
    /// Not at all: the wait looks like own work.
    #[default]
    Silent,
    /// An INTERNAL child span over the wait (`pool.acquire` / `lock.acquire`).
    Span,
    /// A `pool_wait_ms` / `lock_wait_ms` field on the service's log lines.
    LogField,
}

/// One service's producer: all defaults = a clean, current OpenTelemetry SDK.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Producer {
    /// Exports no spans and writes no logs: seen only through its callers' client spans.
    pub hidden: bool,
    pub kind_unset: bool,
    pub status_unset: bool,
    /// `http.method`, `http.status_code`, `net.peer.name`, ... instead of the current names.
    pub old_semconv: bool,
    /// Added to every timestamp this service writes.
    pub clock_skew_ns: i64,
    /// A database (`postgresql`, `redis`, ...): its callers write database client spans.
    pub db_system: Option<String>,
    /// The entry is a sender (load generator, batch job): its root spans are INTERNAL.
    pub sender_only: bool,
    pub wait_report: WaitReport,
}

impl Producer {
    /// The attribute name this producer writes for a current HTTP/network name; `server`
    /// tells the server side's `server.*` (old: `net.host.*`) from the client side's
    /// (old: `net.peer.*`).
    pub fn key(&self, k: &'static str, server: bool) -> &'static str {
        if !self.old_semconv {
            return k;
        }
        match (k, server) {
            ("http.request.method", _) => "http.method",
            ("http.response.status_code", _) => "http.status_code",
            ("url.full", _) => "http.url",
            ("url.path", _) => "http.target",
            ("url.scheme", _) => "http.scheme",
            ("network.protocol.version", _) => "http.flavor",
            ("server.address", false) => "net.peer.name",
            ("server.port", false) => "net.peer.port",
            ("server.address", true) => "net.host.name",
            ("server.port", true) => "net.host.port",
            _ => k,
        }
    }

    /// Unix nanoseconds as this producer's clock reads them.
    pub fn clock(&self, ns: u64) -> u64 {
        ns.saturating_add_signed(self.clock_skew_ns)
    }
}

/// An output file: plain, or gzip when its name ends in `.gz`.
pub enum Sink {
    Plain(BufWriter<File>),
    Gzip(Box<GzEncoder<BufWriter<File>>>),
}

impl Sink {
    pub fn create(p: &Path) -> Result<Sink> {
        let f = File::create(p).with_context(|| format!("creating {}", p.display()))?;
        let w = BufWriter::with_capacity(1 << 20, f);
        let gz = p.extension().is_some_and(|e| e == "gz");
        // Fast compression: a corpus is written often and read a few times.
        Ok(if gz {
            Sink::Gzip(Box::new(GzEncoder::new(w, Compression::fast())))
        } else {
            Sink::Plain(w)
        })
    }

    /// Flushes everything, ending the gzip stream.
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Plain(mut w) => w.flush(),
            Sink::Gzip(g) => g.finish()?.flush(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(g) => g.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(g) => g.flush(),
        }
    }
}
