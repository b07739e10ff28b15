//! A structural scan of a Jaeger query-API document (`{"data": [trace…], …}`) that finds
//! the traces without parsing them, handing each over as soon as it is found, so traces are
//! parsed exactly once, in parallel, while the scan goes on.
//!
//! Only brackets and strings are followed (strings are skipped with `memchr`); every trace
//! found is then parsed by serde, which is where malformed content is caught. A document
//! cut short still gives its complete traces, and says so.

/// What the scan found besides the traces.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ScanEnd {
    /// The document has a top-level `data` array (else it is not an envelope).
    pub seen_data: bool,
    /// The `errors` value lists at least one error.
    pub has_errors: bool,
    /// The document ended inside a value (truncated, or an unterminated string).
    pub truncated: bool,
    /// Bytes the document took (all of the input when truncated).
    pub end: usize,
}

/// Where a bracket or string leads the scan.
#[derive(Default)]
struct State {
    depth: usize,
    /// Byte range of the last string seen directly in the top object (a key, when followed
    /// by a value).
    last_key: (usize, usize),
    in_data: bool,
    errors_start: Option<usize>,
    trace_start: Option<usize>,
}

/// Scans `b` (starting with `{`), giving each complete object of the top-level `data` array
/// to `on_trace` in document order.
pub fn scan<'b>(b: &'b [u8], on_trace: impl FnMut(&'b [u8])) -> ScanEnd {
    scan_from(b, State::default(), on_trace)
}

/// Scans `b` as the rest of an envelope whose `data` array was entered before `b`, `b`
/// starting between two of its elements: what [`scan`] would find from there on.
pub fn scan_in_data<'b>(b: &'b [u8], on_trace: impl FnMut(&'b [u8])) -> ScanEnd {
    let st = State {
        depth: DATA_DEPTH,
        in_data: true,
        ..State::default()
    };
    let env = scan_from(b, st, on_trace);
    ScanEnd {
        seen_data: true,
        ..env
    }
}

fn scan_from<'b>(b: &'b [u8], mut st: State, mut on_trace: impl FnMut(&'b [u8])) -> ScanEnd {
    let mut env = ScanEnd {
        truncated: true,
        ..ScanEnd::default()
    };
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                let Some(end) = string_end(b, i + 1) else {
                    break;
                };
                if st.depth == 1 {
                    st.last_key = (i + 1, end);
                }
                i = end + 1;
                continue;
            }
            b'{' | b'[' => {
                open(&mut st, b, i, c);
                env.seen_data |= st.in_data;
            }
            b'}' | b']' => {
                if st.depth == 0 {
                    break;
                }
                if let Some(trace) = close(&mut st, &mut env, b, i) {
                    on_trace(trace);
                }
                if st.depth == 0 {
                    env.truncated = false;
                    env.end = i + 1;
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if env.truncated {
        env.end = b.len();
    }
    env
}

/// Scans `b` as a run of elements of the `data` array (what lies between two of its
/// commas), giving each complete object to `on_trace`; true when `b` ends between elements,
/// outside any string (the state a whole-document scan would be in there).
pub fn elements<'b>(b: &'b [u8], mut on_trace: impl FnMut(&'b [u8])) -> bool {
    let mut st = State {
        depth: DATA_DEPTH,
        in_data: true,
        ..State::default()
    };
    let mut env = ScanEnd::default();
    let mut i = 0usize;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                let Some(end) = string_end(b, i + 1) else {
                    return false;
                };
                i = end + 1;
                continue;
            }
            b'{' | b'[' => open(&mut st, b, i, c),
            b'}' | b']' if st.depth <= DATA_DEPTH => return false,
            b'}' | b']' => on_trace_closed(&mut st, &mut env, b, i, &mut on_trace),
            _ => {}
        }
        i += 1;
    }
    st.depth == DATA_DEPTH
}

fn on_trace_closed<'b>(
    st: &mut State,
    env: &mut ScanEnd,
    b: &'b [u8],
    i: usize,
    on_trace: &mut impl FnMut(&'b [u8]),
) {
    if let Some(trace) = close(st, env, b, i) {
        on_trace(trace);
    }
}

/// Depth inside the `data` array, between its elements (the envelope object, then the array).
const DATA_DEPTH: usize = 2;

fn open(st: &mut State, b: &[u8], i: usize, c: u8) {
    let key = b.get(st.last_key.0..st.last_key.1).unwrap_or_default();
    match (st.depth, c) {
        (1, b'[') if key == b"data" => st.in_data = true,
        (1, b'[') if key == b"errors" => st.errors_start = Some(i),
        (2, b'{') if st.in_data => st.trace_start = Some(i),
        _ => {}
    }
    st.depth += 1;
}

/// Closes a bracket; a trace when it was one.
fn close<'b>(st: &mut State, env: &mut ScanEnd, b: &'b [u8], i: usize) -> Option<&'b [u8]> {
    st.depth -= 1;
    match st.depth {
        2 if st.in_data => return st.trace_start.take().and_then(|s| b.get(s..=i)),
        1 => {
            st.in_data = false;
            if let Some(start) = st.errors_start.take() {
                let inner = b.get(start + 1..i).unwrap_or_default().trim_ascii();
                env.has_errors = !inner.is_empty();
            }
        }
        _ => {}
    }
    None
}

