//! Element-wise kernels the encoder spends most of its non-GEMM time in, written so the
//! compiler vectorises them: GELU (erf form) and softmax with an additive attention bias.
//! Generic scalar code calls libm per element, which costs as much as the matrix products.
//!
//! Accuracy: `exp` is within ~2 ulp over the range that matters; the erfc approximation has
//! relative error below 1.2e-7 everywhere (a Chebyshev fit of erfc(z)·exp(z²)), so results
//! agree with PyTorch's to float32 rounding noise.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

/// Rows handed to one rayon task: large enough to amortise scheduling.
const ROWS_PER_TASK: usize = 64;

#[inline(always)]
fn exp_approx(x: f32) -> f32 {
    // exp(x) = 2^n · exp(r) with n = round(x / ln 2), |r| ≤ ln2 / 2.
    let below = x < -87.0;
    let x = x.clamp(-87.0, 88.0);
    // Round to nearest by adding and removing 1.5·2^23: plain SSE2, unlike `round()`.
    let n = (x * std::f32::consts::LOG2_E + 12_582_912.0) - 12_582_912.0;
    // ln 2 split in a high part exact in f32 and a low correction.
    let r = x - n * 0.693_145_75 - n * 1.428_606_8e-6;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    let scale = f32::from_bits((((n as i32) + 127) as u32) << 23);
    // Selected, not branched, so the loop still vectorises.
    if below {
        0.0
    } else {
        p * scale
    }
}

/// erfc(x) for any x, from exp(-z²)·t·P(t) with t = 1 / (1 + z/2), z = |x|.
#[inline(always)]
fn erfc_approx(x: f32) -> f32 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -1.265_512_2
        + t * (1.000_023_7
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_204
                                + t * (1.488_515_9 + t * (-0.822_152_2 + t * 0.170_872_77))))))));
    let tail = t * exp_approx(-z * z + poly);
    if x >= 0.0 {
        tail
    } else {
        2.0 - tail
    }
}

#[inline(always)]
fn gelu_one(x: f32) -> f32 {
    // GELU(x) = x·Φ(x) = x/2 · erfc(-x/√2).
    0.5 * x * erfc_approx(-x * std::f32::consts::FRAC_1_SQRT_2)
}

#[inline(always)]
fn gelu_slice_generic(src: &[f32], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = gelu_one(s);
    }
}

/// 0.5 · erfc(z) ≈ t·Q(t)·exp(−z²) for z ≥ 0, t = 1 / (1 + p·z): Abramowitz & Stegun's
/// formula 7.1.26 (absolute error ≤ 1.5e-7 in erfc), its coefficients halved.
const TILE_ERFC_P: f32 = 0.327_591_1;
const TILE_ERFC_HALF_Q: [f32; 5] = [
    0.127_414_8,
    -0.142_248_36,
    0.710_706_9,
    -0.726_576_03,
    0.530_702_7,
];
/// exp's Taylor terms to degree 7, for |r| ≤ ln 2 / 2. The tile GELU stops at degree 6
/// (`TILE_EXP`), whose relative error there is ≤ 1.2e-7.
const EXP_TAYLOR: [f32; 8] = [
    1.0,
    1.0,
    0.5,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
];
const TILE_EXP: &[f32] = EXP_TAYLOR.split_at(7).0;

/// `c[0] + r·(c[1] + r·(…))` with fused multiply-adds, innermost coefficient last.
#[inline(always)]
fn horner_fused(r: f32, outer_first: &[f32]) -> f32 {
    let (last, rest) = outer_first.split_last().expect("coefficients");
    rest.iter().rev().fold(*last, |acc, &c| acc.mul_add(r, c))
}

