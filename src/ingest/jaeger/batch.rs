//! Arrays of raw JSON values (spans left unparsed) cut into groups of about
//! `GROUP_BYTES` (2 MB) of input, so groups parse in parallel whatever the file's shape: many small
//! traces share a group, one big trace is split over several. Groups are cut by bytes, never
//! by thread count, and merged in input order. Every value knows the line it starts on.

use serde_json::value::RawValue;

use crate::ingest::otlp::parse::GROUP_BYTES;

/// Line numbers of values inside one input, counted forward from a known position.
pub struct Lines<'b> {
    bytes: &'b [u8],
    pos: usize,
    line: usize,
}

impl<'b> Lines<'b> {
    /// Counting from the start of `bytes` (line 1).
    pub fn new(bytes: &'b [u8]) -> Self {
        Lines {
            bytes,
            pos: 0,
            line: 1,
        }
    }

    /// Counting from `at` (a slice of `bytes`), which starts on `line`.
    pub fn at(bytes: &'b [u8], at: &[u8], line: usize) -> Self {
        let pos = (at.as_ptr() as usize)
            .saturating_sub(bytes.as_ptr() as usize)
            .min(bytes.len());
        Lines { bytes, pos, line }
    }

    /// The line `raw` starts on. `raw` must borrow from `bytes`; values asked for out of
    /// document order get the last line counted (never a panic).
    pub fn of(&mut self, raw: &RawValue) -> usize {
        self.of_bytes(raw.get().as_bytes())
    }

    /// The line a slice of `bytes` starts on (see [`Lines::of`]).
    pub fn of_bytes(&mut self, at: &[u8]) -> usize {
        let offset = (at.as_ptr() as usize)
            .saturating_sub(self.bytes.as_ptr() as usize)
            .min(self.bytes.len());
        if offset > self.pos {
            let between = self.bytes.get(self.pos..offset).unwrap_or_default();
            self.line += memchr::memchr_iter(b'\n', between).count();
            self.pos = offset;
        }
        self.line
    }

    /// A counter that resumes where this one stands.
    pub fn fork(&self) -> Lines<'b> {
        Lines {
            bytes: self.bytes,
            pos: self.pos,
            line: self.line,
        }
    }
}

/// Raw values sharing one context (a Jaeger trace's `processes`; nothing for Zipkin).
pub type Piece<'r, 'a, C> = (&'r C, &'r [&'a RawValue]);

/// One parallel task: pieces in document order, and a line counter at its first value.
pub struct Group<'r, 'a, 'b, C> {
    pub pieces: Vec<Piece<'r, 'a, C>>,
    pub lines: Lines<'b>,
    pub bytes: usize,
}

/// Cuts `pieces` (in document order, borrowing from `input`) into groups of about
/// `GROUP_BYTES` (2 MB); a piece larger than that is split.
pub fn group<'r, 'a, 'b, C>(
    input: &'b [u8],
    pieces: impl IntoIterator<Item = Piece<'r, 'a, C>>,
) -> Vec<Group<'r, 'a, 'b, C>> {
    let mut lines = Lines::new(input);
    let mut groups: Vec<Group<'r, 'a, 'b, C>> = Vec::new();
    let mut open: Option<Group<'r, 'a, 'b, C>> = None;
    for (ctx, values) in pieces {
        let mut start = 0usize;
        for (i, raw) in values.iter().enumerate() {
            let g = open.get_or_insert_with(|| {
                lines.of(raw);
                Group {
                    pieces: Vec::new(),
                    lines: lines.fork(),
                    bytes: 0,
                }
            });
            g.bytes += raw.get().len();
            if g.bytes >= GROUP_BYTES {
                g.pieces
                    .push((ctx, values.get(start..=i).unwrap_or_default()));
                start = i + 1;
                groups.extend(open.take());
            }
        }
        if let (Some(g), Some(rest)) = (open.as_mut(), values.get(start..)) {
            if !rest.is_empty() {
                g.pieces.push((ctx, rest));
            }
        }
    }
    groups.extend(open);
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_know_their_lines_and_groups_keep_order() {
        let text = "[\n{\"a\":1},\n{\"b\":2},\n\n{\"c\":3}\n]";
        let values: Vec<&RawValue> = serde_json::from_str(text).unwrap();
        let groups = group(text.as_bytes(), [(&(), values.as_slice())]);
        assert_eq!(groups.len(), 1);
        let mut lines = groups[0].lines.fork();
        let got: Vec<usize> = values.iter().map(|v| lines.of(v)).collect();
        assert_eq!(got, vec![2, 3, 5]);
        assert_eq!(groups[0].pieces[0].1.len(), 3);
    }

    #[test]
    fn a_big_piece_is_split_by_bytes() {
        let one = format!("{{\"s\":\"{}\"}}", "x".repeat(GROUP_BYTES / 2));
        let text = format!("[{one},{one},{one},{one},{one}]");
        let values: Vec<&RawValue> = serde_json::from_str(&text).unwrap();
        let groups = group(text.as_bytes(), [(&(), values.as_slice())]);
        let sizes: Vec<usize> = groups.iter().map(|g| g.pieces[0].1.len()).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
    }
}
