//! What `embed` and `parity` encode a text file with: a sentence-transformers folder run
//! here, or a model behind an embedding server (`--endpoint`), so a port's raw vectors are
//! checked where it lives.

use crate::embeddings::Embeddings;
use crate::encoder::{EncodeOptions, Encoder, Role};
use crate::error::Result;
use crate::served::ServedModel;

pub enum TextModel {
    Local(Encoder, EncodeOptions),
    Served(ServedModel),
}

impl TextModel {
    /// The embedding size for texts of `role`.
    pub fn dim(&self, role: Role) -> Result<usize> {
        match self {
            Self::Local(e, _) => e.dim(role),
            Self::Served(s) => s.dim(),
        }
    }

    /// The folder or URL, for messages.
    pub fn label(&self) -> String {
        match self {
            Self::Local(e, _) => e.dir().display().to_string(),
            Self::Served(s) => s.endpoint().url.clone(),
        }
    }

    /// The embeddings of `texts` for `role`, in order; progress is the caller's to show.
    pub fn encode(&self, texts: &[String], role: Role) -> Result<Embeddings> {
        match self {
            Self::Local(e, opts) => {
                let quiet = EncodeOptions {
                    progress: false,
                    ..opts.clone()
                };
                e.encode(texts, role, &quiet)
            }
            Self::Served(s) => s.encode(texts, role, &|_| {}),
        }
    }
}
