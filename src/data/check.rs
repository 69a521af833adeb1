//! Every loaded split checked against MTEB's own descriptive statistics of it
//! (`tasks/data_stats.json`, made by `scripts/make_data_stats.py`): a split whose figures
//! differ — a dropped row, a swapped column, another revision, another test cut — stops the run
//! with an error naming the task, split, figure, expected and found value, unless the check
//! is skipped for that task (`--no-data-check`, or `no_data_check` in the run configuration).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::figures::{Figure, Figures};
use crate::error::{Error, Result};

/// The statistics file in a folder of task files.
pub const FILE_NAME: &str = "data_stats.json";

/// Relative tolerance on real-valued figures (mean scores are sums in another order).
const REAL_TOLERANCE: f64 = 1e-9;

#[derive(Deserialize)]
struct File {
    tasks: HashMap<String, TaskStats>,
}

#[derive(Debug, Deserialize)]
struct TaskStats {
    source: String,
    /// subset → split → figure → value.
    subsets: HashMap<String, HashMap<String, BTreeMap<String, Value>>>,
}

/// The expected figures of every task that has them.
#[derive(Debug)]
pub struct DataStats {
    path: PathBuf,
    tasks: HashMap<String, TaskStats>,
}

impl DataStats {
    /// `tasks_dir/data_stats.json`, or `None` when the folder has none (a folder of one's own
    /// task files is then not checked).
    pub fn load_from(tasks_dir: &Path) -> Result<Option<Self>> {
        let path = tasks_dir.join(FILE_NAME);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let file: File = serde_json::from_str(&text)
            .map_err(|e| Error::invalid(&path, format!("not a data statistics file: {e}")))?;
        Ok(Some(Self {
            path,
            tasks: file.tasks,
        }))
    }

    fn expected(&self, task: &str, subset: &str, split: &str) -> Option<&BTreeMap<String, Value>> {
        self.tasks.get(task)?.subsets.get(subset)?.get(split)
    }
}

/// Which tasks skip the check.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    untagged,
    expecting = "true (skip the data check for every task) or a list of task names"
)]
pub enum SkipCheck {
    #[default]
    #[serde(skip)]
    Nothing,
    All(bool),
    Tasks(Vec<String>),
}

impl SkipCheck {
    fn covers(&self, task: &str) -> bool {
        match self {
            Self::Nothing => false,
            Self::All(all) => *all,
            Self::Tasks(names) => names.iter().any(|n| n == task),
        }
    }
}

/// What a result file says of its data (`data_check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Every evaluated split equals MTEB's statistics.
    Passed,
    /// Not checked: `--no-data-check` or `no_data_check`.
    Skipped,
    /// Not checked: no statistics are shipped for the task.
    NoStatistics,
}

/// The check a run applies.
#[derive(Debug, Clone, Default)]
pub struct DataCheck {
    stats: Option<Arc<DataStats>>,
    skip: SkipCheck,
}

impl DataCheck {
    pub fn new(stats: Option<DataStats>, skip: SkipCheck) -> Self {
        Self {
            stats: stats.map(Arc::new),
            skip,
        }
    }

    /// What the check does for `task`.
    pub fn status(&self, task: &str) -> CheckStatus {
        if self.skip.covers(task) {
            CheckStatus::Skipped
        } else if self
            .stats
            .as_ref()
            .is_some_and(|s| s.tasks.contains_key(task))
        {
            CheckStatus::Passed
        } else {
            CheckStatus::NoStatistics
        }
    }

    /// Checks the figures of `split` of `subset` of `task`, measured by `measure` only when
    /// the check applies. `what` names the data in the error (its file or folder).
    pub fn verify(
        &self,
        task: &str,
        subset: &str,
        split: &str,
        what: &Path,
        measure: impl FnOnce() -> Figures,
    ) -> Result<()> {
        if self.status(task) != CheckStatus::Passed {
            return Ok(());
        }
        let stats = self.stats.as_ref().expect("status Passed needs statistics");
        // A task with statistics is recorded as checked, so a split without figures is an
        // error rather than a split that goes unchecked under that record.
        let Some(expected) = stats.expected(task, subset, split) else {
            return Err(Error::invalid(
                &stats.path,
                format!(
                    "{task} has statistics, but none for split {split} of subset {subset}; \
                     add them, or skip the check for it (--no-data-check, or \
                     `no_data_check: [{task}]` in the run configuration)"
                ),
            ));
        };
        let found = measure();
        let differences = differences(expected, &found);
        if differences.is_empty() {
            return Ok(());
        }
        let source = &stats.tasks[task].source;
        Err(Error::invalid(
            what,
            format!(
                "{task}, split {split}, subset {subset}: the loaded data differs from MTEB's \
                 statistics of it ({source}):\n  {}\n(another revision, a damaged copy or a \
                 wrong cut; --no-data-check, or `no_data_check: [{task}]` in the run \
                 configuration, runs it anyway and says so in the result file)",
                differences.join("\n  ")
            ),
        ))
    }
}

