//! Embedding quantization codecs: the storage levels users compare against MRL truncation.
//!
//! Two reference semantics are implemented, each reproduced bit for bit (checked against
//! `tests/fixtures/compress/quantize.json`, written by `scripts/make_quantize_fixtures.py`):
//!
//! * [`quantize`]: sentence-transformers 6.2.0 `quantize_embeddings` (numpy arithmetic), extended
//!   with float16 / bfloat16 conversions and a packed 4-bit level ([`Level::Int4`], defined here:
//!   sentence-transformers has no 4-bit level).
//! * [`quantize_mteb`]: MTEB's `CompressionWrapper._quantize_embeddings` (torch arithmetic), which
//!   returns float tensors holding the quantized values.
//!
//! # sentence-transformers semantics ([`quantize`])
//!
//! All arithmetic is float32, as numpy does it for float32 embeddings and float32 ranges:
//!
//! * **ranges** (per dimension `min`, `max`): from [`Calibration`]. `FromEmbeddings` takes the
//!   column min / max of the embeddings being quantized (numpy `min`/`max`: a NaN in a column
//!   makes that bound NaN); with a single row this is an error, as in sentence-transformers.
//!   `Ranges` are the `ranges=` argument (already cast to f32 — sentence-transformers casts float64
//!   ranges to float32, which `as f32` reproduces), `Fixed` broadcasts one `[min, max]` to every
//!   dimension. Separate calibration embeddings map to `Ranges(ranges_from_embeddings(..))`.
//! * `step = (max - min) / 255` (f32), replaced by `1.0` where it is exactly `0` (constant dims);
//! * `code = clip(floor((x - min) / step), 0, 255)` (f32), then `uint8` = `code` and
//!   `int8` = `code - 128` (truncating casts of integral values, so exact). Only values equal to
//!   `max` (up to f32 rounding of the division) reach 255; everything above `max` is clipped to 255,
//!   everything below `min` to 0. A NaN input gives code 0 for `uint8` (numpy's cast of NaN is
//!   platform-defined; not covered by the fixture).
//! * **binary / ubinary**: bit = `x > 0` (so `0.0`, `-0.0` and NaN give 0), packed eight to a byte,
//!   first dimension in the most significant bit (`np.packbits`), each row padded with zero bits to
//!   `ceil(dim / 8)` bytes. `ubinary` is those bytes; `binary` is `byte - 128` as `i8`
//!   (= `byte ^ 0x80` reinterpreted).
//! * **float32**: the values unchanged. **float16 / bfloat16**: IEEE round to nearest, ties to
//!   even (numpy `astype(float16)`, torch `.to(bfloat16)`), via the `half` crate; overflow goes to
//!   ±inf for float16.
//! * **int4** (leafbench's own definition, by analogy with `uint8`): `step = (max - min) / 15`
//!   (f32, `0` → `1`), `code = clip(floor((x - min) / step), 0, 15)`, an *unsigned* nibble 0..=15,
//!   packed two per byte, even dimension in the high nibble; an odd `dim` leaves the low nibble of
//!   each row's last byte 0. Rows are byte aligned (`ceil(dim / 2)` bytes per row).
//!
//! [`dequantize`] maps codes back to floats for feature-based evaluators (logistic regression,
//! k-means): `int8` / `uint8` / `int4` follow sentence-transformers' `_dequantize_embeddings`
//! (its rescoring path): `value = (code [+128 for int8]) as f64 * step as f64 + min as f64`, computed
//! in float64 (what numpy does) and rounded to f32 (use [`dequantize_f64`] for the float64 values).
//! That is the *lower edge* of each bucket, not its centre. Binary levels unpack to `0.0` / `1.0`
//! per dimension (sentence-transformers' `unpackbits` rescoring, and MTEB's binary output).
//! float16 / bfloat16 widen exactly.
//!
//! # MTEB `CompressionWrapper` semantics ([`quantize_mteb`]) and how they differ
//!
//! * Levels float16, bfloat16, int8, uint8, int4, uint4, binary ([`MtebLevel`]); MTEB also has
//!   float8 levels (not implemented here) and *rejects* float32 (`ValueError`).
//! * Outputs are floats, never packed: float16 gives an f16 tensor; everything else an f32 tensor
//!   (bfloat16 is rounded to bf16 and widened back to f32; binary is `1.0` where `x > 0` else `0.0`,
//!   one value per dimension).
//! * Integer levels: bits = 8 or 4; optional `clipping_margin = (lo, hi)` first clips every column
//!   to its `torch.quantile` (linear interpolation) at `lo` and `hi`; then `min` / `max` are always
//!   the column extremes of the (clipped) embeddings of *this call* — no calibration set, no fixed
//!   ranges, so queries and corpus are bucketed independently. `step = (max - min) / (2^bits - 1)`
//!   (f32) and `value = floor((x - min) / step) - subtract` with `subtract` 0 for uint8/uint4,
//!   128 for int8, 8 for int4.
//! * Differences from sentence-transformers: no `step == 0` guard (a constant dimension gives
//!   `0 / 0 = NaN` in every row), no clipping to the code range (not needed: data lie within their
//!   own min/max), float outputs, the int4/uint4 levels (MTEB's int4 is this crate's 4-bit code
//!   minus 8, unpacked), binary unpacked as 0/1 instead of packed (and not offset by -128), no
//!   error for a single row (every step is then 0, so everything is NaN), an error for zero rows.
//!   On identical inputs without clipping margin, MTEB's int8/uint8 values equal
//!   sentence-transformers' `FromEmbeddings` codes everywhere except constant dimensions.

