//! The chunked read gives what the serial read gives, or declines before keeping anything.

use super::*;
use crate::ingest::otlp::parse::Loaded;

/// Frames and diagnostics of reading `text` as a Zipkin input, as text.
fn outcome(text: &str) -> String {
    let mut acc = Loaded::default();
    super::super::parse_whole(text.as_bytes(), "z.json", &mut acc).unwrap();
    let diag: Vec<String> = acc
        .diag
        .iter()
        .map(|(l, r, e)| format!("{l:?} {r} {:?} {:?}", e.count, e.examples))
        .collect();
    format!("{:?}\n{:?}\n{diag:?}", acc.spans, acc.events)
}

/// The same spans read by the serial path: wrapped as a list of traces (which the chunks
/// decline), they are read as the same spans on the same lines.
fn serial_outcome(text: &str) -> String {
    outcome(&format!("[{text}]"))
}

fn span(i: usize, extra: &str) -> String {
    format!(
        r#"{{"traceId":"{:016x}","id":"{:016x}","kind":"SERVER","name":"op","timestamp":1470150004008761,"duration":93,"localEndpoint":{{"serviceName":"svc"}},"tags":{{"http.status_code":"503"}}{extra}}}"#,
        i / 3 + 1,
        i + 1
    )
}

fn list(n: usize, extra: impl Fn(usize) -> String) -> String {
    let spans: Vec<String> = (0..n).map(|i| span(i, &extra(i))).collect();
    format!("[{}]", spans.join(","))
}

#[test]
fn chunks_cover_the_list_and_agree_with_the_serial_read() {
    // Enough bytes for several chunks, with spans the cursor gives up on (a duplicate key:
    // serde decides, and refuses) here and there.
    let big = list(GROUP_BYTES / 100, |i| match i % 997 {
        7 => r#","name":"again""#.to_string(),
        _ => String::new(),
    });
    let doc = big.as_bytes();
    let checked = check_chunks(doc, doc, "z.json").expect("taken in chunks");
    assert!(checked.len() > 1, "one chunk only");
    let spans: usize = checked.iter().map(|(c, _)| c.len()).sum();
    let refused = (0..GROUP_BYTES / 100).filter(|i| i % 997 == 7).count();
    assert_eq!(spans, GROUP_BYTES / 100 - refused);
    assert_eq!(outcome(&big), serial_outcome(&big));
}

#[test]
fn bad_spans_are_counted_as_the_serial_read_counts_them() {
    let text = format!(
        "[\n{},\n{{\"traceId\":\"zz\",\"id\":\"1\"}},\n[1],\n{}\n]",
        span(1, ""),
        span(2, r#","timestamp":"x""#)
    );
    let doc = text.as_bytes();
    assert!(check_chunks(doc, doc, "z.json").is_some());
    let got = outcome(&text);
    assert!(got.contains("z.json:3"), "{got}");
    assert!(got.contains("z.json:4"), "{got}");
}

#[test]
fn what_is_not_one_list_of_spans_is_declined() {
    for text in [
        "[]",
        "[[{\"traceId\":\"1\"}]]",
        "[{\"traceId\":\"1\"}]\n[{\"traceId\":\"2\"}]",
        "[{\"traceId\":\"1\"},]",
        "[{\"traceId\":\"1\"} {\"traceId\":\"2\"}]",
        "{\"traceId\":\"1\"}",
    ] {
        let doc = text.as_bytes();
        assert!(check_chunks(doc, doc, "z.json").is_none(), "{text}");
    }
}

#[test]
fn a_cut_inside_a_nested_value_gives_the_list_to_the_serial_read() {
    // A tag value holding `,{"traceId":"` at a chunk boundary: the chunk before it does
    // not end on a whole span, so nothing is taken in chunks.
    let nested = r#","debug":[0,{"traceId":"x"}]"#;
    let big = list(GROUP_BYTES / 100, |_| nested.to_string());
    let doc = big.as_bytes();
    assert!(check_chunks(doc, doc, "z.json").is_none());
    assert_eq!(outcome(&big), serial_outcome(&big));
}
