//! The Transformer module of a sentence-transformers folder: its tokenizer, set up the way
//! sentence-transformers sets it up, and its backbone (BERT or ModernBERT).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use serde_json::Value;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use super::bert::Bert;
use super::modernbert::{ModernBert, MASKED};
use super::precision::Precision;
use super::weights::Weights;
use crate::error::{read_json, Error, Result};

pub enum Backbone {
    Bert(Bert),
    ModernBert(ModernBert),
}

pub struct Transformer {
    dir: PathBuf,
    tokenizer: Tokenizer,
    special_ids: HashSet<u32>,
    backbone: Backbone,
    max_seq_length: usize,
    pad_id: u32,
    hidden: usize,
}

impl Transformer {
    pub fn load(dir: &Path, device: &Device, precision: Precision) -> Result<Self> {
        let config_path = dir.join("config.json");
        let config: Value = read_json(&config_path)?;
        let st_config = read_optional_json(&dir.join("sentence_bert_config.json"))?;
        let weights = Weights::open(&dir.join("model.safetensors"), device)?;
        let backbone = load_backbone(&config_path, &config, &weights, precision)?;
        let max_positions = match &backbone {
            Backbone::Bert(b) => b.max_positions(),
            Backbone::ModernBert(m) => m.max_positions(),
        };
        let max_seq_length = max_seq_length(dir, &st_config, max_positions)?;
        let do_lower_case = st_config
            .get("do_lower_case")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let tokenizer = load_tokenizer(dir, max_seq_length, do_lower_case)?;
        let special_ids = tokenizer
            .get_added_tokens_decoder()
            .into_iter()
            .filter(|(_, t)| t.special)
            .map(|(id, _)| id)
            .collect();
        let pad_id = config
            .get("pad_token_id")
            .and_then(Value::as_u64)
            .unwrap_or(0) as u32;
        let hidden = config
            .get("hidden_size")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        Ok(Self {
            dir: dir.to_path_buf(),
            tokenizer,
            special_ids,
            backbone,
            max_seq_length,
            pad_id,
            hidden,
        })
    }

    pub fn hidden_size(&self) -> usize {
        self.hidden
    }

    pub fn max_seq_length(&self) -> usize {
        self.max_seq_length
    }

    /// Token ids (special tokens included, truncated to `max_seq_length`) of each text.
    pub fn tokenize(&self, texts: &[String]) -> Result<Vec<Vec<u32>>> {
        let inputs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let encodings = self.tokenizer.encode_batch(inputs, true).map_err(|e| {
            Error::invalid(
                self.dir.join("tokenizer.json"),
                format!("tokenization failed: {e}"),
            )
        })?;
        Ok(encodings
            .into_iter()
            .map(|e| e.get_ids().to_vec())
            .collect())
    }

    /// The part of `text` the model reads: all of it, or, when it is longer than
    /// `max_seq_length` tokens, the text up to the end of its last kept token (a served port
    /// that reads more is sent only this).
    pub fn kept_text<'t>(&self, text: &'t str) -> Result<&'t str> {
        let encoding = self.tokenizer.encode(text, true).map_err(|e| {
            Error::invalid(
                self.dir.join("tokenizer.json"),
                format!("tokenization failed: {e}"),
            )
        })?;
        if encoding.get_overflowing().is_empty() {
            return Ok(text);
        }
        // Byte offsets into `text`; special tokens sit at (0, 0).
        let end = encoding
            .get_offsets()
            .iter()
            .zip(encoding.get_ids())
            .filter(|(_, id)| !self.special_ids.contains(id))
            .map(|((_, end), _)| *end)
            .max()
            .unwrap_or(0);
        Ok(&text[..end])
    }

    /// Tokens a prompt occupies at the start of every input: its tokenization less a
    /// trailing special token (the separator that a longer input would push back).
    pub fn prompt_length(&self, prompt: &str) -> Result<usize> {
        let ids = self.tokenize(&[prompt.to_string()])?.remove(0);
        let trailing_special = ids.last().is_some_and(|id| self.special_ids.contains(id));
        Ok(ids.len() - usize::from(trailing_special))
    }

    /// Runs the backbone on a batch of token id sequences (right-padded here) and returns
    /// the last hidden state [B, L, H] with L the longest sequence.
    pub fn forward(&self, batch: &[&[u32]], device: &Device) -> Result<Tensor> {
        let l = batch.iter().map(|s| s.len()).max().unwrap_or(0).max(1);
        let mut ids = Vec::with_capacity(batch.len() * l);
        let mut bias = Vec::with_capacity(batch.len() * l);
        for seq in batch {
            ids.extend_from_slice(seq);
            ids.extend(std::iter::repeat_n(self.pad_id, l - seq.len()));
            bias.extend(std::iter::repeat_n(0f32, seq.len()));
            bias.extend(std::iter::repeat_n(MASKED, l - seq.len()));
        }
        let ids = Tensor::from_vec(ids, (batch.len(), l), device)?;
        let bias = Tensor::from_vec(bias, (batch.len(), 1, 1, l), device)?;
        match &self.backbone {
            Backbone::Bert(b) => b.forward(&ids, &bias),
            Backbone::ModernBert(m) => m.forward(&ids, &bias),
        }
    }
}

