//! Layer normalisation for the encoders that compute in bfloat16 or int8, with its sums in
//! 16 lanes. candle's layer norm sums each row serially, a chain of dependent additions that
//! costs as much as the rest of the norm; float32 keeps it, for its bits. The lower
//! precisions need no such bits, so their rows are summed 16 values at a time, and the
//! variance from the mean (two passes over a row that sits in L1).
//!
//! Both kernels sum in the same order — lane `i` takes values `i, i + 16, …`; the values
//! past the last whole 16 are summed apart; then the tail plus the lanes in order — and do the
//! same operations after, so they give the same bits (tested).

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::kernels::{contiguous_f32, dispatch_by_cpu};

/// Rows handed to one rayon task.
const ROWS_PER_TASK: usize = 16;

/// The tail's sum plus the 16 lane sums, in lane order.
#[inline(always)]
fn total(tail: f32, lanes: &[f32; 16]) -> f32 {
    tail + lanes.iter().sum::<f32>()
}

/// Σ f(v) over `values`, in the lane order of the module's note.
#[inline(always)]
fn lane_sum(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let (chunks, rest) = values.as_chunks::<16>();
    let mut lanes = [0f32; 16];
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += f(v);
        }
    }
    total(rest.iter().fold(0.0, |s, &v| s + f(v)), &lanes)
}

/// A row's mean and 1 / √(variance + eps).
#[inline(always)]
fn moments(src: &[f32], eps: f32) -> (f32, f32) {
    let n = src.len() as f32;
    let mean = lane_sum(src, |v| v) / n;
    let var = lane_sum(src, |v| (v - mean) * (v - mean)) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// `(x − mean) · inv_std · alpha + beta` of one row into `dst`.
#[inline(always)]
fn norm_row_generic(
    src: &[f32],
    dst: &mut [MaybeUninit<f32>],
    alpha: &[f32],
    beta: &[f32],
    eps: f32,
) {
    let (mean, inv_std) = moments(src, eps);
    for (((d, &s), &a), &b) in dst.iter_mut().zip(src).zip(alpha).zip(beta) {
        d.write((s - mean) * inv_std * a + b);
    }
}

dispatch_by_cpu!(norm_row, avx512::norm_row, norm_row_generic, (src: &[f32], dst: &mut [MaybeUninit<f32>], alpha: &[f32], beta: &[f32], eps: f32));

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    use super::total;
    use crate::encoder::panels::lane_mask;

    /// [`super::lane_sum`] with the lanes in a register.
    #[inline(always)]
    unsafe fn lane_sum(
        values: &[f32],
        f: impl Fn(__m512) -> __m512,
        g: impl Fn(f32) -> f32,
    ) -> f32 {
        let (chunks, rest) = values.as_chunks::<16>();
        let mut acc = _mm512_setzero_ps();
        for chunk in chunks {
            acc = _mm512_add_ps(acc, f(_mm512_loadu_ps(chunk.as_ptr())));
        }
        let mut lanes = [0f32; 16];
        _mm512_storeu_ps(lanes.as_mut_ptr(), acc);
        total(rest.iter().fold(0.0, |s, &v| s + g(v)), &lanes)
    }

    /// [`super::norm_row_generic`] on 16 lanes, operation for operation.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn norm_row(
        src: &[f32],
        dst: &mut [MaybeUninit<f32>],
        alpha: &[f32],
        beta: &[f32],
        eps: f32,
    ) {
        let k = src.len();
        assert!(dst.len() >= k && alpha.len() >= k && beta.len() >= k);
        let n = k as f32;
        let mean = lane_sum(src, |v| v, |v| v) / n;
        let m = _mm512_set1_ps(mean);
        let var = lane_sum(
            src,
            |v| {
                let d = _mm512_sub_ps(v, m);
                _mm512_mul_ps(d, d)
            },
            |v| (v - mean) * (v - mean),
        ) / n;
        let inv_std = 1.0 / (var + eps).sqrt();
        let s = _mm512_set1_ps(inv_std);
        let out = dst.as_mut_ptr() as *mut f32;
        for i in (0..k).step_by(16) {
            let mask = lane_mask(k - i);
            let x = _mm512_maskz_loadu_ps(mask, src.as_ptr().add(i));
            let a = _mm512_maskz_loadu_ps(mask, alpha.as_ptr().add(i));
            let b = _mm512_maskz_loadu_ps(mask, beta.as_ptr().add(i));
            let y = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(x, m), s), a), b);
            _mm512_mask_storeu_ps(out.add(i), mask, y);
        }
    }
}

