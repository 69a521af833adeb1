//! ModernBERT encoder (pre-norm, rotary positions, alternating global and sliding-window
//! attention, GeGLU MLP), as in transformers' `ModernBertModel`. Used by
//! granite-embedding-*-r2 and other ModernBERT-based embedders.

use std::path::Path;

use candle_core::{Device, Tensor};
use serde::Deserialize;

use super::activation::Activation;
use super::attention::{attention, split_qkv};
use super::layers::{LayerNorm, Linear};
use super::precision::Precision;
use super::weights::Weights;
use crate::error::{read_json, Error, Result};

/// Additive bias that removes a key from attention. Finite, so that a query row whose keys
/// are all removed (a padding row outside every window) stays finite instead of NaN.
pub const MASKED: f32 = -1.0e30;

#[derive(Debug, Clone, Deserialize)]
pub struct ModernBertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    #[serde(default = "default_eps")]
    pub norm_eps: f64,
    #[serde(default)]
    pub norm_bias: bool,
    #[serde(default)]
    pub attention_bias: bool,
    #[serde(default)]
    pub mlp_bias: bool,
    #[serde(default = "default_act")]
    pub hidden_activation: String,
    #[serde(default = "default_every")]
    pub global_attn_every_n_layers: usize,
    #[serde(default = "default_window")]
    pub local_attention: usize,
    /// Older configs: one theta per attention kind.
    #[serde(default)]
    pub global_rope_theta: Option<f64>,
    #[serde(default)]
    pub local_rope_theta: Option<f64>,
    /// Newer configs: `{"full_attention": {"rope_theta": …}, "sliding_attention": {…}}`.
    #[serde(default)]
    pub rope_parameters: Option<serde_json::Value>,
    /// Newer configs: `full_attention` / `sliding_attention` per layer.
    #[serde(default)]
    pub layer_types: Option<Vec<String>>,
}

fn default_eps() -> f64 {
    1e-5
}
fn default_act() -> String {
    "gelu".into()
}
fn default_every() -> usize {
    3
}
fn default_window() -> usize {
    128
}

impl ModernBertConfig {
    fn is_sliding(&self, layer: usize) -> bool {
        match &self.layer_types {
            Some(types) => types
                .get(layer)
                .map(|t| t == "sliding_attention")
                .unwrap_or(false),
            None => !layer.is_multiple_of(self.global_attn_every_n_layers.max(1)),
        }
    }

    fn rope_theta(&self, sliding: bool) -> f64 {
        let key = if sliding {
            "sliding_attention"
        } else {
            "full_attention"
        };
        let from_params = self
            .rope_parameters
            .as_ref()
            .and_then(|p| p.get(key).or(Some(p)))
            .and_then(|p| p.get("rope_theta"))
            .and_then(|t| t.as_f64());
        let legacy = if sliding {
            self.local_rope_theta.or(self.global_rope_theta)
        } else {
            self.global_rope_theta
        };
        from_params
            .or(legacy)
            .unwrap_or(if sliding { 10_000.0 } else { 160_000.0 })
    }
}

struct Rotary {
    cos: Tensor,
    sin: Tensor,
}

