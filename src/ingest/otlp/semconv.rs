//! Semantic-convention normalisation: whichever semconv version a producer used, each
//! meaning lands in one column (FORMATS.md §3, old → new table). Current names win over old.

use super::anyvalue::{as_i32, as_str, kind_of, Kind};
use super::wire::KeyValue;
use crate::model::columns as col;

/// Normalised string columns, in slot order.
pub const STR_COLUMNS: [&str; STR_SLOTS] = [
    col::HTTP_METHOD,
    col::HTTP_ROUTE,
    col::URL,
    col::RPC_SYSTEM,
    col::RPC_SERVICE,
    col::RPC_METHOD,
    col::DB_SYSTEM,
    col::DB_OPERATION,
    col::MESSAGING_SYSTEM,
    col::MESSAGING_DESTINATION,
    col::MESSAGING_OPERATION,
    col::SERVER_ADDRESS,
    col::PEER_SERVICE,
    col::ERROR_TYPE,
];
pub const STR_SLOTS: usize = 14;
const RPC_SERVICE_SLOT: usize = 4;
const RPC_METHOD_SLOT: usize = 5;

/// Normalised Int32 columns, in slot order.
pub const INT_COLUMNS: [&str; INT_SLOTS] = [
    col::HTTP_STATUS_CODE,
    col::GRPC_STATUS_CODE,
    col::SERVER_PORT,
    col::RESEND_COUNT,
];
pub const INT_SLOTS: usize = 4;
const GRPC_STATUS_SLOT: usize = 1;

/// Where an attribute key goes: string or int slot, and its rank (0 = current name, wins).
enum Target {
    Str(usize, u8),
    Int(usize, u8),
    /// A legacy status tag.
    Status,
}

fn classify(key: &str) -> Option<Target> {
    use Target::{Int, Str};
    Some(match key {
        "http.request.method" => Str(0, 0),
        "http.method" => Str(0, 1),
        "http.route" => Str(1, 0),
        "url.full" => Str(2, 0),
        "http.url" => Str(2, 1),
        "url.path" => Str(2, 2),
        "http.target" => Str(2, 3),
        "rpc.system.name" => Str(3, 0),
        "rpc.system" => Str(3, 1),
        "rpc.service" => Str(RPC_SERVICE_SLOT, 0),
        "rpc.method" => Str(RPC_METHOD_SLOT, 0),
        "db.system.name" => Str(6, 0),
        "db.system" => Str(6, 1),
        "db.operation.name" => Str(7, 0),
        "db.operation" => Str(7, 1),
        "messaging.system" => Str(8, 0),
        "messaging.destination.name" => Str(9, 0),
        "messaging.destination" => Str(9, 1),
        "messaging.operation.type" => Str(10, 0),
        "messaging.operation" => Str(10, 1),
        "server.address" => Str(11, 0),
        "net.peer.name" => Str(11, 1),
        "net.sock.peer.addr" => Str(11, 2),
        "net.peer.ip" => Str(11, 3),
        "service.peer.name" => Str(12, 0),
        "peer.service" => Str(12, 1),
        "error.type" => Str(13, 0),
        "http.response.status_code" => Int(0, 0),
        "http.status_code" => Int(0, 1),
        "rpc.response.status_code" => Int(GRPC_STATUS_SLOT, 0),
        "rpc.grpc.status_code" => Int(GRPC_STATUS_SLOT, 1),
        "server.port" => Int(2, 0),
        "net.peer.port" => Int(2, 1),
        "http.request.resend_count" => Int(3, 0),
        "http.resend_count" => Int(3, 1),
        "grpc-previous-rpc-attempts" => Int(3, 2),
        "error" | "otel.status_code" => Target::Status,
        _ => return None,
    })
}

/// True when `key` is a semantic attribute read as an integer (`http.status_code`, …): a
/// tracer that writes every tag as a string (Zipkin) has it typed back.
pub fn expects_int(key: &str) -> bool {
    matches!(classify(key), Some(Target::Int(..)))
}

