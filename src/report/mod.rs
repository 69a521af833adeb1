//! What a run leaves behind: MTEB-format result files (`results_json`) and the comparison
//! with published scores (`published`).

pub mod published;
pub mod results_json;
pub mod summary;
