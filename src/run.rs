//! `leafbench run`: every (model, task) of a configuration is encoded, scored and written as
//! an MTEB result file. Files are written whole or not at all, so an interrupted run resumes
//! by skipping what is already there.

use std::path::PathBuf;
use std::time::Instant;

use crate::compress::compressor::Compressor;
use crate::compress::quantize::Calibration;
use crate::compress::setting::{CalibrationPolicy, Grid, Semantics, Setting};
use crate::config::{ModelEntry, RunConfig};
use crate::data::DataSource;
use crate::embedder::{merged_ranges, CellEncoder, Embedder, Part};
use crate::encoder::{EncodeOptions, Precision, Role};
use crate::error::{Error, Result};
use crate::evaluate::evaluate_task;
use crate::model_encoders::ModelEncoders;
use crate::output::{ensure_inside, sweep_partials};
use crate::plan::{calibration_texts, data_source};
use crate::report::results_json::{
    experiment_path, model_dir_name, result_path, CompressionInfo, Expected, TaskResult,
};
pub use crate::report::summary::RunRow;
use crate::store::EmbeddingStore;
use crate::task::{Registry, TaskKind, TaskSpec};

pub struct RunOptions {
    pub overwrite: bool,
    pub offline: bool,
    pub progress: bool,
    /// Where embeddings are cached on disk; `None` turns the cache off.
    pub cache_dir: Option<PathBuf>,
}

/// What a run did.
pub struct RunReport {
    pub rows: Vec<RunRow>,
    /// Texts the models encoded.
    pub encoded_texts: usize,
    /// Texts whose embeddings came from the disk cache.
    pub cached_texts: usize,
}

pub fn run(config: &RunConfig, registry: &Registry, opts: &RunOptions) -> Result<RunReport> {
    let tasks = registry.resolve(&config.tasks)?;
    let data = data_source(config, registry, opts.offline)?;
    let encode_opts = EncodeOptions {
        batch_size: config.batch_size,
        progress: opts.progress,
        ..EncodeOptions::default()
    };
    // Every model's grid is checked before anything is written.
    let mut grids = Vec::new();
    for entry in &config.models {
        grids.push(match &config.compression {
            Some(grid) => Some(ModelGrid::plan(entry, grid, opts.offline)?),
            None => None,
        });
    }
    prepare_output_dir(config)?;
    let cache = opts.cache_dir.clone().map(EmbeddingStore::new);
    if let Some(c) = &cache {
        c.sweep_partials();
    }
    let mut report = RunReport {
        rows: Vec::new(),
        encoded_texts: 0,
        cached_texts: 0,
    };
    for (entry, grid) in config.models.iter().zip(&grids) {
        let mut model = ModelRun {
            entry,
            config,
            grid: grid.as_ref(),
            opts,
            encoders: None,
            lower: Vec::new(),
            file_ranges: None,
        };
        let (encoded, cached) = model.run_tasks(
            &tasks,
            &data,
            &encode_opts,
            cache.as_ref(),
            &mut report.rows,
        )?;
        report.encoded_texts += encoded;
        report.cached_texts += cached;
    }
    Ok(report)
}

/// Creates the results folder and proves it writable before any task runs, and removes the
/// temporary files that killed runs left in the folders of this run's models (only there: the
/// output folder may hold anything else).
fn prepare_output_dir(config: &RunConfig) -> Result<()> {
    let dir = &config.output_dir;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::invalid(dir, format!("cannot create the output folder: {e}")))?;
    let probe = dir.join(format!(".leafbench.probe-{}", std::process::id()));
    std::fs::File::create(&probe)
        .map_err(|e| Error::invalid(dir, format!("the output folder is not writable: {e}")))?;
    let _ = std::fs::remove_file(&probe);
    for entry in &config.models {
        sweep_partials(&dir.join(model_dir_name(&entry.name)));
    }
    Ok(())
}

/// The grid cells of one model, checked against its embedding size.
struct ModelGrid {
    grid: Grid,
    native: usize,
    settings: Vec<Setting>,
}

impl ModelGrid {
    fn plan(entry: &ModelEntry, grid: &Grid, offline: bool) -> Result<Self> {
        // Refused here, before anything is written, rather than at the model's first task.
        for &p in grid.lower_precisions() {
            ModelEncoders::check_precision(entry, p)?;
        }
        let native = ModelEncoders::load(entry, offline)?.dim()?;
        let settings = grid.settings(native).map_err(|what| Error::Compression {
            setting: format!("model `{}`", entry.name),
            what,
        })?;
        Ok(Self {
            grid: grid.clone(),
            native,
            settings,
        })
    }
}

/// What every cell of one task shares.
struct CellContext<'a> {
    task: &'a TaskSpec,
    data: &'a DataSource,
    similarity: crate::similarity::Similarity,
    native: usize,
    multiplier: usize,
}

