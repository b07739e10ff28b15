//! Writing is safe and output cannot be steered by the input, end to end: the built binary
//! never deletes or overwrites an input, a file it did not write or anything through a
//! symbolic link; one run per folder; nothing partial on failure; and names from the
//! telemetry reach the terminal, CSV, HTML, Markdown and JSON neutralised.

mod common;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{cascade_output, fixture_dir};

/// A service name that would retitle the window, clear the screen, forge a row and reverse
/// the rest of the line if printed raw.
const ESCAPING: &str = "inv\u{1b}]0;pwned\u{7}\u{1b}[2J\nFAKE ROW\u{202e}yrotnevni";
/// A service name that a spreadsheet would run as a formula.
const FORMULA: &str = "=HYPERLINK(\"http://evil.example\",\"api\")";

/// A small OTLP/JSON Lines input: `n` traces of `front` (SERVER, CLIENT) calling `back`.
fn small_input(front: &str, back: &str, n: u32) -> String {
    let t0: u64 = 1_717_243_200_000_000_000;
    let ns = |ms: u64| (t0 + ms * 1_000_000).to_string();
    let resource = |svc: &str, spans: Vec<serde_json::Value>| {
        serde_json::json!({
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": svc}}]},
            "scopeSpans": [{"spans": spans}]
        })
    };
    let lines: Vec<String> = (1..=n)
        .map(|t| {
            let tid = format!("{t:032x}");
            let at = u64::from(t) * 500;
            let span = |id: u32, parent: Option<u32>, kind: u8, a: u64, b: u64| {
                serde_json::json!({
                    "traceId": tid, "spanId": format!("{:016x}", t * 10 + id),
                    "parentSpanId": parent.map_or(String::new(), |p| format!("{:016x}", t * 10 + p)),
                    "name": "GET /x", "kind": kind,
                    "startTimeUnixNano": ns(at + a), "endTimeUnixNano": ns(at + b), "status": {}
                })
            };
            serde_json::json!({"resourceSpans": [
                resource(front, vec![span(1, None, 2, 0, 20), span(2, Some(1), 3, 2, 18)]),
                resource(back, vec![span(3, Some(2), 2, 3, 17)]),
            ]})
            .to_string()
        })
        .collect();
    lines.join("\n") + "\n"
}

/// The retry-storm fixture with its root cause renamed [`ESCAPING`] and its caller
/// [`FORMULA`], written into `dir`.
fn hostile_retry_storm(dir: &Path) -> PathBuf {
    let mut text = String::new();
    flate2::read::GzDecoder::new(
        std::fs::File::open(fixture_dir("retry-storm").join("traces.jsonl.gz")).unwrap(),
    )
    .read_to_string(&mut text)
    .unwrap();
    let quoted = |s: &str| serde_json::to_string(s).unwrap();
    let text = text
        .replace("\"inventory\"", &quoted(ESCAPING))
        .replace("\"api\"", &quoted(FORMULA));
    let path = dir.join("hostile.jsonl");
    std::fs::write(&path, text).unwrap();
    path
}

fn write_input(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, small_input("front", "back", 60)).unwrap();
    path
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_refused(o: &Output, says: &str) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "expected a refusal: {}",
        stderr(o)
    );
    assert!(
        stderr(o).contains(says),
        "expected {says:?} in: {}",
        stderr(o)
    );
}

fn assert_ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}

/// Every entry of `dir`, sorted, `/`-joined below it.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            out.extend(tree(&e.path()).into_iter().map(|n| format!("{name}/{n}")));
        }
        out.push(name);
    }
    out.sort();
    out
}

fn report(cwd: Option<&Path>, input: &Path, dir: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec!["report".as_ref(), input.as_os_str()];
    args.extend(["-o".as_ref(), dir.as_os_str()]);
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    cascade_output(cwd, args)
}

#[test]
fn report_force_never_deletes_an_input_in_the_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("r");
    std::fs::create_dir(&dir).unwrap();
    let input = write_input(&dir, "traces.jsonl");
    let before = std::fs::read(&input).unwrap();
    let out = report(None, &input, &dir, &["--force"]);
    assert_refused(&out, "holds the input");
    assert!(stderr(&out).contains("traces.jsonl"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&input).unwrap(), before);
    assert_eq!(tree(&dir), ["traces.jsonl"], "nothing added, no lock left");
}

