//! The `leafbench` command line.

mod report_cli;
mod run_cli;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};

use leafbench::embed_file::{self, EmbeddingFormat};
use leafbench::encoder::Precision;
use leafbench::hub::{resolve_model, ResolveOptions};
use leafbench::served::{Endpoint, ServedModel};
use leafbench::task::{Registry, TaskSpec};
use leafbench::text_model::TextModel;
use leafbench::{parity, texts, Embeddings, EncodeOptions, Encoder, Role};

#[derive(Parser)]
#[command(
    name = "leafbench",
    version,
    about = "MTEB-style evaluation of text-embedding models on candle"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Embed a text file (one text per line) and write the embeddings.
    #[command(
        after_help = "Example:\n  leafbench embed --model sentence-transformers/all-MiniLM-L6-v2 --input texts.txt --output emb.npy\n  leafbench embed --model ./my-model --role query --input queries.txt --output q.jsonl\n  leafbench embed --endpoint http://127.0.0.1:7997/v1/embeddings --input texts.txt --output served.npy"
    )]
    Embed {
        #[command(flatten)]
        model: ModelArgs,
        /// UTF-8 text file, one text per line (an empty line is an empty text).
        #[arg(long)]
        input: PathBuf,
        /// Output file: .npy (float32) or .jsonl (one JSON array per line).
        #[arg(long)]
        output: PathBuf,
    },
    /// Check that a model gives the same embeddings as a reference (exit 1 if not).
    #[command(
        after_help = "Example:\n  leafbench parity --model ./ported-model --texts texts.txt --reference reference.npy --min-cosine 0.99999\n  leafbench parity --endpoint http://127.0.0.1:8080/v1/embeddings --texts texts.txt --reference reference.npy\n\nPrints min / mean cosine and max |Δ| per component; exits 0 within tolerance, 1 beyond it\n(a NaN or infinite value on either side is always beyond it, named by row), 2 on error."
    )]
    Parity {
        #[command(flatten)]
        model: ModelArgs,
        /// UTF-8 text file, one text per line, in the reference's row order.
        #[arg(long)]
        texts: PathBuf,
        /// Reference embeddings (.npy, float32 or float64, one row per text).
        #[arg(long)]
        reference: PathBuf,
        /// Fail when any row's cosine to its reference is below this.
        #[arg(long, default_value = "0.99999", value_parser = finite_number)]
        min_cosine: f64,
        /// Also fail when any component differs by more than this.
        #[arg(long, value_parser = finite_number)]
        max_abs_diff: Option<f64>,
    },
    /// Evaluate models on tasks as a run configuration says; writes MTEB result files and
    /// prints each task's score next to the published one.
    #[command(
        after_help = "Examples:\n  leafbench run configs/quickstart.yaml\n  leafbench run configs/quickstart.yaml --overwrite\n  leafbench run configs/quickstart.yaml --data-source hub   # MTEB's datasets from the hub\n  leafbench run configs/compression-grid.yaml              # dims x quantization levels, one encode per text\n  leafbench run configs/mteb-eng-v2.yaml --allow-partial    # succeed although some tasks have no data here\n  leafbench run configs/mteb-eng-v2.yaml --shard 3/64 --cache-dir /shared/store   # encode shard 3 of 64 only\n\nExit status: 0 when every requested task was evaluated; 2 on an error; 3 when some requested\ntasks could not run (their data is not here) and partial runs are not allowed."
    )]
    Run(run_cli::RunArgs),
    /// Print how a run's encoding splits into shards: chunks, texts and padded tokens per
    /// shard, and the largest shard's share against the ideal 1/N.
    #[command(
        after_help = "Examples:\n  leafbench plan configs/quickstart.yaml --shards 4\n  leafbench plan configs/mteb-eng-v2.yaml --shards 64   # tasks without data here are sized from tasks/text_stats.json\n\nThen, on a cluster: leafbench run CONFIG --shard I/N for each I (or an array job; README:\nRunning on a cluster), and leafbench run CONFIG to evaluate from the store."
    )]
    Plan(run_cli::PlanArgs),
    /// Leaderboard tables from results folders: Mean(Task), Mean(TaskType), type means, Borda
    /// rank and every task, one row per model (and compression setting).
    #[command(
        after_help = "Examples:\n  leafbench report results --benchmark \"MTEB(eng, v2)\" --reference published\n  leafbench report published:MongoDB/mdbr-leaf-mt published:sentence-transformers/all-MiniLM-L6-v2 --benchmark \"MTEB(eng, v2)\"\n  leafbench report results --format csv --output table.csv"
    )]
    Report(report_cli::ReportArgs),
    /// Compare a candidate's scores with a baseline's; exit 1 when any change exceeds its
    /// tolerance (the first line says PASS or FAIL).
    #[command(
        after_help = "Examples:\n  leafbench compare results-before/ results-after/ --tolerance 0.1\n  leafbench compare published:sentence-transformers/all-MiniLM-L6-v2 results/ --per-type Retrieval=0.5 --allow-missing\n\nA task (or grid cell) of the baseline that the candidate lacks fails, unless --allow-missing.\nExit status: 0 within tolerance, 1 beyond it or with tasks missing, 2 on an error."
    )]
    Compare(report_cli::CompareArgs),
    /// Charts from results folders, as PNG and SVG: score against dims per storage level,
    /// retention heatmap, score against bytes per vector and against encoding tokens/s (where
    /// the run timed its encodings) with the Pareto front, and per-task
    /// bars comparing models.
    #[command(
        after_help = "Example:\n  leafbench plot results published:MongoDB/mdbr-leaf-mt published:thenlper/gte-small --out plots/"
    )]
    Plot(report_cli::PlotArgs),
    /// List the task definitions, optionally of one type.
    #[command(
        after_help = "Examples:\n  leafbench tasks --type STS\n  leafbench tasks --json > tasks.json"
    )]
    Tasks {
        /// Only tasks of this type (STS, Classification, PairClassification, Summarization,
        /// Clustering, Reranking, Retrieval).
        #[arg(long = "type")]
        task_type: Option<String>,
        /// Folder of task YAML files (default: ./tasks, or LEAFBENCH_TASKS_DIR).
        #[arg(long)]
        tasks_dir: Option<PathBuf>,
        /// Print every definition as leafbench reads it, defaults filled in, as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Resolve a model (local folder, HF cache, or download) and print its folder.
    #[command(
        after_help = "Example:\n  leafbench download --model sentence-transformers/all-MiniLM-L6-v2@main"
    )]
    Download {
        /// `org/name[@revision]` or a local folder.
        #[arg(long)]
        model: String,
        /// Never download; only look in local folders and the Hugging Face cache.
        #[arg(long)]
        offline: bool,
    },
    /// Measure encode throughput (tokens/s) on text files; prints one JSON line per file.
    #[command(
        after_help = "Example:\n  leafbench bench-encode --model ./all-MiniLM-L6-v2 --threads 1 --input short.txt --input passages.txt"
    )]
    BenchEncode {
        #[command(flatten)]
        model: ModelArgs,
        /// Text files, one text per line (blank lines are skipped).
        #[arg(long, required = true)]
        input: Vec<PathBuf>,
        /// Timed encodes of each file; the best and the median are reported.
        #[arg(long, default_value_t = 3)]
        repeats: usize,
    },
    /// Measure this CPU's peak of each arithmetic the encoder can use (float32 FMA, bf16 and
    /// int8 dot products, 512-bit); prints one JSON line per arithmetic.
    #[command(after_help = "Example:\n  leafbench bench-peak --threads 1")]
    BenchPeak {
        /// Threads, one loop each (default: all cores).
        #[arg(long)]
        threads: Option<usize>,
    },
    /// Time exact top-k search over a synthetic corpus of random embeddings (scoring and
    /// merging only, no encoding) and report peak memory.
    #[command(
        after_help = "Example:\n  leafbench bench-search --docs 300000 --queries 1000 --dim 384"
    )]
    BenchSearch {
        #[arg(long, default_value_t = 300_000)]
        docs: usize,
        #[arg(long, default_value_t = 1_000)]
        queries: usize,
        #[arg(long, default_value_t = 384)]
        dim: usize,
        /// Documents scored per matrix product (MTEB uses 50,000).
        #[arg(long, default_value_t = 50_000)]
        chunk: usize,
        #[arg(long, default_value_t = 1_000)]
        top_k: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Args)]
