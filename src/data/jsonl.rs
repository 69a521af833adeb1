//! JSON Lines files of typed rows; a bad row is reported with its file and line.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

pub fn read_rows<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|e| Error::Line {
                path: path.to_path_buf(),
                line: i + 1,
                what: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Row {
        score: f64,
    }

    #[test]
    fn bad_rows_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.jsonl");
        std::fs::write(&path, "{\"score\": 1}\n{\"score\": \"high\"}\n").unwrap();
        let err = read_rows::<Row>(&path).unwrap_err().to_string();
        assert!(
            err.contains("test.jsonl: line 2") && err.contains("invalid type: string"),
            "{err}"
        );
        std::fs::write(&path, "{\"score\": 1}\n\n{\"other\": 2}\n").unwrap();
        let err = read_rows::<Row>(&path).unwrap_err().to_string();
        assert!(
            err.contains("line 3") && err.contains("missing field `score`"),
            "{err}"
        );
    }
}
