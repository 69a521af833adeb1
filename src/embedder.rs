//! Encoding for one task of a run: each distinct encode call is computed once — from the
//! on-disk [`EmbeddingCache`] when it holds it, else by the model — and kept in memory while the
//! task's grid cells are evaluated (one `Embedder` per task). [`CellEncoder`] hands an evaluator one cell's view of those
//! embeddings.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;

use crate::compress::compressor::Compressor;
use crate::compress::quantize::ranges_from_embeddings;
use crate::compress::view::View;
use crate::embedding_cache::{EmbeddingCache, KeyParts};
use crate::embeddings::Embeddings;
use crate::encoder::{EncodeOptions, Role};
use crate::error::Result;
use crate::model_encoders::ModelEncoders;

/// What an encoded text is to its task: evaluated, or part of the train split / document
/// collection that the `train` calibration policy learns ranges from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Eval,
    Train,
}

pub struct Embedder<'a> {
    model: &'a ModelEncoders,
    opts: &'a EncodeOptions,
    cache: Option<&'a EmbeddingCache>,
    memo: RefCell<HashMap<String, (Part, Arc<Embeddings>)>>,
    encoded: Cell<usize>,
    cached: Cell<usize>,
}

impl<'a> Embedder<'a> {
    pub fn new(
        model: &'a ModelEncoders,
        opts: &'a EncodeOptions,
        cache: Option<&'a EmbeddingCache>,
    ) -> Self {
        Self {
            model,
            opts,
            cache,
            memo: RefCell::new(HashMap::new()),
            encoded: Cell::new(0),
            cached: Cell::new(0),
        }
    }

    /// Full-size float32 embeddings of `texts` for `role`.
    pub fn encode(&self, texts: &[String], role: Role, part: Part) -> Result<Arc<Embeddings>> {
        let encoder = self.model.encoder(role);
        let fingerprint = self.model.fingerprint(role)?;
        let key = EmbeddingCache::key(
            &KeyParts {
                model: fingerprint,
                role: role_name(role),
                prompt: encoder.prompts().for_role(role),
                batch_size: self.opts.batch_size,
                max_batch_tokens: self.opts.max_batch_tokens,
            },
            texts,
        );
        if let Some((_, e)) = self.memo.borrow().get(&key) {
            return Ok(e.clone());
        }
        let emb = Arc::new(self.cached_or_encoded(&key, texts, role)?);
        self.memo.borrow_mut().insert(key, (part, emb.clone()));
        Ok(emb)
    }

    /// The cache's entry for `key`, else the model's encoding (then stored). While encoding,
    /// the entry is locked, so a concurrent run that wants it waits and reads it.
    fn cached_or_encoded(&self, key: &str, texts: &[String], role: Role) -> Result<Embeddings> {
        let from_cache = |c: &EmbeddingCache| c.get(key).filter(|e| e.rows == texts.len());
        if let Some(e) = self.cache.and_then(from_cache) {
            self.cached.set(self.cached.get() + texts.len());
            return Ok(e);
        }
        let lock = self.cache.and_then(|c| c.lock(key));
        if let Some(e) = lock.as_ref().and(self.cache).and_then(from_cache) {
            lock.expect("held").release(false);
            self.cached.set(self.cached.get() + texts.len());
            return Ok(e);
        }
        let e = self.model.encode(texts, role, self.opts)?;
        self.encoded.set(self.encoded.get() + texts.len());
        let written = self.cache.is_some_and(|c| c.store(key, &e));
        if let Some(lock) = lock {
            lock.release(written);
        }
        Ok(e)
    }

    /// Per-dimension (min, max) over the kept embeddings of `Part::Train`, or over all kept
    /// embeddings when the task has no train part.
    pub fn kept_ranges(&self) -> Option<Vec<(f32, f32)>> {
        let memo = self.memo.borrow();
        let train: Vec<&Embeddings> = memo
            .values()
            .filter(|(p, _)| *p == Part::Train)
            .map(|(_, e)| e.as_ref())
            .collect();
        let chosen: Vec<&Embeddings> = if train.is_empty() {
            memo.values().map(|(_, e)| e.as_ref()).collect()
        } else {
            train
        };
        merged_ranges(&chosen)
    }

    /// (texts encoded by the model, texts read from the disk cache) so far.
    pub fn counts(&self) -> (usize, usize) {
        (self.encoded.get(), self.cached.get())
    }
}

/// Column ranges over several matrices of the same width.
pub fn merged_ranges(parts: &[&Embeddings]) -> Option<Vec<(f32, f32)>> {
    let mut out: Option<Vec<(f32, f32)>> = None;
    for e in parts.iter().filter(|e| e.rows > 0) {
        let r = ranges_from_embeddings(&e.data, e.rows, e.dim);
        out = Some(match out {
            None => r,
            Some(acc) => acc
                .iter()
                .zip(&r)
                .map(|(a, b)| (a.0.min(b.0), a.1.max(b.1)))
                .collect(),
        });
    }
    out
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Query => "query",
        Role::Document => "document",
        Role::Plain => "plain",
    }
}

/// One grid cell's encoder, as evaluators use it.
pub struct CellEncoder<'a> {
    pub embedder: &'a Embedder<'a>,
    pub compressor: &'a Compressor,
}

impl CellEncoder<'_> {
    /// Vectors for feature-based evaluators (classification, clustering).
    pub fn features(&self, texts: &[String], role: Role, part: Part) -> Result<Embeddings> {
        self.compressor
            .features(self.embedder.encode(texts, role, part)?.as_ref())
    }

    /// The view similarity-based evaluators score.
    pub fn view(&self, texts: &[String], role: Role, part: Part) -> Result<View> {
        self.compressor
            .view(self.embedder.encode(texts, role, part)?.as_ref())
    }

    /// Float32 vectors at the cell's dims (the query side of binary rescoring).
    pub fn truncated(&self, texts: &[String], role: Role, part: Part) -> Result<Embeddings> {
        Ok(self
            .compressor
            .truncate(self.embedder.encode(texts, role, part)?.as_ref()))
    }
}
