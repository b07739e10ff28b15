//! The chunked envelope reader against the scan path: same frames and diagnostics, chunks
//! cut anywhere, and shapes it does not take left (untouched) to the scan path.

use super::*;
use crate::ingest::jaeger::envelope;

fn load(doc: &str, chunked: bool) -> Option<(Loaded, usize)> {
    let mut acc = Loaded::default();
    let bytes = doc.as_bytes();
    let used = if chunked {
        parse(bytes, bytes, "t.json", &mut acc).unwrap()?
    } else {
        envelope::parse(bytes, bytes, "t.json", &mut acc).unwrap()?
    };
    Some((acc, used))
}

fn diag(acc: &Loaded) -> Vec<String> {
    let all = acc.diag.iter();
    all.map(|(l, r, e)| format!("{l:?} {r} {e:?}")).collect()
}

fn assert_same(doc: &str) {
    let (fast, used) = load(doc, true).unwrap_or_else(|| panic!("not taken: {doc:.200}"));
    let (slow, slow_used) = load(doc, false).unwrap();
    assert_eq!(used, slow_used);
    for (a, b) in [
        (&fast.spans, &slow.spans),
        (&fast.events, &slow.events),
        (&fast.links, &slow.links),
    ] {
        assert!(a.equals_missing(b), "{a}\n{b}");
    }
    assert_eq!(diag(&fast), diag(&slow));
}

