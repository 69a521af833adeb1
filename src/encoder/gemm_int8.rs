//! Linear layers in int8, the dynamic quantization most CPU ports use: weights quantized once
//! at load, symmetrically per output channel (int8 in [-127, 127]); each input row quantized
//! per call to uint8 with its own scale and zero point; products of the codes summed exactly
//! in int32 (`vpdpbusd`, AVX512_VNNI), then scaled back to f32.
//!
//! With row scale `sa`, zero point `za`, codes `qa`, and channel scale `sw`, codes `qw`:
//! `y = sa · sw · (Σ qa·qw − za · Σ qw) + bias`. Integer sums are exact, and the native
//! quantization and finishing do the portable code's float operations, in its order, 16 lanes
//! at a time, so both kernels give the same bits (tested).

use std::mem::MaybeUninit;

use super::epilogue::Epilogue;
use super::panels::{self, par_row_blocks, Kernel, Tile, LANES, TILE_COLS, TILE_PANELS, TILE_ROWS};

/// The native kernel where this CPU has AVX512_VNNI (`vpdpbusd`).
pub fn detect() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    return Kernel::native_if(std::arch::is_x86_feature_detected!("avx512vnni"));
    #[cfg(not(target_arch = "x86_64"))]
    Kernel::Portable
}

/// A weight matrix [n, k] as int8 panels with one scale per output channel.
pub struct Int8Weights {
    n: usize,
    k: usize,
    quads: usize,
    data: Vec<i8>,
    scales: Vec<f32>,
    /// Σ qw of each channel, for the zero-point correction.
    code_sums: Vec<i32>,
}

/// Input rows as uint8 codes, four to a u32 and interleaved by row group
/// ([`panels::interleave_rows`]), with each row's scale and zero point.
struct QuantizedRows {
    codes: Vec<u32>,
    scales: Vec<f32>,
    zeros: Vec<i32>,
}

impl Int8Weights {
    /// Quantizes and packs `w` ([n, k], row-major, PyTorch's [out, in]).
    pub fn pack(w: &[f32], n: usize, k: usize) -> Self {
        let mut codes = vec![0i8; n * k];
        let mut scales = vec![1f32; n];
        let mut code_sums = vec![0i32; n];
        for c in 0..n {
            let row = &w[c * k..(c + 1) * k];
            let amax = row.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if amax > 0.0 { amax / 127.0 } else { 1.0 };
            for (q, &v) in codes[c * k..(c + 1) * k].iter_mut().zip(row) {
                *q = round_even(v / scale).clamp(-127.0, 127.0) as i8;
            }
            scales[c] = scale;
            code_sums[c] = codes[c * k..(c + 1) * k].iter().map(|&q| q as i32).sum();
        }
        Self {
            n,
            k,
            quads: panels::groups(k, 4),
            data: panels::pack(&codes, n, k, 4, |q| q),
            scales,
            code_sums,
        }
    }

    pub fn out_dim(&self) -> usize {
        self.n
    }

    pub fn in_dim(&self) -> usize {
        self.k
    }

    /// `a` ([m, k]) times the weights transposed, finished by `epilogue`: [m, n].
    pub fn matmul(&self, a: &[f32], epilogue: Epilogue, kernel: Kernel) -> Vec<f32> {
        let m = panels::rows(a.len(), self.k);
        epilogue.check_residual(m, self.n);
        let q = self.quantize_rows(a, m, kernel);
        let block = |first: usize, block: &mut [MaybeUninit<f32>]| {
            let rows = block.len() / self.n;
            let codes = &q.codes[first * self.quads..];
            // One micro-tile's integer sums, finished into `block` while in L1.
            let mut sums = [0i32; TILE_ROWS * TILE_COLS];
            panels::wide(|| {
                for t in panels::tiles(rows, self.n) {
                    let (row, col) = (first + t.row, t.panel * LANES);
                    epilogue.prefetch_residual(row, t.rows, col, t.cols, self.n);
                    self.tile(codes, &mut sums, t, kernel);
                    self.finish(&sums, block, first, t, &q, epilogue, kernel);
                }
            })
        };
        // SAFETY: the tiles cover every value of a block (`panels::tiles`), and `finish`
        // writes each value of its tile.
        unsafe { par_row_blocks(m, self.n, block) }
    }

