//! The encoders of one model entry of a run: one sentence-transformers folder, an asymmetric
//! pair (a query model and a document model), or a model behind an embedding server; with
//! what keys their cached embeddings and the similarity their tasks compare with.

use std::sync::OnceLock;

use crate::chunks::Chunk;
use crate::config::ModelEntry;
use crate::embeddings::Embeddings;
use crate::encoder::{Batched, EncodeOptions, Encoder, Precision, Role};
use crate::error::{Error, Result};
use crate::hub::{resolve_model, ResolveOptions};
use crate::served::ServedModel;
use crate::similarity::Similarity;
use crate::store::{fingerprint_dir, KeyParts};
use crate::task::{TaskKind, TaskSpec};

/// The encoders of one model entry: one folder, a query model and a document model, or a
/// served model.
pub struct ModelEncoders {
    /// The model entry's name, for messages.
    name: String,
    backend: Backend,
}

enum Backend {
    /// sentence-transformers folders, run here at one compute precision.
    Local {
        query: Encoder,
        document: Option<Encoder>,
        precision: Precision,
        /// Content fingerprints of the query and document folders, computed on first use.
        fingerprints: [OnceLock<String>; 2],
    },
    /// A model behind an embedding server, keyed in the store by its endpoint's identity.
    Served {
        model: ServedModel,
        identity: String,
    },
}

impl ModelEncoders {
    pub fn load(entry: &ModelEntry, offline: bool) -> Result<Self> {
        Self::load_at(entry, offline, Precision::Float32)
    }

    /// The entry's encoders with their linear layers computing at `precision`.
    pub fn load_at(entry: &ModelEntry, offline: bool, precision: Precision) -> Result<Self> {
        Self::check_precision(entry, precision)?;
        if let Some(endpoint) = &entry.endpoint {
            let model = ServedModel::new(endpoint)?;
            let identity = endpoint.identity();
            return Ok(Self {
                name: entry.name.clone(),
                backend: Backend::Served { model, identity },
            });
        }
        let resolve = |name: &str| {
            resolve_model(name, &ResolveOptions::from_env(offline)).map_err(Error::from)
        };
        let load = |dir: &std::path::Path| Encoder::load_at(dir, precision);
        let (query, document) = match (&entry.path, &entry.query, &entry.document) {
            (_, Some(q), Some(d)) => (load(&resolve(q)?)?, Some(load(&resolve(d)?)?)),
            (Some(p), _, _) => (load(p)?, None),
            _ => {
                let name = format!("{}@{}", entry.name, entry.revision());
                (load(&resolve(&name)?)?, None)
            }
        };
        Ok(Self::new(&entry.name, query, document, precision))
    }

    /// A served model computes as its server does: only float32 (no change) is accepted.
    pub fn check_precision(entry: &ModelEntry, precision: Precision) -> Result<()> {
        match &entry.endpoint {
            Some(endpoint) if precision != Precision::Float32 => Err(Error::Served {
                url: endpoint.url.clone(),
                what: format!(
                    "model `{}` is served: its compute precision is the server's; \
                     `compression.precision: [{precision}]` applies to models run here",
                    entry.name
                ),
            }),
            _ => Ok(()),
        }
    }

    fn new(name: &str, query: Encoder, document: Option<Encoder>, precision: Precision) -> Self {
        Self {
            name: name.to_string(),
            backend: Backend::Local {
                query,
                document,
                precision,
                fingerprints: [OnceLock::new(), OnceLock::new()],
            },
        }
    }

    /// The local encoder that embeds texts of `role`; `None` for a served model. Texts of
    /// symmetric tasks go to the document side of a pair, as a Router's default route sends
    /// them.
    fn encoder(&self, role: Role) -> Option<&Encoder> {
        match &self.backend {
            Backend::Local {
                document: Some(d), ..
            } if role != Role::Query => Some(d),
            Backend::Local { query, .. } => Some(query),
            Backend::Served { .. } => None,
        }
    }

