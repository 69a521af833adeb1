//! JSON data files as `datasets` reads them: JSON Lines (one object per line), or one JSON
//! array of objects; either may be gzip-compressed (`.gz`). A bad line is reported with its
//! file and line.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;
use serde_json::Value;

use super::records::{Place, Record};
use crate::error::{Error, Result};

/// The records of one file; `file` is the index the records will carry.
pub fn read_records(path: &Path, file: usize) -> Result<Vec<Record>> {
    let text = read_text(path)?;
    if text.trim_start().starts_with('[') {
        return array_records(path, &text, file);
    }
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| {
            let place = Place::Line(i + 1);
            let fields: Value = serde_json::from_str(line).map_err(|e| Error::Record {
                path: path.to_path_buf(),
                at: place.to_string(),
                what: e.to_string(),
            })?;
            object_record(path, fields, file, place)
        })
        .collect()
}

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let not_text = |e: &dyn std::fmt::Display| {
        Error::invalid(path, format!("not readable as UTF-8 JSON text: {e}"))
    };
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_string(&mut text)
            .map_err(|e| not_text(&e))?;
        Ok(text)
    } else {
        String::from_utf8(bytes).map_err(|e| not_text(&e))
    }
}

fn array_records(path: &Path, text: &str, file: usize) -> Result<Vec<Record>> {
    let items: Vec<Value> = serde_json::from_str(text).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })?;
    items
        .into_iter()
        .enumerate()
        .map(|(i, fields)| object_record(path, fields, file, Place::Row(i + 1)))
        .collect()
}

fn object_record(path: &Path, fields: Value, file: usize, place: Place) -> Result<Record> {
    if !fields.is_object() {
        return Err(Error::Record {
            path: path.to_path_buf(),
            at: place.to_string(),
            what: "expected a JSON object (one row with named columns)".into(),
        });
    }
    Ok(Record {
        fields,
        file,
        place,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    #[test]
    fn lines_arrays_and_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("test.jsonl");
        std::fs::write(&plain, "{\"a\": 1}\n\n{\"a\": 2}\n").unwrap();
        let recs = read_records(&plain, 0).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].place, Place::Line(3));

        let gz = dir.path().join("test.json.gz");
        let mut enc = GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"[{\"a\": 1}, {\"a\": 2}, {\"a\": 3}]")
            .unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let recs = read_records(&gz, 4).unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!((recs[2].file, recs[2].place), (4, Place::Row(3)));
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.jsonl");
        std::fs::write(&path, "{\"score\": 1}\n{\"score\": \n").unwrap();
        let err = read_records(&path, 0).unwrap_err().to_string();
        assert!(err.contains("test.jsonl: line 2: EOF"), "{err}");
        std::fs::write(&path, "{\"score\": 1}\n[1, 2]\n").unwrap();
        let err = read_records(&path, 0).unwrap_err().to_string();
        assert!(err.contains("line 2: expected a JSON object"), "{err}");
    }
}
