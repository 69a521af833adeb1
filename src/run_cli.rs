//! The `run` and `plan` commands: a configuration evaluated whole, one shard of it encoded
//! into the embedding store, or its plan printed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use leafbench::config::RunConfig;
use leafbench::data::check::SkipCheck;
use leafbench::data::DataOrigin;
use leafbench::plan::{describe, Plan, PlanInputs};
use leafbench::report::published::Published;
use leafbench::run::RunOptions;
use leafbench::shard::Shard;
use leafbench::shard_encode::encode_shard;
use leafbench::store::EmbeddingStore;
use leafbench::task::Registry;
use leafbench::text_stats::TextStats;
use leafbench::EncodeOptions;

/// Where a run's tasks and data come from, shared by `run` and `plan` (which must agree);
/// `--data-dir` and `--data-source` override the configuration.
#[derive(Args)]
pub struct Inputs {
    /// Never download; use local folders and the Hugging Face cache only.
    #[arg(long)]
    offline: bool,
    /// Folder of task YAML files (default: ./tasks, or LEAFBENCH_TASKS_DIR).
    #[arg(long)]
    tasks_dir: Option<PathBuf>,
    /// Local mirror of MTEB data (default: the config's data_dir, else LEAFBENCH_DATA_DIR,
    /// else ../shared/data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// auto: the local mirror for the tasks it holds, the task's Hugging Face dataset (cache,
    /// then download) for the rest; local or hub: only that source.
    #[arg(long, value_enum)]
    data_source: Option<DataOrigin>,
    /// Do not check loaded data against MTEB's statistics of it (tasks/data_stats.json); the
    /// result files say `"data_check": "skipped"`. `no_data_check: [Task, ...]` in the config
    /// skips it for some tasks only.
    #[arg(long)]
    no_data_check: bool,
}

impl Inputs {
    /// The configuration, with this command line's overrides, and the task definitions.
    fn load(&self, config: &Path) -> Result<(RunConfig, Registry)> {
        let mut cfg = RunConfig::load(config)?;
        if let Some(dir) = &self.data_dir {
            cfg.data_dir = Some(dir.clone());
        }
        if let Some(source) = self.data_source {
            cfg.data_source = source;
        }
        if self.no_data_check {
            cfg.no_data_check = SkipCheck::All(true);
        }
        let tasks_dir = self.tasks_dir.clone().unwrap_or_else(Registry::default_dir);
        Ok((cfg, Registry::load(&tasks_dir)?))
    }
}

/// `leafbench run` options.
#[derive(Args)]
pub struct RunArgs {
    /// Run configuration (YAML): models, tasks, batch_size, data_dir, data_source, output_dir,
    /// and optionally a compression grid (README: Compression grid).
    config: PathBuf,
    /// Recompute results that already exist (they are reused otherwise).
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    inputs: Inputs,
    /// Hide progress bars.
    #[arg(long)]
    quiet: bool,
    /// Also write the summary table as Markdown to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Neither read nor write the embedding store.
    #[arg(long)]
    no_cache: bool,
    /// Embedding store folder (default: LEAFBENCH_CACHE, else ~/.cache/leafbench/embeddings);
    /// shards of a split run share one on a filesystem every node sees.
    #[arg(long, conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,
    /// Succeed even when some requested tasks could not run (no data here); without it such a
    /// run exits with status 3. Also `allow_partial: true` in the config.
    #[arg(long)]
    allow_partial: bool,
    /// Encode only shard I of N (0-based) into the embedding store, evaluating nothing; a
    /// later run without --shard evaluates from the store. Also read from SLURM_ARRAY_TASK_ID
    /// or JOB_COMPLETION_INDEX (README: Running on a cluster).
    #[arg(long, value_name = "I/N", conflicts_with = "no_cache")]
    shard: Option<String>,
    /// The shard count when the index comes from the environment (also LEAFBENCH_SHARDS).
    #[arg(long, value_name = "N")]
    shards: Option<usize>,
}

