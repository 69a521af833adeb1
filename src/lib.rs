//! leafbench: an MTEB-style evaluation harness for text-embedding models on candle.

pub mod bench;
pub mod bench_search;
pub mod chunks;
pub mod compress;
pub mod config;
pub mod data;
pub mod embed_file;
pub mod embedder;
pub mod embeddings;
pub mod encoder;
pub mod error;
pub mod evaluate;
pub mod hub;
pub mod learn;
pub mod memory;
pub mod metrics;
pub mod model_encoders;
pub mod output;
pub mod parity;
pub mod plan;
pub mod report;
pub mod rng;
pub mod run;
pub mod served;
pub mod shard;
pub mod shard_encode;
pub mod similarity;
pub mod spec;
pub mod store;
pub mod task;
pub mod task_inputs;
pub mod text_stats;
pub mod texts;

pub use embeddings::Embeddings;
pub use encoder::{EncodeOptions, Encoder, Role};
pub use error::{Error, Result};
