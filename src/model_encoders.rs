//! The encoders of one model entry of a run: one sentence-transformers folder, or an
//! asymmetric pair (a query model and a document model), with the content fingerprints that
//! key their cached embeddings and the similarity their tasks compare with.

use std::sync::OnceLock;

use crate::chunks::Chunk;
use crate::config::ModelEntry;
use crate::embeddings::Embeddings;
use crate::encoder::{Batched, EncodeOptions, Encoder, Role};
use crate::error::{Error, Result};
use crate::hub::{resolve_model, ResolveOptions};
use crate::similarity::Similarity;
use crate::store::{fingerprint_dir, KeyParts};
use crate::task::{TaskKind, TaskSpec};

/// The encoders of one model entry: one folder, or a query model and a document model.
pub struct ModelEncoders {
    /// The model entry's name, for messages.
    name: String,
    query: Encoder,
    document: Option<Encoder>,
    /// Content fingerprints of the query and document folders, computed on first use.
    fingerprints: [OnceLock<String>; 2],
}

impl ModelEncoders {
    pub fn load(entry: &ModelEntry, offline: bool) -> Result<Self> {
        let resolve = |name: &str| {
            resolve_model(name, &ResolveOptions::from_env(offline)).map_err(Error::from)
        };
        let (query, document) = match (&entry.path, &entry.query, &entry.document) {
            (_, Some(q), Some(d)) => (
                Encoder::load(&resolve(q)?)?,
                Some(Encoder::load(&resolve(d)?)?),
            ),
            (Some(p), _, _) => (Encoder::load(p)?, None),
            _ => {
                let name = format!("{}@{}", entry.name, entry.revision());
                (Encoder::load(&resolve(&name)?)?, None)
            }
        };
        Ok(Self::new(&entry.name, query, document))
    }

    fn new(name: &str, query: Encoder, document: Option<Encoder>) -> Self {
        Self {
            name: name.to_string(),
            query,
            document,
            fingerprints: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The encoder that embeds texts of `role`. Texts of symmetric tasks go to the document
    /// side of a pair, as a Router's default route sends them.
    pub fn encoder(&self, role: Role) -> &Encoder {
        match (&self.document, role) {
            (Some(d), Role::Document | Role::Plain) => d,
            _ => &self.query,
        }
    }

    /// The content fingerprint of the folder that embeds texts of `role` (cache keys).
    pub fn fingerprint(&self, role: Role) -> Result<&str> {
        let side = usize::from(self.document.is_some() && role != Role::Query);
        if let Some(f) = self.fingerprints[side].get() {
            return Ok(f);
        }
        let f = fingerprint_dir(self.encoder(role).dir())?;
        Ok(self.fingerprints[side].get_or_init(|| f))
    }

    /// The embedding size; both sides of a pair must agree.
    pub fn dim(&self) -> Result<usize> {
        let q = self.query.dim(Role::Query)?;
        if let Some(d) = &self.document {
            let dd = d.dim(Role::Document)?;
            if dd != q {
                return Err(Error::invalid(
                    d.dir(),
                    format!("document model gives {dd}-dim embeddings, the query model {q}"),
                ));
            }
        }
        Ok(q)
    }

    /// How the query model compares embeddings (its `similarity_fn_name`).
    pub fn similarity(&self) -> Result<Similarity> {
        let name = self.query.similarity_fn_name();
        Similarity::from_name(name).ok_or_else(|| Error::Unsupported {
            task: "retrieval".into(),
            what: format!("similarity function `{name}` is not supported; expected cosine or dot"),
        })
    }

    /// The similarity a task compares with: retrieval needs a supported similarity function,
    /// the other types fall back to cosine (what their MTEB evaluators compute).
    pub fn similarity_for(&self, task: &TaskSpec) -> Result<Similarity> {
        match task.kind {
            TaskKind::Retrieval(_) => self.similarity(),
            _ => Ok(self.similarity().unwrap_or(Similarity::Cosine)),
        }
    }

    /// What keys the stored embeddings of texts of `role`, besides the texts.
    pub fn key_parts(&self, role: Role) -> Result<KeyParts<'_>> {
        let encoder = self.encoder(role);
        Ok(KeyParts {
            model: self.fingerprint(role)?,
            role: role_name(role),
            prompt: encoder.prompts().for_role(role),
            max_length: encoder.max_seq_length(role)?,
        })
    }

    /// `texts` tokenized and batched as the encoder of `role` computes them.
    pub fn batched(&self, texts: &[String], role: Role, opts: &EncodeOptions) -> Result<Batched> {
        self.encoder(role).batched(texts, role, opts)
    }

    /// Embeds one chunk of a call (rows in the chunk's batch order); a NaN or infinite value
    /// stops the run, naming the model and the text.
    pub fn encode_chunk(
        &self,
        texts: &[String],
        batched: &Batched,
        chunk: &Chunk,
        progress: &indicatif::ProgressBar,
    ) -> Result<Embeddings> {
        let encoder = self.encoder(batched.role);
        let which: Vec<usize> = chunk.batches.clone().collect();
        let emb = encoder.encode_batches(batched, &which, progress)?;
        let order: Vec<usize> = batched.batches[chunk.batches.clone()]
            .iter()
            .flatten()
            .copied()
            .collect();
        let label = format!("`{}` ({})", self.name, encoder.dir().display());
        emb.check_finite_as(texts, |row| order[row], &label)?;
        Ok(emb)
    }
}

/// The route name of a role, as store keys spell it.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Query => "query",
        Role::Document => "document",
        Role::Plain => "plain",
    }
}
