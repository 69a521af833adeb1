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

/// Labels are ints in some files and strings in others; both are kept as text. Anything
/// else is refused with what was found.
struct Label(String);

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(s) => Ok(Label(s)),
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Label(n.to_string())),
            other => Err(serde::de::Error::custom(format!(
                "`label` is {other}; expected an integer or a string"
            ))),
        }
    }
}

impl Label {
    fn into_string(self) -> String {
        self.0
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

/// One clustering split, one document per entry. Hub rows that hold whole clustering sets as
/// lists are flattened in row order (MTEB's `itertools.chain`); the row number becomes the set.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusteringSplit {
    pub sentences: Vec<String>,
    pub labels: Vec<String>,
    /// The clustering set of each document (the legacy protocol clusters sets separately).
    pub sets: Vec<i64>,
}

#[derive(Deserialize)]
struct ClusteringRow {
    sentences: OneOrMany<String>,
    labels: OneOrMany<Label>,
    #[serde(default)]
    set: Option<i64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    fn into_vec(self) -> Vec<T> {
        match self {
            OneOrMany::One(t) => vec![t],
            OneOrMany::Many(v) => v,
        }
    }
}

pub fn clustering_split(records: &SplitRecords) -> Result<ClusteringSplit> {
    records.require_rows()?;
    let rows: Vec<ClusteringRow> = records.typed()?;
    let mut out = ClusteringSplit {
        sentences: Vec::new(),
        labels: Vec::new(),
        sets: Vec::new(),
    };
    for (i, row) in rows.into_iter().enumerate() {
        let sentences = row.sentences.into_vec();
        let labels = row.labels.into_vec();
        if sentences.len() != labels.len() {
            return Err(records.error_at(
                &records.records[i],
                format!("{} sentences but {} labels", sentences.len(), labels.len()),
            ));
        }
        let set = row.set.unwrap_or(i as i64);
        out.sets.extend(std::iter::repeat_n(set, sentences.len()));
        out.sentences.extend(sentences);
        out.labels
            .extend(labels.into_iter().map(Label::into_string));
    }
    Ok(out)
}

/// One reranking sample: a query (or, as in MindSmall, a list of sub-queries) with its
/// relevant and irrelevant candidates.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RerankingSample {
    #[serde(deserialize_with = "one_or_many_strings")]
    pub query: Vec<String>,
    /// Whether the query was a list of sub-queries in the file.
    #[serde(skip)]
    pub sub_queries: bool,
    pub positive: Vec<String>,
    pub negative: Vec<String>,
}

fn one_or_many_strings<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Vec<String>, D::Error> {
    Ok(OneOrMany::<String>::deserialize(d)?.into_vec())
}

/// Every sample of a reranking split, as the file holds them.
pub fn reranking_rows(records: &SplitRecords) -> Result<Vec<RerankingSample>> {
    records.require_rows()?;
    let mut samples: Vec<RerankingSample> = records.typed()?;
    for (sample, record) in samples.iter_mut().zip(&records.records) {
        sample.sub_queries = record.fields.get("query").is_some_and(|q| q.is_array());
    }
    Ok(samples)
}

/// The samples MTEB scores: those with at least one positive and one negative.
pub fn reranking_split(mut samples: Vec<RerankingSample>) -> Vec<RerankingSample> {
    samples.retain(|s| !s.positive.is_empty() && !s.negative.is_empty());
    samples
}
