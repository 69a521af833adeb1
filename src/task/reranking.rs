//! Reranking: each query's candidates (its positives, then its negatives) are ranked by cosine
//! similarity to the query. Scored two ways:
//! - MTEB 1.38, which produced the published scores: per-sample average precision with
//!   scikit-learn's tie grouping, averaged to `map` (the main score), and `mrr` at 10. A query
//!   given as a list of sub-queries (MindSmall) scores each candidate by its best sub-query.
//! - MTEB 2: the same rankings as a retrieval run, scored with trec_eval (`map_at_1000`, ...).
//!   Sub-query tasks report these under `max_over_subqueries_`.

use std::collections::HashMap;

use super::scores::Scores;
use crate::compress::view::View;
use crate::data::retrieval::Qrels;
use crate::data::typed::RerankingSample;
use crate::metrics::average_precision::average_precision;
use crate::metrics::trec::{retrieval_metrics, Run};

/// Candidates ranked per query for MTEB 1.38's MRR.
const MRR_AT: usize = 10;

/// Texts embedded once each, looked up by text.
pub struct Encoded<'a> {
    pub rows: HashMap<&'a str, usize>,
    pub view: View,
}

impl Encoded<'_> {
    /// Cosine of two texts' rows: in f32 as torch computes it for float views, by the kernels
    /// for code views.
    fn cosine(&self, text: &str, other: &Encoded, other_text: &str) -> f32 {
        let (i, j) = (self.rows[text], other.rows[other_text]);
        match (self.view.as_float(), other.view.as_float()) {
            (Some(a), Some(b)) => cosine(a.row(i), b.row(j)),
            _ => self.view.cosine(i, &other.view, j) as f32,
        }
    }
}

/// `split` names the MTEB 2 query ids (`{split}_query{i}`).
pub fn evaluate(
    samples: &[RerankingSample],
    queries: &Encoded,
    docs: &Encoded,
    split: &str,
    k_values: &[usize],
) -> Scores {
    let mut aps = Vec::with_capacity(samples.len());
    let mut rrs = Vec::with_capacity(samples.len());
    let mut qrels: Qrels = HashMap::new();
    let mut run: Run = HashMap::new();
    for (i, sample) in samples.iter().enumerate() {
        let sims = similarities(sample, queries, docs);
        let relevant: Vec<bool> = (0..sims.len()).map(|j| j < sample.positive.len()).collect();
        let sims64: Vec<f64> = sims.iter().map(|&s| s as f64).collect();
        aps.push(average_precision(&relevant, &sims64));
        rrs.push(reciprocal_rank(&relevant, &sims));
        let qid = format!("{split}_query{i}");
        let ids = candidate_ids(&qid, sample);
        qrels.insert(
            qid.clone(),
            ids.iter()
                .zip(&relevant)
                .map(|(d, r)| (d.clone(), *r as i64))
                .collect(),
        );
        run.insert(qid, ids.into_iter().zip(sims).collect());
    }
    let mut scores = Scores::default();
    let prefix = if samples.iter().any(|s| s.sub_queries) {
        "max_over_subqueries_"
    } else {
        ""
    };
    for (name, value) in retrieval_metrics(&qrels, &run, k_values) {
        if name != "main_score" {
            scores.set(&format!("{prefix}{name}"), value);
        }
    }
    scores.set("map", mean(&aps));
    scores.set("mrr", mean(&rrs));
    scores.main("map");
    scores
}

/// Cosine of every candidate to the query, the maximum over sub-queries, in f32 as torch
/// computes it.
fn similarities(sample: &RerankingSample, queries: &Encoded, docs: &Encoded) -> Vec<f32> {
    sample
        .positive
        .iter()
        .chain(&sample.negative)
        .map(|d| {
            sample
                .query
                .iter()
                .map(|q| queries.cosine(q, docs, d))
                .fold(f32::NEG_INFINITY, f32::max)
        })
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot / (norm(a) * norm(b))
}

/// 1 / rank of the first relevant candidate among the best `MRR_AT`, else 0.
fn reciprocal_rank(relevant: &[bool], sims: &[f32]) -> f64 {
    let mut order: Vec<usize> = (0..sims.len()).collect();
    order.sort_by(|&a, &b| sims[b].total_cmp(&sims[a]));
    order
        .iter()
        .take(MRR_AT)
        .position(|&j| relevant[j])
        .map_or(0.0, |rank| 1.0 / (rank + 1) as f64)
}

/// MTEB 2's ids for converted reranking rows: positives and negatives numbered separately.
fn candidate_ids(qid: &str, sample: &RerankingSample) -> Vec<String> {
    let positives = (0..sample.positive.len()).map(|j| format!("apositive_{qid}_{j:05}"));
    let negatives = (0..sample.negative.len()).map(|j| format!("negative_{qid}_{j:05}"));
    positives.chain(negatives).collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded<'a>(items: &[(&'a str, [f32; 2])]) -> Encoded<'a> {
        Encoded {
            rows: items
                .iter()
                .enumerate()
                .map(|(i, (t, _))| (*t, i))
                .collect(),
            view: View::float(
                crate::embeddings::Embeddings {
                    rows: items.len(),
                    dim: 2,
                    data: items.iter().flat_map(|(_, v)| *v).collect(),
                },
                crate::task::exact_search::Similarity::Cosine,
            ),
        }
    }

    fn sample(query: &[&str], pos: &[&str], neg: &[&str]) -> RerankingSample {
        RerankingSample {
            query: query.iter().map(|s| s.to_string()).collect(),
            sub_queries: query.len() > 1,
            positive: pos.iter().map(|s| s.to_string()).collect(),
            negative: neg.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn ranks_candidates_and_reports_both_forms() {
        let q = encoded(&[("q", [1.0, 0.0])]);
        let d = encoded(&[
            ("good", [1.0, 0.1]),
            ("bad", [0.0, 1.0]),
            ("meh", [1.0, 1.0]),
        ]);
        // Second sample: the negative outranks the positive.
        let samples = [
            sample(&["q"], &["good"], &["bad"]),
            sample(&["q"], &["bad"], &["meh"]),
        ];
        let s = evaluate(&samples, &q, &d, "test", &[1, 10, 1000]);
        assert_eq!(s.get("map"), Some(0.75));
        assert_eq!(s.get("mrr"), Some(0.75));
        assert_eq!(s.get("map_at_1000"), Some(0.75));
        assert_eq!(s.main_score(), Some(0.75));
    }

    #[test]
    fn sub_queries_take_the_best_match_and_prefix_the_trec_names() {
        let q = encoded(&[("a", [1.0, 0.0]), ("b", [0.0, 1.0])]);
        let d = encoded(&[("x", [0.0, 1.0]), ("y", [1.0, 1.0])]);
        let s = evaluate(
            &[sample(&["a", "b"], &["x"], &["y"])],
            &q,
            &d,
            "test",
            &[10],
        );
        // x matches sub-query b exactly (1.0) and beats y (0.707).
        assert_eq!(s.get("map"), Some(1.0));
        assert!(s.get("max_over_subqueries_ndcg_at_10").is_some());
    }
}
