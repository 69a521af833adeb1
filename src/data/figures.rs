//! The figures that identify a loaded split, under the names of `tasks/data_stats.json`:
//! rows, characters of each text column, distinct texts, label counts, corpus and judgement
//! counts, score ranges. They are measured as MTEB measures its descriptive statistics
//! (characters are Python `len`, i.e. code points), so a split equal to MTEB's gives equal
//! figures, and a dropped row, a swapped column or another cut does not.

use std::collections::{BTreeMap, HashSet};

use super::retrieval::RetrievalSplit;
use super::typed::{LabelledSplit, PairSplit, RerankingSample, SummaryRow};

/// One measured figure.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Count(u64),
    Real(f64),
    /// Label → rows.
    Labels(BTreeMap<String, u64>),
}

/// A split's figures by name.
pub type Figures = BTreeMap<String, Figure>;

fn count(n: usize) -> Figure {
    Figure::Count(n as u64)
}

/// `<column>.chars`, `.min_chars`, `.max_chars` and `.unique` of a text column.
fn text_column<'a>(out: &mut Figures, column: &str, texts: impl Iterator<Item = &'a str>) {
    let mut total = 0;
    let mut lengths = (usize::MAX, 0);
    let mut distinct = HashSet::new();
    for t in texts {
        let n = t.chars().count();
        total += n;
        lengths = (lengths.0.min(n), lengths.1.max(n));
        distinct.insert(t);
    }
    if distinct.is_empty() {
        return;
    }
    out.insert(format!("{column}.chars"), count(total));
    out.insert(format!("{column}.min_chars"), count(lengths.0));
    out.insert(format!("{column}.max_chars"), count(lengths.1));
    out.insert(format!("{column}.unique"), count(distinct.len()));
}

fn labels<'a>(labels: impl Iterator<Item = &'a str>) -> Figure {
    let mut counts = BTreeMap::new();
    for l in labels {
        *counts.entry(l.to_string()).or_insert(0) += 1;
    }
    Figure::Labels(counts)
}

