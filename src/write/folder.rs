//! One output folder of a run: checked and locked when the run starts, filled in a staging
//! folder inside it, and moved into place file by file under the manifest at the end. A run
//! that fails before the end leaves the folder as it found it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use anyhow::{bail, Context, Result};

use super::lock::{Lock, LOCK_NAME};
use super::manifest::{fingerprint, fingerprint_bytes, Entry, Manifest, Owner, MANIFEST_NAME};
use super::paths::{self, Inputs};

/// The staging folder's name inside an output folder.
pub const STAGING_NAME: &str = ".cascade-staging";
/// The manifest as staged, before its rename into place.
const MANIFEST_STAGED: &str = ".manifest.json";

/// What a command will write into one folder, gathered before any work.
#[derive(Debug)]
pub(super) struct Claim {
    /// The option that named it (`report -o`, `--export`), for messages.
    pub flag: String,
    /// The folder as the user wrote it.
    pub shown: PathBuf,
    /// The folder, resolved.
    pub dir: PathBuf,
    /// The command fills the folder (a report, an export), as opposed to single files in it.
    pub whole: bool,
    pub force: bool,
    /// Files known now, checked before the work starts.
    pub names: Vec<String>,
}

/// An output folder being written.
#[derive(Debug)]
pub struct Folder {
    flag: String,
    shown: PathBuf,
    dir: PathBuf,
    whole: bool,
    force: bool,
    inputs: Inputs,
    /// Folders this run created (outermost first), removed again if left empty.
    created: Vec<PathBuf>,
    lock: Option<Lock>,
    staging: PathBuf,
    old: Manifest,
    /// Staged files and, once known, their size and CRC-32.
    staged: Mutex<BTreeMap<String, Option<(u64, u32)>>>,
}

/// What a commit will do, decided before anything moves.
pub(super) struct Plan {
    written: Vec<Entry>,
    remove: Vec<String>,
    keep: Vec<Entry>,
}

impl Folder {
    /// Checks the claim, creates the folder if missing, takes its lock and prepares staging.
    pub(super) fn open(claim: Claim, inputs: Inputs) -> Result<Folder> {
        if claim.whole {
            if let Some(input) = inputs.inside(&claim.dir) {
                bail!(
                    "{} {}: the folder holds the input {}; cascade never writes where its \
                     inputs are, choose another folder",
                    claim.flag,
                    claim.shown.display(),
                    input.display()
                );
            }
        }
        let mut folder = Folder {
            flag: claim.flag,
            shown: claim.shown,
            staging: claim.dir.join(STAGING_NAME),
            dir: claim.dir,
            whole: claim.whole,
            force: claim.force,
            inputs,
            created: Vec::new(),
            lock: None,
            old: Manifest::default(),
            staged: Mutex::new(BTreeMap::new()),
        };
        for name in &claim.names {
            folder.check_kind(name)?;
        }
        folder.created = create_dirs(&folder.dir)?;
        folder.lock = Some(Lock::take(&folder.dir, &folder.shown)?);
        folder.old = Manifest::load(&folder.dir)?;
        if folder.whole && !folder.force {
            if let Some(entry) = first_entry(&folder.dir, &folder.old)? {
                bail!(
                    "{} {} exists and is not empty (it holds {entry}); pass --force to replace \
                     what an earlier cascade run wrote there (every other file is kept)",
                    folder.flag,
                    folder.shown.display()
                );
            }
        }
        for name in &claim.names {
            folder.check_replace(name)?;
        }
        if paths::exists(&folder.staging) {
            // Left by a run that died (the lock is ours now).
            remove_any(&folder.staging)?;
        }
        std::fs::create_dir(&folder.staging)
            .with_context(|| format!("creating {}", folder.staging.display()))?;
        Ok(folder)
    }

