//! A linear layer's weights packed for a lower compute precision, applied to a candle tensor
//! as a custom op (candle's CPU backend has no bf16 or int8 matrix product of its own).

use std::sync::Arc;

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape};

use super::epilogue::Epilogue;
use super::gemm_bf16::{self, Bf16Weights};
use super::gemm_int8::{self, Int8Weights};
use super::kernels::contiguous_f32;
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

    /// [rows, in] values → [rows, out] values, with the fastest kernel this CPU has; then
    /// `residual` ([rows, out]) added where given, and GELU applied where `gelu`.
    pub fn apply(&self, x: &[f32], residual: Option<&[f32]>, gelu: bool) -> Vec<f32> {
        let epilogue = Epilogue {
            bias: self.bias.as_deref(),
            residual,
            gelu,
        };
        match &self.weights {
            PackedWeights::Bf16(w) => w.matmul(x, epilogue, gemm_bf16::detect()),
            PackedWeights::Int8(w) => w.matmul(x, epilogue, gemm_int8::detect()),
        }
    }
}

/// The candle op: a contiguous [rows, in] f32 tensor → [rows, out], then GELU where `gelu`.
/// As a binary op, its second input ([rows, out]) is added before any GELU: the residual
/// connection after the layer, finished with the product.
pub struct PackedOp {
    pub linear: Arc<PackedLinear>,
    pub gelu: bool,
}

impl PackedOp {
    /// The input's values and rows, checked against the layer.
    fn input<'a>(
        &self,
        storage: &'a CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(&'a [f32], usize)> {
        let x = contiguous_f32(storage, layout, "packed linear input")?;
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
        Ok((x, rows))
    }

    fn output(&self, y: Vec<f32>, rows: usize) -> (CpuStorage, Shape) {
        (
            CpuStorage::F32(y),
            Shape::from((rows, self.linear.out_dim())),
        )
    }
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
        let (x, rows) = self.input(storage, layout)?;
        Ok(self.output(self.linear.apply(x, None, self.gelu), rows))
    }
}

impl CustomOp2 for PackedOp {
    fn name(&self) -> &'static str {
        "packed-linear-residual"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, rows) = self.input(storage, layout)?;
        if residual_layout.dims() != [rows, self.linear.out_dim()] {
            candle_core::bail!(
                "packed linear: residual must be [{rows}, {}], got {:?}",
                self.linear.out_dim(),
                residual_layout.dims()
            )
        }
        let residual = contiguous_f32(residual, residual_layout, "packed linear residual")?;
        Ok(self.output(self.linear.apply(x, Some(residual), self.gelu), rows))
    }
}
