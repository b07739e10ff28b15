//! End-to-end tests of the Jaeger reader through [`crate::ingest::ingest`] on hand-written
//! input: ids, parents and links, kinds, status, processes, logs, and bad input.

use crate::ingest::diag::Level;
use crate::ingest::test_support::{i32s, load, strs};
use crate::ingest::Format;
use crate::model::columns as col;

fn some(v: &[&str]) -> Vec<Option<String>> {
    v.iter().map(|s| Some(s.to_string())).collect()
}

/// Two traces in the query API envelope: a 64-bit and a 128-bit trace id.
pub(super) const ENVELOPE: &str = r#"{"data":[
 {"traceID":"00000000000000A1","spans":[
   {"traceID":"a1","spanID":"1","operationName":"GET /cart","references":[],
    "startTime":1700000000000001,"duration":2500,"processID":"p1",
    "tags":[{"key":"span.kind","type":"string","value":"server"},
            {"key":"otel.scope.name","type":"string","value":"io.opentelemetry.http"},
            {"key":"http.status_code","type":"int64","value":503},
            {"key":"error","type":"bool","value":true}],
    "logs":[{"timestamp":1700000000000100,"fields":[
            {"key":"event","type":"string","value":"exception"},
            {"key":"exception.type","type":"string","value":"Timeout"}]}]},
   {"traceID":"00000000000000a1","spanID":"0000000000000002","operationName":"call inv",
    "references":[{"refType":"CHILD_OF","traceID":"ff","spanID":"ff"},
                  {"refType":"CHILD_OF","traceID":"a1","spanID":"1"},
                  {"refType":"FOLLOWS_FROM","traceID":"a1","spanID":"1"}],
    "startTime":1700000000000010,"duration":1000,"processID":"p2",
    "tags":[{"key":"span.kind","type":"string","value":"client"},
            {"key":"peer.service","type":"string","value":"inventory"},
            {"key":"otel.status_code","type":"string","value":"OK"}],
    "logs":null,"warnings":null}],
  "processes":{"p1":{"serviceName":"frontend","tags":[{"key":"hostname","type":"string","value":"fe-1"}]},
               "p2":{"serviceName":"cart","tags":[{"key":"service.instance.id","type":"string","value":"cart-7"}]}},
  "warnings":null},
 {"traceID":"4766f1209f70a5e2e55417fc296fd101","spans":[
   {"traceID":"4766f1209f70a5e2e55417fc296fd101","spanID":"622a5079b565623e","operationName":"q",
    "references":[{"refType":"FOLLOWS_FROM","traceID":"4766f1209f70a5e2e55417fc296fd101","spanID":"e821b549888cbc3b"}],
    "startTime":1579070675085840,"duration":52,"processID":"p1","tags":[]}],
  "processes":{"p1":{"serviceName":"db","tags":[]}}}],
 "total":0,"limit":0,"offset":0,"errors":null}"#;

#[test]
fn envelope_maps_ids_parents_kinds_status_and_processes() {
    let d = load(ENVELOPE);
    assert_eq!(d.files[0].format, Format::Jaeger);
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    let s = &d.spans;
    let t1 = "000000000000000000000000000000a1";
    let t2 = "4766f1209f70a5e2e55417fc296fd101";
    assert_eq!(strs(s, col::TRACE_ID), some(&[t1, t1, t2]));
    assert_eq!(
        strs(s, col::SPAN_ID),
        some(&["0000000000000001", "0000000000000002", "622a5079b565623e"])
    );
    // CHILD_OF in another trace is not the parent; FOLLOWS_FROM is when nothing else is.
    assert_eq!(
        strs(s, col::PARENT_SPAN_ID),
        vec![
            None,
            Some("0000000000000001".into()),
            Some("e821b549888cbc3b".into())
        ]
    );
    assert_eq!(i32s(s, col::KIND), vec![Some(2), Some(3), Some(0)]);
    assert_eq!(i32s(s, col::STATUS_CODE), vec![Some(2), Some(1), Some(0)]);
    assert_eq!(strs(s, col::SERVICE), some(&["frontend", "cart", "db"]));
    assert_eq!(
        strs(s, col::INSTANCE),
        vec![Some("fe-1".into()), Some("cart-7".into()), None]
    );
    let start = s.column(col::START_NS).unwrap().i64().unwrap().get(0);
    assert_eq!(start, Some(1_700_000_000_000_001_000));
    let dur = s.column(col::DURATION_NS).unwrap().i64().unwrap().get(0);
    assert_eq!(dur, Some(2_500_000));
    assert_eq!(i32s(s, col::HTTP_STATUS_CODE)[0], Some(503));
    assert_eq!(strs(s, col::PEER_SERVICE)[1].as_deref(), Some("inventory"));
    assert_eq!(
        strs(s, col::SCOPE)[0].as_deref(),
        Some("io.opentelemetry.http")
    );
    // Mapped tags are fields now, and normalised ones columns: neither stays an attribute.
    assert_eq!(strs(s, col::ATTRIBUTES)[0].as_deref(), Some("{}"));
}