/// A one-line envelope of `n` traces, every seventh with a bad span, every fifth with its
/// processes first.
fn envelope_of(n: usize, tail: &str) -> String {
    let trace = |i: usize| {
        let bad = if i % 7 == 3 {
            r#","startTime":"x""#
        } else {
            ""
        };
        let span = format!(
            r#"{{"traceID":"{i:x}","spanID":"{i:x}","operationName":"op","startTime":{i},"duration":3,"processID":"p","tags":[{{"key":"pad","type":"string","value":"{}"}}]{bad}}}"#,
            "y".repeat(2000)
        );
        let procs = r#""processes":{"p":{"serviceName":"svc","tags":[{"key":"ip","value":"1"}]}}"#;
        if i.is_multiple_of(5) {
            format!(r#"{{"traceID":"{i:x}",{procs},"spans":[{span},{span}]}}"#)
        } else {
            format!(r#"{{"traceID":"{i:x}","spans":[{span},{span}],{procs},"warnings":null}}"#)
        }
    };
    let data: Vec<String> = (1..=n).map(trace).collect();
    format!(r#"{{"data":[{}]{tail}}}"#, data.join(","))
}

#[test]
fn chunks_read_as_the_scan_path_reads() {
    let doc = envelope_of(1500, r#","total":0,"limit":0,"offset":0,"errors":null"#);
    assert!(cut(doc.as_bytes(), find(doc.as_bytes()).unwrap().data).len() > 2);
    assert_same(&doc);
    assert_same(&envelope_of(3, r#","errors":[{"code":1}]"#));
    assert_same(&envelope_of(0, ""));
    assert_same(r#"{"data":[]}"#);
    assert_same(&format!("{}\n{{\"data\":[]}}", envelope_of(2, "")));
    // Elements the cursor does not take: the chunk is scanned instead.
    assert_same(&envelope_of(2, "").replacen(r#"{"data":["#, r#"{"data":[1,"x",[],"#, 1));
}

#[test]
fn other_shapes_are_left_to_the_scan_path() {
    for doc in [
        r#"{"total":0,"data":[]}"#.to_string(),
        "{\n\"data\":[]}".to_string(),
        r#"{"data":[],"data":[]}"#.to_string(),
        r#"{"data":[],"errors":[],"errors":[1]}"#.to_string(),
        r#"{"data":[{"traceID":"1","spans":[]}"#.to_string(),
        r#"{"data":[]} x"#.to_string(),
        r#"{"data":[{"a":"]"}]"#.to_string(),
    ] {
        assert!(load(&doc, true).is_none(), "{doc}");
    }
}

#[test]
fn a_wrong_cut_gives_the_document_back() {
    // A span shaped like a trace start, in a trace larger than a chunk.
    let span = |i: usize| {
        format!(
            r#"{{"traceID":"{i:x}","spans":[],"pad":"{}"}}"#,
            "z".repeat(1000)
        )
    };
    let spans: Vec<String> = (1..3000).map(span).collect();
    let doc = format!(
        r#"{{"data":[{{"traceID":"1","spans":[{}]}}]}}"#,
        spans.join(",")
    );
    assert!(cut(doc.as_bytes(), find(doc.as_bytes()).unwrap().data).len() > 1);
    assert!(load(&doc, true).is_none());
}

/// Cut or garbled one-line envelopes: whatever the chunked reader takes, it reads as the
/// scan path does, and it never panics.
#[test]
fn cut_or_garbled_envelopes_are_refused_or_read_alike() {
    let doc = envelope_of(1200, r#","total":0,"errors":null"#);
    let mut taken = 0;
    let cases = crate::ingest::jaeger::fast_tests::variants(doc.as_bytes());
    for case in &cases {
        let mut acc = Loaded::default();
        if parse(case, case, "t.json", &mut acc).unwrap().is_none() {
            continue;
        }
        taken += 1;
        let mut slow = Loaded::default();
        envelope::parse(case, case, "t.json", &mut slow).unwrap();
        assert!(acc.spans.equals_missing(&slow.spans));
        assert!(acc.events.equals_missing(&slow.events));
        assert_eq!(diag(&acc), diag(&slow));
    }
    assert!(
        taken > 0 && taken < cases.len(),
        "{taken} of {}",
        cases.len()
    );
}

#[test]
fn traces_with_their_processes_first_are_cut_too() {
    let trace = |i: usize| {
        format!(
            r#"{{"processes":{{"p":{{"serviceName":"s{}"}}}},"traceID":"{i:x}","spans":[{{"traceID":"{i:x}","spanID":"1","operationName":"op","startTime":1,"duration":3,"processID":"p","tags":[{{"key":"pad","type":"string","value":"{}"}}]}}]}}"#,
            i % 3,
            "y".repeat(3000)
        )
    };
    let data: Vec<String> = (1..=2000).map(trace).collect();
    let doc = format!(r#"{{"data":[{}]}}"#, data.join(","));
    let ranges = cut(doc.as_bytes(), find(doc.as_bytes()).unwrap().data);
    assert!(ranges.len() > 2, "{}", ranges.len());
    assert_same(&doc);
}

/// A second document (line 2) whose trace is too big for one chunk: the spans it spreads
/// are counted on the input's lines, as the scan path counts them.
#[test]
fn a_big_trace_in_a_later_document_keeps_the_input_lines() {
    let span = |i: usize| {
        let bad = if i == 7 { r#","startTime":"x""# } else { "" };
        format!(
            r#"{{"traceID":"1","spanID":"{i:x}","startTime":1,"duration":1,"tags":[{{"key":"p","value":"{}"}}]{bad}}}"#,
            "w".repeat(2000)
        )
    };
    let spans: Vec<String> = (1..2500).map(span).collect();
    let second = format!(
        r#"{{"data":[{{"traceID":"1","spans":[{}]}}]}}"#,
        spans.join(",")
    );
    let input = format!("{{\"data\":[]}}\n{second}");
    let bytes = input.as_bytes();
    let doc = &bytes[bytes.iter().position(|&b| b == b'\n').unwrap() + 1..];
    let (mut fast, mut slow) = (Loaded::default(), Loaded::default());
    assert!(parse(bytes, doc, "t.json", &mut fast).unwrap().is_some());
    envelope::parse(bytes, doc, "t.json", &mut slow).unwrap();
    assert_eq!(fast.spans.height(), 2498);
    assert!(fast.spans.equals_missing(&slow.spans));
    assert_eq!(diag(&fast), diag(&slow));
    assert!(
        diag(&fast).iter().any(|d| d.contains("t.json:2")),
        "{:?}",
        diag(&fast)
    );
}
