//! Pooling: token embeddings → one sentence embedding, with sentence-transformers' rules for
//! every mode, mode concatenation order, and prompt exclusion (`include_prompt: false`).

use std::path::Path;

use serde_json::Value;

use crate::error::{read_json, Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolingMode {
    Cls,
    Max,
    Mean,
    MeanSqrtLen,
    WeightedMean,
    LastToken,
}

/// Legacy boolean keys in the order sentence-transformers concatenates their outputs.
const LEGACY_KEYS: [(&str, PoolingMode); 6] = [
    ("pooling_mode_cls_token", PoolingMode::Cls),
    ("pooling_mode_max_tokens", PoolingMode::Max),
    ("pooling_mode_mean_tokens", PoolingMode::Mean),
    (
        "pooling_mode_mean_sqrt_len_tokens",
        PoolingMode::MeanSqrtLen,
    ),
    (
        "pooling_mode_weightedmean_tokens",
        PoolingMode::WeightedMean,
    ),
    ("pooling_mode_lasttoken", PoolingMode::LastToken),
];

impl PoolingMode {
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "cls" => Self::Cls,
            "max" => Self::Max,
            "mean" => Self::Mean,
            "mean_sqrt_len_tokens" => Self::MeanSqrtLen,
            "weightedmean" => Self::WeightedMean,
            "lasttoken" => Self::LastToken,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Pooling {
    pub modes: Vec<PoolingMode>,
    pub dim: usize,
    pub include_prompt: bool,
}

/// The token states of one sequence, right-padded: `tokens[p]` for p < `len` are real.
pub struct TokenStates<'a> {
    pub tokens: &'a [f32],
    pub len: usize,
    pub hidden: usize,
}

impl Pooling {
    /// Reads `config.json` of a Pooling module folder, in the current
    /// (`pooling_mode`: name or list) or the legacy (`pooling_mode_*` booleans) form.
    pub fn load(dir: &Path) -> Result<Self> {
        let path = dir.join("config.json");
        let cfg: Value = read_json(&path)?;
        let dim = ["embedding_dimension", "word_embedding_dimension"]
            .iter()
            .find_map(|k| cfg.get(*k).and_then(Value::as_u64))
            .ok_or_else(|| {
                Error::invalid(
                    &path,
                    "missing `embedding_dimension` (or `word_embedding_dimension`)",
                )
            })? as usize;
        let modes = parse_modes(&path, &cfg)?;
        let include_prompt = cfg
            .get("include_prompt")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        Ok(Self {
            modes,
            dim,
            include_prompt,
        })
    }

    pub fn out_dim(&self) -> usize {
        self.modes.len() * self.dim
    }

    /// Pools one sequence. `prompt_length` tokens at the start are left out when the
    /// config excludes the prompt.
    pub fn pool(&self, seq: &TokenStates, prompt_length: usize) -> Vec<f32> {
        let skip = if self.include_prompt {
            0
        } else {
            prompt_length.min(seq.len)
        };
        let kept = skip..seq.len;
        let mut out = Vec::with_capacity(self.out_dim());
        for mode in &self.modes {
            match mode {
                PoolingMode::Cls => {
                    out.extend_from_slice(token(seq, if kept.is_empty() { 0 } else { kept.start }))
                }
                PoolingMode::Max => out.extend(max_over(seq, kept.clone())),
                PoolingMode::Mean => out.extend(mean_over(seq, kept.clone(), |n| n)),
                PoolingMode::MeanSqrtLen => out.extend(mean_over(seq, kept.clone(), f32::sqrt)),
                PoolingMode::WeightedMean => out.extend(weighted_mean(seq, kept.clone())),
                PoolingMode::LastToken => out.extend(last_token(seq, kept.clone())),
            }
        }
        out
    }
}

fn parse_modes(path: &Path, cfg: &Value) -> Result<Vec<PoolingMode>> {
    let unknown = |name: &str| {
        Error::invalid(
            path,
            format!("unknown pooling mode `{name}`; expected cls, max, mean, mean_sqrt_len_tokens, weightedmean or lasttoken"),
        )
    };
    if let Some(mode) = cfg.get("pooling_mode") {
        let names: Vec<&str> = match mode {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => {
                return Err(Error::invalid(
                    path,
                    "`pooling_mode` must be a string or a list of strings",
                ))
            }
        };
        return names
            .iter()
            .map(|n| PoolingMode::from_name(n).ok_or_else(|| unknown(n)))
            .collect();
    }
    if let Some(obj) = cfg.as_object() {
        if let Some(k) = obj
            .keys()
            .find(|k| k.starts_with("pooling_mode_") && !LEGACY_KEYS.iter().any(|(l, _)| l == k))
        {
            return Err(unknown(k));
        }
    }
    let modes: Vec<PoolingMode> = LEGACY_KEYS
        .iter()
        .filter(|(k, _)| cfg.get(*k).and_then(Value::as_bool).unwrap_or(false))
        .map(|(_, m)| *m)
        .collect();
    // sentence-transformers falls back to mean when no legacy flag is set.
    Ok(if modes.is_empty() {
        vec![PoolingMode::Mean]
    } else {
        modes
    })
}

fn token<'a>(seq: &'a TokenStates, p: usize) -> &'a [f32] {
    &seq.tokens[p * seq.hidden..(p + 1) * seq.hidden]
}

