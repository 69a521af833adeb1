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

use crate::data::check::CheckStatus;
use crate::error::{Error, Result};
use crate::output::write_atomically;
use crate::task::scores::SubsetScores;
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
    /// The model (`org/name`) and revision the scores belong to, so a file moved or copied
    /// into another model's folder is never taken for that model's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_revision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<CompressionInfo>,
    /// Whether the evaluated data was checked against MTEB's statistics of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_check: Option<CheckStatus>,
    /// The task file's edition when it is not the default one (`mteb2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_edition: Option<String>,
}

/// What a run would compute for one file: a file on disk is reused only when it matches.
pub struct Expected<'a> {
    pub task: &'a TaskSpec,
    pub model_name: &'a str,
    pub model_revision: &'a str,
    /// The grid cell (its scores left out), `None` for the plain result.
    pub cell: Option<&'a CompressionInfo>,
}

/// The grid cell a result was computed at.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CompressionInfo {
    pub setting: String,
    /// Compute precision of the encoding (files from before precisions existed are float32).
    #[serde(default = "float32")]
    pub precision: String,
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
    /// How fast the model encoded the task's texts at this cell's precision, in the run that
    /// wrote the file; absent where every embedding came from the cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<EncodingSpeed>,
}

/// Tokens the model encoded (padding aside) and the seconds its forward passes took.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct EncodingSpeed {
    pub tokens: usize,
    pub seconds: f64,
}

impl EncodingSpeed {
    /// Both added: the speed over several encodings together.
    pub fn plus(self, other: EncodingSpeed) -> EncodingSpeed {
        EncodingSpeed {
            tokens: self.tokens + other.tokens,
            seconds: self.seconds + other.seconds,
        }
    }

    pub fn tokens_per_second(&self) -> Option<f64> {
        (self.seconds > 0.0 && self.tokens > 0).then(|| self.tokens as f64 / self.seconds)
    }
}

fn float32() -> String {
    "float32".into()
}

impl CompressionInfo {
    /// Whether both describe the same cell, computed the same way (their scores aside).
    pub fn same_cell(&self, other: &CompressionInfo) -> bool {
        let key = |c: &CompressionInfo| {
            (
                c.setting.clone(),
                c.precision.clone(),
                c.dim,
                c.quantization.clone(),
                c.semantics.clone(),
                c.calibration.clone(),
                c.rescore_multiplier,
                c.float32_bytes_per_vector,
            )
        };
        key(self) == key(other)
    }
}

impl TaskResult {
    /// Builds the result of `task` from its per-(split, subset) scores: one entry per subset
    /// under each split, in evaluation order.
    pub fn new(task: &TaskSpec, unit_scores: Vec<SubsetScores>, evaluation_time: f64) -> Self {
        let mut scores: BTreeMap<String, Vec<BTreeMap<String, Value>>> = BTreeMap::new();
        for u in unit_scores {
            let mut entry = u.scores.values;
            entry.insert(
                "languages".into(),
                serde_json::json!(task.languages_of(&u.subset)),
            );
            entry.insert("hf_subset".into(), Value::String(u.subset));
            scores.entry(u.split).or_default().push(entry);
        }
        Self {
            dataset_revision: task.dataset.revision.clone(),
            task_name: task.name.clone(),
            mteb_version: None,
            leafbench_version: env!("CARGO_PKG_VERSION").to_string(),
            scores,
            evaluation_time,
            kg_co2_emissions: None,
            model_name: None,
            model_revision: None,
            compression: None,
            data_check: None,
            task_edition: task.edition.clone(),
        }
    }

    /// Sets the model the scores belong to.
    pub fn for_model(mut self, name: &str, revision: &str) -> Self {
        self.model_name = Some(name.to_string());
        self.model_revision = Some(revision.to_string());
        self
    }

