//! Ingest: OTLP/JSON, Jaeger and Zipkin traces and structured logs into polars frames.
//!
//! Entry point: [`ingest`]. Every input is detected from its content (compression, then
//! shape); bad records become counted [`diag::Diagnostics`], never a panic; only an input
//! that is not telemetry at all (or cannot be read) is an error.

pub mod cursor;
pub mod damage;
pub mod diag;
pub mod frames;
mod gzip;
pub mod jaeger;
pub mod logs;
pub mod otlp;
pub mod record;
pub mod source;
pub mod summary;
#[cfg(test)]
pub mod test_support;
#[cfg(test)]
mod tests;
pub mod zipkin;
mod zstd;

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use polars::prelude::DataFrame;

use self::diag::{Diagnostics, Level};
use self::otlp::{Loaded, Shape};
use self::source::{Compression, Input};

/// What to load. Both lists are files or folders; `-` is stdin.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Trace inputs (a file may also carry logs; they are taken too).
    pub traces: Vec<PathBuf>,
    /// Log inputs (`--logs`).
    pub logs: Vec<PathBuf>,
    /// Draw a progress bar on stderr (only ever set when stderr is a terminal). Default: off.
    pub progress: bool,
}

/// The detected format of one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// OTLP/JSON (ExportTraceServiceRequest / LogsData, JSON Lines, wrappers).
    Otlp,
    /// Jaeger JSON (query API `{data: […]}`, one trace, a bare span or trace array).
    Jaeger,
    /// Zipkin v2 JSON (an array of spans, a list of traces, or one span).
    Zipkin,
    /// JSON-lines application logs (pino, zap, ECS, slog, …).
    JsonLogs,
}

impl Format {
    /// The name `inspect` shows (the same as in its JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Otlp => "otlp",
            Format::Jaeger => "jaeger",
            Format::Zipkin => "zipkin",
            Format::JsonLogs => "json_logs",
        }
    }
}

/// What one input file gave.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    pub path: String,
    pub format: Format,
    pub compression: Compression,
    pub spans: u64,
    pub log_records: u64,
    /// Lines / documents of other signals (metrics, profiles), counted and not read.
    pub other_signals: u64,
}

/// How log records matched spans.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LogJoin {
    /// Log records carrying a trace id.
    pub with_trace_id: u64,
    /// Log records whose trace id is a trace in the spans frame.
    pub matched_trace: u64,
    /// Log records whose (trace id, span id) is a span in the spans frame.
    pub matched_span: u64,
}

/// Everything loaded: the frames (column names in [`crate::model::columns`]) and the account
/// of what was read and skipped.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub spans: DataFrame,
    pub events: DataFrame,
    pub links: DataFrame,
    pub logs: DataFrame,
    pub files: Vec<FileReport>,
    pub diagnostics: Diagnostics,
    pub log_join: LogJoin,
}

/// Loads every input into frames: trace inputs then log inputs, each file in order. Every
/// input is read as what its content is, whichever list it came in; one in the wrong list,
/// or given twice, is noticed with a warning (and a file given twice is read once).
pub fn ingest(opts: &IngestOptions) -> Result<Dataset> {
    let traces = source::expand(&opts.traces)?;
    let logs = source::expand(&opts.logs)?;
    let mut loaded = Loaded::default();
    let roles = traces
        .into_iter()
        .map(|i| (i, Role::Traces))
        .chain(logs.into_iter().map(|i| (i, Role::Logs)));
    let inputs = once_each(roles.collect(), &mut loaded.diag);
    let mut files = Vec::with_capacity(inputs.len());
    let all: Vec<Input> = inputs.iter().map(|(i, _)| i.clone()).collect();
    let bar = progress_bar(opts.progress, source::total_bytes(&all));
    for (i, (input, role)) in inputs.iter().enumerate() {
        bar.set_message(format!(
            "file {}/{}: {}",
            i + 1,
            inputs.len(),
            crate::output::safe(&input.label())
        ));
        let report = load_input(input, &mut loaded, &bar)?;
        role.check(&report, &mut loaded.diag);
        files.push(report);
    }
    bar.finish_and_clear();
    finish_dataset(loaded, files)
}

/// The list an input was given in.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Traces,
    Logs,
}

impl Role {
    /// Warns when what a file held is not what its list says (it is still read as it is).
    fn check(self, report: &FileReport, diag: &mut Diagnostics) {
        let place = || report.path.clone();
        match self {
            Role::Logs if report.spans > 0 => {
                diag.add(Level::Warn, "spans given as --logs (read as traces)", place)
            }
            Role::Traces if report.spans == 0 && report.log_records > 0 => diag.add(
                Level::Warn,
                "log records given as traces (read as logs)",
                place,
            ),
            _ => {}
        }
    }
}

/// The inputs with each file kept once (the first time it is named, compared by its
/// canonical path): reading a file twice would count every span twice.
fn once_each(inputs: Vec<(Input, Role)>, diag: &mut Diagnostics) -> Vec<(Input, Role)> {
    let mut seen = std::collections::BTreeSet::new();
    inputs
        .into_iter()
        .filter(|(input, _)| {
            let Input::File(path) = input else {
                return true;
            };
            let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            let first = seen.insert(key);
            if !first {
                diag.add(
                    Level::Warn,
                    "input given more than once (read once)",
                    || input.label(),
                );
            }
            first
        })
        .collect()
}

/// Inputs smaller than this load too fast for a bar to help.
const PROGRESS_MIN_BYTES: u64 = 64 << 20;

