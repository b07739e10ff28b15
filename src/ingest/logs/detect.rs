//! Which logger wrote a file, from the key sets of its first lines (FORMATS.md §4), and the
//! key mapping that follows: for each well-known role, the keys to look for, best first.
//!
//! A dialect is recognised by a set of keys (plus, where two loggers share a key set, the
//! shape of one value), never by one key. The dialect puts its own keys first and changes
//! how numeric levels read and whether `name` is the service; the generic key lists follow,
//! so a file of an unknown logger still maps.

use polars::prelude::PlHashMap;

use super::level::LevelScale;
use super::value::{Flat, Val};

/// The loggers of the auto-detect table, most specific first (the order detection tries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Dialect {
    /// cascade's bench generator: timestamp, severity, service, message, trace_id, span_id.
    Bench,
    OtelModel,
    Ecs,
    Bunyan,
    Pino,
    Zap,
    /// Go slog: `time`/`level`/`msg` with upper-case levels.
    Slog,
    /// logrus: `time`/`level`/`msg` with lower-case levels.
    Logrus,
    Structlog,
    PythonJson,
    Gcp,
    /// OTel Python logging instrumentation on an otherwise unknown formatter.
    OtelPython,
    /// Datadog log injection on an otherwise unknown formatter.
    Datadog,
    Generic,
}

const DIALECTS: [Dialect; 13] = [
    Dialect::Bench,
    Dialect::OtelModel,
    Dialect::Ecs,
    Dialect::Bunyan,
    Dialect::Pino,
    Dialect::Zap,
    Dialect::Slog,
    Dialect::Logrus,
    Dialect::Structlog,
    Dialect::PythonJson,
    Dialect::Gcp,
    Dialect::OtelPython,
    Dialect::Datadog,
];

/// The well-known fields of a log record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Time,
    Level,
    /// A numeric OTLP severity written beside the text (`SeverityNumber`).
    LevelNumber,
    Message,
    Service,
    Trace,
    Span,
    /// Whole seconds of a split timestamp (Google Cloud `timestamp: {seconds, nanos}`).
    Seconds,
    /// Nanoseconds part of a split timestamp.
    Nanos,
}

/// Number of [`Role`]s.
pub(crate) const ROLES: usize = 9;

const TIME_KEYS: &[&str] = &[
    "timestamp",
    "time",
    "ts",
    "@timestamp",
    "Timestamp",
    "date",
    "timeUnixNano",
    "asctime",
    "ObservedTimestamp",
    "observedTimeUnixNano",
];
const LEVEL_KEYS: &[&str] = &[
    "level",
    "severity",
    "levelname",
    "log.level",
    "SeverityText",
    "severityText",
    "loglevel",
];
const LEVEL_NUMBER_KEYS: &[&str] = &["SeverityNumber", "severityNumber"];
const MESSAGE_KEYS: &[&str] = &["message", "msg", "event", "Body", "body"];
const SERVICE_KEYS: &[&str] = &[
    "service",
    "service.name",
    "serviceName",
    "dd.service",
    "otelServiceName",
    "Resource.service.name",
    "resource.service.name",
];
const SECONDS_KEYS: &[&str] = &["timestamp.seconds", "timestampSeconds"];
const NANOS_KEYS: &[&str] = &["timestamp.nanos", "timestampNanos"];
const TRACE_KEYS: &[&str] = &[
    "trace_id",
    "traceId",
    "trace.id",
    "traceID",
    "TraceId",
    "otelTraceID",
    "dd.trace_id",
    "logging.googleapis.com/trace",
];
const SPAN_KEYS: &[&str] = &[
    "span_id",
    "spanId",
    "span.id",
    "spanID",
    "SpanId",
    "otelSpanID",
    "dd.span_id",
    "logging.googleapis.com/spanId",
    "transaction.id",
];

/// For each key the mapping knows: its role and rank (lower = preferred).
#[derive(Debug, Clone)]
pub(crate) struct Mapping {
    pub(crate) scale: LevelScale,
    keys: PlHashMap<&'static str, (Role, u8)>,
}

impl Mapping {
    /// The role and rank of `key`, if it has one.
    pub(crate) fn role(&self, key: &str) -> Option<(Role, u8)> {
        self.keys.get(key).copied()
    }

    /// The mapping for `dialect`: its own keys first, then the generic lists, then the
    /// dialect's fallbacks.
    pub(crate) fn for_dialect(dialect: Dialect) -> Mapping {
        let mut m = Mapping {
            scale: scale(dialect),
            keys: PlHashMap::default(),
        };
        for (role, key) in preferred(dialect) {
            m.add(*role, key);
        }
        let generic = [
            (Role::Time, TIME_KEYS),
            (Role::Level, LEVEL_KEYS),
            (Role::LevelNumber, LEVEL_NUMBER_KEYS),
            (Role::Message, MESSAGE_KEYS),
            (Role::Service, SERVICE_KEYS),
            (Role::Trace, TRACE_KEYS),
            (Role::Span, SPAN_KEYS),
            (Role::Seconds, SECONDS_KEYS),
            (Role::Nanos, NANOS_KEYS),
        ];
        for (role, keys) in generic {
            keys.iter().for_each(|k| m.add(role, k));
        }
        for (role, key) in fallback(dialect) {
            m.add(*role, key);
        }
        m
    }

    /// Adds `key` with the next rank, unless it already has one.
    fn add(&mut self, role: Role, key: &'static str) {
        let rank = u8::try_from(self.keys.len()).unwrap_or(u8::MAX);
        self.keys.entry(key).or_insert((role, rank));
    }
}