struct ModelArgs {
    /// Local sentence-transformers folder, or `org/name[@revision]` (HF cache, then download).
    #[arg(long, required_unless_present = "endpoint")]
    model: Option<String>,
    /// A served model instead of a folder: the URL its embeddings are posted to, e.g.
    /// http://127.0.0.1:7997/v1/embeddings (embed and parity only).
    #[arg(long, conflicts_with = "model")]
    endpoint: Option<String>,
    /// The served model's API.
    #[arg(long, value_enum, default_value = "openai", requires = "endpoint")]
    api: leafbench::served::Api,
    /// The server's name for the model (sent in OpenAI requests).
    #[arg(long, requires = "endpoint")]
    served_model: Option<String>,
    /// Cut each text to what this sentence-transformers folder's model reads before sending
    /// it (a server that reads longer inputs then sees what the reference sees).
    #[arg(long, requires = "endpoint")]
    truncate_like: Option<PathBuf>,
    /// Which side of the task the texts are on: picks the prompt and Router route.
    #[arg(long, value_enum, default_value_t = Role::Plain)]
    role: Role,
    /// Never download; use local folders and the Hugging Face cache only.
    #[arg(long)]
    offline: bool,
    /// Most texts per forward pass.
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    batch_size: usize,
    /// Most padded tokens per forward pass (bounds memory on long texts).
    #[arg(long, default_value_t = 8192, value_parser = at_least_one)]
    max_batch_tokens: usize,
    /// Compute threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// How the model's linear layers compute: float32 (exact), bfloat16 or int8 (faster).
    #[arg(long, default_value = "float32", conflicts_with = "endpoint")]
    precision: Precision,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
}

