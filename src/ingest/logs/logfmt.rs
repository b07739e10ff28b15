//! logfmt lines (`time=… level=info msg="quoted text" status=200`) read into the same flat
//! field list as JSON lines, so one key mapping serves both.
//!
//! A line counts as logfmt only when it tokenises completely into `key=value` pairs, with
//! at least [`MIN_PAIRS`] of them and identifier-like keys; anything else is garbage.

use std::borrow::Cow;

use super::value::{Flat, Val};

/// Pairs a line needs before it is taken as logfmt: one `a=b` is too easily prose.
const MIN_PAIRS: usize = 2;

/// Parses one logfmt line; values stay text (typed later). `None` when not logfmt.
pub(crate) fn parse_logfmt(line: &str) -> Option<Flat<'_>> {
    let mut out = Flat::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let (key, value, tail) = pair(rest)?;
        out.push((Cow::Borrowed(key), Val::Str(value)));
        rest = tail.trim_start();
    }
    (out.len() >= MIN_PAIRS).then_some(out)
}

/// Splits `key=value` off the front of `s`: (key, value, the rest).
fn pair(s: &str) -> Option<(&str, Cow<'_, str>, &str)> {
    let eq = s.find('=')?;
    let key = &s[..eq];
    if key.is_empty() || !key.bytes().all(is_key_byte) {
        return None;
    }
    let after = &s[eq + 1..];
    let (value, tail) = if after.starts_with('"') {
        quoted(after)?
    } else {
        let end = after.find([' ', '\t']).unwrap_or(after.len());
        if after[..end].contains('"') {
            return None;
        }
        (Cow::Borrowed(&after[..end]), &after[end..])
    };
    let separated = tail.is_empty() || tail.starts_with([' ', '\t']);
    separated.then_some((key, value, tail))
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@' | b'/')
}

/// Reads a double-quoted value starting at `s[0] == '"'`: (unescaped value, the rest).
fn quoted(s: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = s.get(1..)?;
    let mut owned: Option<String> = None;
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                let value = owned.map_or(Cow::Borrowed(&body[..i]), Cow::Owned);
                return Some((value, &body[i + 1..]));
            }
            '\\' => {
                let buf = owned.get_or_insert_with(|| body[..i].to_string());
                let (_, esc) = chars.next()?;
                buf.push(unescape(esc));
            }
            _ => {
                if let Some(buf) = owned.as_mut() {
                    buf.push(c);
                }
            }
        }
    }
    None
}

fn unescape(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(line: &str) -> Vec<(String, String)> {
        parse_logfmt(line)
            .unwrap()
            .into_iter()
            .map(|(k, v)| match v {
                Val::Str(s) => (k.into_owned(), s.into_owned()),
                other => panic!("not text: {other:?}"),
            })
            .collect()
    }

    #[test]
    fn reads_plain_quoted_escaped_and_empty_values() {
        let line = r#"time=2024-06-01T12:00:00Z level=warn msg="retry \"budget\" low" svc=cart empty= attempt=3"#;
        assert_eq!(
            pairs(line),
            [
                ("time".into(), "2024-06-01T12:00:00Z".into()),
                ("level".into(), "warn".into()),
                ("msg".into(), "retry \"budget\" low".into()),
                ("svc".into(), "cart".into()),
                ("empty".into(), String::new()),
                ("attempt".into(), "3".into()),
            ]
        );
    }

    #[test]
    fn prose_stack_traces_and_broken_quotes_are_not_logfmt() {
        for bad in [
            "hello world",
            "a=1",
            "Exception in thread main x=1 y=2",
            "at com.foo.Bar(Bar.java:12)",
            r#"a=1 msg="unterminated"#,
            r#"a=1 b="x"y"#,
            "=1 b=2",
            "",
        ] {
            assert!(parse_logfmt(bad).is_none(), "{bad}");
        }
    }
}
