//! Trace and span ids: hex in any case → lower-case hex; protobuf-style base64 → hex (noted).

/// Bytes in a trace id.
pub const TRACE_ID_BYTES: usize = 16;
/// Bytes in a span id.
pub const SPAN_ID_BYTES: usize = 8;
/// Longest hex id we write (a trace id).
const MAX_HEX: usize = 2 * TRACE_ID_BYTES;
const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// A normalised id: lower-case hex in a fixed buffer (no allocation per span).
#[derive(Clone, Copy)]
pub struct HexId {
    buf: [u8; MAX_HEX],
    len: usize,
}

impl HexId {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into `buf`.
        std::str::from_utf8(self.buf.get(..self.len).unwrap_or_default()).unwrap_or_default()
    }

    /// All zero bytes: the spec's "invalid id" (and some producers' "no parent").
    pub fn is_zero(&self) -> bool {
        let digits = self.buf.get(..self.len).unwrap_or_default();
        digits.iter().all(|&b| b == b'0')
    }
}

/// Why an id could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdError {
    Empty,
    OddLength,
    WrongLength,
    NotHex,
}

impl IdError {
    pub fn describe(self) -> &'static str {
        match self {
            IdError::Empty => "empty",
            IdError::OddLength => "odd-length",
            IdError::WrongLength => "wrong-length",
            IdError::NotHex => "non-hex",
        }
    }
}

/// A decoded id and whether it was base64.
#[derive(Clone, Copy)]
pub struct Parsed {
    pub id: HexId,
    pub was_base64: bool,
}

/// Reads an id of `n` bytes written as hex (any case) or as base64.
pub fn parse_id(text: &str, n: usize) -> Result<Parsed, IdError> {
    let raw = text.as_bytes();
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    if raw.len() == 2 * n {
        return hex_lower(raw)
            .map(|id| Parsed {
                id,
                was_base64: false,
            })
            .ok_or(IdError::NotHex);
    }
    if let Some(id) = base64_to_hex(raw, n) {
        return Ok(Parsed {
            id,
            was_base64: true,
        });
    }
    Err(if raw.len() % 2 == 1 {
        IdError::OddLength
    } else if raw.iter().all(u8::is_ascii_hexdigit) {
        IdError::WrongLength
    } else {
        IdError::NotHex
    })
}

/// Reads a hex id of at most `n` bytes as Jaeger and Zipkin write them: 64-bit trace ids
/// (16 hex digits) and ids whose leading zeros were dropped are left-padded with zeros to
/// `2 n` digits, as Jaeger's `TraceIDFromString` / `SpanIDFromString` do. Hex only.
pub fn parse_hex_padded(text: &str, n: usize) -> Result<HexId, IdError> {
    let raw = text.as_bytes();
    if raw.is_empty() {
        return Err(IdError::Empty);
    }
    let width = 2 * n;
    if raw.len() > MAX_HEX || width > MAX_HEX {
        // Too long whatever it holds; say first whether it is hex at all.
        let hex = raw.iter().all(u8::is_ascii_hexdigit);
        return Err(if hex {
            IdError::WrongLength
        } else {
            IdError::NotHex
        });
    }
    let digits = hex_lower(raw).ok_or(IdError::NotHex)?;
    let pad = width.checked_sub(raw.len()).ok_or(IdError::WrongLength)?;
    let mut id = HexId {
        buf: [b'0'; MAX_HEX],
        len: width,
    };
    for (slot, b) in id.buf.iter_mut().skip(pad).zip(digits.as_str().as_bytes()) {
        *slot = *b;
    }
    Ok(id)
}

/// Hex digits in any case, lower-cased; `None` if one is not a hex digit. Checks every byte
/// without branching so the loop stays cheap (three ids per span).
fn hex_lower(raw: &[u8]) -> Option<HexId> {
    let mut id = HexId {
        buf: [0; MAX_HEX],
        len: raw.len(),
    };
    let mut bad = raw.len() > MAX_HEX;
    for (slot, &b) in id.buf.iter_mut().zip(raw) {
        // Setting bit 0x20 lower-cases an ASCII letter and leaves the digits as they are.
        let lower = b | 0x20;
        let digit = b.wrapping_sub(b'0') < 10;
        let letter = lower.wrapping_sub(b'a') < 6;
        bad |= !(digit | letter);
        *slot = lower;
    }
    (!bad).then_some(id)
}