fn max_over(seq: &TokenStates, kept: std::ops::Range<usize>) -> Vec<f32> {
    let mut out = vec![f32::NEG_INFINITY; seq.hidden];
    for p in kept {
        for (o, &v) in out.iter_mut().zip(token(seq, p)) {
            *o = o.max(v);
        }
    }
    out
}

/// Sum of the kept tokens divided by `denominator(count)`, the count clamped at 1e-9 so an
/// all-excluded sequence pools to zeros, as in sentence-transformers.
fn mean_over(
    seq: &TokenStates,
    kept: std::ops::Range<usize>,
    denominator: fn(f32) -> f32,
) -> Vec<f32> {
    let count = (kept.len() as f32).max(1e-9);
    let mut sum = vec![0f32; seq.hidden];
    for p in kept {
        for (s, &v) in sum.iter_mut().zip(token(seq, p)) {
            *s += v;
        }
    }
    let d = denominator(count);
    sum.iter().map(|s| s / d).collect()
}

/// Weights are 1-based positions in the padded sequence, so later tokens count more.
fn weighted_mean(seq: &TokenStates, kept: std::ops::Range<usize>) -> Vec<f32> {
    let mut sum = vec![0f32; seq.hidden];
    let mut total = 0f32;
    for p in kept {
        let w = (p + 1) as f32;
        total += w;
        for (s, &v) in sum.iter_mut().zip(token(seq, p)) {
            *s += v * w;
        }
    }
    let total = total.max(1e-9);
    sum.iter().map(|s| s / total).collect()
}

/// The last kept token; a sequence with none kept pools to zeros.
fn last_token(seq: &TokenStates, kept: std::ops::Range<usize>) -> Vec<f32> {
    if kept.is_empty() {
        return vec![0.0; seq.hidden];
    }
    token(seq, kept.end - 1).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(tokens: &[f32], len: usize) -> TokenStates<'_> {
        TokenStates {
            tokens,
            len,
            hidden: 2,
        }
    }

    fn pooling(modes: Vec<PoolingMode>, include_prompt: bool) -> Pooling {
        Pooling {
            modes,
            dim: 2,
            include_prompt,
        }
    }

    #[test]
    fn modes_concatenate_in_config_order() {
        let t = [1.0, 2.0, 3.0, -4.0, 9.0, 9.0];
        let p = pooling(
            vec![PoolingMode::Cls, PoolingMode::Max, PoolingMode::Mean],
            true,
        );
        assert_eq!(p.pool(&seq(&t, 2), 0), vec![1.0, 2.0, 3.0, 2.0, 2.0, -1.0]);
    }

    #[test]
    fn padding_is_ignored_and_weights_are_positions() {
        let t = [1.0, 0.0, 4.0, 3.0, 100.0, 100.0];
        let p = pooling(
            vec![
                PoolingMode::WeightedMean,
                PoolingMode::LastToken,
                PoolingMode::MeanSqrtLen,
            ],
            true,
        );
        let out = p.pool(&seq(&t, 2), 0);
        let s2 = 2f32.sqrt();
        assert_eq!(out, vec![3.0, 2.0, 4.0, 3.0, 5.0 / s2, 3.0 / s2]);
    }

    #[test]
    fn prompt_tokens_are_excluded_only_when_configured() {
        let t = [10.0, 10.0, 1.0, 3.0];
        assert_eq!(
            pooling(vec![PoolingMode::Mean], false).pool(&seq(&t, 2), 1),
            vec![1.0, 3.0]
        );
        assert_eq!(
            pooling(vec![PoolingMode::Mean], true).pool(&seq(&t, 2), 1),
            vec![5.5, 6.5]
        );
        // cls takes the first kept token once the prompt is masked.
        assert_eq!(
            pooling(vec![PoolingMode::Cls], false).pool(&seq(&t, 2), 1),
            vec![1.0, 3.0]
        );
        // Everything excluded: mean pools to zeros rather than NaN.
        assert_eq!(
            pooling(vec![PoolingMode::Mean], false).pool(&seq(&t, 2), 5),
            vec![0.0, 0.0]
        );
    }

    #[test]
    fn unknown_mode_is_rejected_naming_it() {
        let cfg: Value = serde_json::json!({"embedding_dimension": 4, "pooling_mode": "median"});
        let err = parse_modes(Path::new("1_Pooling/config.json"), &cfg)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1_Pooling/config.json") && err.contains("median"),
            "{err}"
        );
        let legacy: Value = serde_json::json!({"pooling_mode_median_tokens": true});
        assert!(parse_modes(Path::new("c.json"), &legacy)
            .unwrap_err()
            .to_string()
            .contains("pooling_mode_median_tokens"));
    }

    #[test]
    fn legacy_flags_map_to_modes_and_default_to_mean() {
        let cfg: Value =
            serde_json::json!({"pooling_mode_lasttoken": true, "pooling_mode_cls_token": true});
        assert_eq!(
            parse_modes(Path::new("c"), &cfg).unwrap(),
            vec![PoolingMode::Cls, PoolingMode::LastToken]
        );
        let none: Value = serde_json::json!({"word_embedding_dimension": 4});
        assert_eq!(
            parse_modes(Path::new("c"), &none).unwrap(),
            vec![PoolingMode::Mean]
        );
    }
}
