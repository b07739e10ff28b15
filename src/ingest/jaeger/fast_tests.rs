//! The fast path held to the serde path: on real samples and hand-written traces both give
//! equal frames and diagnostics; whatever serde refuses (cut, garbled, duplicated fields)
//! the fast path refuses too, never panicking. (A fixture rendered as Jaeger and the bench
//! file: `fast_fixture_tests.rs`.)

use polars::prelude::DataFrame;
use serde_json::value::RawValue;

use super::batch::{group, Lines};
use super::envelope::serde_traces;
use super::fast::{walk_group, walk_traces};
use super::fast_span::SpanSlot;
use super::scan::scan;
use super::walk::walk_span;
use super::walk_group_serde;
use super::wire::{Doc, Processes, Span, TypedTrace};
use crate::ingest::cursor::Cursor;
use crate::ingest::otlp::parse::{finish, Done, Loaded};
use crate::ingest::otlp::walk::{Part, Place};
use crate::model::columns as col;

const LABEL: &str = "t.json";
const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/", "../shared/samples/jaeger");

/// Frames and diagnostics of one finished part.
pub(super) struct Outcome {
    pub(super) frames: [DataFrame; 3],
    diag: Vec<String>,
}

pub(super) fn outcome(done: anyhow::Result<Done>) -> Outcome {
    let mut acc = Loaded::default();
    acc.absorb_all(vec![done]).unwrap();
    let diag = acc.diag.iter();
    let diag = diag.map(|(l, r, e)| format!("{l:?} {r} {e:?}")).collect();
    Outcome {
        frames: [acc.spans, acc.events, acc.links],
        diag,
    }
}

pub(super) fn assert_same(fast: &Outcome, serde: &Outcome, what: &str) {
    for (i, name) in ["spans", "events", "links"].iter().enumerate() {
        let (a, b) = (&fast.frames[i], &serde.frames[i]);
        assert!(a.equals_missing(b), "{what}: {name} differ\n{a}\n{b}");
    }
    assert_eq!(fast.diag, serde.diag, "{what}: diagnostics differ");
}

/// Trace objects read the fast way (`None`: not taken) and the serde way.
pub(super) fn traces_both(doc: &[u8], traces: Vec<(&[u8], usize)>) -> (Option<Outcome>, Outcome) {
    let mut part = Part::with_capacity(0);
    let fast = walk_traces(&traces, LABEL, &mut part).map(|()| outcome(finish(part)));
    (fast, outcome(serde_traces(doc, traces, LABEL)))
}

/// The traces of an envelope `{"data": [...]}`, each with its line.
pub(super) fn envelope_traces(doc: &[u8]) -> Vec<(&[u8], usize)> {
    let mut lines = Lines::new(doc);
    let mut out = Vec::new();
    scan(doc, |t| out.push((t, lines.of_bytes(t))));
    out
}

/// Raw spans sharing `processes`, grouped as the reader groups them, read both ways.
fn groups_both(
    doc: &[u8],
    processes: &Processes<'_>,
    spans: &[&RawValue],
) -> Vec<(Option<Outcome>, Outcome)> {
    let groups = group(doc, [(processes, spans)]);
    let each = groups.into_iter().map(|g| {
        let mut part = Part::with_capacity(0);
        let fast = walk_group(&g, LABEL, &mut part).map(|()| outcome(finish(part)));
        (fast, outcome(walk_group_serde(g, LABEL)))
    });
    each.collect()
}

/// Every way the reader may take `doc` (an envelope, a trace object, a span array), read
/// both ways; the fast path must take it.
fn assert_document_same(doc: &[u8], what: &str) {
    let doc = doc.trim_ascii();
    let mut checked = Vec::new();
    if doc.first() == Some(&b'[') {
        let spans: Vec<&RawValue> = serde_json::from_slice(doc).unwrap();
        checked.extend(groups_both(doc, &Processes::default(), &spans));
    } else if scan(doc, |_| {}).seen_data {
        checked.push(traces_both(doc, envelope_traces(doc)));
    } else {
        checked.push(traces_both(doc, vec![(doc, 1)]));
        let d: Doc = serde_json::from_slice(doc).unwrap();
        let processes = d.processes.unwrap_or_default();
        let spans = d.spans.unwrap_or_default();
        checked.extend(groups_both(doc, &processes, &spans));
    }
    for (fast, serde) in &checked {
        let fast = fast.as_ref().unwrap_or_else(|| panic!("{what}: not taken"));
        assert_same(fast, serde, what);
    }
}