/// GELU for the micro-tiles of layers that compute in bfloat16 or int8. Their products
/// carry relative errors near 1e-3 (bf16) and 1e-2 (int8), so an erf good to 1e-7 is
/// exact for them, and costs half of [`gelu_one`]'s float32-faithful one: a five-term
/// formula, a shorter exp, fused multiply-adds.
#[inline(always)]
pub(super) fn tile_gelu_one(x: f32) -> f32 {
    let z = x.abs() * std::f32::consts::FRAC_1_SQRT_2;
    let t = 1.0 / TILE_ERFC_P.mul_add(z, 1.0);
    let zz = z * z;
    // exp(−z²) = 2^n · exp(r); below −87 it is 0 (so GELU is 0 for x < −13).
    let w = (-zz).max(-87.0);
    let n = w.mul_add(std::f32::consts::LOG2_E, 12_582_912.0) - 12_582_912.0;
    let r = n.mul_add(-1.428_606_8e-6, n.mul_add(-0.693_145_75, w));
    let scale = f32::from_bits((((n as i32) + 127) as u32) << 23);
    let e = if zz > 87.0 {
        0.0
    } else {
        horner_fused(r, TILE_EXP) * scale
    };
    // Half of erfc(|x|/√2): Φ(x) for x < 0, 1 − Φ(x) for x ≥ 0.
    let half_erfc = t * horner_fused(t, &TILE_ERFC_HALF_Q) * e;
    let phi = if x >= 0.0 { 1.0 - half_erfc } else { half_erfc };
    x * phi
}

/// Softmax of `row + bias` in place. Sums run in 16 lanes so they vectorise without
/// reassociation licence; the result differs from a serial sum only by rounding.
#[inline(always)]
fn softmax_row_generic(row: &mut [f32], bias: &[f32]) {
    let mut max = f32::NEG_INFINITY;
    for (v, &b) in row.iter_mut().zip(bias) {
        *v += b;
        max = if *v > max { *v } else { max };
    }
    let mut lanes = [0.0f32; 16];
    let mut chunks = row.chunks_exact_mut(16);
    for chunk in &mut chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk.iter_mut()) {
            *v = exp_approx(*v - max);
            *lane += *v;
        }
    }
    let mut sum: f32 = 0.0;
    for v in chunks.into_remainder() {
        *v = exp_approx(*v - max);
        sum += *v;
    }
    sum += lanes.iter().sum::<f32>();
    let inv = 1.0 / sum;
    for v in row.iter_mut() {
        *v *= inv;
    }
}

/// Defines `$name`, which runs `$avx512` where the CPU has AVX-512 and otherwise `$generic`,
/// compiled for AVX2 + FMA where present. The AVX-512 versions are written with intrinsics
/// (the compiler leaves these loops scalar) and do the same operations in the same order, so
/// every path gives the same bits.
macro_rules! dispatch_by_cpu {
    ($vis:vis $name:ident, $avx512:path, $generic:ident, ($($arg:ident: $ty:ty),*)) => {
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx2,fma")]
                unsafe fn narrow($($arg: $ty),*) { $generic($($arg),*) }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU was just checked to have the enabled features.
                    return unsafe { $avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: as above.
                    return unsafe { narrow($($arg),*) };
                }
            }
            $generic($($arg),*)
        }
    };
}
pub(super) use dispatch_by_cpu;

dispatch_by_cpu!(gelu_slice, avx512::gelu_slice, gelu_slice_generic, (src: &[f32], dst: &mut [f32]));
dispatch_by_cpu!(pub(super) softmax_row, avx512::softmax_row, softmax_row_generic, (row: &mut [f32], bias: &[f32]));

#[cfg(target_arch = "x86_64")]
pub(super) use avx512::tile_gelu16;

