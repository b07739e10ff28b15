//! The write rules on a temp folder: what is refused, what is kept, what is replaced.

use std::path::{Path, PathBuf};

use super::*;

fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// Writes a small "report" into `dir`: `index.html` and `charts/<chart>.png`.
fn report(dir: &Path, force: bool, inputs: &[PathBuf], chart: &str) -> Result<()> {
    let mut claims = Claims::new(inputs);
    let d = claims.folder("report -o", dir, force, &["index.html"])?;
    let out = claims.open()?;
    out.folder(d).write("index.html", b"<html>")?;
    out.folder(d)
        .write(&format!("charts/{chart}.png"), chart.as_bytes())?;
    out.commit()
}

#[test]
fn a_new_folder_gets_the_files_and_a_manifest_and_nothing_else() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    report(&dir, false, &[], "a").unwrap();
    assert_eq!(names(&dir), [MANIFEST_NAME, "charts", "index.html"]);
    let m = std::fs::read_to_string(dir.join(MANIFEST_NAME)).unwrap();
    assert!(
        m.contains("charts/a.png") && m.contains("index.html"),
        "{m}"
    );
    assert_eq!(names(tmp.path()), ["r"]);
}

#[test]
fn force_replaces_only_what_cascade_wrote_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    report(&dir, false, &[], "old").unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let err = report(&dir, false, &[], "new").unwrap_err().to_string();
    assert!(
        err.contains("--force") && err.contains("holds notes.txt"),
        "{err}"
    );
    report(&dir, true, &[], "new").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );
    assert!(dir.join("charts/new.png").exists());
    assert!(
        !dir.join("charts/old.png").exists(),
        "the earlier run's chart went"
    );
}

#[test]
fn force_never_replaces_a_file_cascade_did_not_write_or_one_edited_since() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "my page").unwrap();
    let err = report(&dir, true, &[], "a").unwrap_err().to_string();
    assert!(
        err.contains("index.html was not written by cascade"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("index.html")).unwrap(),
        "my page"
    );
    std::fs::remove_file(dir.join("index.html")).unwrap();
    report(&dir, true, &[], "a").unwrap();
    std::fs::write(dir.join("charts/a.png"), "edited").unwrap();
    // The edited chart is kept (and forgotten) when the new report has no such chart...
    report(&dir, true, &[], "b").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("charts/a.png")).unwrap(),
        "edited"
    );
    // ...and refused when the new report would replace it.
    std::fs::write(dir.join("charts/b.png"), "edited too").unwrap();
    let err = report(&dir, true, &[], "b").unwrap_err().to_string();
    assert!(
        err.contains("b.png changed since cascade wrote it"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("charts/b.png")).unwrap(),
        "edited too"
    );
}

#[test]
fn a_folder_holding_an_input_is_refused_even_with_force() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    let input = dir.join("data/traces.jsonl");
    std::fs::write(&input, "{}").unwrap();
    let err = report(&dir, true, std::slice::from_ref(&input), "a")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("holds the input") && err.contains("traces.jsonl"),
        "{err}"
    );
    assert_eq!(names(&dir), ["data"], "nothing written, no lock left");
}

#[test]
fn writing_through_a_symlink_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, outside) = (tmp.path().join("r"), tmp.path().join("outside.txt"));
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(&outside, "precious").unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, dir.join("index.html")).unwrap();
        let err = report(&dir, true, &[], "a").unwrap_err().to_string();
        assert!(err.contains("index.html is a symbolic link"), "{err}");
        std::fs::remove_file(dir.join("index.html")).unwrap();
        std::os::unix::fs::symlink(tmp.path(), dir.join("charts")).unwrap();
        let err = report(&dir, true, &[], "a").unwrap_err().to_string();
        assert!(err.contains("charts is a symbolic link"), "{err}");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        let err = report(&link, true, &[], "a").unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
    }
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
}

