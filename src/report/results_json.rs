//! One MTEB-format result file per (model, task):
//! `<out>/<org>__<name>/<revision>/<Task>.json`, loadable by mteb's `TaskResult.from_disk`.
//! `mteb_version` is null; `leafbench_version` says what produced the file.
//!
//! A compression grid adds one file per cell:
//! `<out>/<org>__<name>/<revision>/experiments/<setting>/<Task>.json` (setting e.g.
//! `dim256-int8`), with a `compression` object: the cell, its bytes per vector and its
//! retention (main score ÷ the float32 full-size main score of the same run).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::output::write_atomically;
use crate::task::scores::Scores;
use crate::task::TaskSpec;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TaskResult {
    pub dataset_revision: String,
    pub task_name: String,
    pub mteb_version: Option<String>,
    pub leafbench_version: String,
    pub scores: BTreeMap<String, Vec<BTreeMap<String, Value>>>,
    pub evaluation_time: f64,
    pub kg_co2_emissions: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionInfo>,
}

/// The grid cell a result was computed at.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompressionInfo {
    pub setting: String,
    pub dim: usize,
    pub quantization: String,
    pub semantics: String,
    pub calibration: String,
    /// Candidates per kept hit fetched before rescoring (binary rescore cells only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescore_multiplier: Option<usize>,
    pub bytes_per_vector: usize,
    pub float32_bytes_per_vector: usize,
    /// Main score of the float32 full-size cell of the same run.
    pub baseline_main_score: Option<f64>,
    /// This cell's main score ÷ `baseline_main_score`.
    pub retention: Option<f64>,
}

impl TaskResult {
    /// Builds the result of `task` from its per-split scores.
    pub fn new(task: &TaskSpec, split_scores: Vec<(String, Scores)>, evaluation_time: f64) -> Self {
        let scores = split_scores
            .into_iter()
            .map(|(split, s)| {
                let mut entry = s.values;
                entry.insert(
                    "hf_subset".into(),
                    Value::String(task.dataset.subset.clone()),
                );
                entry.insert("languages".into(), serde_json::json!(task.languages));
                (split, vec![entry])
            })
            .collect();
        Self {
            dataset_revision: task.dataset.revision.clone(),
            task_name: task.name.clone(),
            mteb_version: None,
            leafbench_version: env!("CARGO_PKG_VERSION").to_string(),
            scores,
            evaluation_time,
            kg_co2_emissions: None,
            compression: None,
        }
    }

    /// Mean main score over the scored splits, as MTEB aggregates a task.
    pub fn main_score(&self) -> Option<f64> {
        let mains: Vec<f64> = self
            .scores
            .values()
            .flatten()
            .filter_map(|e| e.get("main_score")?.as_f64())
            .collect();
        (!mains.is_empty()).then(|| mains.iter().sum::<f64>() / mains.len() as f64)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let json = serde_json::to_vec_pretty(self).expect("results serialise");
        write_atomically(path, |w| w.write_all(&json))
    }

    pub fn load(path: &Path) -> Result<Self> {
        crate::error::read_json(path)
    }
}

/// The folder of a model's results: `org/name` → `org__name`.
pub fn model_dir_name(model_name: &str) -> String {
    model_name.replace('/', "__")
}

/// `<out>/<org>__<name>/<revision>/<Task>.json`.
pub fn result_path(out_dir: &Path, model_name: &str, revision: &str, task: &str) -> PathBuf {
    out_dir
        .join(model_dir_name(model_name))
        .join(revision)
        .join(format!("{task}.json"))
}

/// `<out>/<org>__<name>/<revision>/experiments/<setting>/<Task>.json`.
pub fn experiment_path(
    out_dir: &Path,
    model_name: &str,
    revision: &str,
    setting: &str,
    task: &str,
) -> PathBuf {
    out_dir
        .join(model_dir_name(model_name))
        .join(revision)
        .join("experiments")
        .join(setting)
        .join(format!("{task}.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_subset_languages_and_null_for_nan() {
        let task: TaskSpec = serde_saphyr::from_str(
            "name: T\ntype: STS\ndataset: {path: a/b, revision: r1, subset: en-en}\neval_splits: [test]\nmain_score: cosine_spearman\nparams: {min_score: 0, max_score: 5}\n",
        )
        .unwrap();
        let mut s = Scores::default();
        s.set("cosine_spearman", 0.5);
        s.set("cosine_pearson", f64::NAN);
        s.main("cosine_spearman");
        let r = TaskResult::new(&task, vec![("test".into(), s)], 1.5);
        let dir = tempfile::tempdir().unwrap();
        let path = result_path(dir.path(), "org/model", "abc", "T");
        r.save(&path).unwrap();
        assert!(path.ends_with("org__model/abc/T.json"));
        let back = TaskResult::load(&path).unwrap();
        assert_eq!(back, r);
        let entry = &back.scores["test"][0];
        assert_eq!(entry["hf_subset"], "en-en");
        assert_eq!(entry["cosine_pearson"], Value::Null);
        assert_eq!(back.main_score(), Some(0.5));
    }
}