/// `exp_approx`, `erfc_approx`, GELU and softmax on 16 lanes, operation for operation.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{exp_approx, gelu_one, EXP_TAYLOR, TILE_ERFC_HALF_Q, TILE_ERFC_P, TILE_EXP};

    #[inline(always)]
    unsafe fn splat(x: f32) -> __m512 {
        _mm512_set1_ps(x)
    }

    /// `c[0] + r·(c[1] + r·(…))`, innermost coefficient last, as the scalar code nests it.
    #[inline(always)]
    unsafe fn horner(r: __m512, outer_first: &[f32]) -> __m512 {
        let (last, rest) = outer_first.split_last().expect("coefficients");
        let mut acc = splat(*last);
        for &c in rest.iter().rev() {
            acc = _mm512_add_ps(splat(c), _mm512_mul_ps(r, acc));
        }
        acc
    }

    #[inline(always)]
    unsafe fn exp(x: __m512) -> __m512 {
        let below = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, splat(-87.0));
        let x = _mm512_min_ps(_mm512_max_ps(x, splat(-87.0)), splat(88.0));
        let magic = splat(12_582_912.0);
        let n = _mm512_sub_ps(
            _mm512_add_ps(_mm512_mul_ps(x, splat(std::f32::consts::LOG2_E)), magic),
            magic,
        );
        let r = _mm512_sub_ps(
            _mm512_sub_ps(x, _mm512_mul_ps(n, splat(0.693_145_75))),
            _mm512_mul_ps(n, splat(1.428_606_8e-6)),
        );
        let p = horner(r, &EXP_TAYLOR);
        let bits = _mm512_slli_epi32::<23>(_mm512_add_epi32(
            _mm512_cvttps_epi32(n),
            _mm512_set1_epi32(127),
        ));
        _mm512_maskz_mul_ps(!below, p, _mm512_castsi512_ps(bits))
    }

    #[inline(always)]
    unsafe fn erfc(x: __m512) -> __m512 {
        let z = _mm512_abs_ps(x);
        let t = _mm512_div_ps(
            splat(1.0),
            _mm512_add_ps(splat(1.0), _mm512_mul_ps(splat(0.5), z)),
        );
        let poly = horner(
            t,
            &[
                -1.265_512_2,
                1.000_023_7,
                0.374_091_96,
                0.096_784_18,
                -0.186_288_06,
                0.278_868_07,
                -1.135_204,
                1.488_515_9,
                -0.822_152_2,
                0.170_872_77,
            ],
        );
        let tail = _mm512_mul_ps(t, exp(_mm512_sub_ps(poly, _mm512_mul_ps(z, z))));
        let negative = _mm512_cmp_ps_mask::<_CMP_LT_OQ>(x, splat(0.0));
        _mm512_mask_sub_ps(tail, negative, splat(2.0), tail)
    }

    /// `gelu_one` on 16 lanes: x/2 · erfc(−x/√2).
    #[inline(always)]
    unsafe fn gelu16(x: __m512) -> __m512 {
        let e = erfc(_mm512_mul_ps(x, splat(-std::f32::consts::FRAC_1_SQRT_2)));
        _mm512_mul_ps(_mm512_mul_ps(splat(0.5), x), e)
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn gelu_slice(src: &[f32], dst: &mut [f32]) {
        let n = src.len().min(dst.len());
        let gelu = |i: usize| gelu16(_mm512_loadu_ps(src.as_ptr().add(i)));
        let mut i = 0;
        // Four vectors per step: each is a long chain of dependent operations, and four
        // independent chains keep the CPU's vector units busy.
        while i + 64 <= n {
            let (a, b, c, d) = (gelu(i), gelu(i + 16), gelu(i + 32), gelu(i + 48));
            for (k, v) in [a, b, c, d].into_iter().enumerate() {
                _mm512_storeu_ps(dst.as_mut_ptr().add(i + 16 * k), v);
            }
            i += 64;
        }
        while i + 16 <= n {
            _mm512_storeu_ps(dst.as_mut_ptr().add(i), gelu(i));
            i += 16;
        }
        for j in i..n {
            dst[j] = gelu_one(src[j]);
        }
    }

    /// [`super::horner_fused`] on 16 lanes.
    #[inline(always)]
    unsafe fn horner_fused(r: __m512, outer_first: &[f32]) -> __m512 {
        let (last, rest) = outer_first.split_last().expect("coefficients");
        let mut acc = splat(*last);
        for &c in rest.iter().rev() {
            acc = _mm512_fmadd_ps(acc, r, splat(c));
        }
        acc
    }

    /// [`super::tile_gelu_one`] on 16 lanes, operation for operation (for code compiled
    /// with AVX-512F).
    #[inline(always)]
    pub unsafe fn tile_gelu16(x: __m512) -> __m512 {
        let one = splat(1.0);
        let z = _mm512_mul_ps(_mm512_abs_ps(x), splat(std::f32::consts::FRAC_1_SQRT_2));
        let t = _mm512_div_ps(one, _mm512_fmadd_ps(splat(TILE_ERFC_P), z, one));
        let zz = _mm512_mul_ps(z, z);
        let w = _mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), zz), splat(-87.0));
        let magic = splat(12_582_912.0);
        let n = _mm512_sub_ps(
            _mm512_fmadd_ps(w, splat(std::f32::consts::LOG2_E), magic),
            magic,
        );
        let r = _mm512_fmadd_ps(
            n,
            splat(-1.428_606_8e-6),
            _mm512_fmadd_ps(n, splat(-0.693_145_75), w),
        );
        let bits = _mm512_slli_epi32::<23>(_mm512_add_epi32(
            _mm512_cvttps_epi32(n),
            _mm512_set1_epi32(127),
        ));
        let below = _mm512_cmp_ps_mask::<_CMP_GT_OQ>(zz, splat(87.0));
        let e = _mm512_maskz_mul_ps(!below, horner_fused(r, TILE_EXP), _mm512_castsi512_ps(bits));
        let half_erfc = _mm512_mul_ps(_mm512_mul_ps(t, horner_fused(t, &TILE_ERFC_HALF_Q)), e);
        let positive = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x, _mm512_setzero_ps());
        _mm512_mul_ps(x, _mm512_mask_sub_ps(half_erfc, positive, one, half_erfc))
    }

    #[target_feature(enable = "avx512f")]
    pub unsafe fn softmax_row(row: &mut [f32], bias: &[f32]) {
        let n = row.len().min(bias.len());
        let whole = n - n % 16;
        let p = row.as_mut_ptr();
        let mut max = f32::NEG_INFINITY;
        let mut vmax = splat(f32::NEG_INFINITY);
        for i in (0..whole).step_by(16) {
            let v = _mm512_add_ps(
                _mm512_loadu_ps(p.add(i)),
                _mm512_loadu_ps(bias.as_ptr().add(i)),
            );
            _mm512_storeu_ps(p.add(i), v);
            vmax = _mm512_max_ps(vmax, v);
        }
        for i in whole..n {
            row[i] += bias[i];
            max = if row[i] > max { row[i] } else { max };
        }
        let vm = _mm512_reduce_max_ps(vmax);
        max = if vm > max { vm } else { max };
        let m = splat(max);
        let mut lanes = _mm512_setzero_ps();
        for i in (0..whole).step_by(16) {
            let v = exp(_mm512_sub_ps(_mm512_loadu_ps(p.add(i)), m));
            _mm512_storeu_ps(p.add(i), v);
            lanes = _mm512_add_ps(lanes, v);
        }
        let mut sum: f32 = 0.0;
        for v in &mut row[whole..n] {
            *v = exp_approx(*v - max);
            sum += *v;
        }
        let mut lane_values = [0f32; 16];
        _mm512_storeu_ps(lane_values.as_mut_ptr(), lanes);
        sum += lane_values.iter().sum::<f32>();
        let inv = splat(1.0 / sum);
        for i in (0..whole).step_by(16) {
            _mm512_storeu_ps(p.add(i), _mm512_mul_ps(_mm512_loadu_ps(p.add(i)), inv));
        }
        let inv = 1.0 / sum;
        for v in &mut row[whole..n] {
            *v *= inv;
        }
    }
}

