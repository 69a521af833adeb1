//! Where a run reads each task's data: the local mirror when it holds the task, else the
//! task's Hugging Face dataset at its pinned revision (cache first, then download).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::hf::{split_files, HubDataset};
use super::records::SplitRecords;
use super::{jsonl, local, parquet, tsv, zip_archive};
use crate::data::check::DataCheck;
use crate::error::{Error, Result};
use crate::hub::ResolveOptions;
use crate::spec::TaskSpec;

/// Which source a run may use (`data_source:` in a run configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DataOrigin {
    /// The local mirror for the tasks it holds, the hub for the others.
    #[default]
    Auto,
    /// Only the local mirror.
    Local,
    /// Only the tasks' Hugging Face datasets (cache, then download unless offline).
    Hub,
}

/// The parts of a retrieval split, each as read from its files.
pub struct RetrievalRecords {
    pub corpus: SplitRecords,
    pub queries: SplitRecords,
    pub qrels: SplitRecords,
    /// Each query's candidates, for a task in MTEB 2's reranking form.
    pub top_ranked: Option<SplitRecords>,
}

#[derive(Debug, Clone)]
pub struct DataSource {
    pub origin: DataOrigin,
    pub data_dir: PathBuf,
    pub hub: ResolveOptions,
    /// The check of each loaded split against MTEB's statistics of it.
    pub check: DataCheck,
}

impl DataSource {
    /// The records of `split` of `task`, with MTEB's column names.
    pub fn load_split(&self, task: &TaskSpec, split: &str) -> Result<SplitRecords> {
        if self.reads_locally(task) {
            let path = local::split_file(&self.data_dir, task, split)?;
            read_files(vec![path])
        } else if task.dataset.concat_splits.is_empty() {
            load_hub_split(task, split, &self.hub)
        } else {
            let mut all = SplitRecords::default();
            for part in &task.dataset.concat_splits {
                all.append(load_hub_split(task, part, &self.hub)?);
            }
            Ok(all)
        }
    }

    /// The corpus, queries and `split` qrels of a retrieval task (and the candidate lists of
    /// one in MTEB 2's reranking form): in the mirror `corpus.jsonl`, `queries.jsonl`,
    /// `qrels/<split>.tsv` (and `top_ranked/<split>.jsonl`); on the hub the configs `corpus`,
    /// `queries`, `default` (else `qrels`, as mteb's loader falls back) and `top_ranked`, each
    /// prefixed by the subset for multi-subset tasks.
    pub fn load_retrieval(&self, task: &TaskSpec, split: &str) -> Result<RetrievalRecords> {
        if self.reads_locally(task) {
            let dir = local::task_dir(&self.data_dir, task);
            let file = |rel: &str| local::existing_file(&dir, rel, task);
            let top_ranked = if task.dataset.top_ranked {
                Some(read_files(vec![file(&format!(
                    "top_ranked/{split}.jsonl"
                ))?])?)
            } else {
                None
            };
            return Ok(RetrievalRecords {
                corpus: read_files(vec![file("corpus.jsonl")?])?,
                queries: read_files(vec![file("queries.jsonl")?])?,
                qrels: read_files(vec![file(&format!("qrels/{split}.tsv"))?])?,
                top_ranked,
            });
        }
        let base = HubDataset::of(&task.dataset);
        let subset = &task.dataset.subset;
        let config = |part: &str| match subset.as_str() {
            "default" => part.to_string(),
            s => format!("{s}-{part}"),
        };
        let read = |dataset: HubDataset| -> Result<SplitRecords> {
            read_files(split_files(&dataset, split, &self.hub)?)
        };
        let qrels = if subset == "default" {
            let first = read(base.with_config("default", false));
            or_config(first, || read(base.with_config("qrels", false)))?
        } else {
            read(base.with_config(&config("qrels"), false))?
        };
        let top_ranked = if task.dataset.top_ranked {
            Some(read(base.with_config(&config("top_ranked"), true))?)
        } else {
            None
        };
        Ok(RetrievalRecords {
            corpus: read(base.with_config(&config("corpus"), true))?,
            queries: read(base.with_config(&config("queries"), true))?,
            qrels,
            top_ranked,
        })
    }

    fn reads_locally(&self, task: &TaskSpec) -> bool {
        match self.origin {
            DataOrigin::Auto => local::holds_task(&self.data_dir, task),
            DataOrigin::Local => true,
            DataOrigin::Hub => false,
        }
    }
}

/// `first`, or when its config is not found, `other`; when neither is, the places looked at
/// for both.
fn or_config(
    first: Result<SplitRecords>,
    other: impl FnOnce() -> Result<SplitRecords>,
) -> Result<SplitRecords> {
    let Err(Error::DatasetNotFound {
        dataset,
        split,
        mut looked,
    }) = first
    else {
        return first;
    };
    match other() {
        Err(Error::DatasetNotFound {
            dataset: second,
            looked: more,
            ..
        }) => {
            looked.extend(more);
            Err(Error::DatasetNotFound {
                dataset: format!("{dataset}, then {second}"),
                split,
                looked,
            })
        }
        found => found,
    }
}

/// A split from the hub, after the subset filter and renames MTEB applies on loading.
pub fn load_hub_split(task: &TaskSpec, split: &str, opts: &ResolveOptions) -> Result<SplitRecords> {
    let files = split_files(&HubDataset::of(&task.dataset), split, opts)?;
    let mut records = read_files(files)?;
    if task.dataset.fast_loading {
        records.keep_where("lang", &task.dataset.subset)?;
    }
    // The loading script names its columns first; the task's transform renames after it.
    let script_columns = task.dataset.loading_script.iter().flat_map(|s| &s.columns);
    let renames: Vec<(String, String)> = script_columns
        .chain(&task.dataset.rename_columns)
        .map(|(from, to)| (from.clone(), to.clone()))
        .collect();
    records.rename(&renames);
    Ok(records)
}

/// The records of `paths`, concatenated in order; a zip archive stands for its data members.
fn read_files(paths: Vec<PathBuf>) -> Result<SplitRecords> {
    let mut all = SplitRecords::default();
    for path in paths {
        if zip_archive::is_archive(&path) {
            for (member, bytes) in zip_archive::data_members(&path)? {
                let records = jsonl::parse_records(&member, bytes, all.files.len())?;
                all.records.extend(records);
                all.files.push(member);
            }
        } else {
            all.records.extend(read_file(&path, all.files.len())?);
            all.files.push(path);
        }
    }
    Ok(all)
}

fn read_file(path: &Path, index: usize) -> Result<Vec<super::records::Record>> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("parquet") => parquet::read_records(path, index),
        Some("tsv") => tsv::read_records(path, index),
        _ => jsonl::read_records(path, index),
    }
}
