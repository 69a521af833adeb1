//! Scaled dot-product self-attention.
//!
//! [`fused_self_attention`] reads queries, keys and values in place from the fused
//! [B, L, 3·H] projection and writes each head's context straight into its columns of the
//! [B, L, H] output: no per-head copies of Q, K and V, no transposed copy of the context.
//! At float32 it does the same arithmetic, in the same order, as [`attention`] on split
//! inputs (q scaled before its product, the same GEMM kernels, the same softmax), so both
//! give the same bits. At a lower compute precision its two products run in bfloat16 (f32
//! sums), as the linear layers' bf16 products do; the softmax stays float32.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::epilogue::Epilogue;
use super::gemm_bf16::{self, Bf16Weights};
use super::kernels::{bias_rows, biased_softmax, contiguous_f32, softmax_row};
use super::panels::Kernel;
use super::precision::Precision;
use crate::error::Result;

/// Scaled dot-product attention over [B, heads, L, d] inputs with an additive bias that
/// broadcasts to [B, heads, L, L]; returns [B, L, heads·d].
pub fn attention(q: &Tensor, k: &Tensor, v: &Tensor, bias: &Tensor) -> Result<Tensor> {
    let (b, h, l, d) = q.dims4()?;
    // Scaling q rather than the scores touches L·d instead of L·L values.
    let q = (q * query_scale(d))?;
    let probs = biased_softmax(&q.matmul(&k.t()?)?, bias)?;
    let ctx = probs.matmul(v)?;
    Ok(ctx.transpose(1, 2)?.reshape((b, l, h * d))?)
}

/// Splits a fused [B, L, 3·H] projection into contiguous Q, K, V of shape [B, heads, L, d].
pub fn split_qkv(qkv: &Tensor, heads: usize) -> Result<(Tensor, Tensor, Tensor)> {
    let (b, l, three_h) = qkv.dims3()?;
    let d = three_h / 3 / heads;
    let qkv = qkv.reshape((b, l, 3, heads, d))?.permute((2, 0, 3, 1, 4))?;
    let q = qkv.get(0)?.contiguous()?;
    let k = qkv.get(1)?.contiguous()?;
    let v = qkv.get(2)?.contiguous()?;
    Ok((q, k, v))
}

/// [`attention`] of [`split_qkv`]`(qkv, heads)`, computed from `qkv` in place: [B, L, 3·H]
/// with a bias [B, 1, 1 or L, L] → [B, L, H]. Below float32, the products are bf16.
pub fn fused_self_attention(
    qkv: &Tensor,
    bias: &Tensor,
    heads: usize,
    precision: Precision,
) -> Result<Tensor> {
    let op = FusedAttention { heads, precision };
    Ok(qkv
        .contiguous()?
        .apply_op2_no_bwd(&bias.contiguous()?, &op)?)
}

/// 1/√d, as the f64 that candle's scalar product takes.
fn query_scale(d: usize) -> f64 {
    1.0 / (d as f64).sqrt()
}

struct FusedAttention {
    heads: usize,
    precision: Precision,
}

/// The shapes one call works on.
#[derive(Clone, Copy)]
struct Dims {
    l: usize,
    h: usize,
    d: usize,
    heads: usize,
    /// Bias rows per batch element: 1 (keys only) or L (per query).
    bias_rows: usize,
}

/// Which head of which batch element a task computes.
#[derive(Clone, Copy)]
struct HeadAt {
    dims: Dims,
    batch: usize,
    head: usize,
}

impl HeadAt {
    /// Offset in `qkv` of the head's first query value; keys are `h`, values `2h` further.
    fn base(&self) -> usize {
        let Dims { l, h, d, .. } = self.dims;
        self.batch * l * 3 * h + self.head * d
    }

    /// Offset in the output of the head's first context value.
    fn out(&self) -> usize {
        let Dims { l, h, d, .. } = self.dims;
        self.batch * l * h + self.head * d
    }

    /// The head's queries times 1/√d, [L, d]: candle's `tensor * f64` computes `v * s + 0.0`
    /// in f32.
    fn scaled_queries(&self, qkv: &[f32], q: &mut Vec<f32>) {
        let Dims { l, h, d, .. } = self.dims;
        let scale = query_scale(d) as f32;
        q.clear();
        for i in 0..l {
            q.extend(
                qkv[self.base() + i * 3 * h..][..d]
                    .iter()
                    .map(|&v| v * scale + 0.0),
            );
        }
    }

