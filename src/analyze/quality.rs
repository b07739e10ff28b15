//! Data quality: what was wrong with the spans, what was corrected, and the caveats a reader
//! must know before trusting the diagnosis.

use anyhow::{Context, Result};

use super::infer::{infer, Inferred};
use super::skew::{correct_skew, SkewCounts};
use super::table::{SpanTable, StructureCounts};
use crate::ingest::diag::{Diagnostics, Level};
use crate::ingest::Dataset;

/// Every data-quality count.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct DataQuality {
    pub spans: u64,
    pub structure: StructureCounts,
    pub skew: SkewCounts,
    /// Kinds and errors the producers left out, filled in.
    pub inferred: Inferred,
    /// Records ingest dropped.
    pub ingest_skipped: u64,
}

/// Above this share of affected spans a caveat is worth a reader's attention.
const CAVEAT_SHARE: f64 = 0.001;

impl DataQuality {
    pub fn new(
        spans: u64,
        structure: StructureCounts,
        skew: SkewCounts,
        diag: &Diagnostics,
    ) -> Self {
        DataQuality {
            spans,
            structure,
            skew,
            inferred: Inferred::default(),
            ingest_skipped: diag.total(Level::Skip),
        }
    }

    /// One line per problem that touches a noticeable share of the data (or any skip).
    pub fn caveats(&self) -> Vec<String> {
        let s = &self.structure;
        let mut out = Vec::new();
        let mut note = |n: u64, what: &str| {
            if n > 0 && (n as f64 >= self.spans as f64 * CAVEAT_SHARE) {
                out.push(format!("{n} {what}"));
            }
        };
        note(
            s.orphans,
            "orphan spans (parent missing; treated as roots, their callers unknown)",
        );
        note(
            s.duplicate_span_ids,
            "spans share a span id with another span of their trace",
        );
        note(s.duplicate_copies, "exact duplicate spans dropped");
        note(
            s.end_before_start,
            "spans ended before they started (clamped)",
        );
        note(s.parent_cycles, "parent cycles cut");
        note(s.bad_ids, "ids were not hex");
        let inf = &self.inferred;
        note(
            inf.server_kinds + inf.client_kinds,
            "spans had no span kind; read as calls because their parent or child is in another service",
        );
        if s.time_strays > 0 {
            out.push(stray_caveat(s));
        }
        if self.skew.shifted_spans > 0 {
            let by: Vec<String> = self
                .skew
                .shifted_by_service
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            out.push(format!(
                "clock skew: {} spans shifted (up to {:.1} ms; {})",
                self.skew.shifted_spans,
                self.skew.max_shift_ns as f64 / 1e6,
                by.join(", ")
            ));
        }
        if inf.errors() > 0 {
            out.push(format!(
                "{} failed spans had no error status (HTTP 5xx {}, gRPC {}, exception events {}, error logs {})",
                inf.errors(),
                inf.errors_from_http,
                inf.errors_from_grpc,
                inf.errors_from_exceptions,
                inf.errors_from_logs
            ));
        }
        if self.ingest_skipped > 0 {
            out.push(format!(
                "{} records skipped at ingest (see `cascade inspect`)",
                self.ingest_skipped
            ));
        }
        out
    }
}

/// Stray timestamps are named whatever their share: one span is enough to mislead.
fn stray_caveat(s: &StructureCounts) -> String {
    let examples: Vec<String> = s
        .time_stray_examples
        .iter()
        .map(|x| {
            format!(
                "trace {} span {} {}..{}",
                x.trace_id, x.span_id, x.start, x.end
            )
        })
        .collect();
    let more = s.time_strays as usize - examples.len();
    format!(
        "{} spans far outside the time range of the rest set aside (a bad clock or a \
         replayed batch?): {}{}",
        s.time_strays,
        examples.join("; "),
        if more > 0 {
            format!("; … {more} more")
        } else {
            String::new()
        }
    )
}

/// The span table with clock skew corrected, and what was wrong with the spans: the first
/// step of `analyze`, and all `inspect` needs for its data-quality counts.
pub fn assess(data: &Dataset) -> Result<(SpanTable, DataQuality)> {
    let mut table = SpanTable::from_frame(&data.spans).context("reading the spans frame")?;
    // Kinds first: skew correction pairs client and server halves of calls.
    let inferred = infer(&mut table, &data.events, &data.logs);
    let skew = correct_skew(&mut table);
    let mut quality = DataQuality::new(
        table.len() as u64,
        table.structure.clone(),
        skew,
        &data.diagnostics,
    );
    quality.inferred = inferred;
    Ok((table, quality))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caveats_name_noticeable_problems_only() {
        let mut q = DataQuality {
            spans: 100_000,
            ..Default::default()
        };
        q.structure.orphans = 5; // 0.005 % — not worth a line
        q.structure.parent_cycles = 200;
        q.skew.shifted_spans = 3;
        q.skew.max_shift_ns = 1_000_000_000;
        q.skew.shifted_by_service.insert("db".into(), 3);
        let c = q.caveats();
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c[0].starts_with("200 parent cycles"));
        assert!(c[1].contains("1000.0 ms; db 3"));
    }
}
