//! Similarity kernels on compressed embeddings, so quantized corpora are scored without
//! dequantizing them first: f32 dot/cosine, f16/bf16 dot (f32 accumulation), int8/uint8 dot
//! and packed int4 dot (i32 accumulation), and binary Hamming distance.
//!
//! Each kernel has a portable definition (`scalar`), an AVX2 path and an AVX-512 path. The
//! widest path the CPU supports is picked once (`Isa::detected`) and every public function
//! goes through it. The SIMD paths are checked against the portable definition in the tests.
//!
//! Conventions shared by all kernels:
//! - Both operands must have the same length (panics otherwise).
//! - Integer results are exact modulo 2^32: all paths accumulate in i32 with wrapping
//!   adds, so they agree bit for bit even past overflow. int8 cannot overflow below
//!   2^17 elements, uint8 below 33 025 (255² · n < 2^31).
//! - Float results use f32 accumulation in a path-dependent order; paths agree to within
//!   1e-5 · Σ|aᵢ·bᵢ| (tested), i.e. summation-order noise.
//! - Batched `scores_*` write f32 scores; integer scores convert exactly while |score| < 2^24.

use half::{bf16, f16, slice::HalfFloatSliceExt};
use std::sync::OnceLock;

/// A kernel path this CPU can run. Only built by detection (or as `SCALAR`), so holding an
/// `Isa` proves its instructions exist; that is what makes the dispatch below sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Isa(Level);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Scalar,
    /// avx2 + fma + f16c.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// avx512f + bw + vl + vnni + vpopcntdq (Ice Lake, Zen 4 and later). CPUs with AVX-512
    /// but without VNNI/VPOPCNTDQ (Skylake-X) take the AVX2 path: one tier keeps this simple.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Isa {
    /// The portable path; always available.
    pub const SCALAR: Isa = Isa(Level::Scalar);

    /// The widest path this CPU supports, detected on first use and cached.
    pub fn detected() -> Isa {
        static BEST: OnceLock<Isa> = OnceLock::new();
        *BEST.get_or_init(|| {
            *Isa::all_supported()
                .last()
                .expect("scalar is always supported")
        })
    }

    /// Every path this CPU can run, narrowest first (for tests and benchmarks).
    pub fn all_supported() -> Vec<Isa> {
        #[allow(unused_mut)]
        let mut isas = vec![Isa::SCALAR];
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx2") && has!("fma") && has!("f16c") {
                isas.push(Isa(Level::Avx2));
            }
            if has!("avx512f")
                && has!("avx512bw")
                && has!("avx512vl")
                && has!("avx512vnni")
                && has!("avx512vpopcntdq")
            {
                isas.push(Isa(Level::Avx512));
            }
        }
        isas
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            Level::Scalar => "scalar",
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => "avx2+fma+f16c",
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => "avx512f+bw+vl+vnni+vpopcntdq",
        }
    }
}

/// Name of the path the public kernels use on this CPU, for benchmark output.
pub fn isa() -> &'static str {
    Isa::detected().name()
}

/// Calls `$name` from the module of `$isa`'s path.
macro_rules! dispatch {
    ($isa:expr, $name:ident($($arg:expr),*)) => {
        match $isa.0 {
            Level::Scalar => scalar::$name($($arg),*),
            // SAFETY: an `Isa` holding `Avx2` exists only if `all_supported` detected
            // avx2, fma and f16c, the features every `avx2::` function enables.
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => unsafe { avx2::$name($($arg),*) },
            // SAFETY: likewise, `Avx512` implies every feature `avx512::` functions enable.
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => unsafe { avx512::$name($($arg),*) },
        }
    };
}