    /// Writes tile `t`'s outputs into `block` (the output's rows from `first` on): each
    /// integer sum rescaled, then the epilogue.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn finish(
        &self,
        sums: &[i32],
        block: &mut [MaybeUninit<f32>],
        first: usize,
        t: Tile,
        q: &QuantizedRows,
        epilogue: Epilogue,
        kernel: Kernel,
    ) {
        let (col, n) = (t.panel * LANES, self.n);
        let rows = first + t.row..first + t.row + t.rows;
        let f = Finish {
            scales: &self.scales[col..][..t.cols],
            code_sums: &self.code_sums[col..][..t.cols],
            row_scales: &q.scales[rows.clone()],
            zeros: &q.zeros[rows.clone()],
            rows,
            cols: col..col + t.cols,
            n,
            epilogue,
        };
        let out = &mut block[t.row * n + col..];
        match kernel {
            // SAFETY: `Native` means the CPU has AVX-512 (`detect`).
            #[cfg(target_arch = "x86_64")]
            Kernel::Native => unsafe { native::finish(out, sums, &f) },
            _ => finish_portable(out, sums, &f),
        }
    }

    /// Each row to uint8 over its own range (widened to include 0, so that 0 is exact). A
    /// row's range and codes are found in one visit, while the row is in L1.
    fn quantize_rows(&self, a: &[f32], m: usize, kernel: Kernel) -> QuantizedRows {
        let (codes, kept) = panels::interleave_rows(a, m, self.k, 4, |row, words| {
            let (scale, zero) = row_scale(row_range(row, kernel));
            quantize_words(row, 1.0 / scale, zero as f32, words, kernel);
            (scale, zero)
        });
        let (scales, zeros) = kept.into_iter().unzip();
        QuantizedRows {
            codes,
            scales,
            zeros,
        }
    }

    fn tile(&self, codes: &[u32], sums: &mut [i32], t: Tile, kernel: Kernel) {
        let panel_len = self.quads * LANES * 4;
        let b = &self.data[t.panel * panel_len..(t.panel + TILE_PANELS) * panel_len];
        let a = &codes[t.row * self.quads..(t.row + TILE_ROWS) * self.quads];
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Native => native::tile(a, b, self.quads, sums, TILE_COLS, t),
            _ => portable_tile(a, b, self.quads, sums, TILE_COLS, t),
        }
    }
}

/// The least and greatest of a row's values and 0.
fn row_range(row: &[f32], kernel: Kernel) -> (f32, f32) {
    match kernel {
        // SAFETY: `Native` means the CPU has AVX-512 (`detect`).
        #[cfg(target_arch = "x86_64")]
        Kernel::Native => unsafe { native::row_range(row) },
        _ => row
            .iter()
            .fold((0f32, 0f32), |(lo, hi), &v| (lo.min(v), hi.max(v))),
    }
}

/// A row's scale and zero point: its range (which includes 0) over 255 steps.
fn row_scale((lo, hi): (f32, f32)) -> (f32, i32) {
    let scale = if hi > lo { (hi - lo) / 255.0 } else { 1.0 };
    let zero = (-lo / scale).round_ties_even().clamp(0.0, 255.0);
    (scale, zero as i32)
}

/// Rounds to nearest even for |x| ≤ 2²² (here |x| ≤ 255): adding 1.5·2²³ leaves no fraction
/// bits. Inline arithmetic, where `round_ties_even` is a library call on baseline x86-64.
#[inline(always)]
fn round_even(x: f32) -> f32 {
    (x + 12_582_912.0) - 12_582_912.0
}

/// A row's uint8 codes, four to a word, low byte first (the last word zero-padded). The
/// code is `round(v / scale) + zero`, the division done as a product with `inv_scale`.
fn quantize_words(row: &[f32], inv_scale: f32, zero: f32, words: &mut [u32], kernel: Kernel) {
    match kernel {
        // SAFETY: `Native` means the CPU has AVX-512 (`detect`).
        #[cfg(target_arch = "x86_64")]
        Kernel::Native => unsafe { native::quantize_words(row, inv_scale, zero, words) },
        _ => quantize_words_portable(row, inv_scale, zero, words),
    }
}

