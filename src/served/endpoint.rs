//! A served model as a run config names it (`models[].endpoint`):
//!
//! ```yaml
//! models:
//!   - name: my-org/minilm-onnx-port
//!     endpoint:
//!       url: http://127.0.0.1:7997/v1/embeddings
//!       api: openai            # or tei (POST /embed {"inputs": [...]})
//!       model: all-MiniLM-L6-v2
//!       batch_size: 32
//!       concurrency: 4
//!       prompts: {query: "query: ", document: ""}
//!       api_key_env: EMBEDDINGS_API_KEY
//!       fingerprint: onnx-export-2026-11
//!       truncate_like: ../models/all-MiniLM-L6-v2   # cut texts as the reference model does
//! ```

use std::path::PathBuf;

use serde::Deserialize;

/// The request and response shapes a server speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Api {
    /// `POST {"model", "input": [...]}` → `{"data": [{"index", "embedding"}]}`.
    #[default]
    #[value(name = "openai")]
    OpenAi,
    /// Text Embeddings Inference: `POST {"inputs": [...]}` → `[[...], ...]`.
    Tei,
}

impl Api {
    pub fn name(self) -> &'static str {
        match self {
            Api::OpenAi => "openai",
            Api::Tei => "tei",
        }
    }
}

/// Prompts added to each text before it is sent, as sentence-transformers adds a model's
/// prompts (a server receives the text exactly as given).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Prompts {
    #[serde(default)]
    pub query: String,
    #[serde(default)]
    pub document: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// The full URL requests are posted to (`…/v1/embeddings`, `…/embed`).
    pub url: String,
    #[serde(default)]
    pub api: Api,
    /// The server's name for the model, sent in each OpenAI request.
    #[serde(default)]
    pub model: Option<String>,
    /// Texts per request.
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    #[serde(default)]
    pub prompts: Prompts,
    /// The environment variable holding a bearer token (never the token itself).
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// Keys the stored embeddings besides the URL and model name: the client cannot hash a
    /// remote model, so change it whenever the served model changes.
    #[serde(default)]
    pub fingerprint: Option<String>,
    /// Seconds a request may take before it is retried.
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    /// Retries of a request after a 429, a 5xx, a timeout or a dropped connection.
    #[serde(default = "default_retries")]
    pub max_retries: usize,
    /// Scale each returned vector to unit length (for servers that return raw pooled
    /// vectors of a model that normalises).
    #[serde(default)]
    pub normalize: bool,
    /// How the model's embeddings are compared: `cosine` (default) or `dot`.
    #[serde(default = "default_similarity")]
    pub similarity: String,
    /// A sentence-transformers folder of the model the server ports: each text (its prompt
    /// added) is cut to what that model reads (its `max_seq_length` tokens) before it is sent,
    /// so a server that reads longer inputs sees what the reference sees.
    #[serde(default)]
    pub truncate_like: Option<PathBuf>,
}

fn default_batch() -> usize {
    32
}
fn default_concurrency() -> usize {
    4
}
fn default_timeout() -> u64 {
    120
}
fn default_retries() -> usize {
    5
}
fn default_similarity() -> String {
    "cosine".into()
}

impl Endpoint {
    /// What is wrong with the settings, if anything.
    pub fn problem(&self) -> Option<String> {
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Some(format!(
                "endpoint url `{}` must start with http:// or https://",
                self.url
            ));
        }
        if self.batch_size == 0 || self.concurrency == 0 {
            return Some("endpoint batch_size and concurrency must be at least 1".into());
        }
        if !matches!(self.similarity.as_str(), "cosine" | "dot") {
            return Some(format!(
                "endpoint similarity `{}`: expected cosine or dot",
                self.similarity
            ));
        }
        None
    }

    /// What the embedding store keys this model's vectors with: the URL, the model name, the
    /// user's fingerprint, and what the client does to texts and vectors (cutting,
    /// normalising).
    pub fn identity(&self) -> String {
        let normalized = if self.normalize {
            "normalized"
        } else {
            "as-served"
        };
        let cut = match &self.truncate_like {
            Some(dir) => format!("cut like {}", dir.display()),
            None => "uncut".to_string(),
        };
        format!(
            "served:{}|{}|{}|{}|{normalized}|{cut}",
            self.api.name(),
            self.url,
            self.model.as_deref().unwrap_or(""),
            self.fingerprint.as_deref().unwrap_or(""),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_checks() {
        let e: Endpoint =
            serde_saphyr::from_str("url: http://127.0.0.1:1/embed\napi: tei\n").unwrap();
        assert_eq!((e.api, e.batch_size, e.concurrency), (Api::Tei, 32, 4));
        assert_eq!(e.problem(), None);
        let bad: Endpoint = serde_saphyr::from_str("url: 127.0.0.1:1\n").unwrap();
        assert!(bad.problem().unwrap().contains("http://"));
        assert!(serde_saphyr::from_str::<Endpoint>("url: http://x\napi: grpc\n").is_err());
        let mut other = e.clone();
        other.fingerprint = Some("v2".into());
        assert_ne!(
            e.identity(),
            other.identity(),
            "the fingerprint keys the store"
        );
    }
}
