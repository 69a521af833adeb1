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
pub mod sts;
pub mod summarization;
pub mod task_ref;

/// Task definitions live in [`crate::spec`], which data loading needs too; re-exported for the
/// evaluators' paths.
pub use crate::spec;
pub use registry::Registry;
pub use spec::{TaskKind, TaskSpec};
pub use task_ref::TaskRef;
