//! Tab-separated files with a header line (BEIR's `qrels/<split>.tsv`): every value is kept
//! as text; the typed layer parses numbers. A line with the wrong number of fields is named.

use std::path::Path;

use serde_json::{Map, Value};

use super::records::{Place, Record};
use crate::error::{Error, Result};

/// The records of one file; `file` is the index the records will carry.
pub fn read_records(path: &Path, file: usize) -> Result<Vec<Record>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let columns: Vec<&str> = header.split('\t').map(str::trim).collect();
    lines
        .map(|(i, line)| {
            let place = Place::Line(i + 1);
            let values: Vec<&str> = line.split('\t').collect();
            if values.len() != columns.len() {
                return Err(Error::Record {
                    path: path.to_path_buf(),
                    at: place.to_string(),
                    what: format!(
                        "{} tab-separated fields, but the header names {} ({})",
                        values.len(),
                        columns.len(),
                        columns.join(", ")
                    ),
                });
            }
            let fields: Map<String, Value> = columns
                .iter()
                .zip(values)
                .map(|(c, v)| (c.to_string(), Value::String(v.trim().to_string())))
                .collect();
            Ok(Record {
                fields: Value::Object(fields),
                file,
                place,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_the_columns_and_bad_lines_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.tsv");
        std::fs::write(
            &path,
            "query-id\tcorpus-id\tscore\nq1\td1\t1\n\nq2\td7\t2\n",
        )
        .unwrap();
        let recs = read_records(&path, 0).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].fields["corpus-id"], "d7");
        assert_eq!(recs[1].place, Place::Line(4));
        std::fs::write(&path, "query-id\tcorpus-id\tscore\nq1\td1\n").unwrap();
        let err = read_records(&path, 0).unwrap_err().to_string();
        assert!(
            err.contains("test.tsv: line 2: 2 tab-separated fields"),
            "{err}"
        );
    }
}
