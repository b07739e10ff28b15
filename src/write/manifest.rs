//! The manifest: the list of files cascade wrote into a folder, each with its size and
//! CRC-32, kept in the folder. A file is cascade's to replace or remove only when the
//! manifest lists it and it is unchanged since (an edited postmortem is the user's now).

use std::io::Read as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::paths;

/// The manifest's name inside an output folder.
pub const MANIFEST_NAME: &str = ".cascade-manifest.json";
const SCHEMA: &str = "cascade.manifest/v1";

/// One file cascade wrote, by its path inside the folder (`/`-separated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub bytes: u64,
    pub crc32: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Document {
    schema: String,
    files: Vec<Entry>,
}

/// What a path in the folder is to cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// Nothing is there.
    Free,
    /// cascade wrote it and it is unchanged: may be replaced or removed.
    Cascade,
    /// cascade wrote it but it changed since.
    Changed,
    /// Not in the manifest.
    Other,
}

/// The files of a folder's manifest (empty when there is none).
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub entries: Vec<Entry>,
}

impl Manifest {
    /// Reads `dir`'s manifest; a manifest that is a link or not cascade's is an error.
    pub fn load(dir: &Path) -> Result<Manifest> {
        let path = dir.join(MANIFEST_NAME);
        if !paths::exists(&path) {
            return Ok(Manifest::default());
        }
        if !std::fs::symlink_metadata(&path)?.is_file() {
            bail!(
                "{} is not a file cascade wrote (a link or a folder); remove it",
                path.display()
            );
        }
        let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        let doc: Document = serde_json::from_slice(&text)
            .ok()
            .filter(|d: &Document| d.schema == SCHEMA)
            .with_context(|| format!("{} is not a cascade manifest; remove it", path.display()))?;
        Ok(Manifest { entries: doc.files })
    }

    /// The manifest as file content (sorted by path: the same files, the same bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut files = self.entries.clone();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files.dedup();
        let doc = Document {
            schema: SCHEMA.into(),
            files,
        };
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text.into_bytes()
    }

    /// Whose `dir/rel` is.
    pub fn owner(&self, dir: &Path, rel: &str) -> Result<Owner> {
        let path = dir.join(rel);
        if !paths::exists(&path) {
            return Ok(Owner::Free);
        }
        let listed: Vec<&Entry> = self.entries.iter().filter(|e| e.path == rel).collect();
        if listed.is_empty() {
            return Ok(Owner::Other);
        }
        let meta = std::fs::symlink_metadata(&path)?;
        if !meta.is_file() {
            return Ok(Owner::Changed);
        }
        let bytes = meta.len();
        if !listed.iter().any(|e| e.bytes == bytes) {
            return Ok(Owner::Changed);
        }
        let crc = fingerprint(&path)?.1;
        Ok(
            if listed.iter().any(|e| e.bytes == bytes && e.crc32 == crc) {
                Owner::Cascade
            } else {
                Owner::Changed
            },
        )
    }
}

/// Size and CRC-32 of a file (read in 1 MiB blocks).
pub fn fingerprint(path: &Path) -> Result<(u64, u32)> {
    let mut f = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut crc = flate2::Crc::new();
    let mut buf = vec![0u8; 1 << 20];
    // Counted here: the CRC's own count is 32 bits.
    let mut total = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        crc.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, crc.sum()))
}

/// Size and CRC-32 of bytes about to be written.
pub fn fingerprint_bytes(bytes: &[u8]) -> (u64, u32) {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    (bytes.len() as u64, crc.sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_file_is_cascades_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "one").unwrap();
        std::fs::write(dir.path().join("mine.txt"), "x").unwrap();
        let (bytes, crc32) = fingerprint_bytes(b"one");
        assert_eq!(
            fingerprint(&dir.path().join("a.txt")).unwrap(),
            (bytes, crc32)
        );
        let m = Manifest {
            entries: vec![Entry {
                path: "a.txt".into(),
                bytes,
                crc32,
            }],
        };
        std::fs::write(dir.path().join(MANIFEST_NAME), m.to_bytes()).unwrap();
        let m = Manifest::load(dir.path()).unwrap();
        assert_eq!(m.owner(dir.path(), "a.txt").unwrap(), Owner::Cascade);
        assert_eq!(m.owner(dir.path(), "mine.txt").unwrap(), Owner::Other);
        assert_eq!(m.owner(dir.path(), "none.txt").unwrap(), Owner::Free);
        std::fs::write(dir.path().join("a.txt"), "two").unwrap();
        assert_eq!(m.owner(dir.path(), "a.txt").unwrap(), Owner::Changed);
    }

    #[test]
    fn a_foreign_file_named_like_the_manifest_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_NAME), "my notes").unwrap();
        let err = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("is not a cascade manifest"), "{err}");
    }
}
