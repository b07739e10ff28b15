//! The eval document, `cascade.eval/v1`: the same figures as the table, for machines.

use serde::Serialize;

use super::score::{CaseScore, Scores};

/// The schema id.
pub const SCHEMA: &str = "cascade.eval/v1";

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    corpora: &'a [String],
    #[serde(flatten)]
    scores: &'a Scores,
    /// Only with `--cases`.
    #[serde(skip_serializing_if = "Option::is_none")]
    per_case: Option<&'a [CaseScore]>,
}

/// The document of the scores (with `cases`, every case's score too).
pub fn document(s: &Scores, corpora: &[String], cases: bool) -> serde_json::Value {
    let doc = Doc {
        schema: SCHEMA,
        corpora,
        scores: s,
        per_case: cases.then_some(s.per_case.as_slice()),
    };
    serde_json::to_value(doc).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::super::score::score;
    use super::*;

    #[test]
    fn the_document_carries_the_schema_and_cases_only_when_asked() {
        let s = score(&[]);
        let doc = document(&s, &["c".into()], false);
        assert_eq!(doc["schema"], SCHEMA);
        assert_eq!(doc["ranking_overall"]["kind"], "all");
        assert!(doc["calibration"]["bands"].is_array());
        assert!(doc.get("per_case").is_none());
        assert!(document(&s, &[], true)["per_case"].is_array());
    }
}