    /// The folder as the user wrote it.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// The staging path of the file `rel` (a `/`-separated name fixed by cascade, never
    /// taken from the input), for writers that stream into a file.
    pub fn stage(&self, rel: &str) -> Result<PathBuf> {
        let bad = rel.is_empty()
            || rel.starts_with('/')
            || rel
                .split('/')
                .any(|p| p.is_empty() || p == "." || p == "..")
            || [LOCK_NAME, MANIFEST_NAME, STAGING_NAME].contains(&rel);
        if bad {
            bail!("not a file name cascade writes: {rel:?}");
        }
        let mut staged = self.staged.lock().unwrap_or_else(PoisonError::into_inner);
        if staged.insert(rel.to_string(), None).is_some() {
            bail!(
                "two outputs of this run are named {}",
                self.dir.join(rel).display()
            );
        }
        drop(staged);
        let path = self.staging.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        Ok(path)
    }

    /// Writes the file `rel` (see [`Folder::stage`]) with `bytes`.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.stage(rel)?;
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        self.staged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(rel.to_string(), Some(fingerprint_bytes(bytes)));
        Ok(())
    }

    /// The path `rel` must be a file where one can be written: not a link, not a folder, not
    /// an input, and the folders on the way are real folders.
    fn check_kind(&self, rel: &str) -> Result<()> {
        let mut at = self.dir.clone();
        let parts: Vec<&str> = rel.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            at.push(part);
            if paths::is_symlink(&at) {
                bail!(
                    "{} is a symbolic link; cascade never writes through one (remove it or \
                     choose another folder)",
                    at.display()
                );
            }
            let last = i + 1 == parts.len();
            if !last && paths::exists(&at) && !at.is_dir() {
                bail!("{} is a file where cascade needs a folder", at.display());
            }
        }
        if at.is_dir() {
            bail!(
                "{} is a folder where cascade writes a file ({})",
                at.display(),
                self.flag
            );
        }
        if let Some(input) = self.inputs.is_input(&at) {
            bail!(
                "{} is the input {} of this run; cascade never overwrites an input",
                at.display(),
                input.display()
            );
        }
        Ok(())
    }

    /// `rel` may be written: nothing is there, or (with `--force`) a file cascade wrote
    /// and nobody changed since.
    fn check_replace(&self, rel: &str) -> Result<()> {
        self.check_kind(rel)?;
        let path = self.dir.join(rel);
        let owner = self.old.owner(&self.dir, rel)?;
        match owner {
            Owner::Free => Ok(()),
            Owner::Cascade if self.force => Ok(()),
            Owner::Cascade => bail!(
                "{} {} exists; pass --force to replace it (an earlier cascade run wrote it)",
                self.flag,
                path.display()
            ),
            Owner::Changed => bail!(
                "{} changed since cascade wrote it, so it is kept; move it away or choose \
                 another place for {}",
                path.display(),
                self.flag
            ),
            Owner::Other => bail!(
                "{} was not written by cascade, so it is kept; move it away or choose another \
                 place for {}",
                path.display(),
                self.flag
            ),
        }
    }

    /// Checks every staged file against the folder as it is now and decides what moves.
    pub(super) fn prepare(&self) -> Result<Plan> {
        let staged = self
            .staged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut written = Vec::with_capacity(staged.len());
        for (rel, known) in &staged {
            self.check_replace(rel)?;
            let (bytes, crc32) = match known {
                Some(f) => *f,
                None => fingerprint(&self.staging.join(rel))?,
            };
            written.push(Entry {
                path: rel.clone(),
                bytes,
                crc32,
            });
        }
        let (mut remove, mut keep) = (Vec::new(), Vec::new());
        for e in self
            .old
            .entries
            .iter()
            .filter(|e| !staged.contains_key(&e.path))
        {
            match self.old.owner(&self.dir, &e.path)? {
                // A folder the command fills is replaced: the earlier run's other files go.
                Owner::Cascade if self.whole => remove.push(e.path.clone()),
                Owner::Cascade => keep.push(e.clone()),
                // Changed since: the user's now, kept and no longer listed.
                Owner::Changed | Owner::Other | Owner::Free => {}
            }
        }
        Ok(Plan {
            written,
            remove,
            keep,
        })
    }

    /// Moves the staged files into place. The manifest first lists the old and the new
    /// files, so a run interrupted halfway still recognises every file it put there.
    pub(super) fn apply(&self, plan: Plan) -> Result<()> {
        let mut interim = self.old.clone();
        interim.entries.extend(plan.written.iter().cloned());
        self.save_manifest(&interim)?;
        for e in &plan.written {
            self.make_parents(&e.path)?;
            let (from, to) = (self.staging.join(&e.path), self.dir.join(&e.path));
            std::fs::rename(&from, &to)
                .with_context(|| format!("moving {} into place", to.display()))?;
        }
        for rel in &plan.remove {
            let path = self.dir.join(rel);
            std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
            self.remove_empty_parents(rel);
        }
        let mut entries = plan.written;
        entries.extend(plan.keep);
        self.save_manifest(&Manifest { entries })
    }

    fn save_manifest(&self, m: &Manifest) -> Result<()> {
        let staged = self.staging.join(MANIFEST_STAGED);
        std::fs::write(&staged, m.to_bytes())
            .with_context(|| format!("writing {}", staged.display()))?;
        let path = self.dir.join(MANIFEST_NAME);
        std::fs::rename(&staged, &path).with_context(|| format!("writing {}", path.display()))
    }

    /// Creates the folders on the way to `rel` inside the output folder (real folders only).
    fn make_parents(&self, rel: &str) -> Result<()> {
        let mut at = self.dir.clone();
        let parts: Vec<&str> = rel.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            at.push(part);
            if paths::is_symlink(&at) {
                bail!(
                    "{} is a symbolic link; cascade never writes through one",
                    at.display()
                );
            }
            if !at.is_dir() {
                std::fs::create_dir(&at).with_context(|| format!("creating {}", at.display()))?;
            }
        }
        Ok(())
    }

    /// After removing an earlier run's file: its folders inside the output folder, if empty.
    fn remove_empty_parents(&self, rel: &str) {
        let mut parts: Vec<&str> = rel.split('/').collect();
        parts.pop();
        while !parts.is_empty() {
            if std::fs::remove_dir(self.dir.join(parts.join("/"))).is_err() {
                break;
            }
            parts.pop();
        }
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        if paths::exists(&self.staging) {
            let _ = remove_any(&self.staging);
        }
        self.lock.take();
        // Only empty folders go: what was there before, or was written, stays.
        for dir in self.created.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// Creates `dir` and its missing parents; returns those it created (outermost first), or
/// removes them again on failure.
fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(p) = at.filter(|p| !paths::exists(p)) {
        missing.push(p.to_path_buf());
        at = p.parent();
    }
    missing.reverse();
    let mut created = Vec::with_capacity(missing.len());
    for p in missing {
        match std::fs::create_dir(&p) {
            Ok(()) => created.push(p),
            // Another run created it at the same moment: not ours to remove.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && p.is_dir() => {}
            Err(e) => {
                for q in created.iter().rev() {
                    let _ = std::fs::remove_dir(q);
                }
                return Err(e).with_context(|| format!("creating {}", p.display()));
            }
        }
    }
    Ok(created)
}

/// An entry of `dir` other than cascade's own bookkeeping, by name: one no earlier run
/// wrote when there is one (what the user would lose), else the first.
fn first_entry(dir: &Path, old: &Manifest) -> Result<Option<String>> {
    let entries = std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| ![LOCK_NAME, MANIFEST_NAME, STAGING_NAME].contains(&n.as_str()))
        .collect();
    names.sort();
    let written = |n: &String| {
        old.entries
            .iter()
            .any(|e| e.path.split('/').next() == Some(n.as_str()))
    };
    Ok(names
        .iter()
        .find(|n| !written(n))
        .or(names.first())
        .cloned())
}

/// Removes a link or a folder tree of cascade's own (the staging folder).
fn remove_any(path: &Path) -> Result<()> {
    let result = if paths::is_symlink(path) || path.is_file() {
        std::fs::remove_file(path)
    } else {
        std::fs::remove_dir_all(path)
    };
    result.with_context(|| format!("removing {}", path.display()))
}