    /// softmax(scores + bias), row by row.
    fn softmax(&self, scores: &mut [f32], bias: &[f32]) {
        let l = self.dims.l;
        for (i, s) in scores.chunks_mut(l).enumerate() {
            let r = if self.dims.bias_rows == 1 { 0 } else { i };
            softmax_row(s, &bias[r * l..(r + 1) * l]);
        }
    }
}

/// The output's base pointer, shared by the tasks; each writes only its own head's columns.
#[derive(Clone, Copy)]
struct OutPtr(*mut f32);
// SAFETY: tasks write disjoint (batch, head) column blocks of the output.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl CustomOp2 for FusedAttention {
    fn name(&self) -> &'static str {
        "fused-self-attention"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let qkv = contiguous_f32(s1, l1, "attention input")?;
        let bias = contiguous_f32(s2, l2, "attention bias")?;
        let &[b, l, three_h] = l1.dims() else {
            candle_core::bail!("attention input must be [B, L, 3H], got {:?}", l1.dims())
        };
        let h = three_h / 3;
        if three_h % 3 != 0 || self.heads == 0 || h % self.heads != 0 {
            candle_core::bail!(
                "attention input width {three_h} is not 3 × {} heads",
                self.heads
            )
        }
        let bias_rows = bias_rows("attention", l2.dims(), b, l, l)?;
        let dims = Dims {
            l,
            h,
            d: h / self.heads,
            heads: self.heads,
            bias_rows,
        };
        // Not zeroed first: the heads' products write every value, without reading it.
        let mut out = Vec::<f32>::with_capacity(b * l * h);
        let ptr = OutPtr(out.as_mut_ptr());
        let bf16 = (self.precision != Precision::Float32).then(gemm_bf16::detect);
        (0..b * self.heads).into_par_iter().for_each_init(
            || (Vec::new(), Vec::new()),
            |(q, scores), task| {
                let (batch, head) = (task / dims.heads, task % dims.heads);
                let bias = &bias[batch * bias_rows * l..(batch + 1) * bias_rows * l];
                let at = HeadAt { dims, batch, head };
                match bf16 {
                    None => one_head(qkv, bias, at, q, scores, ptr),
                    Some(kernel) => one_head_bf16(qkv, bias, at, q, kernel, ptr),
                }
            },
        );
        // SAFETY: the tasks above, one per (batch, head), wrote each of the batch's L rows in
        // the head's d columns: all B × L × H values.
        unsafe { out.set_len(b * l * h) };
        Ok((CpuStorage::F32(out), Shape::from((b, l, h))))
    }
}

/// One (batch, head) in float32: scores = (q·scale) Kᵀ, softmax(scores + bias) row by row,
/// then context = probs V written into the head's columns of `out`.
fn one_head(
    qkv: &[f32],
    bias: &[f32],
    at: HeadAt,
    q: &mut Vec<f32>,
    scores: &mut Vec<f32>,
    out: OutPtr,
) {
    let Dims { l, h, d, .. } = at.dims;
    let (row, base) = (3 * h, at.base());
    at.scaled_queries(qkv, q);
    scores.resize(l * l, 0.0);
    // SAFETY: every index the products touch is inside `q`, `scores`, the batch's rows of
    // `qkv` (keys at column H, values at 2H of each row) and, for the output, this task's
    // own d columns of the batch's L rows.
    unsafe {
        product(
            (l, l, d),
            (scores.as_mut_ptr(), l),
            (q.as_ptr(), 1, d),
            (qkv[base + h..].as_ptr(), row, 1),
        );
    }
    at.softmax(scores, bias);
    unsafe {
        product(
            (l, d, l),
            (out.0.add(at.out()), h),
            (scores.as_ptr(), 1, l),
            (qkv[base + 2 * h..].as_ptr(), 1, row),
        );
    }
}

/// [`one_head`] with both products in bf16: the keys, then the values transposed, are packed
/// as the "weights" of the bf16 product, whose rows are the queries, then the probabilities.
fn one_head_bf16(
    qkv: &[f32],
    bias: &[f32],
    at: HeadAt,
    q: &mut Vec<f32>,
    kernel: Kernel,
    out: OutPtr,
) {
    let Dims { l, h, d, .. } = at.dims;
    let (row, base) = (3 * h, at.base());
    at.scaled_queries(qkv, q);
    let keys = Bf16Weights::pack_rows(l, d, |i| &qkv[base + h + i * row..][..d]);
    let mut scores = keys.matmul(q, Epilogue::default(), kernel);
    at.softmax(&mut scores, bias);
    let values = Bf16Weights::pack_columns(d, l, |i| &qkv[base + 2 * h + i * row..][..d]);
    let ctx = values.matmul(&scores, Epilogue::default(), kernel);
    for (i, ctx) in ctx.chunks(d).enumerate() {
        // SAFETY: row i of this task's own d columns of the output.
        unsafe {
            std::ptr::copy_nonoverlapping(ctx.as_ptr(), out.0.add(at.out() + i * h), d);
        }
    }
}