    /// The longest input, in tokens, of `role` (a served model's is not known here: its
    /// server's usual 512 is assumed for sizing).
    pub fn max_seq_length(&self, role: Role) -> Result<usize> {
        match self.encoder(role) {
            Some(e) => e.max_seq_length(role),
            None => Ok(SERVED_MAX_TOKENS),
        }
    }

    /// What keys the embeddings of `role` in the store: the content fingerprint of the folder
    /// that embeds them (with the compute precision's suffix, unless float32), or a served model's
    /// endpoint identity.
    pub fn fingerprint(&self, role: Role) -> Result<&str> {
        match &self.backend {
            Backend::Served { identity, .. } => Ok(identity),
            Backend::Local {
                document,
                fingerprints,
                precision,
                ..
            } => {
                let side = usize::from(document.is_some() && role != Role::Query);
                if let Some(f) = fingerprints[side].get() {
                    return Ok(f);
                }
                let dir = self.encoder(role).expect("a local model").dir();
                let f = fingerprint_dir(dir)? + &precision.store_suffix().unwrap_or_default();
                Ok(fingerprints[side].get_or_init(|| f))
            }
        }
    }

    /// The embedding size; both sides of a pair must agree.
    pub fn dim(&self) -> Result<usize> {
        let (query, document) = match &self.backend {
            Backend::Served { model, .. } => return model.dim(),
            Backend::Local {
                query, document, ..
            } => (query, document),
        };
        let q = query.dim(Role::Query)?;
        if let Some(d) = document {
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

    /// How the model compares embeddings: the query model's `similarity_fn_name`, or the
    /// endpoint's `similarity`.
    pub fn similarity(&self) -> Result<Similarity> {
        let name = match &self.backend {
            Backend::Served { model, .. } => model.endpoint().similarity.as_str(),
            Backend::Local { query, .. } => query.similarity_fn_name(),
        };
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
        let (prompt, max_length) = match (&self.backend, self.encoder(role)) {
            // The server truncates as it does; the endpoint's identity keys that.
            (Backend::Served { model, .. }, _) => (model.prompt(role), 0),
            (_, Some(e)) => (e.prompts().for_role(role), e.max_seq_length(role)?),
            (Backend::Local { .. }, None) => unreachable!("a local model has encoders"),
        };
        Ok(KeyParts {
            model: self.fingerprint(role)?,
            role: role_name(role),
            prompt,
            max_length,
        })
    }

    /// `texts` grouped into batches as the model computes them: tokenized and length-sorted
    /// for a local model, in order by the endpoint's batch size for a served one.
    pub fn batched(&self, texts: &[String], role: Role, opts: &EncodeOptions) -> Result<Batched> {
        match &self.backend {
            Backend::Served { model, .. } => Ok(Batched::in_order(
                role,
                texts.len(),
                model.endpoint().batch_size,
            )),
            Backend::Local { .. } => self
                .encoder(role)
                .expect("a local model")
                .batched(texts, role, opts),
        }
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
        let order: Vec<usize> = batched.batches[chunk.batches.clone()]
            .iter()
            .flatten()
            .copied()
            .collect();
        let (emb, label) = match (&self.backend, self.encoder(batched.role)) {
            (Backend::Served { model, .. }, _) => {
                let chunk_texts: Vec<String> = order.iter().map(|&i| texts[i].clone()).collect();
                let emb = model.encode(&chunk_texts, batched.role, &|n| progress.inc(n as u64))?;
                (emb, format!("`{}` ({})", self.name, model.endpoint().url))
            }
            (_, Some(encoder)) => {
                let which: Vec<usize> = chunk.batches.clone().collect();
                let emb = encoder.encode_batches(batched, &which, progress)?;
                (
                    emb,
                    format!("`{}` ({})", self.name, encoder.dir().display()),
                )
            }
            (Backend::Local { .. }, None) => unreachable!("a local model has encoders"),
        };
        emb.check_finite_as(texts, |row| order[row], &label)?;
        Ok(emb)
    }
}

/// Tokens a served model is assumed to read, for sizing plans only.
const SERVED_MAX_TOKENS: usize = 512;

/// The route name of a role, as store keys spell it.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Query => "query",
        Role::Document => "document",
        Role::Plain => "plain",
    }
}
