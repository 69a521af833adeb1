//! What a run leaves behind: MTEB-format result files (`results_json`) and the comparison
//! with published scores (`published`).

pub mod compare;
pub mod leaderboard;
pub mod plot;
pub mod plots;
pub mod published;
pub mod results_json;
pub mod sources;
pub mod summary;
