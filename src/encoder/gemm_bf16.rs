//! Linear layers in bfloat16: weights rounded to bf16 once at load, each input row rounded
//! to bf16 per call, products summed in f32 — the arithmetic of `vdpbf16ps` (AVX512_BF16).
//!
//! `vdpbf16ps` adds, into each f32 lane, the two products of a bf16 pair, the odd-indexed one
//! first, each addition rounded to nearest even, bf16 subnormal inputs read as zero. The
//! portable kernel does exactly that, in the same order, so both give the same bits (tested).

use std::mem::MaybeUninit;

use super::epilogue::Epilogue;
use super::panels::{self, par_row_blocks, Kernel, Tile, LANES, TILE_PANELS, TILE_ROWS};

/// The native kernel where this CPU has AVX512_BF16 (`vdpbf16ps`).
pub fn detect() -> Kernel {
    #[cfg(target_arch = "x86_64")]
    return Kernel::native_if(std::arch::is_x86_feature_detected!("avx512bf16"));
    #[cfg(not(target_arch = "x86_64"))]
    Kernel::Portable
}

/// A weight matrix [n, k] in bf16 panels.
pub struct Bf16Weights {
    n: usize,
    k: usize,
    pairs: usize,
    /// A bf16 pair per word, the first value in the low half.
    data: Vec<u32>,
}

/// bf16 bits of `x`, rounded to nearest even (a NaN stays a quiet NaN). Branch-free, so
/// converting a whole input matrix vectorises.
#[inline(always)]
pub fn to_bf16(x: f32) -> u16 {
    let bits = x.to_bits();
    let rounded = (bits.wrapping_add(0x7fff + ((bits >> 16) & 1)) >> 16) as u16;
    if x.is_nan() {
        ((bits >> 16) as u16) | 0x40
    } else {
        rounded
    }
}

/// `row` as bf16 pairs, the first value in the low half of each word (a last odd value
/// is paired with zero).
fn bf16_pairs(row: &[f32], words: &mut [u32], kernel: Kernel) {
    match kernel {
        // SAFETY: `Native` means the CPU has AVX-512 (`detect`).
        #[cfg(target_arch = "x86_64")]
        Kernel::Native => unsafe { native::bf16_pairs(row, words) },
        _ => bf16_pairs_portable(row, words),
    }
}

/// Word j holds `first[j]` in its low half and `second[j]` in its high half, as bf16.
fn pair_up(first: &[f32], second: &[f32], words: &mut [u32], kernel: Kernel) {
    match kernel {
        // SAFETY: as above.
        #[cfg(target_arch = "x86_64")]
        Kernel::Native => unsafe { native::pair_up(first, second, words) },
        _ => pair_up_portable(first, second, words),
    }
}

fn pair_up_portable(first: &[f32], second: &[f32], words: &mut [u32]) {
    for ((w, &a), &b) in words.iter_mut().zip(first).zip(second) {
        *w = to_bf16(a) as u32 | ((to_bf16(b) as u32) << 16);
    }
}

fn bf16_pairs_portable(row: &[f32], words: &mut [u32]) {
    let (pairs, rest) = row.as_chunks::<2>();
    for (w, [lo, hi]) in words.iter_mut().zip(pairs) {
        *w = to_bf16(*lo) as u32 | ((to_bf16(*hi) as u32) << 16);
    }
    if let [last] = rest {
        words[pairs.len()] = to_bf16(*last) as u32;
    }
}

/// The f32 value of bf16 bits, a subnormal read as zero (as `vdpbf16ps` reads it).
#[inline(always)]
fn widen(b: u16) -> f32 {
    let b = if b & 0x7f80 == 0 { b & 0x8000 } else { b };
    f32::from_bits((b as u32) << 16)
}

impl Bf16Weights {
    /// Packs `w` ([n, k], row-major, PyTorch's [out, in]).
    pub fn pack(w: &[f32], n: usize, k: usize) -> Self {
        Self::pack_rows(n, k, |j| &w[j * k..(j + 1) * k])
    }