#[test]
fn logs_become_events_and_other_references_links() {
    let d = load(ENVELOPE);
    assert_eq!(strs(&d.events, col::NAME), some(&["exception"]));
    assert_eq!(strs(&d.events, col::EXCEPTION_TYPE), some(&["Timeout"]));
    let t = d.events.column(col::TIME_NS).unwrap().i64().unwrap().get(0);
    assert_eq!(t, Some(1_700_000_000_000_100_000));
    assert_eq!(
        strs(&d.events, col::ATTRIBUTES),
        some(&[r#"{"exception.type":"Timeout"}"#])
    );
    assert_eq!(
        strs(&d.links, col::LINKED_SPAN_ID),
        some(&["00000000000000ff", "0000000000000001"])
    );
    assert_eq!(
        strs(&d.links, col::ATTRIBUTES),
        some(&[
            r#"{"opentracing.ref_type":"child_of"}"#,
            r#"{"opentracing.ref_type":"follows_from"}"#
        ])
    );
}

#[test]
fn bare_span_array_with_inline_process_and_string_bool() {
    // The shape of jaeger__anonymizer-trace_success.json.
    let d = load(
        r#"[{"traceID":"2be38093ead7a083","spanID":"7bd66f09ba90ea3d","operationName":"x",
          "references":[{"refType":"CHILD_OF","traceID":"2be38093ead7a083","spanID":"7606ddfe69932d34"}],
          "startTime":1605223981965074,"duration":32782,
          "tags":[{"key":"span.kind","type":"string","value":"client"},
                  {"key":"error","type":"bool","value":"true"}],
          "logs":[],"process":{"serviceName":"svc","tags":[]},"warnings":null}]"#,
    );
    assert_eq!(i32s(&d.spans, col::STATUS_CODE), vec![Some(2)]);
    assert_eq!(i32s(&d.spans, col::KIND), vec![Some(3)]);
    assert_eq!(strs(&d.spans, col::SERVICE), some(&["svc"]));
    assert_eq!(strs(&d.spans, col::ATTRIBUTES), some(&["{}"]));
}

#[test]
fn bad_spans_are_counted_and_the_rest_kept() {
    let d = load(
        r#"{"traceID":"1","spans":[
          {"traceID":"zz","spanID":"1","operationName":"a","startTime":1,"duration":1},
          {"traceID":"1","spanID":"0","operationName":"b","startTime":1,"duration":1},
          {"traceID":"1","spanID":"2","operationName":"c","startTime":"soon","duration":1},
          {"traceID":"1","spanID":"3","operationName":"d","startTime":1,"duration":1,"processID":"nope"},
          [1,2]],
         "processes":{}}"#,
    );
    assert_eq!(d.spans.height(), 1);
    assert_eq!(strs(&d.spans, col::SERVICE), some(&["unknown_service"]));
    let skip = |r: &str| d.diagnostics.count(Level::Skip, r);
    assert_eq!(skip("span: trace id: non-hex id"), 1);
    assert_eq!(skip("span: span id: all zero"), 1);
    assert_eq!(skip("span: unreadable start time"), 1);
    assert_eq!(skip("malformed Jaeger span (wrong type)"), 1);
    let warn = "span without a process service name (unknown_service)";
    assert_eq!(d.diagnostics.count(Level::Warn, warn), 1);
}

