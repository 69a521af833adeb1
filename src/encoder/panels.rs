//! The weight layout and work split shared by the bfloat16 and int8 matrix products.
//!
//! A weight matrix [out, in] is packed once, at load, into panels of 16 output columns: for
//! each group of `G` consecutive inputs (2 for a bf16 pair, 4 for an int8 quad), the 16
//! columns' `G` values lie side by side, 64 bytes in all, which is exactly one AVX-512
//! register of `vdpbf16ps` / `vpdpbusd` operands. Missing columns and inputs are zero, so the
//! kernels never test bounds inside the inner loop.
//!
//! The output is computed in blocks of `BLOCK_ROWS` rows, one rayon task each; inside a block,
//! micro-tiles of up to `TILE_ROWS` rows × `TILE_PANELS` panels keep their sums in registers
//! while one panel group (read once from cache per block) is swept over the block's rows.

use std::mem::MaybeUninit;

use rayon::prelude::*;

/// Which implementation runs a product's inner loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kernel {
    /// AVX-512 with the product's dot-product extension.
    Native,
    /// Plain Rust, any CPU.
    Portable,
}

impl Kernel {
    /// The native kernel where this CPU has AVX-512F and `extension` (checked by the caller
    /// with `is_x86_feature_detected!`, which needs a literal name).
    pub fn native_if(extension: bool) -> Kernel {
        #[cfg(target_arch = "x86_64")]
        if extension && std::arch::is_x86_feature_detected!("avx512f") {
            return Kernel::Native;
        }
        let _ = extension;
        Kernel::Portable
    }
}

/// Rows of an [m, k] input of `len` values.
pub fn rows(len: usize, k: usize) -> usize {
    assert_eq!(len % k.max(1), 0, "input rows have {k} values");
    len.checked_div(k).unwrap_or(0)
}

/// Output columns per panel: one 512-bit register of f32 or i32 sums.
pub const LANES: usize = 16;
/// The lane mask of the `left` values from a vector's first lane on: all 16 lanes where
/// `left` ≥ 16, else the first `left` (a row's last, partial vector).
#[inline(always)]
pub fn lane_mask(left: usize) -> u16 {
    if left >= LANES {
        !0
    } else {
        ((1u32 << left) - 1) as u16
    }
}
/// Rows of a micro-tile: 8 rows × 3 panels is 24 sum registers, plus 3 for the weights and
/// one for the broadcast input, of the 32 there are.
pub const TILE_ROWS: usize = 8;
pub const TILE_PANELS: usize = 3;
/// Columns of a micro-tile.
pub const TILE_COLS: usize = TILE_PANELS * LANES;
/// Rows per rayon task: enough to reuse each panel group, few enough to balance two cores on
/// a short batch.
pub const BLOCK_ROWS: usize = 64;

/// Where one micro-tile lies: rows `row..row + rows` of the block, panels
/// `panel..panel + panels`, of which `cols` columns are real (the last panel may be partial).
#[derive(Clone, Copy, Debug)]
pub struct Tile {
    pub row: usize,
    pub rows: usize,
    pub panel: usize,
    pub panels: usize,
    pub cols: usize,
}

/// The micro-kernel: sums of 8 interleaved input rows × 3 weight panels over every input
/// group, kept in 24 named registers (arrays of vectors end up on the stack), then the
/// `rows` × `cols` real ones stored. `$zero`, `$load` (a weight panel's group), `$splat` (one
/// row's input word to every lane), `$dot` and `$store` (a full or masked row of 16) are the
/// element type's instructions; `$step` is the weight elements per group and panel.
macro_rules! micro_kernel {
    ($a:ident, $b:ident, $groups:expr, $c:ident, $ldc:expr, $rows:expr, $cols:expr,
     $step:expr, $zero:expr, $load:ident, $splat:ident, $dot:ident, $store:ident) => {{
        let panel_len = $groups * $step;
        let (mut a, mut b) = ($a, $b);
        micro_kernel!(@sums a, b, $groups, panel_len, $step, $zero, $load, $splat, $dot,
            sums: [(0, c00, c01, c02), (1, c10, c11, c12), (2, c20, c21, c22), (3, c30, c31, c32),
                   (4, c40, c41, c42), (5, c50, c51, c52), (6, c60, c61, c62), (7, c70, c71, c72)],
            then: |acc| {
                for (r, row) in acc.iter().enumerate().take($rows) {
                    for (q, v) in row.iter().enumerate() {
                        let first = q * $crate::encoder::panels::LANES;
                        if first >= $cols {
                            break;
                        }
                        $store($c.add(r * $ldc + first), *v, $cols - first);
                    }
                }
            })
    }};
    (@sums $a:ident, $b:ident, $groups:expr, $panel_len:ident, $step:expr, $zero:expr,
     $load:ident, $splat:ident, $dot:ident,
     sums: [$(($r:literal, $c0:ident, $c1:ident, $c2:ident)),*], then: |$acc:ident| $then:block) => {{
        $(let (mut $c0, mut $c1, mut $c2) = ($zero, $zero, $zero);)*
        for _ in 0..$groups {
            let w0 = $load($b);
            let w1 = $load($b.add($panel_len));
            let w2 = $load($b.add(2 * $panel_len));
            $(
                let x = $splat($a.add($r));
                $c0 = $dot($c0, x, w0);
                $c1 = $dot($c1, x, w1);
                $c2 = $dot($c2, x, w2);
            )*
            $a = $a.add($crate::encoder::panels::TILE_ROWS);
            $b = $b.add($step);
        }
        let $acc = [$([$c0, $c1, $c2]),*];
        $then
    }};
}
pub(crate) use micro_kernel;