#[test]
fn samples_read_alike() {
    let Ok(dir) = std::fs::read_dir(SAMPLES) else {
        eprintln!("SKIPPED: {SAMPLES} not found");
        return;
    };
    let mut files: Vec<_> = dir.map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(!files.is_empty());
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        assert_document_same(&bytes, &path.display().to_string());
    }
}

/// A trace object with room for variations: `{spans}`, `{processes}` and `{tail}`.
fn trace_text(spans: &str, processes: &str, order_first: bool) -> String {
    let procs = format!(r#""processes":{processes}"#);
    let spans = format!(r#""spans":[{spans}]"#);
    if order_first {
        format!(r#"{{"traceID":"a1",{procs},{spans},"warnings":null}}"#)
    } else {
        format!(r#"{{"traceID":"a1",{spans},"warnings":null,{procs}}}"#)
    }
}

const SPAN_A: &str = r#"{"traceID":"a1","spanID":"1","operationName":"GET \"/x\"","references":[],
  "startTime":1700000000000001,"duration":"2500","processID":"p1","flags":1,
  "tags":[{"key":"span.kind","type":"string","value":"server"},
          {"key":"big","type":"int64","value":"9223372036854775222"},
          {"key":"f","type":"float64","value":72},{"key":"g","value":1.5e3},
          {"key":"u","value":18446744073709551615},{"key":"neg","value":-3},
          {"key":"arr","value":[1,{"x":null}]},{"key":"obj","value":{"a":[]}},
          {"key":"e","type":"bool","value":"true"},{"key":"n","value":null},
          {"key":"caf\u00e9","type":"string","value":"t\u00e9\n"},
          {"key":"error","type":"bool","value":true},{"type":"string"},
          {"key":"x","type":"string","value":"a","extra":1},{"key":"x2","type":null,"value":1},
          {"key":"y","type":"int64","value":[1]},{"key":"z","type":"string","value":null},
          {"key":"w","type":"float64","value":"2.5"} , { "key":"v","type":"string","value":"s"}],
  "logs":[{"timestamp":1700000000000100,"fields":[
            {"key":"event","type":"string","value":"exception"},
            {"key":"exception.type","type":"string","value":"Timeout"}]},
          {"timestamp":null,"fields":null},{"fields":[]}]}"#;

const SPAN_B: &str = r#"{"traceID":"a1","spanID":"2","operationName":"call",
  "references":[{"refType":"CHILD_OF","traceID":"ff","spanID":"ff"},
                {"refType":"CHILD_OF","spanID":"1"},
                {"refType":"FOLLOWS_FROM","traceID":"a1","spanID":"1"},
                {"refType":"CHILD_OF","traceID":"a1","spanID":"zz"},{}],
  "startTime":1.7e15,"duration":-4,"processID":"p2","tags":null,"logs":null,
  "process":null,"warnings":["w"]}"#;

const SPAN_C: &str = r#"{"traceID":"a1","spanID":"3","startTime":"soon","duration":1,
  "process":{"serviceName":"inline","tags":[{"key":"ip","value":"10.0.0.1"},
    {"key":"hostname","value":7},{"key":"host.name","type":"string","value":"h"}]}}"#;

const PROCESSES: &str = r#"{"p1":{"serviceName":"frontend","tags":[{"key":"hostname","type":"string","value":"fe-1"},
    {"key":"ip","type":"string","value":7},{"key":"host.name","type":"string","value":"h","x":1}]},
  "p2":{"serviceName":"","tags":null},"p1":{"serviceName":"dup"},"p3":{}}"#;

