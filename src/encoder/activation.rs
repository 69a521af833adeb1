//! Activation functions named the way Hugging Face configs and sentence-transformers
//! Dense configs name them.

use candle_core::Tensor;

use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Tanh,
    Relu,
    /// Exact GELU (erf), transformers' `gelu`.
    Gelu,
    /// Tanh-approximated GELU, transformers' `gelu_new` / `gelu_pytorch_tanh`.
    GeluTanh,
}

impl Activation {
    /// From a transformers `hidden_act` / `hidden_activation` value.
    pub fn from_hf_name(name: &str) -> Option<Self> {
        match name {
            "gelu" => Some(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Some(Self::GeluTanh),
            "relu" => Some(Self::Relu),
            "tanh" => Some(Self::Tanh),
            "linear" | "identity" => Some(Self::Identity),
            _ => None,
        }
    }

    /// From a sentence-transformers Dense `activation_function`, a torch class path such
    /// as `torch.nn.modules.activation.Tanh`.
    pub fn from_torch_path(path: &str) -> Option<Self> {
        match path.rsplit('.').next()? {
            "Identity" => Some(Self::Identity),
            "Tanh" => Some(Self::Tanh),
            "ReLU" => Some(Self::Relu),
            "GELU" => Some(Self::Gelu),
            _ => None,
        }
    }

    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        Ok(match self {
            Self::Identity => x.clone(),
            Self::Tanh => x.tanh()?,
            Self::Relu => x.relu()?,
            Self::Gelu => super::kernels::gelu(x)?,
            Self::GeluTanh => x.gelu()?,
        })
    }
}
