//! Exact nearest-neighbour search as MTEB runs it: the corpus arrives in chunks, each chunk is
//! scored against every query with one matrix product, and a bounded heap per query keeps the
//! best `k` (score, document id) pairs. Memory is one chunk's embeddings and scores plus the
//! heaps, whatever the corpus size.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use crate::embeddings::Embeddings;
use crate::error::Result;
pub use crate::similarity::Similarity;

/// One retrieved document. Ordered as Python orders MTEB's `(score, corpus_id)` heap tuples:
/// by score, then by id string, so ties at the cut-off keep the larger id.
#[derive(Debug, Clone, PartialEq)]
struct Hit {
    score: f32,
    doc: Arc<str>,
}

impl Eq for Hit {}

impl PartialOrd for Hit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Hit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| self.doc.cmp(&other.doc))
    }
}

/// The best `k` documents per query seen so far.
pub struct TopK {
    k: usize,
    similarity: Similarity,
    /// The prepared float queries; `None` when the caller scores chunks itself.
    queries: Option<Tensor>,
    /// Min-heaps (via `Reverse`) so the weakest kept hit is at the top.
    heaps: Vec<BinaryHeap<std::cmp::Reverse<Hit>>>,
}

impl TopK {
    pub fn new(queries: &Embeddings, k: usize, similarity: Similarity) -> Result<Self> {
        Ok(Self {
            k,
            similarity,
            queries: Some(prepared(queries, similarity)?),
            heaps: (0..queries.rows).map(|_| BinaryHeap::new()).collect(),
        })
    }

    /// Heaps for `n_queries` queries whose chunks are scored by [`TopK::add_scored`].
    pub fn scored(n_queries: usize, k: usize, similarity: Similarity) -> Self {
        Self {
            k,
            similarity,
            queries: None,
            heaps: (0..n_queries).map(|_| BinaryHeap::new()).collect(),
        }
    }

    /// Keeps the best of `n_docs` documents whose scores for query `q` `score(q, out)` writes.
    pub fn add_scored(
        &mut self,
        n_docs: usize,
        ids: &[Arc<str>],
        score: impl Fn(usize, &mut [f32]) + Sync,
    ) {
        assert_eq!(n_docs, ids.len(), "one id per document");
        let k = self.k;
        self.heaps.par_iter_mut().enumerate().for_each(|(q, heap)| {
            let mut row = vec![0f32; n_docs];
            score(q, &mut row);
            keep_best(heap, &row, ids, k);
        });
    }

    /// Scores one chunk of documents against every query and keeps the best hits.
    pub fn add_chunk(&mut self, docs: &Embeddings, ids: &[Arc<str>]) -> Result<()> {
        assert_eq!(docs.rows, ids.len(), "one id per document embedding");
        if docs.rows == 0 {
            return Ok(());
        }
        let d = prepared(docs, self.similarity)?;
        let queries = self
            .queries
            .as_ref()
            .expect("add_chunk needs float queries (TopK::new)");
        let scores = queries.matmul(&d.t()?)?.flatten_all()?.to_vec1::<f32>()?;
        let k = self.k;
        self.heaps
            .par_iter_mut()
            .zip(scores.par_chunks(docs.rows))
            .for_each(|(heap, row)| keep_best(heap, row, ids, k));
        Ok(())
    }

    /// query index → (document id → score), as MTEB's result dict.
    pub fn into_results(self) -> Vec<HashMap<String, f32>> {
        self.heaps
            .into_iter()
            .map(|heap| {
                heap.into_iter()
                    .map(|std::cmp::Reverse(h)| (h.doc.to_string(), h.score))
                    .collect()
            })
            .collect()
    }
}

/// The best `k` of `(document, score)` pairs, ordered and tie-broken as [`TopK`] keeps them.
pub fn best_k(scored: impl IntoIterator<Item = (Arc<str>, f32)>, k: usize) -> HashMap<String, f32> {
    let mut heap = BinaryHeap::new();
    let (ids, scores): (Vec<Arc<str>>, Vec<f32>) = scored.into_iter().unzip();
    if k > 0 {
        keep_best(&mut heap, &scores, &ids, k);
    }
    heap.into_iter()
        .map(|std::cmp::Reverse(h)| (h.doc.to_string(), h.score))
        .collect()
}

