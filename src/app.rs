//! The one place that chains the stages: ingest → analyze → report / replay.

use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::analyze::{self, AnalyzeOptions};
use crate::cli::{
    AnalyzeArgs, Cli, Command, EvalArgs, InputArgs, InspectArgs, ReplayArgs, ReplayTuning,
    ReportArgs, SimulateArgs, WindowArgs,
};
use crate::ingest::{self, Dataset, IngestOptions};
use crate::model::columns as col;
use crate::model::finding::Severity;
use crate::model::frame::i64_col;
use crate::output::{safe, safe_text};
use crate::replay::simulate::SimulateOptions;
use crate::report::escape;
use crate::write::{Claims, Dest, Outputs};

/// Runs one command; returns the process exit status on success.
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Inspect(args) => inspect(&args),
        Command::Analyze(args) => analyze_command(&args),
        Command::Simulate(args) => match args.generate {
            Some(count) => crate::replay::corpus::run(&crate::replay::corpus::GenerateOptions {
                count,
                seed: args.seed.unwrap_or(0),
                out_dir: args.out_dir.clone().unwrap_or_default(),
            }),
            None => crate::replay::simulate::run(&simulate_options(&args)),
        },
        Command::Report(args) => report_command(&args),
        Command::Replay(args) => replay_command(&args),
        Command::Eval(args) => eval_command(&args),
    }
}

fn ingest_options(input: &InputArgs) -> IngestOptions {
    IngestOptions {
        traces: input.inputs.clone(),
        logs: input.logs.clone(),
        progress: crate::output::progress_allowed(),
    }
}

/// Every input of a command (traces and logs): never overwritten by its outputs.
fn inputs_of(input: &InputArgs) -> impl Iterator<Item = &PathBuf> {
    input.inputs.iter().chain(&input.logs)
}

fn export_contents(args: &InspectArgs) -> crate::export::Contents {
    if args.tables_only {
        crate::export::Contents::TablesOnly
    } else {
        crate::export::Contents::All
    }
}