fn scale(dialect: Dialect) -> LevelScale {
    match dialect {
        Dialect::Pino | Dialect::Bunyan => LevelScale::Pino,
        Dialect::OtelModel => LevelScale::Otlp,
        _ => LevelScale::Guess,
    }
}

/// Keys a dialect ranks before the generic lists.
fn preferred(dialect: Dialect) -> &'static [(Role, &'static str)] {
    match dialect {
        Dialect::Pino | Dialect::Bunyan => &[(Role::Message, "msg")],
        Dialect::Ecs => &[(Role::Time, "@timestamp"), (Role::Level, "log.level")],
        Dialect::Zap => &[(Role::Time, "ts"), (Role::Message, "msg")],
        Dialect::Structlog => &[(Role::Message, "event")],
        Dialect::PythonJson => &[(Role::Level, "levelname"), (Role::Time, "asctime")],
        Dialect::OtelModel => &[
            (Role::Time, "Timestamp"),
            (Role::Message, "Body"),
            (Role::Level, "SeverityText"),
        ],
        _ => &[],
    }
}

/// Keys a dialect ranks after the generic lists: pino's and bunyan's `name` is the service
/// only when no explicit service key is there.
fn fallback(dialect: Dialect) -> &'static [(Role, &'static str)] {
    match dialect {
        Dialect::Pino | Dialect::Bunyan => &[(Role::Service, "name")],
        _ => &[],
    }
}

/// What detection needs to know of one sampled line.
pub(crate) struct LineShape<'l, 'a> {
    flat: &'l Flat<'a>,
}

impl<'l, 'a> LineShape<'l, 'a> {
    pub(crate) fn new(flat: &'l Flat<'a>) -> Self {
        LineShape { flat }
    }

    fn get(&self, key: &str) -> Option<&Val<'a>> {
        self.flat.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn has_all(&self, keys: &[&str]) -> bool {
        keys.iter().all(|k| self.get(k).is_some())
    }

    fn has_any(&self, keys: &[&str]) -> bool {
        keys.iter().any(|k| self.get(k).is_some())
    }

    fn is_number(&self, key: &str) -> bool {
        matches!(
            self.get(key),
            Some(Val::Int(_) | Val::UInt(_) | Val::Float(_))
        )
    }

    /// Whether `key` holds text whose letters are all upper case (slog) or all lower (logrus).
    fn text_case(&self, key: &str, upper: bool) -> bool {
        match self.get(key) {
            Some(Val::Str(s)) => s
                .chars()
                .filter(|c| c.is_alphabetic())
                .all(|c| c.is_uppercase() == upper),
            _ => false,
        }
    }
}

/// The first dialect whose key set `line` carries.
pub(crate) fn line_dialect(line: &LineShape) -> Option<Dialect> {
    DIALECTS.into_iter().find(|d| matches(*d, line))
}

fn matches(d: Dialect, l: &LineShape) -> bool {
    match d {
        Dialect::Bench => l.has_all(&[
            "timestamp",
            "severity",
            "service",
            "message",
            "trace_id",
            "span_id",
        ]),
        Dialect::OtelModel => {
            l.has_all(&["Body"])
                && l.has_any(&["SeverityText", "SeverityNumber"])
                && l.has_any(&["Timestamp", "ObservedTimestamp", "TraceId"])
        }
        Dialect::Ecs => {
            l.has_all(&["@timestamp", "log.level"]) && l.has_any(&["message", "ecs.version"])
        }
        Dialect::Bunyan => {
            l.has_all(&["v", "level", "msg", "name", "time"]) && l.is_number("level")
        }
        // pino writes epoch ms unless told `isoTime`; then its pid/hostname tell it apart.
        Dialect::Pino => {
            l.has_all(&["level", "time", "msg"])
                && l.is_number("level")
                && (l.is_number("time") || l.has_any(&["pid", "hostname"]))
        }
        Dialect::Zap => l.has_all(&["ts", "level", "msg"]) && l.is_number("ts"),
        Dialect::Slog => l.has_all(&["time", "level", "msg"]) && l.text_case("level", true),
        Dialect::Logrus => l.has_all(&["time", "level", "msg"]) && l.text_case("level", false),
        Dialect::Structlog => {
            l.has_all(&["event"]) && l.has_any(&["level", "log_level", "timestamp"])
        }
        Dialect::PythonJson => l.has_all(&["levelname"]) && l.has_any(&["message", "asctime"]),
        Dialect::Gcp => {
            l.has_all(&["severity"])
                && l.has_any(&["message", "textPayload"])
                && l.has_any(&[
                    "logging.googleapis.com/trace",
                    "logging.googleapis.com/spanId",
                    "logging.googleapis.com/sourceLocation.file",
                    "timestamp.seconds",
                    "time",
                    "timestamp",
                ])
        }
        Dialect::OtelPython => l.has_all(&["otelTraceID", "otelSpanID"]),
        Dialect::Datadog => l.has_all(&["dd.trace_id", "dd.span_id"]),
        Dialect::Generic => true,
    }
}

/// The dialect most sampled lines match (ties: the more specific); `Generic` when none do.
pub(crate) fn file_dialect(votes: &[Dialect]) -> Dialect {
    DIALECTS
        .into_iter()
        .map(|d| (d, votes.iter().filter(|v| **v == d).count()))
        .filter(|(_, n)| *n > 0)
        .fold(None, |best: Option<(Dialect, usize)>, (d, n)| match best {
            Some((_, bn)) if bn >= n => best,
            _ => Some((d, n)),
        })
        .map_or(Dialect::Generic, |(d, _)| d)
}
