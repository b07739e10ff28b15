//! The path facts the write rules stand on: where a path really is, whether it is a
//! symbolic link, and whether a path is (or a folder holds) one of the run's inputs.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

/// `path` made absolute with every existing part resolved (links followed), the missing
/// rest appended as written: two spellings of one folder compare equal even before it exists.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .context("reading the current folder")?
            .join(path)
    };
    let mut missing: Vec<std::ffi::OsString> = Vec::new();
    let mut base = absolute.as_path();
    loop {
        if let Ok(real) = base.canonicalize() {
            let mut out = real;
            for part in missing.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        match (base.file_name(), base.parent()) {
            (Some(name), Some(parent)) => {
                missing.push(name.to_os_string());
                base = parent;
            }
            // `..` or `.` at the end of a missing path: resolve it lexically instead.
            _ => return Ok(lexical(&absolute)),
        }
    }
}

/// `.` and `..` removed without touching the file system.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

/// True when `path` itself (not what it points to) is a symbolic link.
pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// True when `path` exists as anything (a dangling link included).
pub fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// The run's inputs (trace, log and model files or folders), resolved once.
#[derive(Debug, Default)]
pub struct Inputs {
    /// (resolved path, as the user wrote it, file identity when it is a file)
    paths: Vec<(PathBuf, PathBuf, Option<FileId>)>,
}

/// Device and inode: the same file under another name (a hard link) is still the input.
type FileId = (u64, u64);

#[cfg(unix)]
fn file_id(path: &Path) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &Path) -> Option<FileId> {
    None
}

impl Inputs {
    /// The inputs as given on the command line; `-` (stdin) and paths that do not exist
    /// (ingest reports those) are left out.
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a PathBuf>) -> Inputs {
        let paths = paths
            .into_iter()
            .filter(|p| p.as_os_str() != "-")
            .filter_map(|p| Some((p.canonicalize().ok()?, p.clone(), file_id(p))))
            .collect();
        Inputs { paths }
    }

    /// The first input at or under the folder `dir` (resolved), as the user wrote it.
    pub fn inside(&self, dir: &Path) -> Option<&Path> {
        self.paths
            .iter()
            .find(|(real, _, _)| real.starts_with(dir))
            .map(|(_, shown, _)| shown.as_path())
    }

    /// The input that `file` (resolved) is, by path or by identity.
    pub fn is_input(&self, file: &Path) -> Option<&Path> {
        let id = file_id(file);
        self.paths
            .iter()
            .find(|(real, _, fid)| real == file || (id.is_some() && *fid == id))
            .map(|(_, shown, _)| shown.as_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_spellings_of_one_missing_folder_resolve_alike() {
        let dir = tempfile::tempdir().unwrap();
        let a = resolve(&dir.path().join("x/./new")).unwrap();
        let b = resolve(&dir.path().join("x/new")).unwrap();
        assert_eq!(a, b);
        assert!(a.ends_with("x/new"));
    }

    #[test]
    fn an_input_is_found_in_its_folder_and_under_a_hard_link() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in/traces.jsonl");
        std::fs::create_dir(dir.path().join("in")).unwrap();
        std::fs::write(&input, "{}").unwrap();
        let inputs = Inputs::new([&input, &PathBuf::from("-")]);
        let root = dir.path().canonicalize().unwrap();
        assert!(inputs.inside(&root).is_some());
        assert!(inputs.inside(&root.join("other")).is_none());
        let link = root.join("alias.jsonl");
        std::fs::hard_link(&input, &link).unwrap();
        assert_eq!(inputs.is_input(&link), Some(input.as_path()));
        assert!(inputs.is_input(&root.join("in/other.json")).is_none());
    }
}
