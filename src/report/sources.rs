//! Where report and compare read scores from: results folders in MTEB's layout
//! (`<org>__<name>/<revision>/<Task>.json`, and `…/<revision>/experiments/<setting>/<Task>.json`
//! for compression cells), or the shipped published scores (`published:<org>/<name>`).
//! Each (model, setting, task) becomes one [`TaskScore`]: the mean main score over the task's
//! evaluation splits and subset, as MTEB's leaderboard takes it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::published::Published;
use super::results_json::EncodingSpeed;
use crate::error::{Error, Result};
use crate::task::Registry;

/// One task's score for one model (at one compression setting).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskScore {
    pub model: String,
    pub revision: String,
    /// The compression cell (`dim256-int8`), `None` for plain results.
    pub setting: Option<String>,
    pub task: String,
    pub task_type: String,
    /// Main score as a fraction.
    pub score: f64,
    /// Every numeric metric, averaged like the main score (for `compare --all-metrics`).
    pub metrics: BTreeMap<String, f64>,
    /// The `split/subset` entries the scores average, sorted: two scores of a task are only
    /// comparable over the same ones.
    pub coverage: Vec<String>,
    /// The result file, or `published` for the shipped scores.
    pub source: String,
    /// The encoding's speed where the result file records it.
    pub encoding: Option<EncodingSpeed>,
}

/// Reads every input: a results folder, or `published:<model>`. One model's results must come
/// from one revision; with `allow_mixed_revisions` they are combined under a joined label.
pub fn load(
    inputs: &[String],
    registry: &Registry,
    allow_mixed_revisions: bool,
) -> Result<Vec<TaskScore>> {
    let mut results = Vec::new();
    let mut shipped = Vec::new();
    for input in inputs {
        match input.strip_prefix("published:") {
            Some(model) => shipped.extend(published(model, registry)?),
            None => results.extend(results_dir(Path::new(input), registry)?),
        }
    }
    combine_revisions(&mut results, allow_mixed_revisions)?;
    results.extend(shipped);
    Ok(results)
}

/// The shipped published scores of `model`, one per task of the registry they cover.
pub fn published(model: &str, registry: &Registry) -> Result<Vec<TaskScore>> {
    let path = Published::default_path();
    let table = Published::load(&path)?;
    let tasks: BTreeSet<&str> = table.rows_of(model).map(|r| r.task.as_str()).collect();
    if tasks.is_empty() {
        return Err(Error::invalid(
            &path,
            format!("no published scores for model `{model}`"),
        ));
    }
    let mut out = Vec::new();
    for task in tasks {
        let Ok(spec) = registry.get(task) else {
            continue;
        };
        let Some((score, coverage)) =
            table.score_and_coverage(model, task, &spec.eval_splits, &spec.subsets())
        else {
            continue;
        };
        out.push(TaskScore {
            model: model.to_string(),
            // Published rows mix revisions (and "external" imports); they are one source.
            revision: "published".into(),
            setting: None,
            task: task.to_string(),
            task_type: spec.type_name().to_string(),
            score,
            metrics: BTreeMap::from([("main_score".to_string(), score)]),
            coverage,
            source: "published".into(),
            encoding: None,
        });
    }
    Ok(out)
}