#[test]
fn report_force_keeps_every_file_cascade_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_input(tmp.path(), "traces.jsonl");
    let dir = tmp.path().join("r");
    assert_ok(&report(None, &input, &dir, &[]));
    std::fs::write(dir.join("notes.txt"), "a teammate's notes").unwrap();
    std::fs::write(dir.join("charts/sketch.png"), "mine").unwrap();
    assert_refused(&report(None, &input, &dir, &[]), "--force");
    assert_ok(&report(None, &input, &dir, &["--force"]));
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "a teammate's notes"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("charts/sketch.png")).unwrap(),
        "mine"
    );
    assert!(dir.join("index.html").is_file() && dir.join("findings.json").is_file());
    // A file of the user's where the report writes one is never replaced.
    std::fs::write(dir.join("postmortem.md"), "edited by hand").unwrap();
    assert_refused(
        &report(None, &input, &dir, &["--force"]),
        "postmortem.md changed since cascade wrote it",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("postmortem.md")).unwrap(),
        "edited by hand"
    );
}

#[cfg(unix)]
#[test]
fn export_refuses_to_write_through_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_input(tmp.path(), "traces.jsonl");
    let outside = tmp.path().join("precious.bin");
    std::fs::write(&outside, "precious").unwrap();
    let dir = tmp.path().join("export");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("spans.parquet")).unwrap();
    for force in [false, true] {
        let mut args = vec!["inspect".as_ref(), input.as_os_str(), "--export".as_ref()];
        args.push(dir.as_os_str());
        if force {
            args.push("--force".as_ref());
        }
        let out = cascade_output(None, args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("spans.parquet"), "{}", stderr(&out));
    }
    let out = cascade_output(
        None,
        [
            "inspect".as_ref(),
            input.as_os_str(),
            "--export".as_ref(),
            dir.as_os_str(),
            "--force".as_ref(),
        ],
    );
    assert_refused(&out, "spans.parquet is a symbolic link");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
    // The same for simulate's folder.
    let model = fixture_dir("models").join("control.json");
    std::os::unix::fs::symlink(&outside, dir.join("summary.json")).unwrap();
    let out = cascade_output(
        None,
        [
            "simulate".as_ref(),
            model.as_os_str(),
            "--out-dir".as_ref(),
            dir.as_os_str(),
            "--force".as_ref(),
        ],
    );
    assert_refused(&out, "summary.json is a symbolic link");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
}

#[test]
fn export_never_overwrites_existing_files_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_input(tmp.path(), "traces.jsonl");
    let dir = tmp.path().join("export");
    let export = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["inspect".as_ref(), input.as_os_str()];
        args.extend([
            "--export".as_ref(),
            dir.as_os_str(),
            "--tables-only".as_ref(),
        ]);
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        cascade_output(None, args)
    };
    assert_ok(&export(&[]));
    assert_refused(&export(&[]), "--force");
    assert_ok(&export(&["--force"]));
    std::fs::remove_file(dir.join("edges.csv")).unwrap();
    std::fs::write(dir.join("edges.csv"), "mine").unwrap();
    assert_refused(
        &export(&["--force"]),
        "edges.csv changed since cascade wrote it",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("edges.csv")).unwrap(),
        "mine"
    );
}

#[test]
fn concurrent_reports_never_both_succeed_into_one_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_input(tmp.path(), "traces.jsonl");
    let dir = tmp.path().join("r");
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cascade"))
            .arg("report")
            .arg(&input)
            .arg("-o")
            .arg(&dir)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let runs = [spawn(), spawn(), spawn()];
    let outs: Vec<Output> = runs
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let ok = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "{:?}", outs.iter().map(stderr).collect::<Vec<_>>());
    for o in outs.iter().filter(|o| !o.status.success()) {
        let e = stderr(o);
        assert!(
            e.contains("is being written by another cascade run") || e.contains("not empty"),
            "{e}"
        );
    }
    // The winner's report is whole: every file its manifest lists, nothing else.
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join(".cascade-manifest.json")).unwrap())
            .unwrap();
    let mut listed: Vec<String> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    listed.extend(["charts".to_string(), ".cascade-manifest.json".to_string()]);
    listed.sort();
    assert_eq!(tree(&dir), listed);
    assert!(listed.contains(&"charts/service-graph.png".to_string()));
}

