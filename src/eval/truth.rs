//! Reading a case's truth (`cascade.truth/v1`): what was injected and what really happened,
//! as the scoring needs it. Unknown fields are ignored, so generators and labs may add their
//! own; only `format` must be present (and `root_cause`, which may be null).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use serde_json::Value;

/// The truth format this reader understands.
pub const FORMAT: &str = "cascade.truth/v1";
/// The fault kind of a control case (healthy, nothing injected).
pub const CONTROL: &str = "none";
/// The fault kind of a traffic surge with no fault.
pub const LOAD_SURGE: &str = "load_surge";
/// The kind given to an older truth that names a root cause but no `fault_kind`.
pub const UNLABELLED: &str = "unlabelled";

/// One case's truth.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Truth {
    pub scenario: Option<String>,
    /// The service at fault (for a load surge: where the surge came in); `None` for a
    /// control, or when the truth names none.
    pub root_cause: Option<String>,
    /// The instance (`service.instance.id`) when the fault hit one instance only.
    pub root_cause_instance: Option<String>,
    /// `cpu`, `errors`, …, `none` for a control (see [`fault_kind`] for older truths).
    pub fault_kind: String,
    /// The instant the `*_s` offsets count from, Unix ns (`None`: the first span).
    pub time_base_ns: Option<i64>,
    /// The incident window in seconds from the time base.
    pub incident: Option<(f64, f64)>,
    pub mechanisms: Vec<String>,
    /// Service → role (`source`, `infected`, `affected`, `healthy`).
    pub roles: BTreeMap<String, String>,
}

impl Truth {
    /// A healthy case: any diagnosis of it is a false positive.
    pub fn is_control(&self) -> bool {
        self.fault_kind == CONTROL
    }
}

#[derive(Deserialize)]
struct Wire {
    format: Option<String>,
    scenario: Option<String>,
    root_cause: Option<String>,
    root_cause_instance: Option<String>,
    fault_kind: Option<String>,
    time_base_unix_ns: Option<Value>,
    incident: Option<WireWindow>,
    #[serde(default)]
    mechanisms: Vec<String>,
    #[serde(default)]
    roles: BTreeMap<String, String>,
    #[serde(default)]
    faults: Vec<Value>,
}

#[derive(Deserialize)]
struct WireWindow {
    start_s: f64,
    end_s: f64,
}

/// Reads and checks a truth file.
pub fn read_truth(path: &Path) -> Result<Truth> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    parse_truth(&text).with_context(|| format!("truth file {}", path.display()))
}

/// Parses a truth document.
pub fn parse_truth(text: &[u8]) -> Result<Truth> {
    let w: Wire = serde_json::from_slice(text).context("not a truth document")?;
    match w.format.as_deref() {
        Some(FORMAT) => {}
        Some(other) => bail!("format `{other}`, expected `{FORMAT}`"),
        None => bail!("no `format` field (expected `{FORMAT}`)"),
    }
    let time_base_ns = w.time_base_unix_ns.as_ref().map(time_base).transpose()?;
    let fault_kind = fault_kind(&w);
    Ok(Truth {
        scenario: w.scenario,
        root_cause: w.root_cause,
        root_cause_instance: w.root_cause_instance,
        fault_kind,
        time_base_ns,
        incident: w.incident.map(|i| (i.start_s, i.end_s)),
        mechanisms: w.mechanisms,
        roles: w.roles,
    })
}

/// `time_base_unix_ns` as a string of digits (JSON numbers lose ns precision) or a number.
fn time_base(v: &Value) -> Result<i64> {
    let parsed = match v {
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    parsed.with_context(|| format!("time_base_unix_ns `{v}` is not a whole number of ns"))
}

/// The given `fault_kind`, or for a truth written before the field existed: a control when
/// nothing was injected and nothing happened; a load surge when nothing was injected yet
/// mechanisms ran (the only way that happens is traffic); otherwise [`UNLABELLED`].
fn fault_kind(w: &Wire) -> String {
    if let Some(k) = &w.fault_kind {
        return k.clone();
    }
    let kind = match (&w.root_cause, w.faults.is_empty(), w.mechanisms.is_empty()) {
        (None, true, true) => CONTROL,
        (None, true, false) => LOAD_SURGE,
        _ => UNLABELLED,
    };
    kind.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_truth_is_read_and_unknown_fields_are_ignored() {
        let t = parse_truth(
            br#"{"format":"cascade.truth/v1","scenario":"lab-cpu-leaf","root_cause":"inventory",
            "root_cause_instance":"inventory-2","fault_kind":"cpu",
            "time_base_unix_ns":"1717243200000000000","incident":{"start_s":60.0,"end_s":120.0},
            "mechanisms":["latency_contagion"],"roles":{"inventory":"source","api":"infected"},
            "generator":{"anything":[1,2]},"future_field":true}"#,
        )
        .unwrap();
        assert_eq!(t.root_cause.as_deref(), Some("inventory"));
        assert_eq!(t.root_cause_instance.as_deref(), Some("inventory-2"));
        assert_eq!(t.fault_kind, "cpu");
        assert_eq!(t.time_base_ns, Some(1_717_243_200_000_000_000));
        assert_eq!(t.incident, Some((60.0, 120.0)));
        assert_eq!(t.roles["api"], "infected");
        assert!(!t.is_control());
    }

    #[test]
    fn a_minimal_control_needs_only_format_and_root_cause() {
        let t = parse_truth(br#"{"format":"cascade.truth/v1","root_cause":null,"fault_kind":"none","incident":null}"#)
            .unwrap();
        assert!(t.is_control());
        assert_eq!((t.incident, t.time_base_ns), (None, None));
    }

    #[test]
    fn older_truths_get_their_kind_from_what_was_injected() {
        let kind = |doc: &str| parse_truth(doc.as_bytes()).unwrap().fault_kind;
        let f = r#""format":"cascade.truth/v1""#;
        assert_eq!(
            kind(&format!(
                r#"{{{f},"root_cause":null,"faults":[],"mechanisms":[]}}"#
            )),
            "none"
        );
        assert_eq!(
            kind(&format!(
                r#"{{{f},"root_cause":null,"faults":[],"mechanisms":["queue_growth"]}}"#
            )),
            "load_surge"
        );
        assert_eq!(
            kind(&format!(r#"{{{f},"root_cause":"db","faults":[{{}}]}}"#)),
            "unlabelled"
        );
    }

    #[test]
    fn a_wrong_or_missing_format_is_an_error_that_says_so() {
        let e = parse_truth(br#"{"format":"other/v2","root_cause":null}"#).unwrap_err();
        assert!(format!("{e:#}").contains("other/v2"), "{e:#}");
        let e = parse_truth(br#"{"root_cause":null}"#).unwrap_err();
        assert!(format!("{e:#}").contains("no `format`"), "{e:#}");
        let e = parse_truth(br#"{"format":"cascade.truth/v1","time_base_unix_ns":"soon"}"#)
            .unwrap_err();
        assert!(format!("{e:#}").contains("soon"), "{e:#}");
    }
}
