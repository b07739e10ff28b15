//! Counted diagnostics: every record ingest could not take, by reason, with the first few places.
//!
//! Bad input never stops a load; it becomes a count the user sees in `inspect` and in the
//! findings document, with `file:line` of the first examples so they can look.

use std::collections::BTreeMap;

/// How many example locations to keep per reason.
const MAX_EXAMPLES: usize = 3;

/// Whether a reason means data was dropped (`Skip`) or only noticed (`Warn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Something was noticed and corrected or kept (e.g. base64 ids converted).
    Warn,
    /// A record (span, log record, line) was dropped.
    Skip,
}

/// One reason: how often it happened and where, first.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Entry {
    pub count: u64,
    pub examples: Vec<String>,
}

/// Diagnostics keyed by (level, reason). Merging is order-preserving, so parallel parsing
/// merged in input order gives the same examples whatever the thread count.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics {
    entries: BTreeMap<(Level, String), Entry>,
}

impl Diagnostics {
    /// Records one occurrence of `reason` at `place` (e.g. `file.json:12`).
    pub fn add(&mut self, level: Level, reason: &str, place: impl FnOnce() -> String) {
        self.add_n(level, reason, 1, place);
    }

    /// Records `n` occurrences of `reason`, the first at `place`.
    pub fn add_n(&mut self, level: Level, reason: &str, n: u64, place: impl FnOnce() -> String) {
        if n == 0 {
            return;
        }
        let entry = self.entries.entry((level, reason.to_string())).or_default();
        entry.count += n;
        if entry.examples.len() < MAX_EXAMPLES {
            entry.examples.push(place());
        }
    }

    /// Appends `other` (which came later in input order) to `self`.
    pub fn merge(&mut self, other: Diagnostics) {
        for (key, e) in other.entries {
            let entry = self.entries.entry(key).or_default();
            entry.count += e.count;
            let room = MAX_EXAMPLES.saturating_sub(entry.examples.len());
            entry.examples.extend(e.examples.into_iter().take(room));
        }
    }

    /// Total count at `level`.
    pub fn total(&self, level: Level) -> u64 {
        self.entries
            .iter()
            .filter(|((l, _), _)| *l == level)
            .map(|(_, e)| e.count)
            .sum()
    }

    /// Count for one reason at `level` (0 when never seen).
    pub fn count(&self, level: Level, reason: &str) -> u64 {
        self.entries
            .get(&(level, reason.to_string()))
            .map_or(0, |e| e.count)
    }

    /// All entries, sorted by level then reason.
    pub fn iter(&self) -> impl Iterator<Item = (Level, &str, &Entry)> {
        self.entries.iter().map(|((l, r), e)| (*l, r.as_str(), e))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_counts_and_first_examples_in_order() {
        let mut a = Diagnostics::default();
        a.add(Level::Skip, "bad json", || "a:1".into());
        let mut b = Diagnostics::default();
        for i in 0..5 {
            b.add(Level::Skip, "bad json", || format!("b:{i}"));
        }
        b.add(Level::Warn, "base64 id", || "b:9".into());
        a.merge(b);
        assert_eq!(a.count(Level::Skip, "bad json"), 6);
        assert_eq!(a.total(Level::Skip), 6);
        assert_eq!(a.total(Level::Warn), 1);
        let (_, _, e) = a.iter().find(|(_, r, _)| *r == "bad json").unwrap();
        assert_eq!(e.examples, vec!["a:1", "b:0", "b:1"]);
    }
}
