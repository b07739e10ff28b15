//! End-to-end tests of the OTLP reader through [`crate::ingest::ingest`] on hand-written input.

use crate::ingest::diag::Level;
use crate::ingest::test_support::{i32s, i64s, ingest_bytes, load, strs};
use crate::ingest::{ingest, Dataset, IngestOptions};
use crate::model::columns as col;

const TRACE: &str = "5b8efff798038103d269b633813fc60c";
const SPAN: &str = "eee19b7ec3c1b174";
const PARENT: &str = "eee19b7ec3c1b173";

/// One ExportTraceServiceRequest line holding `spans` under service `svc`.
fn request(svc: &str, spans: &[String]) -> String {
    format!(
        r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{svc}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"lib"}},"spans":[{}]}}]}}]}}"#,
        spans.join(",")
    )
}

fn span(trace: &str, id: &str, parent: &str, extra: &str) -> String {
    format!(
        r#"{{"traceId":"{trace}","spanId":"{id}","parentSpanId":"{parent}","name":"GET","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":"3000"{extra}}}"#
    )
}

#[test]
fn upper_case_ids_become_lower_and_empty_parent_is_root() {
    let up = span(&TRACE.to_uppercase(), &SPAN.to_uppercase(), "", "");
    let d = load(&request("cart", &[up]));
    assert_eq!(strs(&d.spans, col::TRACE_ID), vec![Some(TRACE.to_string())]);
    assert_eq!(strs(&d.spans, col::SPAN_ID), vec![Some(SPAN.to_string())]);
    assert_eq!(strs(&d.spans, col::PARENT_SPAN_ID), vec![None]);
    assert_eq!(strs(&d.spans, col::SERVICE), vec![Some("cart".to_string())]);
    assert_eq!(i64s(&d.spans, col::DURATION_NS), vec![Some(2000)]);
}