/// Hand-written traces: every field form the fast path reads, processes before, after or
/// without the spans, and the hand-written envelope of the reader's own tests.
fn hand_written() -> Vec<String> {
    let spans = [SPAN_A, SPAN_B, SPAN_C].join(",");
    let mut out = vec![
        trace_text(&spans, PROCESSES, true),
        trace_text(&spans, PROCESSES, false),
        trace_text(&spans, "null", false),
        trace_text(SPAN_B, "{}", true),
        format!(r#"{{"traceID":"a1","spans":[{spans}]}}"#),
        r#"{"traceID":"a1","spans":null,"processes":{}}"#.to_string(),
        r#"{"traceID":"a1","warnings":[]}"#.to_string(),
        // A "processes" key inside a span, before the trace's own.
        trace_text(
            r#"{"traceID":"a1","spanID":"5","x":{"processes":{"p1":{"serviceName":"no"}}}}"#,
            PROCESSES,
            false,
        ),
    ];
    let envelope = super::tests::ENVELOPE.as_bytes();
    let traces = envelope_traces(envelope).into_iter();
    out.extend(traces.map(|(t, _)| String::from_utf8(t.to_vec()).unwrap()));
    out
}

#[test]
fn hand_written_traces_read_alike() {
    for text in hand_written() {
        let (fast, serde) = traces_both(text.as_bytes(), vec![(text.as_bytes(), 3)]);
        let fast = fast.unwrap_or_else(|| panic!("not taken: {text}"));
        assert_same(&fast, &serde, &text);
    }
    assert_document_same(super::tests::ENVELOPE.as_bytes(), "tests::ENVELOPE");
}

/// Inputs serde refuses, or reads another way than the fast path would: never taken.
#[test]
fn what_serde_refuses_is_not_taken() {
    let refused = [
        trace_text(r#"{"spanID":"1","spanID":"2"}"#, "{}", true),
        trace_text(r#"{"tags":[{"key":"a","key":"b"}]}"#, "{}", true),
        trace_text(
            r#"{"tags":[{"key":"a","type":"string","value":"x","key":"b"}]}"#,
            "{}",
            true,
        ),
        trace_text(
            r#"{"processID":"p"}"#,
            r#"{"p":{"tags":[{"key":"ip","type":"string","value":"x","value":"y"}]}}"#,
            true,
        ),
        trace_text(
            r#"{"tags":[{"key":"a","type":"string","value":tru}]}"#,
            "{}",
            true,
        ),
        trace_text(r#"{"startTime":true}"#, "{}", true),
        trace_text(r#"{"tags":{}}"#, "{}", true),
        trace_text(r#"{"references":[null]}"#, "{}", true),
        trace_text(r#"{"logs":[null]}"#, "{}", true),
        trace_text(r#"{"process":{"serviceName":1}}"#, "{}", true),
        trace_text(r#"{"operationName":"\ud800"}"#, "{}", true),
        trace_text("null", "{}", true),
        trace_text("{}", r#"{"p":null}"#, false),
        trace_text("{}", "[]", true),
        r#"{"traceID":"a1","spans":[],"spans":[]}"#.to_string(),
        r#"{"traceID":"a1","spans":[],"processes":{},"processes":{}}"#.to_string(),
        r#"{"traceID":"a1","spans":[]} x"#.to_string(),
        r#"{"tr\u0061ceID":"a1","spans":[]}"#.to_string(),
    ];
    for text in refused {
        let mut part = Part::with_capacity(0);
        let taken = walk_traces(&[(text.as_bytes(), 1)], LABEL, &mut part);
        assert!(taken.is_none(), "taken: {text}");
    }
}

/// Deterministic byte positions (a small LCG), so a failure names a reproducible case.
fn positions(len: usize, n: usize, seed: u64) -> Vec<usize> {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as usize % len.max(1)
    };
    (0..n).map(|_| next()).collect()
}

/// Cuts and single-byte garbles of `text`.
pub(super) fn variants(text: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for at in positions(text.len(), 12, 7) {
        out.push(text.get(..at).unwrap().to_vec());
    }
    let garbage = [
        b'"', b'}', b']', b'x', 0xff, b'9', b'[', b'\\', b',', b'n', b'-', b' ',
    ];
    for (seed, g) in garbage.iter().enumerate() {
        for at in positions(text.len(), 6, seed as u64 + 11) {
            let mut v = text.to_vec();
            v[at] = *g;
            out.push(v);
        }
    }
    out
}

/// One span read by the fast path (`None`: not taken) and by serde, walked into parts.
fn span_both(text: &str) -> (Option<Outcome>, Option<Outcome>) {
    let place = Place {
        label: LABEL,
        line: 2,
    };
    let walk = |span: &Span<'_>| {
        let mut part = Part::with_capacity(0);
        walk_span(
            span,
            &Processes::default(),
            &mut part,
            &mut Default::default(),
            place,
        );
        outcome(finish(part))
    };
    let mut slot = SpanSlot::default();
    let mut c = Cursor::new(text);
    let fast = slot.read(&mut c).and_then(|()| c.end()).ok();
    let fast = fast.map(|()| walk(&slot.span));
    let serde = serde_json::from_str::<Span>(text).ok().map(|s| walk(&s));
    (fast, serde)
}

#[test]
fn cut_or_garbled_input_is_refused_or_read_alike() {
    let mut bases: Vec<Vec<u8>> = hand_written().into_iter().map(String::into_bytes).collect();
    if let Ok(dir) = std::fs::read_dir(SAMPLES) {
        bases.extend(dir.map(|e| std::fs::read(e.unwrap().path()).unwrap()));
    }
    let (mut taken, mut total) = (0, 0);
    for base in &bases {
        for v in variants(base) {
            total += 1;
            let serde_ok = serde_json::from_slice::<TypedTrace>(&v).is_ok();
            let (fast, serde) = traces_both(&v, vec![(&v, 1)]);
            let what = String::from_utf8_lossy(&v);
            assert!(
                serde_ok || fast.is_none(),
                "taken what serde refuses: {what}"
            );
            if let Some(fast) = fast {
                assert_same(&fast, &serde, &what);
                taken += 1;
            }
        }
    }
    assert!(taken > 0 && taken < total, "{taken} of {total} taken");
    for span in [SPAN_A, SPAN_B, SPAN_C] {
        for v in variants(span.as_bytes()) {
            let Ok(text) = std::str::from_utf8(&v) else {
                continue;
            };
            match span_both(text) {
                (Some(fast), Some(serde)) => assert_same(&fast, &serde, text),
                (Some(_), None) => panic!("taken what serde refuses: {text}"),
                _ => {}
            }
        }
    }
}

/// A trace id repeated span after span is read once; a bad or different one between them
/// is still read (and counted) on its own.
#[test]
fn repeated_trace_ids_are_read_as_if_each_were_read() {
    let span = |t: &str, s: u32| {
        format!(
            r#"{{"traceID":"{t}","spanID":"{s:x}","operationName":"x","startTime":1,"duration":1}}"#
        )
    };
    let spans = [
        span("A1", 1),
        span("a1", 2),
        span("A1", 3),
        span("zz", 4),
        span("A1", 5),
        span("0", 6),
        span("A1", 7),
        span("b2", 8),
    ];
    let text = trace_text(&spans.join(","), "{}", false);
    let (fast, serde) = traces_both(text.as_bytes(), vec![(text.as_bytes(), 1)]);
    let fast = fast.expect("taken");
    assert_same(&fast, &serde, &text);
    let ids = fast.frames[0].column(col::TRACE_ID).unwrap().str().unwrap();
    let ids: Vec<&str> = ids.iter().flatten().collect();
    let a1 = "000000000000000000000000000000a1";
    let b2 = "000000000000000000000000000000b2";
    assert_eq!(ids, [a1, a1, a1, a1, a1, b2]);
    let skipped = |reason: &str| fast.diag.iter().any(|d| d.starts_with(reason));
    assert!(skipped("Skip span: trace id: non-hex id Entry { count: 1,"));
    assert!(skipped("Skip span: trace id: all zero Entry { count: 1,"));
}
