//! A gzip reader that reads up to the damage: members one after another, as `gunzip` does,
//! but a member that is cut off or corrupt ends with what it gave so far (its last,
//! partial line closed by a line break so the parser sees it alone), the damage is logged
//! with its compressed offset, and reading resumes at the next member header.

use std::io::{self, BufRead, Read};

use flate2::bufread::GzDecoder;

use super::damage::{Damage, DamageLog};

/// ID1, ID2 and the only compression method gzip defines (deflate): the start of a member.
const MEMBER_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
const UNIT: &str = "gzip member";
/// Compressed bytes buffered at a time.
const BUF_BYTES: usize = 256 << 10;

/// A buffered reader that counts the bytes its consumer took, and remembers a read error of
/// the file itself (which is passed on, never taken for damage).
struct Counted<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    consumed: u64,
    io_error: Option<io::ErrorKind>,
}

impl<R: Read> Counted<R> {
    fn new(inner: R) -> Self {
        Counted {
            inner,
            buf: vec![0; BUF_BYTES],
            start: 0,
            end: 0,
            consumed: 0,
            io_error: None,
        }
    }

    fn read_more(&mut self) -> io::Result<usize> {
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.io_error = Some(e.kind());
                    return Err(e);
                }
            }
        }
    }

    /// At least `n` buffered bytes (fewer only at the end of the input).
    fn fill_at_least(&mut self, n: usize) -> io::Result<&[u8]> {
        if self.end - self.start < n {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            while self.end < n && self.read_more()? > 0 {}
        }
        Ok(&self.buf[self.start..self.end])
    }
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let avail = self.fill_buf()?;
            let n = avail.len().min(out.len());
            out[..n].copy_from_slice(&avail[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            self.read_more()?;
        }
        Ok(&self.buf[self.start..self.end])
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.consumed += n as u64;
    }
}

enum State<R: Read> {
    /// Inside a member that has produced output (`true`) or not yet, and its offset (boxed:
    /// the decoder's state is large, and moved at every step).
    Member(Box<GzDecoder<Counted<R>>>, bool, u64),
    /// Between members: the next bytes are a member header or the end.
    Between(Counted<R>),
    /// After damage: looking for the next member header after the failed member's start.
    Scan(Counted<R>, u64),
    Done,
}

/// Decompresses gzip, reading past damage as far as the format allows.
pub struct SalvageGz<R: Read> {
    state: State<R>,
    log: DamageLog,
    /// The last byte handed out (a line break at the start).
    last: u8,
    /// A line break still to hand out after a member ended in damage.
    close_line: bool,
    /// The offset of the member a scan resumed at, while it has produced nothing: if it
    /// fails too, it was a false start and joins the damage before it.
    false_start: Option<u64>,
}

impl<R: Read> SalvageGz<R> {
    pub fn new(inner: R, log: DamageLog) -> Self {
        SalvageGz {
            state: State::Between(Counted::new(inner)),
            log,
            last: b'\n',
            close_line: false,
            false_start: None,
        }
    }

    /// A member starting at `start` failed at compressed offset `at`: log it from its start
    /// (a checksum failure is only found at its end; the whole member is suspect), or
    /// extend the damage a false start belongs to, and look for the next member.
    fn damaged(&mut self, src: Counted<R>, at: u64, produced: bool, start: u64) -> State<R> {
        if self.last != b'\n' {
            self.close_line = true;
        }
        match self.false_start.take() {
            Some(_) if !produced => self.log.amend_last(|d| d.resumed_at = None),
            _ => self.log.push(Damage {
                unit: UNIT,
                at: at.min(start),
                resumed_at: None,
                cut: false,
            }),
        }
        State::Scan(src, start)
    }

    /// The input ended inside a member at compressed offset `at`: log the cut, and close
    /// the partial line it left.
    fn cut(&mut self, at: u64) -> State<R> {
        if self.last != b'\n' {
            self.close_line = true;
        }
        self.log.push(Damage {
            unit: UNIT,
            at,
            resumed_at: None,
            cut: true,
        });
        State::Done
    }

    /// One step of the state machine; `Some(n)` when `out` got `n` bytes (0: the end).
    fn step(&mut self, out: &mut [u8]) -> io::Result<Option<usize>> {
        let state = std::mem::replace(&mut self.state, State::Done);
        self.state = match state {
            State::Done => return Ok(Some(0)),
            State::Member(mut dec, produced, start) => match dec.read(out) {
                Ok(0) => {
                    self.false_start = None;
                    State::Between((*dec).into_inner())
                }
                Ok(n) => {
                    self.last = out[n - 1];
                    self.false_start = None;
                    self.state = State::Member(dec, true, start);
                    return Ok(Some(n));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    State::Member(dec, produced, start)
                }
                Err(e) => {
                    let mut src = (*dec).into_inner();
                    if src.io_error.is_some() {
                        return Err(e);
                    }
                    let at = src.consumed;
                    let at_end = src.fill_at_least(1)?.is_empty();
                    if at_end && self.false_start.is_none() {
                        self.cut(at)
                    } else {
                        self.damaged(src, at, produced, start)
                    }
                }
            },
            State::Between(mut src) => {
                let head = src.fill_at_least(MEMBER_MAGIC.len())?;
                if head.is_empty() {
                    State::Done
                } else if head.starts_with(&MEMBER_MAGIC) {
                    let start = src.consumed;
                    State::Member(Box::new(GzDecoder::new(src)), false, start)
                } else if head.len() < MEMBER_MAGIC.len() && MEMBER_MAGIC.starts_with(head) {
                    let at = src.consumed;
                    self.cut(at)
                } else {
                    let at = src.consumed;
                    self.damaged(src, at, true, u64::MAX)
                }
            }
            State::Scan(mut src, failed) => match find_member(&mut src, failed)? {
                Some(at) => {
                    self.log.amend_last(|d| d.resumed_at = Some(at));
                    self.false_start = Some(at);
                    State::Member(Box::new(GzDecoder::new(src)), false, at)
                }
                None => State::Done,
            },
        };
        Ok(None)
    }
}

/// Consumes bytes up to the next member header; its offset, or `None` at the end.
fn find_member<R: Read>(src: &mut Counted<R>, failed: u64) -> io::Result<Option<u64>> {
    if src.consumed == failed {
        // Still at the header of the member that failed: step past it.
        src.fill_at_least(1)?;
        src.consume(1);
    }
    loop {
        let avail = src.fill_at_least(MEMBER_MAGIC.len())?;
        if avail.len() < MEMBER_MAGIC.len() {
            let n = avail.len();
            src.consume(n);
            return Ok(None);
        }
        match memchr::memmem::find(avail, &MEMBER_MAGIC) {
            Some(i) => {
                src.consume(i);
                return Ok(Some(src.consumed));
            }
            // Keep the last bytes: a header may straddle the buffer's end.
            None => {
                let n = avail.len() - (MEMBER_MAGIC.len() - 1);
                src.consume(n);
            }
        }
    }
}

impl<R: Read> Read for SalvageGz<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.close_line {
                self.close_line = false;
                self.last = b'\n';
                out[0] = b'\n';
                return Ok(1);
            }
            if let Some(n) = self.step(out)? {
                return Ok(n);
            }
        }
    }
}

#[cfg(test)]
#[path = "gzip_tests.rs"]
mod tests;
