//! Dense: a linear projection of the sentence embedding plus an activation, as
//! sentence-transformers' Dense module stores it (`config.json` + `model.safetensors`).

use std::path::Path;

use candle_core::{Device, Tensor};
use serde::Deserialize;

use super::activation::Activation;
use super::layers::Linear;
use super::weights::Weights;
use crate::error::{read_json, Error, Result};

#[derive(Debug, Deserialize)]
struct DenseConfig {
    in_features: usize,
    out_features: usize,
    #[serde(default = "yes")]
    bias: bool,
    /// A torch class path; sentence-transformers defaults to Tanh when it is absent.
    #[serde(default = "default_activation")]
    activation_function: String,
}

fn yes() -> bool {
    true
}
fn default_activation() -> String {
    "torch.nn.modules.activation.Tanh".into()
}

pub struct Dense {
    linear: Linear,
    activation: Activation,
    in_dim: usize,
}

impl Dense {
    pub fn load(dir: &Path, device: &Device) -> Result<Self> {
        let config_path = dir.join("config.json");
        let cfg: DenseConfig = read_json(&config_path)?;
        let activation = Activation::from_torch_path(&cfg.activation_function).ok_or_else(|| {
            Error::invalid(
                &config_path,
                format!(
                    "unsupported activation_function `{}`; expected torch.nn Identity, Tanh, ReLU or GELU",
                    cfg.activation_function
                ),
            )
        })?;
        let weights = Weights::open(&dir.join("model.safetensors"), device)?;
        let linear = Linear::load(
            &weights,
            "linear",
            cfg.in_features,
            cfg.out_features,
            cfg.bias,
        )?;
        Ok(Self {
            linear,
            activation,
            in_dim: cfg.in_features,
        })
    }

    pub fn in_dim(&self) -> usize {
        self.in_dim
    }

    pub fn out_dim(&self) -> usize {
        self.linear.out_dim()
    }

    /// x: [B, in] → [B, out].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.activation.apply(&self.linear.forward(x)?)
    }
}
