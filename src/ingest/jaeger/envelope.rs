//! The query API envelope `{"data": [trace…]}`: traces found by [`super::scan`] are parsed
//! in parallel groups of about [`GROUP_BYTES`], each trace in one serde pass with its spans
//! typed. A trace that fails that pass is re-read span by span (so one bad span skips only
//! itself); a trace larger than a group has its spans spread over groups instead.

use anyhow::Result;
use rayon::prelude::*;

use super::batch::Lines;
use super::scan::Envelope;
use super::walk::{walk_raw_span, walk_span};
use super::wire::{Processes, Trace, TypedTrace};
use crate::ingest::diag::Level;
use crate::ingest::otlp::parse::{error_class, finish, Done, Loaded, GROUP_BYTES};
use crate::ingest::otlp::walk::{Part, Place};

/// Whole traces parsed by one task, each with the line it starts on.
struct Traces<'b> {
    traces: Vec<(&'b [u8], usize)>,
    bytes: usize,
}

/// Parses every trace of `env` (slices of `bytes`) into `acc`, in document order.
pub fn parse(bytes: &[u8], env: Envelope<'_>, label: &str, acc: &mut Loaded) -> Result<()> {
    if env.has_errors {
        acc.diag
            .add(Level::Warn, "Jaeger response lists errors", || {
                label.to_string()
            });
    }
    let mut lines = Lines::new(bytes);
    let mut groups: Vec<Traces<'_>> = Vec::new();
    let mut open: Option<Traces<'_>> = None;
    for trace in &env.traces {
        let line = lines.of_bytes(trace);
        if trace.len() > GROUP_BYTES {
            groups.extend(open.take());
            run(bytes, std::mem::take(&mut groups), label, acc)?;
            big_trace(bytes, trace, line, label, acc)?;
            continue;
        }
        let g = open.get_or_insert_with(|| Traces {
            traces: Vec::new(),
            bytes: 0,
        });
        g.traces.push((trace, line));
        g.bytes += trace.len();
        if g.bytes >= GROUP_BYTES {
            groups.extend(open.take());
        }
    }
    groups.extend(open);
    run(bytes, groups, label, acc)?;
    if env.truncated {
        let line = lines.of_bytes(bytes.get(bytes.len()..).unwrap_or_default());
        let reason = "truncated Jaeger document (what follows the cut is lost)";
        acc.diag
            .add(Level::Skip, reason, || format!("{label}:{line}"));
    }
    Ok(())
}

fn run(bytes: &[u8], groups: Vec<Traces<'_>>, label: &str, acc: &mut Loaded) -> Result<()> {
    let parts: Vec<Result<Done>> = groups
        .into_par_iter()
        .map(|g| walk_traces(bytes, g, label))
        .collect();
    acc.absorb_all(parts)
}

/// Rough input bytes per Jaeger span, to size builders (a span with a few tags: ~800).
const BYTES_PER_SPAN: usize = 800;

fn walk_traces(bytes: &[u8], g: Traces<'_>, label: &str) -> Result<Done> {
    let mut part = Part::with_capacity(g.bytes / BYTES_PER_SPAN);
    let mut scratch = String::new();
    for (text, line) in g.traces {
        let place = Place { label, line };
        match serde_json::from_slice::<TypedTrace>(text) {
            Ok(t) => {
                let Some(spans) = &t.spans else {
                    part.skip("Jaeger trace without spans", place);
                    continue;
                };
                let processes = t.processes.unwrap_or_default();
                for span in spans {
                    walk_span(span, &processes, &mut part, &mut scratch, place);
                }
            }
            Err(_) => span_by_span(bytes, text, line, &mut part, &mut scratch, label),
        }
    }
    finish(part)
}

/// The slow path for a trace that did not parse at once: its spans one by one.
fn span_by_span(
    bytes: &[u8],
    text: &[u8],
    line: usize,
    part: &mut Part,
    scratch: &mut String,
    label: &str,
) {
    let place = Place { label, line };
    let trace = match serde_json::from_slice::<Trace>(text) {
        Ok(t) => t,
        Err(e) => {
            part.skip(
                &format!("malformed Jaeger trace ({})", error_class(&e)),
                place,
            );
            return;
        }
    };
    let Some(spans) = &trace.spans else {
        part.skip("Jaeger trace without spans", place);
        return;
    };
    let processes = trace.processes.unwrap_or_default();
    let mut lines = Lines::at(bytes, text, line);
    for raw in spans {
        let place = Place {
            label,
            line: lines.of(raw),
        };
        walk_raw_span(raw, &processes, part, scratch, place);
    }
}

/// A trace larger than a group: its spans are spread over parallel groups.
fn big_trace(bytes: &[u8], text: &[u8], line: usize, label: &str, acc: &mut Loaded) -> Result<()> {
    match serde_json::from_slice::<Trace>(text) {
        Ok(t) => {
            let processes: Processes<'_> = t.processes.unwrap_or_default();
            let spans = t.spans.unwrap_or_default();
            super::run(bytes, [(&processes, spans.as_slice())], label, acc)
        }
        Err(e) => {
            let reason = format!("malformed Jaeger trace ({})", error_class(&e));
            acc.diag
                .add(Level::Skip, &reason, || format!("{label}:{line}"));
            Ok(())
        }
    }
}
