//! The cursor takes what serde_json takes, with the same values, or gives up.

use super::*;

fn skips(json: &str) -> bool {
    let mut c = Cursor::new(json);
    c.skip().and_then(|()| c.end()).is_ok()
}

fn serde_takes(json: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(json).is_ok()
}

#[test]
fn never_takes_what_serde_refuses() {
    let cases = [
        "{}",
        "[]",
        r#"{"a":[1,2,{"b":null}],"c":true,"d":false}"#,
        r#"{"a":1,}"#,
        "[1,]",
        "[01]",
        "[-]",
        "[1.]",
        "[1e]",
        "[.5]",
        "[+1]",
        "[1.5e-3, -0, -0.0, 1E+2]",
        "[tru]",
        "[nul]",
        "{\"a\":\"x\u{1}y\"}",
        r#"["\x"]"#,
        r#"["\ud800"]"#,
        r#"["\ud83d\ude00"]"#,
        r#"["\u00e9\n\t\"\\\/"]"#,
        r#"{"a" 1}"#,
        r#"{a:1}"#,
        "[1] x",
        "",
        "[",
        r#"["unterminated]"#,
        &"[".repeat(200),
        &format!("{}{}", "[".repeat(50), "]".repeat(50)),
    ];
    for json in cases {
        if skips(json) {
            assert!(
                serde_takes(json),
                "cursor took what serde refuses: {json:?}"
            );
        }
    }
    // The common shapes are taken, not just refused.
    for json in ["{}", "[1.5e-3, -0, -0.0, 1E+2]", r#"["\ud83d\ude00"]"#] {
        assert!(skips(json), "{json:?}");
    }
}

#[test]
fn strings_borrow_without_escapes_and_decode_like_serde() {
    for json in [
        r#""plain""#,
        r#""caf\u00e9 \"q\" \\ \/ \b\f\n\r\t""#,
        r#""\ud83d\ude00 smile""#,
        "\"long enough to take the eight byte path: héllo wörld, and then some\"",
    ] {
        let mut c = Cursor::new(json);
        let got = c.string().unwrap();
        let want: String = serde_json::from_str(json).unwrap();
        assert_eq!(got, want);
        assert_eq!(matches!(got, Cow::Borrowed(_)), !json.contains('\\'));
    }
}

#[test]
fn numbers_come_as_serde_would_hand_them() {
    fn num(s: &str) -> Res<Num<'_>> {
        Cursor::new(s).number()
    }
    assert_eq!(num("0"), Ok(Num::U64(0)));
    assert_eq!(
        num("1717243200005667160"),
        Ok(Num::U64(1717243200005667160))
    );
    assert_eq!(num("18446744073709551615"), Ok(Num::U64(u64::MAX)));
    assert_eq!(num("-42"), Ok(Num::I64(-42)));
    assert_eq!(num("-9223372036854775808"), Ok(Num::I64(i64::MIN)));
    assert_eq!(num("-0"), Ok(Num::Float("-0")));
    assert_eq!(
        num("18446744073709551616"),
        Ok(Num::Float("18446744073709551616"))
    );
    assert_eq!(num("1.5e3").and_then(Num::to_f64), Ok(1500.0));
    assert_eq!(num("01"), Err(Bail));
    assert_eq!(num("1e999").and_then(Num::to_f64), Err(Bail));
}

#[test]
fn objects_hand_over_keys_and_refuse_escaped_ones() {
    let mut keys = Vec::new();
    let mut c = Cursor::new(r#" { "a" : 1 , "b":[true] } "#);
    c.object(|c, k| {
        keys.push(k);
        c.skip()
    })
    .unwrap();
    assert_eq!(keys, ["a", "b"]);
    let mut c = Cursor::new(r#"{"a\u0062":1}"#);
    assert_eq!(c.object(|c, _| c.skip()), Err(Bail));
}

#[test]
fn special_bytes_are_found_at_every_offset() {
    for len in 0..24 {
        for special in [b'"', b'\\', 0x1f] {
            let mut bytes = vec![b'a'; len];
            bytes.push(special);
            bytes.extend_from_slice(b"zzzzzzzzzz\"");
            assert_eq!(special_from(&bytes, 0), Some(len));
        }
    }
    assert_eq!(special_from("ééééé".as_bytes(), 0), None);
}
