//! Retrieval: queries (query role) against the corpus (document role) by exact search, top
//! 1000 per query, scored with trec_eval's metrics as MTEB reports them; main `ndcg_at_10`.
//! The corpus is encoded and searched chunk by chunk, so memory stays bounded by one chunk.

use std::sync::Arc;

use std::collections::HashMap;

use rayon::prelude::*;

use super::exact_search::{best_k, TopK};
use super::scores::Scores;
use super::spec::RetrievalParams;
use crate::compress::quantize::unpack_bits;
use crate::compress::view::View;
use crate::data::retrieval::RetrievalSplit;
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::metrics::trec::{retrieval_metrics, Run};

/// Documents retrieved per query, as MTEB keeps them.
pub const TOP_K: usize = 1000;
/// Documents encoded and scored at a time (MTEB's corpus chunk size).
pub const CORPUS_CHUNK: usize = 50_000;

/// Binary retrieval with rescoring, as sentence-transformers describes it: the binary index
/// returns `multiplier × 1000` candidates by Hamming similarity, which are re-ranked by the dot
/// product of the float32 query with each candidate's unpacked bits (0 / 1), keeping 1000.
pub struct Rescore {
    /// Float32 queries at the cell's dims, row i for query i.
    pub queries: Embeddings,
    pub multiplier: usize,
}

/// Searches the corpus for every query. `doc_view` embeds a slice of document texts at the
/// query view's cell; it is called once per chunk. Float views are searched with one matrix
/// product per chunk, code views with the compressed kernels.
pub fn search(
    split: &RetrievalSplit,
    queries: &View,
    rescore: Option<Rescore>,
    mut doc_view: impl FnMut(&[String]) -> Result<View>,
) -> Result<Run> {
    let keep = rescore
        .as_ref()
        .map_or(TOP_K, |r| TOP_K * r.multiplier.max(1));
    let mut top = match queries.as_float() {
        Some(q) => TopK::new(q, keep, queries.similarity)?,
        None => TopK::scored(queries.rows, keep, queries.similarity),
    };
    let ids: Vec<Arc<str>> = split
        .doc_ids
        .iter()
        .map(|d| Arc::from(d.as_str()))
        .collect();
    let mut bits: HashMap<Arc<str>, Vec<u8>> = HashMap::new();
    for start in (0..split.doc_ids.len()).step_by(CORPUS_CHUNK) {
        let end = (start + CORPUS_CHUNK).min(split.doc_ids.len());
        let docs = doc_view(&split.doc_texts[start..end])?;
        let chunk_ids = &ids[start..end];
        match docs.as_float() {
            Some(d) => top.add_chunk(d, chunk_ids)?,
            None => top.add_scored(docs.rows, chunk_ids, |q, out| {
                docs.scores_against(queries, q, out)
            }),
        }
        if rescore.is_some() {
            for (r, id) in chunk_ids.iter().enumerate() {
                let row = docs.bits(r).expect("rescoring needs a binary index");
                bits.insert(id.clone(), row.to_vec());
            }
        }
    }
    let mut results = top.into_results();
    if let Some(r) = rescore {
        results = results
            .par_iter()
            .enumerate()
            .map(|(q, hits)| {
                let query = r.queries.row(q);
                let rescored = hits.keys().map(|doc| {
                    let unpacked = unpack_bits(&bits[doc.as_str()], query.len());
                    let score: f32 = query.iter().zip(&unpacked).map(|(a, b)| a * b).sum();
                    (Arc::from(doc.as_str()), score)
                });
                best_k(rescored, TOP_K)
            })
            .collect();
    }
    Ok(split.query_ids.iter().cloned().zip(results).collect())
}

