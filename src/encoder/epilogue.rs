//! What a packed linear layer does to its outputs while a micro-tile of them is still in
//! cache: add the bias, then the residual connection that follows the layer, then apply the
//! activation. These are the operations, in the order, of separate passes over the whole
//! output, so the bits are the same as such passes would give; only the round trips through
//! memory are gone.

use super::kernels::tile_gelu_block;

#[derive(Clone, Copy, Default)]
pub struct Epilogue<'a> {
    pub bias: Option<&'a [f32]>,
    /// A matrix of the output's shape added after the bias (a residual connection).
    pub residual: Option<&'a [f32]>,
    /// GELU (erf form) after the sums, to the accuracy the packed precisions need
    /// ([`tile_gelu_block`]).
    pub gelu: bool,
}

impl Epilogue<'_> {
    /// Adds the bias and the residual to `values`, the outputs of columns
    /// `first..first + values.len()` of row `row` of a matrix with `n` columns.
    #[inline(always)]
    pub fn add_terms(&self, values: &mut [f32], row: usize, first: usize, n: usize) {
        if let Some(bias) = self.bias {
            for (v, b) in values.iter_mut().zip(&bias[first..]) {
                *v += b;
            }
        }
        if let Some(residual) = self.residual {
            for (v, r) in values.iter_mut().zip(&residual[row * n + first..]) {
                *v += r;
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

    /// The activation of a micro-tile of `rows` × `cols` outputs in a matrix whose rows
    /// are `stride` apart (`tile` starts at the tile's first value), after its sums.
    #[inline(always)]
    pub fn activate(&self, tile: &mut [f32], stride: usize, rows: usize, cols: usize) {
        if self.gelu {
            tile_gelu_block(tile, stride, rows, cols);
        }
    }

    /// Panics unless the residual, if any, is an [m, n] matrix.
    pub fn check_residual(&self, m: usize, n: usize) {
        if let Some(r) = self.residual {
            assert_eq!(r.len(), m * n, "the residual must be [{m}, {n}]");
        }
    }
}
