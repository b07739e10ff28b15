//! Test support: builds realistic spans/links/logs frames by hand (no ingest needed).
//!
//! [`Frames`] turns [`SpanSpec`] rows into frames with the real column names;
//! [`scenario`] makes a frontend → api → db system with CLIENT+SERVER pairs, optionally
//! with a fault window where db's own time goes ×10, api's calls time out and are retried.

use polars::prelude::*;

use crate::model::columns::{self as col, kind, status};
use crate::model::window::NS_PER_S;

/// 2024-06-01T12:00:00Z in Unix nanoseconds.
pub const T0: i64 = 1_717_243_200 * NS_PER_S;
const NS_PER_MS: i64 = 1_000_000;

/// One span to put in a frame.
#[derive(Debug, Clone)]
pub struct SpanSpec {
    pub trace: u128,
    pub id: u64,
    pub parent: u64,
    pub service: String,
    pub name: String,
    pub kind: i32,
    pub start_ns: i64,
    pub end_ns: i64,
    pub status: i32,
    pub http_status: Option<i32>,
    pub grpc_status: Option<i32>,
    pub resend: Option<i32>,
    pub peer: Option<String>,
    pub error_type: Option<String>,
}

impl SpanSpec {
    /// A span with times in milliseconds after [`T0`].
    pub fn new(
        trace: u128,
        id: u64,
        parent: u64,
        service: &str,
        kind: i32,
        start_ms: i64,
        end_ms: i64,
    ) -> Self {
        SpanSpec {
            trace,
            id,
            parent,
            service: service.to_string(),
            name: format!("op-{service}"),
            kind,
            start_ns: T0 + start_ms * NS_PER_MS,
            end_ns: T0 + end_ms * NS_PER_MS,
            status: status::UNSET,
            http_status: None,
            grpc_status: None,
            resend: None,
            peer: None,
            error_type: None,
        }
    }
}

/// Frames under construction.
#[derive(Debug, Default, Clone)]
pub struct Frames {
    pub spans: Vec<SpanSpec>,
    /// (trace, span, linked trace, linked span).
    pub links: Vec<(u128, u64, u128, u64)>,
    /// (time ns, service, severity number, message).
    pub logs: Vec<(i64, String, i32, String)>,
}

impl Frames {
    pub fn push(&mut self, s: SpanSpec) {
        self.spans.push(s);
    }

    /// The spans frame.
    pub fn spans(&self) -> DataFrame {
        let s = &self.spans;
        let hex32 = |v: u128| format!("{v:032x}");
        let hex16 = |v: u64| format!("{v:016x}");
        let cols: Vec<Column> = vec![
            strs(col::TRACE_ID, s.iter().map(|x| Some(hex32(x.trace)))),
            strs(col::SPAN_ID, s.iter().map(|x| Some(hex16(x.id)))),
            strs(
                col::PARENT_SPAN_ID,
                s.iter().map(|x| (x.parent != 0).then(|| hex16(x.parent))),
            ),
            strs(col::SERVICE, s.iter().map(|x| Some(x.service.clone()))),
            strs(col::NAME, s.iter().map(|x| Some(x.name.clone()))),
            ints(col::KIND, s.iter().map(|x| Some(x.kind))),
            Series::new(
                col::START_NS.into(),
                s.iter().map(|x| x.start_ns).collect::<Vec<_>>(),
            )
            .into(),
            Series::new(
                col::END_NS.into(),
                s.iter().map(|x| x.end_ns).collect::<Vec<_>>(),
            )
            .into(),
            ints(col::STATUS_CODE, s.iter().map(|x| Some(x.status))),
            ints(col::HTTP_STATUS_CODE, s.iter().map(|x| x.http_status)),
            ints(col::GRPC_STATUS_CODE, s.iter().map(|x| x.grpc_status)),
            ints(col::RESEND_COUNT, s.iter().map(|x| x.resend)),
            strs(col::PEER_SERVICE, s.iter().map(|x| x.peer.clone())),
            strs(col::ERROR_TYPE, s.iter().map(|x| x.error_type.clone())),
        ];
        DataFrame::new(s.len(), cols).unwrap()
    }

    /// The links frame.
    pub fn links(&self) -> DataFrame {
        let l = &self.links;
        let cols = vec![
            strs(
                col::TRACE_ID,
                l.iter().map(|x| Some(format!("{:032x}", x.0))),
            ),
            strs(
                col::SPAN_ID,
                l.iter().map(|x| Some(format!("{:016x}", x.1))),
            ),
            strs(
                col::LINKED_TRACE_ID,
                l.iter().map(|x| Some(format!("{:032x}", x.2))),
            ),
            strs(
                col::LINKED_SPAN_ID,
                l.iter().map(|x| Some(format!("{:016x}", x.3))),
            ),
        ];
        DataFrame::new(l.len(), cols).unwrap()
    }

