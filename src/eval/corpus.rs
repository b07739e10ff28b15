//! Finding the cases of a corpus: a case is a folder with a truth file (`truth.json`, or
//! `traces.truth.json` as the fixtures have it) beside its traces and optional logs; a
//! corpus is a folder searched recursively for cases. Folders without a truth file (the
//! fixtures' incident models, a fixture recorded without truth) are not cases.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// Truth file names, in order of preference.
pub const TRUTH_FILES: [&str; 2] = ["truth.json", "traces.truth.json"];

/// One case on disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Case {
    /// The case folder as reached from the corpus argument (what the table prints).
    pub name: String,
    pub dir: PathBuf,
    pub truth: PathBuf,
    /// `traces.*` files (the truth file excluded); may be empty (scored as a failed case).
    pub traces: Vec<PathBuf>,
    /// `logs.*` files.
    pub logs: Vec<PathBuf>,
}

/// Every case under the corpus folders, sorted by name, each once.
pub fn find_cases(corpora: &[PathBuf]) -> Result<Vec<Case>> {
    let mut dirs = Vec::new();
    for root in corpora {
        if !root.is_dir() {
            bail!("corpus {}: not a folder", root.display());
        }
        walk(root, &mut dirs).with_context(|| format!("searching corpus {}", root.display()))?;
    }
    // `fixtures` and `./fixtures/metastable` are the same case.
    let mut seen = BTreeSet::new();
    dirs.retain(|d| seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())));
    let mut cases: Vec<Case> = dirs.into_iter().map(case).collect::<Result<_>>()?;
    cases.sort();
    Ok(cases)
}

/// Collects the case folders at or under `dir`; a case's own sub-folders are not searched.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if truth_file(dir).is_some() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        // Symbolic links are not followed: a link back up would loop.
        if !hidden && entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&entry.path(), out)?;
        }
    }
    Ok(())
}

fn truth_file(dir: &Path) -> Option<PathBuf> {
    TRUTH_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
}

fn case(dir: PathBuf) -> Result<Case> {
    let truth = truth_file(&dir).with_context(|| format!("{}: truth file gone", dir.display()))?;
    let mut traces = Vec::new();
    let mut logs = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("listing {}", dir.display()))?
            .path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(name) = name.filter(|_| path.is_file()) else {
            continue;
        };
        if TRUTH_FILES.contains(&name.as_str()) {
            continue;
        }
        if name.starts_with("traces.") {
            traces.push(path);
        } else if name.starts_with("logs.") {
            logs.push(path);
        }
    }
    traces.sort();
    logs.sort();
    Ok(Case {
        name: dir.display().to_string(),
        dir,
        truth,
        traces,
        logs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"{}").unwrap();
    }

    #[test]
    fn cases_are_found_recursively_and_folders_without_truth_are_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        touch(&root.join("a/truth.json"));
        touch(&root.join("a/traces.jsonl.gz"));
        touch(&root.join("a/logs.jsonl.gz"));
        touch(&root.join("deep/er/b/traces.truth.json"));
        touch(&root.join("deep/er/b/traces.jsonl"));
        touch(&root.join("models/x.json"));
        touch(&root.join(".hidden/truth.json"));
        let cases = find_cases(&[root.to_path_buf()]).unwrap();
        let dirs: Vec<_> = cases
            .iter()
            .map(|c| c.dir.strip_prefix(root).unwrap())
            .collect();
        assert_eq!(dirs, [Path::new("a"), Path::new("deep/er/b")]);
        assert_eq!(cases[0].traces, [root.join("a/traces.jsonl.gz")]);
        assert_eq!(cases[0].logs, [root.join("a/logs.jsonl.gz")]);
        assert_eq!(cases[1].truth, root.join("deep/er/b/traces.truth.json"));
        assert_eq!(cases[1].traces, [root.join("deep/er/b/traces.jsonl")]);
    }

    #[test]
    fn a_case_named_twice_is_scored_once_and_a_missing_corpus_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        touch(&tmp.path().join("c/truth.json"));
        let root = tmp.path().to_path_buf();
        let cases = find_cases(&[root.clone(), root.join("./c")]).unwrap();
        assert_eq!(cases.len(), 1);
        assert!(find_cases(&[root.join("nope")]).is_err());
    }
}
