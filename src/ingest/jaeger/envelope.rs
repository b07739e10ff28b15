//! The query API envelope `{"data": [trace…]}`: traces found by [`super::scan`] are parsed
//! in parallel groups of about `GROUP_BYTES` (2 MB) (started while the scan goes on, gathered
//! back in document order), each trace in one serde pass with its spans typed. A trace that
//! fails that pass is re-read span by span (so one bad span skips only itself); a trace
//! larger than a group has its spans spread over groups instead.

use std::sync::{Mutex, PoisonError};

use anyhow::Result;
use rayon::prelude::*;

use super::batch::Lines;
use super::fast;
use super::scan::{self, ScanEnd};
use super::walk::{walk_raw_span, walk_span, WalkScratch};
use super::wire::{Processes, Trace, TypedTrace};
use super::BYTES_PER_SPAN;
use crate::ingest::diag::Level;
use crate::ingest::otlp::parse::{error_class, finish, Done, Loaded, GROUP_BYTES};
use crate::ingest::otlp::walk::{Part, Place};

/// The input, for the tasks: each trace is checked as UTF-8 at once (in its task, in
/// parallel) and parsed as text, so serde_json does not check every string again.
#[derive(Clone, Copy)]
struct Source<'d> {
    bytes: &'d [u8],
}

impl<'d> Source<'d> {
    fn new(bytes: &'d [u8]) -> Self {
        Source { bytes }
    }

    /// Parses `slice` (a part of the input).
    fn parse<T: serde::Deserialize<'d>>(&self, slice: &'d [u8]) -> serde_json::Result<T> {
        match std::str::from_utf8(slice) {
            Ok(text) => serde_json::from_str(text),
            Err(_) => serde_json::from_slice(slice),
        }
    }
}

/// Whole traces parsed by one task, each with the line it starts on.
struct Traces<'b> {
    traces: Vec<(&'b [u8], usize)>,
    bytes: usize,
}

/// One parallel task, in document order.
enum Work<'b> {
    Traces(Traces<'b>),
    /// A trace larger than a group, with its line.
    Big(&'b [u8], usize),
}

/// Finished parts by task number, gathered from the tasks as they end.
type Results = Mutex<Vec<(usize, Vec<Result<Done>>)>>;

/// Parses the envelope at the start of `doc` (a slice of `bytes`) into `acc`, in document
/// order, tasks starting while the scan goes on; the bytes it took, or `None` when `doc` is
/// not an envelope.
pub fn parse<'d>(
    bytes: &'d [u8],
    doc: &'d [u8],
    label: &str,
    acc: &mut Loaded,
) -> Result<Option<usize>> {
    parse_scanned(bytes, doc, false, label, acc)
}

/// Parses the rest of an envelope from `doc`, which starts between two elements of its
/// `data` array (the envelope began before `doc`), as [`parse`] would go on from there; the
/// bytes of `doc` it took.
pub fn parse_in_data<'d>(
    bytes: &'d [u8],
    doc: &'d [u8],
    label: &str,
    acc: &mut Loaded,
) -> Result<usize> {
    let used = parse_scanned(bytes, doc, true, label, acc)?;
    Ok(used.unwrap_or(doc.len()))
}

/// [`parse`], or [`parse_in_data`] when `in_data`.
fn parse_scanned<'d>(
    bytes: &'d [u8],
    doc: &'d [u8],
    in_data: bool,
    label: &str,
    acc: &mut Loaded,
) -> Result<Option<usize>> {
    let results: Results = Mutex::new(Vec::new());
    let source = Source::new(bytes);
    let (end, last_line) = rayon::scope(|s| {
        let mut tasks = 0usize;
        let mut submit = |work: Work<'d>| {
            let (index, results) = (tasks, &results);
            tasks += 1;
            s.spawn(move |_| {
                let parts = run(source, work, label);
                let mut all = results.lock().unwrap_or_else(PoisonError::into_inner);
                all.push((index, parts));
            });
        };
        let mut lines = Lines::new(bytes);
        let mut open: Option<Traces<'d>> = None;
        let on_trace = |trace: &'d [u8]| {
            let line = lines.of_bytes(trace);
            if trace.len() > GROUP_BYTES {
                open.take().map(Work::Traces).map(&mut submit);
                submit(Work::Big(trace, line));
                return;
            }
            let g = open.get_or_insert_with(|| Traces {
                traces: Vec::new(),
                bytes: 0,
            });
            g.traces.push((trace, line));
            g.bytes += trace.len();
            if g.bytes >= GROUP_BYTES {
                open.take().map(Work::Traces).map(&mut submit);
            }
        };
        let end = if in_data {
            scan::scan_in_data(doc, on_trace)
        } else {
            scan::scan(doc, on_trace)
        };
        open.take().map(Work::Traces).map(&mut submit);
        (
            end,
            lines.of_bytes(bytes.get(bytes.len()..).unwrap_or_default()),
        )
    });
    if !end.seen_data {
        return Ok(None);
    }
    let mut results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    results.sort_by_key(|(index, _)| *index);
    for (_, parts) in results {
        acc.absorb_all(parts)?;
    }
    notes(&end, last_line, label, acc);
    Ok(Some(end.end))
}