/// The index of the quote that ends the string whose content starts at `from`.
fn string_end(b: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = quote_or_backslash(b, from)?;
        if b.get(at) == Some(&b'\\') {
            from = at + 2;
        } else {
            return Some(at);
        }
    }
}

/// Bytes looked at a word at a time before handing a long string to `memchr` (most JSON
/// strings are short: keys, type names, ids; `memchr`'s setup costs more than they do).
const SHORT_STRING: usize = 64;
const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The first `"` or `\` at or after `from`.
fn quote_or_backslash(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = b.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        // The lowest flagged byte of `x - LO & !x & HI` is the first zero byte of `x`.
        let zero = |x: u64| x.wrapping_sub(LO) & !x & HI;
        let found = zero(word ^ (LO * u64::from(b'"'))) | zero(word ^ (LO * u64::from(b'\\')));
        if found != 0 {
            return Some(i + (found.trailing_zeros() / 8) as usize);
        }
        i += 8;
        if i - from >= SHORT_STRING {
            return memchr::memchr2(b'"', b'\\', b.get(i..)?).map(|at| i + at);
        }
    }
    let tail = b.get(i..)?;
    tail.iter()
        .position(|&c| c == b'"' || c == b'\\')
        .map(|at| i + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn traces(doc: &[u8]) -> (Vec<&[u8]>, ScanEnd) {
        let mut out = Vec::new();
        let end = scan(doc, |t| out.push(t));
        (out, end)
    }

    #[test]
    fn finds_traces_and_errors_without_parsing() {
        let doc = r#"{"total":2,"data":[{"traceID":"a","s":"}\"]"},
            {"traceID":"b","spans":[{"x":[1,2]}]}],"errors":[{"msg":"x"}]}"#;
        let (found, env) = traces(doc.as_bytes());
        assert_eq!(
            found,
            vec![
                &br#"{"traceID":"a","s":"}\"]"}"#[..],
                br#"{"traceID":"b","spans":[{"x":[1,2]}]}"#
            ]
        );
        assert!(env.seen_data && env.has_errors && !env.truncated);
        assert_eq!(env.end, doc.len());
        let (_, next) = traces(
            br#"{"data":[]}
{"data":[]}"#,
        );
        assert_eq!(next.end, 11);
    }

    #[test]
    fn a_cut_document_keeps_its_complete_traces() {
        let (found, env) = traces(br#"{"data":[{"traceID":"a"},{"traceID":"b","spans":[{"#);
        assert_eq!(found, vec![br#"{"traceID":"a"}"#]);
        assert!(env.truncated);
        let (found, env) = traces(br#"{"data":[{"traceID":"a\"#);
        assert!(found.is_empty() && env.truncated);
    }

    #[test]
    fn quotes_and_backslashes_are_found_at_every_offset() {
        for len in 0..80 {
            for (special, other) in [(b'"', b'\\'), (b'\\', b'"')] {
                let mut bytes = vec![b'a'; len];
                bytes.push(special);
                bytes.push(other);
                bytes.extend_from_slice(&[0x80, 0x01, 0x22 ^ 0x80]);
                for from in 0..=len {
                    assert_eq!(quote_or_backslash(&bytes, from), Some(len), "{len} {from}");
                }
            }
            assert_eq!(quote_or_backslash(&vec![b'x'; len], 0), None);
        }
    }

    #[test]
    fn elements_are_found_between_commas_and_a_cut_inside_one_is_refused() {
        let mut found = Vec::new();
        let run = br#"{"a":"}"},[1],{"b":{"c":[]}},"x""#;
        assert!(elements(run, |t| found.push(t)));
        assert_eq!(found, vec![&br#"{"a":"}"}"#[..], br#"{"b":{"c":[]}}"#]);
        assert!(!elements(br#"{"a":"x"},{"b":"#, |_| {}));
        assert!(!elements(br#"{"a":"x, "#, |_| {}));
        assert!(!elements(br#"{"a":1}]},{"#, |_| {}));
    }

    #[test]
    fn a_scan_resumed_between_elements_finds_what_the_whole_scan_finds() {
        let doc = br#"{"data":[{"a":1},{"b":"]"},{"c":[{}]}],"errors":[1]} tail"#;
        let (whole, env) = traces(doc);
        let from = doc.iter().position(|&b| b == b',').unwrap() + 1;
        let mut resumed = Vec::new();
        let rest = scan_in_data(&doc[from..], |t| resumed.push(t));
        assert_eq!(resumed, whole[1..]);
        assert_eq!(rest.end + from, env.end);
        assert!(rest.has_errors && rest.seen_data && !rest.truncated);
    }

    #[test]
    fn no_data_key_is_none() {
        assert!(!traces(br#"{"traceID":"a","spans":[]}"#).1.seen_data);
        assert!(!traces(br#"{"x":{"data":[{}]}}"#).1.seen_data);
        let (found, env) = traces(br#"{"data":[],"errors":null}"#);
        assert!(found.is_empty() && env.seen_data && !env.has_errors);
    }
}
