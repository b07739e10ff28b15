//! A strict JSON cursor over one in-memory document, for the hot ingest paths: it takes
//! exactly what serde_json takes and reads it the same way, or gives up ([`Bail`]) so the
//! caller can parse the same bytes with serde_json, which then decides (and words any error).
//!
//! It never allocates for keys or for strings without escapes, and walks objects and arrays
//! through callbacks, so a format reader is a few `match`es on key names. It gives up on
//! anything it does not read exactly as serde_json would: keys written with escapes, lone
//! surrogates, numbers that are not plain integers (they are handed back as text for serde
//! to convert), nesting deeper than serde's limit allows.

use std::borrow::Cow;

/// The cursor gave up: parse these bytes with serde_json instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bail;

pub type Res<T> = Result<T, Bail>;

/// Deepest nesting taken (serde_json stops at 128).
const MAX_DEPTH: u32 = 100;

/// A JSON number as serde_json would hand it to a visitor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num<'a> {
    U64(u64),
    I64(i64),
    /// A number serde_json reads as `f64` (fraction, exponent, `-0`, beyond 64 bits): the
    /// token, checked against the JSON grammar; [`Num::to_f64`] converts it like serde.
    Float(&'a str),
}

impl Num<'_> {
    /// The value as serde_json's `f64` visitors see it.
    pub fn to_f64(self) -> Res<f64> {
        match self {
            Num::U64(v) => Ok(v as f64),
            Num::I64(v) => Ok(v as f64),
            Num::Float(tok) => serde_json::from_str::<f64>(tok).map_err(|_| Bail),
        }
    }
}

/// A position to come back to.
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    pos: usize,
    depth: u32,
}