/// The normalised attributes of one span, borrowing from it.
#[derive(Default)]
pub struct Semantic<'v> {
    strs: [Option<(u8, &'v str)>; STR_SLOTS],
    ints: [Option<(u8, i32)>; INT_SLOTS],
    legacy_status: Option<i32>,
    /// Bit `i`: attribute `i` (of the first 64) won a column, so the JSON column can skip it.
    taken: u64,
}

impl<'v> Semantic<'v> {
    /// Reads every attribute once.
    pub fn from_attributes(attrs: &'v [KeyValue<'_>]) -> Self {
        let mut sem = Semantic::default();
        let mut str_from = [NO_ATTR; STR_SLOTS];
        let mut int_from = [NO_ATTR; INT_SLOTS];
        for (i, kv) in attrs.iter().enumerate() {
            let Some(key) = &kv.key else { continue };
            match classify(key.as_str()) {
                Some(Target::Str(slot, rank)) => {
                    if let (Some(v), Some(cell)) = (as_str(&kv.value), sem.strs.get_mut(slot)) {
                        if keep_best(cell, rank, v) {
                            str_from[slot] = i;
                        }
                    }
                }
                Some(Target::Int(slot, rank)) => {
                    let v = int_value(slot, &kv.value);
                    if let (Some(v), Some(cell)) = (v, sem.ints.get_mut(slot)) {
                        if keep_best(cell, rank, v) {
                            int_from[slot] = i;
                        }
                    }
                }
                Some(Target::Status) => sem.legacy_status = legacy_status(key.as_str(), kv),
                None => {}
            }
        }
        sem.split_rpc_method();
        sem.taken = str_from
            .iter()
            .chain(&int_from)
            .filter(|&&i| i < u64::BITS as usize)
            .fold(0, |bits, &i| bits | 1 << i);
        sem
    }

    /// True when attribute `i` of the span is carried by a normalised column (its value won
    /// that column), so the `attributes` JSON need not repeat it.
    pub fn carries(&self, i: usize) -> bool {
        i < u64::BITS as usize && self.taken & (1 << i) != 0
    }

    /// The status a pre-OTel tracer wrote as a tag (`error=true`, `otel.status_code`), for
    /// spans whose OTLP status is unset (Envoy and other Zipkin/OpenTracing bridges).
    pub fn legacy_status(&self) -> Option<i32> {
        self.legacy_status
    }

    /// String slot `i` (see [`STR_COLUMNS`]).
    pub fn str(&self, i: usize) -> Option<&'v str> {
        self.strs.get(i).copied().flatten().map(|(_, v)| v)
    }

    /// Int slot `i` (see [`INT_COLUMNS`]).
    pub fn int(&self, i: usize) -> Option<i32> {
        self.ints.get(i).copied().flatten().map(|(_, v)| v)
    }

    /// Semconv 1.39 writes `rpc.method` fully qualified (`pkg.Service/Method`) and drops
    /// `rpc.service`: split it so both versions fill the same two columns.
    fn split_rpc_method(&mut self) {
        if self.str(RPC_SERVICE_SLOT).is_some() {
            return;
        }
        let Some(full) = self.str(RPC_METHOD_SLOT) else {
            return;
        };
        if let Some((service, method)) = full.rsplit_once('/') {
            let service = service.trim_start_matches('/');
            self.strs[RPC_SERVICE_SLOT] = Some((0, service));
            self.strs[RPC_METHOD_SLOT] = Some((0, method));
        }
    }
}

/// `error=true` (bool or "true") → error; `otel.status_code` "ERROR"/"OK" → error/ok.
fn legacy_status(key: &str, kv: &KeyValue<'_>) -> Option<i32> {
    use crate::model::columns::status;
    let text = as_str(&kv.value);
    let flag = matches!(kind_of(&kv.value), Kind::Bool(true)) || text == Some("true");
    match (key, text) {
        ("error", _) => flag.then_some(status::ERROR),
        (_, Some("ERROR")) => Some(status::ERROR),
        (_, Some("OK")) => Some(status::OK),
        _ => None,
    }
}

/// Index meaning "no attribute" (beyond any bit of [`Semantic::carries`]).
const NO_ATTR: usize = usize::MAX;

/// Stores `v` when its rank beats the cell's; true when stored.
fn keep_best<T>(cell: &mut Option<(u8, T)>, rank: u8, v: T) -> bool {
    let better = cell.as_ref().is_none_or(|(r, _)| rank < *r);
    if better {
        *cell = Some((rank, v));
    }
    better
}

