//! A linear layer's weights packed for a lower compute precision, applied to a candle tensor
//! as a custom op (candle's CPU backend has no bf16 or int8 matrix product of its own).

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

use super::epilogue::Epilogue;
use super::gemm_bf16::{self, Bf16Weights};
use super::gemm_int8::{self, Int8Weights};
use super::precision::Precision;

pub enum PackedWeights {
    Bf16(Bf16Weights),
    Int8(Int8Weights),
}

/// Packed weights and bias; `None` from [`PackedLinear::pack`] means float32 (candle's GEMM).
pub struct PackedLinear {
    weights: PackedWeights,
    bias: Option<Vec<f32>>,
}

impl PackedLinear {
    /// Packs `weight` ([out, in], row-major) for `precision`.
    pub fn pack(
        precision: Precision,
        weight: &[f32],
        out_dim: usize,
        in_dim: usize,
        bias: Option<Vec<f32>>,
    ) -> Option<Arc<Self>> {
        let weights = match precision {
            Precision::Float32 => return None,
            Precision::Bfloat16 => PackedWeights::Bf16(Bf16Weights::pack(weight, out_dim, in_dim)),
            Precision::Int8 => PackedWeights::Int8(Int8Weights::pack(weight, out_dim, in_dim)),
        };
        Some(Arc::new(Self { weights, bias }))
    }

    pub fn out_dim(&self) -> usize {
        match &self.weights {
            PackedWeights::Bf16(w) => w.out_dim(),
            PackedWeights::Int8(w) => w.out_dim(),
        }
    }

    fn in_dim(&self) -> usize {
        match &self.weights {
            PackedWeights::Bf16(w) => w.in_dim(),
            PackedWeights::Int8(w) => w.in_dim(),
        }
    }

    /// [rows, in] values → [rows, out] values, with the fastest kernel this CPU has, and
    /// the exact GELU applied where `gelu`.
    pub fn apply(&self, x: &[f32], gelu: bool) -> Vec<f32> {
        let epilogue = Epilogue {
            bias: self.bias.as_deref(),
            gelu,
        };
        match &self.weights {
            PackedWeights::Bf16(w) => w.matmul(x, epilogue, gemm_bf16::detect()),
            PackedWeights::Int8(w) => w.matmul(x, epilogue, gemm_int8::detect()),
        }
    }
}

/// The candle op: a contiguous [rows, in] f32 tensor → [rows, out], then GELU where `gelu`.
pub struct PackedOp {
    pub linear: Arc<PackedLinear>,
    pub gelu: bool,
}

impl CustomOp1 for PackedOp {
    fn name(&self) -> &'static str {
        "packed-linear"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (start, end) = layout.contiguous_offsets().ok_or_else(|| {
            candle_core::Error::Msg("packed linear: input must be contiguous".into())
        })?;
        let x = &storage.as_slice::<f32>()?[start..end];
        let &[rows, in_dim] = layout.dims() else {
            candle_core::bail!(
                "packed linear: input must be [rows, in], got {:?}",
                layout.dims()
            )
        };
        if in_dim != self.linear.in_dim() {
            candle_core::bail!(
                "packed linear: input has {in_dim} features, expected {}",
                self.linear.in_dim()
            )
        }
        let y = self.linear.apply(x, self.gelu);
        Ok((
            CpuStorage::F32(y),
            Shape::from((rows, self.linear.out_dim())),
        ))
    }
}
