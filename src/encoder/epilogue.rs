//! What a packed linear layer does to its outputs while a micro-tile of them is still in
//! cache: add the bias, then apply the activation that follows the layer. These are the
//! operations, in the order, of separate passes over the whole output, so the bits are the
//! same; only the round trips through memory are gone.

use super::kernels::gelu_block;

#[derive(Clone, Copy, Default)]
pub struct Epilogue<'a> {
    pub bias: Option<&'a [f32]>,
    /// Exact (erf) GELU after the bias.
    pub gelu: bool,
}

impl Epilogue<'_> {
    /// Adds the bias to `values`, the outputs of columns `first..first + values.len()` of
    /// one row.
    #[inline(always)]
    pub fn add_bias(&self, values: &mut [f32], first: usize) {
        if let Some(bias) = self.bias {
            for (v, b) in values.iter_mut().zip(&bias[first..]) {
                *v += b;
            }
        }
    }

    /// The activation of a micro-tile of `rows` × `cols` outputs in a matrix whose rows
    /// are `stride` apart (`tile` starts at the tile's first value), after its bias.
    #[inline(always)]
    pub fn activate(&self, tile: &mut [f32], stride: usize, rows: usize, cols: usize) {
        if self.gelu {
            gelu_block(tile, stride, rows, cols);
        }
    }
}
