//! Loading as a whole: inputs in the wrong list or given twice, numbers kept as null, and
//! what a malformed record's reason says.

use std::path::PathBuf;

use super::diag::Level;
use super::test_support::ingest_bytes;
use super::{ingest, IngestOptions};

const LINE: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"api"}}]},"scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"GET","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000","attributes":[{"key":"big","value":{"intValue":"99999999999999999999"}},{"key":"word","value":{"intValue":"abc"}},{"key":"ok","value":{"intValue":"7"}}]}]}]}]}"#;

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn spans_given_as_logs_are_read_once_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let traces = file(&dir, "t.jsonl", &format!("{LINE}\n{LINE}\n"));
    let both = ingest(&IngestOptions {
        traces: vec![traces.clone()],
        logs: vec![traces.clone()],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(both.spans.height(), 2, "the file was read twice");
    let warn = |d: &super::Dataset, r: &str| d.diagnostics.count(Level::Warn, r);
    assert_eq!(warn(&both, "input given more than once (read once)"), 1);
    let as_logs = ingest(&IngestOptions {
        logs: vec![traces],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(as_logs.spans.height(), 2);
    assert_eq!(warn(&as_logs, "spans given as --logs (read as traces)"), 1);
}

#[test]
fn log_records_given_as_traces_are_read_as_logs_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let logs = file(
        &dir,
        "app.log",
        "{\"time\":\"2024-06-01T12:00:00Z\",\"level\":\"info\",\"msg\":\"a\"}\n\
         {\"time\":\"2024-06-01T12:00:01Z\",\"level\":\"error\",\"msg\":\"b\"}\n",
    );
    let d = ingest(&IngestOptions {
        traces: vec![logs],
        ..Default::default()
    })
    .unwrap();
    assert_eq!(d.logs.height(), 2);
    let reason = "log records given as traces (read as logs)";
    assert_eq!(d.diagnostics.count(Level::Warn, reason), 1);
}

#[test]
fn out_of_range_and_wrong_type_ints_are_counted_by_reason() {
    let d = ingest_bytes(format!("{LINE}\n{LINE}\n").as_bytes()).unwrap();
    assert_eq!(d.spans.height(), 2);
    let count = |r: &str| d.diagnostics.count(Level::Warn, r);
    assert_eq!(
        count("attribute intValue out of the int64 range (kept as null)"),
        2
    );
    assert_eq!(count("attribute intValue not an integer (kept as null)"), 2);
}

#[test]
fn damaged_records_say_what_was_wrong_and_where() {
    let ok = r#"{"key":"ok","value":{"intValue":"7"}}"#;
    let deep = format!(
        r#"{{"key":"ok","value":{}{{}}{}}}"#,
        r#"{"arrayValue":{"values":["#.repeat(70),
        "]}}".repeat(70)
    );
    let lines = [
        LINE.to_string(),
        LINE.replace(r#""name":"GET""#, "\"name\":\"G\u{1}ET\""),
        LINE.replace(ok, r#"{"key":"ok","value":{"doubleValue":1e400}}"#),
        LINE.replace(ok, &deep),
        "{\"x\":[1,".to_string(),
    ];
    let d = ingest_bytes((lines.join("\n") + "\n").as_bytes()).unwrap();
    assert_eq!(d.spans.height(), 1, "{:?}", d.diagnostics);
    let skip = |r: &str| {
        d.diagnostics
            .iter()
            .find(|(l, reason, _)| *l == Level::Skip && *reason == r)
            .map(|(_, _, e)| e.examples.clone())
            .unwrap_or_else(|| panic!("no {r:?} in {:?}", d.diagnostics))
    };
    let lost = |why: &str| skip(&format!("span lost in damaged JSON ({why})"));
    assert!(lost("control character in a string")[0].contains("input.json:2 (byte "));
    assert!(lost("number out of range")[0].contains("input.json:3 (byte "));
    assert!(lost("nesting too deep")[0].contains("input.json:4 (byte "));
    let cut = skip("malformed JSON record (truncated)");
    assert!(cut[0].ends_with("input.json:5 (byte 7)"), "{cut:?}");
}

#[test]
fn cut_gzip_of_otlp_lines_keeps_the_spans_before_the_cut_and_says_where() {
    use std::io::Write;
    let line = |i: usize| LINE.replace("b7ad6b7169203331", &format!("{i:016x}"));
    let text: String = (1..=400).map(|i| line(i) + "\n").collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    let gz = gz.finish().unwrap();
    let cut = gz.len() * 2 / 3;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.jsonl.gz");
    std::fs::write(&path, &gz[..cut]).unwrap();
    let d = ingest(&IngestOptions {
        traces: vec![path],
        ..Default::default()
    })
    .unwrap();
    // What a plain decoder hands out before it fails: every complete line in it is kept.
    let mut plain = flate2::read::GzDecoder::new(&gz[..cut]);
    let mut readable = Vec::new();
    let _ = std::io::Read::read_to_end(&mut plain, &mut readable);
    let complete = readable.iter().filter(|&&b| b == b'\n').count();
    assert!(complete > 100);
    assert!(
        d.spans.height() >= complete,
        "{} < {complete}",
        d.spans.height()
    );
    let reason = "compressed input cut off inside a gzip member: read up to the cut";
    let (_, _, e) = d.diagnostics.iter().find(|(_, r, _)| *r == reason).unwrap();
    assert!(e.examples[0].ends_with(&format!("cut.jsonl.gz: compressed byte {cut}")));
}
