//! Streaming a Jaeger input gives what parsing it whole gives, whether the envelope streams
//! (blocks cut anywhere, traces carried over) or is given back, cut or garbled.

use super::*;

const LABEL: &str = "t.json";

/// `text` read by the streaming reader with blocks of `block` bytes (and whether it
/// streamed), and parsed whole.
fn both(text: &[u8], block: usize) -> ((Loaded, bool), Loaded) {
    let head_len = block.min(text.len());
    let head = text.get(..head_len).unwrap().to_vec();
    let mut reader = std::io::Cursor::new(text.get(head_len..).unwrap().to_vec());
    let mut streamed = Loaded::default();
    let input = Input {
        size: text.len(),
        block,
        label: LABEL,
    };
    let was = read_input(&mut reader, head, input, &mut streamed).unwrap();
    let mut whole = Loaded::default();
    super::super::parse_whole(text, LABEL, &mut whole).unwrap();
    ((streamed, was), whole)
}

fn diag(acc: &Loaded) -> Vec<String> {
    let all = acc.diag.iter();
    all.map(|(l, r, e)| format!("{l:?} {r} {e:?}")).collect()
}

fn assert_same(a: &Loaded, b: &Loaded, what: &str) {
    assert!(a.spans.equals_missing(&b.spans), "{what}: spans");
    assert!(a.events.equals_missing(&b.events), "{what}: events");
    assert!(a.links.equals_missing(&b.links), "{what}: links");
    assert_eq!(diag(a), diag(b), "{what}");
}

/// A one-line envelope of `n` traces (processes after the spans, as the query API writes
/// them), every ninth trace with a span the cursor does not take.
fn envelope(n: usize, tail: &str) -> String {
    let trace = |i: usize| {
        let odd = if i % 9 == 4 { r#","duration":2"# } else { "" };
        let span = |s: usize| {
            format!(
                r#"{{"traceID":"{i:x}","spanID":"{s:x}","operationName":"op {s}","references":[{{"refType":"CHILD_OF","traceID":"{i:x}","spanID":"1"}}],"startTime":{i}000,"duration":3{odd},"processID":"p1","tags":[{{"key":"span.kind","type":"string","value":"server"}},{{"key":"pad","type":"string","value":"{}"}}],"logs":[{{"timestamp":5,"fields":[{{"key":"event","type":"string","value":"e"}}]}}]}}"#,
                "q".repeat(300)
            )
        };
        let spans: Vec<String> = (2..6).map(span).collect();
        format!(
            r#"{{"traceID":"{i:x}","spans":[{}],"processes":{{"p1":{{"serviceName":"svc{}","tags":[{{"key":"hostname","type":"string","value":"h"}}]}}}},"warnings":null}}"#,
            spans.join(","),
            i % 4
        )
    };
    let data: Vec<String> = (1..=n).map(trace).collect();
    format!(r#"{{"data":[{}]{tail}}}"#, data.join(","))
}

#[test]
fn streamed_envelopes_read_as_whole_ones() {
    let doc = envelope(300, r#","total":0,"limit":0,"offset":0,"errors":null"#);
    assert!(doc.len() > 500_000);
    for block in [4096, 50_000, 333_333, 1 << 20] {
        let ((streamed, was), whole) = both(doc.as_bytes(), block);
        assert!(was, "block {block}: not streamed");
        assert!(whole.spans.height() > 1000);
        assert_same(&streamed, &whole, &format!("block {block}"));
    }
    let with_errors = envelope(20, r#","errors":[{"code":500,"msg":"x"}]"#) + "\n\n";
    let ((streamed, was), whole) = both(with_errors.as_bytes(), 8192);
    assert!(was);
    assert_eq!(
        streamed
            .diag
            .count(Level::Warn, "Jaeger response lists errors"),
        1
    );
    assert_same(&streamed, &whole, "with errors");
}

#[test]
fn other_inputs_are_parsed_whole() {
    let one = envelope(30, "");
    let cases = [
        format!("\n{one}"),
        format!("{one}\n{one}"),
        one.replacen(r#"{"data":["#, "{\"data\":[\n", 1),
        envelope(1, ""),
        r#"{"traceID":"1","spans":[]}"#.to_string(),
        one.get(..one.len() - 9).unwrap().to_string(),
    ];
    for (i, case) in cases.iter().enumerate() {
        let ((streamed, was), whole) = both(case.as_bytes(), 4096);
        assert!(!was || i == 3, "case {i} streamed");
        assert_same(&streamed, &whole, &format!("case {i}"));
    }
}

#[test]
fn cut_or_garbled_streams_read_as_whole_ones() {
    let doc = envelope(120, r#","total":0"#);
    let cases = crate::ingest::jaeger::fast_tests::variants(doc.as_bytes());
    let mut streamed_any = false;
    for case in &cases {
        let ((streamed, was), whole) = both(case, 16_384);
        streamed_any |= was;
        assert_same(
            &streamed,
            &whole,
            &String::from_utf8_lossy(case.get(..80).unwrap_or(case)),
        );
    }
    assert!(streamed_any);
}

/// Blocks streamed, then one not proven (a line break, a cut document, a second document):
/// the rest is parsed the scan path's way, and the whole reads as when parsed whole.
#[test]
fn a_block_not_proven_hands_the_rest_to_the_scan_path() {
    let doc = envelope(200, r#","total":0"#);
    let late = doc.len() * 3 / 4;
    let comma = late + doc[late..].find("},{").unwrap() + 1;
    let cases = [
        format!("{}\n{}", &doc[..=comma], &doc[comma + 1..]),
        doc[..doc.len() - 40].to_string(),
        format!("{doc}\n{doc}\n"),
        format!("{doc}\n{{\"data\":[]}} garbage"),
    ];
    for (i, case) in cases.iter().enumerate() {
        let ((streamed, was), whole) = both(case.as_bytes(), 20_000);
        assert!(!was, "case {i}");
        assert!(whole.spans.height() > 100, "case {i}");
        assert_same(&streamed, &whole, &format!("case {i}"));
    }
}
