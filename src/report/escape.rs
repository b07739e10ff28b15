//! Escaping of untrusted text (span names, services, messages) for HTML, Markdown, CSV and
//! JSON: whatever the telemetry holds, it shows as text and never as markup, a formula or a
//! reordering of the text around it.

/// True for the invisible characters that reorder the text displayed after them
/// (embeddings, overrides, isolates and marks): a name holding one can make the rest of a
/// line read backwards, so they are never written as they are.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c if is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Makes text safe inside a Markdown paragraph or table cell: markup characters are
/// backslash-escaped, HTML is neutralised and line breaks become spaces.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// One CSV cell. A cell a spreadsheet would read as a formula (it starts with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading single quote, so it shows as text; a cell
/// holding a comma, quote or line break is quoted.
pub fn csv(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let cell = if formula {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if formula || cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell
    }
}

/// Serialised JSON with the characters a JSON encoder leaves raw but a terminal or an editor
/// acts on (DEL, the C1 controls, bidirectional controls, the Unicode line and paragraph
/// separators) written as `\uXXXX` escapes: the parsed values are unchanged.
pub fn json(text: String) -> String {
    let needs = |c: char| {
        c == '\u{7F}'
            || ('\u{80}'..='\u{9F}').contains(&c)
            || is_bidi_control(c)
            || matches!(c, '\u{2028}' | '\u{2029}')
    };
    if !text.chars().any(needs) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A value as pretty JSON, neutralised by [`json`].
pub fn json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    serde_json::to_string_pretty(value).map(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_tags_become_text() {
        assert_eq!(
            html("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }

    #[test]
    fn markdown_markup_is_neutralised() {
        assert_eq!(markdown("a|b *c* <b>\nd"), "a\\|b \\*c\\* &lt;b&gt; d");
        assert_eq!(markdown("[x](javascript:1)"), "\\[x\\](javascript:1)");
    }

    #[test]
    fn bidi_overrides_never_reach_html_or_markdown() {
        let name = "evil\u{202E}gnp.exe\u{2066}x\u{200F}\u{061C}";
        for out in [html(name), markdown(name)] {
            assert!(!out.chars().any(is_bidi_control), "{out:?}");
            assert!(out.starts_with("evil\u{FFFD}gnp.exe"), "{out:?}");
        }
        assert_eq!(html("\u{1b}[2J"), "\u{FFFD}[2J");
    }

    #[test]
    fn csv_cells_cannot_start_a_formula() {
        assert_eq!(
            csv("=HYPERLINK(\"http://x\",\"y\")"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        for bad in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "=1"] {
            let cell = csv(bad);
            assert!(cell.starts_with("\"'"), "{bad:?} → {cell:?}");
        }
        assert_eq!(csv("web"), "web");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("a=b"), "a=b", "only the first character matters");
    }

    #[test]
    fn json_escapes_what_encoders_leave_raw_and_keeps_the_value() {
        let name = "a\u{202E}b\u{7F}c\u{9B}d\u{2028}e\u{1b}";
        let text = json_pretty(&serde_json::json!({ "name": name })).unwrap();
        assert!(text.is_ascii(), "{text}");
        assert!(
            text.contains("\\u202e") && text.contains("\\u001b"),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["name"], name);
        let plain = "{\"a\": \"é→x\"}".to_string();
        assert_eq!(json(plain.clone()), plain, "other text is left alone");
    }
}
