//! The two building blocks every encoder architecture shares: a linear map applied to the
//! flattened token matrix (one large GEMM instead of one per sequence) and layer norm.

use std::sync::Arc;

use candle_core::{DType, Tensor};

use super::activation::Activation;
use super::lane_layer_norm::lane_layer_norm;
use super::packed_linear::{PackedLinear, PackedOp};
use super::precision::Precision;
use super::weights::Weights;
use crate::error::Result;

pub struct Linear {
    /// Stored as [in, out], contiguous, so the GEMM reads it row-major without a transpose.
    weight_t: Tensor,
    bias: Option<Tensor>,
    /// The same weights packed for a lower compute precision, which then does the product.
    packed: Option<Arc<PackedLinear>>,
}

impl Linear {
    /// Loads `{name}.weight` of shape [out, in] and, when `bias`, `{name}.bias`.
    pub fn load(
        w: &Weights,
        name: &str,
        in_dim: usize,
        out_dim: usize,
        bias: bool,
    ) -> Result<Self> {
        let weight = w.get(&format!("{name}.weight"), &[out_dim, in_dim])?;
        let bias = if bias {
            Some(w.get(&format!("{name}.bias"), &[out_dim])?)
        } else {
            None
        };
        Self::from_parts(weight, bias)
    }

    /// Stacks several [out_i, in] maps with the same input into one (e.g. Q, K and V).
    pub fn fused(parts: Vec<Linear>) -> Result<Self> {
        let weights: Vec<&Tensor> = parts.iter().map(|p| &p.weight_t).collect();
        let weight_t = Tensor::cat(&weights, 1)?;
        let bias = if parts.iter().all(|p| p.bias.is_some()) {
            let biases: Vec<&Tensor> = parts.iter().filter_map(|p| p.bias.as_ref()).collect();
            Some(Tensor::cat(&biases, 0)?)
        } else {
            None
        };
        Ok(Self {
            weight_t,
            bias,
            packed: None,
        })
    }

    pub fn from_parts(weight: Tensor, bias: Option<Tensor>) -> Result<Self> {
        Ok(Self {
            weight_t: weight.t()?.contiguous()?,
            bias,
            packed: None,
        })
    }

    /// The layer computing at `precision` (its weights packed once, here).
    pub fn at_precision(self, precision: Precision) -> Result<Self> {
        if precision == Precision::Float32 {
            return Ok(self);
        }
        let (in_dim, out_dim) = self.weight_t.dims2()?;
        let weight: Vec<f32> = self.weight_t.t()?.flatten_all()?.to_vec1()?;
        let bias = match &self.bias {
            Some(b) => Some(b.to_vec1::<f32>()?),
            None => None,
        };
        let packed = PackedLinear::pack(precision, &weight, out_dim, in_dim, bias);
        // The float32 copy is no longer read: an empty [0, out] tensor keeps the shape's
        // output size without the memory.
        let empty = Tensor::zeros((0, out_dim), DType::F32, self.weight_t.device())?;
        Ok(Self {
            packed,
            weight_t: empty,
            ..self
        })
    }

    pub fn out_dim(&self) -> usize {
        self.weight_t.dims()[1]
    }

    /// x: [..., in] → [..., out].
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.project(x, None, false)
    }

    /// `act` of [`Linear::forward`]; a packed layer applies GELU tile by tile, as its
    /// outputs are made, to the accuracy of its precision (`kernels::tile_gelu_one`).
    pub fn forward_activated(&self, x: &Tensor, act: Activation) -> Result<Tensor> {
        if self.packed.is_some() && act == Activation::Gelu {
            return self.project(x, None, true);
        }
        act.apply(&self.forward(x)?)
    }

    /// [`Linear::forward`] plus `residual` (of the output's shape). A packed layer adds it
    /// tile by tile, as its outputs are made (the same bits as a separate addition).
    pub fn forward_residual(&self, x: &Tensor, residual: &Tensor) -> Result<Tensor> {
        if self.packed.is_some() {
            return self.project(x, Some(residual), false);
        }
        Ok((self.forward(x)? + residual)?)
    }

    /// The product (and bias); then, which only a packed layer is asked, `residual` added and
    /// GELU where `gelu`.
    fn project(&self, x: &Tensor, residual: Option<&Tensor>, gelu: bool) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let in_dim = *dims.last().expect("linear input has a feature axis");
        let rows = x.elem_count() / in_dim;
        let x = x.reshape((rows, in_dim))?;
        let y = match (&self.packed, &self.bias) {
            (Some(p), _) => {
                let op = PackedOp {
                    linear: p.clone(),
                    gelu,
                };
                let x = x.contiguous()?;
                match residual {
                    Some(r) => {
                        let r = r.reshape((rows, self.out_dim()))?.contiguous()?;
                        x.apply_op2_no_bwd(&r, &op)?
                    }
                    None => x.apply_op1_no_bwd(&op)?,
                }
            }
            (None, Some(b)) => x.matmul(&self.weight_t)?.broadcast_add(b)?,
            (None, None) => x.matmul(&self.weight_t)?,
        };
        let mut out_dims = dims;
        *out_dims.last_mut().expect("non-empty") = self.out_dim();
        Ok(y.reshape(out_dims)?)
    }
}

pub struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
    /// Summed in lanes ([`lane_layer_norm`]), as the lower precisions may be.
    lanes: bool,
}

impl LayerNorm {
    /// Loads `{name}.weight`/`.bias`; older BERT checkpoints call them `gamma`/`beta`.
    /// Without `bias` (ModernBERT) a zero shift is used.
    pub fn load(w: &Weights, name: &str, dim: usize, eps: f64, bias: bool) -> Result<Self> {
        let (wn, bn) =
            if !w.contains(&format!("{name}.weight")) && w.contains(&format!("{name}.gamma")) {
                (format!("{name}.gamma"), format!("{name}.beta"))
            } else {
                (format!("{name}.weight"), format!("{name}.bias"))
            };
        let weight = w.get(&wn, &[dim])?;
        let bias = if bias {
            w.get(&bn, &[dim])?
        } else {
            weight.zeros_like()?
        };
        Ok(Self {
            weight,
            bias,
            eps: eps as f32,
            lanes: false,
        })
    }

    /// The norm of an encoder computing at `precision`: float32 keeps candle's serial sums
    /// and their bits; the lower precisions sum in lanes.
    pub fn at_precision(self, precision: Precision) -> Self {
        Self {
            lanes: precision != Precision::Float32,
            ..self
        }
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.contiguous()?;
        if self.lanes {
            return Ok(lane_layer_norm(&x, &self.weight, &self.bias, self.eps)?);
        }
        Ok(candle_nn::ops::layer_norm(
            &x,
            &self.weight,
            &self.bias,
            self.eps,
        )?)
    }
}