fn read_optional_json(path: &Path) -> Result<Value> {
    if path.is_file() {
        read_json(path)
    } else {
        Ok(Value::Object(Default::default()))
    }
}

fn load_backbone(
    config_path: &Path,
    config: &Value,
    weights: &Weights,
    precision: Precision,
) -> Result<Backbone> {
    let model_type = config
        .get("model_type")
        .and_then(Value::as_str)
        .unwrap_or("");
    match model_type {
        "bert" => Ok(Backbone::Bert(Bert::load(config_path, weights, precision)?)),
        "modernbert" => Ok(Backbone::ModernBert(ModernBert::load(
            config_path,
            weights,
            precision,
        )?)),
        other => Err(Error::invalid(
            config_path,
            format!("unsupported model_type `{other}`; expected `bert` or `modernbert`"),
        )),
    }
}

/// `max_seq_length` from sentence_bert_config.json; without it, the tokenizer's
/// `model_max_length` capped by the model's position table.
fn max_seq_length(dir: &Path, st_config: &Value, max_positions: usize) -> Result<usize> {
    if let Some(n) = st_config.get("max_seq_length").and_then(Value::as_u64) {
        let n = n as usize;
        if n > max_positions {
            // Longer inputs would index past the position table; sentence-transformers
            // crashes there, truncating to what the model can see is the useful reading.
            tracing::warn!(
                "{}: max_seq_length {n} exceeds the model's {max_positions} positions; using {max_positions}",
                dir.join("sentence_bert_config.json").display()
            );
            return Ok(max_positions);
        }
        return Ok(n);
    }
    let tok_cfg = read_optional_json(&dir.join("tokenizer_config.json"))?;
    let model_max = tok_cfg
        .get("model_max_length")
        .and_then(Value::as_f64)
        .map(|v| v.min(usize::MAX as f64) as usize)
        .unwrap_or(usize::MAX);
    Ok(model_max.min(max_positions))
}

/// Loads tokenizer.json with the folder's truncation (max_seq_length, longest-first, on the
/// side tokenizer_config.json names) replacing whatever the file had baked in, no padding
/// (batches are padded here), and a lowercasing step when `do_lower_case` asks for one the
/// normalizer lacks.
fn load_tokenizer(dir: &Path, max_seq_length: usize, do_lower_case: bool) -> Result<Tokenizer> {
    let path = dir.join("tokenizer.json");
    let mut json: Value = read_json(&path)?;
    if do_lower_case && !normalizer_lowercases(&json["normalizer"]) {
        let original = json["normalizer"].take();
        let mut steps = vec![serde_json::json!({"type": "Lowercase"})];
        match original {
            Value::Null => {}
            Value::Object(ref o) if o.get("type").and_then(Value::as_str) == Some("Sequence") => {
                steps.extend(o["normalizers"].as_array().cloned().unwrap_or_default())
            }
            other => steps.push(other),
        }
        json["normalizer"] = serde_json::json!({"type": "Sequence", "normalizers": steps});
    }
    json["truncation"] = Value::Null;
    json["padding"] = Value::Null;
    let mut tokenizer: Tokenizer = serde_json::from_value(json)
        .map_err(|e| Error::invalid(&path, format!("not a valid tokenizer definition: {e}")))?;
    let direction = match read_optional_json(&dir.join("tokenizer_config.json"))?
        .get("truncation_side")
        .and_then(Value::as_str)
    {
        Some("left") => TruncationDirection::Left,
        _ => TruncationDirection::Right,
    };
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: max_seq_length,
            strategy: TruncationStrategy::LongestFirst,
            stride: 0,
            direction,
        }))
        .map_err(|e| {
            Error::invalid(
                &path,
                format!("cannot truncate to {max_seq_length} tokens: {e}"),
            )
        })?;
    Ok(tokenizer)
}

/// Whether the normalizer already lowercases, the way sentence-transformers checks it: a
/// Lowercase step on its own or inside a Sequence.
fn normalizer_lowercases(normalizer: &Value) -> bool {
    let is_lowercase = |n: &Value| n.get("type").and_then(Value::as_str) == Some("Lowercase");
    is_lowercase(normalizer)
        || normalizer
            .get("normalizers")
            .and_then(Value::as_array)
            .is_some_and(|steps| steps.iter().any(is_lowercase))
}