#[test]
fn a_folder_locked_by_a_running_cascade_is_refused_with_its_pid() {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_input(tmp.path(), "traces.jsonl");
    let dir = tmp.path().join("r");
    std::fs::create_dir(&dir).unwrap();
    // This test's own process: alive for as long as the run below.
    let pid = std::process::id();
    std::fs::write(dir.join(".cascade.lock"), format!("{pid}\n")).unwrap();
    let out = report(None, &input, &dir, &["--force"]);
    assert_refused(&out, &format!("another cascade run (process {pid})"));
    assert_eq!(tree(&dir), [".cascade.lock"], "the holder's lock stays");
}

#[test]
fn report_into_the_current_folder_adds_files_and_keeps_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_input(tmp.path(), "traces.jsonl");
    let here = tmp.path().join("here");
    std::fs::create_dir(&here).unwrap();
    assert_ok(&report(Some(&here), &input, Path::new("."), &[]));
    assert!(here.join("index.html").is_file());
    std::fs::write(here.join("notes.txt"), "kept").unwrap();
    assert_refused(
        &report(Some(&here), &input, Path::new("."), &[]),
        "not empty",
    );
    assert_ok(&report(Some(&here), &input, Path::new("."), &["--force"]));
    assert_eq!(
        std::fs::read_to_string(here.join("notes.txt")).unwrap(),
        "kept"
    );
    // The folder of the input: refused, even with --force.
    let out = report(Some(tmp.path()), &input, Path::new("."), &["--force"]);
    assert_refused(&out, "holds the input");
    assert!(!tmp.path().join("index.html").exists());
}

#[test]
fn a_file_where_a_folder_is_expected_and_the_reverse_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let input = write_input(tmp.path(), "traces.jsonl");
    let file = tmp.path().join("notes.txt");
    std::fs::write(&file, "mine").unwrap();
    assert_refused(
        &report(None, &input, &file, &["--force"]),
        "that is a file, not a folder",
    );
    let out = cascade_output(
        None,
        [
            "analyze".as_ref(),
            input.as_os_str(),
            "-o".as_ref(),
            tmp.path().as_os_str(),
        ],
    );
    assert_refused(&out, "that is a folder; -o takes a file name");
    // analyze -o FILE: written, then replaced only with --force, never an input.
    let findings = tmp.path().join("findings.json");
    let analyze = |out: &Path, extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec!["analyze".as_ref(), input.as_os_str()];
        args.extend(["-o".as_ref(), out.as_os_str()]);
        args.extend(extra.iter().map(std::ffi::OsStr::new));
        cascade_output(None, args)
    };
    assert_ok(&analyze(&findings, &[]));
    assert_refused(&analyze(&findings, &[]), "--force");
    assert_ok(&analyze(&findings, &["--force"]));
    assert_refused(&analyze(&file, &["--force"]), "was not written by cascade");
    assert_refused(&analyze(&input, &["--force"]), "never overwrites an input");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
}

#[test]
fn output_folders_are_checked_before_the_input_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    // Unreadable as traces: the refusal of the folder comes first, so it is not reached.
    let input = tmp.path().join("broken.jsonl");
    std::fs::write(&input, "{\"resourceSpans\":[").unwrap();
    let dir = tmp.path().join("r");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    assert_refused(&report(None, &input, &dir, &[]), "not empty");
}

#[test]
fn a_failed_run_leaves_no_partial_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("broken.jsonl");
    std::fs::write(&input, "{\"resourceSpans\":[").unwrap();
    let dir = tmp.path().join("new/r");
    assert_refused(&report(None, &input, &dir, &[]), "no spans");
    assert!(!tmp.path().join("new").exists(), "{:?}", tree(tmp.path()));
    // A failure after the folders were opened (a bad window): they go again.
    let good = write_input(tmp.path(), "traces.jsonl");
    let findings = tmp.path().join("out/findings.json");
    let export = tmp.path().join("export");
    let out = cascade_output(
        None,
        [
            "analyze".as_ref(),
            good.as_os_str(),
            "--incident".as_ref(),
            "nonsense".as_ref(),
            "-o".as_ref(),
            findings.as_os_str(),
            "--export".as_ref(),
            export.as_os_str(),
        ],
    );
    assert_refused(&out, "--incident nonsense");
    assert!(!tmp.path().join("out").exists() && !export.exists());
}