/// Number of `group`-sized input groups covering `k` inputs.
pub fn groups(k: usize, group: usize) -> usize {
    k.div_ceil(group)
}

/// Number of panels covering `n` output columns.
pub fn panels(n: usize) -> usize {
    n.div_ceil(LANES)
}

/// Packs `w` ([n, k], row-major) into panels; `convert` maps each value to the stored type.
pub fn pack<S: Copy, T: Copy + Default>(
    w: &[S],
    n: usize,
    k: usize,
    group: usize,
    convert: impl Fn(S) -> T,
) -> Vec<T> {
    assert_eq!(w.len(), n * k, "weight matrix is {n} x {k}");
    let g = groups(k, group);
    // Whole panel groups, so every micro-tile reads `TILE_PANELS` panels; the extra ones are
    // zero and their columns are never stored.
    let total = panels(n).next_multiple_of(TILE_PANELS);
    let mut out = vec![T::default(); total * g * LANES * group];
    for col in 0..n {
        let (panel, lane) = (col / LANES, col % LANES);
        for (gi, values) in w[col * k..(col + 1) * k].chunks(group).enumerate() {
            let at = ((panel * g + gi) * LANES + lane) * group;
            for (o, &v) in out[at..at + values.len()].iter_mut().zip(values) {
                *o = convert(v);
            }
        }
    }
    out
}

/// Input rows [m, k] in groups of `TILE_ROWS` rows, each group's words interleaved (word `g`
/// of rows 0‥7, then word `g + 1` …), so a micro-kernel reads its rows' next words from one
/// advancing pointer. `words(values, out)` writes one row's `groups(k, group)` words and
/// returns what the caller keeps of the row (int8: its scale and zero point), collected in
/// row order. The last group is padded with zero words.
pub fn interleave_rows<T: Send>(
    a: &[f32],
    m: usize,
    k: usize,
    group: usize,
    words: impl Fn(&[f32], &mut [u32]) -> T + Sync,
) -> (Vec<u32>, Vec<T>) {
    let g = groups(k, group);
    let mut out = vec![0u32; m.div_ceil(TILE_ROWS) * TILE_ROWS * g];
    let kept: Vec<Vec<T>> = out
        .par_chunks_mut((TILE_ROWS * g).max(1))
        .enumerate()
        .map(|(rg, block)| {
            let mut row_words = vec![0u32; g];
            let rows = TILE_ROWS.min(m.saturating_sub(rg * TILE_ROWS));
            (0..rows)
                .map(|r| {
                    let i = rg * TILE_ROWS + r;
                    let kept = wide(|| words(&a[i * k..(i + 1) * k], &mut row_words));
                    for (gi, &w) in row_words.iter().enumerate() {
                        block[gi * TILE_ROWS + r] = w;
                    }
                    kept
                })
                .collect()
        })
        .collect();
    (out, kept.into_iter().flatten().collect())
}

/// Runs `f` compiled for AVX-512 where the CPU has it, so that its plain loops (conversions,
/// quantization, rescaling) vectorise at full width; the results are the same bits, since
/// each element sees the same IEEE operations.
#[inline(always)]
pub fn wide<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f,avx512bw,avx512dq,avx512vl")]
        unsafe fn run<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512dq")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            // SAFETY: the CPU was just checked to have the enabled features.
            return unsafe { run(f) };
        }
    }
    f()
}

