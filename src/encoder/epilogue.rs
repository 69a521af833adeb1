//! What a packed linear layer does to its outputs while a micro-tile of them is still in
//! cache: add the bias, then the residual connection that follows the layer, then apply the
//! activation. These are the operations, in the order, of separate passes over the whole
//! output, so the bits are the same as such passes would give; only the round trips through
//! memory are gone.

use std::mem::MaybeUninit;

use super::kernels::tile_gelu_one;
use super::panels::Kernel;

#[derive(Clone, Copy, Default)]
pub struct Epilogue<'a> {
    pub bias: Option<&'a [f32]>,
    /// A matrix of the output's shape added after the bias (a residual connection).
    pub residual: Option<&'a [f32]>,
    /// GELU (erf form) after the sums, to the accuracy the packed precisions need
    /// (`kernels::tile_gelu_one`).
    pub gelu: bool,
}

impl Epilogue<'_> {
    /// The finished output (i, j) of a matrix with `n` columns, from its sum `y`.
    #[inline(always)]
    pub fn value(&self, y: f32, i: usize, j: usize, n: usize) -> f32 {
        let mut y = y;
        if let Some(bias) = self.bias {
            y += bias[j];
        }
        if let Some(residual) = self.residual {
            y += residual[i * n + j];
        }
        if self.gelu {
            y = tile_gelu_one(y);
        }
        y
    }

    /// Finishes, in place, the micro-tile of outputs (i, j) for i in `rows`, j in `cols`
    /// of a matrix with `n` columns: `tile` holds their sums, from (rows.start, cols.start),
    /// rows `n` apart.
    ///
    /// # Safety
    ///
    /// The product wrote every value of the tile.
    pub unsafe fn finish_tile(
        &self,
        tile: &mut [MaybeUninit<f32>],
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
        n: usize,
        kernel: Kernel,
    ) {
        if self.bias.is_none() && self.residual.is_none() && !self.gelu {
            return;
        }
        match kernel {
            // SAFETY: `Native` means the CPU has AVX-512; the tile was written (the
            // caller's promise).
            #[cfg(target_arch = "x86_64")]
            Kernel::Native => unsafe { native::finish_tile(self, tile, rows, cols, n) },
            _ => {
                for (r, i) in rows.enumerate() {
                    for (c, j) in cols.clone().enumerate() {
                        let v = &mut tile[r * n + c];
                        // SAFETY: the product wrote every value of the tile (the caller's
                        // promise).
                        let y = unsafe { v.assume_init() };
                        v.write(self.value(y, i, j, n));
                    }
                }
            }
        }
    }

    /// Asks the CPU to bring the residual values of a micro-tile (rows `row..row + rows`,
    /// columns `first..first + cols`, `n` columns a row) into cache while the tile's sums
    /// are computed: its rows lie a whole matrix row apart, a stride the hardware prefetcher
    /// does not follow, and waiting for them would cost more than the rest of the epilogue.
    #[inline(always)]
    pub fn prefetch_residual(&self, row: usize, rows: usize, first: usize, cols: usize, n: usize) {
        #[cfg(target_arch = "x86_64")]
        if let (Some(residual), true) = (self.residual, cols > 0) {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            for r in row..row + rows {
                let values = &residual[r * n + first..][..cols];
                // Every 64-byte line the values touch: one per 16 values, and the last one's.
                for i in (0..cols).step_by(16).chain([cols - 1]) {
                    // SAFETY: a prefetch of an address inside `values`; it reads nothing.
                    unsafe { _mm_prefetch::<_MM_HINT_T0>(values.as_ptr().add(i).cast()) };
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (row, rows, first, cols, n);
    }

    /// Panics unless the residual, if any, is an [m, n] matrix.
    pub fn check_residual(&self, m: usize, n: usize) {
        if let Some(r) = self.residual {
            assert_eq!(r.len(), m * n, "the residual must be [{m}, {n}]");
        }
    }
}

/// [`Epilogue::value`] on 16 outputs at a time, operation for operation.
#[cfg(target_arch = "x86_64")]
pub mod native {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    use super::Epilogue;
    use crate::encoder::kernels::tile_gelu16;
    use crate::encoder::panels::lane_mask;

    /// [`Epilogue::value`] of outputs (i, j..j + 16), the lanes outside `mask` zero.
    ///
    /// # Safety
    ///
    /// The CPU has AVX-512F; the bias holds the mask's columns from j, and the residual
    /// those of row i ([`check_bounds`]).
    #[inline(always)]
    pub unsafe fn value16(
        e: &Epilogue,
        y: __m512,
        i: usize,
        j: usize,
        n: usize,
        mask: u16,
    ) -> __m512 {
        let mut y = y;
        if let Some(bias) = e.bias {
            y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, bias.as_ptr().add(j)));
        }
        if let Some(residual) = e.residual {
            let r = _mm512_maskz_loadu_ps(mask, residual.as_ptr().add(i * n + j));
            y = _mm512_add_ps(y, r);
        }
        if e.gelu {
            y = tile_gelu16(y);
        }
        y
    }

    /// Panics unless the epilogue's bias and residual hold every (i, j) of the ranges.
    pub fn check_bounds(
        e: &Epilogue,
        rows: &std::ops::Range<usize>,
        cols: &std::ops::Range<usize>,
        n: usize,
    ) {
        if rows.is_empty() || cols.is_empty() {
            return;
        }
        assert!(e.bias.is_none_or(|b| b.len() >= cols.end));
        assert!(e
            .residual
            .is_none_or(|r| r.len() >= (rows.end - 1) * n + cols.end));
    }

    /// [`Epilogue::finish_tile`]: each row of the tile in vectors of 16, the last masked.
    ///
    /// # Safety
    ///
    /// The CPU has AVX-512F, and the product wrote every value of the tile.
    #[target_feature(enable = "avx512f")]
    pub unsafe fn finish_tile(
        e: &Epilogue,
        tile: &mut [MaybeUninit<f32>],
        rows: std::ops::Range<usize>,
        cols: std::ops::Range<usize>,
        n: usize,
    ) {
        if rows.is_empty() || cols.is_empty() {
            return;
        }
        check_bounds(e, &rows, &cols, n);
        assert!(tile.len() >= (rows.len() - 1) * n + cols.len());
        let out = tile.as_mut_ptr() as *mut f32;
        for (r, i) in rows.enumerate() {
            for c in (0..cols.len()).step_by(16) {
                let m = lane_mask(cols.len() - c);
                let at = out.add(r * n + c);
                let y = value16(e, _mm512_maskz_loadu_ps(m, at), i, cols.start + c, n, m);
                _mm512_mask_storeu_ps(at, m, y);
            }
        }
    }
}
