//! Tests of the streaming span parser: it gives what the collecting parser gives, and
//! refuses (so the caller falls back) whatever the derived `Doc` would read otherwise.

use super::*;
use crate::ingest::otlp::walk::walk_doc;

const PLACE: Place<'static> = Place {
    label: "t.jsonl",
    line: 7,
};

/// Spans frame and diagnostics, as text, after walking `line` streamed or collected.
fn outcome(line: &str, streamed: bool) -> Option<(String, String)> {
    let mut part = Part::with_capacity(4);
    let doc = if streamed {
        parse_streamed(line, &mut part, PLACE).ok()?
    } else {
        serde_json::from_str::<Doc>(line).ok()?
    };
    walk_doc(&doc, &mut part, PLACE);
    let diag = part
        .diag
        .iter()
        .map(|(level, reason, e)| format!("{level:?} {reason} {e:?}"));
    let diag = diag.collect::<Vec<_>>().join("\n");
    let frame = format!("{:?}", part.spans.finish().ok()?);
    Some((frame, diag))
}

fn span(id: &str) -> String {
    format!(
        r#"{{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"{id}","name":"GET","kind":2,"startTimeUnixNano":"1","endTimeUnixNano":"2"}}"#
    )
}

fn same_as_collected(line: &str) {
    let streamed = outcome(line, true).expect("streamed parse");
    assert_eq!(Some(streamed), outcome(line, false), "{line}");
}

#[test]
fn streamed_rows_equal_collected_rows_in_every_key_order() {
    let (a, b) = (span("b7ad6b7169203331"), span("00f067aa0ba902b7"));
    let res =
        r#""resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]}"#;
    let scope = r#""scope":{"name":"io.http"}"#;
    let lines = [
        format!(r#"{{"resourceSpans":[{{{res},"scopeSpans":[{{{scope},"spans":[{a},{b}]}}]}}]}}"#),
        format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{a}],{scope}}}],{res}}}]}}"#),
        format!(r#"{{"batches":[{{"scopeSpans":[{{"spans":[{a}]}},{{}}]}}],"x":1}}"#),
        format!(r#"{{"resourceSpans":[{{{res},"scopeSpans":null}},{{{res}}}]}}"#),
        format!(r#"{{"resourceSpans":[{{"resource":null,"scopeSpans":[{{"spans":[{b}]}}]}}]}}"#),
        format!(
            r#"{{"resourceLogs":[],"resourceSpans":[{{{res},"scopeSpans":[{{"spans":null}}]}}]}}"#
        ),
        r#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"0","spanId":"zz"}]}]}]}"#
            .to_string(),
        r#"{"resourceSpans":null,"resourceMetrics":[]}"#.to_string(),
    ];
    for line in &lines {
        same_as_collected(line);
    }
}

#[test]
fn anything_the_derive_rejects_or_reads_otherwise_is_an_error() {
    let a = span("b7ad6b7169203331");
    let refused = [
        format!(r#"{{"resourceSpans":[],"batches":[{{"scopeSpans":[{{"spans":[{a}]}}]}}]}}"#),
        format!(r#"{{"resourceSpans":[{{"scopeSpans":[],"scope_spans":[{{"spans":[{a}]}}]}}]}}"#),
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"scope":null,"scope":{{}},"spans":[{a}]}}]}}]}}"#
        ),
        format!(
            r#"{{"resourceLogs":null,"resourceLogs":[],"resourceSpans":[{{"scopeSpans":[{{"spans":[{a}]}}]}}]}}"#
        ),
        format!(r#"{{"resource\u0053pans":[{{"scopeSpans":[{{"spans":[{a}]}}]}}]}}"#),
        format!(r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{a}]}}]}}]}} x"#),
        r#"{"resourceSpans":[[null,[]]]}"#.to_string(),
    ];
    let mut part = Part::with_capacity(4);
    for line in &refused {
        assert!(parse_streamed(line, &mut part, PLACE).is_err(), "{line}");
    }
}
