//! BERT encoder (absolute positions, post-norm), as in transformers' `BertModel`.
//! Covers MiniLM, mdbr-leaf, mxbai-embed-large, e5, gte, bge and arctic-embed checkpoints.

use std::path::Path;

use candle_core::Tensor;
use serde::Deserialize;

use super::activation::Activation;
use super::attention::fused_self_attention;
use super::layers::{LayerNorm, Linear};
use super::precision::Precision;
use super::weights::Weights;
use crate::error::{read_json, Error, Result};

#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
}

fn default_act() -> String {
    "gelu".into()
}
fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}

struct BertLayer {
    qkv: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    up: Linear,
    down: Linear,
    out_norm: LayerNorm,
}

impl BertLayer {
    fn at_precision(self, p: Precision) -> Result<Self> {
        Ok(Self {
            qkv: self.qkv.at_precision(p)?,
            attn_out: self.attn_out.at_precision(p)?,
            up: self.up.at_precision(p)?,
            down: self.down.at_precision(p)?,
            attn_norm: self.attn_norm.at_precision(p),
            out_norm: self.out_norm.at_precision(p),
        })
    }
}

pub struct Bert {
    word: Tensor,
    position: Tensor,
    /// Row 0 of the token-type table: sentence-transformers always feeds type id 0.
    token_type0: Option<Tensor>,
    emb_norm: LayerNorm,
    layers: Vec<BertLayer>,
    heads: usize,
    act: Activation,
    max_positions: usize,
    /// Of the linear layers and attention's products.
    precision: Precision,
}

impl Bert {
    /// Loads the backbone with its linear layers computing at `precision`.
    pub fn load(config_path: &Path, w: &Weights, precision: Precision) -> Result<Self> {
        let cfg: BertConfig = read_json(config_path)?;
        check_config(config_path, &cfg)?;
        let act = Activation::from_hf_name(&cfg.hidden_act).ok_or_else(|| {
            Error::invalid(
                config_path,
                format!(
                    "unsupported hidden_act `{}`; expected gelu, gelu_new, relu or tanh",
                    cfg.hidden_act
                ),
            )
        })?;
        let p = w.find_prefix(
            &["", "bert.", "model."],
            "embeddings.word_embeddings.weight",
        )?;
        let h = cfg.hidden_size;
        let emb = format!("{p}embeddings");
        let token_type0 = match w.get_opt(
            &format!("{emb}.token_type_embeddings.weight"),
            &[cfg.type_vocab_size, h],
        )? {
            Some(t) => Some(t.get(0)?),
            None => None,
        };
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| load_layer(w, &format!("{p}encoder.layer.{i}"), &cfg)?.at_precision(precision))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            word: w.get(
                &format!("{emb}.word_embeddings.weight"),
                &[cfg.vocab_size, h],
            )?,
            position: w.get(
                &format!("{emb}.position_embeddings.weight"),
                &[cfg.max_position_embeddings, h],
            )?,
            token_type0,
            emb_norm: LayerNorm::load(w, &format!("{emb}.LayerNorm"), h, cfg.layer_norm_eps, true)?,
            layers,
            heads: cfg.num_attention_heads,
            act,
            max_positions: cfg.max_position_embeddings,
            precision,
        })
    }

    pub fn max_positions(&self) -> usize {
        self.max_positions
    }

    /// ids: [B, L] u32; key_bias: [B, 1, 1, L] additive (0 for tokens, large negative for
    /// padding). Returns the last hidden state [B, L, H].
    pub fn forward(&self, ids: &Tensor, key_bias: &Tensor) -> Result<Tensor> {
        let (b, l) = ids.dims2()?;
        let h = self.word.dim(1)?;
        let mut x = self
            .word
            .index_select(&ids.flatten_all()?, 0)?
            .reshape((b, l, h))?;
        x = x.broadcast_add(&self.position.narrow(0, 0, l)?)?;
        if let Some(tt) = &self.token_type0 {
            x = x.broadcast_add(tt)?;
        }
        x = self.emb_norm.forward(&x)?;
        for layer in &self.layers {
            x = self.layer_forward(layer, &x, key_bias)?;
        }
        Ok(x)
    }

    fn layer_forward(&self, layer: &BertLayer, x: &Tensor, key_bias: &Tensor) -> Result<Tensor> {
        let qkv = layer.qkv.forward(x)?;
        let ctx = fused_self_attention(&qkv, key_bias, self.heads, self.precision)?;
        let x = layer
            .attn_norm
            .forward(&layer.attn_out.forward_residual(&ctx, x)?)?;
        let hidden = layer.up.forward_activated(&x, self.act)?;
        layer
            .out_norm
            .forward(&layer.down.forward_residual(&hidden, &x)?)
    }
}

fn check_config(path: &Path, cfg: &BertConfig) -> Result<()> {
    if cfg.num_attention_heads == 0 || !cfg.hidden_size.is_multiple_of(cfg.num_attention_heads) {
        return Err(Error::invalid(
            path,
            format!(
                "hidden_size {} is not a multiple of num_attention_heads {}",
                cfg.hidden_size, cfg.num_attention_heads
            ),
        ));
    }
    match cfg.position_embedding_type.as_deref() {
        None | Some("absolute") => Ok(()),
        Some(other) => Err(Error::invalid(
            path,
            format!("position_embedding_type `{other}` is not supported; expected `absolute`"),
        )),
    }
}

fn load_layer(w: &Weights, p: &str, cfg: &BertConfig) -> Result<BertLayer> {
    let h = cfg.hidden_size;
    let proj = |name: &str| Linear::load(w, &format!("{p}.attention.self.{name}"), h, h, true);
    Ok(BertLayer {
        qkv: Linear::fused(vec![proj("query")?, proj("key")?, proj("value")?])?,
        attn_out: Linear::load(w, &format!("{p}.attention.output.dense"), h, h, true)?,
        attn_norm: LayerNorm::load(
            w,
            &format!("{p}.attention.output.LayerNorm"),
            h,
            cfg.layer_norm_eps,
            true,
        )?,
        up: Linear::load(
            w,
            &format!("{p}.intermediate.dense"),
            h,
            cfg.intermediate_size,
            true,
        )?,
        down: Linear::load(
            w,
            &format!("{p}.output.dense"),
            cfg.intermediate_size,
            h,
            true,
        )?,
        out_norm: LayerNorm::load(
            w,
            &format!("{p}.output.LayerNorm"),
            h,
            cfg.layer_norm_eps,
            true,
        )?,
    })
}