/// Defines, for each kernel, the public function on the detected path and an `_on` variant
/// that takes the path explicitly (tests and benchmarks compare paths with it).
macro_rules! public_pair {
    ($(#[$doc:meta])* $name:ident, $on:ident, ($a:ident: $ta:ty, $b:ident: $tb:ty) -> $ret:ty) => {
        $(#[$doc])*
        pub fn $name($a: $ta, $b: $tb) -> $ret {
            $on(Isa::detected(), $a, $b)
        }

        $(#[$doc])*
        pub fn $on(isa: Isa, $a: $ta, $b: $tb) -> $ret {
            assert_eq!($a.len(), $b.len(), "{}: operand lengths differ", stringify!($name));
            dispatch!(isa, $name($a, $b))
        }
    };
}

public_pair!(
    /// Σ aᵢ·bᵢ in f32.
    dot_f32, dot_f32_on, (a: &[f32], b: &[f32]) -> f32
);
public_pair!(
    /// Σ aᵢ·bᵢ with f16 inputs widened exactly to f32 and accumulated in f32.
    dot_f16, dot_f16_on, (a: &[f16], b: &[f16]) -> f32
);
public_pair!(
    /// Σ aᵢ·bᵢ with bf16 inputs widened exactly to f32 and accumulated in f32.
    dot_bf16, dot_bf16_on, (a: &[bf16], b: &[bf16]) -> f32
);
public_pair!(
    /// Σ aᵢ·bᵢ over int8, exact in i32 (wrapping past 2^31).
    dot_i8, dot_i8_on, (a: &[i8], b: &[i8]) -> i32
);
public_pair!(
    /// Σ aᵢ·bᵢ over uint8, exact in i32 (wrapping past 2^31).
    dot_u8, dot_u8_on, (a: &[u8], b: &[u8]) -> i32
);
public_pair!(
    /// Σ aᵢ·bᵢ over unsigned 4-bit codes packed two per byte, high nibble first. An odd
    /// dimension leaves a padding nibble that must be zero in at least one operand. For
    /// signed codes stored as c + 8, correct with Σa'b' − 8Σa' − 8Σb' + 64·dims.
    dot_i4_packed, dot_i4_packed_on, (a: &[u8], b: &[u8]) -> i32
);
public_pair!(
    /// Number of differing bits between two packed bit vectors.
    hamming, hamming_on, (a: &[u8], b: &[u8]) -> u32
);

/// Cosine similarity in f32; 0 when either vector is all zeros (rather than NaN), so
/// degenerate embeddings rank last instead of poisoning a sort.
pub fn cosine_f32(a: &[f32], b: &[f32]) -> f32 {
    cosine_f32_on(Isa::detected(), a, b)
}

pub fn cosine_f32_on(isa: Isa, a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "cosine_f32: operand lengths differ");
    let (ab, aa, bb) = dispatch!(isa, dot_norms_f32(a, b));
    cosine_from(ab, aa, bb)
}

fn cosine_from(ab: f32, aa: f32, bb: f32) -> f32 {
    let denom = aa.sqrt() * bb.sqrt();
    if denom > 0.0 {
        ab / denom
    } else {
        0.0
    }
}

/// Similarity of two packed bit vectors: dims − 2·hamming with dims = 8·bytes. This is the
/// dot product of the ±1 vectors the bits encode (1 ↦ +1, 0 ↦ −1), the usual score for
/// sign-binarized embeddings; it ranks exactly like −hamming and lies in [−dims, dims].
pub fn binary_similarity(a: &[u8], b: &[u8]) -> i32 {
    binary_similarity_on(Isa::detected(), a, b)
}

pub fn binary_similarity_on(isa: Isa, a: &[u8], b: &[u8]) -> i32 {
    similarity_from_hamming(a.len(), hamming_on(isa, a, b))
}

fn similarity_from_hamming(bytes: usize, hamming: u32) -> i32 {
    (8 * bytes as i64 - 2 * hamming as i64) as i32
}

/// Defines a batched scorer: `query` against `n` rows stored back to back in `rows`
/// (each `query.len()` elements), one f32 score per row into `out`.
macro_rules! public_scores {
    ($(#[$doc:meta])* $name:ident, $on:ident, $t:ty) => {
        $(#[$doc])*
        pub fn $name(query: &[$t], rows: &[$t], n: usize, out: &mut [f32]) {
            $on(Isa::detected(), query, rows, n, out)
        }

        $(#[$doc])*
        pub fn $on(isa: Isa, query: &[$t], rows: &[$t], n: usize, out: &mut [f32]) {
            check_batch(stringify!($name), query.len(), rows.len(), n, out.len());
            if query.is_empty() {
                // Every score over zero dimensions is 0 (and `chunks_exact(0)` would panic).
                out.fill(0.0);
                return;
            }
            dispatch!(isa, $name(query, rows, out))
        }
    };
}

fn check_batch(what: &str, dims: usize, rows: usize, n: usize, out: usize) {
    assert_eq!(
        Some(rows),
        dims.checked_mul(n),
        "{what}: rows.len() must be n · query.len()"
    );
    assert_eq!(out, n, "{what}: out.len() must be n");
}

public_scores!(
    /// Batched `dot_f32`.
    scores_f32, scores_f32_on, f32
);
public_scores!(
    /// Batched `cosine_f32`.
    scores_cosine_f32, scores_cosine_f32_on, f32
);
public_scores!(
    /// Batched `dot_f16`.
    scores_f16, scores_f16_on, f16
);
public_scores!(
    /// Batched `dot_bf16`.
    scores_bf16, scores_bf16_on, bf16
);
public_scores!(
    /// Batched `dot_i8`.
    scores_i8, scores_i8_on, i8
);
public_scores!(
    /// Batched `dot_u8`.
    scores_u8, scores_u8_on, u8
);
public_scores!(
    /// Batched `dot_i4_packed`; rows are `query.len()` packed bytes each.
    scores_i4_packed, scores_i4_packed_on, u8
);
public_scores!(
    /// Batched `binary_similarity` (dims − 2·hamming, higher is more similar).
    scores_binary, scores_binary_on, u8
);

/// Defines the batched scorers of one path from its pairwise kernels, so the row loop is
/// compiled with the path's features and the pairwise kernel inlines into it.
macro_rules! row_loops {
    (#[$feat:meta]; $($name:ident($t:ty) = |$q:ident, $r:ident| $score:expr;)*) => {$(
        #[$feat]
        pub fn $name($q: &[$t], rows: &[$t], out: &mut [f32]) {
            for (o, $r) in out.iter_mut().zip(rows.chunks_exact($q.len())) {
                *o = $score;
            }
        }
    )*};
}

/// The definitions. Integer sums wrap (see module docs) and vectorise on their own; float
/// sums run in 8 lanes so the compiler can vectorise them without reassociating.
mod scalar {
    use super::*;

    const LANES: usize = 8;

    #[inline(always)]
    fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
        let mut lanes = [0.0f32; LANES];
        let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let tail: f32 = ca
            .remainder()
            .iter()
            .zip(cb.remainder())
            .map(|(&x, &y)| f(x, y))
            .sum();
        for (x, y) in ca.zip(cb) {
            for k in 0..LANES {
                lanes[k] += f(x[k], y[k]);
            }
        }
        lanes.iter().sum::<f32>() + tail
    }

    pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        lane_sum(a, b, |x, y| x * y)
    }

    pub fn dot_norms_f32(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
        (dot_f32(a, b), dot_f32(a, a), dot_f32(b, b))
    }

    pub fn dot_f16(a: &[f16], b: &[f16]) -> f32 {
        // Widening f16 → f32 is exact, so only the accumulation rounds.
        let mut lanes = [0.0f32; LANES];
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            lanes[i % LANES] += x.to_f32() * y.to_f32();
        }
        lanes.iter().sum()
    }

    pub fn dot_bf16(a: &[bf16], b: &[bf16]) -> f32 {
        let mut lanes = [0.0f32; LANES];
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            lanes[i % LANES] += x.to_f32() * y.to_f32();
        }
        lanes.iter().sum()
    }

    pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        a.iter()
            .zip(b)
            .fold(0i32, |s, (&x, &y)| s.wrapping_add(x as i32 * y as i32))
    }

    pub fn dot_u8(a: &[u8], b: &[u8]) -> i32 {
        a.iter()
            .zip(b)
            .fold(0i32, |s, (&x, &y)| s.wrapping_add(x as i32 * y as i32))
    }

    pub fn dot_i4_packed(a: &[u8], b: &[u8]) -> i32 {
        a.iter().zip(b).fold(0i32, |s, (&x, &y)| {
            let hi = (x >> 4) as i32 * (y >> 4) as i32;
            let lo = (x & 0x0F) as i32 * (y & 0x0F) as i32;
            s.wrapping_add(hi + lo)
        })
    }

    pub fn hamming(a: &[u8], b: &[u8]) -> u32 {
        let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
        let tail: u32 = ca
            .remainder()
            .iter()
            .zip(cb.remainder())
            .map(|(x, y)| (x ^ y).count_ones())
            .sum();
        let word = |c: &[u8]| u64::from_le_bytes(c.try_into().expect("chunk of 8"));
        ca.zip(cb)
            .map(|(x, y)| (word(x) ^ word(y)).count_ones())
            .sum::<u32>()
            + tail
    }

    row_loops! {#[inline];
        scores_f32(f32) = |q, r| dot_f32(q, r);
        scores_f16(f16) = |q, r| dot_f16(q, r);
        scores_bf16(bf16) = |q, r| dot_bf16(q, r);
        scores_i8(i8) = |q, r| dot_i8(q, r) as f32;
        scores_u8(u8) = |q, r| dot_u8(q, r) as f32;
        scores_i4_packed(u8) = |q, r| dot_i4_packed(q, r) as f32;
        scores_binary(u8) = |q, r| similarity_from_hamming(q.len(), hamming(q, r)) as f32;
    }

    pub fn scores_cosine_f32(q: &[f32], rows: &[f32], out: &mut [f32]) {
        let qq = dot_f32(q, q);
        for (o, r) in out.iter_mut().zip(rows.chunks_exact(q.len())) {
            *o = cosine_from(dot_f32(q, r), qq, dot_f32(r, r));
        }
    }
}