fn int_value(slot: usize, v: &Option<super::wire::AnyValue<'_>>) -> Option<i32> {
    let parsed = as_i32(v);
    if slot == GRPC_STATUS_SLOT && parsed.is_none() {
        return as_str(v).and_then(grpc_code_by_name);
    }
    parsed
}

/// gRPC status names (grpc/grpc doc/statuscodes.md), as `rpc.response.status_code` may carry.
fn grpc_code_by_name(name: &str) -> Option<i32> {
    const NAMES: [&str; 17] = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ];
    NAMES.iter().position(|n| *n == name).map(|i| i as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::otlp::wire::Resource;

    fn sem_of(json: &str) -> (Vec<Option<String>>, Vec<Option<i32>>) {
        let r: Resource = serde_json::from_str(json).unwrap();
        let s = Semantic::from_attributes(&r.attributes);
        let strs = (0..STR_SLOTS).map(|i| s.str(i).map(String::from)).collect();
        let ints = (0..INT_SLOTS).map(|i| s.int(i)).collect();
        (strs, ints)
    }

    #[test]
    fn old_and_new_semconv_normalise_identically() {
        let old = sem_of(
            r#"{"attributes":[
            {"key":"http.method","value":{"stringValue":"GET"}},
            {"key":"http.status_code","value":{"stringValue":"503"}},
            {"key":"http.url","value":{"stringValue":"http://inv/x"}},
            {"key":"net.peer.name","value":{"stringValue":"inv"}},
            {"key":"net.peer.port","value":{"intValue":"8080"}},
            {"key":"peer.service","value":{"stringValue":"inventory"}},
            {"key":"http.resend_count","value":{"intValue":2}},
            {"key":"rpc.system","value":{"stringValue":"grpc"}},
            {"key":"rpc.service","value":{"stringValue":"shop.Inv"}},
            {"key":"rpc.method","value":{"stringValue":"Get"}},
            {"key":"rpc.grpc.status_code","value":{"intValue":"14"}}]}"#,
        );
        let new = sem_of(
            r#"{"attributes":[
            {"key":"http.request.method","value":{"stringValue":"GET"}},
            {"key":"http.response.status_code","value":{"intValue":"503"}},
            {"key":"url.full","value":{"stringValue":"http://inv/x"}},
            {"key":"server.address","value":{"stringValue":"inv"}},
            {"key":"server.port","value":{"intValue":8080}},
            {"key":"service.peer.name","value":{"stringValue":"inventory"}},
            {"key":"http.request.resend_count","value":{"intValue":"2"}},
            {"key":"rpc.system.name","value":{"stringValue":"grpc"}},
            {"key":"rpc.method","value":{"stringValue":"shop.Inv/Get"}},
            {"key":"rpc.response.status_code","value":{"stringValue":"UNAVAILABLE"}}]}"#,
        );
        assert_eq!(old, new);
        assert_eq!(new.1, vec![Some(503), Some(14), Some(8080), Some(2)]);
        assert_eq!(new.0[RPC_SERVICE_SLOT].as_deref(), Some("shop.Inv"));
    }

    #[test]
    fn legacy_error_tags_give_a_status() {
        let status = |json: &str| {
            let r: Resource = serde_json::from_str(json).unwrap();
            Semantic::from_attributes(&r.attributes).legacy_status()
        };
        let tag = |k: &str, v: &str| format!(r#"{{"attributes":[{{"key":"{k}","value":{v}}}]}}"#);
        assert_eq!(status(&tag("error", r#"{"stringValue":"true"}"#)), Some(2));
        assert_eq!(status(&tag("error", r#"{"boolValue":true}"#)), Some(2));
        assert_eq!(status(&tag("error", r#"{"boolValue":false}"#)), None);
        assert_eq!(
            status(&tag("otel.status_code", r#"{"stringValue":"OK"}"#)),
            Some(1)
        );
        assert_eq!(status(r#"{"attributes":[]}"#), None);
    }

    #[test]
    fn current_name_wins_when_both_are_written() {
        let (strs, _) = sem_of(
            r#"{"attributes":[
            {"key":"http.method","value":{"stringValue":"_OTHER"}},
            {"key":"http.request.method","value":{"stringValue":"PATCH"}}]}"#,
        );
        assert_eq!(strs[0].as_deref(), Some("PATCH"));
    }
}