#[inline(always)]
fn quantize_words_portable(row: &[f32], inv_scale: f32, zero: f32, words: &mut [u32]) {
    let code = |v: f32| (round_even(v * inv_scale) + zero).clamp(0.0, 255.0) as u32;
    let (quads, rest) = row.as_chunks::<4>();
    for (w, q) in words.iter_mut().zip(quads) {
        *w = code(q[0]) | (code(q[1]) << 8) | (code(q[2]) << 16) | (code(q[3]) << 24);
    }
    if !rest.is_empty() {
        words[quads.len()] = rest
            .iter()
            .enumerate()
            .fold(0, |w, (e, &v)| w | (code(v) << (8 * e)));
    }
}

/// What turns a micro-tile's integer sums (rows `TILE_COLS` apart) into outputs: its
/// columns' scales and code sums, its rows' scales and zero points (each slice from the
/// tile's first), then the epilogue of outputs (i, j), i in `rows`, j in `cols`, of a matrix
/// with `n` columns.
struct Finish<'a> {
    scales: &'a [f32],
    code_sums: &'a [i32],
    row_scales: &'a [f32],
    zeros: &'a [i32],
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
    n: usize,
    epilogue: Epilogue<'a>,
}

/// `y = sa · sw · (Σ − za · Σqw)`, then the epilogue, for each value of the tile, written
/// `f.n` apart from `out`.
fn finish_portable(out: &mut [MaybeUninit<f32>], sums: &[i32], f: &Finish) {
    for (r, i) in f.rows.clone().enumerate() {
        for (c, j) in f.cols.clone().enumerate() {
            let exact = sums[r * TILE_COLS + c] - f.zeros[r] * f.code_sums[c];
            let y = exact as f32 * (f.row_scales[r] * f.scales[c]);
            out[r * f.n + c].write(f.epilogue.value(y, i, j, f.n));
        }
    }
}

