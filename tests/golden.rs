//! Golden findings: `cascade analyze --json` on a small fixture must match the committed
//! document exactly. After an intended change, re-bless with
//! `CASCADE_BLESS=1 cargo test --test golden` and review the diff in git.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn findings(fixture: &str) -> Value {
    let dir = root().join("fixtures").join(fixture);
    let out = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .arg("analyze")
        .arg(dir.join("traces.jsonl.gz"))
        .arg("--logs")
        .arg(dir.join("logs.jsonl.gz"))
        .arg("--json")
        .output()
        .expect("running cascade");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut doc: Value = serde_json::from_slice(&out.stdout).expect("findings JSON");
    // Input paths depend on where the repository is checked out.
    if let Some(files) = doc.pointer_mut("/input/files") {
        *files = Value::Null;
    }
    doc
}

/// The JSON pointers where `a` and `b` differ (at most `limit`).
fn differences(a: &Value, b: &Value, at: &str, out: &mut Vec<String>, limit: usize) {
    if out.len() >= limit || a == b {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let (va, vb) = (
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                );
                differences(va, vb, &format!("{at}/{k}"), out, limit);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                differences(va, vb, &format!("{at}/{i}"), out, limit);
            }
        }
        _ => out.push(format!("{at}: golden {b} , now {a}")),
    }
}

fn check(fixture: &str) {
    let path = root()
        .join("tests/golden")
        .join(format!("{fixture}.findings.json"));
    let now = findings(fixture);
    if std::env::var_os("CASCADE_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&now).expect("encoding");
        std::fs::write(&path, format!("{text}\n")).expect("writing the golden file");
        return;
    }
    let golden: Value = serde_json::from_slice(
        &std::fs::read(&path)
            .unwrap_or_else(|e| panic!("{}: {e}; create it with CASCADE_BLESS=1", path.display())),
    )
    .expect("golden JSON");
    let mut diffs = Vec::new();
    differences(&now, &golden, "", &mut diffs, 20);
    assert!(
        diffs.is_empty(),
        "{fixture}: findings differ from {} (re-bless with CASCADE_BLESS=1 if intended):\n{}",
        Path::new(&path).display(),
        diffs.join("\n")
    );
}

#[test]
fn error_propagation_findings_match_the_golden_document() {
    check("error-propagation");
}
