//! Column names of every polars frame cascade builds: the one place they are spelled.
//!
//! Frames: spans (one row per span), events (span events, exceptions among them), links
//! (span links), logs (one row per log record). Types are noted per constant.

/// 32 lower-case hex digits (String).
pub const TRACE_ID: &str = "trace_id";
/// 16 lower-case hex digits (String).
pub const SPAN_ID: &str = "span_id";
/// 16 lower-case hex digits, null on a root span (String).
pub const PARENT_SPAN_ID: &str = "parent_span_id";
/// Resource `service.name`, else `unknown_service` (String).
pub const SERVICE: &str = "service";
/// `service.instance.id`, `k8s.pod.name` or `host.name`, in that order (String, nullable).
pub const INSTANCE: &str = "instance";
/// Instrumentation scope name (String, nullable).
pub const SCOPE: &str = "scope";
/// Span name (String).
pub const NAME: &str = "name";
/// Span kind as the OTLP integer: 0 unspecified, 1 internal, 2 server, 3 client,
/// 4 producer, 5 consumer (Int32).
pub const KIND: &str = "kind";
/// Unix nanoseconds (Int64).
pub const START_NS: &str = "start_ns";
/// Unix nanoseconds (Int64).
pub const END_NS: &str = "end_ns";
/// end − start, clamped at 0 (Int64).
pub const DURATION_NS: &str = "duration_ns";
/// 0 unset, 1 ok, 2 error (Int32).
pub const STATUS_CODE: &str = "status_code";
/// Status message (String, nullable).
pub const STATUS_MESSAGE: &str = "status_message";

// Normalised semantic attributes: one name whatever semconv version wrote them.
/// `http.request.method` / `http.method` (String).
pub const HTTP_METHOD: &str = "http_method";
/// `http.route` (String).
pub const HTTP_ROUTE: &str = "http_route";
/// `http.response.status_code` / `http.status_code` (Int32).
pub const HTTP_STATUS_CODE: &str = "http_status_code";
/// `url.full` / `http.url`, else `url.path` / `http.target` (String).
pub const URL: &str = "url";
/// `rpc.system.name` / `rpc.system` (String).
pub const RPC_SYSTEM: &str = "rpc_system";
/// `rpc.service` (or the service part of a fully qualified `rpc.method`) (String).
pub const RPC_SERVICE: &str = "rpc_service";
/// `rpc.method` (String).
pub const RPC_METHOD: &str = "rpc_method";
/// `rpc.grpc.status_code` / `rpc.response.status_code` (Int32).
pub const GRPC_STATUS_CODE: &str = "grpc_status_code";
/// `db.system.name` / `db.system` (String).
pub const DB_SYSTEM: &str = "db_system";
/// `db.operation.name` / `db.operation` (String).
pub const DB_OPERATION: &str = "db_operation";
/// `messaging.system` (String).
pub const MESSAGING_SYSTEM: &str = "messaging_system";
/// `messaging.destination.name` / `messaging.destination` (String).
pub const MESSAGING_DESTINATION: &str = "messaging_destination";
/// `messaging.operation.type` / `messaging.operation` (String).
pub const MESSAGING_OPERATION: &str = "messaging_operation";
/// `server.address` / `net.peer.name` / `net.sock.peer.addr` / `net.peer.ip` (String).
pub const SERVER_ADDRESS: &str = "server_address";
/// `server.port` / `net.peer.port` (Int32).
pub const SERVER_PORT: &str = "server_port";
/// `service.peer.name` / `peer.service` (String).
pub const PEER_SERVICE: &str = "peer_service";
/// `error.type` (String).
pub const ERROR_TYPE: &str = "error_type";
/// `http.request.resend_count` / `http.resend_count` / `grpc-previous-rpc-attempts` (Int32).
pub const RESEND_COUNT: &str = "resend_count";
/// The span attributes not carried by a normalised column above, as one JSON object
/// `{key: value}` (String; `{}` when every attribute was normalised).
pub const ATTRIBUTES: &str = "attributes";

// Events frame (plus TRACE_ID, SPAN_ID, NAME, ATTRIBUTES).
/// Event time, Unix nanoseconds (Int64).
pub const TIME_NS: &str = "time_ns";
/// `exception.type` of an exception event (String, nullable).
pub const EXCEPTION_TYPE: &str = "exception_type";
/// `exception.message` of an exception event (String, nullable).
pub const EXCEPTION_MESSAGE: &str = "exception_message";

// Links frame (plus TRACE_ID, SPAN_ID, ATTRIBUTES).
/// Linked trace id (String).
pub const LINKED_TRACE_ID: &str = "linked_trace_id";
/// Linked span id (String).
pub const LINKED_SPAN_ID: &str = "linked_span_id";

// Logs frame (plus TIME_NS, SERVICE, TRACE_ID, SPAN_ID, and one column per other field).
/// 1–24 as in OTLP (Int32, nullable).
pub const SEVERITY_NUMBER: &str = "severity_number";
/// Level as written by the logger (String, nullable).
pub const SEVERITY_TEXT: &str = "severity_text";
/// Log body / message (String, nullable).
pub const MESSAGE: &str = "message";

/// Span kind values (OTLP integers).
pub mod kind {
    pub const UNSPECIFIED: i32 = 0;
    pub const INTERNAL: i32 = 1;
    pub const SERVER: i32 = 2;
    pub const CLIENT: i32 = 3;
    pub const PRODUCER: i32 = 4;
    pub const CONSUMER: i32 = 5;
}

/// Status code values (OTLP integers).
pub mod status {
    pub const UNSET: i32 = 0;
    pub const OK: i32 = 1;
    pub const ERROR: i32 = 2;
}