/// Every result file under `dir`.
fn results_dir(dir: &Path, registry: &Registry) -> Result<Vec<TaskScore>> {
    if !dir.is_dir() {
        return Err(Error::invalid(
            dir,
            "not a results folder; expected <org>__<name>/<revision>/<Task>.json files below it, or published:<org>/<name>",
        ));
    }
    let mut files = Vec::new();
    json_files(dir, &mut BTreeSet::new(), &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in files {
        if file.file_name().is_some_and(|n| n == "model_meta.json") {
            continue;
        }
        if let Some(score) = result_file(&file, registry)? {
            out.push(score);
        }
    }
    if out.is_empty() {
        return Err(Error::invalid(dir, "holds no MTEB result files"));
    }
    Ok(out)
}

/// The `.json` files below `dir`. Symlinked folders are followed, but each real folder is
/// walked once (`seen` holds their device and inode), so a link cycle ends the walk there.
fn json_files(dir: &Path, seen: &mut BTreeSet<(u64, u64)>, out: &mut Vec<PathBuf>) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(dir).map_err(|e| Error::io(dir, e))?;
    if !seen.insert((meta.dev(), meta.ino())) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            json_files(&path, seen, out)?;
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// Model, revision and setting from a result file's place in the layout.
fn placement(file: &Path) -> Option<(String, String, Option<String>)> {
    let parent = file.parent()?;
    let (rev_dir, setting) = match parent.parent() {
        Some(exp) if exp.file_name().is_some_and(|n| n == "experiments") => {
            (exp.parent()?, Some(name(parent)?))
        }
        _ => (parent, None),
    };
    let model = name(rev_dir.parent()?)?.replace("__", "/");
    Some((model, name(rev_dir)?, setting))
}

fn name(p: &Path) -> Option<String> {
    Some(p.file_name()?.to_string_lossy().into_owned())
}

/// One result file; tasks unknown to the registry are skipped with a warning.
fn result_file(file: &Path, registry: &Registry) -> Result<Option<TaskScore>> {
    let json: Value = crate::error::read_json(file)?;
    let missing = |field: &str| {
        Error::invalid(
            file,
            format!("not an MTEB result file: missing field `{field}`"),
        )
    };
    let task = json
        .get("task_name")
        .and_then(Value::as_str)
        .ok_or_else(|| missing("task_name"))?;
    let splits = json
        .get("scores")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("scores"))?;
    // A result of another edition of the task is that edition's, never the default one's.
    let task = match json.get("task_edition").and_then(Value::as_str) {
        Some(edition) => format!("{task}@{edition}"),
        None => task.to_string(),
    };
    let Ok(spec) = registry.get(&task) else {
        tracing::warn!(
            "{}: task `{task}` has no definition in tasks/; skipped",
            file.display()
        );
        return Ok(None);
    };
    let (model, revision, setting) = placement(file).ok_or_else(|| {
        Error::invalid(
            file,
            "expected the layout <org>__<name>/<revision>/<Task>.json",
        )
    })?;
    let subsets = spec.subsets();
    let mut sums: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut coverage = Vec::new();
    for (split, entries) in splits {
        if !spec.eval_splits.contains(split) {
            continue;
        }
        let entries = entries
            .as_array()
            .ok_or_else(|| missing(&format!("scores.{split}[]")))?;
        for entry in entries {
            let subset = entry.get("hf_subset").and_then(Value::as_str);
            if subset.is_some_and(|s| !subsets.iter().any(|t| t == s)) {
                continue;
            }
            if entry.get("main_score").and_then(Value::as_f64).is_none() {
                return Err(missing(&format!("scores.{split}[].main_score")));
            }
            coverage.push(format!("{split}/{}", subset.unwrap_or("default")));
            for (k, v) in entry.as_object().into_iter().flatten() {
                if let Some(x) = v.as_f64() {
                    let s = sums.entry(k.clone()).or_default();
                    s.0 += x;
                    s.1 += 1;
                }
            }
        }
    }
    let metrics: BTreeMap<String, f64> = sums
        .into_iter()
        .map(|(k, (sum, n))| (k, sum / n as f64))
        .collect();
    let score = *metrics.get("main_score").ok_or_else(|| {
        Error::invalid(
            file,
            format!(
                "no scores for the split(s) {} and subset(s) `{}` that {task} is evaluated on",
                spec.eval_splits.join(", "),
                subsets.join("`, `")
            ),
        )
    })?;
    coverage.sort();
    Ok(Some(TaskScore {
        model,
        revision,
        setting,
        task,
        task_type: spec.type_name().to_string(),
        score,
        metrics,
        coverage,
        source: file.display().to_string(),
        encoding: encoding_speed(file, &json)?,
    }))
}

