//! Retrieval: queries (query role) against the corpus (document role) by exact search, top
//! 1000 per query, scored with trec_eval's metrics as MTEB reports them; main `ndcg_at_10`.
//! The corpus is encoded and searched chunk by chunk, so memory stays bounded by one chunk.

use std::sync::Arc;

use super::exact_search::{Similarity, TopK};
use super::scores::Scores;
use super::spec::RetrievalParams;
use crate::data::retrieval::RetrievalSplit;
use crate::embeddings::Embeddings;
use crate::error::Result;
use crate::metrics::trec::{retrieval_metrics, Run};

/// Documents retrieved per query, as MTEB keeps them.
pub const TOP_K: usize = 1000;
/// Documents encoded and scored at a time (MTEB's corpus chunk size).
pub const CORPUS_CHUNK: usize = 50_000;

/// Searches the corpus for every query. `encode_docs` embeds a slice of document texts;
/// it is called once per chunk.
pub fn search(
    split: &RetrievalSplit,
    queries: &Embeddings,
    similarity: Similarity,
    mut encode_docs: impl FnMut(&[String]) -> Result<Embeddings>,
) -> Result<Run> {
    let mut top = TopK::new(queries, TOP_K, similarity)?;
    let ids: Vec<Arc<str>> = split
        .doc_ids
        .iter()
        .map(|d| Arc::from(d.as_str()))
        .collect();
    for start in (0..split.doc_ids.len()).step_by(CORPUS_CHUNK) {
        let end = (start + CORPUS_CHUNK).min(split.doc_ids.len());
        let docs = encode_docs(&split.doc_texts[start..end])?;
        top.add_chunk(&docs, &ids[start..end])?;
    }
    Ok(split
        .query_ids
        .iter()
        .cloned()
        .zip(top.into_results())
        .collect())
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
    use crate::data::retrieval::Unmatched;

    fn split() -> RetrievalSplit {
        RetrievalSplit {
            doc_ids: vec!["q1".into(), "d1".into(), "d2".into()],
            doc_texts: vec![" q1".into(), " d1".into(), " d2".into()],
            query_ids: vec!["q1".into()],
            query_texts: vec!["q".into()],
            qrels: [("q1".to_string(), [("d2".to_string(), 1)].into())].into(),
            unmatched: Unmatched::default(),
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

    #[test]
    fn identical_ids_are_dropped_only_when_asked() {
        let s = split();
        let q = encode(&s.query_texts).unwrap();
        let run = search(&s, &q, Similarity::Cosine, encode).unwrap();
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