/// What the scan noticed: an `errors` list, a cut.
fn notes(end: &ScanEnd, last_line: usize, label: &str, acc: &mut Loaded) {
    if end.has_errors {
        acc.diag
            .add(Level::Warn, "Jaeger response lists errors", || {
                label.to_string()
            });
    }
    if end.truncated {
        let reason = "truncated Jaeger document (what follows the cut is lost)";
        acc.diag
            .add(Level::Skip, reason, || format!("{label}:{last_line}"));
    }
}

fn run<'d>(source: Source<'d>, work: Work<'d>, label: &str) -> Vec<Result<Done>> {
    match work {
        Work::Traces(g) => vec![walk_traces(source, g, label)],
        Work::Big(text, line) => big_trace(source, text, line, label),
    }
}

/// Reads traces found by a scan of a part of `bytes` (each with its line) as the scan's
/// tasks do: whole traces in parallel groups of about `GROUP_BYTES`, a bigger one spread.
pub(super) fn walk_found<'d>(
    bytes: &'d [u8],
    found: Vec<(&'d [u8], usize)>,
    label: &str,
) -> Vec<Result<Done>> {
    let source = Source::new(bytes);
    let mut works = Vec::new();
    let mut open: Option<Traces<'d>> = None;
    for (trace, line) in found {
        if trace.len() > GROUP_BYTES {
            works.extend(open.take().map(Work::Traces));
            works.push(Work::Big(trace, line));
            continue;
        }
        let g = open.get_or_insert_with(|| Traces {
            traces: Vec::new(),
            bytes: 0,
        });
        g.traces.push((trace, line));
        g.bytes += trace.len();
        if g.bytes >= GROUP_BYTES {
            works.extend(open.take().map(Work::Traces));
        }
    }
    works.extend(open.map(Work::Traces));
    let parts: Vec<Vec<Result<Done>>> = works
        .into_par_iter()
        .map(|work| run(source, work, label))
        .collect();
    parts.into_iter().flatten().collect()
}

/// Reads a task's traces the fast way, else (anything not taken) the serde way from scratch.
fn walk_traces<'d>(source: Source<'d>, g: Traces<'d>, label: &str) -> Result<Done> {
    let mut part = Part::with_capacity(g.bytes / BYTES_PER_SPAN);
    if fast::walk_traces(&g.traces, label, &mut part).is_some() {
        return finish(part);
    }
    walk_traces_serde(source, g, label)
}

/// The serde path alone over `traces` (slices of `bytes` with their lines), for tests that
/// hold the fast path to it.
#[cfg(test)]
pub(super) fn serde_traces<'d>(
    bytes: &'d [u8],
    traces: Vec<(&'d [u8], usize)>,
    label: &str,
) -> Result<Done> {
    let g = Traces { traces, bytes: 0 };
    walk_traces_serde(Source::new(bytes), g, label)
}

/// The serde path: each trace parsed whole, or span by span when that fails.
fn walk_traces_serde<'d>(source: Source<'d>, g: Traces<'d>, label: &str) -> Result<Done> {
    let mut part = Part::with_capacity(g.bytes / BYTES_PER_SPAN);
    let mut scratch = WalkScratch::default();
    for (text, line) in g.traces {
        let place = Place { label, line };
        match source.parse::<TypedTrace>(text) {
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
            Err(_) => span_by_span(source, text, line, &mut part, &mut scratch, label),
        }
    }
    finish(part)
}

/// The slow path for a trace that did not parse at once: its spans one by one.
fn span_by_span<'d>(
    source: Source<'d>,
    text: &'d [u8],
    line: usize,
    part: &mut Part,
    scratch: &mut WalkScratch,
    label: &str,
) {
    let place = Place { label, line };
    let trace = match source.parse::<Trace>(text) {
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
    let mut lines = Lines::at(source.bytes, text, line);
    for raw in spans {
        let place = Place {
            label,
            line: lines.of(raw),
        };
        walk_raw_span(raw, &processes, part, scratch, place);
    }
}

/// A trace larger than a group: its spans are spread over parallel groups.
fn big_trace<'d>(
    source: Source<'d>,
    text: &'d [u8],
    line: usize,
    label: &str,
) -> Vec<Result<Done>> {
    match source.parse::<Trace>(text) {
        Ok(t) => {
            let processes: Processes<'_> = t.processes.unwrap_or_default();
            let spans = t.spans.unwrap_or_default();
            super::walk_groups(source.bytes, [(&processes, spans.as_slice())], label)
        }
        Err(e) => {
            let mut part = Part::with_capacity(0);
            let reason = format!("malformed Jaeger trace ({})", error_class(&e));
            part.skip(&reason, Place { label, line });
            vec![finish(part)]
        }
    }
}
