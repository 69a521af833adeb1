//! Reranking: each query's candidates (its positives, then its negatives) are ranked by cosine
//! similarity to the query. Scored two ways:
//! - MTEB 1.38, which produced the published scores: per-sample average precision with
//!   scikit-learn's tie grouping, averaged to `map` (the main score), and `mrr` at 10. A query
//!   given as a list of sub-queries (MindSmall) scores each candidate by its best sub-query.
//! - MTEB 2: the same rankings as a retrieval run, scored with trec_eval (`map_at_1000`, ...).
//!   Sub-query tasks report these under `max_over_subqueries_`.
//!
//! A task in MTEB 2's own reranking form (`dataset.top_ranked`) is a retrieval split whose
//! queries each rank only their listed candidates; [`evaluate_candidates`] scores it as mteb 2
//! does, its main score the task file's.

use std::collections::HashMap;
use std::sync::Arc;

use super::exact_search::best_k;
use super::retrieval::TOP_K;
use super::scores::Scores;
use super::spec::RerankingParams;
use crate::compress::view::View;
use crate::data::retrieval::{Qrels, RetrievalSplit};
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
    /// Cosine of two texts' rows ([`view_cosine`]).
    fn cosine(&self, text: &str, other: &Encoded, other_text: &str) -> f32 {
        view_cosine(
            &self.view,
            self.rows[text],
            &other.view,
            other.rows[other_text],
        )
    }
}

