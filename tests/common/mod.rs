//! Shared by the integration tests: where the fixtures are, running the built binary on
//! one, and reading a fixture's truth file.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// Every fixture made by `cascade simulate` (each with a truth file), the control last.
pub const SIMULATED: [&str; 7] = [
    "retry-storm",
    "metastable",
    "latency-contagion",
    "queue-growth",
    "error-propagation",
    "mid-tier-source",
    "control",
];

/// Runs the built `cascade` with `args`; panics with its stderr when it fails.
pub fn run_cascade<I, S>(args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .output()
        .expect("running cascade");
    assert!(
        out.status.success(),
        "cascade failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the built `cascade` with `args` in the folder `cwd` (or here), whatever its outcome.
pub fn cascade_output<I, S>(cwd: Option<&std::path::Path>, args: I) -> std::process::Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cascade"));
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.args(args).output().expect("running cascade")
}

/// `fixtures/<name>` in this repository.
pub fn fixture_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// `cascade analyze --json` on a fixture's traces (and logs when `with_logs`), plus `extra`
/// arguments; panics with cascade's stderr when it fails.
pub fn analyze_json(fixture: &str, with_logs: bool, extra: &[&str]) -> Value {
    let dir = fixture_dir(fixture);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cascade"));
    cmd.arg("analyze").arg(dir.join("traces.jsonl.gz"));
    if with_logs {
        cmd.arg("--logs").arg(dir.join("logs.jsonl.gz"));
    }
    let out = cmd
        .args(extra)
        .arg("--json")
        .output()
        .expect("running cascade");
    assert!(
        out.status.success(),
        "{fixture}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("findings JSON")
}

/// The fixture's `traces.truth.json` (`cascade.truth/v1`), if it has one.
pub fn truth(fixture: &str) -> Option<Value> {
    let text = std::fs::read(fixture_dir(fixture).join("traces.truth.json")).ok()?;
    serde_json::from_slice(&text).ok()
}
