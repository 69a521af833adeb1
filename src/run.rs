//! `leafbench run`: every (model, task) of a configuration is encoded, scored and written as
//! an MTEB result file. Files are written whole or not at all, so an interrupted run resumes
//! by skipping what is already there.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::{ModelEntry, RunConfig};
use crate::data::local;
use crate::embeddings::Embeddings;
use crate::encoder::{EncodeOptions, Encoder, Role};
use crate::error::{Error, Result};
use crate::hub::{resolve_model, ResolveOptions};
use crate::report::results_json::{result_path, TaskResult};
use crate::task::scores::Scores;
use crate::task::{sts, Registry, TaskKind, TaskSpec};

pub struct RunOptions {
    pub overwrite: bool,
    pub offline: bool,
    pub tasks_dir: PathBuf,
    pub progress: bool,
}

/// One line of the run's summary table.
#[derive(Debug, Clone)]
pub struct RunRow {
    pub model: String,
    pub task: String,
    pub task_type: &'static str,
    pub main_score: Option<f64>,
    /// Whether the result was already on disk.
    pub reused: bool,
}

/// The encoders of one model entry: one folder, or a query model and a document model.
pub struct ModelEncoders {
    query: Encoder,
    document: Option<Encoder>,
}

impl ModelEncoders {
    fn load(entry: &ModelEntry, offline: bool) -> Result<Self> {
        let resolve = |name: &str| {
            resolve_model(name, &ResolveOptions::from_env(offline)).map_err(Error::from)
        };
        match (&entry.path, &entry.query, &entry.document) {
            (_, Some(q), Some(d)) => Ok(Self {
                query: Encoder::load(&resolve(q)?)?,
                document: Some(Encoder::load(&resolve(d)?)?),
            }),
            (Some(p), _, _) => Ok(Self {
                query: Encoder::load(p)?,
                document: None,
            }),
            _ => {
                let name = format!("{}@{}", entry.name, entry.revision());
                Ok(Self {
                    query: Encoder::load(&resolve(&name)?)?,
                    document: None,
                })
            }
        }
    }

    /// Texts of symmetric tasks go to the document side of a pair, as a Router's default
    /// route sends them.
    pub fn encode(&self, texts: &[String], role: Role, opts: &EncodeOptions) -> Result<Embeddings> {
        match (&self.document, role) {
            (Some(d), Role::Document | Role::Plain) => d.encode(texts, role, opts),
            _ => self.query.encode(texts, role, opts),
        }
    }
}

pub fn run(config: &RunConfig, opts: &RunOptions) -> Result<Vec<RunRow>> {
    let registry = Registry::load(&opts.tasks_dir)?;
    let tasks = select_tasks(&registry, &config.tasks)?;
    let data_dir = config
        .data_dir
        .clone()
        .unwrap_or_else(local::default_data_dir);
    let encode_opts = EncodeOptions {
        batch_size: config.batch_size,
        progress: opts.progress,
        ..EncodeOptions::default()
    };
    let mut rows = Vec::new();
    for entry in &config.models {
        let mut encoders: Option<ModelEncoders> = None;
        for task in &tasks {
            let path = result_path(
                &config.output_dir,
                &entry.name,
                entry.revision(),
                &task.name,
            );
            let (result, reused) = if path.is_file() && !opts.overwrite {
                (TaskResult::load(&path)?, true)
            } else {
                if encoders.is_none() {
                    encoders = Some(ModelEncoders::load(entry, opts.offline)?);
                }
                let model = encoders.as_ref().expect("just loaded");
                let start = Instant::now();
                let scores = evaluate_task(task, model, &data_dir, &encode_opts)?;
                let result = TaskResult::new(task, scores, start.elapsed().as_secs_f64());
                result.save(&path)?;
                (result, false)
            };
            tracing::info!("{} {}: {:?}", entry.name, task.name, result.main_score());
            rows.push(RunRow {
                model: entry.name.clone(),
                task: task.name.clone(),
                task_type: task.type_name(),
                main_score: result.main_score(),
                reused,
            });
        }
    }
    Ok(rows)
}

fn select_tasks<'a>(registry: &'a Registry, names: &[String]) -> Result<Vec<&'a TaskSpec>> {
    let mut out: Vec<&TaskSpec> = Vec::new();
    for name in names {
        for t in registry.select(name)? {
            if !out.iter().any(|o| o.name == t.name) {
                out.push(t);
            }
        }
    }
    Ok(out)
}

/// Scores of each evaluated split of `task`.
pub fn evaluate_task(
    task: &TaskSpec,
    model: &ModelEncoders,
    data_dir: &Path,
    opts: &EncodeOptions,
) -> Result<Vec<(String, Scores)>> {
    task.eval_splits
        .iter()
        .map(|split| {
            let file = local::split_file(data_dir, task, split)?;
            let scores = match &task.kind {
                TaskKind::Sts(params) => {
                    let data = local::load_sts(&file)?;
                    let e1 = model.encode(&data.sentence1, Role::Plain, opts)?;
                    let e2 = model.encode(&data.sentence2, Role::Plain, opts)?;
                    sts::evaluate(&data, &e1, &e2, params)
                }
                other => {
                    return Err(Error::invalid(
                        &file,
                        format!(
                            "{} tasks cannot be evaluated by this version of leafbench yet",
                            other.type_name()
                        ),
                    ))
                }
            };
            Ok((split.clone(), scores))
        })
        .collect()
}