/// A bar over the bytes on disk, on stderr; hidden unless `show` (stderr is a terminal) and
/// the inputs are large enough to take a second or more.
fn progress_bar(show: bool, bytes: u64) -> indicatif::ProgressBar {
    if !show || bytes < PROGRESS_MIN_BYTES {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(bytes);
    let template = "reading {bar:30} {binary_bytes}/{binary_total_bytes} \
                    {binary_bytes_per_sec} eta {eta} {wide_msg}";
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

/// A byte-order mark some Windows tools write before JSON; serde_json does not skip it.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// What an input is, after reading its first block.
fn load_input(input: &Input, acc: &mut Loaded, bar: &indicatif::ProgressBar) -> Result<FileReport> {
    let label = input.label();
    let opened = source::open_with_progress(input, bar)?;
    let damage = opened.damage;
    let mut reader = opened.reader;
    let mut head = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut reader, otlp::BLOCK_BYTES as u64),
        &mut head,
    )
    .with_context(|| format!("{label}: cannot read"))?;
    if head.starts_with(UTF8_BOM) {
        head.drain(..UTF8_BOM.len());
    }
    let before = Counts::of(acc);
    let size = match input {
        Input::File(path) => std::fs::metadata(path).map_or(0, |m| m.len() as usize),
        Input::Stdin => 0,
    };
    let format = match otlp::detect(&head) {
        Shape::Empty => {
            acc.diag.add(Level::Warn, "empty input", || label.clone());
            Format::Otlp
        }
        Shape::Lines => {
            otlp::parse_lines(&mut reader, head, &label, acc)?;
            Format::Otlp
        }
        Shape::Document => {
            let all = read_rest(&mut reader, head, &label, size)?;
            otlp::parse_whole(&all, &label, acc)?;
            Format::Otlp
        }
        Shape::Other if jaeger::detect(&head) => {
            jaeger::stream::parse_reader(&mut reader, head, size, &label, acc)?;
            Format::Jaeger
        }
        Shape::Other if zipkin::detect(&head) => {
            let all = read_rest(&mut reader, head, &label, size)?;
            zipkin::parse_whole(&all, &label, acc)?;
            Format::Zipkin
        }
        Shape::Other if logs::looks_like_json_logs(&head) => {
            let all = read_rest(&mut reader, head, &label, size)?;
            let records = logs::parse_json_logs(&all, &label, &mut acc.diag);
            acc.logs.extend(records);
            Format::JsonLogs
        }
        Shape::Other => bail!(
            "{label}: not OTLP/JSON, Jaeger or Zipkin v2 telemetry nor JSON-lines application \
             logs; expected an ExportTraceServiceRequest / LogsData object (resourceSpans / \
             resourceLogs) or JSON Lines of them, Jaeger JSON ({{data: [trace…]}}, a trace, \
             or spans with traceID/spanID), a Zipkin v2 span list (Zipkin v1 with \
             binaryAnnotations is not read), or one JSON log object per line"
        ),
    };
    damage.report(&label, &mut acc.diag);
    Ok(Counts::of(acc).report(before, label, format, opened.compression))
}

/// Reads the rest of an input after `head`, reserving `size` bytes first (a file's size) so
/// a 100 MB document is not copied by repeated growth.
fn read_rest(
    reader: &mut dyn std::io::Read,
    mut head: Vec<u8>,
    label: &str,
    size: usize,
) -> Result<Vec<u8>> {
    head.reserve(size.saturating_sub(head.len()) + 1);
    reader
        .read_to_end(&mut head)
        .with_context(|| format!("{label}: cannot read"))?;
    Ok(head)
}

/// Running totals, to attribute counts to one file.
#[derive(Clone, Copy)]
struct Counts {
    spans: u64,
    logs: u64,
    other: u64,
}

impl Counts {
    fn of(acc: &Loaded) -> Self {
        Counts {
            spans: acc.span_count,
            logs: acc.logs.len() as u64,
            other: acc.other_signals,
        }
    }

    fn report(
        self,
        before: Counts,
        path: String,
        format: Format,
        compression: Compression,
    ) -> FileReport {
        FileReport {
            path,
            format,
            compression,
            spans: self.spans - before.spans,
            log_records: self.logs - before.logs,
            other_signals: self.other - before.other,
        }
    }
}

/// Builds the logs frame and the log join, and gives empty frames their columns.
fn finish_dataset(loaded: Loaded, files: Vec<FileReport>) -> Result<Dataset> {
    let or_empty = |df: DataFrame, empty: fn() -> Result<DataFrame>| {
        if df.width() == 0 {
            empty()
        } else {
            Ok(df)
        }
    };
    // Frames stay in their parsed chunks (one per ~2 MB of input): a rechunk would copy
    // every string column once more and push the 1M-span load past 1 GB of memory.
    let spans = or_empty(loaded.spans, || {
        frames::SpanColumns::with_capacity(0).finish()
    })?;
    let events = or_empty(loaded.events, || {
        frames::EventColumns::with_capacity(0).finish()
    })?;
    let links = or_empty(loaded.links, || {
        frames::LinkColumns::with_capacity(0).finish()
    })?;
    let logs_df = logs::logs_frame(&loaded.logs).context("building the logs frame")?;
    let log_join = if loaded.logs.is_empty() {
        LogJoin::default()
    } else {
        logs::join_logs(&logs_df, &spans).context("joining logs to spans")?
    };
    Ok(Dataset {
        spans,
        events,
        links,
        logs: logs_df,
        files,
        diagnostics: loaded.diag,
        log_join,
    })
}