/// AVX2 path: 256-bit vectors, full blocks in SIMD and the last partial block through the
/// scalar definition (integer results therefore stay exact; float ones differ by order).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use super::*;
    // Named explicitly: `std::arch` also exports a `bf16`.
    use half::{bf16, f16};
    use std::arch::x86_64::*;

    /// The first 32 bytes of `c` as a vector.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn ld256<T>(c: &[T]) -> __m256i {
        assert!(std::mem::size_of_val(c) >= 32);
        // SAFETY: the assert keeps the 32-byte unaligned read inside `c`.
        unsafe { _mm256_loadu_si256(c.as_ptr().cast()) }
    }

    /// The first 16 bytes of `c` as a vector.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn ld128<T>(c: &[T]) -> __m128i {
        assert!(std::mem::size_of_val(c) >= 16);
        // SAFETY: the assert keeps the 16-byte unaligned read inside `c`.
        unsafe { _mm_loadu_si128(c.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn hsum_ps(v: __m256) -> f32 {
        let s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let s = _mm_add_ps(s, _mm_movehl_ps(s, s));
        _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps::<0b01>(s, s)))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn hsum_epi32(v: __m256i) -> i32 {
        let s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b01_00_11_10>(s));
        _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32::<0b00_00_00_01>(s)))
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn hsum_epi64(v: __m256i) -> u64 {
        let s = _mm_add_epi64(_mm256_castsi256_si128(v), _mm256_extracti128_si256::<1>(v));
        _mm_cvtsi128_si64(_mm_add_epi64(s, _mm_unpackhi_epi64(s, s))) as u64
    }

    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn ps(c: &[f32]) -> __m256 {
        _mm256_castsi256_ps(ld256(c))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        // Four accumulators hide the FMA latency.
        let mut acc = [_mm256_setzero_ps(); 4];
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for (k, acc) in acc.iter_mut().enumerate() {
                *acc = _mm256_fmadd_ps(ps(&x[8 * k..]), ps(&y[8 * k..]), *acc);
            }
        }
        let (ca, cb) = (ra.chunks_exact(8), rb.chunks_exact(8));
        let tail = scalar::dot_f32(ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            acc[0] = _mm256_fmadd_ps(ps(x), ps(y), acc[0]);
        }
        let sum = _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
        hsum_ps(sum) + tail
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn dot_norms_f32(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
        let (mut ab, mut aa, mut bb) = (
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
            _mm256_setzero_ps(),
        );
        let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            let (x, y) = (ps(x), ps(y));
            ab = _mm256_fmadd_ps(x, y, ab);
            aa = _mm256_fmadd_ps(x, x, aa);
            bb = _mm256_fmadd_ps(y, y, bb);
        }
        let (tab, taa, tbb) = scalar::dot_norms_f32(ra, rb);
        (hsum_ps(ab) + tab, hsum_ps(aa) + taa, hsum_ps(bb) + tbb)
    }

    /// f32 dot of 8-element blocks after `widen`ing each 16-byte block to 8 f32 lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn dot_widened<T>(a: &[T], b: &[T], widen: impl Fn(__m128i) -> __m256) -> (f32, usize) {
        let mut acc = [_mm256_setzero_ps(); 2];
        let (ca, cb) = (a.chunks_exact(16), b.chunks_exact(16));
        let done = a.len() - ca.remainder().len();
        for (x, y) in ca.zip(cb) {
            for (k, acc) in acc.iter_mut().enumerate() {
                *acc = _mm256_fmadd_ps(widen(ld128(&x[8 * k..])), widen(ld128(&y[8 * k..])), *acc);
            }
        }
        (hsum_ps(_mm256_add_ps(acc[0], acc[1])), done)
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn dot_f16(a: &[f16], b: &[f16]) -> f32 {
        let widen = |v| _mm256_cvtph_ps(v);
        let (sum, done) = dot_widened(a.reinterpret_cast(), b.reinterpret_cast(), widen);
        sum + scalar::dot_f16(&a[done..], &b[done..])
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn dot_bf16(a: &[bf16], b: &[bf16]) -> f32 {
        // bf16 is the top half of an f32: zero-extend and shift up 16 bits, exactly.
        let widen = |v| _mm256_castsi256_ps(_mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(v)));
        let (sum, done) = dot_widened(a.reinterpret_cast(), b.reinterpret_cast(), widen);
        sum + scalar::dot_bf16(&a[done..], &b[done..])
    }

    /// Σ aᵢ·bᵢ over 16-byte blocks widened to i16 by `widen`; `vpmaddwd` forms exact i32
    /// pair sums (|pair| ≤ 2·255² < 2^31), so no step can saturate.
    #[inline]
    #[target_feature(enable = "avx2,fma,f16c")]
    fn dot_bytes_widened<T>(a: &[T], b: &[T], widen: impl Fn(__m128i) -> __m256i) -> (i32, usize) {
        let mut acc = [_mm256_setzero_si256(); 2];
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let done = a.len() - ca.remainder().len();
        for (x, y) in ca.zip(cb) {
            for (k, acc) in acc.iter_mut().enumerate() {
                let p = _mm256_madd_epi16(widen(ld128(&x[16 * k..])), widen(ld128(&y[16 * k..])));
                *acc = _mm256_add_epi32(*acc, p);
            }
        }
        (hsum_epi32(_mm256_add_epi32(acc[0], acc[1])), done)
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        let (sum, done) = dot_bytes_widened(a, b, |v| _mm256_cvtepi8_epi16(v));
        sum.wrapping_add(scalar::dot_i8(&a[done..], &b[done..]))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn dot_u8(a: &[u8], b: &[u8]) -> i32 {
        let (sum, done) = dot_bytes_widened(a, b, |v| _mm256_cvtepu8_epi16(v));
        sum.wrapping_add(scalar::dot_u8(&a[done..], &b[done..]))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn dot_i4_packed(a: &[u8], b: &[u8]) -> i32 {
        let low = _mm256_set1_epi8(0x0F);
        let ones = _mm256_set1_epi16(1);
        let mut acc = _mm256_setzero_si256();
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            let (x, y) = (ld256(x), ld256(y));
            let (xl, yl) = (_mm256_and_si256(x, low), _mm256_and_si256(y, low));
            let xh = _mm256_and_si256(_mm256_srli_epi16::<4>(x), low);
            let yh = _mm256_and_si256(_mm256_srli_epi16::<4>(y), low);
            // Nibbles are 0..15, so each vpmaddubsw pair is ≤ 450 and the sum of both
            // ≤ 900: far from i16 saturation. vpmaddwd by 1 then widens to i32.
            let pairs =
                _mm256_add_epi16(_mm256_maddubs_epi16(xl, yl), _mm256_maddubs_epi16(xh, yh));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        }
        hsum_epi32(acc).wrapping_add(scalar::dot_i4_packed(ra, rb))
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    pub fn hamming(a: &[u8], b: &[u8]) -> u32 {
        // No vector popcount in AVX2: look up each nibble's count with vpshufb, then
        // vpsadbw sums the byte counts (≤ 8 each) into 64-bit lanes every block.
        let lut = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, //
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
        );
        let low = _mm256_set1_epi8(0x0F);
        let mut acc = _mm256_setzero_si256();
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            let x = _mm256_xor_si256(ld256(x), ld256(y));
            let lo = _mm256_shuffle_epi8(lut, _mm256_and_si256(x, low));
            let hi = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16::<4>(x), low));
            let counts = _mm256_add_epi8(lo, hi);
            acc = _mm256_add_epi64(acc, _mm256_sad_epu8(counts, _mm256_setzero_si256()));
        }
        hsum_epi64(acc) as u32 + scalar::hamming(ra, rb)
    }

    row_loops! {#[target_feature(enable = "avx2,fma,f16c")];
        scores_f32(f32) = |q, r| dot_f32(q, r);
        scores_f16(f16) = |q, r| dot_f16(q, r);
        scores_bf16(bf16) = |q, r| dot_bf16(q, r);
        scores_i8(i8) = |q, r| dot_i8(q, r) as f32;
        scores_u8(u8) = |q, r| dot_u8(q, r) as f32;
        scores_i4_packed(u8) = |q, r| dot_i4_packed(q, r) as f32;
        scores_binary(u8) = |q, r| similarity_from_hamming(q.len(), hamming(q, r)) as f32;
        scores_cosine_f32(f32) = |q, r| {
            let (qr, qq, rr) = dot_norms_f32(q, r);
            cosine_from(qr, qq, rr)
        };
    }
}

