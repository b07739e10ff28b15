//! End-to-end tests of the Zipkin reader through [`crate::ingest::ingest`] on hand-written
//! input: ids, kinds, shared ids, skew, endpoints, typed-back tags, annotations.

use crate::ingest::diag::Level;
use crate::ingest::test_support::{i32s, load, strs};
use crate::ingest::Format;
use crate::model::columns as col;

/// zipkin__skew.json: the server half `post` shares the client's id, starts before it, and
/// `async` (in the server's service) is a child of the shared id.
const SKEW: &str = r#"[
  {"traceId":"1e223ff1f80f1c69","parentId":"74280ae0c10d8062","id":"43210ae0c10d1234",
   "name":"async","timestamp":1470150004008762,"duration":65000,
   "localEndpoint":{"serviceName":"serviceb","ipv4":"192.0.0.0"}},
  {"traceId":"1e223ff1f80f1c69","parentId":"bf396325699c84bf","id":"74280ae0c10d8062",
   "kind":"SERVER","name":"post","timestamp":1470150004008761,"duration":93577,
   "localEndpoint":{"serviceName":"serviceb","ipv4":"192.0.0.0"},"shared":true},
  {"traceId":"1e223ff1f80f1c69","id":"bf396325699c84bf","kind":"SERVER","name":"get",
   "timestamp":1470150004071068,"duration":99411,
   "localEndpoint":{"serviceName":"servicea","ipv4":"127.0.0.0"}},
  {"traceId":"1e223ff1f80f1c69","parentId":"bf396325699c84bf","id":"74280ae0c10d8062",
   "kind":"CLIENT","name":"post","timestamp":1470150004074202,"duration":94539,
   "localEndpoint":{"serviceName":"servicea","ipv4":"127.0.0.0"}}
]"#;

const SERVER_HALF: &str = "27604bb28449ad31";

#[test]
fn shared_ids_split_into_client_and_server_spans() {
    let d = load(SKEW);
    assert_eq!(d.files[0].format, Format::Zipkin);
    let s = &d.spans;
    let trace = "00000000000000001e223ff1f80f1c69";
    assert!(strs(s, col::TRACE_ID)
        .iter()
        .all(|t| t.as_deref() == Some(trace)));
    let ids = strs(s, col::SPAN_ID);
    let parents = strs(s, col::PARENT_SPAN_ID);
    // 0x74280ae0c10d8062 ^ "SHARED-S"
    assert_eq!(ids[1].as_deref(), Some(SERVER_HALF));
    assert_eq!(parents[1].as_deref(), Some("74280ae0c10d8062"));
    assert_eq!(ids[3].as_deref(), Some("74280ae0c10d8062"));
    assert_eq!(parents[3].as_deref(), Some("bf396325699c84bf"));
    // `async` runs in serviceb: it moves under the server half.
    assert_eq!(parents[0].as_deref(), Some(SERVER_HALF));
    assert_eq!(parents[2], None);
    assert_eq!(i32s(s, col::KIND), vec![Some(1), Some(2), Some(2), Some(3)]);
    let warn = "Zipkin shared client/server span id: server half given its own id";
    assert_eq!(d.diagnostics.count(Level::Warn, warn), 1);
    // The skew is kept as written (the server starts before its client).
    let start = s.column(col::START_NS).unwrap().i64().unwrap();
    assert!(start.get(1) < start.get(3));
    assert_eq!(start.get(1), Some(1_470_150_004_008_761_000));
}

#[test]
fn split_pairs_the_call_in_the_edges_table() {
    let edges = crate::export::edges_csv(&load(SKEW).spans).unwrap();
    assert!(edges.contains("\nservicea,serviceb,1,0,0,"), "{edges}");
}

#[test]
fn endpoints_tags_and_annotations_map() {
    let d = load(
        r#"{"traceId":"4d1e00c0db9010db86154a4ba6e91385","parentId":"86154a4ba6e91385",
          "id":"4d1e00c0db9010db","kind":"CLIENT","name":"个人信息查询",
          "timestamp":1472470996199000,"duration":207000,
          "localEndpoint":{"serviceName":"订单维护服务","ipv6":"2001:db8::c001","port":8080},
          "remoteEndpoint":{"serviceName":"个人信息服务","ipv4":"192.168.99.101","port":9000},
          "annotations":[{"timestamp":1472470996238000,"value":"foo"}],
          "tags":{"http.status_code":"403","request_size":"0","error":"此用户没有操作权限"}}"#,
    );
    let s = &d.spans;
    assert_eq!(i32s(s, col::HTTP_STATUS_CODE), vec![Some(403)]);
    assert_eq!(i32s(s, col::STATUS_CODE), vec![Some(2)]);
    assert_eq!(
        strs(s, col::STATUS_MESSAGE)[0].as_deref(),
        Some("此用户没有操作权限")
    );
    assert_eq!(
        strs(s, col::PEER_SERVICE)[0].as_deref(),
        Some("个人信息服务")
    );
    assert_eq!(
        strs(s, col::SERVER_ADDRESS)[0].as_deref(),
        Some("192.168.99.101")
    );
    assert_eq!(i32s(s, col::SERVER_PORT), vec![Some(9000)]);
    assert_eq!(
        strs(s, col::INSTANCE)[0].as_deref(),
        Some("[2001:db8::c001]:8080")
    );
    assert_eq!(
        strs(s, col::ATTRIBUTES)[0].as_deref(),
        Some(r#"{"request_size":"0"}"#)
    );
    assert_eq!(strs(&d.events, col::NAME), vec![Some("foo".to_string())]);
}

