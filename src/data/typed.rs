//! One typed structure per task type, built from a split's records. Column names are MTEB's
//! (after its renames); a row missing a column or holding a value of the wrong type is
//! reported with its file and line or row.

use serde::Deserialize;

use super::records::SplitRecords;
use crate::error::Result;

/// One STS or pair-classification split: sentence pairs with a gold score or 0/1 label.
#[derive(Debug, Clone, PartialEq)]
pub struct PairSplit {
    pub sentence1: Vec<String>,
    pub sentence2: Vec<String>,
    pub gold: Vec<f64>,
}

/// One classification split: texts with labels (ints or strings in the files, kept as text).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledSplit {
    pub texts: Vec<String>,
    pub labels: Vec<String>,
}

/// One summarization split: per document, human and machine summaries and the machine
/// summaries' human relevance scores.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SummaryRow {
    #[serde(default)]
    pub text: String,
    pub human_summaries: Vec<String>,
    pub machine_summaries: Vec<String>,
    pub relevance: Vec<f64>,
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
    /// The hub's single-row layout names the list `labels`.
    #[serde(alias = "labels")]
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

pub fn sts_split(records: &SplitRecords) -> Result<PairSplit> {
    records.require_rows()?;
    let rows: Vec<ScoredPairRow> = records.typed()?;
    Ok(PairSplit {
        sentence1: rows.iter().map(|r| r.sentence1.clone()).collect(),
        sentence2: rows.iter().map(|r| r.sentence2.clone()).collect(),
        gold: rows.iter().map(|r| r.score).collect(),
    })
}

/// Pairs stored row by row, or (as on the hub) as one row of parallel lists.
pub fn pair_classification_split(mut records: SplitRecords) -> Result<PairSplit> {
    records.explode_single_row()?;
    records.require_rows()?;
    let rows: Vec<LabelledPairRow> = records.typed()?;
    if let Some(i) = rows.iter().position(|r| r.label > 1) {
        return Err(records.error_at(&records.records[i], "label must be 0 or 1"));
    }
    Ok(PairSplit {
        sentence1: rows.iter().map(|r| r.sentence1.clone()).collect(),
        sentence2: rows.iter().map(|r| r.sentence2.clone()).collect(),
        gold: rows.iter().map(|r| r.label as f64).collect(),
    })
}

pub fn labelled_split(records: &SplitRecords) -> Result<LabelledSplit> {
    records.require_rows()?;
    let rows: Vec<TextRow> = records.typed()?;
    let (texts, labels) = rows
        .into_iter()
        .map(|r| (r.text, r.label.into_string()))
        .unzip();
    Ok(LabelledSplit { texts, labels })
}

pub fn summarization_split(records: &SplitRecords) -> Result<Vec<SummaryRow>> {
    records.require_rows()?;
    let rows: Vec<SummaryRow> = records.typed()?;
    if let Some(i) = rows
        .iter()
        .position(|r| r.relevance.len() != r.machine_summaries.len())
    {
        return Err(records.error_at(
            &records.records[i],
            "relevance must have one score per machine summary",
        ));
    }
    Ok(rows)
}