/// AVX-512 path: 512-bit vectors, and the last partial block read with a masked load
/// (masked-off lanes read as zero, which adds nothing to any of these sums), so there is
/// no scalar tail. Integer products use VNNI `vpdpbusd` (u8 × i8, four products summed
/// into each i32 lane without saturation) and popcount uses VPOPCNTDQ.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use super::*;
    // Named explicitly: `std::arch` also exports a `bf16`.
    use half::{bf16, f16};
    use std::arch::x86_64::*;

    /// The first 64 bytes of `c` as a vector.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn ld512<T>(c: &[T]) -> __m512i {
        assert!(std::mem::size_of_val(c) >= 64);
        // SAFETY: the assert keeps the 64-byte unaligned read inside `c`.
        unsafe { _mm512_loadu_si512(c.as_ptr().cast()) }
    }

    /// All of `c` (at most 64 bytes) as a vector, zero-filled above its end.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn ld512_part<T>(c: &[T]) -> __m512i {
        let bytes = std::mem::size_of_val(c);
        assert!(bytes <= 64);
        let mask = if bytes == 64 {
            u64::MAX
        } else {
            (1u64 << bytes) - 1
        };
        // SAFETY: only the `bytes` lanes selected by `mask` are read, all inside `c`;
        // masked-off lanes are not accessed (AVX-512 suppresses their faults).
        unsafe { _mm512_maskz_loadu_epi8(mask, c.as_ptr().cast()) }
    }

    /// All of `c` (at most 32 bytes) as a vector, zero-filled above its end.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn ld256_part<T>(c: &[T]) -> __m256i {
        let bytes = std::mem::size_of_val(c);
        assert!(bytes <= 32);
        let mask = if bytes == 32 {
            u32::MAX
        } else {
            (1u32 << bytes) - 1
        };
        // SAFETY: as in `ld512_part`, only lanes inside `c` are read.
        unsafe { _mm256_maskz_loadu_epi8(mask, c.as_ptr().cast()) }
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn ps(c: &[f32]) -> __m512 {
        _mm512_castsi512_ps(ld512(c))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn ps_part(c: &[f32]) -> __m512 {
        _mm512_castsi512_ps(ld512_part(c))
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
        let mut acc = [_mm512_setzero_ps(); 4];
        let (ca, cb) = (a.chunks_exact(64), b.chunks_exact(64));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for (k, acc) in acc.iter_mut().enumerate() {
                *acc = _mm512_fmadd_ps(ps(&x[16 * k..]), ps(&y[16 * k..]), *acc);
            }
        }
        for (k, (x, y)) in ra.chunks(16).zip(rb.chunks(16)).enumerate() {
            acc[k] = _mm512_fmadd_ps(ps_part(x), ps_part(y), acc[k]);
        }
        let sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
        _mm512_reduce_add_ps(sum)
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn dot_norms_f32(a: &[f32], b: &[f32]) -> (f32, f32, f32) {
        let (mut ab, mut aa, mut bb) = (
            _mm512_setzero_ps(),
            _mm512_setzero_ps(),
            _mm512_setzero_ps(),
        );
        for (x, y) in a.chunks(16).zip(b.chunks(16)) {
            let (x, y) = (ps_part(x), ps_part(y));
            ab = _mm512_fmadd_ps(x, y, ab);
            aa = _mm512_fmadd_ps(x, x, aa);
            bb = _mm512_fmadd_ps(y, y, bb);
        }
        (
            _mm512_reduce_add_ps(ab),
            _mm512_reduce_add_ps(aa),
            _mm512_reduce_add_ps(bb),
        )
    }

    /// f32 dot over blocks of 16 halves, each `widen`ed to 16 f32 lanes.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn dot_widened(a: &[u16], b: &[u16], widen: impl Fn(__m256i) -> __m512) -> f32 {
        let mut acc = [_mm512_setzero_ps(); 2];
        let (ca, cb) = (a.chunks_exact(32), b.chunks_exact(32));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for (k, acc) in acc.iter_mut().enumerate() {
                let (x, y) = (&x[16 * k..16 * k + 16], &y[16 * k..16 * k + 16]);
                *acc = _mm512_fmadd_ps(widen(ld256_part(x)), widen(ld256_part(y)), *acc);
            }
        }
        for (k, (x, y)) in ra.chunks(16).zip(rb.chunks(16)).enumerate() {
            acc[k] = _mm512_fmadd_ps(widen(ld256_part(x)), widen(ld256_part(y)), acc[k]);
        }
        _mm512_reduce_add_ps(_mm512_add_ps(acc[0], acc[1]))
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn dot_f16(a: &[f16], b: &[f16]) -> f32 {
        // A zero-filled f16 lane widens to +0.0, so the masked tail adds nothing.
        let widen = |v| _mm512_cvtph_ps(v);
        dot_widened(a.reinterpret_cast(), b.reinterpret_cast(), widen)
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn dot_bf16(a: &[bf16], b: &[bf16]) -> f32 {
        // bf16 is the top half of an f32: zero-extend and shift up 16 bits, exactly.
        let widen = |v| _mm512_castsi512_ps(_mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(v)));
        dot_widened(a.reinterpret_cast(), b.reinterpret_cast(), widen)
    }

    /// (Σ uᵢ·sᵢ, Σ sᵢ) with uᵢ = u-bytes ^ `flip_u` read unsigned and sᵢ = s-bytes ^ `flip_s`
    /// read signed, the second sum only when `SUM_S`. `vpdpbusd` multiplies u8 × i8 only,
    /// so signed·signed and unsigned·unsigned dots are shifted onto it by flipping the top
    /// bit (x ^ 0x80 = x + 128 for i8, x − 128 for u8) and correcting with a sum.
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn dpbusd_dot<const SUM_S: bool>(u: &[u8], flip_u: u8, s: &[u8], flip_s: u8) -> (i32, i32) {
        assert!(
            flip_u ^ flip_s == 0x80 && (!SUM_S || flip_s == 0),
            "see the tail below"
        );
        let (fu, fs) = (
            _mm512_set1_epi8(flip_u as i8),
            _mm512_set1_epi8(flip_s as i8),
        );
        let ones = _mm512_set1_epi8(1);
        let mut acc = [_mm512_setzero_si512(); 2];
        let mut sum = _mm512_setzero_si512();
        let mut step = |x: __m512i, y: __m512i, acc: &mut __m512i| {
            let (x, y) = (_mm512_xor_si512(x, fu), _mm512_xor_si512(y, fs));
            *acc = _mm512_dpbusd_epi32(*acc, x, y);
            if SUM_S {
                sum = _mm512_dpbusd_epi32(sum, ones, y);
            }
        };
        let (cu, cs) = (u.chunks_exact(128), s.chunks_exact(128));
        let (ru, rs) = (cu.remainder(), cs.remainder());
        for (x, y) in cu.zip(cs) {
            for (k, acc) in acc.iter_mut().enumerate() {
                step(ld512(&x[64 * k..]), ld512(&y[64 * k..]), acc);
            }
        }
        for (k, (x, y)) in ru.chunks(64).zip(rs.chunks(64)).enumerate() {
            // Exactly one side is flipped, and the other side's zero-filled lanes make the
            // extra products 0; Σ s is only taken unflipped, so zero lanes add nothing.
            step(ld512_part(x), ld512_part(y), &mut acc[k]);
        }
        let dot = _mm512_reduce_add_epi32(_mm512_add_epi32(acc[0], acc[1]));
        (dot, _mm512_reduce_add_epi32(sum))
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn as_bytes(v: &[i8]) -> &[u8] {
        // SAFETY: i8 and u8 have the same size and alignment and every bit pattern is valid.
        unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), v.len()) }
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
        // Σ a·b = Σ (a + 128)·b − 128·Σ b. Zero-filled tail lanes: b = 0 kills the product
        // and adds nothing to Σ b.
        let (shifted, sum_b) = dpbusd_dot::<true>(as_bytes(a), 0x80, as_bytes(b), 0);
        shifted.wrapping_sub(sum_b.wrapping_mul(128))
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn dot_u8(a: &[u8], b: &[u8]) -> i32 {
        // Σ a·b = Σ a·(b − 128) + 128·Σ a. Zero-filled tail lanes: a = 0 kills the product.
        let (shifted, _) = dpbusd_dot::<false>(a, 0, b, 0x80);
        shifted.wrapping_add(sum_u8(a).wrapping_mul(128))
    }

    /// Σ aᵢ over uint8 via `vpsadbw` (sums of 8 bytes into 64-bit lanes).
    #[inline]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    fn sum_u8(a: &[u8]) -> i32 {
        let mut acc = _mm512_setzero_si512();
        for x in a.chunks(64) {
            acc = _mm512_add_epi64(acc, _mm512_sad_epu8(ld512_part(x), _mm512_setzero_si512()));
        }
        _mm512_reduce_add_epi64(acc) as i32
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn dot_i4_packed(a: &[u8], b: &[u8]) -> i32 {
        let low = _mm512_set1_epi8(0x0F);
        let mut acc = [_mm512_setzero_si512(); 2];
        for (x, y) in a.chunks(64).zip(b.chunks(64)) {
            let (x, y) = (ld512_part(x), ld512_part(y));
            // Nibbles are 0..15, valid both as the unsigned and the signed operand.
            let (xl, yl) = (_mm512_and_si512(x, low), _mm512_and_si512(y, low));
            let xh = _mm512_and_si512(_mm512_srli_epi16::<4>(x), low);
            let yh = _mm512_and_si512(_mm512_srli_epi16::<4>(y), low);
            acc[0] = _mm512_dpbusd_epi32(acc[0], xl, yl);
            acc[1] = _mm512_dpbusd_epi32(acc[1], xh, yh);
        }
        _mm512_reduce_add_epi32(_mm512_add_epi32(acc[0], acc[1]))
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn hamming(a: &[u8], b: &[u8]) -> u32 {
        let mut acc = [_mm512_setzero_si512(); 2];
        let (ca, cb) = (a.chunks_exact(128), b.chunks_exact(128));
        let (ra, rb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for (k, acc) in acc.iter_mut().enumerate() {
                let x = _mm512_xor_si512(ld512(&x[64 * k..]), ld512(&y[64 * k..]));
                *acc = _mm512_add_epi64(*acc, _mm512_popcnt_epi64(x));
            }
        }
        for (x, y) in ra.chunks(64).zip(rb.chunks(64)) {
            // Zero-filled lanes are equal, so they add no differing bits.
            let x = _mm512_xor_si512(ld512_part(x), ld512_part(y));
            acc[0] = _mm512_add_epi64(acc[0], _mm512_popcnt_epi64(x));
        }
        _mm512_reduce_add_epi64(_mm512_add_epi64(acc[0], acc[1])) as u32
    }

    row_loops! {#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")];
        scores_f32(f32) = |q, r| dot_f32(q, r);
        scores_f16(f16) = |q, r| dot_f16(q, r);
        scores_bf16(bf16) = |q, r| dot_bf16(q, r);
        scores_i4_packed(u8) = |q, r| dot_i4_packed(q, r) as f32;
        scores_binary(u8) = |q, r| similarity_from_hamming(q.len(), hamming(q, r)) as f32;
        scores_cosine_f32(f32) = |q, r| {
            let (qr, qq, rr) = dot_norms_f32(q, r);
            cosine_from(qr, qq, rr)
        };
    }

    /// Batched int8: with the row as the shifted unsigned operand, the correction
    /// −128·Σ q depends only on the query, so each row costs one `vpdpbusd` per 64 bytes.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn scores_i8(q: &[i8], rows: &[i8], out: &mut [f32]) {
        let correction = q
            .iter()
            .fold(0i32, |s, &x| s.wrapping_add(x as i32))
            .wrapping_mul(128);
        for (o, r) in out.iter_mut().zip(rows.chunks_exact(q.len())) {
            let (shifted, _) = dpbusd_dot::<false>(as_bytes(r), 0x80, as_bytes(q), 0);
            *o = shifted.wrapping_sub(correction) as f32;
        }
    }

    /// Batched uint8: with the query as the unsigned operand, the correction 128·Σ q is
    /// computed once.
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vnni,avx512vpopcntdq")]
    pub fn scores_u8(q: &[u8], rows: &[u8], out: &mut [f32]) {
        let correction = sum_u8(q).wrapping_mul(128);
        for (o, r) in out.iter_mut().zip(rows.chunks_exact(q.len())) {
            let (shifted, _) = dpbusd_dot::<false>(q, 0, r, 0x80);
            *o = shifted.wrapping_add(correction) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;
    use std::time::Instant;

    /// Awkward lengths around every block size the paths use (8, 16, 32, 64, 128).
    const LENS: &[usize] = &[
        0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 127, 128, 129, 383, 384,
        385, 1024, 1031,
    ];

    /// xorshift64*: deterministic, dependency-free test data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| self.next() as u8).collect()
        }
        fn floats(&mut self, n: usize) -> Vec<f32> {
            (0..n)
                .map(|_| (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
                .collect()
        }
    }

    fn signed(v: &[u8]) -> Vec<i8> {
        v.iter().map(|&x| x as i8).collect()
    }

    /// Float kernels may differ from the exact sum only by f32 summation-order noise.
    fn assert_close(got: f32, a: &[f64], b: &[f64], what: &str) {
        let exact: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let scale: f64 = a.iter().zip(b).map(|(x, y)| (x * y).abs()).sum();
        let tol = 1e-5 * scale + 1e-30;
        assert!(
            (got as f64 - exact).abs() <= tol || (got.is_infinite() && got as f64 == exact),
            "{what}: got {got}, exact {exact}, tol {tol}"
        );
    }

    fn wide<T: Copy>(v: &[T], f: impl Fn(T) -> f32) -> Vec<f64> {
        v.iter().map(|&x| f(x) as f64).collect()
    }

    fn check_floats(isa: Isa, a: &[f32], b: &[f32]) {
        let name = format!("{} n={}", isa.name(), a.len());
        let (wa, wb) = (wide(a, |x| x), wide(b, |x| x));
        assert_close(dot_f32_on(isa, a, b), &wa, &wb, &format!("dot_f32 {name}"));
        let (ha, hb): (Vec<f16>, Vec<f16>) = (
            a.iter().map(|&x| f16::from_f32(x)).collect(),
            b.iter().map(|&x| f16::from_f32(x)).collect(),
        );
        assert_close(
            dot_f16_on(isa, &ha, &hb),
            &wide(&ha, f16::to_f32),
            &wide(&hb, f16::to_f32),
            &format!("dot_f16 {name}"),
        );
        let (ba, bb): (Vec<bf16>, Vec<bf16>) = (
            a.iter().map(|&x| bf16::from_f32(x)).collect(),
            b.iter().map(|&x| bf16::from_f32(x)).collect(),
        );
        assert_close(
            dot_bf16_on(isa, &ba, &bb),
            &wide(&ba, bf16::to_f32),
            &wide(&bb, bf16::to_f32),
            &format!("dot_bf16 {name}"),
        );
        let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
        let exact = if norm(&wa) * norm(&wb) > 0.0 {
            wa.iter().zip(&wb).map(|(x, y)| x * y).sum::<f64>() / (norm(&wa) * norm(&wb))
        } else {
            0.0
        };
        let got = cosine_f32_on(isa, a, b);
        assert!(
            (got as f64 - exact).abs() <= 1e-5,
            "cosine {name}: got {got}, exact {exact}"
        );
    }

    /// Integer kernels must equal the scalar definition exactly (which is itself checked
    /// against an i64 sum while no overflow is possible).
    fn check_ints(isa: Isa, a: &[u8], b: &[u8]) {
        let name = format!("{} n={}", isa.name(), a.len());
        let (sa, sb) = (signed(a), signed(b));
        assert_eq!(
            dot_i8_on(isa, &sa, &sb),
            scalar::dot_i8(&sa, &sb),
            "dot_i8 {name}"
        );
        assert_eq!(dot_u8_on(isa, a, b), scalar::dot_u8(a, b), "dot_u8 {name}");
        assert_eq!(
            dot_i4_packed_on(isa, a, b),
            scalar::dot_i4_packed(a, b),
            "dot_i4 {name}"
        );
        assert_eq!(
            hamming_on(isa, a, b),
            scalar::hamming(a, b),
            "hamming {name}"
        );
        if a.len() < 30_000 {
            let i64dot = |x: &[i64], y: &[i64]| x.iter().zip(y).map(|(p, q)| p * q).sum::<i64>();
            let (ia, ib): (Vec<i64>, Vec<i64>) = (
                sa.iter().map(|&x| x as i64).collect(),
                sb.iter().map(|&x| x as i64).collect(),
            );
            assert_eq!(scalar::dot_i8(&sa, &sb) as i64, i64dot(&ia, &ib));
            let (ua, ub): (Vec<i64>, Vec<i64>) = (
                a.iter().map(|&x| x as i64).collect(),
                b.iter().map(|&x| x as i64).collect(),
            );
            assert_eq!(scalar::dot_u8(a, b) as i64, i64dot(&ua, &ub));
            let nibbles = |v: &[u8]| {
                v.iter()
                    .flat_map(|&x| [(x >> 4) as i64, (x & 15) as i64])
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                scalar::dot_i4_packed(a, b) as i64,
                i64dot(&nibbles(a), &nibbles(b))
            );
            let bits: u32 = a
                .iter()
                .zip(b)
                .map(|(x, y)| (0..8).filter(|k| (x ^ y) >> k & 1 == 1).count() as u32)
                .sum();
            assert_eq!(scalar::hamming(a, b), bits);
        }
    }

    #[test]
    fn detected_is_the_widest_supported_path() {
        let all = Isa::all_supported();
        assert_eq!(all[0], Isa::SCALAR);
        assert_eq!(Isa::detected(), *all.last().unwrap());
        assert_eq!(isa(), Isa::detected().name());
        eprintln!(
            "paths on this CPU: {:?}; detected: {}",
            all.iter().map(|i| i.name()).collect::<Vec<_>>(),
            isa()
        );
    }

    #[test]
    fn every_path_matches_the_definition_on_random_inputs() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for isa in Isa::all_supported() {
            for &n in LENS {
                for _ in 0..3 {
                    // One element of offset so loads are also exercised unaligned.
                    let (a, b) = (rng.bytes(n + 1), rng.bytes(n + 1));
                    check_ints(isa, &a[1..], &b[1..]);
                    let (a, b) = (rng.floats(n + 1), rng.floats(n + 1));
                    check_floats(isa, &a[1..], &b[1..]);
                }
            }
        }
    }

    #[test]
    fn extreme_values_match_exactly() {
        for isa in Isa::all_supported() {
            for &n in LENS {
                for (x, y) in [
                    (0x80u8, 0x80u8),
                    (0x80, 0x7F),
                    (0xFF, 0xFF),
                    (0xFF, 0x00),
                    (0x00, 0xFF),
                    (0x7F, 0x7F),
                ] {
                    check_ints(isa, &vec![x; n], &vec![y; n]);
                }
                let alt: Vec<u8> = (0..n)
                    .map(|i| if i % 2 == 0 { 0x80 } else { 0x7F })
                    .collect();
                check_ints(isa, &alt, &vec![0x80; n]);
                // Spot values, not only the definition: all-ones bits, i8::MIN², 255², 15².
                assert_eq!(hamming_on(isa, &vec![0xFF; n], &vec![0; n]), 8 * n as u32);
                assert_eq!(hamming_on(isa, &vec![0xFF; n], &vec![0xFF; n]), 0);
                assert_eq!(
                    binary_similarity_on(isa, &vec![0xFF; n], &vec![0; n]),
                    -8 * n as i32
                );
                assert_eq!(
                    binary_similarity_on(isa, &vec![0xA5; n], &vec![0xA5; n]),
                    8 * n as i32
                );
                assert_eq!(
                    dot_i8_on(isa, &vec![i8::MIN; n], &vec![i8::MIN; n]),
                    16384 * n as i32
                );
                assert_eq!(
                    dot_i8_on(isa, &vec![i8::MIN; n], &vec![i8::MAX; n]),
                    -16256 * n as i32
                );
                assert_eq!(
                    dot_u8_on(isa, &vec![255; n], &vec![255; n]),
                    65025 * n as i32
                );
                assert_eq!(
                    dot_i4_packed_on(isa, &vec![0xFF; n], &vec![0xFF; n]),
                    450 * n as i32
                );
                // f16 extremes: MAX² = 2047²·2^10 is exact in f32 (its sums round past n = 4).
                let big = vec![f16::MAX; n];
                let wbig = wide(&big, f16::to_f32);
                assert_close(dot_f16_on(isa, &big, &big), &wbig, &wbig, "f16::MAX²");
                let pow = vec![f16::from_f32(2048.0); n]; // 2^22 per term: every sum exact
                assert_eq!(dot_f16_on(isa, &pow, &pow), 4_194_304.0 * n as f32);
                let tiny = vec![f16::from_bits(1); n]; // smallest subnormal, 2^-24
                assert_eq!(
                    dot_f16_on(isa, &tiny, &big),
                    65504.0 * 2f32.powi(-24) * n as f32
                );
                let huge = vec![bf16::MAX; n];
                let want = if n == 0 { 0.0 } else { f32::INFINITY };
                assert_eq!(dot_bf16_on(isa, &huge, &huge), want);
                let sub = vec![bf16::from_bits(1); n]; // f32 subnormal after widening
                assert_eq!(
                    dot_bf16_on(isa, &sub, &vec![bf16::from_f32(2f32.powi(100)); n]),
                    2f32.powi(-133 + 100) * n as f32
                );
            }
        }
    }

    #[test]
    fn integer_sums_wrap_identically_past_i32() {
        // 16384 · (2^17 + 77) and 65025 · 40 001 both exceed i32::MAX.
        for isa in Isa::all_supported() {
            let n = (1 << 17) + 77;
            let m = vec![i8::MIN; n];
            assert_eq!(
                dot_i8_on(isa, &m, &m),
                (16384i64 * n as i64) as i32,
                "{}",
                isa.name()
            );
            let u = vec![255u8; 40_001];
            assert_eq!(
                dot_u8_on(isa, &u, &u),
                (65025i64 * 40_001) as i32,
                "{}",
                isa.name()
            );
            let mut out = [0.0f32; 2];
            scores_u8_on(isa, &u, &[u.clone(), u.clone()].concat(), 2, &mut out);
            assert_eq!(out, [(65025i64 * 40_001) as i32 as f32; 2]);
        }
    }

    #[test]
    fn batched_scores_match_pairwise_definitions() {
        let mut rng = Rng(42);
        for isa in Isa::all_supported() {
            for &dims in LENS {
                for n in [0usize, 1, 3, 17] {
                    let (q, rows) = (rng.bytes(dims), rng.bytes(dims * n));
                    let mut out = vec![f32::NAN; n];
                    let per_row = |f: &dyn Fn(&[u8]) -> f32| -> Vec<f32> {
                        if dims == 0 {
                            vec![0.0; n]
                        } else {
                            rows.chunks_exact(dims).map(f).collect()
                        }
                    };
                    let (sq, srows) = (signed(&q), signed(&rows));
                    scores_i8_on(isa, &sq, &srows, n, &mut out);
                    assert_eq!(
                        out,
                        per_row(&|r| scalar::dot_i8(&sq, &signed(r)) as f32),
                        "i8 {}",
                        isa.name()
                    );
                    scores_u8_on(isa, &q, &rows, n, &mut out);
                    assert_eq!(
                        out,
                        per_row(&|r| scalar::dot_u8(&q, r) as f32),
                        "u8 {}",
                        isa.name()
                    );
                    scores_i4_packed_on(isa, &q, &rows, n, &mut out);
                    assert_eq!(
                        out,
                        per_row(&|r| scalar::dot_i4_packed(&q, r) as f32),
                        "i4 {}",
                        isa.name()
                    );
                    scores_binary_on(isa, &q, &rows, n, &mut out);
                    let sim =
                        |r: &[u8]| (8 * dims as i32 - 2 * scalar::hamming(&q, r) as i32) as f32;
                    assert_eq!(out, per_row(&sim), "binary {}", isa.name());

                    let (q, rows) = (rng.floats(dims), rng.floats(dims * n));
                    let wq = wide(&q, |x| x);
                    let chunks = |d: usize| rows.chunks_exact(d.max(1)).take(n).collect::<Vec<_>>();
                    scores_f32_on(isa, &q, &rows, n, &mut out);
                    for (got, r) in out.iter().zip(chunks(dims)) {
                        assert_close(*got, &wq, &wide(r, |x| x), "scores_f32");
                    }
                    scores_cosine_f32_on(isa, &q, &rows, n, &mut out);
                    for (got, r) in out.iter().zip(chunks(dims)) {
                        assert!((got - cosine_f32_on(Isa::SCALAR, &q, r)).abs() <= 1e-5);
                    }
                    let hq: Vec<f16> = q.iter().map(|&x| f16::from_f32(x)).collect();
                    let hrows: Vec<f16> = rows.iter().map(|&x| f16::from_f32(x)).collect();
                    scores_f16_on(isa, &hq, &hrows, n, &mut out);
                    for (got, r) in out.iter().zip(hrows.chunks_exact(dims.max(1))) {
                        assert_close(
                            *got,
                            &wide(&hq, f16::to_f32),
                            &wide(r, f16::to_f32),
                            "scores_f16",
                        );
                    }
                    let bq: Vec<bf16> = q.iter().map(|&x| bf16::from_f32(x)).collect();
                    let brows: Vec<bf16> = rows.iter().map(|&x| bf16::from_f32(x)).collect();
                    scores_bf16_on(isa, &bq, &brows, n, &mut out);
                    for (got, r) in out.iter().zip(brows.chunks_exact(dims.max(1))) {
                        assert_close(
                            *got,
                            &wide(&bq, bf16::to_f32),
                            &wide(r, bf16::to_f32),
                            "scores_bf16",
                        );
                    }
                    if dims == 0 {
                        assert!(out.iter().all(|&s| s == 0.0));
                    }
                }
            }
        }
    }

    #[test]
    fn cosine_of_a_zero_vector_is_zero() {
        for isa in Isa::all_supported() {
            assert_eq!(cosine_f32_on(isa, &[0.0; 20], &[1.0; 20]), 0.0);
            assert_eq!(cosine_f32_on(isa, &[], &[]), 0.0);
            assert!((cosine_f32_on(isa, &[3.0; 20], &[0.5; 20]) - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    #[should_panic(expected = "operand lengths differ")]
    fn mismatched_lengths_panic() {
        dot_i8(&[1, 2, 3], &[1, 2]);
    }

    #[test]
    #[should_panic(expected = "rows.len() must be n")]
    fn mismatched_batch_panics() {
        scores_binary(&[0; 48], &[0; 100], 2, &mut [0.0; 2]);
    }

    /// Throughput of every path for 384-dim int8 and 384-bit binary codes, pairwise and
    /// batched over a 4096-row chunk:
    /// `cargo test --release -- --ignored --nocapture bench_compressed_kernels`.
    #[test]
    #[ignore]
    fn bench_compressed_kernels() {
        fn time(label: &str, bytes_per_op: usize, mut op: impl FnMut()) {
            let mut iters = 1u64;
            loop {
                let start = Instant::now();
                for _ in 0..iters {
                    op();
                }
                let secs = start.elapsed().as_secs_f64();
                if secs > 0.3 {
                    let ns = secs * 1e9 / iters as f64;
                    eprintln!(
                        "{label:<52} {ns:>12.1} ns/op {:>8.2} GB/s",
                        bytes_per_op as f64 / ns
                    );
                    return;
                }
                iters *= 2;
            }
        }
        const ROWS: usize = 4096;
        let mut rng = Rng(7);
        let (qi8, ri8) = (signed(&rng.bytes(384)), signed(&rng.bytes(384 * ROWS)));
        let (qbin, rbin) = (rng.bytes(48), rng.bytes(48 * ROWS));
        let mut out = vec![0.0f32; ROWS];
        eprintln!("detected path: {}", isa());
        for isa in Isa::all_supported() {
            let n = isa.name();
            time(&format!("dot_i8 384-d pair [{n}]"), 768, || {
                black_box(dot_i8_on(isa, black_box(&qi8), black_box(&ri8[..384])));
            });
            time(
                &format!("scores_i8 384-d x {ROWS} rows [{n}]"),
                384 * ROWS,
                || {
                    scores_i8_on(isa, black_box(&qi8), black_box(&ri8), ROWS, &mut out);
                    black_box(&out);
                },
            );
            time(&format!("hamming 384-bit pair [{n}]"), 96, || {
                black_box(hamming_on(isa, black_box(&qbin), black_box(&rbin[..48])));
            });
            time(
                &format!("scores_binary 384-bit x {ROWS} rows [{n}]"),
                48 * ROWS,
                || {
                    scores_binary_on(isa, black_box(&qbin), black_box(&rbin), ROWS, &mut out);
                    black_box(&out);
                },
            );
        }
    }
}