fn inspect(args: &InspectArgs) -> Result<u8> {
    let mut claims = Claims::new(inputs_of(&args.input));
    let export = args
        .export
        .as_ref()
        .map(|dir| {
            let files = crate::export::files(export_contents(args));
            claims.folder("--export", dir, args.force, files)
        })
        .transpose()?;
    let outputs = claims.open()?;
    let data = ingest::ingest(&ingest_options(&args.input))?;
    // The data-quality pass (span table, skew) runs beside the summary and the export.
    let ((summary, exported), assessed) = rayon::join(
        || {
            (
                ingest::summary::summarize(&data),
                inspect_export(args, &data, &outputs, export),
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
        let text = escape::json_pretty(&doc).context("encoding the summary")?;
        println!("{text}");
    } else {
        print!(
            "{}",
            safe_text(&crate::output::inspect_text(&summary, &quality))
        );
    }
    exported?;
    outputs.commit()?;
    Ok(0)
}

/// `inspect --export DIR`: the frames and tables (or the tables only).
fn inspect_export(
    args: &InspectArgs,
    data: &ingest::Dataset,
    outputs: &Outputs,
    export: Option<Dest>,
) -> Result<()> {
    let Some(dir) = export else {
        return Ok(());
    };
    crate::export::export(data, outputs.folder(dir), export_contents(args))
}

fn analyze_command(args: &AnalyzeArgs) -> Result<u8> {
    let mut claims = Claims::new(inputs_of(&args.input));
    let file = args
        .output
        .as_ref()
        .map(|path| claims.file("-o", path, args.force))
        .transpose()?;
    let export = args
        .export
        .as_ref()
        .map(|dir| {
            let mut files = crate::export::files(crate::export::Contents::All).to_vec();
            files.extend(crate::export::buckets::FILES);
            claims.folder("--export", dir, args.force, &files)
        })
        .transpose()?;
    let outputs = claims.open()?;
    let data = load_spans(&args.input)?;
    let opts = analyze_options(&args.windows, &data)?;
    let analysis = analyze::analyze(&data, &opts)?;
    // The document only when it is written or printed (with 10^5 services it is big).
    if file.is_some() || args.json {
        let doc = analyze::findings_document(&analysis, &data);
        let text = escape::json_pretty(&doc).context("encoding the findings")?;
        if let Some(file) = &file {
            outputs.write_file(file, format!("{text}\n").as_bytes())?;
        }
        if args.json {
            println!("{text}");
        }
    }
    if !args.json {
        print!("{}", safe_text(&analyze::summary_text(&analysis)));
    }
    if let Some(dir) = export {
        crate::export::export(&data, outputs.folder(dir), crate::export::Contents::All)?;
        crate::export::buckets::export_buckets(&analysis, outputs.folder(dir))?;
    }
    outputs.commit()?;
    Ok(fail_on_status(args.fail_on.as_deref(), &analysis))
}

/// Loads the inputs for a command that diagnoses spans: no span at all is an error that
/// says why (what was skipped), not an empty report.
fn load_spans(input: &InputArgs) -> Result<Dataset> {
    spans_or_why(ingest::ingest(&ingest_options(input))?)
}

fn spans_or_why(data: Dataset) -> Result<Dataset> {
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
        model: args.model.clone().unwrap_or_default(),
        policies: args.policies.clone(),
        seed: args.seed,
        seeds: args.seeds,
        out_dir: args.out_dir.clone(),
        traces_out: args.traces_out.clone(),
        logs_out: args.logs_out.clone(),
        sample: args.sample,
        json: args.json,
        compare: args.compare.clone(),
        force: args.force,
    }
}

/// ingest → analyze (→ replay) → report folder.
fn report_command(args: &ReportArgs) -> Result<u8> {
    // Options first: a bad --capacity fails before minutes of loading.
    let replay_opts = args
        .replay
        .then(|| replay_options(&args.tuning))
        .transpose()?;
    // The folder too, when named: a refusal comes before minutes of work, not after.
    let named = args
        .output
        .as_ref()
        .map(|dir| report_claim(args, dir))
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
    // The default folder is named after the incident, so it is known only now.
    let (outputs, dest) = match named {
        Some(claimed) => claimed,
        None => report_claim(args, &crate::report::default_dir(&analysis))?,
    };
    let folder = outputs.folder(dest);
    crate::report::write_report(&input, folder)?;
    let shown = folder.shown().display().to_string();
    outputs.commit()?;
    eprintln!("cascade: report written to {}", safe(&shown));
    Ok(0)
}

/// Claims and opens the report folder.
fn report_claim(args: &ReportArgs, dir: &std::path::Path) -> Result<(Outputs, Dest)> {
    let mut claims = Claims::new(inputs_of(&args.input));
    let dest = claims.folder("report -o", dir, args.force, &crate::report::FILES)?;
    Ok((claims.open()?, dest))
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
    let mut claims = Claims::new(inputs_of(&args.input));
    let model_out = args
        .model_out
        .as_ref()
        .map(|path| claims.file("--model-out", path, args.force))
        .transpose()?;
    let outputs = claims.open()?;
    let data = load_spans(&args.input)?;
    let analysis = analyze::analyze(&data, &analyze_options(&args.windows, &data)?)?;
    let r = command::replay(&analysis, &opts)?;
    if let Some(file) = &model_out {
        let text = escape::json_pretty(&r.derived.json).context("encoding the model")?;
        outputs.write_file(file, (text + "\n").as_bytes())?;
    }
    outputs.commit()?;
    if args.json {
        let text = escape::json_pretty(&command::document(&r)).context("encoding the replay")?;
        println!("{text}");
    } else {
        print!("{}", safe_text(&command::text(&r)));
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

/// `cascade eval`: every case of the corpora analysed in parallel (ingest → analyze, with
/// the windows detected as `analyze` does by default), scored against its truth.
fn eval_command(args: &EvalArgs) -> Result<u8> {
    use rayon::prelude::*;

    use crate::eval::{corpus, document, score, table};
    // Floors first: a typo fails before minutes of analysis.
    let floors: Vec<score::Floor> = args
        .fail_under
        .iter()
        .map(|s| score::parse_floor(s))
        .collect::<Result<_>>()?;
    let cases = corpus::find_cases(&args.corpora)?;
    if cases.is_empty() {
        anyhow::bail!(
            "no case in the corpus: a case is a folder with traces and a truth file ({})",
            corpus::TRUTH_FILES.join(" or ")
        );
    }
    let started = std::time::Instant::now();
    let results: Vec<score::CaseResult> = cases.par_iter().map(eval_case).collect::<Result<_>>()?;
    let scores = score::score(&results);
    eprintln!(
        "cascade: {} case(s) analysed in {:.1} s",
        cases.len(),
        started.elapsed().as_secs_f64()
    );
    let corpora: Vec<String> = args
        .corpora
        .iter()
        .map(|c| c.display().to_string())
        .collect();
    if args.json {
        let doc = document::document(&scores, &corpora, args.cases);
        let text = serde_json::to_string_pretty(&doc).context("encoding the eval")?;
        println!("{text}");
    } else {
        print!(
            "{}",
            safe_text(&table::render(&scores, &corpora, args.cases))
        );
    }
    let broken = score::check_floors(&scores, &floors);
    for b in &broken {
        eprintln!("cascade: --fail-under: {b}");
    }
    Ok(u8::from(!broken.is_empty()))
}

/// One case: its truth (a bad truth file stops the run: the corpus is wrong) and what the
/// analysis said (an analysis that fails is that case's outcome, not the run's).
fn eval_case(case: &crate::eval::corpus::Case) -> Result<crate::eval::score::CaseResult> {
    let truth = crate::eval::truth::read_truth(&case.truth)?;
    let observed = analyze_case(case).map_err(|e| format!("{e:#}"));
    Ok(crate::eval::score::CaseResult {
        name: case.name.clone(),
        truth,
        observed,
    })
}

fn analyze_case(case: &crate::eval::corpus::Case) -> Result<crate::eval::observe::Observed> {
    if case.traces.is_empty() {
        anyhow::bail!("no traces.* file in {}", case.dir.display());
    }
    let opts = IngestOptions {
        traces: case.traces.clone(),
        logs: case.logs.clone(),
        progress: false,
    };
    let data = spans_or_why(ingest::ingest(&opts)?)?;
    let analysis = analyze::analyze(&data, &AnalyzeOptions::default())?;
    Ok(crate::eval::observe::observe(&analysis))
}
