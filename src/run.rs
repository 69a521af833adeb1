//! `leafbench run`: every (model, task) of a configuration is encoded, scored and written as
//! an MTEB result file. Files are written whole or not at all, so an interrupted run resumes
//! by skipping what is already there.

use std::time::Instant;

use crate::config::{ModelEntry, RunConfig};
use crate::data::{local, typed, DataSource};
use crate::embeddings::Embeddings;
use crate::encoder::{EncodeOptions, Encoder, Role};
use crate::error::{Error, Result};
use crate::hub::{resolve_model, ResolveOptions};
use crate::report::results_json::{result_path, TaskResult};
use crate::task::scores::Scores;
use crate::task::{
    classification, pair_classification, sts, summarization, Registry, TaskKind, TaskSpec,
};

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

pub fn run(config: &RunConfig, registry: &Registry, opts: &RunOptions) -> Result<Vec<RunRow>> {
    let tasks = select_tasks(registry, &config.tasks)?;
    let data = DataSource {
        origin: config.data_source,
        data_dir: config
            .data_dir
            .clone()
            .unwrap_or_else(local::default_data_dir),
        hub: ResolveOptions::from_env(opts.offline),
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
                let scores = evaluate_task(task, model, &data, &encode_opts)?;
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
    data: &DataSource,
    opts: &EncodeOptions,
) -> Result<Vec<(String, Scores)>> {
    if matches!(
        task.kind,
        TaskKind::Clustering(_) | TaskKind::Reranking(_) | TaskKind::Retrieval(_)
    ) {
        return Err(Error::Unsupported {
            task: task.name.clone(),
            what: format!(
                "{} tasks cannot be evaluated by this version of leafbench yet",
                task.type_name()
            ),
        });
    }
    task.eval_splits
        .iter()
        .map(|split| {
            let records = data.load_split(task, split)?;
            let scores = match &task.kind {
                TaskKind::Sts(params) => {
                    let data = typed::sts_split(&records)?;
                    let e1 = model.encode(&data.sentence1, Role::Plain, opts)?;
                    let e2 = model.encode(&data.sentence2, Role::Plain, opts)?;
                    sts::evaluate(&data, &e1, &e2, params)
                }
                TaskKind::Classification(params) => {
                    let train =
                        typed::labelled_split(&data.load_split(task, &params.train_split)?)?;
                    let test = typed::labelled_split(&records)?;
                    let exps = classification::experiments(&train, params);
                    let needed: Vec<String> = exps
                        .needed
                        .iter()
                        .map(|&i| train.texts[i].clone())
                        .collect();
                    let needed_emb = model.encode(&needed, Role::Plain, opts)?;
                    let test_emb = model.encode(&test.texts, Role::Plain, opts)?;
                    let origin = records.origin();
                    classification::evaluate(origin, &train, &exps, &needed_emb, &test, &test_emb)?
                }
                TaskKind::PairClassification(_) => {
                    let data = typed::pair_classification_split(records)?;
                    let (e1, e2) = encode_pairs(model, &data.sentence1, &data.sentence2, opts)?;
                    pair_classification::evaluate(&data, &e1, &e2)
                }
                TaskKind::Summarization(params) => {
                    let rows = typed::summarization_split(&records)?;
                    let human: Vec<String> = rows
                        .iter()
                        .flat_map(|r| r.human_summaries.clone())
                        .collect();
                    let machine: Vec<String> = rows
                        .iter()
                        .flat_map(|r| r.machine_summaries.clone())
                        .collect();
                    let eh = model.encode(&human, Role::Plain, opts)?;
                    let em = model.encode(&machine, Role::Plain, opts)?;
                    summarization::evaluate(&rows, &eh, &em, params)
                }
                TaskKind::Clustering(_) | TaskKind::Reranking(_) | TaskKind::Retrieval(_) => {
                    unreachable!("rejected before loading data")
                }
            };
            Ok((split.clone(), scores))
        })
        .collect()
}

/// Embeds each distinct sentence once (pair sets repeat sentences heavily) and returns the
/// embeddings of both sides in pair order.
fn encode_pairs(
    model: &ModelEncoders,
    s1: &[String],
    s2: &[String],
    opts: &EncodeOptions,
) -> Result<(Embeddings, Embeddings)> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut unique: Vec<String> = Vec::new();
    for s in s1.iter().chain(s2) {
        index.entry(s.as_str()).or_insert_with(|| {
            unique.push(s.clone());
            unique.len() - 1
        });
    }
    let emb = model.encode(&unique, Role::Plain, opts)?;
    let gather = |side: &[String]| {
        let mut out = Embeddings::zeros(side.len(), emb.dim);
        for (i, s) in side.iter().enumerate() {
            out.row_mut(i).copy_from_slice(emb.row(index[s.as_str()]));
        }
        out
    };
    Ok((gather(s1), gather(s2)))
}