#[test]
fn snake_case_enum_names_and_big_numbers() {
    let doc = format!(
        r#"{{"resource_spans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"string_value":"pay"}}}}]}},
        "scope_spans":[{{"spans":[{{"trace_id":"{TRACE}","span_id":"{SPAN}","parent_span_id":"{PARENT}",
        "name":"charge","kind":"SPAN_KIND_CLIENT","start_time_unix_nano":9007199254740993,
        "end_time_unix_nano":"2209072510808241446","status":{{"code":"STATUS_CODE_ERROR","message":"boom"}},
        "attributes":[{{"key":"n","value":{{"int_value":9007199254740995}}}}]}}]}}]}}]}}"#
    );
    let d = load(&doc);
    assert_eq!(i32s(&d.spans, col::KIND), vec![Some(3)]);
    assert_eq!(i32s(&d.spans, col::STATUS_CODE), vec![Some(2)]);
    assert_eq!(i64s(&d.spans, col::START_NS), vec![Some(9007199254740993)]);
    assert_eq!(i64s(&d.spans, col::END_NS), vec![Some(2209072510808241446)]);
    assert_eq!(
        strs(&d.spans, col::PARENT_SPAN_ID),
        vec![Some(PARENT.to_string())]
    );
    assert_eq!(
        strs(&d.spans, col::STATUS_MESSAGE),
        vec![Some("boom".to_string())]
    );
    assert_eq!(
        strs(&d.spans, col::ATTRIBUTES),
        vec![Some(r#"{"n":9007199254740995}"#.to_string())]
    );
}

#[test]
fn base64_ids_are_converted_and_warned() {
    let s = r#"{"traceId":"inmyB8/qrDAAP6cV5ZFR9A==","spanId":"FcpNz02EdAs=","parentSpanId":"","name":"serve","kind":"SPAN_KIND_INTERNAL","startTimeUnixNano":"1","endTimeUnixNano":"2","status":{"code":"STATUS_CODE_UNSET"}}"#;
    let d = load(&request("starter", &[s.to_string()]));
    assert_eq!(
        strs(&d.spans, col::TRACE_ID),
        vec![Some("8a79b207cfeaac30003fa715e59151f4".into())]
    );
    assert_eq!(
        strs(&d.spans, col::SPAN_ID),
        vec![Some("15ca4dcf4d84740b".into())]
    );
    assert_eq!(
        d.diagnostics
            .count(Level::Warn, "base64 id converted to hex"),
        2
    );
}

#[test]
fn bare_resource_spans_lines_batches_and_result_wrappers() {
    let bare = format!(
        r#"{{"resource":{{}},"scopeSpans":[{{"spans":[{}]}}]}}"#,
        span(TRACE, SPAN, "", "")
    );
    let batches = request("a", &[span(TRACE, PARENT, "", "")]).replace("resourceSpans", "batches");
    let result = format!(
        r#"{{"result":{}}}"#,
        request("b", &[span(TRACE, "00000000000000aa", SPAN, "")])
    );
    let d = load(&format!("{bare}\n{batches}\n{result}\n"));
    assert_eq!(d.spans.height(), 3);
    let services = strs(&d.spans, col::SERVICE);
    assert_eq!(
        services,
        vec![
            Some("unknown_service".into()),
            Some("a".into()),
            Some("b".into())
        ]
    );
    assert_eq!(d.diagnostics.total(Level::Skip), 0);
}

#[test]
fn a_byte_order_mark_and_crlf_lines_are_accepted() {
    let line = request("s", &[span(TRACE, SPAN, "", "")]);
    let text = format!("\u{feff}{line}\r\n{line}\r\n");
    let d = load(&text);
    assert_eq!((d.spans.height(), d.diagnostics.total(Level::Skip)), (2, 0));
}

#[test]
fn old_instrumentation_library_names_still_load() {
    let doc = request("old", &[span(TRACE, SPAN, "", "")])
        .replace("scopeSpans", "instrumentationLibrarySpans")
        .replace("\"scope\"", "\"instrumentationLibrary\"");
    let d = load(&doc);
    assert_eq!(strs(&d.spans, col::SCOPE), vec![Some("lib".into())]);
}

#[test]
fn mixed_signals_take_traces_and_logs_and_count_the_rest() {
    let trace = request("web", &[span(TRACE, SPAN, "", "")]);
    let logs = format!(
        r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"web"}}}}]}},"scopeLogs":[{{"logRecords":[
        {{"observedTimeUnixNano":"1700000000000000001","severityNumber":"SEVERITY_NUMBER_ERROR","severityText":"ERROR",
          "body":{{"kvlistValue":{{"values":[{{"key":"msg","value":{{"stringValue":"down"}}}}]}}}},
          "traceId":"{}","spanId":"","attributes":[{{"key":"http","value":{{"kvlistValue":{{"values":[{{"key":"status","value":{{"intValue":"503"}}}}]}}}}}}]}}]}}]}}]}}"#,
        TRACE.to_uppercase()
    ).replace('\n', "");
    let metrics = r#"{"resourceMetrics":[{"resource":{},"scopeMetrics":[]}]}"#;
    let d = load(&format!("{metrics}\n{trace}\n{logs}\n{metrics}\n"));
    assert_eq!(d.spans.height(), 1);
    assert_eq!(d.files[0].other_signals, 2);
    assert_eq!(d.files[0].log_records, 1);
    assert_eq!(d.files[0].spans, 1);
}