#[test]
fn simulate_never_overwrites_its_model() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model.json");
    std::fs::copy(fixture_dir("models").join("control.json"), &model).unwrap();
    let before = std::fs::read(&model).unwrap();
    let out = cascade_output(
        None,
        [
            "simulate".as_ref(),
            model.as_os_str(),
            "--logs-out".as_ref(),
            model.as_os_str(),
            "--force".as_ref(),
        ],
    );
    assert_refused(&out, "never overwrites an input");
    assert_eq!(std::fs::read(&model).unwrap(), before);
}

/// No raw control, bidi or escape byte from the input in `text`, and no forged row.
fn assert_terminal_safe(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
        .collect();
    assert!(bad.is_empty(), "{what}: raw {bad:?} in\n{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("FAKE ROW")),
        "{what}: a forged row in\n{text}"
    );
}

#[test]
fn terminal_output_escapes_control_characters_from_span_names() {
    let tmp = tempfile::tempdir().unwrap();
    let input = hostile_retry_storm(tmp.path());
    let analyze = common::run_cascade(["analyze".as_ref(), input.as_os_str()]);
    let text = String::from_utf8(analyze.stdout).unwrap();
    assert_terminal_safe("analyze", &text);
    assert!(
        text.contains("inv\\x1b]0;pwned\\x07\\x1b[2J\\nFAKE ROW\\u{202e}yrotnevni"),
        "the root cause is shown, escaped:\n{text}"
    );
    let inspect = common::run_cascade(["inspect".as_ref(), input.as_os_str()]);
    let text = String::from_utf8(inspect.stdout.clone()).unwrap();
    assert_terminal_safe("inspect", &text);
    assert!(text.contains("inv\\x1b]0;pwned"), "{text}");
    assert_terminal_safe("inspect stderr", &stderr(&inspect));
}

#[test]
fn error_messages_escape_the_file_names_they_quote() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("\u{1b}[2Jgone\n.jsonl");
    let out = cascade_output(None, ["inspect".as_ref(), missing.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert_terminal_safe("error", e.trim_end());
    assert!(e.contains("\\x1b[2Jgone\\n.jsonl"), "{e}");
}

#[test]
fn csv_cells_cannot_start_a_formula() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("t.jsonl");
    std::fs::write(&input, small_input(FORMULA, "@SUM(A1)", 30)).unwrap();
    let dir = tmp.path().join("export");
    common::run_cascade([
        "inspect".as_ref(),
        input.as_os_str(),
        "--export".as_ref(),
        dir.as_os_str(),
        "--tables-only".as_ref(),
    ]);
    for name in ["edges.csv", "service_rates.csv"] {
        let csv = std::fs::read_to_string(dir.join(name)).unwrap();
        for line in csv.lines().skip(1) {
            let first = line.trim_start_matches('"');
            assert!(!first.starts_with(['=', '+', '-', '@']), "{name}: {line}");
        }
        assert!(csv.contains("\"'@SUM(A1)\""), "{name}:\n{csv}");
    }
    let edges = std::fs::read_to_string(dir.join("edges.csv")).unwrap();
    assert!(
        edges.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"api\"\")\",\"'@SUM(A1)\""),
        "{edges}"
    );
}

#[test]
fn report_files_neutralise_bidi_and_control_characters_and_json_keeps_the_name() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("t.jsonl");
    std::fs::write(&input, small_input(ESCAPING, FORMULA, 120)).unwrap();
    let dir = tmp.path().join("r");
    assert_ok(&report(None, &input, &dir, &[]));
    for name in ["index.html", "postmortem.md", "findings.json"] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let raw: Vec<char> = text
            .chars()
            .filter(|&c| c == '\u{1b}' || c == '\u{7}' || c == '\u{202e}')
            .collect();
        assert!(raw.is_empty(), "{name}: raw {raw:?}");
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("findings.json")).unwrap()).unwrap();
    let names: Vec<&str> = doc["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert!(
        names.contains(&ESCAPING),
        "JSON keeps the real name: {names:?}"
    );
}