use half::{bf16, f16};
use std::fmt;

/// A storage level for [`quantize`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    Float32,
    Float16,
    BFloat16,
    Int8,
    UInt8,
    /// Unsigned 4-bit codes with 15 steps per dimension, packed two per byte (module docs).
    Int4,
    /// Sign bits packed MSB first, each byte minus 128 as `i8` (sentence-transformers `binary`).
    Binary,
    /// Sign bits packed MSB first as `u8` (sentence-transformers `ubinary`).
    UBinary,
}

impl Level {
    pub const ALL: [Level; 8] = [
        Level::Float32,
        Level::Float16,
        Level::BFloat16,
        Level::Int8,
        Level::UInt8,
        Level::Int4,
        Level::Binary,
        Level::UBinary,
    ];

    /// Parses the level names used by sentence-transformers / MTEB (`"float32"`, `"float16"`,
    /// `"bfloat16"`, `"int8"`, `"uint8"`, `"int4"`, `"binary"`, `"ubinary"`), case-insensitively;
    /// `"fp32"`, `"fp16"`, `"bf16"` are accepted as aliases.
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "float32" | "fp32" | "f32" => Level::Float32,
            "float16" | "fp16" | "f16" => Level::Float16,
            "bfloat16" | "bf16" => Level::BFloat16,
            "int8" => Level::Int8,
            "uint8" => Level::UInt8,
            "int4" => Level::Int4,
            "binary" => Level::Binary,
            "ubinary" => Level::UBinary,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            Level::Float32 => "float32",
            Level::Float16 => "float16",
            Level::BFloat16 => "bfloat16",
            Level::Int8 => "int8",
            Level::UInt8 => "uint8",
            Level::Int4 => "int4",
            Level::Binary => "binary",
            Level::UBinary => "ubinary",
        }
    }

    /// Storage size of one `dim`-dimensional vector at this level (rows are byte aligned).
    pub fn bytes_per_vector(&self, dim: usize) -> usize {
        match self {
            Level::Float32 => 4 * dim,
            Level::Float16 | Level::BFloat16 => 2 * dim,
            Level::Int8 | Level::UInt8 => dim,
            Level::Int4 => dim.div_ceil(2),
            Level::Binary | Level::UBinary => dim.div_ceil(8),
        }
    }

    /// Whether the level needs per-dimension ranges (int8, uint8, int4).
    pub fn is_scalar(&self) -> bool {
        matches!(self, Level::Int8 | Level::UInt8 | Level::Int4)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the per-dimension `[min, max]` ranges of the scalar levels come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Calibration {
    /// Column min / max of the embeddings being quantized (sentence-transformers' default).
    FromEmbeddings,
    /// The same range for every dimension (the mdbr-leaf-mt model card suggests `[-1, 1]`).
    Fixed { min: f32, max: f32 },
    /// One `(min, max)` per dimension, e.g. [`ranges_from_embeddings`] of calibration embeddings.
    Ranges(Vec<(f32, f32)>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum QuantizeError {
    /// `emb.len() != rows * dim`.
    Shape { len: usize, rows: usize, dim: usize },
    /// Ranges would have to be computed from a single embedding (sentence-transformers refuses).
    SingleEmbedding { level: &'static str },
    /// `Calibration::Ranges` has the wrong number of dimensions.
    RangesLength { expected: usize, got: usize },
    /// MTEB needs at least one row to compute min / max.
    Empty,
    /// MTEB's clipping margin must satisfy `0 < lo < hi < 1`.
    ClippingMargin { lo: f32, hi: f32 },
}

impl fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantizeError::Shape { len, rows, dim } => {
                write!(
                    f,
                    "embedding buffer has {len} values, expected {rows} x {dim}"
                )
            }
            QuantizeError::SingleEmbedding { level } => write!(
                f,
                "cannot compute {level} quantization ranges from a single embedding; \
                 give fixed ranges or calibration ranges"
            ),
            QuantizeError::RangesLength { expected, got } => {
                write!(f, "calibration has {got} ranges for {expected} dimensions")
            }
            QuantizeError::Empty => {
                write!(f, "cannot compute quantization ranges from zero embeddings")
            }
            QuantizeError::ClippingMargin { lo, hi } => write!(
                f,
                "clipping margin must satisfy 0 < lower < upper < 1, got ({lo}, {hi})"
            ),
        }
    }
}

impl std::error::Error for QuantizeError {}

/// Quantized values, row-major.
#[derive(Clone, Debug, PartialEq)]
pub enum Quantized {
    F32(Vec<f32>),
    F16(Vec<f16>),
    BF16(Vec<bf16>),
    I8(Vec<i8>),
    U8(Vec<u8>),
    /// `ceil(dim / 2)` bytes per row, high nibble first.
    I4Packed(Vec<u8>),
    /// `binary`: `ceil(dim / 8)` packed bytes per row, each minus 128.
    SignedBits(Vec<i8>),
    /// `ubinary`: `ceil(dim / 8)` packed bytes per row.
    Bits(Vec<u8>),
}

impl Quantized {
    /// Number of stored elements (values, or bytes for the packed variants).
    pub fn len(&self) -> usize {
        match self {
            Quantized::F32(v) => v.len(),
            Quantized::F16(v) => v.len(),
            Quantized::BF16(v) => v.len(),
            Quantized::I8(v) | Quantized::SignedBits(v) => v.len(),
            Quantized::U8(v) | Quantized::I4Packed(v) | Quantized::Bits(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A quantized matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Codes {
    pub level: Level,
    pub rows: usize,
    pub dim: usize,
    pub data: Quantized,
    /// The f32 `(min, max)` per dimension used by the scalar levels (before the `step == 0`
    /// replacement); `None` for the other levels and for an empty `FromEmbeddings` input.
    pub ranges: Option<Vec<(f32, f32)>>,
}

impl Codes {
    /// Storage size in bytes.
    pub fn nbytes(&self) -> usize {
        self.rows * self.level.bytes_per_vector(self.dim)
    }
}

fn check_shape(emb: &[f32], rows: usize, dim: usize) -> Result<(), QuantizeError> {
    if rows.checked_mul(dim) != Some(emb.len()) {
        return Err(QuantizeError::Shape {
            len: emb.len(),
            rows,
            dim,
        });
    }
    Ok(())
}

/// numpy-style minimum / maximum: NaN propagates.
fn np_min(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if b < a {
        b
    } else {
        a
    }
}

fn np_max(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if b > a {
        b
    } else {
        a
    }
}

/// Column `(min, max)` of a row-major `rows x dim` matrix, as numpy's `min(axis=0)` /
/// `max(axis=0)` (NaN propagates). Use it to turn calibration embeddings into
/// [`Calibration::Ranges`]. Panics if the shape does not match; empty input gives no ranges.
pub fn ranges_from_embeddings(emb: &[f32], rows: usize, dim: usize) -> Vec<(f32, f32)> {
    assert_eq!(
        emb.len(),
        rows * dim,
        "embedding buffer does not match rows x dim"
    );
    if rows == 0 {
        return Vec::new();
    }
    let mut r: Vec<(f32, f32)> = emb[..dim].iter().map(|&x| (x, x)).collect();
    for row in emb.chunks_exact(dim).skip(1) {
        for (rg, &x) in r.iter_mut().zip(row) {
            rg.0 = np_min(rg.0, x);
            rg.1 = np_max(rg.1, x);
        }
    }
    r
}

/// `(start, step)` per dimension for `steps` intervals, with sentence-transformers' zero guard.
fn starts_steps(ranges: &[(f32, f32)], steps: f32) -> Vec<(f32, f32)> {
    ranges
        .iter()
        .map(|&(lo, hi)| {
            let s = (hi - lo) / steps;
            (lo, if s == 0.0 { 1.0 } else { s })
        })
        .collect()
}

/// `clip(floor((x - start) / step), 0, top)` in f32; NaN stays NaN.
#[inline]
fn scalar_code(x: f32, start: f32, step: f32, top: f32) -> f32 {
    ((x - start) / step).floor().clamp(0.0, top)
}

/// Packs `x > 0` bits MSB first, `ceil(dim / 8)` bytes per row (`np.packbits(emb > 0, axis=-1)`).
pub fn pack_sign_bits(emb: &[f32], rows: usize, dim: usize) -> Vec<u8> {
    assert_eq!(
        emb.len(),
        rows * dim,
        "embedding buffer does not match rows x dim"
    );
    let bpr = dim.div_ceil(8);
    let mut out = vec![0u8; rows * bpr];
    if dim == 0 {
        return out;
    }
    for (row, dst) in emb.chunks_exact(dim).zip(out.chunks_exact_mut(bpr)) {
        for (j, &x) in row.iter().enumerate() {
            if x > 0.0 {
                dst[j / 8] |= 0x80 >> (j % 8);
            }
        }
    }
    out
}

/// Quantizes a row-major `rows x dim` f32 matrix with sentence-transformers 6.2.0
/// `quantize_embeddings` semantics (module docs). `calibration` is used by the scalar levels
/// (int8, uint8, int4) only.
pub fn quantize(
    emb: &[f32],
    rows: usize,
    dim: usize,
    level: Level,
    calibration: &Calibration,
) -> Result<Codes, QuantizeError> {
    check_shape(emb, rows, dim)?;
    let mut ranges_used = None;
    let data = match level {
        Level::Float32 => Quantized::F32(emb.to_vec()),
        Level::Float16 => Quantized::F16(emb.iter().map(|&x| f16::from_f32(x)).collect()),
        Level::BFloat16 => Quantized::BF16(emb.iter().map(|&x| bf16::from_f32(x)).collect()),
        Level::UBinary => Quantized::Bits(pack_sign_bits(emb, rows, dim)),
        Level::Binary => Quantized::SignedBits(
            pack_sign_bits(emb, rows, dim)
                .into_iter()
                .map(|b| (b ^ 0x80) as i8)
                .collect(),
        ),
        Level::Int8 | Level::UInt8 | Level::Int4 => {
            let ranges = match calibration {
                // sentence-transformers returns the empty result before calibrating.
                Calibration::FromEmbeddings if rows == 0 => None,
                Calibration::FromEmbeddings if rows == 1 => {
                    return Err(QuantizeError::SingleEmbedding {
                        level: level.name(),
                    })
                }
                Calibration::FromEmbeddings => Some(ranges_from_embeddings(emb, rows, dim)),
                Calibration::Fixed { min, max } => Some(vec![(*min, *max); dim]),
                Calibration::Ranges(r) => {
                    if r.len() != dim {
                        return Err(QuantizeError::RangesLength {
                            expected: dim,
                            got: r.len(),
                        });
                    }
                    Some(r.clone())
                }
            };
            let data = match &ranges {
                None => match level {
                    Level::Int8 => Quantized::I8(Vec::new()),
                    Level::UInt8 => Quantized::U8(Vec::new()),
                    _ => Quantized::I4Packed(Vec::new()),
                },
                Some(r) => scalar_quantize(emb, dim, level, r),
            };
            ranges_used = ranges;
            data
        }
    };
    Ok(Codes {
        level,
        rows,
        dim,
        data,
        ranges: ranges_used,
    })
}

fn scalar_quantize(emb: &[f32], dim: usize, level: Level, ranges: &[(f32, f32)]) -> Quantized {
    if dim == 0 {
        return match level {
            Level::Int8 => Quantized::I8(Vec::new()),
            Level::UInt8 => Quantized::U8(Vec::new()),
            _ => Quantized::I4Packed(Vec::new()),
        };
    }
    match level {
        Level::UInt8 | Level::Int8 => {
            let ss = starts_steps(ranges, 255.0);
            let codes = emb.chunks_exact(dim).flat_map(|row| {
                row.iter()
                    .zip(&ss)
                    .map(|(&x, &(s, st))| scalar_code(x, s, st, 255.0) as u8)
            });
            if level == Level::UInt8 {
                Quantized::U8(codes.collect())
            } else {
                Quantized::I8(codes.map(|c| (c as i16 - 128) as i8).collect())
            }
        }
        Level::Int4 => {
            let ss = starts_steps(ranges, 15.0);
            let bpr = dim.div_ceil(2);
            let mut out = vec![0u8; emb.len() / dim * bpr];
            for (row, dst) in emb.chunks_exact(dim).zip(out.chunks_exact_mut(bpr)) {
                for (j, (&x, &(s, st))) in row.iter().zip(&ss).enumerate() {
                    let c = scalar_code(x, s, st, 15.0) as u8;
                    dst[j / 2] |= if j % 2 == 0 { c << 4 } else { c };
                }
            }
            Quantized::I4Packed(out)
        }
        _ => unreachable!("not a scalar level"),
    }
}

/// Unpacks codes to a row-major `rows x dim` f64 matrix (module docs: sentence-transformers'
/// `_dequantize_embeddings` for the scalar levels, 0/1 for binary levels).
pub fn dequantize_f64(codes: &Codes) -> Vec<f64> {
    let (rows, dim) = (codes.rows, codes.dim);
    let scalar = |code: &dyn Fn(usize, usize) -> f64, steps: f32| -> Vec<f64> {
        let ranges = codes.ranges.as_deref().unwrap_or(&[]);
        if rows == 0 || dim == 0 {
            return Vec::new();
        }
        assert_eq!(ranges.len(), dim, "scalar codes need their ranges");
        let ss = starts_steps(ranges, steps);
        let mut out = Vec::with_capacity(rows * dim);
        for i in 0..rows {
            for (j, &(s, st)) in ss.iter().enumerate() {
                out.push(code(i, j) * st as f64 + s as f64);
            }
        }
        out
    };
    let bits = |packed: &[u8]| -> Vec<f64> {
        let bpr = dim.div_ceil(8);
        (0..rows)
            .flat_map(|i| unpack_bits(&packed[i * bpr..(i + 1) * bpr], dim))
            .map(f64::from)
            .collect()
    };
    match &codes.data {
        Quantized::F32(v) => v.iter().map(|&x| x as f64).collect(),
        Quantized::F16(v) => v.iter().map(|x| x.to_f64()).collect(),
        Quantized::BF16(v) => v.iter().map(|x| x.to_f64()).collect(),
        Quantized::U8(v) => scalar(&|i, j| v[i * dim + j] as f64, 255.0),
        Quantized::I8(v) => scalar(&|i, j| v[i * dim + j] as f64 + 128.0, 255.0),
        Quantized::I4Packed(v) => {
            let bpr = dim.div_ceil(2);
            scalar(
                &|i, j| {
                    let b = v[i * bpr + j / 2];
                    (if j % 2 == 0 { b >> 4 } else { b & 0x0f }) as f64
                },
                15.0,
            )
        }
        Quantized::Bits(v) => bits(v),
        Quantized::SignedBits(v) => bits(&v.iter().map(|&b| (b as u8) ^ 0x80).collect::<Vec<u8>>()),
    }
}

/// One row of packed sign bits (`np.unpackbits`, most significant bit first), cut to `dim`:
/// 1.0 / 0.0 per dimension.
pub fn unpack_bits(bytes: &[u8], dim: usize) -> Vec<f32> {
    bytes
        .iter()
        .flat_map(|&b| (0..8).rev().map(move |k| ((b >> k) & 1) as f32))
        .take(dim)
        .collect()
}

/// [`dequantize_f64`] rounded to f32 (exact for the float and binary levels).
pub fn dequantize(codes: &Codes) -> Vec<f32> {
    dequantize_f64(codes)
        .into_iter()
        .map(|x| x as f32)
        .collect()
}

/// The levels of MTEB's `CompressionWrapper` implemented here (`OutputDType` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MtebLevel {
    Float16,
    BFloat16,
    Int8,
    UInt8,
    Int4,
    UInt4,
    Binary,
}

impl MtebLevel {
    /// `OutputDType` values; `"float32"` and the float8 levels give `None` (MTEB's wrapper
    /// rejects float32; float8 is not implemented here).
    pub fn parse(s: &str) -> Option<MtebLevel> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "float16" => MtebLevel::Float16,
            "bfloat16" => MtebLevel::BFloat16,
            "int8" => MtebLevel::Int8,
            "uint8" => MtebLevel::UInt8,
            "int4" => MtebLevel::Int4,
            "uint4" => MtebLevel::UInt4,
            "binary" => MtebLevel::Binary,
            _ => return None,
        })
    }

    pub fn name(&self) -> &'static str {
        match self {
            MtebLevel::Float16 => "float16",
            MtebLevel::BFloat16 => "bfloat16",
            MtebLevel::Int8 => "int8",
            MtebLevel::UInt8 => "uint8",
            MtebLevel::Int4 => "int4",
            MtebLevel::UInt4 => "uint4",
            MtebLevel::Binary => "binary",
        }
    }
}

