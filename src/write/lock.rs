//! One run per output folder: a lock file created atomically (`create_new`) inside the
//! folder, holding the process id, removed when the run ends. A lock left by a run that
//! died (its process is gone) is taken over.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The lock file's name inside an output folder.
pub const LOCK_NAME: &str = ".cascade.lock";

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock of `dir` (which exists), or says which run holds it.
    pub fn take(dir: &Path, shown: &Path) -> Result<Lock> {
        let path = dir.join(LOCK_NAME);
        // Twice at most: the second try follows the removal of a dead run's lock.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let lock = Lock { path };
                    writeln!(f, "{}", std::process::id())
                        .with_context(|| format!("writing {}", lock.path.display()))?;
                    return Ok(lock);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let pid = holder.trim().parse::<u32>().ok();
                    if pid.is_some_and(|p| !alive(p)) {
                        let _ = std::fs::remove_file(&path);
                        continue;
                    }
                    let who = pid.map_or_else(
                        || "another cascade run".to_string(),
                        |p| format!("another cascade run (process {p})"),
                    );
                    bail!(
                        "{} is being written by {who}; wait for it to finish or choose another \
                         folder (if no cascade is running, remove {})",
                        shown.display(),
                        path.display()
                    );
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("creating {}", path.display()));
                }
            }
        }
        bail!(
            "could not take the lock {} (it keeps reappearing)",
            path.display()
        )
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether process `pid` still runs. Only Linux's `/proc` tells without unsafe code;
/// elsewhere a lock is assumed held (the message names the file to remove).
fn alive(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.join("self").exists() || proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_one_folder_is_refused_and_freed_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let first = Lock::take(dir.path(), Path::new("out")).unwrap();
        let err = Lock::take(dir.path(), Path::new("out")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("out is being written by another cascade run (process"),
            "{msg}"
        );
        assert!(msg.contains(&std::process::id().to_string()), "{msg}");
        drop(first);
        assert!(!dir.path().join(LOCK_NAME).exists());
        assert!(Lock::take(dir.path(), Path::new("out")).is_ok());
    }

    #[test]
    fn a_dead_runs_lock_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        if !Path::new("/proc/self").exists() {
            eprintln!("SKIPPED a_dead_runs_lock_is_taken_over: no /proc");
            return;
        }
        // Beyond the kernel's largest pid (2^22): no process has it.
        std::fs::write(dir.path().join(LOCK_NAME), "4194305\n").unwrap();
        let lock = Lock::take(dir.path(), Path::new("out")).unwrap();
        let holder = std::fs::read_to_string(dir.path().join(LOCK_NAME)).unwrap();
        assert_eq!(holder.trim(), std::process::id().to_string());
        drop(lock);
    }
}
