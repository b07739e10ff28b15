//! The fast path gives exactly what the serde path gives, row for row and count for count,
//! or gives up; it never takes a line serde refuses.

use std::io::Read;
use std::path::Path;

use super::*;
use crate::ingest::otlp::stream::parse_streamed;
use crate::ingest::otlp::walk::walk_doc;
use crate::ingest::test_support::Lcg;

const PLACE: Place<'static> = Place {
    label: "t.jsonl",
    line: 7,
};

/// Frames and diagnostics, as text, after walking `line` on the fast or the serde path.
fn outcome(line: &str, fast: bool) -> Option<String> {
    let mut part = Part::with_capacity(4);
    let mut span = Span::default();
    let doc = if fast {
        parse_fast(line, &mut part, PLACE, &mut span).ok()?
    } else {
        parse_streamed(line, &mut part, PLACE).ok()?
    };
    walk_doc(&doc, &mut part, PLACE);
    let diag = part
        .diag
        .iter()
        .map(|(level, reason, e)| format!("{level:?} {reason} {e:?}"));
    let diag = diag.collect::<Vec<_>>().join("\n");
    let spans = part.spans.finish().ok()?;
    let events = part.events.finish().ok()?;
    let links = part.links.finish().ok()?;
    Some(format!("{spans:?}\n{events:?}\n{links:?}\n{diag}"))
}

/// Fast and serde agree on `line`; true when the fast path took it.
fn agree(line: &str) -> bool {
    let fast = outcome(line, true);
    if fast.is_some() {
        assert_eq!(fast, outcome(line, false), "{line}");
    }
    fast.is_some()
}

/// A span using every wire feature: escapes, all value kinds, events, links, status.
const RICH: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"check\"out"}},{"key":"k8s.pod.name","value":{"stringValue":"checkout-7d9"}}],"droppedAttributesCount":0},"schemaUrl":"x","scopeSpans":[{"scope":{"name":"io.opentelemetry.http","version":"1.2","attributes":[]},"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174","parentSpanId":"","traceState":"","flags":1,"name":"GET /cart/{id}","kind":"SPAN_KIND_SERVER","startTimeUnixNano":1544712660000000000,"endTimeUnixNano":"1544712661000000000","attributes":[{"key":"http.request.method","value":{"stringValue":"GET"}},{"key":"http.response.status_code","value":{"intValue":"503"}},{"key":"http.route","value":{"stringValue":"/cart/\u00e9\n\ud83d\ude00"}},{"key":"ratio","value":{"doubleValue":0.25}},{"key":"big","value":{"doubleValue":"NaN"}},{"key":"ok","value":{"boolValue":true}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":-3},{"doubleValue":1e3}]}}},{"key":"map","value":{"kvlistValue":{"values":[{"key":"x","value":{"bytesValue":"AQI="}}]}}},{"key":"empty","value":{}},{"key":"http.request.resend_count","value":{"intValue":2}}],"droppedAttributesCount":0,"events":[{"timeUnixNano":"1544712660500000000","name":"exception","attributes":[{"key":"exception.type","value":{"stringValue":"Timeout"}}]}],"links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","attributes":[{"key":"l","value":{"intValue":1}}]}],"status":{"code":2,"message":"upstream \"inventory\" timed out"}},{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b176","parentSpanId":"eee19b7ec3c1b174","name":"SELECT","kind":3,"startTimeUnixNano":"1544712660100000000","endTimeUnixNano":"1544712660000000000","attributes":[{"key":"db.system","value":{"stringValue":"postgresql"}}],"status":{}}]}]}]}"#;

#[test]
fn rich_line_is_taken_with_the_same_rows() {
    assert!(agree(RICH));
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(RICH).unwrap())
            .unwrap();
    assert!(agree(&pretty));
}

#[test]
fn what_the_serde_path_refuses_or_reorders_is_given_up() {
    let given_up = [
        r#"{"resourceSpans":[],"batches":[]}"#,
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[]}],"resource":{}}]}"#,
        r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[],"scope":{}}]}]}"#,
        r#"{"resourceLogs":[],"resourceSpans":[]}"#,
        r#"{"resource\u0053pans":[]}"#,
        r#"{"resourceSpans":[]} x"#,
        r#"{"resourceSpans":null}"#,
        r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"name":"a","name":"b"}]}]}]}"#,
        r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"attributes":null}]}]}]}"#,
        r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"kind":true}]}]}]}"#,
        r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"startTimeUnixNano":1.5e400}]}]}]}"#,
    ];
    for line in given_up {
        assert!(outcome(line, true).is_none(), "{line}");
    }
}