/// One model's pass over the tasks.
struct ModelRun<'a> {
    entry: &'a ModelEntry,
    config: &'a RunConfig,
    grid: Option<&'a ModelGrid>,
    opts: &'a RunOptions,
    encoders: Option<ModelEncoders>,
    /// The model at each of the grid's precisions other than float32, loaded with `encoders`.
    lower: Vec<(Precision, ModelEncoders)>,
    /// Ranges from the grid's calibration file, encoded once per model.
    file_ranges: Option<Calibration>,
}

/// A cell to compute or reuse, and where its result lives.
struct Cell {
    setting: Option<Setting>,
    path: PathBuf,
    /// What the cell's result file must say of the cell to be reused (its scores left out).
    identity: Option<CompressionInfo>,
}

impl ModelRun<'_> {
    fn run_tasks(
        &mut self,
        tasks: &[TaskSpec],
        data: &DataSource,
        encode_opts: &EncodeOptions,
        cache: Option<&EmbeddingStore>,
        rows: &mut Vec<RunRow>,
    ) -> Result<(usize, usize)> {
        let mut counts = (0, 0);
        for task in tasks {
            let cells = self.cells(task)?;
            if let Some(results) = self.all_reusable(task, &cells) {
                for result in &results {
                    rows.push(self.row(task, result, true));
                }
                continue;
            }
            if self.encoders.is_none() {
                let model = ModelEncoders::load(self.entry, self.opts.offline)?;
                let (ranges, encoded, cached) =
                    self.file_calibration(&model, encode_opts, cache)?;
                counts = (counts.0 + encoded, counts.1 + cached);
                self.file_ranges = ranges;
                self.encoders = Some(model);
                for &p in self.config.precisions().iter().skip(1) {
                    self.lower
                        .push((p, ModelEncoders::load_at(self.entry, self.opts.offline, p)?));
                }
            }
            let model = self.encoders.as_ref().expect("just loaded");
            let embedder = Embedder::new(model, encode_opts, cache);
            let lower = (encode_opts, cache);
            match self.run_cells(task, &cells, model, &embedder, lower, data, rows) {
                Err(e) if e.is_data_unavailable() => {
                    // A task whose data is not here is reported, and the run goes on.
                    tracing::warn!("{}: skipped: {e}", task.name);
                    rows.push(RunRow {
                        model: self.entry.name.clone(),
                        task: task.key(),
                        task_type: task.type_name(),
                        main_score: None,
                        reused: false,
                        unavailable: Some(e.to_string()),
                        compression: None,
                    });
                }
                Err(e) => return Err(e),
                Ok((e, c)) => counts = (counts.0 + e, counts.1 + c),
            }
            let (e, c) = embedder.counts();
            counts = (counts.0 + e, counts.1 + c);
        }
        Ok(counts)
    }

    /// The task's cells, the float32 full-size one first; rescore cells only for retrieval.
    /// Every path must stay inside the output folder.
    fn cells(&self, task: &TaskSpec) -> Result<Vec<Cell>> {
        let (out, name, rev) = (
            &self.config.output_dir,
            &self.entry.name,
            self.entry.revision(),
        );
        let mut cells = vec![Cell {
            setting: None,
            path: result_path(out, name, rev, &task.name),
            identity: None,
        }];
        if let Some(grid) = self.grid {
            let retrieval = matches!(task.kind, TaskKind::Retrieval(_));
            for s in grid.settings.iter().filter(|s| retrieval || !s.rescore) {
                cells.push(Cell {
                    setting: Some(*s),
                    path: experiment_path(out, name, rev, &s.name(), &task.name),
                    identity: Some(cell_identity(&grid.grid, s, grid.native)),
                });
            }
        }
        for cell in &cells {
            ensure_inside(out, &cell.path)?;
        }
        Ok(cells)
    }

    fn expected<'c>(&'c self, task: &'c TaskSpec, cell: &'c Cell) -> Expected<'c> {
        Expected {
            task,
            model_name: &self.entry.name,
            model_revision: self.entry.revision(),
            cell: cell.identity.as_ref(),
        }
    }

    /// The cell's result file, when it may be reused: not overwriting, and it matches. With
    /// `warn`, a file that is there but does not match is named with the reason.
    fn reusable(&self, task: &TaskSpec, cell: &Cell, warn: bool) -> Option<TaskResult> {
        if self.opts.overwrite {
            return None;
        }
        match TaskResult::on_disk(&cell.path, &self.expected(task, cell)) {
            Ok(found) => found,
            Err(why) => {
                if warn {
                    tracing::warn!(
                        "{} is not reused: {why}; recomputing it",
                        cell.path.display()
                    );
                }
                None
            }
        }
    }

    /// Every cell's result, when all of them can be reused.
    fn all_reusable(&self, task: &TaskSpec, cells: &[Cell]) -> Option<Vec<TaskResult>> {
        cells
            .iter()
            .map(|c| self.reusable(task, c, false))
            .collect()
    }

    /// Evaluates the baseline (always: it is the retention reference and, for the `train`
    /// calibration, what the ranges are learnt from), then every float32 cell not yet on disk,
    /// then each lower precision's cells from its own encoding. Returns the texts the lower
    /// precisions encoded and read from the cache.
    #[allow(clippy::too_many_arguments)]
    fn run_cells(
        &self,
        task: &TaskSpec,
        cells: &[Cell],
        model: &ModelEncoders,
        embedder: &Embedder,
        (encode_opts, cache): (&EncodeOptions, Option<&EmbeddingStore>),
        data: &DataSource,
        rows: &mut Vec<RunRow>,
    ) -> Result<(usize, usize)> {
        let ctx = CellContext {
            task,
            data,
            similarity: model.similarity_for(task)?,
            native: match self.grid {
                Some(g) => g.native,
                None => model.dim()?,
            },
            multiplier: self.grid.map_or(0, |g| g.grid.rescore_multiplier),
        };
        let base = self.evaluate_baseline(&ctx, embedder)?;
        let base_score = base.main_score();
        let progress = cell_progress(task, cells.len(), self.opts.progress && self.grid.is_some());
        let of = |p: Precision| -> Vec<&Cell> {
            cells
                .iter()
                .filter(|c| c.setting.map_or(Precision::Float32, |s| s.precision) == p)
                .collect()
        };
        self.encoding_cells(
            &ctx,
            &of(Precision::Float32),
            embedder,
            &base,
            base_score,
            rows,
            &progress,
        )?;
        let mut counts = (0, 0);
        for (precision, lower) in &self.lower {
            let group = of(*precision);
            if let Some(results) = group
                .iter()
                .map(|c| self.reusable(task, c, false))
                .collect::<Option<Vec<_>>>()
            {
                for result in &results {
                    progress.inc(1);
                    rows.push(self.row(task, result, true));
                }
                continue;
            }
            let embedder = Embedder::new(lower, encode_opts, cache);
            let lower_base = self.evaluate_baseline(&ctx, &embedder)?;
            self.encoding_cells(
                &ctx,
                &group,
                &embedder,
                &lower_base,
                base_score,
                rows,
                &progress,
            )?;
            let (e, c) = embedder.counts();
            counts = (counts.0 + e, counts.1 + c);
        }
        progress.finish_and_clear();
        Ok(counts)
    }

    /// The task's result on full-size float32 vectors of `embedder`'s encoding.
    fn evaluate_baseline(&self, ctx: &CellContext, embedder: &Embedder) -> Result<TaskResult> {
        let baseline = Compressor::baseline(ctx.native, ctx.similarity);
        let start = Instant::now();
        let scores = evaluate_task(
            ctx.task,
            &CellEncoder {
                embedder,
                compressor: &baseline,
            },
            ctx.data,
            ctx.multiplier,
        )?;
        self.result(ctx.task, scores, ctx.data, start)
    }

    /// The cells of one encoding (one compute precision): `base` is that encoding's
    /// full-size float32 result, `base_score` the float32 encoding's, which retention is
    /// relative to.
    #[allow(clippy::too_many_arguments)]
    fn encoding_cells(
        &self,
        ctx: &CellContext,
        cells: &[&Cell],
        embedder: &Embedder,
        base: &TaskResult,
        base_score: Option<f64>,
        rows: &mut Vec<RunRow>,
        progress: &indicatif::ProgressBar,
    ) -> Result<()> {
        let task = ctx.task;
        let calibration = match self.grid {
            Some(g) => calibration(&g.grid, embedder, self.file_ranges.as_ref()),
            None => None,
        };
        for cell in cells {
            progress.inc(1);
            let reused = self.reusable(task, cell, true);
            let reuse = reused.is_some();
            let result = match (cell.setting, reused) {
                (_, Some(r)) => r,
                (None, None) => base.clone(),
                (Some(setting), None) => {
                    let grid = self.grid.expect("cells with settings come from a grid");
                    let compressor = Compressor {
                        setting,
                        semantics: grid.grid.semantics,
                        calibration: calibration.clone(),
                        similarity: ctx.similarity,
                    };
                    let full_size = Setting {
                        precision: Precision::Float32,
                        ..setting
                    } == Setting::plain(ctx.native);
                    let mut result = if full_size {
                        base.clone()
                    } else {
                        tracing::info!("{} {}: {}", self.entry.name, task.name, setting.name());
                        let start = Instant::now();
                        let enc = CellEncoder {
                            embedder,
                            compressor: &compressor,
                        };
                        let scores = evaluate_task(task, &enc, ctx.data, ctx.multiplier)?;
                        self.result(task, scores, ctx.data, start)?
                    };
                    result.compression = Some(CompressionInfo {
                        encoding: embedder.speed(),
                        ..compression_info(&grid.grid, &setting, ctx.native, &result, base_score)
                    });
                    result
                }
            };
            if !reuse {
                result.save(&cell.path)?;
            }
            tracing::info!(
                "{} {}: {:?}",
                self.entry.name,
                task.name,
                result.main_score()
            );
            rows.push(self.row(task, &result, reuse));
        }
        Ok(())
    }

    /// The ranges of the grid's calibration file (sentence-transformers semantics only), and
    /// the texts encoded / read from the cache to get them.
    fn file_calibration(
        &self,
        model: &ModelEncoders,
        encode_opts: &EncodeOptions,
        cache: Option<&EmbeddingStore>,
    ) -> Result<(Option<Calibration>, usize, usize)> {
        let Some(path) = self.config.calibration_file() else {
            return Ok((None, 0, 0));
        };
        let embedder = Embedder::new(model, encode_opts, cache);
        let emb = embedder.encode(&calibration_texts(path)?, Role::Plain, Part::Train)?;
        let (encoded, cached) = embedder.counts();
        let ranges = merged_ranges(&[emb.as_ref()]).map(Calibration::Ranges);
        Ok((ranges, encoded, cached))
    }

    /// A computed result of this model, refused when a main score is undefined; it records
    /// whether its data was checked.
    fn result(
        &self,
        task: &TaskSpec,
        scores: Vec<crate::task::scores::SubsetScores>,
        data: &DataSource,
        start: Instant,
    ) -> Result<TaskResult> {
        let mut result = TaskResult::new(task, scores, start.elapsed().as_secs_f64())
            .for_model(&self.entry.name, self.entry.revision());
        result.data_check = Some(data.check.status(&task.key()));
        result.check_defined(task)?;
        Ok(result)
    }

    fn row(&self, task: &TaskSpec, result: &TaskResult, reused: bool) -> RunRow {
        RunRow {
            model: self.entry.name.clone(),
            task: task.key(),
            task_type: task.type_name(),
            main_score: result.main_score(),
            reused,
            unavailable: None,
            compression: result.compression.clone(),
        }
    }
}

