//! `leafbench run`: every (model, task) of a configuration is encoded, scored and written as
//! an MTEB result file. Files are written whole or not at all, so an interrupted run resumes
//! by skipping what is already there.

use std::time::Instant;

use crate::config::{ModelEntry, RunConfig};
use crate::data::{local, DataSource};
use crate::embeddings::Embeddings;
use crate::encoder::{EncodeOptions, Encoder, Role};
use crate::error::{Error, Result};
use crate::evaluate::evaluate_task;
use crate::hub::{resolve_model, ResolveOptions};
use crate::report::results_json::{result_path, TaskResult};
use crate::task::exact_search::Similarity;
use crate::task::{Registry, TaskSpec};

pub struct RunOptions {
    pub overwrite: bool,
    pub offline: bool,
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
    /// Why the task was skipped, when its data could not be had.
    pub unavailable: Option<String>,
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

    /// How the query model compares embeddings (its `similarity_fn_name`).
    pub fn similarity(&self) -> Result<Similarity> {
        let name = self.query.similarity_fn_name();
        Similarity::from_name(name).ok_or_else(|| Error::Unsupported {
            task: "retrieval".into(),
            what: format!("similarity function `{name}` is not supported; expected cosine or dot"),
        })
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

pub fn run(config: &RunConfig, registry: &Registry, opts: &RunOptions) -> Result<Vec<RunRow>> {
    let tasks = select_tasks(registry, &config.tasks)?;
    let data = DataSource {
        origin: config.data_source,
        data_dir: config
            .data_dir
            .clone()
            .unwrap_or_else(local::default_data_dir),
        hub: ResolveOptions::from_env(opts.offline),
        indices_dir: registry.dir().join("indices"),
    };
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
                let scores = match evaluate_task(task, model, &data, &encode_opts) {
                    Ok(scores) => scores,
                    // A task whose data is not here is reported, and the run goes on.
                    Err(e) if e.is_data_unavailable() => {
                        tracing::warn!("{}: skipped: {e}", task.name);
                        rows.push(RunRow {
                            model: entry.name.clone(),
                            task: task.name.clone(),
                            task_type: task.type_name(),
                            main_score: None,
                            reused: false,
                            unavailable: Some(e.to_string()),
                        });
                        continue;
                    }
                    Err(e) => return Err(e),
                };
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
                unavailable: None,
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
