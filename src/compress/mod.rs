//! Compressed embeddings: quantization codecs with sentence-transformers' and MTEB's semantics
//! ([`quantize`]), and similarity kernels that score the compressed codes directly, with
//! runtime SIMD dispatch ([`kernels`]).

pub mod kernels;
pub mod quantize;