/// A bar over a task's grid cells (hidden for plain runs and `--quiet`).
fn cell_progress(task: &TaskSpec, cells: usize, enabled: bool) -> indicatif::ProgressBar {
    if !enabled {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(cells as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} grid cells  eta {eta}")
            .expect("static template"),
    );
    bar.set_message(task.name.clone());
    bar
}

/// The ranges the scalar levels use under the grid's calibration policy (`None` when they
/// come from each encode call, as with MTEB semantics). `file` holds the calibration file's
/// ranges, computed once per model.
fn calibration(
    grid: &Grid,
    embedder: &Embedder,
    file: Option<&Calibration>,
) -> Option<Calibration> {
    if grid.semantics == Semantics::Mteb {
        return None;
    }
    match &grid.calibration {
        CalibrationPolicy::Fixed([lo, hi]) => Some(Calibration::Fixed { min: *lo, max: *hi }),
        CalibrationPolicy::Train => embedder.kept_ranges().map(Calibration::Ranges),
        CalibrationPolicy::File(_) => file.cloned(),
    }
}

fn compression_info(
    grid: &Grid,
    setting: &Setting,
    native: usize,
    result: &TaskResult,
    baseline: Option<f64>,
) -> CompressionInfo {
    CompressionInfo {
        baseline_main_score: baseline,
        retention: match (result.main_score(), baseline) {
            (Some(s), Some(b)) if b != 0.0 => Some(s / b),
            _ => None,
        },
        ..cell_identity(grid, setting, native)
    }
}

/// The cell as its result file describes it, without scores.
fn cell_identity(grid: &Grid, setting: &Setting, native: usize) -> CompressionInfo {
    let quantized = setting.level.is_scalar() && grid.semantics == Semantics::SentenceTransformers;
    CompressionInfo {
        setting: setting.name(),
        precision: setting.precision.name().to_string(),
        dim: setting.dim,
        quantization: setting.level.name().to_string(),
        semantics: grid.semantics.name().to_string(),
        calibration: if quantized {
            grid.calibration.describe()
        } else {
            "none".into()
        },
        rescore_multiplier: setting.rescore.then_some(grid.rescore_multiplier),
        bytes_per_vector: setting.bytes_per_vector(),
        float32_bytes_per_vector: 4 * native,
        baseline_main_score: None,
        retention: None,
        encoding: None,
    }
}