/// The encoding speed a result file records, if any. A malformed one is an error: read as
/// absent, its cell would silently drop out of the speed chart.
fn encoding_speed(file: &Path, json: &Value) -> Result<Option<EncodingSpeed>> {
    let Some(e) = json
        .pointer("/compression/encoding")
        .filter(|e| !e.is_null())
    else {
        return Ok(None);
    };
    match serde_json::from_value::<EncodingSpeed>(e.clone()) {
        Ok(speed) if speed.seconds.is_finite() && speed.seconds >= 0.0 => Ok(Some(speed)),
        _ => Err(Error::invalid(
            file,
            format!(
                "compression.encoding must be {{\"tokens\": <whole number>, \"seconds\": \
                 <seconds, 0 or more>}}, got {e}"
            ),
        )),
    }
}

/// Errors when one model's results come from several revisions, naming them; when allowed,
/// relabels them with the joined revisions so they form one row.
fn combine_revisions(scores: &mut [TaskScore], allow: bool) -> Result<()> {
    let mut revisions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in scores.iter() {
        revisions
            .entry(s.model.clone())
            .or_default()
            .insert(s.revision.clone());
    }
    for (model, revs) in revisions {
        if revs.len() < 2 {
            continue;
        }
        let list: Vec<String> = revs.into_iter().collect();
        let message = format!(
            "results of model `{model}` come from {} revisions ({}), which would be combined",
            list.len(),
            list.join(", ")
        );
        if !allow {
            return Err(Error::Unsupported {
                task: "report".into(),
                what: format!("{message}; pass one revision's folder, or --allow-mixed-revisions"),
            });
        }
        tracing::warn!("{message}");
        let joined = list.join("+");
        for s in scores.iter_mut().filter(|s| s.model == model) {
            s.revision = joined.clone();
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlink_cycle_is_walked_once() {
        let dir = tempfile::tempdir().unwrap();
        let rev = dir.path().join("org__m/main");
        std::fs::create_dir_all(&rev).unwrap();
        std::fs::write(rev.join("T.json"), "{}").unwrap();
        std::os::unix::fs::symlink(dir.path(), rev.join("loop")).unwrap();
        std::os::unix::fs::symlink(dir.path(), rev.join("loop2")).unwrap();
        let mut files = Vec::new();
        json_files(dir.path(), &mut BTreeSet::new(), &mut files).unwrap();
        assert_eq!(files, vec![rev.join("T.json")]);
    }

    #[test]
    fn a_result_file_s_encoding_speed_is_read_or_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rev = dir
            .path()
            .join("org__m/main/experiments/bfloat16-compute-dim384-float32");
        std::fs::create_dir_all(&rev).unwrap();
        let file = rev.join("STSBenchmark.json");
        let registry = Registry::load(&Registry::default_dir()).unwrap();
        let write = |encoding: &str| {
            let scores = r#"{"test": [{"hf_subset": "default", "main_score": 0.8}]}"#;
            let compression = format!(r#"{{"precision": "bfloat16", "encoding": {encoding}}}"#);
            let json = format!(
                r#"{{"task_name": "STSBenchmark", "scores": {scores}, "compression": {compression}}}"#
            );
            std::fs::write(&file, json).unwrap();
        };
        write(r#"{"tokens": 1200, "seconds": 0.5}"#);
        let score = result_file(&file, &registry).unwrap().unwrap();
        let speed = score.encoding.unwrap();
        assert_eq!((speed.tokens, speed.seconds), (1200, 0.5));
        write("null");
        assert!(result_file(&file, &registry)
            .unwrap()
            .unwrap()
            .encoding
            .is_none());
        for bad in [
            r#"{"tokens": "many", "seconds": 0.5}"#,
            r#"{"tokens": 1200}"#,
            r#"{"tokens": -3, "seconds": 0.5}"#,
            r#"{"tokens": 1200, "seconds": -1.0}"#,
            "12",
        ] {
            write(bad);
            let err = result_file(&file, &registry).unwrap_err().to_string();
            assert!(
                err.contains("STSBenchmark.json") && err.contains("compression.encoding"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn placement_reads_model_revision_and_setting() {
        let p = Path::new("/r/org__m/abc/STS12.json");
        assert_eq!(placement(p), Some(("org/m".into(), "abc".into(), None)));
        let p = Path::new("/r/org__m/abc/experiments/dim64-int8/STS12.json");
        assert_eq!(
            placement(p),
            Some(("org/m".into(), "abc".into(), Some("dim64-int8".into())))
        );
    }
}