/// Position in one JSON document.
pub struct Cursor<'a> {
    src: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Cursor<'a> {
    pub fn new(src: &'a str) -> Self {
        Cursor {
            src,
            pos: 0,
            depth: 0,
        }
    }

    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    /// The next byte after whitespace, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        let bytes = self.bytes();
        while let Some(&b) = bytes.get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(b);
            }
            self.pos += 1;
        }
        None
    }

    /// Consumes `b` (after whitespace) or gives up.
    fn eat(&mut self, b: u8) -> Res<()> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Consumes `word` if the input continues with exactly it (no whitespace skipped): a
    /// reader's shortcut for the compact form exporters write, tried before the general walk.
    pub fn lit(&mut self, word: &[u8]) -> bool {
        let end = self.pos + word.len();
        let hit = self.bytes().get(self.pos..end) == Some(word);
        if hit {
            self.pos = end;
        }
        hit
    }

    /// Where the cursor is, to come back to with [`Cursor::reset`] when a shortcut fails.
    pub fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            depth: self.depth,
        }
    }

    /// Back to a [`Cursor::mark`] (also out of any object or array entered since).
    pub fn reset(&mut self, mark: Mark) {
        self.pos = mark.pos;
        self.depth = mark.depth;
    }

    /// The input from a [`Cursor::mark`] to here.
    pub fn since(&self, mark: Mark) -> &'a str {
        self.src.get(mark.pos..self.pos).unwrap_or_default()
    }

    /// The input from a [`Cursor::mark`] to its end.
    pub fn rest_from(&self, mark: Mark) -> &'a str {
        self.src.get(mark.pos..).unwrap_or_default()
    }

    /// Only whitespace is left.
    pub fn end(&mut self) -> Res<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(Bail),
        }
    }

    /// Consumes `null` if it comes next.
    pub fn null(&mut self) -> Res<bool> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal(b"null")?;
        Ok(true)
    }

    fn literal(&mut self, word: &[u8]) -> Res<()> {
        let end = self.pos + word.len();
        if self.bytes().get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// A `true` or `false`.
    pub fn boolean(&mut self) -> Res<bool> {
        match self.peek() {
            Some(b't') => self.literal(b"true").map(|()| true),
            Some(b'f') => self.literal(b"false").map(|()| false),
            _ => Err(Bail),
        }
    }

    fn enter(&mut self, open: u8) -> Res<()> {
        self.eat(open)?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    /// Walks an object: `each` gets every key (borrowed; a key with escapes gives up) and
    /// must consume its value.
    pub fn object(&mut self, mut each: impl FnMut(&mut Self, &'a str) -> Res<()>) -> Res<()> {
        self.enter(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(Bail);
            }
            let key = match self.string()? {
                Cow::Borrowed(k) => k,
                Cow::Owned(_) => return Err(Bail),
            };
            self.eat(b':')?;
            each(self, key)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => break,
                _ => return Err(Bail),
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(())
    }

    /// Walks an array: `each` must consume one element per call.
    pub fn array(&mut self, mut each: impl FnMut(&mut Self) -> Res<()>) -> Res<()> {
        self.enter(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            each(self)?;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => break,
                _ => return Err(Bail),
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(())
    }

    /// A string: borrowed from the input when it has no escapes, decoded otherwise.
    pub fn string(&mut self) -> Res<Cow<'a, str>> {
        if self.peek() != Some(b'"') {
            return Err(Bail);
        }
        let start = self.pos + 1;
        let stop = special_from(self.bytes(), start).ok_or(Bail)?;
        // `special_from` only returns the index of a byte it found, so this cannot fail; a
        // checked `get` here measured 2–3 % slower on the whole ingest.
        match self.bytes()[stop] {
            b'"' => {
                self.pos = stop + 1;
                self.src.get(start..stop).map(Cow::Borrowed).ok_or(Bail)
            }
            b'\\' => {
                let mut out = String::from(self.src.get(start..stop).ok_or(Bail)?);
                self.pos = stop;
                self.decode_rest(&mut out)?;
                Ok(Cow::Owned(out))
            }
            _ => Err(Bail),
        }
    }

    /// Decodes from an escape at `self.pos` to the closing quote, appending to `out`.
    fn decode_rest(&mut self, out: &mut String) -> Res<()> {
        loop {
            let stop = special_from(self.bytes(), self.pos).ok_or(Bail)?;
            out.push_str(self.src.get(self.pos..stop).ok_or(Bail)?);
            self.pos = stop + 1;
            match self.bytes()[stop] {
                b'"' => return Ok(()),
                b'\\' => self.escape(out)?,
                _ => return Err(Bail),
            }
        }
    }

    /// One escape after its backslash.
    fn escape(&mut self, out: &mut String) -> Res<()> {
        let b = *self.bytes().get(self.pos).ok_or(Bail)?;
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => self.unicode()?,
            _ => return Err(Bail),
        };
        out.push(c);
        Ok(())
    }

    /// `\uXXXX` (after the `u`), a surrogate pair taken whole; a lone surrogate gives up.
    fn unicode(&mut self) -> Res<char> {
        let hi = self.hex4()?;
        if !(0xD800..0xE000).contains(&hi) {
            return char::from_u32(hi).ok_or(Bail);
        }
        if hi >= 0xDC00 || self.bytes().get(self.pos..self.pos + 2) != Some(b"\\u") {
            return Err(Bail);
        }
        self.pos += 2;
        let lo = self.hex4()?;
        if !(0xDC00..0xE000).contains(&lo) {
            return Err(Bail);
        }
        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)).ok_or(Bail)
    }

    fn hex4(&mut self) -> Res<u32> {
        let digits = self.bytes().get(self.pos..self.pos + 4).ok_or(Bail)?;
        let mut v = 0u32;
        for &d in digits {
            v = v * 16 + (d as char).to_digit(16).ok_or(Bail)?;
        }
        self.pos += 4;
        Ok(v)
    }

    /// A number, read as serde_json reads it.
    pub fn number(&mut self) -> Res<Num<'a>> {
        self.peek();
        let bytes = self.bytes();
        let start = self.pos;
        let negative = bytes.get(start) == Some(&b'-');
        let digits_from = start + usize::from(negative);
        let mut i = digits_from;
        let mut value: Option<u64> = Some(0);
        match bytes.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                while let Some(&d @ b'0'..=b'9') = bytes.get(i) {
                    value = value
                        .and_then(|v| v.checked_mul(10))
                        .and_then(|v| v.checked_add(u64::from(d - b'0')));
                    i += 1;
                }
            }
            _ => return Err(Bail),
        }
        let whole = i;
        if bytes.get(i) == Some(&b'.') {
            i = digits(bytes, i + 1)?;
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            i = digits(bytes, i)?;
        }
        if matches!(bytes.get(i), Some(b'0'..=b'9')) {
            return Err(Bail); // a leading zero ("01")
        }
        self.pos = i;
        let token = self.src.get(start..i).ok_or(Bail)?;
        if i != whole {
            return Ok(Num::Float(token));
        }
        Ok(match (negative, value) {
            (false, Some(v)) => Num::U64(v),
            (true, Some(v)) if v != 0 && v <= 1 << 63 => Num::I64((v as i64).wrapping_neg()),
            _ => Num::Float(token),
        })
    }

    /// Skips any value, checking it as strictly as serde_json's `IgnoredAny` does.
    pub fn skip(&mut self) -> Res<()> {
        match self.peek().ok_or(Bail)? {
            b'{' => self.object(|c, _| c.skip()),
            b'[' => self.array(Self::skip),
            b'"' => self.string().map(drop),
            b't' | b'f' => self.boolean().map(drop),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }
}

/// One or more digits from `i`; the index after them.
fn digits(bytes: &[u8], mut i: usize) -> Res<usize> {
    let first = i;
    while matches!(bytes.get(i), Some(b'0'..=b'9')) {
        i += 1;
    }
    if i == first {
        Err(Bail)
    } else {
        Ok(i)
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `w` that is a `"`, a `\` or a control byte. Borrows can
/// flag a byte above a true hit, never below one, so the lowest flag is exact.
fn special_bits(w: u64) -> u64 {
    let quote = w ^ (LO * u64::from(b'"'));
    let slash = w ^ (LO * u64::from(b'\\'));
    let zero = |x: u64| x.wrapping_sub(LO) & !x;
    let control = w.wrapping_sub(LO * 0x20) & !w;
    (zero(quote) | zero(slash) | control) & HI
}

/// The first `"`, `\` or control byte at or after `from`, 8 bytes at a time.
fn special_from(bytes: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let bits = special_bits(word);
        if bits != 0 {
            return Some(i + (bits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let rest = bytes.get(i..)?;
    rest.iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|p| i + p)
}

#[cfg(test)]
#[path = "cursor_tests.rs"]
mod tests;
