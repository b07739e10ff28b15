//! Damage found while undoing compression: where a compressed input was cut off or corrupt,
//! and where reading resumed. The decoders record it as they go; the loader turns it into
//! counted warnings naming the file and the compressed byte offset.

use std::sync::{Arc, Mutex};

use super::diag::{Diagnostics, Level};

/// One damaged stretch of a compressed input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damage {
    /// The unit the format is made of: "gzip member", "zstd frame", "zstd record".
    pub unit: &'static str,
    /// Compressed byte offset where the damage was found (for a corrupt gzip member: where
    /// the member starts).
    pub at: u64,
    /// Where reading went on (the next member or frame); `None` when nothing readable
    /// followed.
    pub resumed_at: Option<u64>,
    /// True when the input simply ended inside a unit (a cut), false when it was corrupt.
    pub cut: bool,
}

/// The damage of one input, shared between its decoder (which may run inside a reader
/// handed to the parser) and the loader.
#[derive(Debug, Clone, Default)]
pub struct DamageLog(Arc<Mutex<Vec<Damage>>>);

impl DamageLog {
    pub fn push(&self, damage: Damage) {
        if let Ok(mut list) = self.0.lock() {
            list.push(damage);
        }
    }

    /// Changes the last record (a false start of the next unit joins the damage before it).
    pub fn amend_last(&self, f: impl FnOnce(&mut Damage)) {
        if let Ok(mut list) = self.0.lock() {
            if let Some(last) = list.last_mut() {
                f(last);
            }
        }
    }

    /// How many damaged stretches were logged so far.
    pub fn len(&self) -> usize {
        self.0.lock().map_or(0, |l| l.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn entries(&self) -> Vec<Damage> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Adds one counted warning per damaged stretch, naming `label` and the offsets.
    pub fn report(&self, label: &str, diag: &mut Diagnostics) {
        for d in self.entries() {
            let (reason, place) = describe(&d, label);
            diag.add(Level::Warn, &reason, || place);
        }
    }
}

/// The reason (a fixed text per kind, so counts add up) and the place of one damage.
fn describe(d: &Damage, label: &str) -> (String, String) {
    let unit = d.unit;
    match (d.cut, d.resumed_at) {
        (true, _) => (
            format!("compressed input cut off inside a {unit}: read up to the cut"),
            format!("{label}: compressed byte {}", d.at),
        ),
        (false, Some(next)) => (
            format!("corrupt {unit} skipped: reading resumed at the next one"),
            format!("{label}: compressed bytes {}..{next}", d.at),
        ),
        (false, None) => (
            format!("corrupt {unit}: nothing readable after it, the rest ignored"),
            format!("{label}: from compressed byte {}", d.at),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_damage_is_a_warning_with_file_and_offset() {
        let log = DamageLog::default();
        let unit = "gzip member";
        log.push(Damage {
            unit,
            at: 10,
            resumed_at: Some(40),
            cut: false,
        });
        log.push(Damage {
            unit,
            at: 90,
            resumed_at: None,
            cut: true,
        });
        let mut diag = Diagnostics::default();
        log.clone().report("in.gz", &mut diag);
        assert_eq!(diag.total(Level::Warn), 2);
        let places: Vec<String> = diag
            .iter()
            .flat_map(|(_, _, e)| e.examples.clone())
            .collect();
        assert!(places.contains(&"in.gz: compressed bytes 10..40".to_string()));
        assert!(places.contains(&"in.gz: compressed byte 90".to_string()));
    }
}
