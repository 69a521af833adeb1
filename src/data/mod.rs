//! Task data, one typed structure per task type, loaded from a local mirror
//! (`local`, the layout of MTEB's offline copies) for the splits a task scores.

pub mod jsonl;
pub mod local;

use serde::Deserialize;

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