impl ModelArgs {
    /// The folder named by `--model`, loaded to run here.
    fn load(&self) -> Result<(Encoder, EncodeOptions)> {
        if let Some(n) = self.threads {
            set_threads(n)?;
        }
        let Some(model) = &self.model else {
            bail!("this command runs a model here: give --model, not --endpoint");
        };
        let dir = resolve_model(model, &ResolveOptions::from_env(self.offline))?;
        let encoder = Encoder::load_at(&dir, self.precision)?;
        let opts = EncodeOptions {
            batch_size: self.batch_size,
            max_batch_tokens: self.max_batch_tokens,
            progress: !self.quiet,
        };
        Ok((encoder, opts))
    }

    /// The folder, or the served model `--endpoint` names (`--batch-size` texts per request).
    fn text_model(&self) -> Result<TextModel> {
        let Some(url) = &self.endpoint else {
            let (encoder, opts) = self.load()?;
            return Ok(TextModel::Local(encoder, opts));
        };
        let mut endpoint: Endpoint = serde_json::from_value(serde_json::json!({ "url": url }))?;
        endpoint.api = self.api;
        endpoint.model = self.served_model.clone();
        endpoint.batch_size = self.batch_size;
        endpoint.truncate_like = self.truncate_like.clone();
        Ok(TextModel::Served(ServedModel::new(&endpoint)?))
    }
}

fn at_least_one(s: &str) -> std::result::Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 is not allowed; expected 1 or more".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

fn finite_number(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ => Err(format!("`{s}` is not a finite number")),
    }
}

/// Both the matrix kernels and rayon read RAYON_NUM_THREADS, so one setting governs all
/// compute; it must happen before the first parallel call. More threads than cores only
/// adds contention, so the count is capped at the cores there are.
fn set_threads(n: usize) -> Result<()> {
    if n == 0 {
        bail!("--threads must be at least 1");
    }
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let n = if n > cores {
        tracing::warn!("--threads {n} is more than the {cores} CPUs here; using {cores}");
        cores
    } else {
        n
    };
    std::env::set_var("RAYON_NUM_THREADS", n.to_string());
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .context("setting the thread count")?;
    Ok(())
}

