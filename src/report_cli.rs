//! The `report` and `compare` commands: results folders (or the shipped published scores) in,
//! a leaderboard table or a pass / fail comparison out.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};

use leafbench::report::compare::{compare, Tolerances};
use leafbench::report::leaderboard::{self, Leaderboard};
use leafbench::report::published::Published;
use leafbench::report::sources::{self, TaskScore};
use leafbench::task::benchmark::Benchmark;
use leafbench::task::Registry;

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Md,
    Csv,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Reference {
    Published,
}

#[derive(Args)]
pub struct ReportArgs {
    /// Results folders (`<org>__<name>/<revision>/<Task>.json` below them) or
    /// `published:<org>/<name>` for the shipped published scores.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Aggregate over a named benchmark (tasks/benchmarks/*.yaml), e.g. "MTEB(eng, v2)";
    /// default: every task found.
    #[arg(long)]
    benchmark: Option<String>,
    /// Add the published Mean(Task) of each model and the difference.
    #[arg(long, value_enum)]
    reference: Option<Reference>,
    #[arg(long, value_enum, default_value = "md")]
    format: Format,
    /// Write the table to this file instead of standard output.
    #[arg(long)]
    output: Option<PathBuf>,
    /// Combine one model's results from several revisions into one row (an error otherwise).
    #[arg(long)]
    allow_mixed_revisions: bool,
    /// Folder of task YAML files (default: ./tasks, or LEAFBENCH_TASKS_DIR).
    #[arg(long)]
    tasks_dir: Option<PathBuf>,
}

#[derive(Args)]
pub struct CompareArgs {
    /// BASELINE CANDIDATE: each a results folder of one model, or `published:<org>/<name>`
    /// (only CANDIDATE when `--baseline` is given).
    #[arg(num_args = 1..=2, required = true)]
    sides: Vec<String>,
    /// The reference side, instead of the first positional argument.
    #[arg(long)]
    baseline: Option<String>,
    /// Largest allowed |Δ| of a score, in points (×100); finite and 0 or more.
    #[arg(long, default_value = "0.1", value_parser = Tolerances::parse_points)]
    tolerance: f64,
    /// A tolerance for one task type, e.g. `--per-type Retrieval=0.5` (repeatable).
    #[arg(long, value_parser = Tolerances::parse_per_type)]
    per_type: Vec<(String, f64)>,
    /// Compare every metric both sides report, not only the main score.
    #[arg(long)]
    all_metrics: bool,
    /// Pass even when the candidate lacks tasks (or grid cells) the baseline has; by default
    /// a missing task fails the comparison.
    #[arg(long)]
    allow_missing: bool,
    /// Combine one model's results from several revisions (an error otherwise).
    #[arg(long)]
    allow_mixed_revisions: bool,
    /// Folder of task YAML files (default: ./tasks, or LEAFBENCH_TASKS_DIR).
    #[arg(long)]
    tasks_dir: Option<PathBuf>,
}