fn keep_best(
    heap: &mut BinaryHeap<std::cmp::Reverse<Hit>>,
    row: &[f32],
    ids: &[Arc<str>],
    k: usize,
) {
    for (score, id) in row.iter().zip(ids) {
        // MTEB maps NaN similarities to -1.
        let score = if score.is_nan() { -1.0 } else { *score };
        if heap.len() == k {
            let weakest = &heap.peek().expect("k > 0").0;
            let beats = match score.total_cmp(&weakest.score) {
                Ordering::Greater => true,
                Ordering::Equal => **id > *weakest.doc,
                Ordering::Less => false,
            };
            if !beats {
                continue;
            }
            heap.pop();
        }
        heap.push(std::cmp::Reverse(Hit {
            score,
            doc: id.clone(),
        }));
    }
}

/// A (rows × dim) tensor of the embeddings, L2-normalised for cosine (a zero vector stays zero,
/// giving similarity 0 as torch's normalize does with its epsilon).
fn prepared(e: &Embeddings, similarity: Similarity) -> Result<Tensor> {
    let mut data = e.data.clone();
    if similarity == Similarity::Cosine {
        data.par_chunks_mut(e.dim.max(1)).for_each(|row| {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
            row.iter_mut().for_each(|v| *v /= norm);
        });
    }
    Ok(Tensor::from_vec(data, (e.rows, e.dim), &Device::Cpu)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emb(rows: &[&[f32]]) -> Embeddings {
        Embeddings {
            rows: rows.len(),
            dim: rows[0].len(),
            data: rows.concat(),
        }
    }

    fn ids(names: &[&str]) -> Vec<Arc<str>> {
        names.iter().map(|n| Arc::from(*n)).collect()
    }

    #[test]
    fn chunks_merge_into_the_best_k() {
        let q = emb(&[&[1.0, 0.0], &[0.0, 1.0]]);
        let mut top = TopK::new(&q, 2, Similarity::Cosine).unwrap();
        top.add_chunk(
            &emb(&[&[1.0, 0.0], &[0.0, 2.0], &[1.0, 1.0]]),
            &ids(&["a", "b", "c"]),
        )
        .unwrap();
        top.add_chunk(&emb(&[&[3.0, 0.0], &[0.0, -1.0]]), &ids(&["z", "y"]))
            .unwrap();
        let results = top.into_results();
        let first: std::collections::BTreeSet<_> = results[0].keys().cloned().collect();
        assert_eq!(first, ["a", "z"].map(String::from).into());
        let second: std::collections::BTreeSet<_> = results[1].keys().cloned().collect();
        assert_eq!(second, ["b", "c"].map(String::from).into());
        assert!((results[1]["c"] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6);
    }

    #[test]
    fn a_tie_at_the_cut_off_keeps_the_larger_id_in_either_order() {
        let q = emb(&[&[1.0, 0.0]]);
        for order in [["a", "z"], ["z", "a"]] {
            let mut top = TopK::new(&q, 1, Similarity::Cosine).unwrap();
            for id in order {
                top.add_chunk(&emb(&[&[2.0, 0.0]]), &ids(&[id])).unwrap();
            }
            let kept: Vec<_> = top.into_results()[0].keys().cloned().collect();
            assert_eq!(kept, ["z"], "order {order:?}");
        }
    }

    #[test]
    fn dot_similarity_uses_raw_vectors() {
        let q = emb(&[&[1.0, 0.0]]);
        let mut top = TopK::new(&q, 1, Similarity::Dot).unwrap();
        top.add_chunk(&emb(&[&[1.0, 0.0], &[5.0, 5.0]]), &ids(&["small", "big"]))
            .unwrap();
        assert_eq!(top.into_results()[0]["big"], 5.0);
    }
}
