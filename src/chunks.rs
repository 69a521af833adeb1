//! The chunks an encode call is stored and shared in: runs of consecutive batches of its
//! batching plan (longest texts first), cut when a chunk reaches [`CHUNK_TOKENS`] padded tokens
//! or [`CHUNK_TEXTS`] texts. Cutting between batches, never inside one, keeps every text's
//! vector exactly what encoding the whole call at once gives, so a run split into shards
//! scores byte-identically to an unsplit one; budgeting by padded tokens gives chunks of
//! about equal compute, which is what the shards are balanced on.

use std::ops::Range;

use crate::encoder::Batched;
use crate::store::KeyParts;

/// Padded tokens per chunk: small enough that a large corpus spreads evenly over many
/// shards, large enough that a million-document corpus is a few thousand files.
pub const CHUNK_TOKENS: usize = 1 << 18;
/// Texts per chunk at most, for calls of very short texts.
pub const CHUNK_TEXTS: usize = 16_384;

/// One stored unit of a call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// Indices into the call's batches.
    pub batches: Range<usize>,
    pub texts: usize,
    pub padded_tokens: usize,
    /// The store key of its embeddings.
    pub key: String,
}

/// The chunks of `texts`, batched as `batched` says, with their store keys.
pub fn chunks(batched: &Batched, texts: &[String], parts: &KeyParts) -> Vec<Chunk> {
    let sizes: Vec<(usize, usize)> = (0..batched.batches.len())
        .map(|b| (batched.batches[b].len(), batched.padded_tokens(b)))
        .collect();
    cut(&sizes)
        .into_iter()
        .map(|batches| {
            let grouped: Vec<Vec<&str>> = batched.batches[batches.clone()]
                .iter()
                .map(|batch| batch.iter().map(|&i| texts[i].as_str()).collect())
                .collect();
            Chunk {
                texts: sizes[batches.clone()].iter().map(|s| s.0).sum(),
                padded_tokens: sizes[batches.clone()].iter().map(|s| s.1).sum(),
                key: parts.key(&grouped),
                batches,
            }
        })
        .collect()
}

/// Groups consecutive batches, given as (texts, padded tokens), into chunks within budget
/// (a single batch over budget is a chunk of its own).
pub fn cut(sizes: &[(usize, usize)]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut texts, mut tokens) = (0, 0, 0);
    for (b, &(n, t)) in sizes.iter().enumerate() {
        if b > start && (texts + n > CHUNK_TEXTS || tokens + t > CHUNK_TOKENS) {
            out.push(start..b);
            (start, texts, tokens) = (b, 0, 0);
        }
        texts += n;
        tokens += t;
    }
    if start < sizes.len() {
        out.push(start..sizes.len());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_close_before_a_batch_that_would_exceed_the_budget() {
        let half = CHUNK_TOKENS / 2;
        let sizes = [(64, half), (64, half), (64, half), (10, 5)];
        assert_eq!(cut(&sizes), vec![0..2, 2..4]);
        let over = [(1, 2 * CHUNK_TOKENS), (1, 1)];
        assert_eq!(
            cut(&over),
            vec![0..1, 1..2],
            "an oversized batch stands alone"
        );
        let short = vec![(64, 640); CHUNK_TEXTS / 64 + 1];
        assert_eq!(
            cut(&short).len(),
            2,
            "text count caps chunks of short texts"
        );
        assert!(cut(&[]).is_empty());
    }
}