    /// Fails when a split's main score is missing or not a finite number: an undefined score
    /// must stop the run, never be saved as null for a later report or gate to trip over.
    pub fn check_defined(&self, task: &TaskSpec) -> Result<()> {
        for (split, entries) in &self.scores {
            for entry in entries {
                if !defined_main(entry) {
                    return Err(Error::UndefinedScore {
                        task: task.name.clone(),
                        split: split.clone(),
                        metric: task.main_score.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Why this file is not the result `expected` describes; `None` when it is.
    pub fn mismatch(&self, expected: &Expected) -> Option<String> {
        let task = expected.task;
        let differs = |what: &str, found: Option<&str>, want: &str| {
            (found != Some(want)).then(|| {
                format!(
                    "its {what} is {}, expected `{want}`",
                    found.map_or("missing".to_string(), |f| format!("`{f}`"))
                )
            })
        };
        let cell_name = |c: Option<&CompressionInfo>| {
            c.map_or("the plain result".to_string(), |c| {
                format!("cell `{}`", c.setting)
            })
        };
        differs("task_name", Some(&self.task_name), &task.name)
            .or_else(|| {
                differs(
                    "dataset_revision",
                    Some(&self.dataset_revision),
                    &task.dataset.revision,
                )
            })
            .or_else(|| {
                differs(
                    "model_name",
                    self.model_name.as_deref(),
                    expected.model_name,
                )
            })
            .or_else(|| {
                differs(
                    "model_revision",
                    self.model_revision.as_deref(),
                    expected.model_revision,
                )
            })
            .or_else(|| {
                let same = match (&self.compression, expected.cell) {
                    (None, None) => true,
                    (Some(a), Some(b)) => a.same_cell(b),
                    _ => false,
                };
                (!same).then(|| match (&self.compression, expected.cell) {
                    (Some(a), Some(b)) if a.setting == b.setting => format!(
                        "its cell `{}` was computed differently (semantics, calibration, \
                         rescoring or model size)",
                        a.setting
                    ),
                    (found, want) => format!(
                        "it holds {}, expected {}",
                        cell_name(found.as_ref()),
                        cell_name(want)
                    ),
                })
            })
            .or_else(|| self.split_mismatch(task))
    }

    /// Every evaluated split present, for each of the task's subsets, with a defined main
    /// score.
    fn split_mismatch(&self, task: &TaskSpec) -> Option<String> {
        for split in &task.eval_splits {
            let entries = self
                .scores
                .get(split)
                .map(Vec::as_slice)
                .unwrap_or_default();
            for subset in task.subsets() {
                let ok = entries.iter().any(|e| {
                    e.get("hf_subset").and_then(Value::as_str) == Some(subset.as_str())
                        && defined_main(e)
                });
                if !ok {
                    return Some(format!(
                        "it has no defined main score for split `{split}`, subset `{subset}`"
                    ));
                }
            }
        }
        None
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

    /// The file at `path` when it is the result `expected` describes: `Ok(None)` when there is
    /// no file, `Err` saying why a file that is there does not match (or cannot be read).
    pub fn on_disk(path: &Path, expected: &Expected) -> std::result::Result<Option<Self>, String> {
        if !path.exists() {
            return Ok(None);
        }
        let r = Self::load(path).map_err(|e| format!("it cannot be read ({e})"))?;
        match r.mismatch(expected) {
            None => Ok(Some(r)),
            Some(why) => Err(why),
        }
    }
}

/// Whether a split entry's main score is a finite number.
fn defined_main(entry: &BTreeMap<String, Value>) -> bool {
    entry
        .get("main_score")
        .and_then(Value::as_f64)
        .is_some_and(f64::is_finite)
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
    use crate::task::scores::Scores;

    /// An STS task on `subset`, and scores whose main score is 0.5.
    fn sts_task_and_scores(subset: &str) -> (TaskSpec, Scores) {
        let task = serde_saphyr::from_str(&format!(
            "name: T\ntype: STS\ndataset: {{path: a/b, revision: r1, subset: {subset}}}\neval_splits: [test]\nmain_score: cosine_spearman\nparams: {{min_score: 0, max_score: 5}}\n",
        ))
        .unwrap();
        let mut s = Scores::default();
        s.set("cosine_spearman", 0.5);
        s.main("cosine_spearman");
        (task, s)
    }

    fn unit(subset: &str, scores: Scores) -> SubsetScores {
        SubsetScores {
            split: "test".into(),
            subset: subset.into(),
            scores,
        }
    }

    #[test]
    fn every_subset_is_an_entry_and_the_task_score_is_their_mean() {
        let task: TaskSpec = serde_saphyr::from_str(
            "name: T\ntype: STS\ndataset: {path: a/b, revision: r1, subsets: [b, a]}\neval_splits: [test]\nmain_score: cosine_spearman\nparams: {min_score: 0, max_score: 5}\n",
        )
        .unwrap();
        let scored = |v: f64| {
            let mut s = Scores::default();
            s.set("cosine_spearman", v);
            s.main("cosine_spearman");
            s
        };
        let r = TaskResult::new(
            &task,
            vec![unit("b", scored(0.25)), unit("a", scored(0.75))],
            1.0,
        )
        .for_model("o/m", "main");
        let subsets: Vec<&str> = r.scores["test"]
            .iter()
            .map(|e| e["hf_subset"].as_str().unwrap())
            .collect();
        assert_eq!(subsets, ["b", "a"], "entries in evaluation order");
        assert_eq!(r.main_score(), Some(0.5));
        let expected = Expected {
            task: &task,
            model_name: "o/m",
            model_revision: "main",
            cell: None,
        };
        assert_eq!(r.mismatch(&expected), None);
        let partial =
            TaskResult::new(&task, vec![unit("b", scored(0.25))], 1.0).for_model("o/m", "main");
        let why = partial.mismatch(&expected).unwrap();
        assert!(
            why.contains("no defined main score for split `test`, subset `a`"),
            "{why}"
        );
    }

    #[test]
    fn round_trips_with_subset_languages_and_null_for_nan() {
        let (task, mut s) = sts_task_and_scores("en-en");
        s.set("cosine_pearson", f64::NAN);
        let r = TaskResult::new(&task, vec![unit("en-en", s)], 1.5);
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

    fn cell(setting: &str, calibration: &str) -> CompressionInfo {
        CompressionInfo {
            setting: setting.into(),
            precision: "float32".into(),
            dim: 64,
            quantization: "int8".into(),
            semantics: "sentence-transformers".into(),
            calibration: calibration.into(),
            rescore_multiplier: None,
            bytes_per_vector: 64,
            float32_bytes_per_vector: 1536,
            baseline_main_score: Some(0.8),
            retention: Some(0.9),
            encoding: None,
        }
    }

    #[test]
    fn a_file_is_reusable_only_for_its_task_model_and_cell() {
        let (task, s) = sts_task_and_scores("default");
        let mut r = TaskResult::new(&task, vec![unit("default", s)], 1.0).for_model("o/m", "main");
        r.compression = Some(cell("dim64-int8", "train"));
        let want = cell("dim64-int8", "train");
        let expected = |cell| Expected {
            task: &task,
            model_name: "o/m",
            model_revision: "main",
            cell,
        };
        assert_eq!(
            r.mismatch(&expected(Some(&want))),
            None,
            "scores aside, the same cell"
        );
        let other = cell("dim64-int8", "fixed [-1, 1]");
        let why = r.mismatch(&expected(Some(&other))).unwrap();
        assert!(
            why.contains("`dim64-int8` was computed differently"),
            "{why}"
        );
        let why = r.mismatch(&expected(None)).unwrap();
        assert!(
            why.contains("holds cell `dim64-int8`, expected the plain result"),
            "{why}"
        );
        let mut rev = expected(Some(&want));
        rev.model_revision = "v2";
        assert!(r
            .mismatch(&rev)
            .unwrap()
            .contains("model_revision is `main`"));
    }
}
