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
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_records(path, bytes, file)
}

/// The records of the bytes of a file named `path` (a member of an archive has no file of its
/// own; it is named after the archive and the member).
pub fn parse_records(path: &Path, bytes: Vec<u8>, file: usize) -> Result<Vec<Record>> {
    let text = decode(path, bytes)?;
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

fn decode(path: &Path, mut bytes: Vec<u8>) -> Result<String> {
    if path.extension().is_some_and(|e| e == "gz") {
        let mut plain = Vec::new();
        GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut plain)
            .map_err(|e| Error::invalid(path, format!("not a readable gzip file: {e}")))?;
        bytes = plain;
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        Error::Line {
            path: path.to_path_buf(),
            line: valid.iter().filter(|&&b| b == b'\n').count() + 1,
            what: format!(
                "not valid UTF-8 (byte {} of the line); expected UTF-8 JSON text",
                valid.len() - line_start + 1
            ),
        }
    })
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

    #[test]
    fn bytes_that_are_not_utf8_are_named_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.jsonl");
        std::fs::write(&path, b"{\"text\": \"ok\"}\n{\"text\": \"bad \xff\"}\n").unwrap();
        let err = read_records(&path, 0).unwrap_err().to_string();
        assert!(
            err.contains("test.jsonl: line 2: not valid UTF-8 (byte 15 of the line)"),
            "{err}"
        );
    }
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