/// One line per figure that differs: `figure: expected E, found F`.
fn differences(expected: &BTreeMap<String, Value>, found: &Figures) -> Vec<String> {
    let mut out = Vec::new();
    for (name, want) in expected {
        let Some(got) = found.get(name) else {
            out.push(format!("{name}: expected {want}, found nothing to measure"));
            continue;
        };
        match (want, got) {
            (Value::Object(want), Figure::Labels(got)) => out.extend(label_differences(want, got)),
            (Value::Number(want), Figure::Count(got)) if want.as_u64() == Some(*got) => {}
            (Value::Number(want), Figure::Real(got)) if close(want.as_f64(), *got) => {}
            (want, got) => out.push(format!("{name}: expected {want}, found {}", shown(got))),
        }
    }
    out
}

fn close(want: Option<f64>, got: f64) -> bool {
    want.is_some_and(|w| (w - got).abs() <= REAL_TOLERANCE * w.abs().max(got.abs()).max(1.0))
}

fn shown(figure: &Figure) -> String {
    match figure {
        Figure::Count(n) => n.to_string(),
        Figure::Real(x) => x.to_string(),
        Figure::Labels(l) => format!("{} labels", l.len()),
    }
}

/// Label counts compared label by label. Where MTEB class-encodes a task's labels its
/// statistics name them by class id (the position of the name in sorted order), so names
/// are turned into those ids first.
fn label_differences(
    want: &serde_json::Map<String, Value>,
    got: &BTreeMap<String, u64>,
) -> Vec<String> {
    let numeric = |k: &String| k.parse::<u64>().is_ok();
    let got = if want.keys().all(numeric) && !got.keys().all(numeric) {
        as_class_ids(got)
    } else {
        got.clone()
    };
    let mut out = Vec::new();
    for (label, n) in want {
        let found = got.get(label).copied().unwrap_or(0);
        if n.as_u64() != Some(found) {
            out.push(format!("labels[{label}]: expected {n}, found {found}"));
        }
    }
    for (label, n) in &got {
        if !want.contains_key(label) {
            out.push(format!("labels[{label}]: expected none, found {n}"));
        }
    }
    out
}

/// Names replaced by their class id, MTEB's `class_encode_column` order (names sorted).
fn as_class_ids(got: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    got.values()
        .enumerate()
        .map(|(id, n)| (id.to_string(), *n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn expected(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn equal_figures_pass_and_each_difference_is_named() {
        let want = expected(json!({"rows": 3, "text.chars": 10, "score.avg": 2.5}));
        let mut found = Figures::new();
        found.insert("rows".into(), Figure::Count(3));
        found.insert("text.chars".into(), Figure::Count(10));
        found.insert("score.avg".into(), Figure::Real(2.5000000000001));
        assert!(differences(&want, &found).is_empty());
        found.insert("rows".into(), Figure::Count(2));
        found.insert("score.avg".into(), Figure::Real(2.6));
        assert_eq!(
            differences(&want, &found),
            [
                "rows: expected 3, found 2",
                "score.avg: expected 2.5, found 2.6"
            ]
        );
    }

    #[test]
    fn labels_compare_by_name_or_by_class_id() {
        let found: BTreeMap<String, u64> = [("b".to_string(), 2), ("a".to_string(), 5)].into();
        let by_name = json!({"a": 5, "b": 2});
        assert!(label_differences(by_name.as_object().unwrap(), &found).is_empty());
        let by_id = json!({"0": 5, "1": 2});
        assert!(label_differences(by_id.as_object().unwrap(), &found).is_empty());
        let swapped = json!({"0": 2, "1": 5});
        assert_eq!(
            label_differences(swapped.as_object().unwrap(), &found),
            [
                "labels[0]: expected 2, found 5",
                "labels[1]: expected 5, found 2"
            ]
        );
        let missing = json!({"a": 5, "b": 2, "c": 1});
        assert_eq!(
            label_differences(missing.as_object().unwrap(), &found),
            ["labels[c]: expected 1, found 0"]
        );
    }

    #[test]
    fn a_split_without_figures_is_an_error_not_a_pass() {
        let splits = HashMap::from([("test".to_string(), expected(json!({"rows": 1})))]);
        let task = TaskStats {
            source: "mteb".into(),
            subsets: HashMap::from([("default".to_string(), splits)]),
        };
        let stats = DataStats {
            path: PathBuf::from("tasks/data_stats.json"),
            tasks: HashMap::from([("T".to_string(), task)]),
        };
        let check = DataCheck::new(Some(stats), SkipCheck::Nothing);
        let one_row = || Figures::from([("rows".to_string(), Figure::Count(1))]);
        let here = Path::new("data/T");
        assert!(check.verify("T", "default", "test", here, one_row).is_ok());
        let err = check
            .verify("T", "default", "train", here, one_row)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("tasks/data_stats.json") && err.contains("none for split train"),
            "{err}"
        );
        let skipped = DataCheck::new(None, SkipCheck::Tasks(vec!["T".into()]));
        assert!(skipped
            .verify("T", "default", "train", here, one_row)
            .is_ok());
    }

    #[test]
    fn skip_settings_cover_their_tasks() {
        let some = SkipCheck::Tasks(vec!["STS12".into()]);
        assert!(some.covers("STS12") && !some.covers("STS13"));
        assert!(SkipCheck::All(true).covers("STS13"));
        assert!(!SkipCheck::All(false).covers("STS13"));
    }
}
