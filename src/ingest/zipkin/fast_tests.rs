//! The cursor reads every Zipkin span as serde does, field for field, or gives up; it never
//! takes a span serde refuses.

use std::fmt::Write as _;

use super::fast::{read_head, read_span};
use super::wire::{Endpoint, Span};
use crate::ingest::otlp::scalar::Text;
use crate::ingest::otlp::wire::AnyValue;

fn text(t: &Option<Text<'_>>) -> String {
    format!("{:?}", t.as_ref().map(Text::as_str))
}

fn value(v: &AnyValue<'_>) -> String {
    format!(
        "{} {:?} {:?} {:?} {}",
        text(&v.string),
        v.bool,
        v.int,
        v.double,
        text(&v.bytes)
    )
}

fn endpoint(e: &Option<Endpoint<'_>>) -> String {
    e.as_ref().map_or("-".into(), |e| {
        format!(
            "{} {} {} {:?}",
            text(&e.service_name),
            text(&e.ipv4),
            text(&e.ipv6),
            e.port
        )
    })
}

/// Every field of a span, as text.
fn describe(s: &Span<'_>) -> String {
    let mut out = format!(
        "{} {} {} {} {} {:?} {:?} {} {} {:?}",
        text(&s.trace_id),
        text(&s.id),
        text(&s.parent_id),
        text(&s.kind),
        text(&s.name),
        s.timestamp,
        s.duration,
        endpoint(&s.local),
        endpoint(&s.remote),
        s.shared
    );
    for a in s.annotations.iter().flatten() {
        let _ = write!(out, " a[{:?} {}]", a.timestamp, text(&a.value));
    }
    for kv in &s.tags.0 {
        let v = kv.value.as_ref().map_or("-".into(), value);
        let _ = write!(out, " t[{} {v}]", text(&kv.key));
    }
    out
}

/// Fast and serde agree on one span; true when the fast path took it.
fn agree(raw: &str) -> bool {
    let serde = serde_json::from_str::<Span>(raw).ok().map(|s| describe(&s));
    match read_span(raw) {
        Ok(fast) => {
            assert_eq!(Some(describe(&fast)), serde, "{raw}");
            true
        }
        Err(_) => false,
    }
}

const SPAN: &str = r#"{"traceId":"1e223ff1f80f1c69","parentId":"bf396325699c84bf","id":"74280ae0c10d8062","kind":"SERVER","name":"post \"x\" \u00e9","timestamp":1470150004008761,"duration":"93577","localEndpoint":{"serviceName":"serviceb","ipv4":"192.0.0.0","port":8080},"remoteEndpoint":{"ipv6":"::1","port":null},"annotations":[{"timestamp":1470150004008762,"value":"ws"}],"tags":{"http.status_code":"503","http.path":"/a","n":12,"f":1.5,"b":true,"o":{"x":[1]},"z":null},"shared":true,"debug":false}"#;

#[test]
fn a_span_with_every_field_reads_alike() {
    assert!(agree(SPAN));
    assert!(agree("{}"));
    assert!(agree(
        r#"{"tags":null,"annotations":null,"localEndpoint":null,"shared":null}"#
    ));
}

#[test]
fn what_serde_refuses_or_reads_otherwise_is_given_up() {
    for raw in [
        r#"{"id":"a","id":"b"}"#,
        r#"{"tags":[]}"#,
        r#"{"annotations":{}}"#,
        r#"{"shared":"yes"}"#,
        r#"{"tags":{"a\u0062":"x"}}"#,
        r#"["1e223ff1f80f1c69"]"#,
        r#"{"timestamp":1} x"#,
    ] {
        assert!(read_span(raw).is_err(), "{raw}");
    }
}

#[test]
fn every_sample_span_reads_alike() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples/zipkin");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("SKIPPED: {} is absent", dir.display());
        return;
    };
    let mut taken = 0;
    for entry in entries {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let spans = match &v {
            serde_json::Value::Array(list) => list.clone(),
            one => vec![one.clone()],
        };
        for span in spans.iter().flat_map(|s| match s {
            serde_json::Value::Array(inner) => inner.clone(),
            one => vec![one.clone()],
        }) {
            taken += usize::from(agree(&span.to_string()));
        }
    }
    assert!(taken > 20, "only {taken} sample spans took the fast path");
}

#[test]
fn damaged_spans_are_never_taken_when_serde_refuses_them() {
    const BYTES: &[u8] = b"\"\\{}[],:0-1e. nt";
    let mut state = 11u64;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    let mut taken = 0;
    for _ in 0..3000 {
        let mut bytes = SPAN.as_bytes().to_vec();
        let at = next(bytes.len());
        let b = BYTES[next(BYTES.len())];
        match next(3) {
            0 => drop(bytes.remove(at)),
            1 => bytes.insert(at, b),
            _ => bytes[at] = b,
        }
        let Ok(raw) = String::from_utf8(bytes) else {
            continue;
        };
        // The first pass takes a span exactly when the second can read it again.
        assert_eq!(read_head(&raw).is_ok(), read_span(&raw).is_ok(), "{raw}");
        let serde_ok = serde_json::from_str::<Span>(&raw).is_ok();
        if !serde_ok {
            assert!(
                read_span(&raw).is_err(),
                "taken though serde refuses: {raw}"
            );
        }
        taken += usize::from(agree(&raw));
    }
    assert!(
        taken > 100,
        "only {taken} damaged-but-valid spans were taken"
    );
}