/// dst[m, n] (row stride `dst.1`) = lhs[m, k] · rhs[k, n], each operand given as
/// (pointer, column stride, row stride): gemm's kernel, as candle calls it, on one thread.
unsafe fn product(
    (m, n, k): (usize, usize, usize),
    dst: (*mut f32, usize),
    lhs: (*const f32, usize, usize),
    rhs: (*const f32, usize, usize),
) {
    gemm::gemm(
        m,
        n,
        k,
        dst.0,
        1,
        dst.1 as isize,
        false,
        lhs.0,
        lhs.1 as isize,
        lhs.2 as isize,
        rhs.0,
        rhs.1 as isize,
        rhs.2 as isize,
        0.0,
        1.0,
        false,
        false,
        false,
        gemm::Parallelism::None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| {
                ((i as u32).wrapping_mul(2_654_435_761).wrapping_add(seed) % 2000) as f32 / 1000.0
                    - 1.0
            })
            .collect()
    }

    #[test]
    fn fused_attention_gives_the_bits_of_split_attention() {
        let dev = Device::Cpu;
        for (b, l, heads, d, per_query) in [
            (2, 7, 3, 32, false),
            (3, 19, 2, 64, true),
            (1, 1, 1, 8, false),
        ] {
            let h = heads * d;
            let qkv = Tensor::from_vec(values(b * l * 3 * h, 7), (b, l, 3 * h), &dev).unwrap();
            let rows = if per_query { l } else { 1 };
            let mut bias = values(b * rows * l, 3);
            bias[l - 1] = -1e9; // a masked key
            let bias = Tensor::from_vec(bias, (b, 1, rows, l), &dev).unwrap();
            let (q, k, v) = split_qkv(&qkv, heads).unwrap();
            let want: Vec<f32> = attention(&q, &k, &v, &bias)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap();
            let got = fused_self_attention(&qkv, &bias, heads, Precision::Float32).unwrap();
            assert_eq!(got.dims(), &[b, l, h]);
            let got: Vec<f32> = got.flatten_all().unwrap().to_vec1().unwrap();
            for (i, (x, y)) in want.iter().zip(&got).enumerate() {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "b{b} l{l} heads{heads} d{d} at {i}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn bf16_attention_is_float32_attention_to_bf16_rounding() {
        let dev = Device::Cpu;
        let (b, l, heads, d) = (2, 33, 2, 32);
        let h = heads * d;
        let qkv = Tensor::from_vec(values(b * l * 3 * h, 5), (b, l, 3 * h), &dev).unwrap();
        let mut bias = vec![0f32; b * l];
        bias[l + 7] = -1e9; // a masked key of the second text
        let bias = Tensor::from_vec(bias, (b, 1, 1, l), &dev).unwrap();
        let run = |p| -> Vec<f32> {
            let out = fused_self_attention(&qkv, &bias, heads, p).unwrap();
            out.flatten_all().unwrap().to_vec1().unwrap()
        };
        let (exact, bf16) = (run(Precision::Float32), run(Precision::Bfloat16));
        assert_eq!(run(Precision::Int8), bf16, "int8 attention is the bf16 one");
        let worst = exact
            .iter()
            .zip(&bf16)
            .map(|(x, y)| (x - y).abs())
            .fold(0f32, f32::max);
        // Values lie in [-1, 1]; bf16 keeps 8 bits of each operand.
        assert!(worst > 0.0 && worst < 2e-2, "largest difference {worst}");
    }

    #[test]
    fn a_bias_of_the_wrong_shape_is_refused() {
        let dev = Device::Cpu;
        let qkv = Tensor::zeros((2, 4, 12), candle_core::DType::F32, &dev).unwrap();
        let bias = Tensor::zeros((2, 1, 1, 5), candle_core::DType::F32, &dev).unwrap();
        let err = fused_self_attention(&qkv, &bias, 2, Precision::Float32)
            .unwrap_err()
            .to_string();
        assert!(err.contains("attention bias must be"), "{err}");
    }
}
