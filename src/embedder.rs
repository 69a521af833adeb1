//! Encoding for one task of a run: each distinct encode call is computed once — chunk by
//! chunk from the [`EmbeddingStore`] where it holds them, else by the model (then stored) —
//! and kept in memory while the task's grid cells are evaluated (one `Embedder` per task).
//! [`CellEncoder`] hands an evaluator one cell's view of those embeddings.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::chunks::{chunks, Chunk};
use crate::compress::compressor::Compressor;
use crate::compress::quantize::ranges_from_embeddings;
use crate::compress::view::View;
use crate::embeddings::Embeddings;
use crate::encoder::{progress_bar, Batched, EncodeOptions, Role};
use crate::error::Result;
use crate::model_encoders::ModelEncoders;
use crate::report::results_json::EncodingSpeed;
use crate::store::EmbeddingStore;
pub use crate::task_inputs::Part;

pub struct Embedder<'a> {
    model: &'a ModelEncoders,
    opts: &'a EncodeOptions,
    store: Option<&'a EmbeddingStore>,
    memo: RefCell<HashMap<String, (Part, Arc<Embeddings>)>>,
    encoded: Cell<usize>,
    stored: Cell<usize>,
    /// Tokens and seconds of the chunks the model encoded.
    speed: Cell<EncodingSpeed>,
}

impl<'a> Embedder<'a> {
    pub fn new(
        model: &'a ModelEncoders,
        opts: &'a EncodeOptions,
        store: Option<&'a EmbeddingStore>,
    ) -> Self {
        Self {
            model,
            opts,
            store,
            memo: RefCell::new(HashMap::new()),
            encoded: Cell::new(0),
            stored: Cell::new(0),
            speed: Cell::new(EncodingSpeed {
                tokens: 0,
                seconds: 0.0,
            }),
        }
    }

    /// Full-size float32 embeddings of `texts` for `role`.
    pub fn encode(&self, texts: &[String], role: Role, part: Part) -> Result<Arc<Embeddings>> {
        let whole: Vec<&str> = texts.iter().map(String::as_str).collect();
        let call = self.model.key_parts(role)?.key(&[whole]);
        if let Some((_, e)) = self.memo.borrow().get(&call) {
            return Ok(e.clone());
        }
        let emb = Arc::new(self.chunk_by_chunk(texts, role)?);
        self.memo.borrow_mut().insert(call, (part, emb.clone()));
        Ok(emb)
    }

    /// The call's embeddings, each chunk read from the store or encoded (then stored).
    fn chunk_by_chunk(&self, texts: &[String], role: Role) -> Result<Embeddings> {
        let parts = self.model.key_parts(role)?;
        let batched = self.model.batched(texts, role, self.opts)?;
        let progress = progress_bar(texts.len(), self.opts.progress);
        let mut out = Embeddings::zeros(texts.len(), self.model.dim()?);
        for chunk in chunks(&batched, texts, &parts) {
            let shape = (chunk.texts, out.dim);
            let (emb, computed) = stored_or_computed(self.store, &chunk.key, shape, || {
                let start = Instant::now();
                let emb = self
                    .model
                    .encode_chunk(texts, &batched, &chunk, &progress)?;
                let tokens = chunk.batches.clone().map(|b| batched.tokens(b)).sum();
                let this = EncodingSpeed {
                    tokens,
                    seconds: start.elapsed().as_secs_f64(),
                };
                self.speed.set(self.speed.get().plus(this));
                Ok(emb)
            })?;
            let counter = if computed {
                &self.encoded
            } else {
                &self.stored
            };
            counter.set(counter.get() + chunk.texts);
            if !computed {
                progress.inc(chunk.texts as u64);
            }
            place(&mut out, &emb, &batched, &chunk);
        }
        progress.finish_and_clear();
        Ok(out)
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

    /// (texts encoded by the model, texts read from the store) so far.
    pub fn counts(&self) -> (usize, usize) {
        (self.encoded.get(), self.stored.get())
    }

    /// The model's speed on what it encoded so far; `None` when it encoded nothing (all
    /// from the store) or was not handed tokens (a served model).
    pub fn speed(&self) -> Option<EncodingSpeed> {
        let speed = self.speed.get();
        speed.tokens_per_second().map(|_| speed)
    }
}

/// The store's entry for `key` when it has `shape` (rows, dim), else `compute`'s result,
/// stored; and whether it was computed. While computing, the entry is locked, so another
/// process that wants it waits and reads it.
pub fn stored_or_computed(
    store: Option<&EmbeddingStore>,
    key: &str,
    shape: (usize, usize),
    compute: impl FnOnce() -> Result<Embeddings>,
) -> Result<(Embeddings, bool)> {
    let Some(store) = store else {
        return Ok((compute()?, true));
    };
    let stored = || store.get(key).filter(|e| (e.rows, e.dim) == shape);
    if let Some(e) = stored() {
        return Ok((e, false));
    }
    let lock = store.lock(key);
    if let Some(e) = lock.as_ref().and_then(|_| stored()) {
        lock.expect("held").release(false);
        return Ok((e, false));
    }
    let e = compute()?;
    let written = store.save(key, &e);
    if let Some(lock) = lock {
        lock.release(matches!(written, Ok(true)));
    }
    written?;
    Ok((e, true))
}

/// Puts a chunk's rows (in its batch order) at their texts' rows of the call.
fn place(out: &mut Embeddings, chunk_rows: &Embeddings, batched: &Batched, chunk: &Chunk) {
    let order = batched.batches[chunk.batches.clone()].iter().flatten();
    for (k, &i) in order.enumerate() {
        out.row_mut(i).copy_from_slice(chunk_rows.row(k));
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