/// Cosine of row `i` of `a` and row `j` of `b`: in f32 as torch computes it for float views,
/// by the kernels for code views.
fn view_cosine(a: &View, i: usize, b: &View, j: usize) -> f32 {
    match (a.as_float(), b.as_float()) {
        (Some(fa), Some(fb)) => cosine(fa.row(i), fb.row(j)),
        _ => a.cosine(i, b, j) as f32,
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

/// MTEB 2's reranking form: every query ranks its own candidates by cosine, the best
/// [`TOP_K`] kept (a candidate listed twice counts once), and the run is scored with trec_eval
/// as mteb 2 scores it. `queries` and `docs` hold the split's query and document rows.
pub fn evaluate_candidates(
    split: &RetrievalSplit,
    queries: &View,
    docs: &View,
    params: &RerankingParams,
    main_score: &str,
) -> Scores {
    let ids: Vec<Arc<str>> = split
        .doc_ids
        .iter()
        .map(|d| Arc::from(d.as_str()))
        .collect();
    let lists = split.top_ranked.as_ref();
    let run: Run = split
        .query_ids
        .iter()
        .enumerate()
        .map(|(q, qid)| {
            // A query without a list ranks nothing (mteb warns and leaves it empty).
            let candidates = lists
                .and_then(|l| l.get(qid))
                .map_or(&[][..], Vec::as_slice);
            let scored = candidates
                .iter()
                .map(|&d| (ids[d].clone(), view_cosine(queries, q, docs, d)));
            (qid.clone(), best_k(scored, TOP_K))
        })
        .collect();
    let mut scores = Scores::default();
    set_metrics(&mut scores, "", &split.qrels, &run, &params.k_values);
    if params.max_over_subqueries {
        let (qrels, merged) = max_over_subqueries(&split.qrels, &run);
        set_metrics(
            &mut scores,
            "max_over_subqueries_",
            &qrels,
            &merged,
            &params.k_values,
        );
    }
    scores.main(main_score);
    scores
}

fn set_metrics(scores: &mut Scores, prefix: &str, qrels: &Qrels, run: &Run, k_values: &[usize]) {
    for (name, value) in retrieval_metrics(qrels, run, k_values) {
        if name != "main_score" {
            scores.set(&format!("{prefix}{name}"), value);
        }
    }
}

/// Sub-queries `<request>_<n>` merged into their request, as mteb merges them: each candidate
/// scored by its best sub-query, judged by the request's judgements (mteb takes every
/// sub-query's to be the same; where they differ, the lowest sub-query id's are used here).
/// Requests are the judged queries with their last `_` part removed.
fn max_over_subqueries(qrels: &Qrels, run: &Run) -> (Qrels, Run) {
    let mut judged: Vec<&String> = qrels.keys().collect();
    judged.sort();
    let mut merged_qrels = Qrels::new();
    let mut merged_run = Run::new();
    for qid in judged {
        let request = qid.rsplit_once('_').map_or("", |(base, _)| base);
        merged_qrels
            .entry(request.to_string())
            .or_insert_with(|| qrels[qid].clone());
        let best = merged_run.entry(request.to_string()).or_default();
        for (doc, &score) in run.get(qid).into_iter().flatten() {
            let slot = best.entry(doc.clone()).or_insert(score);
            *slot = slot.max(score);
        }
    }
    (merged_qrels, merged_run)
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

    fn view(rows: &[[f32; 2]]) -> View {
        View::float(
            crate::embeddings::Embeddings {
                rows: rows.len(),
                dim: 2,
                data: rows.iter().flatten().copied().collect(),
            },
            crate::task::exact_search::Similarity::Cosine,
        )
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    /// Request `r` has sub-queries `r_0` (nearest the irrelevant d0) and `r_1` (nearest the
    /// relevant d1); d2, nearer `r_0` than d1 is, is in the corpus but in no list.
    fn form(max_over_subqueries: bool) -> Scores {
        let judged: HashMap<String, i64> = HashMap::from([("d0".into(), 0), ("d1".into(), 1)]);
        let listed = vec![0, 1];
        let split = RetrievalSplit {
            doc_ids: strings(&["d0", "d1", "d2"]),
            doc_texts: strings(&["0", "1", "2"]),
            query_ids: strings(&["r_0", "r_1"]),
            query_texts: strings(&["a", "b"]),
            qrels: HashMap::from([("r_0".into(), judged.clone()), ("r_1".into(), judged)]),
            unmatched: Default::default(),
            top_ranked: Some(HashMap::from([
                ("r_0".into(), listed.clone()),
                ("r_1".into(), listed),
            ])),
        };
        let queries = view(&[[1.0, 0.1], [0.05, 1.0]]);
        let docs = view(&[[1.0, 0.0], [0.0, 1.0], [0.7, 0.7]]);
        let params = RerankingParams {
            k_values: vec![1, 10, 1000],
            max_over_subqueries,
        };
        evaluate_candidates(
            &split,
            &queries,
            &docs,
            &params,
            "max_over_subqueries_map_at_1000",
        )
    }

    #[test]
    fn each_query_ranks_only_its_candidates_and_requests_take_their_best_sub_query() {
        let s = form(true);
        // r_0 ranks d0 before d1 (AP 1/2; d2 would have made it 1/3), r_1 ranks d1 first.
        assert_eq!(s.get("map_at_1000"), Some(0.75));
        // Merged, d1 scores cos(r_1, d1) = 0.9988, above d0's cos(r_0, d0) = 0.9950.
        assert_eq!(s.get("max_over_subqueries_map_at_1000"), Some(1.0));
        assert_eq!(s.main_score(), Some(1.0));
        let plain = form(false);
        assert_eq!(plain.get("max_over_subqueries_map_at_1000"), None);
        assert_eq!(plain.get("map_at_1000"), Some(0.75));
    }

    #[test]
    fn sub_queries_group_by_all_but_their_last_part() {
        let judged = |d: &str| HashMap::from([(d.to_string(), 1)]);
        let qrels: Qrels = HashMap::from([
            ("u_1_0".into(), judged("a")),
            ("u_1_1".into(), judged("a")),
            ("u_2_0".into(), judged("b")),
            ("plain".into(), judged("c")),
        ]);
        let scored = |d: &str, x: f32| HashMap::from([(d.to_string(), x)]);
        let run: Run = HashMap::from([
            ("u_1_0".into(), scored("a", 0.2)),
            ("u_1_1".into(), scored("a", 0.9)),
            ("u_2_0".into(), scored("b", 0.5)),
            ("plain".into(), scored("c", 0.1)),
        ]);
        let (merged_qrels, merged) = max_over_subqueries(&qrels, &run);
        let mut requests: Vec<&String> = merged.keys().collect();
        requests.sort();
        // An id without `_` joins the request named "", as mteb's join of no parts gives.
        assert_eq!(requests, ["", "u_1", "u_2"]);
        assert_eq!(merged["u_1"]["a"], 0.9);
        assert_eq!(merged_qrels["u_2"], judged("b"));
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
