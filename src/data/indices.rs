//! Precomputed test-split cuts: MTEB reduces some test splits with Hugging Face's
//! `train_test_split(test_size=2048, seed=42)` (stratified for some tasks), which is not worth
//! re-implementing. `scripts/make_split_indices.py` computes the kept positions with the
//! `datasets` library and stores them as `tasks/indices/<Task>.json`.

use std::path::Path;

use serde::Deserialize;

use crate::error::{read_json, Error, Result};

#[derive(Deserialize)]
struct IndexFile {
    /// Rows of the split the positions were computed for.
    n: usize,
    indices: Vec<usize>,
}

/// The positions, in the order MTEB keeps them, of the rows of `task`'s test split that MTEB
/// evaluates; the split must have the row count the file was made for.
pub fn subsample_indices(dir: &Path, task: &str, n_rows: usize) -> Result<Vec<usize>> {
    let path = dir.join(format!("{task}.json"));
    if !path.is_file() {
        return Err(Error::DataUnavailable {
            task: task.to_string(),
            what: format!(
                "MTEB evaluates a subsample of its test split, and the positions of that \
                 subsample ({}) are not available here",
                path.display()
            ),
        });
    }
    let file: IndexFile = read_json(&path)?;
    if file.n != n_rows {
        return Err(Error::invalid(
            &path,
            format!(
                "made for a split of {} rows, but the data has {n_rows}; the data is not \
                 the revision the positions were computed for",
                file.n
            ),
        ));
    }
    if let Some(bad) = file.indices.iter().find(|&&i| i >= n_rows) {
        return Err(Error::invalid(
            &path,
            format!("position {bad} is past the split's {n_rows} rows"),
        ));
    }
    Ok(file.indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_must_fit_the_split() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("T.json"),
            r#"{"n": 5, "indices": [4, 0, 2]}"#,
        )
        .unwrap();
        assert_eq!(subsample_indices(dir.path(), "T", 5).unwrap(), [4, 0, 2]);
        let err = subsample_indices(dir.path(), "T", 6)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("made for a split of 5 rows, but the data has 6"),
            "{err}"
        );
        let err = subsample_indices(dir.path(), "U", 5).unwrap_err();
        assert!(err.is_data_unavailable(), "{err}");
    }
}
