//! The report folder: everything is written into a staging folder beside the target and
//! renamed into place at the end, so an interrupted run never leaves half a report.
//!
//! File names inside the folder are fixed by the report module (never built from span data).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// A report being written.
pub struct Staging {
    target: PathBuf,
    staging: PathBuf,
}

impl Staging {
    /// Checks `target` may be written (missing, empty, or `force`) and creates the staging
    /// folder beside it.
    pub fn begin(target: &Path, force: bool) -> Result<Staging> {
        if target.exists() && !force && !is_empty_dir(target)? {
            bail!(
                "{} exists and is not empty; pass --force to replace it",
                target.display()
            );
        }
        if target.exists() && !target.is_dir() {
            bail!("{} exists and is not a folder", target.display());
        }
        let staging = sibling(target, "partial");
        if staging.exists() {
            std::fs::remove_dir_all(&staging)
                .with_context(|| format!("removing stale {}", staging.display()))?;
        }
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("creating {}", staging.display()))?;
        Ok(Staging {
            target: target.to_path_buf(),
            staging,
        })
    }

    /// Path of a file inside the staging folder (creating its parent folders).
    pub fn path(&self, relative: &str) -> Result<PathBuf> {
        let path = self.staging.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        Ok(path)
    }

    /// Writes one file of the report.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> Result<()> {
        let path = self.path(relative)?;
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
    }

    /// Moves the finished report into place (replacing an old one).
    pub fn finish(self) -> Result<PathBuf> {
        let old = sibling(&self.target, "old");
        if self.target.exists() {
            std::fs::rename(&self.target, &old)
                .with_context(|| format!("moving aside {}", self.target.display()))?;
        }
        std::fs::rename(&self.staging, &self.target)
            .with_context(|| format!("renaming into {}", self.target.display()))?;
        if old.exists() {
            std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
        }
        Ok(self.target)
    }
}

fn is_empty_dir(path: &Path) -> Result<bool> {
    if !path.is_dir() {
        return Ok(false);
    }
    let mut entries =
        std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(entries.next().is_none())
}

/// `<parent>/.<name>.cascade-<what>` next to the target.
fn sibling(target: &Path, what: &str) -> PathBuf {
    let name = target
        .file_name()
        .map_or_else(|| "report".into(), |n| n.to_string_lossy().into_owned());
    let parent = target.parent().unwrap_or(Path::new("."));
    parent.join(format!(".{name}.cascade-{what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_non_empty_folder_without_force_and_replaces_it_with_force() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep.txt"), "x").unwrap();
        let err = Staging::begin(&target, false).err().unwrap();
        assert!(err.to_string().contains("--force"));
        let s = Staging::begin(&target, true).unwrap();
        s.write("charts/a.png", b"png").unwrap();
        // Nothing visible until finish.
        assert!(target.join("keep.txt").exists());
        s.finish().unwrap();
        assert!(target.join("charts/a.png").exists());
        assert!(!target.join("keep.txt").exists());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1);
    }

    #[test]
    fn an_empty_or_missing_folder_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        let s = Staging::begin(&dir.path().join("new"), false).unwrap();
        s.write("index.html", b"<html>").unwrap();
        assert!(s.finish().unwrap().join("index.html").exists());
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        assert!(Staging::begin(&dir.path().join("empty"), false).is_ok());
    }
}