/// `score.min`, `.avg` and `.max`; the mean summed in order, as Python's `sum` does.
fn scores(out: &mut Figures, values: &[f64]) {
    if values.is_empty() {
        return;
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let avg = values.iter().sum::<f64>() / values.len() as f64;
    out.insert("score.min".into(), Figure::Real(min));
    out.insert("score.avg".into(), Figure::Real(avg));
    out.insert("score.max".into(), Figure::Real(max));
}

/// A classification split.
pub fn labelled(split: &LabelledSplit) -> Figures {
    let mut out = Figures::new();
    out.insert("rows".into(), count(split.texts.len()));
    text_column(&mut out, "text", split.texts.iter().map(String::as_str));
    out.insert(
        "labels".into(),
        labels(split.labels.iter().map(String::as_str)),
    );
    out
}

/// An STS split (gold scores) or a pair-classification split (0/1 labels).
pub fn pairs(split: &PairSplit, labelled: bool) -> Figures {
    let mut out = Figures::new();
    out.insert("rows".into(), count(split.sentence1.len()));
    let distinct: HashSet<(&str, &str)> = split
        .sentence1
        .iter()
        .zip(&split.sentence2)
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    out.insert("unique_pairs".into(), count(distinct.len()));
    text_column(
        &mut out,
        "sentence1",
        split.sentence1.iter().map(String::as_str),
    );
    text_column(
        &mut out,
        "sentence2",
        split.sentence2.iter().map(String::as_str),
    );
    if labelled {
        let names: Vec<String> = split.gold.iter().map(|g| format!("{g}")).collect();
        out.insert("labels".into(), labels(names.iter().map(String::as_str)));
    } else {
        scores(&mut out, &split.gold);
    }
    out
}

/// A summarization split; the scores are every machine summary's relevance.
pub fn summaries(rows: &[SummaryRow]) -> Figures {
    let mut out = Figures::new();
    out.insert("rows".into(), count(rows.len()));
    text_column(&mut out, "text", rows.iter().map(|r| r.text.as_str()));
    let human = rows.iter().flat_map(|r| r.human_summaries.iter());
    text_column(&mut out, "human_summaries", human.map(String::as_str));
    let machine = rows.iter().flat_map(|r| r.machine_summaries.iter());
    text_column(&mut out, "machine_summaries", machine.map(String::as_str));
    let relevance: Vec<f64> = rows.iter().flat_map(|r| r.relevance.clone()).collect();
    scores(&mut out, &relevance);
    out
}

/// A clustering split after its transform and before any subsampling; a text's label counts
/// once per level (`cs` and `AI` for `cs.AI`), as MTEB counts hierarchical labels.
pub fn clustering(texts: &[String], levels: &[Vec<String>]) -> Figures {
    let mut out = Figures::new();
    out.insert("rows".into(), count(texts.len()));
    text_column(&mut out, "text", texts.iter().map(String::as_str));
    let all = levels.iter().flatten().map(String::as_str);
    out.insert("labels".into(), labels(all));
    out
}

/// A reranking split as the file holds it (MTEB measures the rows before its evaluator drops
/// those without a positive or a negative): per-row columns as MTEB 1 counted them, and the
/// distinct query texts and candidate documents.
pub fn reranking(samples: &[RerankingSample]) -> Figures {
    let mut out = Figures::new();
    out.insert("rows".into(), count(samples.len()));
    let queries = samples.iter().flat_map(|s| s.query.iter());
    let positives = samples.iter().flat_map(|s| s.positive.iter());
    let negatives = samples.iter().flat_map(|s| s.negative.iter());
    out.insert("positives".into(), count(positives.clone().count()));
    out.insert("negatives".into(), count(negatives.clone().count()));
    text_column(&mut out, "query", queries.clone().map(String::as_str));
    text_column(&mut out, "positive", positives.clone().map(String::as_str));
    text_column(&mut out, "negative", negatives.clone().map(String::as_str));
    let distinct: HashSet<&str> = queries.map(String::as_str).collect();
    out.insert("queries.unique".into(), count(distinct.len()));
    let documents: HashSet<&str> = positives.chain(negatives).map(String::as_str).collect();
    text_column(&mut out, "documents", documents.into_iter());
    out
}

/// A retrieval split: the whole corpus (documents measured stripped, as MTEB measures
/// `title + " " + text`), the queries that have judgements, and the judgements.
pub fn retrieval(split: &RetrievalSplit) -> Figures {
    let mut out = Figures::new();
    out.insert("documents".into(), count(split.doc_texts.len()));
    out.insert("queries".into(), count(split.query_texts.len()));
    text_column(
        &mut out,
        "documents",
        split.doc_texts.iter().map(|t| t.trim()),
    );
    text_column(
        &mut out,
        "queries",
        split.query_texts.iter().map(String::as_str),
    );
    let per_query: Vec<usize> = split
        .qrels
        .values()
        .map(|docs| docs.values().filter(|&&grade| grade != 0).count())
        .collect();
    let judged: HashSet<&str> = split
        .qrels
        .values()
        .flat_map(|docs| docs.keys().map(String::as_str))
        .collect();
    out.insert("qrels.relevant".into(), count(per_query.iter().sum()));
    if let (Some(min), Some(max)) = (per_query.iter().min(), per_query.iter().max()) {
        out.insert("qrels.min_per_query".into(), count(*min));
        out.insert("qrels.max_per_query".into(), count(*max));
    }
    out.insert("qrels.documents".into(), count(judged.len()));
    if let Some(lists) = &split.top_ranked {
        // Every list as loaded, as mteb counts them (before queries without judgements go).
        let lengths: Vec<usize> = lists.values().map(Vec::len).collect();
        out.insert("top_ranked.total".into(), count(lengths.iter().sum()));
        if let (Some(min), Some(max)) = (lengths.iter().min(), lengths.iter().max()) {
            out.insert("top_ranked.min_per_query".into(), count(*min));
            out.insert("top_ranked.max_per_query".into(), count(*max));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::retrieval::Unmatched;
    use std::collections::HashMap;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// One small split of every task type, measured.
    fn every_kind() -> Vec<Figures> {
        let labelled_split = LabelledSplit {
            texts: strings(&["née", "ab", "ab"]),
            labels: strings(&["x", "y", "x"]),
        };
        let pair_split = PairSplit {
            sentence1: strings(&["a", "a"]),
            sentence2: strings(&["b", "b"]),
            gold: vec![1.0, 0.0],
        };
        let summary = SummaryRow {
            text: "doc".into(),
            human_summaries: strings(&["h"]),
            machine_summaries: strings(&["m1", "m2"]),
            relevance: vec![1.0, 3.0],
        };
        let sample = RerankingSample {
            query: strings(&["q"]),
            sub_queries: false,
            positive: strings(&["p"]),
            negative: strings(&["n", "p"]),
        };
        let qrels = HashMap::from([("q1".to_string(), HashMap::from([("d1".to_string(), 1)]))]);
        let retrieval_split = RetrievalSplit {
            doc_ids: strings(&["d1", "d2"]),
            doc_texts: strings(&[" body", "T body"]),
            query_ids: strings(&["q1"]),
            query_texts: strings(&["query"]),
            qrels,
            unmatched: Unmatched::default(),
            top_ranked: Some(HashMap::from([
                ("q1".to_string(), vec![0, 1]),
                ("q2".to_string(), vec![1]),
            ])),
        };
        vec![
            labelled(&labelled_split),
            pairs(&pair_split, false),
            pairs(&pair_split, true),
            summaries(&[summary]),
            clustering(&strings(&["t"]), &[strings(&["cs", "AI"])]),
            reranking(&[sample]),
            retrieval(&retrieval_split),
        ]
    }

    #[test]
    fn figures_count_code_points_levels_and_stripped_documents() {
        let all = every_kind();
        assert_eq!(
            all[0]["text.chars"],
            Figure::Count(7),
            "née is 3 code points"
        );
        assert_eq!(all[0]["text.unique"], Figure::Count(2));
        let labels = BTreeMap::from([("x".to_string(), 2), ("y".to_string(), 1)]);
        assert_eq!(all[0]["labels"], Figure::Labels(labels));
        assert_eq!(all[1]["unique_pairs"], Figure::Count(1));
        assert_eq!(all[1]["score.avg"], Figure::Real(0.5));
        let pair_labels = BTreeMap::from([("0".to_string(), 1), ("1".to_string(), 1)]);
        assert_eq!(all[2]["labels"], Figure::Labels(pair_labels));
        assert_eq!(all[3]["score.max"], Figure::Real(3.0));
        let levels = BTreeMap::from([("AI".to_string(), 1), ("cs".to_string(), 1)]);
        assert_eq!(all[4]["labels"], Figure::Labels(levels));
        assert_eq!(all[5]["documents.unique"], Figure::Count(2));
        assert_eq!(all[5]["negatives"], Figure::Count(2));
        assert_eq!(
            all[6]["documents.chars"],
            Figure::Count(10),
            "`body` + `T body`"
        );
        assert_eq!(all[6]["qrels.relevant"], Figure::Count(1));
        assert_eq!(all[6]["top_ranked.total"], Figure::Count(3));
        assert_eq!(all[6]["top_ranked.min_per_query"], Figure::Count(1));
        assert_eq!(all[6]["top_ranked.max_per_query"], Figure::Count(2));
    }

    /// A figure the statistics file names but no split measures would never be checked.
    #[test]
    fn every_figure_of_the_shipped_statistics_is_measured() {
        let measured: HashSet<String> = every_kind()
            .into_iter()
            .flat_map(|f| f.into_keys())
            .collect();
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks/data_stats.json");
        let file: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut named = 0;
        for (task, entry) in file["tasks"].as_object().unwrap() {
            for splits in entry["subsets"].as_object().unwrap().values() {
                for figures in splits.as_object().unwrap().values() {
                    for name in figures.as_object().unwrap().keys() {
                        assert!(
                            measured.contains(name),
                            "{task}: `{name}` is never measured"
                        );
                        named += 1;
                    }
                }
            }
        }
        assert!(named > 1000, "only {named} figures in the file");
    }
}
