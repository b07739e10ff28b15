//! Damaged OTLP records lose only the damaged spans, every loss counted, and no kept span
//! ever lands under another resource or scope.

use std::collections::BTreeMap;

use crate::ingest::diag::{Diagnostics, Level};
use crate::ingest::test_support::{ingest_bytes, strs, Lcg};
use crate::ingest::Dataset;

const SERVICES: usize = 3;
const SCOPES: usize = 2;
const SPANS: usize = 6;
const TOTAL: usize = SERVICES * SCOPES * SPANS;

/// One ExportTraceServiceRequest line: 3 resources × 2 scopes × 6 spans, ids tagged `tag`.
fn line(tag: char) -> String {
    let mut resources = Vec::new();
    for r in 0..SERVICES {
        let mut scopes = Vec::new();
        for s in 0..SCOPES {
            let spans: Vec<String> = (0..SPANS)
                .map(|i| {
                    let id = format!("{tag}{r}{s}{i:013}");
                    let events = if i % 3 == 0 {
                        r#","events":[{"timeUnixNano":"1700000000500000000","name":"exception","attributes":[{"key":"exception.type","value":{"stringValue":"Timeout"}}]}]"#
                    } else {
                        ""
                    };
                    format!(
                        r#"{{"traceId":"{tag}bcdef0123456789abcdef0123456789","spanId":"{id}","name":"op {{{i}}} [x]","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000","attributes":[{{"key":"http.route","value":{{"stringValue":"/a/{{id}}"}}}},{{"key":"n","value":{{"intValue":"{i}"}}}}]{events},"status":{{}}}}"#
                    )
                })
                .collect();
            scopes.push(format!(
                r#"{{"scope":{{"name":"scope-{s}","version":"1"}},"spans":[{}]}}"#,
                spans.join(",")
            ));
        }
        resources.push(format!(
            r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc-{r}"}}}},{{"key":"host.name","value":{{"stringValue":"h{r}"}}}},{{"key":"telemetry.sdk.language","value":{{"stringValue":"rust"}}}}]}},"schemaUrl":"https://x","scopeSpans":[{}]}}"#,
            scopes.join(",")
        ));
    }
    format!(r#"{{"resourceSpans":[{}]}}"#, resources.join(","))
}

/// A good line, then `damaged`, as one JSON Lines input.
fn ingest_after_good_line(damaged: &[u8]) -> Dataset {
    let mut bytes = line('a').into_bytes();
    bytes.push(b'\n');
    bytes.extend_from_slice(damaged);
    bytes.push(b'\n');
    ingest_bytes(&bytes).unwrap()
}

/// Span id → (service, scope) of every span read.
fn placed(data: &Dataset) -> BTreeMap<String, (String, String)> {
    let ids = strs(&data.spans, "span_id");
    let services = strs(&data.spans, "service");
    let scopes = strs(&data.spans, "scope");
    ids.into_iter()
        .zip(services.into_iter().zip(scopes))
        .map(|(id, (svc, sc))| (id.unwrap(), (svc.unwrap(), sc.unwrap_or_default())))
        .collect()
}

/// Spans counted as lost (every span-level skip reason).
fn lost(diag: &Diagnostics) -> u64 {
    diag.iter()
        .filter(|(l, r, _)| *l == Level::Skip && r.starts_with("span"))
        .map(|(_, _, e)| e.count)
        .sum()
}

fn offset_of(text: &str, needle: &str, nth: usize) -> usize {
    text.match_indices(needle).nth(nth).unwrap().0
}

#[test]
fn one_bad_byte_loses_one_span_not_the_batch() {
    let good = line('b');
    let mut bytes = good.clone().into_bytes();
    // A quote inside a span's name: the string ends early and the span no longer parses.
    let at = offset_of(&good, "op {3}", 3) + 2;
    bytes[at] = b'"';
    let data = ingest_after_good_line(&bytes);
    assert_eq!(data.spans.height(), 2 * TOTAL - 1, "{:?}", data.diagnostics);
    assert_eq!(lost(&data.diagnostics), 1);
    let reason = data
        .diagnostics
        .iter()
        .find(|(_, r, _)| r.starts_with("span lost in damaged JSON"))
        .map(|(_, r, e)| (r.to_string(), e.examples[0].clone()))
        .unwrap();
    assert!(reason.0.contains("syntax error"), "{reason:?}");
    assert!(reason.1.contains("input.json:2 (byte "), "{reason:?}");
}

#[test]
fn invalid_utf8_in_a_string_is_replaced_and_the_span_kept() {
    let good = line('b');
    let mut bytes = good.clone().into_bytes();
    let at = offset_of(&good, "op {2}", 4) + 1;
    bytes[at] = 0xff;
    let data = ingest_after_good_line(&bytes);
    assert_eq!(data.spans.height(), 2 * TOTAL);
    assert_eq!(data.diagnostics.count(Level::Warn, super::WARN_UTF8), 1);
    let names = strs(&data.spans, "name");
    assert!(names.iter().flatten().any(|n| n == "o\u{FFFD} {2} [x]"));
}

#[test]
fn truncated_line_keeps_every_span_before_the_cut() {
    let good = line('b');
    // Cut inside the 17th span (resource 1, scope 0, span 4).
    let cut = offset_of(&good, "\"spanId\"", 16) + 5;
    let data = ingest_after_good_line(&good.as_bytes()[..cut]);
    assert_eq!(data.spans.height(), TOTAL + 16);
    assert_eq!(lost(&data.diagnostics), 1);
    assert_eq!(
        data.diagnostics
            .count(Level::Skip, "span lost in damaged JSON (truncated)"),
        1
    );
}

#[test]
fn damaged_resource_loses_its_spans_and_no_other() {
    let good = line('b');
    let mut bytes = good.clone().into_bytes();
    let at = offset_of(&good, "host.name", 1) + 3;
    bytes[at] = b'\x01';
    let data = ingest_after_good_line(&bytes);
    assert_eq!(data.spans.height(), 2 * TOTAL - SCOPES * SPANS);
    assert_eq!(lost(&data.diagnostics), (SCOPES * SPANS) as u64);
    let by_id = placed(&data);
    assert!(
        by_id.keys().all(|id| !id.starts_with("b1")),
        "svc-1's spans kept"
    );
    for (id, (svc, _)) in &by_id {
        assert_eq!(svc, &format!("svc-{}", &id[1..2]), "{id}");
    }
}

#[test]
fn damaged_resource_attribute_that_places_no_span_keeps_the_spans() {
    let good = line('b');
    let mut bytes = good.clone().into_bytes();
    let at = offset_of(&good, "\"rust\"", 1) + 2;
    bytes[at] = b'"';
    let data = ingest_after_good_line(&bytes);
    assert_eq!(data.spans.height(), 2 * TOTAL, "{:?}", data.diagnostics);
    for (id, (svc, _)) in placed(&data) {
        assert_eq!(svc, format!("svc-{}", &id[1..2]), "{id}");
    }
    let instances = strs(&data.spans, "instance");
    assert!(instances
        .iter()
        .all(|i| i.as_deref().is_some_and(|h| h.starts_with('h'))));
}

#[test]
fn damage_at_a_scope_boundary_keeps_spans_under_their_own_scope() {
    let good = line('b');
    for needle in ["]},{\"scope\"", "}]},{\"resource\"", "\"scopeSpans\":["] {
        let mut bytes = good.clone().into_bytes();
        let at = offset_of(&good, needle, 0);
        bytes[at] = b'x';
        let data = ingest_after_good_line(&bytes);
        for (id, (svc, scope)) in placed(&data) {
            assert_eq!(svc, format!("svc-{}", &id[1..2]), "{needle}: {id}");
            assert_eq!(scope, format!("scope-{}", &id[2..3]), "{needle}: {id}");
        }
        let kept = data.spans.height() as u64;
        assert_eq!(kept + lost(&data.diagnostics), 2 * TOTAL as u64, "{needle}");
    }
}

#[test]
fn random_byte_damage_never_misplaces_a_span_and_counts_every_loss() {
    const BYTES: &[u8] = b"\"\\{}[],:0 x\x01\xff\xc3";
    let good = line('b');
    let mut rng = Lcg(11);
    let (mut most_lost, mut salvaged) = (0, 0);
    for _ in 0..400 {
        let mut bytes = good.clone().into_bytes();
        let at = rng.below(bytes.len());
        bytes[at] = BYTES[rng.below(BYTES.len())];
        // What serde still takes is read the normal way, not salvaged.
        let lossy = String::from_utf8_lossy(&bytes);
        if serde_json::from_str::<serde_json::Value>(&lossy).is_ok() {
            continue;
        }
        let data = ingest_after_good_line(&bytes);
        let kept = data.spans.height() as u64;
        let lost = lost(&data.diagnostics);
        assert_eq!(
            kept + lost,
            2 * TOTAL as u64,
            "byte {at}: {:?}",
            data.diagnostics
        );
        for (id, (svc, scope)) in placed(&data) {
            assert_eq!(svc, format!("svc-{}", &id[1..2]), "byte {at}: {id}");
            assert_eq!(scope, format!("scope-{}", &id[2..3]), "byte {at}: {id}");
        }
        most_lost = most_lost.max(lost);
        salvaged += 1;
    }
    // One damaged byte costs at most the spans of the resource entry it hit.
    assert!(most_lost <= (SCOPES * SPANS) as u64, "{most_lost}");
    assert!(
        salvaged > 100,
        "only {salvaged} damaged lines were salvaged"
    );
}

#[test]
fn damaged_pretty_printed_document_keeps_the_other_spans() {
    let doc: serde_json::Value = serde_json::from_str(&line('b')).unwrap();
    let pretty = serde_json::to_string_pretty(&doc).unwrap();
    let at = offset_of(&pretty, "op {4}", 4);
    let mut bytes = pretty.into_bytes();
    bytes[at - 1] = b'{';
    let data = ingest_bytes(&bytes).unwrap();
    assert_eq!(data.spans.height(), TOTAL - 1, "{:?}", data.diagnostics);
    assert_eq!(lost(&data.diagnostics), 1);
}