fn portable_tile(a: &[u32], b: &[i8], quads: usize, c: &mut [i32], ldc: usize, t: Tile) {
    let panel_len = quads * LANES * 4;
    for r in 0..t.rows {
        for col in 0..t.cols {
            let panel = &b[(col / LANES) * panel_len..];
            let lane = col % LANES;
            let mut acc = 0i32;
            for qi in 0..quads {
                let word = a[qi * TILE_ROWS + r];
                let w = &panel[(qi * LANES + lane) * 4..][..4];
                for (e, &wv) in w.iter().enumerate() {
                    acc += ((word >> (8 * e)) & 0xff) as i32 * wv as i32;
                }
            }
            c[r * ldc + col] = acc;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod native {
    use std::arch::x86_64::*;

    use std::mem::MaybeUninit;

    use super::{Finish, Tile, LANES, TILE_COLS, TILE_ROWS};
    use crate::encoder::epilogue;
    use crate::encoder::panels::{lane_mask, micro_kernel, TILE_PANELS};

    /// Runs the micro-kernel on one tile: `a` holds a whole interleaved row group (zero rows
    /// past the matrix), `b` a whole panel group (zero panels past it); only `t.rows` rows of
    /// `t.cols` columns are stored.
    pub fn tile(a: &[u32], b: &[i8], quads: usize, c: &mut [i32], ldc: usize, t: Tile) {
        assert!(a.len() >= TILE_ROWS * quads && b.len() >= TILE_PANELS * quads * LANES * 4);
        assert!(c.len() >= (t.rows - 1) * ldc + t.cols);
        // SAFETY: the caller checked the CPU (`detect`); the asserts above bound every
        // read and write the kernel makes.
        unsafe {
            kernel(
                a.as_ptr(),
                b.as_ptr(),
                quads,
                c.as_mut_ptr(),
                ldc,
                t.rows,
                t.cols,
            )
        }
    }

    #[inline(always)]
    unsafe fn load(p: *const i8) -> __m512i {
        _mm512_loadu_si512(p as *const _)
    }

    #[inline(always)]
    unsafe fn splat(p: *const u32) -> __m512i {
        _mm512_set1_epi32(*p as i32)
    }

    #[inline(always)]
    unsafe fn dot(c: __m512i, x: __m512i, w: __m512i) -> __m512i {
        _mm512_dpbusd_epi32(c, x, w)
    }

    #[inline(always)]
    unsafe fn store(dst: *mut i32, v: __m512i, left: usize) {
        if left >= LANES {
            _mm512_storeu_si512(dst as *mut _, v);
        } else {
            _mm512_mask_storeu_epi32(dst, lane_mask(left), v);
        }
    }

    /// [`super::row_range`] on 16 lanes; min and max are exact, so the order does not matter.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn row_range(row: &[f32]) -> (f32, f32) {
        let (chunks, rest) = row.as_chunks::<16>();
        let (mut lo, mut hi) = (_mm512_setzero_ps(), _mm512_setzero_ps());
        for c in chunks {
            let v = _mm512_loadu_ps(c.as_ptr());
            lo = _mm512_min_ps(lo, v);
            hi = _mm512_max_ps(hi, v);
        }
        rest.iter().fold(
            (_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi)),
            |(lo, hi), &v| (lo.min(v), hi.max(v)),
        )
    }

    /// [`super::quantize_words_portable`] 16 values at a time: the same product, rounding
    /// to nearest even, shift and clamp, then the 16 codes narrowed to 4 words.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn quantize_words(row: &[f32], inv_scale: f32, zero: f32, words: &mut [u32]) {
        let (chunks, rest) = row.as_chunks::<16>();
        assert!(words.len() >= chunks.len() * 4 + rest.len().div_ceil(4));
        let (inv, shift) = (_mm512_set1_ps(inv_scale), _mm512_set1_ps(zero));
        let (low, high) = (_mm512_setzero_ps(), _mm512_set1_ps(255.0));
        for (c, out) in chunks.iter().zip(words.chunks_exact_mut(4)) {
            let x = _mm512_mul_ps(_mm512_loadu_ps(c.as_ptr()), inv);
            let x = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(x);
            let x = _mm512_min_ps(_mm512_max_ps(_mm512_add_ps(x, shift), low), high);
            let codes = _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(x));
            _mm_storeu_si128(out.as_mut_ptr() as *mut __m128i, codes);
        }
        super::quantize_words_portable(rest, inv_scale, zero, &mut words[chunks.len() * 4..]);
    }

    /// [`super::finish_portable`]'s arithmetic on 16 lanes at a time, the last ones masked:
    /// integer correction, conversion, product with the combined scale, then the epilogue.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn finish(out: &mut [MaybeUninit<f32>], sums: &[i32], f: &Finish) {
        let (rows, cols) = (f.rows.len(), f.cols.len());
        if rows == 0 || cols == 0 {
            return;
        }
        assert!(out.len() >= (rows - 1) * f.n + cols);
        assert!(sums.len() >= (rows - 1) * TILE_COLS + cols);
        assert!(f.scales.len() >= cols && f.code_sums.len() >= cols);
        assert!(f.row_scales.len() >= rows && f.zeros.len() >= rows);
        epilogue::native::check_bounds(&f.epilogue, &f.rows, &f.cols, f.n);
        let out = out.as_mut_ptr() as *mut f32;
        for c in (0..cols).step_by(LANES) {
            let mask = lane_mask(cols - c);
            let code_sums = _mm512_maskz_loadu_epi32(mask, f.code_sums.as_ptr().add(c));
            let w = _mm512_maskz_loadu_ps(mask, f.scales.as_ptr().add(c));
            for (r, i) in f.rows.clone().enumerate() {
                let s = _mm512_maskz_loadu_epi32(mask, sums.as_ptr().add(r * TILE_COLS + c));
                let za = _mm512_set1_epi32(f.zeros[r]);
                let exact = _mm512_sub_epi32(s, _mm512_mullo_epi32(za, code_sums));
                let scale = _mm512_mul_ps(_mm512_set1_ps(f.row_scales[r]), w);
                let y = _mm512_mul_ps(_mm512_cvtepi32_ps(exact), scale);
                let j = f.cols.start + c;
                let y = epilogue::native::value16(&f.epilogue, y, i, j, f.n, mask);
                _mm512_mask_storeu_ps(out.add(r * f.n + c), mask, y);
            }
        }
    }

    #[target_feature(enable = "avx512f,avx512vnni")]
    unsafe fn kernel(
        a: *const u32,
        b: *const i8,
        quads: usize,
        c: *mut i32,
        ldc: usize,
        rows: usize,
        cols: usize,
    ) {
        micro_kernel!(
            a,
            b,
            quads,
            c,
            ldc,
            rows,
            cols,
            LANES * 4,
            _mm512_setzero_si512(),
            load,
            splat,
            dot,
            store
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoder::gemm_bf16::tests::values;

    #[test]
    fn both_kernels_give_the_same_bits() {
        let native = detect();
        for (m, n, k) in [
            (1, 1, 1),
            (3, 17, 5),
            (9, 50, 64),
            (70, 97, 130),
            (130, 48, 384),
        ] {
            let a = values(m * k, 11 + m as u64, 3.0);
            let w = values(n * k, 5 + n as u64, 0.1);
            let bias = values(n, 9, 0.5);
            let packed = Int8Weights::pack(&w, n, k);
            let residual = values(m * n, 4, 1.0);
            for (gelu, residual) in [(false, None), (true, None), (false, Some(&residual[..]))] {
                let epilogue = Epilogue {
                    bias: Some(&bias),
                    residual,
                    gelu,
                };
                let port = packed.matmul(&a, epilogue, Kernel::Portable);
                let fast = packed.matmul(&a, epilogue, native);
                for (i, (x, y)) in port.iter().zip(&fast).enumerate() {
                    assert_eq!(x.to_bits(), y.to_bits(), "{m}x{n}x{k} at {i}: {x} vs {y}");
                }
            }
            // The residual added with the product gives the bits of a separate addition.
            let plain = Epilogue {
                bias: Some(&bias),
                ..Epilogue::default()
            };
            let with = Epilogue {
                residual: Some(&residual),
                ..plain
            };
            let fused = packed.matmul(&a, with, native);
            let separate = packed.matmul(&a, plain, native);
            for ((f, s), r) in fused.iter().zip(&separate).zip(&residual) {
                assert_eq!(f.to_bits(), (s + r).to_bits());
            }
            // And a fused GELU gives the bits of the tile GELU after the product.
            let gelu = Epilogue {
                gelu: true,
                ..plain
            };
            let fused = packed.matmul(&a, gelu, native);
            let mut separate = separate;
            separate
                .iter_mut()
                .for_each(|v| *v = crate::encoder::kernels::tile_gelu_one(*v));
            for (f, s) in fused.iter().zip(&separate) {
                assert_eq!(f.to_bits(), s.to_bits());
            }
        }
    }

    #[test]
    fn the_product_is_within_the_quantization_error() {
        let (m, n, k) = (20, 40, 256);
        let a = values(m * k, 1, 1.0);
        let w = values(n * k, 2, 0.05);
        let got = Int8Weights::pack(&w, n, k).matmul(&a, Epilogue::default(), Kernel::Portable);
        let mut worst = 0f64;
        let mut scale = 0f64;
        for i in 0..m {
            for j in 0..n {
                let exact: f64 = (0..k)
                    .map(|p| a[i * k + p] as f64 * w[j * k + p] as f64)
                    .sum();
                worst = worst.max((got[i * n + j] as f64 - exact).abs());
                scale = scale.max(exact.abs());
            }
        }
        // Half a step of each factor, over k products of uncorrelated errors.
        assert!(worst < 0.02 * scale, "worst error {worst} at scale {scale}");
    }

    #[test]
    fn a_row_quantizes_with_an_exact_zero_and_its_extremes_at_the_ends() {
        // 37 values: two whole 16-lane chunks and a tail of 5, for the native kernel.
        let mut row = values(37, 8, 0.9);
        (row[3], row[20], row[36]) = (-1.0, 3.0, 0.0);
        for kernel in [Kernel::Portable, detect()] {
            let (scale, zero) = row_scale(row_range(&row, kernel));
            assert_eq!(scale, 4.0 / 255.0);
            let mut codes = [0u32; 10];
            quantize_words(&row, 1.0 / scale, zero as f32, &mut codes, kernel);
            let code = |i: usize| (codes[i / 4] >> (8 * (i % 4))) & 0xff;
            assert_eq!(code(36) as i32, zero, "{kernel:?}");
            assert_eq!((code(3), code(20)), (0, 255), "{kernel:?}");
            let mut portable = [0u32; 10];
            quantize_words_portable(&row, 1.0 / scale, zero as f32, &mut portable);
            assert_eq!(codes, portable, "{kernel:?}");
        }
        // A constant row: scale 1, nothing divides by zero.
        assert_eq!(row_scale(row_range(&[0.0; 3], Kernel::Portable)), (1.0, 0));
    }
}
