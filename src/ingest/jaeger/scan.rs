//! A structural scan of a Jaeger query-API document (`{"data": [trace…], …}`) that finds
//! the traces without parsing them, so each trace is parsed exactly once, in parallel.
//!
//! Only brackets and strings are followed (strings are skipped with `memchr`); every trace
//! found is then parsed by serde, which is where malformed content is caught. A document
//! cut short still gives its complete traces, and says so.

/// What the scan found.
pub struct Envelope<'t> {
    /// The `data` elements that are objects, complete, in document order.
    pub traces: Vec<&'t [u8]>,
    /// The `errors` value lists at least one error.
    pub has_errors: bool,
    /// The document ended inside a value (truncated, or an unterminated string).
    pub truncated: bool,
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

/// Scans `b` (starting with `{`); `None` when it has no top-level `data` array.
pub fn scan(b: &[u8]) -> Option<Envelope<'_>> {
    let mut st = State::default();
    let mut env = Envelope {
        traces: Vec::new(),
        has_errors: false,
        truncated: true,
    };
    let mut seen_data = false;
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
                seen_data |= st.in_data;
            }
            b'}' | b']' => {
                if st.depth == 0 {
                    break;
                }
                close(&mut st, &mut env, b, i);
                if st.depth == 0 {
                    env.truncated = false;
                    break;
                }
            }
            _ => {}
        }
        i += 1;
    }
    seen_data.then_some(env)
}

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

fn close<'t>(st: &mut State, env: &mut Envelope<'t>, b: &'t [u8], i: usize) {
    st.depth -= 1;
    match st.depth {
        2 if st.in_data => {
            if let Some(trace) = st.trace_start.take().and_then(|s| b.get(s..=i)) {
                env.traces.push(trace);
            }
        }
        1 => {
            st.in_data = false;
            if let Some(start) = st.errors_start.take() {
                let inner = b.get(start + 1..i).unwrap_or_default().trim_ascii();
                env.has_errors = !inner.is_empty();
            }
        }
        _ => {}
    }
}

/// The index of the quote that ends the string whose content starts at `from`.
fn string_end(b: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let at = from + memchr::memchr2(b'"', b'\\', b.get(from..)?)?;
        if b.get(at) == Some(&b'\\') {
            from = at + 2;
        } else {
            return Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_traces_and_errors_without_parsing() {
        let doc = r#"{"total":2,"data":[{"traceID":"a","s":"}\"]"},
            {"traceID":"b","spans":[{"x":[1,2]}]}],"errors":[{"msg":"x"}]}"#;
        let env = scan(doc.as_bytes()).unwrap();
        assert_eq!(
            env.traces,
            vec![
                &br#"{"traceID":"a","s":"}\"]"}"#[..],
                br#"{"traceID":"b","spans":[{"x":[1,2]}]}"#
            ]
        );
        assert!(env.has_errors && !env.truncated);
    }

    #[test]
    fn a_cut_document_keeps_its_complete_traces() {
        let env = scan(br#"{"data":[{"traceID":"a"},{"traceID":"b","spans":[{"#).unwrap();
        assert_eq!(env.traces, vec![br#"{"traceID":"a"}"#]);
        assert!(env.truncated);
        let env = scan(br#"{"data":[{"traceID":"a\"#).unwrap();
        assert!(env.traces.is_empty() && env.truncated);
    }

    #[test]
    fn no_data_key_is_none() {
        assert!(scan(br#"{"traceID":"a","spans":[]}"#).is_none());
        assert!(scan(br#"{"x":{"data":[{}]}}"#).is_none());
        let env = scan(br#"{"data":[],"errors":null}"#).unwrap();
        assert!(env.traces.is_empty() && !env.has_errors);
    }
}
