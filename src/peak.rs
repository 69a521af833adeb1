//! The machine's measured peak of each arithmetic the encoder can use: float32 FMA
//! (`vfmadd231ps`), bf16 pair dot products (`vdpbf16ps`) and uint8×int8 quad dot products
//! (`vpdpbusd`), on 512-bit registers, one thread per core. A short loop of independent
//! accumulators, so the figure is the issue rate, not the latency; encoder throughput is then
//! stated as a share of it.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

/// Operations per second (a multiply and an add count as two).
#[derive(Debug, Serialize)]
pub struct Peak {
    pub arithmetic: &'static str,
    pub threads: usize,
    pub gops: f64,
}

/// Peaks of the arithmetics this CPU has, on `threads` threads (the current rayon pool).
pub fn measure() -> Vec<Peak> {
    let threads = rayon::current_num_threads();
    let mut out = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        let has = |f: &str| match f {
            "avx512f" => std::arch::is_x86_feature_detected!("avx512f"),
            "avx512bf16" => std::arch::is_x86_feature_detected!("avx512bf16"),
            "avx512vnni" => std::arch::is_x86_feature_detected!("avx512vnni"),
            _ => false,
        };
        if has("avx512f") {
            out.push(run("float32 fma", threads, kernels::FMA_OPS, |n| unsafe {
                kernels::fma(n)
            }));
        }
        if has("avx512f") && has("avx512bf16") {
            out.push(run("bf16 dot", threads, kernels::BF16_OPS, |n| unsafe {
                kernels::bf16(n)
            }));
        }
        if has("avx512f") && has("avx512vnni") {
            out.push(run("int8 dot", threads, kernels::INT8_OPS, |n| unsafe {
                kernels::int8(n)
            }));
        }
    }
    out
}

/// Best of five timings of `iters` loop trips on every thread at once.
fn run(
    name: &'static str,
    threads: usize,
    ops_per_iter: f64,
    f: impl Fn(u64) -> f32 + Sync,
) -> Peak {
    let iters: u64 = 20_000_000;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let sink: f32 = (0..threads).into_par_iter().map(|_| f(iters)).sum();
        best = best.min(start.elapsed().as_secs_f64());
        std::hint::black_box(sink);
    }
    Peak {
        arithmetic: name,
        threads,
        gops: (ops_per_iter * iters as f64 * threads as f64 / best / 1e9 * 10.0).round() / 10.0,
    }
}

#[cfg(target_arch = "x86_64")]
mod kernels {
    use std::arch::x86_64::*;

    /// Independent accumulators per loop trip: enough to cover each instruction's latency.
    const CHAINS: usize = 12;
    pub const FMA_OPS: f64 = (CHAINS * 16 * 2) as f64;
    pub const BF16_OPS: f64 = (CHAINS * 16 * 2 * 2) as f64;
    pub const INT8_OPS: f64 = (CHAINS * 16 * 4 * 2) as f64;

    #[target_feature(enable = "avx512f")]
    pub unsafe fn fma(iters: u64) -> f32 {
        let x = _mm512_set1_ps(std::hint::black_box(1.0e-7));
        let y = _mm512_set1_ps(std::hint::black_box(0.999_999));
        let mut acc = [_mm512_set1_ps(1.0); CHAINS];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_fmadd_ps(*a, y, x);
            }
        }
        acc.iter().map(|a| _mm512_reduce_add_ps(*a)).sum()
    }

    #[target_feature(enable = "avx512f,avx512bf16")]
    pub unsafe fn bf16(iters: u64) -> f32 {
        let x: __m512bh = std::mem::transmute(_mm512_set1_epi32(std::hint::black_box(0x3f80_3f80)));
        let mut acc = [_mm512_setzero_ps(); CHAINS];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_dpbf16_ps(*a, x, x);
            }
        }
        acc.iter().map(|a| _mm512_reduce_add_ps(*a)).sum()
    }

    #[target_feature(enable = "avx512f,avx512vnni")]
    pub unsafe fn int8(iters: u64) -> f32 {
        let x = _mm512_set1_epi8(std::hint::black_box(1));
        let mut acc = [_mm512_setzero_si512(); CHAINS];
        for _ in 0..iters {
            for a in acc.iter_mut() {
                *a = _mm512_dpbusd_epi32(*a, x, x);
            }
        }
        acc.iter().map(|a| _mm512_reduce_add_epi32(*a) as f32).sum()
    }
}