    /// The logs frame.
    pub fn logs(&self) -> DataFrame {
        let l = &self.logs;
        let cols = vec![
            Series::new(
                col::TIME_NS.into(),
                l.iter().map(|x| x.0).collect::<Vec<_>>(),
            )
            .into(),
            strs(col::SERVICE, l.iter().map(|x| Some(x.1.clone()))),
            ints(col::SEVERITY_NUMBER, l.iter().map(|x| Some(x.2))),
            strs(col::MESSAGE, l.iter().map(|x| Some(x.3.clone()))),
        ];
        DataFrame::new(l.len(), cols).unwrap()
    }

    /// A dataset with these frames.
    pub fn dataset(&self) -> crate::ingest::Dataset {
        crate::ingest::Dataset {
            spans: self.spans(),
            links: self.links(),
            logs: self.logs(),
            ..Default::default()
        }
    }
}

fn strs(name: &str, v: impl Iterator<Item = Option<String>>) -> Column {
    Series::new(name.into(), v.collect::<Vec<_>>()).into()
}

fn ints(name: &str, v: impl Iterator<Item = Option<i32>>) -> Column {
    Series::new(name.into(), v.collect::<Vec<_>>()).into()
}

/// A deterministic pseudo-random stream (splitmix64).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform integer in [lo, hi].
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }
}

/// The shape of a generated system.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub duration_s: i64,
    /// Root requests per second.
    pub rate_per_s: i64,
    /// db fault window in seconds after T0: self time ×10, 3 % 503s.
    pub fault: Option<(i64, i64)>,
    /// Background error probability of a db request (healthy noise).
    pub background_error: f64,
    pub seed: u64,
    /// Shift db's clock by this many ms in every trace (clock skew).
    pub db_skew_ms: i64,
    /// db records no spans (only api's CLIENT spans name it).
    pub db_uninstrumented: bool,
    /// What the fault does (default: db's own work ×10 and 3 % 503s).
    pub fault_kind: FaultKind,
    /// Producers leave span status unset (errors only in HTTP status codes).
    pub no_status: bool,
    /// Producers leave span kind unset on every non-root span.
    pub no_kinds: bool,
}

/// What a scenario's fault does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FaultKind {
    /// db's own work ×10 and 3 % 503s.
    #[default]
    DbWork,
    /// 10 ms each way on the network between api and db: db's spans do not change.
    DbNetwork,
}

impl Default for Scenario {
    fn default() -> Self {
        Scenario {
            duration_s: 600,
            rate_per_s: 5,
            fault: None,
            background_error: 0.002,
            seed: 7,
            db_skew_ms: 0,
            db_uninstrumented: false,
            fault_kind: FaultKind::DbWork,
            no_status: false,
            no_kinds: false,
        }
    }
}

/// api's per-attempt timeout towards db, and its retry policy.
const API_TIMEOUT_US: i64 = 50_000;
const API_MAX_ATTEMPTS: i32 = 3;
const API_BACKOFF_US: i64 = 5_000;

/// Generates the frames of a scenario.
pub fn scenario(sc: &Scenario) -> Frames {
    let mut g = Gen {
        f: Frames::default(),
        rng: Rng::new(sc.seed),
        next_id: 1,
        sc: sc.clone(),
    };
    let gap_us = 1_000_000 / sc.rate_per_s.max(1);
    for k in 0..sc.duration_s * sc.rate_per_s {
        let at_us = k * gap_us + g.rng.range(0, gap_us - 1);
        g.request(k as u128 + 1, at_us);
    }
    if sc.no_status {
        g.f.spans.iter_mut().for_each(|s| s.status = status::UNSET);
    }
    if sc.no_kinds {
        g.f.spans
            .iter_mut()
            .filter(|s| s.parent != 0)
            .for_each(|s| s.kind = kind::UNSPECIFIED);
    }
    g.f
}

struct Gen {
    f: Frames,
    rng: Rng,
    next_id: u64,
    sc: Scenario,
}

impl Gen {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn span(
        &mut self,
        trace: u128,
        parent: u64,
        service: &str,
        kind: i32,
        name: &str,
        (s_us, e_us): (i64, i64),
    ) -> SpanSpec {
        let mut sp = SpanSpec::new(trace, self.id(), parent, service, kind, 0, 0);
        sp.start_ns = T0 + s_us * 1000;
        sp.end_ns = T0 + e_us * 1000;
        sp.name = name.to_string();
        sp
    }