/// Base64 (standard or URL alphabet, padded or not) of exactly `n` bytes, as hex.
fn base64_to_hex(raw: &[u8], n: usize) -> Option<HexId> {
    let body = raw
        .strip_suffix(b"==")
        .or_else(|| raw.strip_suffix(b"="))
        .unwrap_or(raw);
    if body.len() != (n * 4).div_ceil(3) || n > TRACE_ID_BYTES {
        return None;
    }
    let mut bytes = [0u8; TRACE_ID_BYTES];
    let (mut acc, mut bits, mut out) = (0u32, 0u32, 0usize);
    for &c in body {
        acc = (acc << 6) | u32::from(sextet(c)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *bytes.get_mut(out)? = (acc >> bits) as u8;
            out += 1;
        }
    }
    (out == n).then(|| to_hex(bytes.get(..n).unwrap_or_default()))
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

fn to_hex(bytes: &[u8]) -> HexId {
    let mut id = HexId {
        buf: [0; MAX_HEX],
        len: 2 * bytes.len(),
    };
    for (pair, b) in id.buf.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX_DIGITS[usize::from(b >> 4)];
        pair[1] = HEX_DIGITS[usize::from(b & 0xf)];
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str, n: usize) -> (String, bool) {
        let p = parse_id(text, n).unwrap();
        (p.id.as_str().to_string(), p.was_base64)
    }

    #[test]
    fn hex_any_case_becomes_lower() {
        let (id, b64) = ok("5B8EFFF798038103D269B633813FC60C", TRACE_ID_BYTES);
        assert_eq!(id, "5b8efff798038103d269b633813fc60c");
        assert!(!b64);
    }

    #[test]
    fn base64_ids_become_hex() {
        // From the collector-contrib invalid-trace sample (protojson of a Go SDK span).
        assert_eq!(
            ok("inmyB8/qrDAAP6cV5ZFR9A==", TRACE_ID_BYTES),
            ("8a79b207cfeaac30003fa715e59151f4".to_string(), true)
        );
        assert_eq!(
            ok("FcpNz02EdAs=", SPAN_ID_BYTES),
            ("15ca4dcf4d84740b".to_string(), true)
        );
    }

    #[test]
    fn short_hex_ids_are_left_padded() {
        let pad = |t: &str, n| parse_hex_padded(t, n).map(|id| id.as_str().to_string());
        assert_eq!(
            pad("1E223FF1F80F1C69", TRACE_ID_BYTES).unwrap(),
            "00000000000000001e223ff1f80f1c69"
        );
        assert_eq!(pad("abc", SPAN_ID_BYTES).unwrap(), "0000000000000abc");
        assert_eq!(pad("", SPAN_ID_BYTES).err(), Some(IdError::Empty));
        assert_eq!(pad("0g", SPAN_ID_BYTES).err(), Some(IdError::NotHex));
        assert_eq!(
            pad("00000000000000001", SPAN_ID_BYTES).err(),
            Some(IdError::WrongLength)
        );
        let long = "a".repeat(40);
        assert_eq!(pad(&long, TRACE_ID_BYTES).err(), Some(IdError::WrongLength));
        let long_bad = "g".repeat(40);
        assert_eq!(pad(&long_bad, TRACE_ID_BYTES).err(), Some(IdError::NotHex));
        assert_eq!(pad("0x12", SPAN_ID_BYTES).err(), Some(IdError::NotHex));
    }

    #[test]
    fn hex_check_takes_exactly_the_hex_digits() {
        for b in 0..=255u8 {
            let text = [b; 16];
            let got = std::str::from_utf8(&text)
                .ok()
                .map(|t| parse_id(t, SPAN_ID_BYTES));
            let Some(got) = got else { continue };
            if b.is_ascii_hexdigit() {
                let want = String::from(char::from(b.to_ascii_lowercase())).repeat(16);
                assert_eq!(got.map(|p| p.id.as_str().to_string()), Ok(want));
            } else {
                assert!(got.is_err(), "{b}");
            }
        }
    }

    #[test]
    fn bad_ids_say_why() {
        assert_eq!(parse_id("", 8).err(), Some(IdError::Empty));
        assert_eq!(
            parse_id("000000000000001", 8).err(),
            Some(IdError::OddLength)
        );
        assert_eq!(parse_id("000000000000000G", 8).err(), Some(IdError::NotHex));
        assert_eq!(parse_id("1234", 8).err(), Some(IdError::WrongLength));
        assert!(parse_id("0000000000000000", 8).unwrap().id.is_zero());
    }
}