#[test]
fn lenient_scalars_read_as_serde_reads_them() {
    let lines = [
        r#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","kind":2.0,"startTimeUnixNano":-0,"endTimeUnixNano":"x","status":{"code":"STATUS_CODE_ERROR"}}]}]}]}"#,
        r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","kind":99,"startTimeUnixNano":18446744073709551615,"endTimeUnixNano":1e3}]}]}]}"#,
        r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{}},{"scope":{},"spans":[]}]},{"resource":{}}],"other":{"a":[1,2]}}"#,
    ];
    for line in lines {
        assert!(agree(line), "{line}");
    }
}

/// Every line of a gzip JSON Lines file.
fn gz_lines(path: &Path) -> Vec<String> {
    let mut text = String::new();
    let file = std::fs::File::open(path).unwrap();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .unwrap();
    text.lines().map(str::to_owned).collect()
}

#[test]
fn every_fixture_line_is_taken_with_the_same_rows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    for name in ["retry-storm", "error-propagation"] {
        let lines = gz_lines(&root.join(name).join("traces.jsonl.gz"));
        assert!(!lines.is_empty());
        for line in lines.iter().take(40) {
            assert!(agree(line), "{name}: a line was not taken");
        }
    }
}

#[test]
fn real_otlp_samples_agree_and_most_are_taken() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/otlp");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: {} is absent", dir.display());
        return;
    };
    let mut taken = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue; // compressed samples are read by the ingest tests
        };
        taken += usize::from(agree(text.trim()));
    }
    assert!(taken >= 5, "only {taken} samples took the fast path");
}

#[test]
fn damaged_lines_are_never_taken_when_serde_refuses_them() {
    const BYTES: &[u8] = b"\"\\{}[],:0-1e. nt\x01";
    let mut rng = Lcg(7);
    let mut taken = 0;
    for _ in 0..3000 {
        let mut bytes = RICH.as_bytes().to_vec();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(bytes.len());
            let b = BYTES[rng.below(BYTES.len())];
            match rng.below(3) {
                0 => drop(bytes.remove(at)),
                1 => bytes.insert(at, b),
                _ => bytes[at] = b,
            }
        }
        let Ok(line) = String::from_utf8(bytes) else {
            continue;
        };
        let serde = outcome(&line, false);
        let fast = outcome(&line, true);
        if serde.is_none() {
            assert!(fast.is_none(), "taken though serde refuses: {line}");
        } else if fast.is_some() {
            taken += 1;
            assert_eq!(fast, serde, "{line}");
        }
    }
    assert!(
        taken > 100,
        "only {taken} damaged-but-valid lines were taken"
    );
}

/// Frames and diagnostics after walking one `ResourceSpans` element fast or with serde.
fn element_outcome(raw: &str, fast: bool) -> Option<String> {
    let mut part = Part::with_capacity(4);
    let mut span = Span::default();
    if fast {
        parse_resource_spans(raw, &mut part, PLACE, &mut span).ok()?;
    } else {
        let rs: super::super::wire::ResourceSpans = serde_json::from_str(raw).ok()?;
        super::super::walk::walk_resource_spans(
            rs.resource.as_ref(),
            rs.scope_spans.as_deref(),
            &mut part,
            PLACE,
        );
    }
    let mut diag: Vec<String> = part
        .diag
        .iter()
        .map(|(level, reason, e)| format!("{level:?} {reason} {e:?}"))
        .collect();
    diag.sort();
    let spans = part.spans.finish().ok()?;
    let events = part.events.finish().ok()?;
    let links = part.links.finish().ok()?;
    Some(format!("{spans:?}\n{events:?}\n{links:?}\n{diag:?}"))
}

#[test]
fn whole_document_elements_agree_with_serde() {
    let doc: serde_json::Value = serde_json::from_str(RICH).unwrap();
    let mut elements: Vec<String> = doc["resourceSpans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::to_string_pretty(e).unwrap())
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/otlp");
    for entry in std::fs::read_dir(&dir).into_iter().flatten() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            for e in v["resourceSpans"].as_array().into_iter().flatten() {
                elements.push(serde_json::to_string_pretty(e).unwrap());
            }
        }
    }
    let mut taken = 0;
    for raw in &elements {
        let fast = element_outcome(raw, true);
        if fast.is_some() {
            taken += 1;
            assert_eq!(fast, element_outcome(raw, false), "{raw}");
        }
    }
    assert!(taken >= 1, "no element took the fast path");
}
