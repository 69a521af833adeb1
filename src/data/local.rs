//! The local mirror layout: `<data>/<Task>/[<subset>/]<split>.jsonl`, one folder per task,
//! a subfolder per hf_subset other than `default`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::jsonl::read_rows;
use super::{LabelledSplit, PairSplit, SummaryRow};
use crate::error::{Error, Result};
use crate::task::TaskSpec;

/// The data folder: the one given, else `LEAFBENCH_DATA_DIR`, else `../shared/data`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("LEAFBENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
}

/// The file holding `split` of `task`, which must exist.
pub fn split_file(data_dir: &Path, task: &TaskSpec, split: &str) -> Result<PathBuf> {
    let mut dir = data_dir.join(&task.name);
    if task.dataset.subset != "default" {
        dir = dir.join(&task.dataset.subset);
    }
    let path = dir.join(format!("{split}.jsonl"));
    if !path.is_file() {
        return Err(Error::MissingFile {
            path,
            what: format!(
                "split `{split}` of {} (expected <data>/<Task>/[<subset>/]<split>.jsonl)",
                task.name
            ),
        });
    }
    Ok(path)
}

#[derive(Deserialize)]
struct ScoredPairRow {
    sentence1: String,
    sentence2: String,
    score: f64,
}

#[derive(Deserialize)]
struct LabelledPairRow {
    sentence1: String,
    sentence2: String,
    label: u8,
}

#[derive(Deserialize)]
struct TextRow {
    text: String,
    label: Label,
}

/// Labels are ints in some files and strings in others; both are kept as text.
#[derive(Deserialize)]
#[serde(untagged)]
enum Label {
    Int(i64),
    Text(String),
}

impl Label {
    fn into_string(self) -> String {
        match self {
            Label::Int(i) => i.to_string(),
            Label::Text(s) => s,
        }
    }
}

pub fn load_sts(path: &Path) -> Result<PairSplit> {
    let rows: Vec<ScoredPairRow> = read_rows(path)?;
    non_empty(path, rows.len())?;
    Ok(PairSplit {
        sentence1: rows.iter().map(|r| r.sentence1.clone()).collect(),
        sentence2: rows.iter().map(|r| r.sentence2.clone()).collect(),
        gold: rows.iter().map(|r| r.score).collect(),
    })
}

pub fn load_pair_classification(path: &Path) -> Result<PairSplit> {
    let rows: Vec<LabelledPairRow> = read_rows(path)?;
    non_empty(path, rows.len())?;
    if let Some(i) = rows.iter().position(|r| r.label > 1) {
        return Err(Error::Line {
            path: path.to_path_buf(),
            line: i + 1,
            what: "label must be 0 or 1".into(),
        });
    }
    Ok(PairSplit {
        sentence1: rows.iter().map(|r| r.sentence1.clone()).collect(),
        sentence2: rows.iter().map(|r| r.sentence2.clone()).collect(),
        gold: rows.iter().map(|r| r.label as f64).collect(),
    })
}

pub fn load_labelled(path: &Path) -> Result<LabelledSplit> {
    let rows: Vec<TextRow> = read_rows(path)?;
    non_empty(path, rows.len())?;
    let (texts, labels) = rows
        .into_iter()
        .map(|r| (r.text, r.label.into_string()))
        .unzip();
    Ok(LabelledSplit { texts, labels })
}

pub fn load_summarization(path: &Path) -> Result<Vec<SummaryRow>> {
    let rows: Vec<SummaryRow> = read_rows(path)?;
    non_empty(path, rows.len())?;
    if let Some(i) = rows
        .iter()
        .position(|r| r.relevance.len() != r.machine_summaries.len())
    {
        return Err(Error::Line {
            path: path.to_path_buf(),
            line: i + 1,
            what: "relevance must have one score per machine summary".into(),
        });
    }
    Ok(rows)
}

fn non_empty(path: &Path, rows: usize) -> Result<()> {
    if rows == 0 {
        return Err(Error::invalid(
            path,
            "split is empty; expected at least one row",
        ));
    }
    Ok(())
}