#[test]
fn a_list_of_traces_reads_every_span() {
    let span = |t: &str, id: &str| {
        format!(
            r#"{{"traceId":"{t}","id":"{id}","name":"n","timestamp":1,"duration":2,"localEndpoint":{{"serviceName":"a"}}}}"#
        )
    };
    let text = format!(
        "[[{},{}],[{}]]",
        span("a1", "1"),
        span("a1", "2"),
        span("b2", "3")
    );
    let d = load(&text);
    assert_eq!(d.spans.height(), 3);
    assert!(d.diagnostics.is_empty());
}

#[test]
fn bad_spans_are_counted_and_the_rest_kept() {
    let d = load(
        r#"[{"traceId":"a1","id":"1","kind":"SIDEWAYS","timestamp":1,"duration":1,"localEndpoint":{}},
            {"traceId":"a1","id":"1","parentId":"xyz","timestamp":1,"duration":1},
            {"traceId":"a1","id":"3","timestamp":1,"duration":"long"},
            {"traceId":"a1","id":"4","tags":{"http.status_code":"oops"}},
            "not a span"]"#,
    );
    assert_eq!(d.spans.height(), 1);
    let skip = |r: &str| d.diagnostics.count(Level::Skip, r);
    assert_eq!(skip("span: unknown kind"), 1);
    assert_eq!(skip("span: parent span: non-hex id"), 1);
    assert_eq!(skip("span: unreadable duration"), 1);
    assert_eq!(skip("malformed Zipkin span (wrong type)"), 1);
    // Kept with warnings: no times, no service; the unreadable status code stays a string.
    assert_eq!(i32s(&d.spans, col::HTTP_STATUS_CODE), vec![None]);
    assert_eq!(d.diagnostics.total(Level::Warn), 3);
}

#[test]
fn json_lines_of_spans_are_read_and_shared_ids_split_across_lines() {
    let lines: Vec<String> = serde_json::from_str::<Vec<serde_json::Value>>(SKEW)
        .unwrap()
        .iter()
        .map(|v| v.to_string())
        .collect();
    let d = load(&lines.join("\n"));
    assert_eq!(d.spans.height(), 4);
    assert_eq!(
        strs(&d.spans, col::SPAN_ID)[1].as_deref(),
        Some(SERVER_HALF)
    );
    let d = load(&format!("{}\n{{\"traceId\": oops", lines.join("\n")));
    assert_eq!(d.spans.height(), 4);
    assert_eq!(d.diagnostics.total(Level::Skip), 1);
}

#[test]
fn a_cut_span_list_keeps_its_complete_spans() {
    let cut = SKEW
        .find(r#"{"traceId":"1e223ff1f80f1c69","id":"bf396325699c84bf""#)
        .unwrap();
    let d = load(SKEW.get(..cut + 30).unwrap());
    assert_eq!(d.spans.height(), 2);
    assert_eq!(
        d.diagnostics
            .count(Level::Skip, "malformed JSON document (truncated)"),
        1
    );
}

#[test]
fn one_bad_byte_in_a_span_list_loses_that_span_not_the_rest() {
    let spans: Vec<String> = (0..10)
        .map(|i| {
            format!(
                r#"{{"traceId":"1e223ff1f80f1c69","id":"{:016x}","name":"op{i}","timestamp":1470150004008762,"duration":65000,"localEndpoint":{{"serviceName":"svc{i}"}},"annotations":[{{"timestamp":1470150004008763,"value":"ws"}}]}}"#,
                i + 1
            )
        })
        .collect();
    let text = format!("[{}]", spans.join(","));
    let at = text.find("op4").unwrap() + 2;
    let mut bytes = text.into_bytes();
    bytes[at] = b'"';
    let d = crate::ingest::test_support::ingest_bytes(&bytes).unwrap();
    assert_eq!(d.spans.height(), 9, "{:?}", d.diagnostics);
    let services = strs(&d.spans, col::SERVICE);
    assert!(!services.contains(&Some("svc4".to_string())));
    assert!(services.contains(&Some("svc9".to_string())));
    let lost = "array element lost in damaged JSON (syntax error: expected `,` or `}`)";
    assert_eq!(
        d.diagnostics.count(Level::Skip, lost),
        1,
        "{:?}",
        d.diagnostics
    );
}