pub fn run_config(args: &RunArgs) -> Result<ExitCode> {
    let (cfg, registry) = args.inputs.load(&args.config)?;
    let shard = Shard::resolve(args.shard.as_deref(), args.shards, |name| {
        std::env::var(name).ok()
    })
    .map_err(anyhow::Error::msg)?;
    let markdown = args.markdown.as_deref();
    if let Some(md) = markdown {
        leafbench::output::check_writable(md)?;
    }
    let opts = RunOptions {
        overwrite: args.overwrite,
        offline: args.inputs.offline,
        progress: !args.quiet,
        cache_dir: (!args.no_cache).then(|| {
            args.cache_dir
                .clone()
                .unwrap_or_else(EmbeddingStore::default_dir)
        }),
    };
    if let Some(shard) = shard {
        return run_shard(&cfg, &registry, &opts, shard);
    }
    let report = leafbench::run::run(&cfg, &registry, &opts)?;
    let rows = report.rows;
    let published = Published::load(&Published::default_path())?;
    let table = leafbench::report::summary::Summary::new(&rows, &registry, &published)?;
    print!("{}", table.to_text());
    if let Some(md) = markdown {
        let text = table.to_markdown();
        leafbench::output::write_atomically(md, |w| w.write_all(text.as_bytes()))?;
    }
    println!("results in {}", cfg.output_dir.display());
    let not_run: Vec<String> = rows
        .iter()
        .filter(|r| r.unavailable.is_some())
        .map(|r| format!("{} ({})", r.task, r.model))
        .collect();
    let code = if not_run.is_empty() || cfg.allow_partial || args.allow_partial {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "error: {} requested task(s) did not run, their data is not here: {}\n\
             (--allow-partial, or `allow_partial: true` in the config, accepts a partial run)",
            not_run.len(),
            not_run.join(", ")
        );
        ExitCode::from(EXIT_PARTIAL)
    };
    // Last, so a job log ends with where the embeddings came from (after a split run: all
    // from the store).
    eprintln!(
        "{}",
        encode_summary(&report.encoded_texts, &report.cached_texts, &opts)
    );
    Ok(code)
}

/// One shard's encoding; its last line says what it encoded and what it found stored.
fn run_shard(
    cfg: &RunConfig,
    registry: &Registry,
    opts: &RunOptions,
    shard: Shard,
) -> Result<ExitCode> {
    let Some(store) = &opts.cache_dir else {
        anyhow::bail!("a shard encodes into the embedding store; drop --no-cache");
    };
    let encode = encode_options(cfg, opts.progress);
    let report = encode_shard(cfg, registry, &encode, opts.offline, store, shard)?;
    for (model, task) in &report.no_data {
        eprintln!("warning: {task} ({model}): its data is not here; not encoded");
    }
    eprintln!("{} in {}", report.summary(), store.display());
    Ok(ExitCode::SUCCESS)
}

fn encode_options(cfg: &RunConfig, progress: bool) -> EncodeOptions {
    EncodeOptions {
        batch_size: cfg.batch_size,
        progress,
        ..EncodeOptions::default()
    }
}

/// `leafbench plan` options.
#[derive(Args)]
pub struct PlanArgs {
    /// Run configuration (YAML), as given to `leafbench run`.
    config: PathBuf,
    /// How many shards to split the encoding into.
    #[arg(long, value_name = "N", default_value_t = 1)]
    shards: usize,
    #[command(flatten)]
    inputs: Inputs,
    /// Text statistics that size tasks whose data is not here (default:
    /// text_stats.json in the tasks folder, when present).
    #[arg(long)]
    text_stats: Option<PathBuf>,
}

pub fn plan(args: &PlanArgs) -> Result<ExitCode> {
    if args.shards == 0 {
        anyhow::bail!("--shards 0: expected at least 1 shard");
    }
    let (cfg, registry) = args.inputs.load(&args.config)?;
    let stats_path = args
        .text_stats
        .clone()
        .unwrap_or_else(|| registry.dir().join("text_stats.json"));
    let stats = if args.text_stats.is_some() || stats_path.exists() {
        Some(TextStats::load(&stats_path)?)
    } else {
        None
    };
    let encode = encode_options(&cfg, false);
    let inputs = PlanInputs {
        registry: &registry,
        offline: args.inputs.offline,
        encode: &encode,
        estimates: stats.as_ref(),
    };
    let plan = Plan::build(&cfg, &inputs)?;
    print!("{}", describe(&plan, args.shards, &cfg));
    Ok(ExitCode::SUCCESS)
}

/// `leafbench run`'s exit status when requested tasks did not run.
const EXIT_PARTIAL: u8 = 3;

/// The line saying where the run's embeddings came from.
fn encode_summary(encoded: &usize, cached: &usize, opts: &RunOptions) -> String {
    match &opts.cache_dir {
        None => format!("embeddings: {encoded} texts encoded (cache off)"),
        Some(dir) if *encoded == 0 && *cached > 0 => format!(
            "embeddings: re-encoded nothing; all {cached} texts read from the cache in {}",
            dir.display()
        ),
        Some(dir) => format!(
            "embeddings: {encoded} texts encoded, {cached} read from the cache in {}",
            dir.display()
        ),
    }
}
