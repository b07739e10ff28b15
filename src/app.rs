//! The one place that chains the stages: ingest → analyze → report / replay.

use anyhow::{Context, Result};

use crate::analyze::{self, AnalyzeOptions};
use crate::cli::{
    AnalyzeArgs, Cli, Command, InputArgs, InspectArgs, ReplayArgs, ReplayTuning, ReportArgs,
    SimulateArgs, WindowArgs,
};
use crate::ingest::{self, Dataset, IngestOptions};
use crate::model::columns as col;
use crate::model::finding::Severity;
use crate::model::frame::i64_col;
use crate::replay::simulate::SimulateOptions;

/// Runs one command; returns the process exit status on success.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Inspect(args) => inspect(&args),
        Command::Analyze(args) => analyze_command(&args),
        Command::Simulate(args) => crate::replay::simulate::run(&simulate_options(&args)),
        Command::Report(args) => report_command(&args),
        Command::Replay(args) => replay_command(&args),
    }
}

fn ingest_options(input: &InputArgs) -> IngestOptions {
    IngestOptions {
        traces: input.inputs.clone(),
        logs: input.logs.clone(),
        progress: crate::output::progress_allowed(),
    }
}

fn inspect(args: &InspectArgs) -> Result<u8> {
    let data = ingest::ingest(&ingest_options(&args.input))?;
    // The data-quality pass (span table, skew) runs beside the summary and the export.
    let ((summary, exported), assessed) = rayon::join(
        || {
            (
                ingest::summary::summarize(&data),
                inspect_export(args, &data),
            )
        },
        || analyze::quality::assess(&data),
    );
    let (summary, (_, quality)) = (summary?, assessed?);
    if args.json {
        let doc = crate::output::InspectDoc {
            summary: &summary,
            data_quality: &quality,
        };
        let text = serde_json::to_string_pretty(&doc).context("encoding the summary")?;
        println!("{text}");
    } else {
        print!("{}", crate::output::inspect_text(&summary, &quality));
    }
    exported?;
    Ok(0)
}

/// `inspect --export DIR`: the frames and tables (or the tables only).
fn inspect_export(args: &InspectArgs, data: &ingest::Dataset) -> Result<()> {
    let Some(dir) = &args.export else {
        return Ok(());
    };
    let contents = if args.tables_only {
        crate::export::Contents::TablesOnly
    } else {
        crate::export::Contents::All
    };
    crate::export::export(data, dir, contents)
}

fn analyze_command(args: &AnalyzeArgs) -> Result<u8> {
    let data = load_spans(&args.input)?;
    let opts = analyze_options(&args.windows, &data)?;
    let analysis = analyze::analyze(&data, &opts)?;
    // The document only when it is written or printed (with 10^5 services it is big).
    if args.output.is_some() || args.json {
        let doc = analyze::findings_document(&analysis, &data);
        let text = serde_json::to_string_pretty(&doc).context("encoding the findings")?;
        if let Some(path) = &args.output {
            std::fs::write(path, format!("{text}\n"))
                .with_context(|| format!("writing {}", path.display()))?;
        }
        if args.json {
            println!("{text}");
        }
    }
    if !args.json {
        print!("{}", analyze::summary_text(&analysis));
    }
    if let Some(dir) = &args.export {
        crate::export::export(&data, dir, crate::export::Contents::All)?;
        crate::export::buckets::export_buckets(&analysis, dir)?;
    }
    Ok(fail_on_status(args.fail_on.as_deref(), &analysis))
}

/// Loads the inputs for a command that diagnoses spans: no span at all is an error that
/// says why (what was skipped), not an empty report.
fn load_spans(input: &InputArgs) -> Result<Dataset> {
    let data = ingest::ingest(&ingest_options(input))?;
    if data.spans.height() > 0 {
        return Ok(data);
    }
    let skipped = data.diagnostics.total(ingest::diag::Level::Skip);
    let reasons: Vec<String> = data
        .diagnostics
        .iter()
        .filter(|(level, _, _)| *level == ingest::diag::Level::Skip)
        .take(3)
        .map(|(_, reason, e)| format!("{reason} ({}×, e.g. {})", e.count, e.examples.join(", ")))
        .collect();
    anyhow::bail!(
        "no spans to analyse in the input ({skipped} records skipped{}{}); `cascade inspect` \
         shows everything that was read",
        if reasons.is_empty() { "" } else { ": " },
        reasons.join("; ")
    )
}