impl Rotary {
    fn new(theta: f64, head_dim: usize, max_pos: usize, device: &Device) -> Result<Self> {
        let half = head_dim / 2;
        let mut cos = Vec::with_capacity(max_pos * half);
        let mut sin = Vec::with_capacity(max_pos * half);
        for pos in 0..max_pos {
            for i in 0..half {
                // Frequencies in f32 as transformers computes them, angles in f64.
                let inv_freq = (1.0 / theta.powf((2 * i) as f64 / head_dim as f64)) as f32;
                let angle = pos as f64 * inv_freq as f64;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        Ok(Self {
            cos: Tensor::from_vec(cos, (max_pos, half), device)?,
            sin: Tensor::from_vec(sin, (max_pos, half), device)?,
        })
    }

    fn apply(&self, x: &Tensor) -> Result<Tensor> {
        let l = x.dim(2)?;
        let cos = self.cos.narrow(0, 0, l)?;
        let sin = self.sin.narrow(0, 0, l)?;
        Ok(candle_nn::rotary_emb::rope(x, &cos, &sin)?)
    }
}

struct Layer {
    attn_norm: Option<LayerNorm>,
    qkv: Linear,
    attn_out: Linear,
    mlp_norm: LayerNorm,
    mlp_in: Linear,
    mlp_out: Linear,
    sliding: bool,
}

impl Layer {
    fn at_precision(self, p: Precision) -> Result<Self> {
        Ok(Self {
            qkv: self.qkv.at_precision(p)?,
            attn_out: self.attn_out.at_precision(p)?,
            mlp_in: self.mlp_in.at_precision(p)?,
            mlp_out: self.mlp_out.at_precision(p)?,
            ..self
        })
    }
}

pub struct ModernBert {
    embeddings: Tensor,
    emb_norm: LayerNorm,
    layers: Vec<Layer>,
    final_norm: LayerNorm,
    global_rope: Rotary,
    local_rope: Rotary,
    heads: usize,
    window_half: usize,
    act: Activation,
    max_positions: usize,
}

impl ModernBert {
    /// Loads the backbone with its linear layers computing at `precision`.
    pub fn load(config_path: &Path, w: &Weights, precision: Precision) -> Result<Self> {
        let cfg: ModernBertConfig = read_json(config_path)?;
        if cfg.num_attention_heads == 0 || !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads)
        {
            return Err(Error::invalid(
                config_path,
                "hidden_size is not a multiple of num_attention_heads",
            ));
        }
        let act = Activation::from_hf_name(&cfg.hidden_activation).ok_or_else(|| {
            Error::invalid(
                config_path,
                format!("unsupported hidden_activation `{}`", cfg.hidden_activation),
            )
        })?;
        let p = w.find_prefix(&["", "model."], "embeddings.tok_embeddings.weight")?;
        let h = cfg.hidden_size;
        let head_dim = h / cfg.num_attention_heads;
        let device = Device::Cpu;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| load_layer(w, &format!("{p}layers.{i}"), &cfg, i)?.at_precision(precision))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            embeddings: w.get(
                &format!("{p}embeddings.tok_embeddings.weight"),
                &[cfg.vocab_size, h],
            )?,
            emb_norm: LayerNorm::load(
                w,
                &format!("{p}embeddings.norm"),
                h,
                cfg.norm_eps,
                cfg.norm_bias,
            )?,
            layers,
            final_norm: LayerNorm::load(
                w,
                &format!("{p}final_norm"),
                h,
                cfg.norm_eps,
                cfg.norm_bias,
            )?,
            global_rope: Rotary::new(
                cfg.rope_theta(false),
                head_dim,
                cfg.max_position_embeddings,
                &device,
            )?,
            local_rope: Rotary::new(
                cfg.rope_theta(true),
                head_dim,
                cfg.max_position_embeddings,
                &device,
            )?,
            heads: cfg.num_attention_heads,
            window_half: cfg.local_attention / 2,
            act,
            max_positions: cfg.max_position_embeddings,
        })
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// ids: [B, L] u32; key_bias: [B, 1, 1, L] additive padding bias. Returns [B, L, H].
    pub fn forward(&self, ids: &Tensor, key_bias: &Tensor) -> Result<Tensor> {
        let (b, l) = ids.dims2()?;
        let h = self.embeddings.dim(1)?;
        let mut x = self
            .embeddings
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, l, h))?;
        x = self.emb_norm.forward(&x)?;
        let local_bias = key_bias.broadcast_add(&self.window_bias(l, ids.device())?)?;
        for layer in &self.layers {
            let (bias, rope) = if layer.sliding {
                (&local_bias, &self.local_rope)
            } else {
                (key_bias, &self.global_rope)
            };
            x = self.layer_forward(layer, &x, bias, rope)?;
        }
        self.final_norm.forward(&x)
    }

    /// [L, L] bias removing keys farther than half the local window from the query.
    fn window_bias(&self, l: usize, device: &Device) -> Result<Tensor> {
        let w = self.window_half;
        let bias: Vec<f32> = (0..l)
            .flat_map(|i| (0..l).map(move |j| if i.abs_diff(j) > w { MASKED } else { 0.0 }))
            .collect();
        Ok(Tensor::from_vec(bias, (l, l), device)?)
    }

    fn layer_forward(
        &self,
        layer: &Layer,
        x: &Tensor,
        bias: &Tensor,
        rope: &Rotary,
    ) -> Result<Tensor> {
        let normed = match &layer.attn_norm {
            Some(n) => n.forward(x)?,
            None => x.clone(),
        };
        let (q, k, v) = split_qkv(&layer.qkv.forward(&normed)?, self.heads)?;
        let ctx = attention(&rope.apply(&q)?, &rope.apply(&k)?, &v, bias)?;
        let x = (layer.attn_out.forward(&ctx)? + x)?;
        let up = layer.mlp_in.forward(&layer.mlp_norm.forward(&x)?)?;
        let half = up.dim(2)? / 2;
        let gated = (self.act.apply(&up.narrow(2, 0, half)?)? * up.narrow(2, half, half)?)?;
        Ok((layer.mlp_out.forward(&gated)? + x)?)
    }
}

fn load_layer(w: &Weights, p: &str, cfg: &ModernBertConfig, index: usize) -> Result<Layer> {
    let h = cfg.hidden_size;
    let i = cfg.intermediate_size;
    // The first layer's attention norm is an identity in ModernBERT: it has no weights.
    let attn_norm = if w.contains(&format!("{p}.attn_norm.weight")) {
        Some(LayerNorm::load(
            w,
            &format!("{p}.attn_norm"),
            h,
            cfg.norm_eps,
            cfg.norm_bias,
        )?)
    } else if index == 0 {
        None
    } else {
        return Err(Error::Tensor {
            path: w.path().to_path_buf(),
            name: format!("{p}.attn_norm.weight"),
            what: "missing from the checkpoint".into(),
        });
    };
    Ok(Layer {
        attn_norm,
        qkv: Linear::load(w, &format!("{p}.attn.Wqkv"), h, 3 * h, cfg.attention_bias)?,
        attn_out: Linear::load(w, &format!("{p}.attn.Wo"), h, h, cfg.attention_bias)?,
        mlp_norm: LayerNorm::load(w, &format!("{p}.mlp_norm"), h, cfg.norm_eps, cfg.norm_bias)?,
        mlp_in: Linear::load(w, &format!("{p}.mlp.Wi"), h, 2 * i, cfg.mlp_bias)?,
        mlp_out: Linear::load(w, &format!("{p}.mlp.Wo"), i, h, cfg.mlp_bias)?,
        sliding: cfg.is_sliding(index),
    })
}