pub fn report(args: &ReportArgs) -> Result<ExitCode> {
    let tasks_dir = args.tasks_dir.clone().unwrap_or_else(Registry::default_dir);
    let benchmark = find_benchmark(&args.benchmark, &tasks_dir)?;
    let registry = benchmark_registry(&tasks_dir, benchmark.as_ref())?;
    if let Some(out) = &args.output {
        leafbench::output::check_writable(out)?;
    }
    let scores = sources::load(&args.inputs, &registry, args.allow_mixed_revisions)?;
    let tasks = benchmark_tasks(benchmark.as_ref(), &registry, &scores)?;
    let published = match args.reference {
        Some(Reference::Published) => Some(published_scores(&registry, &scores)?),
        None => None,
    };
    let board = Leaderboard::new(&scores, &tasks, published.as_ref());
    let frame = board.to_frame()?;
    let text = match args.format {
        Format::Md => leaderboard::markdown(&frame),
        Format::Csv => leaderboard::csv(&frame),
        Format::Json => leaderboard::json(&frame),
    };
    match &args.output {
        Some(out) => leafbench::output::write_atomically(out, |w| w.write_all(text.as_bytes()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// The benchmark named by `--benchmark`, if any.
fn find_benchmark(name: &Option<String>, tasks_dir: &std::path::Path) -> Result<Option<Benchmark>> {
    Ok(match name {
        Some(n) => Some(Benchmark::find(&Benchmark::dir(tasks_dir), n)?),
        None => None,
    })
}

/// The task definitions, with the tasks of `benchmark` narrowed to the subsets it evaluates, so
/// a task's score is the mean over those subsets only.
fn benchmark_registry(
    tasks_dir: &std::path::Path,
    benchmark: Option<&Benchmark>,
) -> Result<Registry> {
    let registry = Registry::load(tasks_dir)?;
    Ok(match benchmark {
        Some(b) => registry.narrowed(&b.tasks)?,
        None => registry,
    })
}

/// The benchmark's tasks with their types, or every task the scores cover, sorted by name.
fn benchmark_tasks(
    benchmark: Option<&Benchmark>,
    registry: &Registry,
    scores: &[TaskScore],
) -> Result<Vec<(String, String)>> {
    let names: Vec<String> = match benchmark {
        Some(b) => b.task_names(),
        None => {
            let mut t: Vec<String> = scores.iter().map(|s| s.task.clone()).collect();
            t.sort();
            t.dedup();
            t
        }
    };
    names
        .into_iter()
        .map(|t| {
            let ty = registry.get(&t)?.type_name().to_string();
            Ok((t, ty))
        })
        .collect()
}

/// Published main scores of every model in the report, by (model, task).
fn published_scores(
    registry: &Registry,
    scores: &[TaskScore],
) -> Result<BTreeMap<(String, String), f64>> {
    let table = Published::load(&Published::default_path())?;
    let mut out = BTreeMap::new();
    // Every task of the registry: a model's published Mean(Task) covers the whole benchmark,
    // not only the tasks it ran.
    let models: std::collections::BTreeSet<&str> =
        scores.iter().map(|s| s.model.as_str()).collect();
    for model in models {
        for spec in registry.all() {
            if let Some(p) = table.score(model, &spec.name, &spec.eval_splits, &spec.subsets()) {
                out.insert((model.to_string(), spec.name.clone()), p);
            }
        }
    }
    Ok(out)
}

#[derive(Args)]
pub struct PlotArgs {
    /// Results folders or `published:<org>/<name>`, as for `report`.
    #[arg(required = true)]
    inputs: Vec<String>,
    /// Folder to write the charts to (PNG and SVG of each).
    #[arg(long)]
    out: PathBuf,
    /// Only the tasks of this benchmark (tasks/benchmarks/*.yaml).
    #[arg(long)]
    benchmark: Option<String>,
    /// Combine one model's results from several revisions (an error otherwise).
    #[arg(long)]
    allow_mixed_revisions: bool,
    /// Folder of task YAML files (default: ./tasks, or LEAFBENCH_TASKS_DIR).
    #[arg(long)]
    tasks_dir: Option<PathBuf>,
}

pub fn plot(args: &PlotArgs) -> Result<ExitCode> {
    let tasks_dir = args.tasks_dir.clone().unwrap_or_else(Registry::default_dir);
    let benchmark = find_benchmark(&args.benchmark, &tasks_dir)?;
    let registry = benchmark_registry(&tasks_dir, benchmark.as_ref())?;
    let mut scores = sources::load(&args.inputs, &registry, args.allow_mixed_revisions)?;
    if let Some(b) = &benchmark {
        let keep = b.task_names();
        scores.retain(|s| keep.contains(&s.task));
    }
    let charts = leafbench::report::plots::charts(&scores);
    if charts.is_empty() {
        anyhow::bail!("nothing to plot: the inputs hold no scores");
    }
    for named in &charts {
        named
            .chart
            .save(&args.out, &named.stem, named.width, named.height)
            .map_err(|e| anyhow::anyhow!("{}: {e}", named.stem))?;
        println!("{}", args.out.join(format!("{}.png", named.stem)).display());
    }
    Ok(ExitCode::SUCCESS)
}

pub fn compare_results(args: &CompareArgs) -> Result<ExitCode> {
    let tasks_dir = args.tasks_dir.clone().unwrap_or_else(Registry::default_dir);
    let registry = Registry::load(&tasks_dir)?;
    let load = |input: &String| {
        sources::load(
            std::slice::from_ref(input),
            &registry,
            args.allow_mixed_revisions,
        )
    };
    let (baseline, candidate) = match (&args.baseline, args.sides.as_slice()) {
        (Some(b), [c]) => (b, c),
        (None, [b, c]) => (b, c),
        (Some(_), _) => anyhow::bail!("with --baseline, give only the candidate"),
        (None, _) => anyhow::bail!("give a baseline and a candidate"),
    };
    let baseline = load(baseline)?;
    let candidate = load(candidate)?;
    let tolerances = Tolerances {
        default: args.tolerance,
        per_type: args.per_type.iter().cloned().collect(),
    };
    let comparison = compare(
        &baseline,
        &candidate,
        &tolerances,
        args.all_metrics,
        args.allow_missing,
    )?;
    print!("{}", comparison.to_text());
    Ok(if comparison.passes() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
