//! The one place that writes output files. A command first claims what it will write (a
//! folder it fills, or single files), and every claim is checked before any work starts:
//!
//! - nothing is written through a symbolic link, and an input is never overwritten;
//! - a folder the command fills must be empty, or with `--force` it replaces only what an
//!   earlier cascade run wrote there (listed in the folder's manifest, unchanged since);
//!   every other file is kept, and a folder that holds an input is refused;
//! - one run per folder at a time (a lock file in it);
//! - files are written into a staging folder and moved into place file by file only when
//!   the whole run succeeded, so a failure leaves nothing behind.
//!
//! Renderers produce bytes (or stream into the staging path they are given); they never
//! choose where a file lands.

mod folder;
mod lock;
mod manifest;
mod paths;

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use folder::Claim;
pub use folder::{Folder, STAGING_NAME};
pub use lock::LOCK_NAME;
pub use manifest::MANIFEST_NAME;
use paths::Inputs;

/// A claimed folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dest(usize);

/// A claimed single file: a name inside a claimed folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDest {
    folder: Dest,
    name: String,
}

/// What a run will write, gathered before any work.
#[derive(Debug)]
pub struct Claims {
    inputs: Vec<PathBuf>,
    folders: Vec<Claim>,
}

impl Claims {
    /// Claims of a run reading `inputs` (traces, logs, a model: never overwritten).
    pub fn new<'a>(inputs: impl IntoIterator<Item = &'a PathBuf>) -> Claims {
        Claims {
            inputs: inputs.into_iter().cloned().collect(),
            folders: Vec::new(),
        }
    }

    /// A folder the command fills (`flag` names the option, for messages); `names` are the
    /// files it will write there that are known now.
    pub fn folder(&mut self, flag: &str, dir: &Path, force: bool, names: &[&str]) -> Result<Dest> {
        if paths::is_symlink(dir) {
            bail!(
                "{flag} {}: the folder is a symbolic link; cascade never writes through one \
                 (give the folder it points to)",
                dir.display()
            );
        }
        if paths::exists(dir) && !dir.is_dir() {
            bail!(
                "{flag} {}: that is a file, not a folder; {flag} takes a folder",
                dir.display()
            );
        }
        let dest = self.claim(flag, dir, paths::resolve(dir)?, force);
        let claim = &mut self.folders[dest.0];
        claim.whole = true;
        claim.names.extend(names.iter().map(|n| n.to_string()));
        Ok(dest)
    }

    /// A single file (`-o FILE`, `--traces-out FILE`).
    pub fn file(&mut self, flag: &str, path: &Path, force: bool) -> Result<FileDest> {
        if paths::is_symlink(path) {
            bail!(
                "{flag} {}: that is a symbolic link; cascade never writes through one",
                path.display()
            );
        }
        let name = match path.file_name() {
            Some(n) if !path.is_dir() => n.to_string_lossy().into_owned(),
            _ => bail!(
                "{flag} {}: that is a folder; {flag} takes a file name (e.g. {})",
                path.display(),
                path.join("out.json").display()
            ),
        };
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if paths::exists(parent) && !parent.is_dir() {
            bail!(
                "{flag} {}: {} is not a folder",
                path.display(),
                parent.display()
            );
        }
        let folder = self.claim(flag, parent, paths::resolve(parent)?, force);
        let claim = &mut self.folders[folder.0];
        if claim.names.contains(&name) {
            bail!("two outputs of this run are named {}", path.display());
        }
        claim.names.push(name.clone());
        Ok(FileDest { folder, name })
    }

    /// The claim of the folder `dir` (resolved), shared by every output of the run there.
    fn claim(&mut self, flag: &str, shown: &Path, dir: PathBuf, force: bool) -> Dest {
        if let Some(i) = self.folders.iter().position(|c| c.dir == dir) {
            self.folders[i].force |= force;
            return Dest(i);
        }
        self.folders.push(Claim {
            flag: flag.to_string(),
            shown: shown.to_path_buf(),
            dir,
            whole: false,
            force,
            names: Vec::new(),
        });
        Dest(self.folders.len() - 1)
    }

    /// Checks every claim, creates and locks the folders, prepares their staging.
    pub fn open(self) -> Result<Outputs> {
        let mut folders = Vec::with_capacity(self.folders.len());
        for claim in self.folders {
            folders.push(Folder::open(claim, Inputs::new(&self.inputs))?);
        }
        Ok(Outputs { folders })
    }
}

/// The opened outputs of a run; dropped without [`Outputs::commit`], they leave nothing.
#[derive(Debug)]
pub struct Outputs {
    folders: Vec<Folder>,
}

impl Outputs {
    pub fn folder(&self, dest: Dest) -> &Folder {
        &self.folders[dest.0]
    }

    /// Writes a claimed single file.
    pub fn write_file(&self, f: &FileDest, bytes: &[u8]) -> Result<()> {
        self.folder(f.folder).write(&f.name, bytes)
    }

    /// The staging path of a claimed single file, for writers that stream.
    pub fn stage_file(&self, f: &FileDest) -> Result<PathBuf> {
        self.folder(f.folder).stage(&f.name)
    }

    /// Moves everything into place: every folder is checked again first, so a refusal
    /// moves nothing anywhere.
    pub fn commit(self) -> Result<()> {
        let plans = self
            .folders
            .iter()
            .map(Folder::prepare)
            .collect::<Result<Vec<_>>>()?;
        for (folder, plan) in self.folders.iter().zip(plans) {
            folder.apply(plan)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