/// The metrics of a finished search.
pub fn evaluate(split: &RetrievalSplit, mut run: Run, params: &RetrievalParams) -> Scores {
    if params.ignore_identical_ids {
        // A document sharing the query's id is the query itself (e.g. ArguAna's arguments);
        // MTEB removes it after the search, so such a list can hold 999 documents.
        for (query, docs) in run.iter_mut() {
            docs.remove(query);
        }
    }
    let metrics = retrieval_metrics(&split.qrels, &run, &params.k_values);
    let mut scores = Scores::default();
    for (name, value) in &metrics {
        if name != "main_score" {
            scores.set(name, *value);
        }
    }
    scores.main("ndcg_at_10");
    scores
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compress::quantize::{quantize, Calibration, Level};
    use crate::data::retrieval::Unmatched;
    use crate::task::exact_search::Similarity;

    fn split() -> RetrievalSplit {
        RetrievalSplit {
            doc_ids: vec!["q1".into(), "d1".into(), "d2".into()],
            doc_texts: vec![" q1".into(), " d1".into(), " d2".into()],
            query_ids: vec!["q1".into()],
            query_texts: vec!["q".into()],
            qrels: [("q1".to_string(), [("d2".to_string(), 1)].into())].into(),
            unmatched: Unmatched::default(),
            top_ranked: None,
        }
    }

    /// Document i points along axis i; the query sits nearest to its namesake document.
    fn encode(texts: &[String]) -> Result<Embeddings> {
        let data = texts
            .iter()
            .flat_map(|t| match t.as_str() {
                " q1" | "q" => [1.0, 0.0, 0.0],
                " d1" => [0.0, 1.0, 0.0],
                _ => [0.6, 0.0, 0.8],
            })
            .collect();
        Ok(Embeddings {
            rows: texts.len(),
            dim: 3,
            data,
        })
    }

    fn float_view(texts: &[String]) -> Result<View> {
        Ok(View::float(encode(texts)?, Similarity::Cosine))
    }

    fn code_view(texts: &[String], level: Level) -> Result<View> {
        let e = encode(texts)?;
        let fixed = Calibration::Fixed {
            min: -1.0,
            max: 1.0,
        };
        let codes = quantize(&e.data, e.rows, e.dim, level, &fixed).unwrap();
        Ok(View::codes(codes, Similarity::Cosine))
    }

    #[test]
    fn code_views_are_searched_with_the_kernels() {
        let s = split();
        let q = code_view(&s.query_texts, Level::Int8).unwrap();
        let run = search(&s, &q, None, |t| code_view(t, Level::Int8)).unwrap();
        let float = search(&s, &float_view(&s.query_texts).unwrap(), None, float_view).unwrap();
        for doc in ["q1", "d1", "d2"] {
            assert!((run["q1"][doc] - float["q1"][doc]).abs() < 0.02, "{doc}");
        }
    }

    #[test]
    fn rescoring_reranks_binary_candidates_with_the_float_query() {
        let s = split();
        // By Hamming the query "q" (bits 100) ranks q1 (100) before d2 (101); the float
        // query (0.1, -0.5, 0.9) weighs the third bit most and puts d2 first.
        let q = code_view(&s.query_texts, Level::UBinary).unwrap();
        let queries = Embeddings {
            rows: 1,
            dim: 3,
            data: vec![0.1, -0.5, 0.9],
        };
        let rescore = Rescore {
            queries,
            multiplier: 2,
        };
        let run = search(&s, &q, Some(rescore), |t| code_view(t, Level::UBinary)).unwrap();
        // Unpacked bits: q1 = (1, 0, 0), d1 = (0, 1, 0), d2 = (1, 0, 1).
        assert_eq!(run["q1"]["q1"], 0.1);
        assert_eq!(run["q1"]["d1"], -0.5);
        assert_eq!(run["q1"]["d2"], 1.0);
    }

    #[test]
    fn identical_ids_are_dropped_only_when_asked() {
        let s = split();
        let q = float_view(&s.query_texts).unwrap();
        let run = search(&s, &q, None, float_view).unwrap();
        assert_eq!(run["q1"].len(), 3);
        let mut params: RetrievalParams = serde_json::from_str("{}").unwrap();
        let kept = evaluate(&s, run.clone(), &params);
        params.ignore_identical_ids = true;
        let dropped = evaluate(&s, run, &params);
        // d2 ranks second behind the query's twin, first once the twin is removed.
        assert_eq!(kept.get("mrr_at_10"), Some(0.5));
        assert_eq!(dropped.get("mrr_at_10"), Some(1.0));
        assert_eq!(dropped.main_score(), dropped.get("ndcg_at_10"));
    }
}