    /// Packs an [n, k] matrix given row by row (`row(j)`: k values), e.g. attention's keys:
    /// each panel's 16 rows are converted to bf16 pairs, then laid lane by lane.
    pub fn pack_rows<'a>(n: usize, k: usize, row: impl Fn(usize) -> &'a [f32]) -> Self {
        let kernel = detect();
        let mut packed = Self::zeroed(n, k);
        let pairs = packed.pairs;
        let mut words = vec![0u32; LANES * pairs];
        panels::wide(|| {
            for panel in 0..panels::panels(n) {
                let lanes = LANES.min(n - panel * LANES);
                for lane in 0..lanes {
                    let words = &mut words[lane * pairs..][..pairs];
                    bf16_pairs(&row(panel * LANES + lane)[..k], words, kernel);
                }
                let out = &mut packed.data[panel * pairs * LANES..][..pairs * LANES];
                for (p, out) in out.chunks_exact_mut(LANES).enumerate() {
                    for (lane, o) in out.iter_mut().enumerate().take(lanes) {
                        *o = words[lane * pairs + p];
                    }
                }
            }
        });
        packed
    }

    /// Packs an [n, k] matrix given column by column (`column(i)`: n values), e.g. the
    /// transpose of attention's values, whose rows are its columns: each pair of columns
    /// fills 16 lanes of a panel at a time.
    pub fn pack_columns<'a>(n: usize, k: usize, column: impl Fn(usize) -> &'a [f32]) -> Self {
        let kernel = detect();
        let mut packed = Self::zeroed(n, k);
        let pairs = packed.pairs;
        let zeros = vec![0f32; n];
        panels::wide(|| {
            for p in 0..pairs {
                let first = &column(2 * p)[..n];
                let second = if 2 * p + 1 < k {
                    &column(2 * p + 1)[..n]
                } else {
                    &zeros[..]
                };
                for panel in 0..panels::panels(n) {
                    let lanes = LANES.min(n - panel * LANES);
                    let out = &mut packed.data[(panel * pairs + p) * LANES..][..lanes];
                    let cols = panel * LANES..panel * LANES + lanes;
                    pair_up(&first[cols.clone()], &second[cols], out, kernel);
                }
            }
        });
        packed
    }

    /// All-zero panels for an [n, k] matrix (whole panel groups, as [`panels::pack`] makes).
    fn zeroed(n: usize, k: usize) -> Self {
        let pairs = panels::groups(k, 2);
        let total = panels::panels(n).next_multiple_of(TILE_PANELS);
        Self {
            n,
            k,
            pairs,
            data: vec![0; total * pairs * LANES],
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
        let (a, _) =
            panels::interleave_rows(a, m, self.k, 2, |row, words| bf16_pairs(row, words, kernel));
        epilogue.check_residual(m, self.n);
        let block = |first: usize, block: &mut [MaybeUninit<f32>]| {
            let rows = block.len() / self.n;
            let a_block = &a[first * self.pairs..];
            panels::wide(|| {
                for t in panels::tiles(rows, self.n) {
                    let (row, col) = (first + t.row, t.panel * LANES);
                    epilogue.prefetch_residual(row, t.rows, col, t.cols, self.n);
                    self.tile(a_block, block, t, kernel);
                    // The tile's sums, finished while in L1.
                    let tile = &mut block[t.row * self.n + col..];
                    let (rows, cols) = (row..row + t.rows, col..col + t.cols);
                    // SAFETY: the product just wrote the tile.
                    unsafe { epilogue.finish_tile(tile, rows, cols, self.n, kernel) };
                }
            })
        };
        // SAFETY: the tiles cover every value of a block (`panels::tiles`), and the product
        // writes each value of its tile.
        unsafe { par_row_blocks(m, self.n, block) }
    }

    fn tile(&self, a: &[u32], out: &mut [MaybeUninit<f32>], t: Tile, kernel: Kernel) {
        let panel_len = self.pairs * LANES;
        let b = &self.data[t.panel * panel_len..(t.panel + TILE_PANELS) * panel_len];
        let a = &a[t.row * self.pairs..(t.row + TILE_ROWS) * self.pairs];
        let c = &mut out[t.row * self.n + t.panel * LANES..];
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Native => native::tile(a, b, self.pairs, c, self.n, t),
            _ => portable_tile(a, b, self.pairs, c, self.n, t),
        }
    }
}