/// An [m, n] output made by `block(first_row, rows)` over blocks of `BLOCK_ROWS` rows, in
/// parallel. It is not zeroed first: the products write each value once, by the tile that
/// covers it ([`tiles`]).
///
/// # Safety
///
/// `block` must write every value of the rows it is given.
pub unsafe fn par_row_blocks(
    m: usize,
    n: usize,
    block: impl Fn(usize, &mut [MaybeUninit<f32>]) + Sync,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(m * n);
    if n > 0 {
        out.spare_capacity_mut()[..m * n]
            .par_chunks_mut(BLOCK_ROWS * n)
            .enumerate()
            .for_each(|(b, rows)| block(b * BLOCK_ROWS, rows));
    }
    // SAFETY: every block wrote all its values (the caller's promise), and the blocks cover
    // the m × n values.
    unsafe { out.set_len(m * n) };
    out
}

/// The micro-tiles of a block of `rows` rows and `n` columns, panel groups outermost so that
/// each group's weights are swept over every row of the block while they are in cache.
pub fn tiles(rows: usize, n: usize) -> impl Iterator<Item = Tile> {
    let total = panels(n);
    (0..total).step_by(TILE_PANELS).flat_map(move |panel| {
        let panels = TILE_PANELS.min(total - panel);
        let cols = (n - panel * LANES).min(panels * LANES);
        (0..rows).step_by(TILE_ROWS).map(move |row| Tile {
            row,
            rows: TILE_ROWS.min(rows - row),
            panel,
            panels,
            cols,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_places_each_value_by_panel_group_lane_and_element() {
        // 17 columns (two panels, the second with one real column), 3 inputs (two pairs).
        let (n, k) = (17, 3);
        let w: Vec<u32> = (0..(n * k) as u32).collect();
        let p = pack(&w, n, k, 2, |v| v + 1);
        assert_eq!(p.len(), TILE_PANELS * 2 * LANES * 2); // padded to a whole panel group
                                                          // Column 5, input 2 → panel 0, pair 1, lane 5, element 0.
        assert_eq!(p[((2 * 0 + 1) * LANES + 5) * 2], 5 * 3 + 2 + 1);
        // The padding input of that pair is zero.
        assert_eq!(p[((2 * 0 + 1) * LANES + 5) * 2 + 1], 0);
        // Column 16 → panel 1, lane 0; columns past it are zero.
        assert_eq!(p[((2 * 1) * LANES) * 2 + 1], 16 * 3 + 1 + 1);
        assert_eq!(p[((2 * 1) * LANES + 1) * 2], 0);
    }

    #[test]
    fn rows_interleave_by_tile_row_group() {
        // 9 rows of 3 values: two row groups of 2 words each.
        let a: Vec<f32> = (0..27).map(|v| v as f32).collect();
        let (w, kept) = interleave_rows(&a, 9, 3, 2, |v, out| {
            for (o, pair) in out.iter_mut().zip(v.chunks(2)) {
                *o = 1000 + pair[0] as u32;
            }
            v[2]
        });
        // What each row's call returned, in row order: its last value.
        assert_eq!(kept, (0..9).map(|i| (3 * i + 2) as f32).collect::<Vec<_>>());
        assert_eq!(w.len(), 2 * TILE_ROWS * 2);
        assert_eq!(w[0], 1000); // row 0, word 0
        assert_eq!(w[TILE_ROWS + 1], 1000 + 5); // row 1, word 1 (value 5)
        assert_eq!(w[2 * TILE_ROWS + 1], 0); // row 9 does not exist: zero padding
        assert_eq!(w[2 * TILE_ROWS], 1000 + 24); // row 8, word 0
    }

    #[test]
    fn tiles_cover_every_row_and_column_once() {
        for (rows, n) in [(1, 1), (8, 48), (13, 50), (64, 385)] {
            let mut seen = vec![0u8; rows * n];
            for t in tiles(rows, n) {
                assert!(t.rows <= TILE_ROWS && t.panels <= TILE_PANELS);
                for r in t.row..t.row + t.rows {
                    for c in t.panel * LANES..t.panel * LANES + t.cols {
                        seen[r * n + c] += 1;
                    }
                }
            }
            assert!(seen.iter().all(|&s| s == 1), "rows {rows}, n {n}");
        }
    }
}
