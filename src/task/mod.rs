//! Tasks: their definitions (`spec`) and the set of them a run can name (`registry`).

pub mod registry;
pub mod scores;
pub mod spec;
pub mod sts;

pub use registry::Registry;
pub use spec::{TaskKind, TaskSpec};