/// The analysis windows from `--incident` / `--baseline` (offsets count from the first span).
fn analyze_options(args: &WindowArgs, data: &Dataset) -> Result<AnalyzeOptions> {
    if args.incident.is_none() && args.baseline.is_none() {
        return Ok(AnalyzeOptions::default());
    }
    let first_ns = first_span_ns(data)?;
    let parse = |spec: &Option<String>, what: &str| {
        spec.as_deref()
            .map(|s| analyze::parse_window(s, first_ns).with_context(|| format!("--{what} {s}")))
            .transpose()
    };
    Ok(AnalyzeOptions {
        incident: parse(&args.incident, "incident")?,
        baseline: parse(&args.baseline, "baseline")?,
    })
}

/// The first span of the analysed range: stray timestamps (a span stamped 1970) are not
/// where offsets count from.
fn first_span_ns(data: &Dataset) -> Result<i64> {
    if data.spans.height() == 0 {
        return Ok(0);
    }
    let read = |name| -> Result<Vec<i64>> {
        Ok(i64_col(&data.spans, name)?
            .iter()
            .map(|v| v.unwrap_or(0))
            .collect())
    };
    Ok(analyze::timerange::first_start(&read(col::START_NS)?, &read(col::END_NS)?).unwrap_or(0))
}

/// Exit status 1 when a finding at or above `--fail-on` exists.
fn fail_on_status(fail_on: Option<&str>, analysis: &analyze::Analysis) -> u8 {
    let Some(level) = fail_on.and_then(Severity::parse) else {
        return 0;
    };
    u8::from(analysis.findings.iter().any(|f| f.severity >= level))
}

fn simulate_options(args: &SimulateArgs) -> SimulateOptions {
    SimulateOptions {
        model: args.model.clone(),
        policies: args.policies.clone(),
        seed: args.seed,
        seeds: args.seeds,
        out_dir: args.out_dir.clone(),
        traces_out: args.traces_out.clone(),
        logs_out: args.logs_out.clone(),
        sample: args.sample,
        json: args.json,
        compare: args.compare.clone(),
    }
}

/// ingest → analyze (→ replay) → report folder.
fn report_command(args: &ReportArgs) -> Result<u8> {
    // Options first: a bad --capacity fails before minutes of loading.
    let replay_opts = args
        .replay
        .then(|| replay_options(&args.tuning))
        .transpose()?;
    let data = load_spans(&args.input)?;
    let analysis = analyze::analyze(&data, &analyze_options(&args.windows, &data)?)?;
    let findings = analyze::findings_document(&analysis, &data);
    let replay = replay_opts
        .map(|o| crate::replay::command::replay_view(&data, &analysis, &o))
        .transpose()?;
    let input = crate::report::ReportInput {
        analysis: &analysis,
        findings: &findings,
        replay: replay.as_ref(),
        critical_path: None,
    };
    let report_opts = crate::report::ReportOptions {
        out_dir: args
            .output
            .clone()
            .unwrap_or_else(|| crate::report::default_dir(&analysis)),
        force: args.force,
    };
    let dir = crate::report::write_report(&input, &report_opts)?;
    eprintln!("cascade: report written to {}", dir.display());
    Ok(0)
}

/// The replay's options from the shared flags.
fn replay_options(t: &ReplayTuning) -> Result<crate::replay::command::ReplayOptions> {
    Ok(crate::replay::command::ReplayOptions {
        derive: crate::replay::derive::DeriveOptions {
            sample_rate: t.sample_rate,
            capacity: parse_capacity(&t.capacity)?,
        },
        policies: t.policies.clone(),
        seeds: t.seeds,
        first_seed: t.seed,
        sweep: !t.no_sweep,
        progress: crate::output::progress_allowed(),
    })
}

/// `cascade replay`: ingest, analyse, replay; the model file and the document or table.
fn replay_command(args: &ReplayArgs) -> Result<u8> {
    use crate::replay::command;
    let opts = replay_options(&args.tuning)?;
    let data = load_spans(&args.input)?;
    let analysis = analyze::analyze(&data, &analyze_options(&args.windows, &data)?)?;
    let r = command::replay(&analysis, &opts)?;
    if let Some(path) = &args.model_out {
        let text = serde_json::to_string_pretty(&r.derived.json).context("encoding the model")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let text =
            serde_json::to_string_pretty(&command::document(&r)).context("encoding the replay")?;
        println!("{text}");
    } else {
        print!("{}", command::text(&r));
    }
    Ok(0)
}

/// `--capacity svc=N` values.
fn parse_capacity(specs: &[String]) -> Result<Vec<(String, u32)>> {
    specs
        .iter()
        .map(|s| {
            let (svc, n) = s
                .split_once('=')
                .with_context(|| format!("--capacity `{s}`: expected SERVICE=WORKERS"))?;
            let n: u32 = n.trim().parse().ok().filter(|&n| n >= 1).with_context(|| {
                format!("--capacity `{s}`: workers must be a whole number >= 1")
            })?;
            Ok((svc.trim().to_string(), n))
        })
        .collect()
}