/// torch's `lerp` on CPU (vectorised path): `fma(coeff, end - start, base)` with
/// `coeff, base = (w, start)` if `|w| < 0.5` else `(w - 1, end)`.
fn torch_lerp(start: f32, end: f32, w: f32) -> f32 {
    let diff = end - start;
    if w.abs() < 0.5 {
        w.mul_add(diff, start)
    } else {
        (w - 1.0).mul_add(diff, end)
    }
}

/// `torch.quantile(col, q)` (linear interpolation) on one sorted f32 column, as torch 2.x CPU
/// computes it (verified against torch 2.15 on the fixture and on randomised matrices): the rank
/// `q * (n - 1)` is computed in f64 from the f32 `q`, the weight `rank - floor(rank)` is rounded
/// to f32, and the interpolation is torch's f32 `lerp`. A NaN in the column gives NaN.
fn torch_quantile(sorted: &[f32], q: f32) -> f32 {
    let last = sorted.len() - 1;
    let rank = if sorted.iter().any(|x| x.is_nan()) {
        last as f64
    } else {
        q as f64 * last as f64
    };
    let below = rank as usize;
    let above = rank.ceil() as usize;
    let w = (rank - below as f64) as f32;
    torch_lerp(sorted[below], sorted[above], w)
}

/// Quantizes a row-major `rows x dim` f32 matrix exactly as MTEB's
/// `CompressionWrapper._quantize_embeddings` (module docs). Returns `Quantized::F16` for
/// float16 and `Quantized::F32` (one float per dimension, holding the quantized value) otherwise.
pub fn quantize_mteb(
    emb: &[f32],
    rows: usize,
    dim: usize,
    level: MtebLevel,
    clipping_margin: Option<(f32, f32)>,
) -> Result<Quantized, QuantizeError> {
    check_shape(emb, rows, dim)?;
    if let Some((lo, hi)) = clipping_margin {
        if !(0.0 < lo && lo < hi && hi < 1.0) {
            return Err(QuantizeError::ClippingMargin { lo, hi });
        }
    }
    let (bits, subtract) = match level {
        MtebLevel::Float16 => {
            return Ok(Quantized::F16(
                emb.iter().map(|&x| f16::from_f32(x)).collect(),
            ))
        }
        MtebLevel::BFloat16 => {
            return Ok(Quantized::F32(
                emb.iter().map(|&x| bf16::from_f32(x).to_f32()).collect(),
            ))
        }
        MtebLevel::Binary => {
            return Ok(Quantized::F32(
                emb.iter()
                    .map(|&x| if x > 0.0 { 1.0 } else { 0.0 })
                    .collect(),
            ))
        }
        MtebLevel::Int8 => (8, 128.0f32),
        MtebLevel::UInt8 => (8, 0.0),
        MtebLevel::Int4 => (4, 8.0),
        MtebLevel::UInt4 => (4, 0.0),
    };
    if rows == 0 {
        return Err(QuantizeError::Empty);
    }
    let mut x = emb.to_vec();
    if let Some((lo, hi)) = clipping_margin {
        let mut col = vec![0f32; rows];
        for j in 0..dim {
            for i in 0..rows {
                col[i] = x[i * dim + j];
            }
            // torch.sort: ascending, NaN last
            col.sort_by(|a, b| {
                a.partial_cmp(b)
                    .unwrap_or_else(|| a.is_nan().cmp(&b.is_nan()))
            });
            let (cl, ch) = (torch_quantile(&col, lo), torch_quantile(&col, hi));
            for i in 0..rows {
                let v = &mut x[i * dim + j];
                // torch.clip(x, lo, hi) = min(max(x, lo), hi), NaN-propagating
                *v = np_min(np_max(*v, cl), ch);
            }
        }
    }
    let ranges = ranges_from_embeddings(&x, rows, dim);
    let denom = ((1u32 << bits) - 1) as f32;
    let steps: Vec<(f32, f32)> = ranges
        .iter()
        .map(|&(lo, hi)| (lo, (hi - lo) / denom))
        .collect();
    let out = x
        .chunks_exact(dim.max(1))
        .flat_map(|row| {
            row.iter()
                .zip(&steps)
                .map(|(&v, &(lo, st))| ((v - lo) / st).floor() - subtract)
        })
        .collect();
    Ok(Quantized::F32(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::HashMap;

    struct Fixture {
        doc: Value,
        inputs: HashMap<String, (usize, usize, Vec<f32>)>,
    }

    fn parse_f64(v: &Value) -> f64 {
        v.as_str()
            .expect("float as string")
            .parse::<f64>()
            .expect("float repr")
    }

    fn parse_mat(v: &Value) -> (usize, usize, Vec<f32>) {
        let rows = v["rows"].as_u64().unwrap() as usize;
        let dim = v["dim"].as_u64().unwrap() as usize;
        let vals: Vec<f32> = v["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| parse_f64(x) as f32)
            .collect();
        assert_eq!(vals.len(), rows * dim);
        (rows, dim, vals)
    }

    fn ints(v: &Value) -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_i64().unwrap())
            .collect()
    }

    fn fixture() -> Fixture {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/compress/quantize.json"
        );
        let text = std::fs::read_to_string(path).expect("run scripts/make_quantize_fixtures.py");
        let doc: Value = serde_json::from_str(&text).unwrap();
        let inputs = doc["inputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), parse_mat(v)))
            .collect();
        Fixture { doc, inputs }
    }

    fn calibration(c: &Value) -> Calibration {
        match c["kind"].as_str().unwrap() {
            "from_embeddings" => Calibration::FromEmbeddings,
            "embeddings" => {
                let (r, d, v) = parse_mat(&c["embeddings"]);
                Calibration::Ranges(ranges_from_embeddings(&v, r, d))
            }
            "ranges" => {
                let lo = c["min"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| parse_f64(x) as f32);
                let hi = c["max"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| parse_f64(x) as f32);
                Calibration::Ranges(lo.zip(hi).collect())
            }
            "fixed" => Calibration::Fixed {
                min: parse_f64(&c["min"]) as f32,
                max: parse_f64(&c["max"]) as f32,
            },
            k => panic!("unknown calibration kind {k}"),
        }
    }

    /// The output as the integers / bit patterns the fixture stores.
    fn as_ints(q: &Quantized) -> Vec<i64> {
        match q {
            Quantized::F32(v) => v.iter().map(|x| x.to_bits() as i64).collect(),
            Quantized::F16(v) => v.iter().map(|x| x.to_bits() as i64).collect(),
            Quantized::BF16(v) => v.iter().map(|x| x.to_bits() as i64).collect(),
            Quantized::I8(v) | Quantized::SignedBits(v) => v.iter().map(|&x| x as i64).collect(),
            Quantized::U8(v) | Quantized::I4Packed(v) | Quantized::Bits(v) => {
                v.iter().map(|&x| x as i64).collect()
            }
        }
    }

    fn first_diff(a: &[i64], b: &[i64]) -> String {
        if a.len() != b.len() {
            return format!("length {} vs {}", a.len(), b.len());
        }
        let i = a.iter().zip(b).position(|(x, y)| x != y).unwrap();
        format!("first difference at {i}: got {} expected {}", a[i], b[i])
    }

    #[test]
    fn sentence_transformers_byte_equal() {
        let fx = fixture();
        let cases = fx.doc["sentence_transformers"].as_array().unwrap();
        assert!(cases.len() >= 30);
        let mut bad = Vec::new();
        for c in cases {
            let (rows, dim, emb) = &fx.inputs[c["input"].as_str().unwrap()];
            let precision = c["precision"].as_str().unwrap();
            let level = Level::parse(precision).unwrap();
            let cal = calibration(&c["calibration"]);
            let codes = quantize(emb, *rows, *dim, level, &cal).unwrap();
            let expected = if level == Level::Float32 {
                ints(&c["expected_bits"])
            } else {
                ints(&c["expected"])
            };
            let got = as_ints(&codes.data);
            assert_eq!(
                codes.nbytes(),
                got.len() * if level == Level::Float32 { 4 } else { 1 }
            );
            let tag = format!("{} {} {}", c["input"], precision, c["calibration"]["kind"]);
            if got != expected {
                bad.push(format!("{tag}: {}", first_diff(&got, &expected)));
            }
            if let Some(deq) = c.get("dequantized_f64") {
                let want: Vec<u64> = deq
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| parse_f64(x).to_bits())
                    .collect();
                let have: Vec<u64> = dequantize_f64(&codes).iter().map(|x| x.to_bits()).collect();
                if have != want {
                    bad.push(format!("{tag}: dequantize differs"));
                }
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }

    #[test]
    fn half_conversions_bit_equal() {
        let fx = fixture();
        let mut n = 0;
        for c in fx.doc["half"].as_array().unwrap() {
            let name = c["input"].as_str().unwrap();
            let (rows, dim, emb) = if c["values"].is_null() {
                fx.inputs[name].clone()
            } else {
                parse_mat(&c["values"])
            };
            for (level, key) in [
                (Level::Float16, "float16_bits"),
                (Level::BFloat16, "bfloat16_bits"),
            ] {
                let codes = quantize(&emb, rows, dim, level, &Calibration::FromEmbeddings).unwrap();
                assert_eq!(as_ints(&codes.data), ints(&c[key]), "{name} {level}");
                // widening back is exact
                let back = dequantize(&codes);
                let again =
                    quantize(&back, rows, dim, level, &Calibration::FromEmbeddings).unwrap();
                assert_eq!(again.data, codes.data);
                n += 1;
            }
        }
        assert_eq!(n, 8);
    }

    #[test]
    fn mteb_wrapper_bit_equal() {
        let fx = fixture();
        assert_eq!(fx.doc["mteb_float32_supported"], Value::Bool(false));
        assert!(MtebLevel::parse("float32").is_none());
        let mut bad = Vec::new();
        let cases = fx.doc["mteb"].as_array().unwrap();
        assert!(cases.len() >= 50);
        for c in cases {
            let (rows, dim, emb) = &fx.inputs[c["input"].as_str().unwrap()];
            let level = MtebLevel::parse(c["level"].as_str().unwrap()).unwrap();
            let margin = c["clipping_margin"]
                .as_array()
                .map(|m| (parse_f64(&m[0]) as f32, parse_f64(&m[1]) as f32));
            let out = quantize_mteb(emb, *rows, *dim, level, margin).unwrap();
            let dtype = c["dtype"].as_str().unwrap();
            assert_eq!(
                matches!(out, Quantized::F16(_)),
                dtype == "torch.float16",
                "{dtype}"
            );
            let got = as_ints(&out);
            let want = ints(&c["expected_bits"]);
            if got != want {
                bad.push(format!(
                    "{} {} {:?}: {}",
                    c["input"],
                    level.name(),
                    margin,
                    first_diff(&got, &want)
                ));
            }
        }
        assert!(
            bad.is_empty(),
            "{} mismatches:\n{}",
            bad.len(),
            bad.join("\n")
        );
    }

    #[test]
    fn mteb_matches_st_codes_outside_constant_dims() {
        let fx = fixture();
        let (rows, dim, emb) = &fx.inputs["A"];
        let st = quantize(emb, *rows, *dim, Level::Int8, &Calibration::FromEmbeddings).unwrap();
        let Quantized::I8(st) = st.data else { panic!() };
        let Quantized::F32(mt) = quantize_mteb(emb, *rows, *dim, MtebLevel::Int8, None).unwrap()
        else {
            panic!()
        };
        let mut nan_dims = 0;
        for (k, (&s, &m)) in st.iter().zip(&mt).enumerate() {
            if m.is_nan() {
                nan_dims += 1;
                assert_eq!(s, -128, "constant dim: ST step guard gives code 0");
            } else {
                assert_eq!(s as f32, m, "element {k}");
            }
        }
        assert_eq!(nan_dims, *rows, "exactly one constant dimension in input A");
    }

    #[test]
    fn int4_definition_and_packing() {
        // dim 3 (odd): ranges [0, 1.5] -> step 0.1 (f32); high nibble first, last low nibble 0.
        let emb = [0.0f32, 1.5, 0.75, -3.0, 9.0, 0.1000001];
        let cal = Calibration::Fixed { min: 0.0, max: 1.5 };
        let codes = quantize(&emb, 2, 3, Level::Int4, &cal).unwrap();
        let step = 1.5f32 / 15.0;
        let c = |x: f32| ((x / step).floor().clamp(0.0, 15.0)) as u8;
        assert_eq!(c(1.5), 15);
        assert_eq!((c(-3.0), c(9.0)), (0, 15));
        let want = vec![
            (c(0.0) << 4) | c(1.5),
            c(0.75) << 4,
            (c(-3.0) << 4) | c(9.0),
            c(0.1000001) << 4,
        ];
        assert_eq!(codes.data, Quantized::I4Packed(want));
        assert_eq!(codes.nbytes(), 4);
        let back = dequantize(&codes);
        assert_eq!(back[0], 0.0);
        assert_eq!(back[1], (15.0f64 * step as f64) as f32);
        assert_eq!(back[3], 0.0); // clipped low
        assert_eq!(back[4], (15.0f64 * step as f64) as f32); // clipped high
                                                             // constant dimension: step guard -> every value at min gets code 0
        let flat = [0.5f32, 0.5, 0.5, 0.5];
        let k = quantize(&flat, 4, 1, Level::Int4, &Calibration::FromEmbeddings).unwrap();
        assert_eq!(k.data, Quantized::I4Packed(vec![0; 4]));
    }

    #[test]
    fn binary_packing_by_hand() {
        // 9 dims: two bytes per row, MSB first, padding zero.
        let emb = [1.0f32, -1.0, 0.0, -0.0, 2.0, f32::NAN, 1e-30, -5.0, 3.0];
        let u = quantize(&emb, 1, 9, Level::UBinary, &Calibration::FromEmbeddings).unwrap();
        assert_eq!(u.data, Quantized::Bits(vec![0b1000_1010, 0b1000_0000]));
        let b = quantize(&emb, 1, 9, Level::Binary, &Calibration::FromEmbeddings).unwrap();
        assert_eq!(
            b.data,
            Quantized::SignedBits(vec![(0b1000_1010i16 - 128) as i8, 0])
        );
        assert_eq!(
            dequantize(&b),
            vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0]
        );
        assert_eq!(dequantize(&u), dequantize(&b));
    }

    #[test]
    fn errors_and_edge_shapes() {
        let one = [0.1f32, 0.2];
        for level in [Level::Int8, Level::UInt8, Level::Int4] {
            assert_eq!(
                quantize(&one, 1, 2, level, &Calibration::FromEmbeddings),
                Err(QuantizeError::SingleEmbedding {
                    level: level.name()
                })
            );
            assert!(quantize(
                &one,
                1,
                2,
                level,
                &Calibration::Fixed {
                    min: -1.0,
                    max: 1.0
                }
            )
            .is_ok());
            let empty = quantize(&[], 0, 2, level, &Calibration::FromEmbeddings).unwrap();
            assert!(empty.data.is_empty());
        }
        assert!(matches!(
            quantize(&one, 2, 2, Level::Int8, &Calibration::FromEmbeddings),
            Err(QuantizeError::Shape { .. })
        ));
        assert!(matches!(
            quantize(
                &one,
                1,
                2,
                Level::Int8,
                &Calibration::Ranges(vec![(0.0, 1.0)])
            ),
            Err(QuantizeError::RangesLength {
                expected: 2,
                got: 1
            })
        ));
        assert_eq!(
            quantize_mteb(&[], 0, 2, MtebLevel::Int8, None),
            Err(QuantizeError::Empty)
        );
        assert!(matches!(
            quantize_mteb(&one, 1, 2, MtebLevel::Int8, Some((0.9, 0.1))),
            Err(QuantizeError::ClippingMargin { .. })
        ));
        // MTEB on a single row: every step is 0 -> NaN everywhere (no error).
        let Quantized::F32(v) = quantize_mteb(&one, 1, 2, MtebLevel::UInt8, None).unwrap() else {
            panic!()
        };
        assert!(v.iter().all(|x| x.is_nan()));
    }

    #[test]
    fn level_names_sizes() {
        for l in Level::ALL {
            assert_eq!(Level::parse(l.name()), Some(l));
        }
        assert_eq!(Level::parse("nope"), None);
        let sizes: Vec<usize> = Level::ALL.iter().map(|l| l.bytes_per_vector(13)).collect();
        assert_eq!(sizes, vec![52, 26, 26, 13, 13, 7, 2, 2]);
        for l in [
            "float16", "bfloat16", "int8", "uint8", "int4", "uint4", "binary",
        ] {
            assert_eq!(MtebLevel::parse(l).unwrap().name(), l);
        }
    }
}
