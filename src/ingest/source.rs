//! Input sources: expand files and folders, read stdin, and undo gzip or zstd compression.
//!
//! Compression is detected from the first bytes, never from the file name:
//! gzip (`1f 8b`, multi-member), a plain zstd stream (`28 b5 2f fd`, one or more frames), and
//! the OpenTelemetry Collector file exporter's zstd framing (a 4-byte big-endian length, then a
//! zstd frame, per record; each record becomes one line). A compressed input that is cut off
//! or corrupt is read up to the damage and past it where the format allows; the damage is
//! logged in [`Opened::damage`], never an error.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use super::damage::DamageLog;
use super::gzip::SalvageGz;
use super::zstd::{self, MAGIC as ZSTD_MAGIC};

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How an input was compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    /// Collector file exporter: length-prefixed zstd records.
    ZstdFramed,
}

impl Compression {
    /// The name `inspect`'s text shows (`none` is `plain` there).
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "plain",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
            Compression::ZstdFramed => "zstd records",
        }
    }
}

/// One input after expansion: a file path, or stdin.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

impl Input {
    /// How the input is named in messages (`-` for stdin).
    pub fn label(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "-".to_string(),
        }
    }
}

/// Expands the command-line inputs: folders recursively (sorted, hidden entries skipped),
/// `-` as stdin. A path that does not exist is an error naming it.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input::Stdin);
        } else if p.is_dir() {
            let mut files = Vec::new();
            walk(p, &mut files).with_context(|| format!("reading folder {}", p.display()))?;
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else if p.is_file() {
            out.push(Input::File(p.clone()));
        } else {
            bail!("{}: no such file or folder", p.display());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// A decompressed byte stream plus what it was compressed with.
pub struct Opened {
    pub reader: Box<dyn Read + Send>,
    pub compression: Compression,
    /// Where the compressed input was cut off or corrupt (filled while `reader` is read).
    pub damage: DamageLog,
}

/// Opens an input and undoes its compression.
pub fn open(input: &Input) -> Result<Opened> {
    open_with_progress(input, &indicatif::ProgressBar::hidden())
}

/// Opens an input and undoes its compression; `bar` advances by the bytes read from disk.
pub fn open_with_progress(input: &Input, bar: &indicatif::ProgressBar) -> Result<Opened> {
    let label = input.label();
    let mut raw: Box<dyn Read + Send> = match input {
        Input::File(p) => Box::new(bar.wrap_read(BufReader::with_capacity(
            1 << 20,
            File::open(p).with_context(|| format!("{label}: cannot open"))?,
        ))),
        Input::Stdin => Box::new(BufReader::new(std::io::stdin())),
    };
    let mut head = [0u8; 8];
    let n = read_up_to(&mut raw, &mut head).with_context(|| format!("{label}: cannot read"))?;
    let head = &head[..n];
    let rest: Box<dyn Read + Send> = Box::new(std::io::Cursor::new(head.to_vec()).chain(raw));
    let compression = sniff(head);
    let damage = DamageLog::default();
    let whole = |mut r: Box<dyn Read + Send>| -> Result<Vec<u8>> {
        let mut compressed = Vec::new();
        r.read_to_end(&mut compressed)
            .with_context(|| format!("{label}: cannot read"))?;
        Ok(compressed)
    };
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => rest,
        Compression::Gzip => Box::new(SalvageGz::new(rest, damage.clone())),
        Compression::Zstd => Box::new(std::io::Cursor::new(zstd::decode_stream(
            &whole(rest)?,
            &damage,
        ))),
        Compression::ZstdFramed => Box::new(std::io::Cursor::new(zstd::decode_framed(
            &whole(rest)?,
            &damage,
        ))),
    };
    Ok(Opened {
        reader,
        compression,
        damage,
    })
}

/// Bytes on disk of every file input (stdin counts 0): the length of a progress bar.
pub fn total_bytes(inputs: &[Input]) -> u64 {
    inputs
        .iter()
        .filter_map(|i| match i {
            Input::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Input::Stdin => None,
        })
        .sum()
}

/// Reads the whole decompressed input into memory.
pub fn read_all(input: &Input) -> Result<(Vec<u8>, Compression)> {
    let mut opened = open(input)?;
    let mut buf = Vec::new();
    opened
        .reader
        .read_to_end(&mut buf)
        .with_context(|| format!("{}: cannot read", input.label()))?;
    Ok((buf, opened.compression))
}

/// Which compression the first bytes announce.
pub fn sniff(head: &[u8]) -> Compression {
    if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else if head.len() >= 8 && head[4..8] == ZSTD_MAGIC {
        Compression::ZstdFramed
    } else {
        Compression::None
    }
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn read(bytes: Vec<u8>) -> (Vec<u8>, Compression) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in");
        std::fs::write(&path, bytes).unwrap();
        read_all(&Input::File(path)).unwrap()
    }

    #[test]
    fn plain_gzip_and_zstd_read_the_same() {
        let text = b"{\"a\":1}\n{\"b\":2}\n".to_vec();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        assert_eq!(read(text.clone()), (text.clone(), Compression::None));
        assert_eq!(
            read(gz.finish().unwrap()),
            (text.clone(), Compression::Gzip)
        );
        assert_eq!(read(zstd(&text)), (text.clone(), Compression::Zstd));
    }

    #[test]
    fn collector_framed_zstd_becomes_lines() {
        let mut framed = Vec::new();
        for rec in [&b"{\"a\":1}"[..], b"{\"b\":2}"] {
            let z = zstd(rec);
            framed.extend_from_slice(&(z.len() as u32).to_be_bytes());
            framed.extend_from_slice(&z);
        }
        let (out, c) = read(framed);
        assert_eq!(c, Compression::ZstdFramed);
        assert_eq!(out, b"{\"a\":1}\n{\"b\":2}\n");
    }

    #[test]
    fn truncated_gzip_is_read_up_to_the_cut_not_an_error() {
        let text = b"{\"a\":1}\n".repeat(2000);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).unwrap();
        let mut bytes = gz.finish().unwrap();
        bytes.truncate(bytes.len() / 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("in.gz");
        std::fs::write(&path, bytes).unwrap();
        let opened = open(&Input::File(path)).unwrap();
        let mut out = Vec::new();
        let mut reader = opened.reader;
        reader.read_to_end(&mut out).unwrap();
        assert!(out.len() > 100 && text.starts_with(out.strip_suffix(b"\n").unwrap()));
        assert_eq!(opened.damage.entries().len(), 1);
    }

    #[test]
    fn missing_path_is_named() {
        let err = expand(&[PathBuf::from("/no/such/thing")]).unwrap_err();
        assert!(err.to_string().contains("/no/such/thing"));
    }
}