fn portable_tile(
    a: &[u32],
    b: &[u32],
    pairs: usize,
    c: &mut [MaybeUninit<f32>],
    ldc: usize,
    t: Tile,
) {
    let panel_len = pairs * LANES;
    for r in 0..t.rows {
        for col in 0..t.cols {
            let panel = &b[(col / LANES) * panel_len..];
            let lane = col % LANES;
            let mut acc = 0f32;
            for p in 0..pairs {
                let pair = a[p * TILE_ROWS + r];
                let w = panel[p * LANES + lane];
                acc += widen((pair >> 16) as u16) * widen((w >> 16) as u16);
                acc += widen(pair as u16) * widen(w as u16);
            }
            c[r * ldc + col].write(acc);
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod native {
    use std::arch::x86_64::*;

    use std::mem::MaybeUninit;

    use super::{Tile, LANES, TILE_ROWS};
    use crate::encoder::panels::{lane_mask, micro_kernel, TILE_PANELS};

    /// Runs the micro-kernel on one tile: `a` holds a whole interleaved row group (zero rows
    /// past the matrix), `b` a whole panel group (zero panels past it); only `t.rows` rows of
    /// `t.cols` columns are stored.
    pub fn tile(
        a: &[u32],
        b: &[u32],
        pairs: usize,
        c: &mut [MaybeUninit<f32>],
        ldc: usize,
        t: Tile,
    ) {
        assert!(a.len() >= TILE_ROWS * pairs && b.len() >= TILE_PANELS * pairs * LANES);
        assert!(c.len() >= (t.rows - 1) * ldc + t.cols);
        // SAFETY: the caller checked the CPU (`detect`); the asserts above bound every
        // read and write the kernel makes.
        unsafe {
            kernel(
                a.as_ptr(),
                b.as_ptr(),
                pairs,
                c.as_mut_ptr() as *mut f32,
                ldc,
                t.rows,
                t.cols,
            )
        }
    }

    #[inline(always)]
    unsafe fn load(p: *const u32) -> __m512bh {
        std::ptr::read_unaligned(p as *const __m512bh)
    }

    #[inline(always)]
    unsafe fn splat(p: *const u32) -> __m512bh {
        std::mem::transmute::<__m512i, __m512bh>(_mm512_set1_epi32(*p as i32))
    }

    #[inline(always)]
    unsafe fn dot(c: __m512, x: __m512bh, w: __m512bh) -> __m512 {
        _mm512_dpbf16_ps(c, x, w)
    }

    #[inline(always)]
    unsafe fn store(dst: *mut f32, v: __m512, left: usize) {
        if left >= LANES {
            _mm512_storeu_ps(dst, v);
        } else {
            _mm512_mask_storeu_ps(dst, lane_mask(left), v);
        }
    }

    /// [`super::to_bf16`] of 16 values, each in the low half of its lane: the same integer
    /// rounding, and the same quiet NaN.
    #[inline(always)]
    unsafe fn round16(x: __m512) -> __m512i {
        let bits = _mm512_castps_si512(x);
        let high = _mm512_srli_epi32::<16>(bits);
        let bias = _mm512_add_epi32(
            _mm512_and_si512(high, _mm512_set1_epi32(1)),
            _mm512_set1_epi32(0x7fff),
        );
        let rounded = _mm512_srli_epi32::<16>(_mm512_add_epi32(bits, bias));
        let nan = _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(x, x);
        _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(high, _mm512_set1_epi32(0x40)))
    }

    /// [`super::bf16_pairs_portable`], 16 values (8 words) at a time.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn bf16_pairs(row: &[f32], words: &mut [u32]) {
        let (chunks, rest) = row.as_chunks::<16>();
        assert!(words.len() >= chunks.len() * 8 + rest.len().div_ceil(2));
        for (c, out) in chunks.iter().zip(words.chunks_exact_mut(8)) {
            let halves = _mm512_cvtepi32_epi16(round16(_mm512_loadu_ps(c.as_ptr())));
            _mm256_storeu_si256(out.as_mut_ptr() as *mut __m256i, halves);
        }
        super::bf16_pairs_portable(rest, &mut words[chunks.len() * 8..]);
    }

    /// [`super::pair_up_portable`], 16 words at a time.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn pair_up(first: &[f32], second: &[f32], words: &mut [u32]) {
        let n = words.len().min(first.len()).min(second.len());
        let whole = n - n % LANES;
        for j in (0..whole).step_by(LANES) {
            let low = round16(_mm512_loadu_ps(first.as_ptr().add(j)));
            let high = round16(_mm512_loadu_ps(second.as_ptr().add(j)));
            let w = _mm512_or_si512(low, _mm512_slli_epi32::<16>(high));
            _mm512_storeu_si512(words.as_mut_ptr().add(j) as *mut _, w);
        }
        super::pair_up_portable(&first[whole..n], &second[whole..n], &mut words[whole..n]);
    }

    #[target_feature(enable = "avx512f,avx512bf16")]
    unsafe fn kernel(
        a: *const u32,
        b: *const u32,
        pairs: usize,
        c: *mut f32,
        ldc: usize,
        rows: usize,
        cols: usize,
    ) {
        micro_kernel!(
            a,
            b,
            pairs,
            c,
            ldc,
            rows,
            cols,
            LANES,
            _mm512_setzero_ps(),
            load,
            splat,
            dot,
            store
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Deterministic values of a realistic spread (a linear congruential generator).
    pub fn values(len: usize, seed: u64, scale: f32) -> Vec<f32> {
        let mut s = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (0..len)
            .map(|_| {
                s = s
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((s >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * 2.0 * scale
            })
            .collect()
    }

    fn reference(a: &[f32], w: &[f32], bias: &[f32], m: usize, n: usize, k: usize) -> Vec<f64> {
        let round = |x: f32| half::bf16::from_f32(x).to_f32() as f64;
        let mut out = vec![0f64; m * n];
        for i in 0..m {
            for j in 0..n {
                out[i * n + j] = bias[j] as f64
                    + (0..k)
                        .map(|p| round(a[i * k + p]) * round(w[j * k + p]))
                        .sum::<f64>();
            }
        }
        out
    }

    #[test]
    fn both_kernels_give_the_same_bits_and_the_bf16_product() {
        let native = detect();
        for (m, n, k) in [
            (1, 1, 1),
            (3, 17, 5),
            (9, 50, 64),
            (70, 97, 129),
            (130, 48, 384),
        ] {
            let a = values(m * k, 1 + m as u64, 2.0);
            let w = values(n * k, 7 + n as u64, 0.1);
            let bias = values(n, 3, 0.5);
            let packed = Bf16Weights::pack(&w, n, k);
            let epilogue = Epilogue {
                bias: Some(&bias),
                gelu: false,
                residual: None,
            };
            let port = packed.matmul(&a, epilogue, Kernel::Portable);
            let fast = packed.matmul(&a, epilogue, native);
            assert_eq!(port.len(), m * n);
            for (i, (x, y)) in port.iter().zip(&fast).enumerate() {
                assert_eq!(x.to_bits(), y.to_bits(), "{m}x{n}x{k} at {i}: {x} vs {y}");
            }
            // A fused GELU is GELU of the finished product, bit for bit.
            let fused = packed.matmul(
                &a,
                Epilogue {
                    gelu: true,
                    ..epilogue
                },
                native,
            );
            let mut separate = fast.clone();
            separate
                .iter_mut()
                .for_each(|v| *v = crate::encoder::kernels::tile_gelu_one(*v));
            for (x, y) in fused.iter().zip(&separate) {
                assert_eq!(x.to_bits(), y.to_bits());
            }
            // So is a fused residual the bits of a separate addition.
            let residual = values(m * n, 5, 1.0);
            let with = Epilogue {
                residual: Some(&residual),
                ..epilogue
            };
            for kernel in [Kernel::Portable, native] {
                let fused = packed.matmul(&a, with, kernel);
                for ((x, y), r) in fused.iter().zip(&fast).zip(&residual) {
                    assert_eq!(x.to_bits(), (y + r).to_bits(), "{kernel:?}");
                }
            }
            // Against the exact sum of the bf16-rounded products: only f32 summation error.
            let want = reference(&a, &w, &bias, m, n, k);
            for (x, y) in port.iter().zip(&want) {
                assert!(
                    (*x as f64 - y).abs() < 1e-5 * (k as f64).sqrt(),
                    "{x} vs {y}"
                );
            }
        }
    }

    #[test]
    fn packing_by_rows_or_columns_lays_out_the_panels_of_the_generic_packer() {
        let (n, k) = (37, 9);
        let w = values(n * k, 5, 1.0);
        let w_ref = &w;
        let wt: Vec<f32> = (0..k)
            .flat_map(|i| (0..n).map(move |j| w_ref[j * k + i]))
            .collect();
        let generic: Vec<u32> = panels::pack(&w, n, k, 2, to_bf16)
            .chunks(2)
            .map(|p| p[0] as u32 | ((p[1] as u32) << 16))
            .collect();
        assert_eq!(Bf16Weights::pack(&w, n, k).data, generic);
        let by_columns = Bf16Weights::pack_columns(n, k, |i| &wt[i * n..(i + 1) * n]);
        assert_eq!(by_columns.data, generic);
    }

    #[test]
    fn both_conversions_round_as_to_bf16() {
        let mut x = values(1001, 6, 1.0e3);
        x.extend([f32::NAN, -0.0, 1.0e-39, f32::MAX, f32::INFINITY, -f32::NAN]);
        let (mut native, mut portable) = (vec![0u32; 504], vec![0u32; 504]);
        bf16_pairs(&x, &mut native, detect());
        bf16_pairs_portable(&x, &mut portable);
        assert_eq!(native, portable);
        let (first, second) = x.split_at(503);
        pair_up(first, second, &mut native[..503], detect());
        pair_up_portable(first, second, &mut portable[..503]);
        assert_eq!(native, portable);
    }

    #[test]
    fn rounding_to_bf16_is_to_nearest_even_as_the_half_crate_rounds() {
        for x in values(10_000, 4, 100.0)
            .into_iter()
            .chain([0.0, -0.0, 1.0e-39, f32::MAX])
        {
            assert_eq!(to_bf16(x), half::bf16::from_f32(x).to_bits(), "{x}");
        }
        assert!(half::bf16::from_bits(to_bf16(f32::NAN)).is_nan());
    }

    #[test]
    fn subnormal_bf16_inputs_read_as_zero() {
        assert_eq!(widen(0x0001), 0.0);
        assert_eq!(widen(0x8001).to_bits(), (-0.0f32).to_bits());
        assert_eq!(widen(to_bf16(1.5)), 1.5);
    }
}