#[test]
fn a_single_file_is_replaced_only_with_force_and_only_if_cascade_wrote_it() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("findings.json");
    let write = |force: bool, text: &str| -> Result<()> {
        let mut claims = Claims::new(&[]);
        let f = claims.file("-o", &path, force)?;
        let out = claims.open()?;
        out.write_file(&f, text.as_bytes())?;
        out.commit()
    };
    std::fs::write(&path, "mine").unwrap();
    let err = write(true, "x").unwrap_err().to_string();
    assert!(err.contains("was not written by cascade"), "{err}");
    std::fs::remove_file(&path).unwrap();
    std::fs::write(tmp.path().join("other.txt"), "kept").unwrap();
    write(false, "one").unwrap();
    let err = write(false, "two").unwrap_err().to_string();
    assert!(err.contains("--force"), "{err}");
    write(true, "two").unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("other.txt")).unwrap(),
        "kept"
    );
    let err = Claims::new(&[])
        .file("-o", tmp.path(), true)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("that is a folder; -o takes a file name"),
        "{err}"
    );
}

#[test]
fn an_input_is_never_a_single_file_output() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("t.jsonl");
    std::fs::write(&input, "{}").unwrap();
    let mut claims = Claims::new([&input]);
    claims.file("-o", &input, true).unwrap();
    let err = claims.open().unwrap_err().to_string();
    assert!(err.contains("cascade never overwrites an input"), "{err}");
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "{}");
}

#[test]
fn a_failed_run_leaves_nothing_behind() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("a/b/r");
    {
        let mut claims = Claims::new(&[]);
        let d = claims.folder("--export", &dir, false, &[]).unwrap();
        let out = claims.open().unwrap();
        out.folder(d).write("edges.csv", b"x").unwrap();
        assert!(dir.join(LOCK_NAME).exists() && dir.join(STAGING_NAME).exists());
        // dropped without commit: the run failed
    }
    assert!(names(tmp.path()).is_empty(), "{:?}", names(tmp.path()));
    // An existing folder keeps what it had, and loses the lock and staging.
    std::fs::create_dir(tmp.path().join("keep")).unwrap();
    std::fs::write(tmp.path().join("keep/x"), "x").unwrap();
    {
        let mut claims = Claims::new(&[]);
        let d = claims
            .folder("--export", &tmp.path().join("keep"), true, &[])
            .unwrap();
        let out = claims.open().unwrap();
        out.folder(d).write("edges.csv", b"x").unwrap();
    }
    assert_eq!(names(&tmp.path().join("keep")), ["x"]);
}

#[test]
fn one_folder_claimed_twice_by_a_run_is_one_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    let mut claims = Claims::new(&[]);
    let d = claims
        .folder("--export", &dir, false, &["edges.csv"])
        .unwrap();
    let f = claims
        .file("-o", &dir.join("./findings.json"), false)
        .unwrap();
    assert!(claims
        .file("-o", &dir.join("findings.json"), false)
        .is_err());
    let out = claims.open().unwrap();
    out.folder(d).write("edges.csv", b"e").unwrap();
    out.write_file(&f, b"{}").unwrap();
    assert!(out.folder(d).write("edges.csv", b"again").is_err());
    out.commit().unwrap();
    assert_eq!(names(&dir), [MANIFEST_NAME, "edges.csv", "findings.json"]);
}

#[test]
fn a_folder_being_written_by_another_run_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    let mut first = Claims::new(&[]);
    first.folder("report -o", &dir, false, &[]).unwrap();
    let held = first.open().unwrap();
    let mut second = Claims::new(&[]);
    second.folder("report -o", &dir, true, &[]).unwrap();
    let err = second.open().unwrap_err().to_string();
    assert!(
        err.contains("is being written by another cascade run"),
        "{err}"
    );
    drop(held);
    assert!(
        !dir.exists(),
        "the first run wrote nothing and left nothing"
    );
}