#[test]
fn a_truncated_envelope_keeps_its_complete_traces() {
    let second = ENVELOPE.find(r#"{"traceID":"4766"#).unwrap();
    let d = load(ENVELOPE.get(..second + 40).unwrap());
    assert_eq!(d.spans.height(), 2);
    let reason = "truncated Jaeger document (what follows the cut is lost)";
    assert_eq!(d.diagnostics.count(Level::Skip, reason), 1);
    let single = r#"{"traceID":"1","spans":[{"traceID":"1","spanID":"1","operationName":"#;
    let d = load(single);
    assert_eq!(d.spans.height(), 0);
    assert_eq!(d.diagnostics.total(Level::Skip), 1);
}

#[test]
fn one_bad_span_in_an_envelope_skips_only_itself() {
    let bad = ENVELOPE.replacen(r#""duration":1000"#, r#""duration":{"x":1}"#, 1);
    let d = load(&bad);
    assert_eq!(d.spans.height(), 2);
    let reason = "malformed Jaeger span (wrong type)";
    assert_eq!(d.diagnostics.count(Level::Skip, reason), 1);
}

/// Many traces (more than one parallel group) give the same frame on 1 and 4 threads.
#[test]
fn output_does_not_depend_on_thread_count() {
    let trace = |i: usize| {
        format!(
            r#"{{"traceID":"{i:032x}","spans":[{{"traceID":"{i:032x}","spanID":"{i:016x}","operationName":"op{}","startTime":{i},"duration":7,"processID":"p1","tags":[{{"key":"pad","type":"string","value":"{}"}}]}}],"processes":{{"p1":{{"serviceName":"s{}"}}}}}}"#,
            i,
            "x".repeat(900),
            i % 7
        )
    };
    let body: Vec<String> = (1..=3000).map(trace).collect();
    let text = format!(r#"{{"data":[{}]}}"#, body.join(",\n"));
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| load(&text))
    };
    let (one, four) = (run(1), run(4));
    assert_eq!(one.spans.height(), 3000);
    assert!(one.spans.equals_missing(&four.spans));
    assert_eq!(
        strs(&one.spans, col::SPAN_ID)[2999].as_deref(),
        Some("0000000000000bb8")
    );
}

/// One trace larger than a parallel group (2 MB) between two small ones: its spans are
/// spread over groups, and everything stays in document order on any thread count.
#[test]
fn a_trace_bigger_than_a_group_keeps_document_order() {
    let span = |t: usize, i: usize| {
        format!(
            r#"{{"traceID":"{t:x}","spanID":"{i:x}","operationName":"op","startTime":{i},"duration":1,"processID":"p","tags":[{{"key":"pad","value":"{}"}}]}}"#,
            "y".repeat(1000)
        )
    };
    let trace = |t: usize, n: usize| {
        let spans: Vec<String> = (1..=n).map(|i| span(t, t * 10_000 + i)).collect();
        format!(
            r#"{{"traceID":"{t:x}","spans":[{}],"processes":{{"p":{{"serviceName":"s{t}"}}}}}}"#,
            spans.join(",\n")
        )
    };
    let text = format!(
        r#"{{"data":[{},{},{}]}}"#,
        trace(1, 2),
        trace(2, 2600),
        trace(3, 1)
    );
    let run = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| load(&text))
    };
    let (one, four) = (run(1), run(4));
    assert!(one.diagnostics.is_empty(), "{:?}", one.diagnostics);
    assert_eq!(one.spans.height(), 2603);
    assert!(one.spans.equals_missing(&four.spans));
    let services = strs(&one.spans, col::SERVICE);
    assert_eq!(services[0].as_deref(), Some("s1"));
    assert_eq!(services[2].as_deref(), Some("s2"));
    assert_eq!(services[2602].as_deref(), Some("s3"));
    let ids = strs(&one.spans, col::SPAN_ID);
    assert_eq!(
        ids[2601].as_deref(),
        Some(format!("{:016x}", 20_000 + 2600).as_str())
    );
}

#[test]
fn documents_one_after_another_are_all_read() {
    let trace = |t: &str, svc: &str| {
        format!(
            r#"{{"traceID":"{t}","spans":[{{"traceID":"{t}","spanID":"1","operationName":"x","startTime":1,"duration":1,"processID":"p"}}],"processes":{{"p":{{"serviceName":"{svc}"}}}}}}"#
        )
    };
    let lines = format!("{}\n{}\n", trace("a1", "one"), trace("a2", "two"));
    let d = load(&lines);
    assert!(d.diagnostics.is_empty(), "{:?}", d.diagnostics);
    assert_eq!(strs(&d.spans, col::SERVICE), some(&["one", "two"]));
    let envelopes = format!(
        "{{\"data\":[{}]}}\n{{\"data\":[{}]}}\ngarbage",
        trace("b1", "three"),
        trace("b2", "four")
    );
    let d = load(&envelopes);
    assert_eq!(strs(&d.spans, col::SERVICE), some(&["three", "four"]));
    let examples: Vec<String> = d
        .diagnostics
        .iter()
        .flat_map(|(_, _, e)| e.examples.clone())
        .collect();
    assert_eq!(
        d.diagnostics.count(
            Level::Skip,
            "malformed JSON document (syntax error: expected value)"
        ),
        1,
        "{:?}",
        d.diagnostics
    );
    assert!(examples[0].ends_with(":3"), "{examples:?}");
}

#[test]
fn an_array_of_trace_objects_is_read() {
    let trace = |t: &str, svc: &str| {
        format!(
            r#"{{"traceID":"{t}","spans":[{{"traceID":"{t}","spanID":"1","operationName":"x","startTime":1,"duration":1,"processID":"p"}}],"processes":{{"p":{{"serviceName":"{svc}"}}}}}}"#
        )
    };
    let d = load(&format!(
        "[{},\n{},\n{{\"traceID\":\"c3\"}}]",
        trace("a1", "one"),
        trace("a2", "two")
    ));
    assert_eq!(strs(&d.spans, col::SERVICE), some(&["one", "two"]));
    assert_eq!(
        d.diagnostics
            .count(Level::Skip, "Jaeger trace without spans"),
        1
    );
}