/// The candle op: layer norm over the last axis of x, with weight `alpha` and bias `beta`.
struct LaneLayerNorm {
    eps: f32,
}

impl CustomOp3 for LaneLayerNorm {
    fn name(&self) -> &'static str {
        "lane-layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = contiguous_f32(s1, l1, "layer norm")?;
        let alpha = contiguous_f32(s2, l2, "layer norm weight")?;
        let beta = contiguous_f32(s3, l3, "layer norm bias")?;
        let k = l1.dims().last().copied().unwrap_or(0);
        if k == 0 || alpha.len() != k || beta.len() != k {
            candle_core::bail!(
                "layer norm of {:?} needs a weight and bias of {k}, got {} and {}",
                l1.dims(),
                alpha.len(),
                beta.len()
            )
        }
        // Not zeroed first: every value is written by its row's norm.
        let mut out = Vec::with_capacity(x.len());
        out.spare_capacity_mut()[..x.len()]
            .par_chunks_mut(k * ROWS_PER_TASK)
            .zip(x.par_chunks(k * ROWS_PER_TASK))
            .for_each(|(dst, src)| {
                for (d, s) in dst.chunks_mut(k).zip(src.chunks(k)) {
                    norm_row(s, d, alpha, beta, self.eps);
                }
            });
        // SAFETY: the rows above cover all `x.len()` values, and each row's norm writes
        // every value of it.
        unsafe { out.set_len(x.len()) };
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// Layer norm of `x` over its last axis, summed in lanes (see the module's note).
pub fn lane_layer_norm(x: &Tensor, alpha: &Tensor, beta: &Tensor, eps: f32) -> Result<Tensor> {
    x.contiguous()?
        .apply_op3_no_bwd(alpha, beta, &LaneLayerNorm { eps })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(src: &[f32], alpha: &[f32], beta: &[f32], native: bool) -> Vec<f32> {
        let mut out = vec![MaybeUninit::new(f32::NAN); src.len()];
        if native {
            norm_row(src, &mut out, alpha, beta, 1e-12);
        } else {
            norm_row_generic(src, &mut out, alpha, beta, 1e-12);
        }
        // SAFETY: every value was initialised above.
        out.into_iter()
            .map(|v| unsafe { v.assume_init() })
            .collect()
    }

    #[test]
    fn both_kernels_give_the_same_bits_and_the_layer_norm() {
        for k in [1usize, 15, 16, 37, 384, 1024] {
            let src: Vec<f32> = (0..k)
                .map(|i| ((i * 37 % 101) as f32 - 40.0) * 0.31)
                .collect();
            let alpha: Vec<f32> = (0..k).map(|i| 1.0 + (i % 7) as f32 * 0.1).collect();
            let beta: Vec<f32> = (0..k).map(|i| (i % 5) as f32 * 0.01).collect();
            let (generic, fast) = (
                norm(&src, &alpha, &beta, false),
                norm(&src, &alpha, &beta, true),
            );
            let mean = src.iter().map(|&v| v as f64).sum::<f64>() / k as f64;
            let var = src.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / k as f64;
            for i in 0..k {
                assert_eq!(generic[i].to_bits(), fast[i].to_bits(), "k {k} at {i}");
                let want = (src[i] as f64 - mean) / (var + 1e-12).sqrt() * alpha[i] as f64
                    + beta[i] as f64;
                assert!((generic[i] as f64 - want).abs() < 1e-5, "k {k} at {i}");
            }
        }
    }

    #[test]
    fn the_op_normalises_every_row_and_checks_its_weights() {
        let x = Tensor::new(
            &[[1f32, 2.0, 3.0, 6.0], [0.0, 0.0, 0.0, 4.0]],
            &candle_core::Device::Cpu,
        )
        .unwrap();
        let (a, b) = (
            x.get(0).unwrap().ones_like().unwrap(),
            x.get(0).unwrap().zeros_like().unwrap(),
        );
        let got = lane_layer_norm(&x, &a, &b, 1e-12).unwrap();
        let want = candle_nn::ops::layer_norm(&x, &a, &b, 1e-12).unwrap();
        let diff = (got - want).unwrap().abs().unwrap().max_all().unwrap();
        assert!(diff.to_scalar::<f32>().unwrap() < 1e-6);
        let short = Tensor::new(&[1f32, 1.0], &candle_core::Device::Cpu).unwrap();
        assert!(lane_layer_norm(&x, &short, &short, 1e-12).is_err());
    }
}