fn embed(model: &ModelArgs, input: &Path, output: &Path) -> Result<ExitCode> {
    if leafbench::output::same_file(input, output) {
        bail!(
            "--output {} is the --input file; expected a different file",
            output.display()
        );
    }
    leafbench::output::check_writable(output)?;
    let format = EmbeddingFormat::of(output)?;
    let lines = texts::read_lines(input)?;
    let source = model.text_model()?;
    let (rows, dim) =
        embed_file::encode_to_file(&source, &lines, model.role, !model.quiet, output, format)?;
    eprintln!(
        "wrote {rows} embeddings of dimension {dim} to {}",
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn parity_check(
    model: &ModelArgs,
    texts_path: &Path,
    reference: &Path,
    min_cosine: f64,
    max_abs_diff: Option<f64>,
) -> Result<ExitCode> {
    let lines = texts::read_lines(texts_path)?;
    let reference_emb = Embeddings::load_npy(reference)?;
    if reference_emb.rows != lines.len() {
        bail!(
            "{}: {} rows, but {} has {} texts; expected one row per text",
            reference.display(),
            reference_emb.rows,
            texts_path.display(),
            lines.len()
        );
    }
    let ours = model.text_model()?.encode(&lines, model.role)?;
    if ours.dim != reference_emb.dim {
        bail!(
            "{}: dimension {}, but the model gives {}",
            reference.display(),
            reference_emb.dim,
            ours.dim
        );
    }
    let r = parity::compare(&ours, &reference_emb);
    println!("texts        {}", r.rows);
    println!(
        "min cosine   {:.9}  (row {}, line {})",
        r.min_cosine,
        r.worst_row,
        r.worst_row + 1
    );
    println!("mean cosine  {:.9}", r.mean_cosine);
    println!("max |Δ|      {:.3e}", r.max_abs_diff);
    let failures = r.failures(min_cosine, max_abs_diff);
    for why in &failures {
        println!("FAIL: {why}");
    }
    let ok = failures.is_empty();
    if ok {
        println!("PASS");
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn list_tasks(task_type: Option<&str>, dir: Option<&Path>, json: bool) -> Result<ExitCode> {
    let dir = dir
        .map(Path::to_path_buf)
        .unwrap_or_else(Registry::default_dir);
    let registry = Registry::load(&dir)?;
    let tasks: Vec<&TaskSpec> = match task_type {
        // Every edition of each task of the type: the listing is where editions are found.
        Some(t) => {
            registry.of_type(t)?; // an unknown type is an error naming the known ones
            registry
                .all()
                .iter()
                .filter(|s| s.type_name().eq_ignore_ascii_case(t))
                .collect()
        }
        None => registry.all().iter().collect(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&tasks)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:<42} {:<20} {:<32} dataset", "task", "type", "main score");
    for t in &tasks {
        let subsets = t.subsets();
        let subset = match subsets.len() {
            _ if subsets == ["default"] => String::new(),
            1..=4 => format!(" ({})", subsets.join(", ")),
            n => format!(" ({n} subsets)"),
        };
        println!(
            "{:<42} {:<20} {:<32} {}{subset}",
            t.key(),
            t.type_name(),
            t.main_score,
            t.dataset.path
        );
    }
    println!("{} tasks", tasks.len());
    Ok(ExitCode::SUCCESS)
}

fn download(model: &str, offline: bool) -> Result<ExitCode> {
    let dir = resolve_model(model, &ResolveOptions::from_env(offline))?;
    println!("{}", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn bench(model: &ModelArgs, inputs: &[PathBuf], repeats: usize) -> Result<ExitCode> {
    let (encoder, opts) = model.load()?;
    let threads = rayon::current_num_threads();
    for input in inputs {
        let result = leafbench::bench::bench_encode(&encoder, input, &opts, repeats, threads)?;
        println!("{}", serde_json::to_string(&result)?);
    }
    Ok(ExitCode::SUCCESS)
}

fn bench_peak(threads: Option<usize>) -> Result<ExitCode> {
    if let Some(n) = threads {
        set_threads(n)?;
    }
    let peaks = leafbench::peak::measure();
    if peaks.is_empty() {
        bail!("this CPU has none of the 512-bit arithmetics measured here (AVX-512F)");
    }
    for p in peaks {
        println!("{}", serde_json::to_string(&p)?);
    }
    Ok(ExitCode::SUCCESS)
}

/// The error and its causes, each said once: a cause whose text the message already holds
/// (an I/O error both wrapped and quoted) is not repeated.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let cause = cause.to_string();
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text
}

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of stdout or stderr goes
    // away (`leafbench … | head`) instead of failing on the write.
    // SAFETY: restoring the default disposition of a signal is always sound.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // The encoder runs whole batches in parallel on rayon's workers; candle's own pool for
    // element-wise ops would then compete with them for the same cores. Set before any
    // tensor work, as candle reads it once.
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LEAFBENCH_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Embed {
            model,
            input,
            output,
        } => embed(model, input, output),
        Command::Parity {
            model,
            texts,
            reference,
            min_cosine,
            max_abs_diff,
        } => parity_check(model, texts, reference, *min_cosine, *max_abs_diff),
        Command::Download { model, offline } => download(model, *offline),
        Command::Run(args) => run_cli::run_config(args),
        Command::Plan(args) => run_cli::plan(args),
        Command::Report(args) => report_cli::report(args),
        Command::Compare(args) => report_cli::compare_results(args),
        Command::Plot(args) => report_cli::plot(args),
        Command::Tasks {
            task_type,
            tasks_dir,
            json,
        } => list_tasks(task_type.as_deref(), tasks_dir.as_deref(), *json),
        Command::BenchEncode {
            model,
            input,
            repeats,
        } => bench(model, input, *repeats),
        Command::BenchPeak { threads } => bench_peak(*threads),
        Command::BenchSearch {
            docs,
            queries,
            dim,
            chunk,
            top_k,
            seed,
        } => bench_search(&leafbench::bench_search::SearchShape {
            docs: *docs,
            queries: *queries,
            dim: *dim,
            chunk: (*chunk).max(1),
            top_k: (*top_k).max(1),
            seed: *seed,
        }),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {}", error_text(&e));
        ExitCode::from(2)
    })
}

/// Prints one JSON line, like `bench-encode`.
fn bench_search(shape: &leafbench::bench_search::SearchShape) -> Result<ExitCode> {
    let result = leafbench::bench_search::bench_search(shape)?;
    println!("{}", serde_json::to_string(&result)?);
    Ok(ExitCode::SUCCESS)
}

// Encoding allocates and frees large activation buffers batch after batch; mimalloc keeps
// them mapped instead of returning pages to the OS and faulting them back in.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