    fn in_fault(&self, at_us: i64) -> bool {
        self.sc
            .fault
            .is_some_and(|(a, b)| at_us >= a * 1_000_000 && at_us < b * 1_000_000)
    }

    /// frontend SERVER → frontend CLIENT → api SERVER → (api CLIENT → db SERVER)×attempts.
    fn request(&mut self, trace: u128, at_us: i64) {
        let fe_self = self.rng.range(500, 1500);
        let root = self.span(
            trace,
            0,
            "frontend",
            kind::SERVER,
            "GET /checkout",
            (at_us, 0),
        );
        let cl = self.span(
            trace,
            root.id,
            "frontend",
            kind::CLIENT,
            "GET /api/order",
            (at_us + fe_self / 2, 0),
        );
        let api_start = cl.start_ns / 1000 - T0 / 1000 + self.rng.range(100, 300);
        let api = self.span(
            trace,
            cl.id,
            "api",
            kind::SERVER,
            "GET /api/order",
            (api_start, 0),
        );
        let first_call = api_start + self.rng.range(200, 600);
        let (api_end, api_failed) = self.db_calls(trace, api.id, first_call);
        let api_end = api_end + self.rng.range(200, 600);
        let cl_end = api_end + self.rng.range(100, 300);
        let root_end = cl_end + fe_self / 2;
        self.finish(api, api_end, api_failed);
        self.finish(cl, cl_end, api_failed);
        self.finish(root, root_end, api_failed);
    }

    fn finish(&mut self, mut s: SpanSpec, end_us: i64, failed: bool) {
        s.end_ns = T0 + end_us * 1000;
        if failed {
            s.status = status::ERROR;
            s.http_status = Some(503);
        } else {
            s.http_status = Some(200);
        }
        self.f.push(s);
    }

    /// api's attempts towards db; returns when api got its answer and whether it failed.
    fn db_calls(&mut self, trace: u128, parent: u64, mut at_us: i64) -> (i64, bool) {
        let mut attempt = 0;
        loop {
            let (end_us, ok) = self.db_attempt(trace, parent, at_us, attempt);
            if ok || attempt + 1 == API_MAX_ATTEMPTS {
                return (end_us, !ok);
            }
            at_us = end_us + API_BACKOFF_US * (1 << attempt);
            attempt += 1;
        }
    }

    /// One CLIENT attempt and its db SERVER child; returns (client end, success).
    fn db_attempt(&mut self, trace: u128, parent: u64, at_us: i64, attempt: i32) -> (i64, bool) {
        let fault = self.in_fault(at_us);
        let network = fault && self.sc.fault_kind == FaultKind::DbNetwork;
        let fault = fault && self.sc.fault_kind == FaultKind::DbWork;
        let delay_us = if network { 10_000 } else { 0 };
        let own = self.rng.range(3_000, 8_000) * if fault { 10 } else { 1 };
        let p_err = if fault {
            0.03
        } else {
            self.sc.background_error
        };
        let err = self.rng.unit() < p_err;
        let mut cl = self.span(
            trace,
            parent,
            "api",
            kind::CLIENT,
            "SELECT orders",
            (at_us, 0),
        );
        cl.peer = Some("db".into());
        cl.resend = Some(attempt);
        let srv_start = at_us + self.rng.range(50, 150) + delay_us;
        let srv_end = srv_start + own;
        let skew = self.sc.db_skew_ms * 1000;
        let mut srv = self.span(
            trace,
            cl.id,
            "db",
            kind::SERVER,
            "SELECT orders",
            (srv_start + skew, srv_end + skew),
        );
        let timed_out = srv_end + 100 - at_us > API_TIMEOUT_US;
        let cl_end = if timed_out {
            at_us + API_TIMEOUT_US
        } else {
            srv_end + self.rng.range(50, 150) + delay_us
        };
        cl.end_ns = T0 + cl_end * 1000;
        if err {
            srv.status = status::ERROR;
            srv.http_status = Some(503);
            srv.error_type = Some("503".into());
        }
        if timed_out {
            cl.status = status::ERROR;
            cl.error_type = Some("timeout".into());
        } else if err {
            cl.status = status::ERROR;
            cl.http_status = Some(503);
            cl.error_type = Some("503".into());
        } else {
            cl.http_status = Some(200);
        }
        if err {
            self.f
                .logs
                .push((srv.end_ns, "db".into(), 17, "query failed: 503".into()));
        }
        if fault && (timed_out || err) {
            let msg = format!("db attempt {attempt} failed");
            self.f.logs.push((cl.end_ns, "api".into(), 17, msg));
        }
        self.f.push(cl);
        if !self.sc.db_uninstrumented {
            self.f.push(srv);
        }
        (cl_end, !(timed_out || err))
    }
}
