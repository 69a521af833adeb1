//! `leafbench embed`'s output file: the texts are encoded a chunk at a time and each chunk's
//! rows are written as soon as they exist, so memory holds one chunk whatever the input's size.
//! The file still appears whole or not at all.

use std::path::Path;

use crate::embeddings::{npy_header, Embeddings};
use crate::encoder::{progress_bar, Role};
use crate::error::{Error, Result};
use crate::output::write_atomically;
use crate::text_model::TextModel;

/// Texts encoded per step: large enough for length-sorted batches to pack well.
const CHUNK: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmbeddingFormat {
    /// NumPy float32, C order.
    Npy,
    /// One JSON array per line.
    Jsonl,
}

impl EmbeddingFormat {
    /// The format a file name asks for.
    pub fn of(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("npy") => Ok(Self::Npy),
            Some("jsonl") => Ok(Self::Jsonl),
            _ => Err(Error::invalid(
                path,
                "unknown output format; expected a .npy or .jsonl file name",
            )),
        }
    }
}

/// Encodes `texts` for `role` into `path`; returns (rows, dim). Stops at the first text whose
/// embedding holds NaN or infinity, naming its line, and leaves no file behind.
pub fn encode_to_file(
    model: &TextModel,
    texts: &[String],
    role: Role,
    show_progress: bool,
    path: &Path,
    format: EmbeddingFormat,
) -> Result<(usize, usize)> {
    let dim = model.dim(role)?;
    let progress = progress_bar(texts.len(), show_progress);
    // The writer speaks io::Error; an encoding error is kept whole here and returned instead.
    let mut failure: Option<Error> = None;
    let written = write_atomically(path, |w| {
        if format == EmbeddingFormat::Npy {
            w.write_all(&npy_header(texts.len(), dim))?;
        }
        for (k, chunk) in texts.chunks(CHUNK).enumerate() {
            let emb = match encode_chunk(model, chunk, k * CHUNK, role) {
                Ok(e) => e,
                Err(e) => {
                    failure = Some(e);
                    return Err(std::io::Error::other("encoding failed"));
                }
            };
            match format {
                EmbeddingFormat::Npy => emb.write_npy_rows(w)?,
                EmbeddingFormat::Jsonl => emb.write_jsonl(w)?,
            }
            progress.inc(chunk.len() as u64);
        }
        Ok(())
    });
    progress.finish_and_clear();
    if let Some(e) = failure {
        return Err(e);
    }
    written?;
    Ok((texts.len(), dim))
}

/// One chunk's embeddings, refused when any holds NaN or infinity (its row counted from the
/// start of the input, `offset` being the chunk's first row).
fn encode_chunk(
    model: &TextModel,
    chunk: &[String],
    offset: usize,
    role: Role,
) -> Result<Embeddings> {
    let emb = model.encode(chunk, role)?;
    let label = model.label();
    emb.check_finite(chunk, &label).map_err(|e| match e {
        Error::NonFinite { model, row, text } => Error::NonFinite {
            model,
            row: row + offset,
            text,
        },
        other => other,
    })?;
    Ok(emb)
}