#[test]
fn otlp_log_records_become_log_records() {
    let logs = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"web"}}]},"scopeLogs":[{"logs":[{"observedTimeUnixNano":"17","severityNumber":17,"body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"down"}}]}},"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"","attributes":[{"key":"http","value":{"kvlistValue":{"values":[{"key":"status","value":{"intValue":"503"}}]}}}]}]}]}]}"#;
    let doc: super::wire::Doc = serde_json::from_str(logs).unwrap();
    let mut part = super::walk::Part::with_capacity(0);
    let place = super::walk::Place {
        label: "t",
        line: 1,
    };
    assert!(super::walk::walk_doc(&doc, &mut part, place));
    let r = &part.logs[0];
    assert_eq!(r.time_ns, Some(17));
    assert_eq!(r.severity_number, Some(17));
    assert_eq!(r.message.as_deref(), Some(r#"{"msg":"down"}"#));
    assert_eq!(r.service.as_deref(), Some("web"));
    assert_eq!(r.trace_id.as_deref(), Some(TRACE));
    assert_eq!(r.span_id, None);
    use crate::ingest::record::FieldValue;
    assert_eq!(
        r.fields,
        vec![("http.status".to_string(), FieldValue::Int(503))]
    );
}

#[test]
fn bad_records_are_skipped_with_places_and_the_rest_loads() {
    let good = request("ok", &[span(TRACE, SPAN, "", "")]);
    let bad_ids = request(
        "ok",
        &[
            span(TRACE, "000000000000001", "", ""),
            span(TRACE, "000000000000000G", "", ""),
            span("", SPAN, "", ""),
            span(TRACE, SPAN, "12", ""),
            format!(r#"{{"spanId":"{SPAN}"}}"#),
        ],
    );
    let text = format!("{good}\n{{\"resourceSpans\": [tru\n{bad_ids}\n{good}\n");
    let d = load(&text);
    assert_eq!(d.spans.height(), 2);
    assert_eq!(d.diagnostics.total(Level::Skip), 6);
    let (_, _, e) = d
        .diagnostics
        .iter()
        .find(|(_, r, _)| r.starts_with("malformed"))
        .unwrap();
    assert!(
        e.examples[0].ends_with("input.json:2 (byte 21)"),
        "{:?}",
        e.examples
    );
    assert_eq!(
        d.diagnostics
            .count(Level::Skip, "span: span id: odd-length id"),
        1
    );
    assert_eq!(
        d.diagnostics
            .count(Level::Skip, "span: span id: non-hex id"),
        1
    );
    assert_eq!(
        d.diagnostics.count(Level::Skip, "span: trace id: empty id"),
        1
    );
    assert_eq!(
        d.diagnostics.count(Level::Skip, "span: trace id: missing"),
        1
    );
}

#[test]
fn missing_times_and_clock_skew_are_kept_and_warned() {
    let no_times = format!(r#"{{"traceId":"{TRACE}","spanId":"{SPAN}","name":"x"}}"#);
    let skewed = span(TRACE, PARENT, "", "").replace("\"3000\"", "\"500\"");
    let d = load(&request("s", &[no_times, skewed]));
    assert_eq!(i64s(&d.spans, col::START_NS), vec![Some(0), Some(1000)]);
    assert_eq!(i64s(&d.spans, col::DURATION_NS), vec![Some(0), Some(0)]);
    assert_eq!(
        d.diagnostics
            .count(Level::Warn, "span without start/end time (kept as 0)"),
        2
    );
    assert_eq!(
        d.diagnostics.count(
            Level::Warn,
            "span ends before it starts (duration clamped to 0)"
        ),
        1
    );
}

#[test]
fn events_and_links_frames() {
    let extra = format!(
        r#","events":[{{"timeUnixNano":"2000","name":"exception","attributes":[{{"key":"exception.type","value":{{"stringValue":"IOError"}}}},{{"key":"exception.message","value":{{"stringValue":"reset"}}}}]}}],"links":[{{"traceId":"{TRACE}","spanId":"{PARENT}","attributes":[{{"key":"k","value":{{"boolValue":true}}}}]}}]"#
    );
    let d = load(&request("s", &[span(TRACE, SPAN, "", &extra)]));
    assert_eq!(
        strs(&d.events, col::EXCEPTION_TYPE),
        vec![Some("IOError".into())]
    );
    assert_eq!(
        strs(&d.events, col::EXCEPTION_MESSAGE),
        vec![Some("reset".into())]
    );
    assert_eq!(i64s(&d.events, col::TIME_NS), vec![Some(2000)]);
    assert_eq!(
        strs(&d.links, col::LINKED_SPAN_ID),
        vec![Some(PARENT.into())]
    );
    assert_eq!(
        strs(&d.links, col::ATTRIBUTES),
        vec![Some(r#"{"k":true}"#.into())]
    );
}

#[test]
fn semconv_old_and_new_give_identical_columns() {
    let attrs = |pairs: &[(&str, &str)]| {
        let kvs: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!(r#"{{"key":"{k}","value":{v}}}"#))
            .collect();
        format!(r#","attributes":[{}]"#, kvs.join(","))
    };
    let old = attrs(&[
        ("http.method", r#"{"stringValue":"GET"}"#),
        ("http.status_code", r#"{"intValue":"503"}"#),
        ("net.peer.name", r#"{"stringValue":"inventory"}"#),
        ("peer.service", r#"{"stringValue":"inventory"}"#),
        ("http.resend_count", r#"{"intValue":"1"}"#),
    ]);
    let new = attrs(&[
        ("http.request.method", r#"{"stringValue":"GET"}"#),
        ("http.response.status_code", r#"{"stringValue":"503"}"#),
        ("server.address", r#"{"stringValue":"inventory"}"#),
        ("service.peer.name", r#"{"stringValue":"inventory"}"#),
        ("http.request.resend_count", r#"{"intValue":1}"#),
    ]);
    let d = load(&request(
        "s",
        &[span(TRACE, SPAN, "", &old), span(TRACE, PARENT, "", &new)],
    ));
    for name in [col::HTTP_METHOD, col::SERVER_ADDRESS, col::PEER_SERVICE] {
        let v = strs(&d.spans, name);
        assert_eq!(v[0], v[1], "{name}");
        assert!(v[0].is_some(), "{name}");
    }
    for name in [col::HTTP_STATUS_CODE, col::RESEND_COUNT] {
        let v = i32s(&d.spans, name);
        assert_eq!(v[0], v[1], "{name}");
        assert!(v[0].is_some(), "{name}");
    }
}

#[test]
fn not_telemetry_is_an_error_naming_the_file() {
    for text in ["hello world\n", "[]", "{}", "{\"a\":1}\n{\"b\":2}\n"] {
        let err = ingest_bytes(text.as_bytes()).unwrap_err().to_string();
        assert!(
            err.contains("input.json") && err.contains("expected"),
            "{err}"
        );
    }
}

#[test]
fn hostile_bytes_never_panic() {
    let good = request("s", &[span(TRACE, SPAN, "", "")]);
    let mut truncated = good.clone().into_bytes();
    truncated.truncate(good.len() / 2);
    let mut non_utf8 = format!("{good}\n").into_bytes();
    non_utf8.extend_from_slice(b"{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"spans\":[{\"name\":\"\xff\xfe\"}]}]}]}\n");
    non_utf8.extend_from_slice(format!("{good}\n").as_bytes());
    let garbled: Vec<u8> = good.bytes().map(|b| b.wrapping_mul(7)).collect();
    assert_eq!(ingest_bytes(b"").unwrap().spans.height(), 0);
    assert_eq!(
        ingest_bytes(&truncated)
            .unwrap()
            .diagnostics
            .total(Level::Skip),
        1
    );
    let d = ingest_bytes(&non_utf8).unwrap();
    assert_eq!((d.spans.height(), d.diagnostics.total(Level::Skip)), (2, 1));
    assert!(ingest_bytes(&garbled).is_err());
}

#[test]
fn a_line_failing_after_streamed_spans_keeps_them_once() {
    // Line 2 breaks after two whole spans: the streaming parser has pushed them already,
    // so the group is parsed again; the line is salvaged, its two spans kept once each.
    let good = request("a", &[span(TRACE, SPAN, "", "")]);
    let two = [
        span(TRACE, PARENT, "", ""),
        span(TRACE, "0000000000000001", "", ""),
    ];
    let broken = request("b", &two).replacen("]}]}]}", "]}]},]}", 1);
    let text = format!("{good}\n{broken}\n{good}\n");
    let d = ingest_bytes(text.as_bytes()).unwrap();
    assert_eq!(d.spans.height(), 4);
    assert_eq!(d.diagnostics.total(Level::Skip), 0, "{:?}", d.diagnostics);
    let damaged: Vec<_> = d
        .diagnostics
        .iter()
        .filter(|(l, r, _)| *l == Level::Warn && r.starts_with("damaged JSON record"))
        .collect();
    assert_eq!(damaged.len(), 1);
    let (_, _, entry) = damaged[0];
    assert!(
        entry.examples[0].ends_with("input.json:2 (byte 483)"),
        "{:?}",
        entry.examples
    );
}

#[test]
fn a_50_mb_attribute_value_loads() {
    let big = "x".repeat(50 << 20);
    let extra = format!(r#","attributes":[{{"key":"blob","value":{{"stringValue":"{big}"}}}}]"#);
    let text = format!(
        "{}\n{}\n",
        request("s", &[span(TRACE, SPAN, "", &extra)]),
        request("s", &[span(TRACE, PARENT, "", "")])
    );
    let d = ingest_bytes(text.as_bytes()).unwrap();
    assert_eq!(d.spans.height(), 2);
}

#[test]
fn pretty_printed_document_reports_element_lines() {
    let a = request("a", &[span(TRACE, SPAN, "", "")]);
    let b = request("b", &[span(TRACE, "1", "", "")]);
    let inner = |r: &str| {
        r.strip_prefix("{\"resourceSpans\":[")
            .and_then(|r| r.strip_suffix("]}"))
            .unwrap()
            .to_string()
    };
    let text = format!(
        "{{\n  \"resourceSpans\": [\n    {},\n    {}\n  ]\n}}\n",
        inner(&a),
        inner(&b)
    );
    let d = load(&text);
    assert_eq!(d.spans.height(), 1);
    let (_, _, e) = d
        .diagnostics
        .iter()
        .find(|(l, _, _)| *l == Level::Skip)
        .unwrap();
    assert!(e.examples[0].ends_with(":4"), "{:?}", e.examples);
}

#[test]
fn frames_do_not_depend_on_thread_count() {
    let mut text = String::new();
    for i in 0..24_000u32 {
        let id = format!("{:016x}", u64::from(i) + 1);
        let parent = if i % 3 == 0 {
            String::new()
        } else {
            format!("{:016x}", u64::from(i))
        };
        let bad = if i % 997 == 0 { "0" } else { "" };
        text.push_str(&request(
            &format!("svc{}", i % 7),
            &[span(TRACE, &format!("{id}{bad}"), &parent, "")],
        ));
        text.push('\n');
    }
    assert!(text.len() > 2 * (2 << 20), "needs several parallel groups");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.jsonl");
    std::fs::write(&path, &text).unwrap();
    let opts = IngestOptions {
        traces: vec![path],
        ..Default::default()
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| ingest(&opts).unwrap())
    };
    let (one, two) = (run(1), run(2));
    assert!(one.spans.equals_missing(&two.spans));
    assert_eq!(one.spans.height(), 24_000 - 25);
    let examples = |d: &Dataset| format!("{:?}", d.diagnostics.iter().collect::<Vec<_>>());
    assert_eq!(examples(&one), examples(&two));
}

#[test]
fn attributes_json_keeps_only_what_no_column_carries() {
    let attrs = r#","attributes":[
        {"key":"http.method","value":{"stringValue":"POST"}},
        {"key":"http.request.method","value":{"stringValue":"GET"}},
        {"key":"http.response.status_code","value":{"intValue":"503"}},
        {"key":"tenant","value":{"stringValue":"acme"}},
        {"key":"error","value":{"boolValue":true}}]"#;
    let d = load(&request("web", &[span(TRACE, SPAN, "", attrs)]));
    assert_eq!(strs(&d.spans, col::HTTP_METHOD), vec![Some("GET".into())]);
    assert_eq!(i32s(&d.spans, col::HTTP_STATUS_CODE), vec![Some(503)]);
    // The losing old name, the unknown key and the legacy status tag stay reachable.
    assert_eq!(
        strs(&d.spans, col::ATTRIBUTES),
        vec![Some(
            r#"{"http.method":"POST","tenant":"acme","error":true}"#.to_string()
        )]
    );
}
