//! Tasks: their definitions (`spec`) and the set of them a run can name (`registry`).

pub mod benchmark;
pub mod classification;
pub mod clustering;
pub mod exact_search;
pub mod pair_classification;
pub mod registry;
pub mod reranking;
pub mod retrieval;
pub mod scores;
pub mod spec;
pub mod sts;
pub mod summarization;

pub use registry::Registry;
pub use spec::{TaskKind, TaskSpec};
