//! Prompt selection per role, following sentence-transformers' `encode_query`,
//! `encode_document` and `encode`, from `config_sentence_transformers.json`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::Role;
use crate::error::{read_json, Result};

#[derive(Debug, Clone, Default)]
pub struct Prompts {
    /// Always holds `query` and `document` (empty unless the model sets them): a model
    /// without a query prompt must not fall back to `default_prompt_name` for queries.
    pub prompts: BTreeMap<String, String>,
    pub default_prompt_name: Option<String>,
    /// Not a prompt, but saved in the same file: how the model's embeddings are compared.
    pub similarity_fn_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct StConfig {
    #[serde(default)]
    prompts: BTreeMap<String, Option<String>>,
    #[serde(default)]
    default_prompt_name: Option<String>,
    #[serde(default)]
    similarity_fn_name: Option<String>,
}

/// Fallback names a document prompt may be saved under, in the order they are tried.
const DOCUMENT_NAMES: [&str; 3] = ["document", "passage", "corpus"];

impl Prompts {
    /// Reads the folder's `config_sentence_transformers.json`; a folder without one has no
    /// prompts.
    pub fn load(model_dir: &Path) -> Result<Self> {
        let path = model_dir.join("config_sentence_transformers.json");
        let cfg: StConfig = if path.is_file() {
            read_json(&path)?
        } else {
            StConfig::default()
        };
        let mut prompts: BTreeMap<String, String> = [
            ("query".to_string(), String::new()),
            ("document".to_string(), String::new()),
        ]
        .into();
        for (name, text) in cfg.prompts {
            prompts.insert(name, text.unwrap_or_default());
        }
        if let Some(name) = &cfg.default_prompt_name {
            if !prompts.contains_key(name) {
                return Err(crate::error::Error::invalid(
                    &path,
                    format!(
                        "default_prompt_name `{name}` is not one of the prompts {:?}",
                        prompts.keys().collect::<Vec<_>>()
                    ),
                ));
            }
        }
        Ok(Self {
            prompts,
            default_prompt_name: cfg.default_prompt_name,
            similarity_fn_name: cfg.similarity_fn_name,
        })
    }

    /// The text prepended to every input of `role` ("" for none).
    pub fn for_role(&self, role: Role) -> &str {
        let name = match role {
            Role::Query => Some("query"),
            Role::Document => DOCUMENT_NAMES
                .iter()
                .copied()
                .find(|n| self.prompts.contains_key(*n)),
            Role::Plain => self.default_prompt_name.as_deref(),
        };
        name.and_then(|n| self.prompts.get(n))
            .map(String::as_str)
            .unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompts(pairs: &[(&str, &str)], default: Option<&str>) -> Prompts {
        let mut p = Prompts::default();
        p.prompts.insert("query".into(), String::new());
        p.prompts.insert("document".into(), String::new());
        for (k, v) in pairs {
            p.prompts.insert(k.to_string(), v.to_string());
        }
        p.default_prompt_name = default.map(String::from);
        p
    }

    #[test]
    fn roles_pick_their_prompt_and_plain_uses_the_default() {
        let p = prompts(
            &[("query", "q: "), ("document", "d: "), ("other", "o: ")],
            Some("other"),
        );
        assert_eq!(p.for_role(Role::Query), "q: ");
        assert_eq!(p.for_role(Role::Document), "d: ");
        assert_eq!(p.for_role(Role::Plain), "o: ");
    }

    #[test]
    fn an_unset_query_prompt_does_not_fall_back_to_the_default() {
        let p = prompts(&[("passage", "p: ")], Some("passage"));
        assert_eq!(p.for_role(Role::Query), "");
        // `document` always exists (empty), so it wins over `passage`.
        assert_eq!(p.for_role(Role::Document), "");
        assert_eq!(p.for_role(Role::Plain), "p: ");
    }
}
