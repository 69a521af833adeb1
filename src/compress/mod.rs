//! Compressed embeddings: the grid of truncation dims × storage levels a run evaluates
//! ([`setting`]), quantization codecs with sentence-transformers' and MTEB's semantics
//! ([`quantize`]), one cell's view of a task's embeddings ([`compressor`], [`view`]), and
//! similarity kernels that score the compressed codes directly, with runtime SIMD dispatch
//! ([`kernels`]).

pub mod compressor;
pub mod kernels;
pub mod quantize;
pub mod setting;
pub mod view;
