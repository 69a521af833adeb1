//! Exact-search throughput and memory on a synthetic corpus: the leafbench side of
//! `scripts/bench.sh search`. Random unit-scale embeddings stand in for encoded documents, so
//! the numbers measure scoring and top-k merging alone; the corpus is produced chunk by chunk,
//! as retrieval streams an encoded corpus.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::embeddings::Embeddings;
use crate::error::{Error, Result};
use crate::memory::{available_bytes, peak_rss_bytes};
use crate::task::exact_search::{Similarity, TopK};

#[derive(Debug, Serialize)]
pub struct SearchBench {
    pub docs: usize,
    pub queries: usize,
    pub dim: usize,
    pub chunk: usize,
    pub top_k: usize,
    pub seconds: f64,
    pub docs_per_s: f64,
    pub peak_rss_mib: Option<f64>,
}

pub struct SearchShape {
    pub docs: usize,
    pub queries: usize,
    pub dim: usize,
    pub chunk: usize,
    pub top_k: usize,
    pub seed: u64,
}

pub fn bench_search(shape: &SearchShape) -> Result<SearchBench> {
    check_fits(shape, available_bytes())?;
    let mut rng = SplitMix64(shape.seed);
    let queries = random_embeddings(&mut rng, shape.queries, shape.dim);
    let start = Instant::now();
    let mut top = TopK::new(&queries, shape.top_k, Similarity::Cosine)?;
    let mut first = 0;
    while first < shape.docs {
        let n = shape.chunk.min(shape.docs - first);
        let ids: Vec<Arc<str>> = (first..first + n)
            .map(|i| Arc::from(format!("doc{i}")))
            .collect();
        top.add_chunk(&random_embeddings(&mut rng, n, shape.dim), &ids)?;
        first += n;
    }
    let results = top.into_results();
    let seconds = start.elapsed().as_secs_f64();
    assert!(results
        .iter()
        .all(|r| r.len() == shape.top_k.min(shape.docs)));
    Ok(SearchBench {
        docs: shape.docs,
        queries: shape.queries,
        dim: shape.dim,
        chunk: shape.chunk,
        top_k: shape.top_k,
        seconds,
        docs_per_s: shape.docs as f64 / seconds,
        peak_rss_mib: peak_rss_bytes().map(|b| b as f64 / (1024.0 * 1024.0)),
    })
}

/// Bytes the benchmark holds at once: the queries, one chunk of documents with their ids,
/// the chunk's score matrix and each query's top k. `None` when the sizes overflow.
fn footprint(s: &SearchShape) -> Option<u64> {
    const ID_BYTES: u64 = 48;
    const HIT_BYTES: u64 = 32;
    let (q, d, c, k) = (
        s.queries as u64,
        s.dim as u64,
        s.chunk.min(s.docs) as u64,
        s.top_k.min(s.docs) as u64,
    );
    let queries = q.checked_mul(d)?.checked_mul(4)?;
    let chunk = c.checked_mul(d.checked_mul(4)?.checked_add(ID_BYTES)?)?;
    let scores = c.checked_mul(q)?.checked_mul(4)?;
    let hits = q.checked_mul(k)?.checked_mul(HIT_BYTES)?;
    queries
        .checked_add(chunk)?
        .checked_add(scores)?
        .checked_add(hits)
}

/// Refuses a shape that cannot fit in memory before anything is allocated.
fn check_fits(shape: &SearchShape, available: Option<u64>) -> Result<()> {
    let need = footprint(shape);
    let fits = match (need, available) {
        (None, _) => false,
        (Some(n), Some(a)) => n <= a,
        (Some(_), None) => true,
    };
    if fits {
        return Ok(());
    }
    let mib = |b: u64| b / (1024 * 1024);
    Err(Error::Unsupported {
        task: "bench-search".into(),
        what: format!(
            "{} queries x {} dims with {}-document chunks and top {} need {}, but {} MiB are \
             available; choose smaller --queries, --dim, --chunk or --top-k",
            shape.queries,
            shape.dim,
            shape.chunk,
            shape.top_k,
            need.map_or("more bytes than a 64-bit count holds".to_string(), |n| {
                format!("{} MiB", mib(n))
            }),
            available.map_or(0, mib)
        ),
    })
}

/// Values uniform in [-1, 1): the direction is what cosine scoring sees.
fn random_embeddings(rng: &mut SplitMix64, rows: usize, dim: usize) -> Embeddings {
    let data = (0..rows * dim)
        .map(|_| (rng.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
        .collect();
    Embeddings { rows, dim, data }
}

/// A small, fast, seeded generator; the benchmark needs speed and repeatability, not quality.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_gets_k_hits_and_memory_is_reported() {
        let shape = SearchShape {
            docs: 2_500,
            queries: 7,
            dim: 16,
            chunk: 1_000,
            top_k: 100,
            seed: 1,
        };
        let b = bench_search(&shape).unwrap();
        assert_eq!((b.docs, b.top_k), (2_500, 100));
        assert!(b.seconds > 0.0 && b.peak_rss_mib.is_some_and(|m| m > 0.0));
    }

    #[test]
    fn sizes_that_cannot_fit_are_refused_before_allocating() {
        let mut shape = SearchShape {
            docs: 1_000,
            queries: 10,
            dim: 8,
            chunk: 100,
            top_k: 10,
            seed: 1,
        };
        assert!(check_fits(&shape, Some(1 << 30)).is_ok());
        shape.dim = usize::MAX / 2;
        let err = check_fits(&shape, Some(1 << 30)).unwrap_err().to_string();
        assert!(err.contains("64-bit"), "{err}");
        shape.dim = 1 << 24;
        let err = check_fits(&shape, Some(1 << 30)).unwrap_err().to_string();
        assert!(err.contains("MiB are available"), "{err}");
    }
}