pub(super) fn contiguous_f32<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
    what: &str,
) -> Result<&'a [f32]> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg(format!("{what}: input must be contiguous")))?;
    Ok(&storage.as_slice::<f32>()?[start..end])
}

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu-erf-fast"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let src = contiguous_f32(storage, layout, "gelu")?;
        let mut dst = vec![0f32; src.len()];
        let chunk = layout.dims().last().copied().unwrap_or(1).max(1) * ROWS_PER_TASK;
        dst.par_chunks_mut(chunk)
            .zip(src.par_chunks(chunk))
            .for_each(|(d, s)| gelu_slice(s, d));
        Ok((CpuStorage::F32(dst), layout.shape().clone()))
    }
}

/// Softmax over the last axis of scores [B, H, Lq, Lk] after adding a bias [B, 1, 1|Lq, Lk].
struct BiasedSoftmax;

impl CustomOp2 for BiasedSoftmax {
    fn name(&self) -> &'static str {
        "biased-softmax"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let scores = contiguous_f32(s1, l1, "softmax scores")?;
        let bias = contiguous_f32(s2, l2, "softmax bias")?;
        let &[b, h, lq, lk] = l1.dims() else {
            candle_core::bail!("softmax scores must be [B, H, Lq, Lk], got {:?}", l1.dims())
        };
        let bias_rows = bias_rows("softmax", l2.dims(), b, lq, lk)?;
        let mut out = scores.to_vec();
        out.par_chunks_mut(lk * ROWS_PER_TASK)
            .enumerate()
            .for_each(|(task, rows)| {
                for (k, row) in rows.chunks_mut(lk).enumerate() {
                    let r = task * ROWS_PER_TASK + k;
                    let (batch, query) = (r / (h * lq), r % lq);
                    let bias_row = batch * bias_rows + if bias_rows == 1 { 0 } else { query };
                    softmax_row(row, &bias[bias_row * lk..(bias_row + 1) * lk]);
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// The rows per batch element of an attention bias [B, 1, 1 or Lq, Lk]: 1 (keys only) or Lq
/// (per query); `what` names the op in the error.
pub(super) fn bias_rows(
    what: &str,
    dims: &[usize],
    b: usize,
    lq: usize,
    lk: usize,
) -> Result<usize> {
    match *dims {
        [bb, 1, rows, bk] if bb == b && bk == lk && (rows == 1 || rows == lq) => Ok(rows),
        _ => candle_core::bail!("{what} bias must be [{b}, 1, 1 or {lq}, {lk}], got {dims:?}"),
    }
}

pub fn gelu(x: &Tensor) -> crate::error::Result<Tensor> {
    Ok(x.contiguous()?.apply_op1_no_bwd(&Gelu)?)
}

/// softmax(scores + bias) over the last axis; `bias` broadcasts over heads (and queries).
pub fn biased_softmax(scores: &Tensor, bias: &Tensor) -> crate::error::Result<Tensor> {
    Ok(scores
        .contiguous()?
        .apply_op2_no_bwd(&bias.contiguous()?, &BiasedSoftmax)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn erf_reference(x: f64) -> f64 {
        // Maclaurin series, converges for the |x| ≤ 3 tested here; f64 keeps it exact enough.
        let mut sum = 0.0;
        let mut term = x;
        for n in 0..200 {
            sum += term / (2 * n + 1) as f64;
            term *= -x * x / (n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn exp_is_accurate_and_underflows_to_zero() {
        for i in -800..=800 {
            let x = i as f32 * 0.1;
            let rel = ((exp_approx(x) as f64 - (x as f64).exp()) / (x as f64).exp()).abs();
            assert!(rel < 5e-7, "exp({x}) relative error {rel}");
        }
        assert_eq!(exp_approx(-1.0e30), 0.0);
    }

    /// Panics unless `gelu(x)` is within `tolerance(x)` of x·Φ(x) for x = ±0.002·`steps`.
    fn assert_near_erf_gelu(
        name: &str,
        gelu: fn(f32) -> f32,
        steps: i32,
        tolerance: fn(f64) -> f64,
    ) {
        for i in -steps..=steps {
            let x = i as f64 * 0.002;
            let want = 0.5 * x * (1.0 + erf_reference(x / std::f64::consts::SQRT_2));
            let got = gelu(x as f32) as f64;
            assert!(
                (got - want).abs() <= tolerance(x),
                "{name}({x}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn gelu_matches_the_erf_definition() {
        // Within float32 rounding of the input's scale, which is what the next layer sees.
        assert_near_erf_gelu("gelu", gelu_one, 3000, |x| 5e-7 * x.abs().max(1e-2));
        assert_eq!(gelu_one(-20.0), 0.0);
        assert!((gelu_one(20.0) - 20.0).abs() < 1e-5);
    }

    #[test]
    fn the_tile_gelu_is_the_erf_gelu_to_a_few_parts_in_ten_million() {
        // 7.5e-8 of Φ from the erfc formula, float32 rounding of x and of the result.
        assert_near_erf_gelu("tile gelu", tile_gelu_one, 2100, |x| 2.5e-7 * x.abs());
        assert_eq!(tile_gelu_one(-14.0), 0.0);
        assert_eq!(tile_gelu_one(20.0), 20.0);
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_avx512_kernels_give_the_scalar_kernels_bits() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        let xs: Vec<f32> = (-40_000..40_000)
            .map(|i| i as f32 * 3.1e-4)
            .chain([-1.0e30, -90.0, -20.0, -0.0, 0.0, 1.0e-40, 20.0, 1.0e30])
            .collect();
        let (mut a, mut b) = (vec![0f32; xs.len()], vec![0f32; xs.len()]);
        gelu_slice_generic(&xs, &mut a);
        // SAFETY: checked above.
        unsafe { avx512::gelu_slice(&xs, &mut b) };
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert_eq!(x.to_bits(), y.to_bits(), "gelu({}): {x} vs {y}", xs[i]);
        }
        // The tile GELU, 16 values at a time: both signs, 0, and past exp's cut-off.
        let mut xs = xs;
        xs[..8].copy_from_slice(&[-1.0e30, -90.0, -13.5, -0.0, 0.0, 1.0e-40, 20.0, 1.0e30]);
        for chunk in xs.as_chunks::<16>().0 {
            let mut got = [0f32; 16];
            // SAFETY: checked above.
            unsafe {
                let y = tile_gelu16(std::arch::x86_64::_mm512_loadu_ps(chunk.as_ptr()));
                std::arch::x86_64::_mm512_storeu_ps(got.as_mut_ptr(), y);
            }
            for (x, y) in chunk.iter().zip(got) {
                assert_eq!(tile_gelu_one(*x).to_bits(), y.to_bits(), "tile gelu({x})");
            }
        }
        for len in [1usize, 5, 16, 17, 40, 256, 301] {
            let row: Vec<f32> = (0..len)
                .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.7)
                .collect();
            let bias: Vec<f32> = (0..len)
                .map(|i| if i % 7 == 3 { -1.0e30 } else { 0.0 })
                .collect();
            let (mut a, mut b) = (row.clone(), row);
            softmax_row_generic(&mut a, &bias);
            // SAFETY: checked above.
            unsafe { avx512::softmax_row(&mut b, &bias) };
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(
                    x.to_bits(),
                    y.to_bits(),
                    "softmax of length {len}: {x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn softmax_adds_the_bias_and_sums_to_one() {
        let mut row = [1.0f32, 2.0, 3.0, 4.0];
        softmax_row(&mut row, &[0.0, 0.0, 0.0, -1.0e30]);
        let e: Vec<f64> = [1.0f64, 2.0, 3.0].iter().map(|v| v.exp()).collect();
        let s: f64 = e.iter().sum();
        for (k, v) in row.iter().enumerate().take(3) {
            assert!((*v as f64 - e[k] / s).abs() < 1e-7);
        }
        assert_eq!(row[3], 0.0);
    }
}
