//! The rows of one split, whatever file format they came from, each remembering where it was
//! read so that a bad value is reported with its file and line or row.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Where a record sits in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// 1-based line of a JSON Lines file.
    Line(usize),
    /// 1-based row of a Parquet file.
    Row(usize),
    /// 1-based position in the lists of a row that holds a whole split as lists.
    Item { row: usize, item: usize },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Line(n) => write!(f, "line {n}"),
            Place::Row(n) => write!(f, "row {n}"),
            Place::Item { row, item } => write!(f, "row {row}, list item {item}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Always a JSON object: column name → value.
    pub fields: Value,
    /// Index into [`SplitRecords::files`].
    pub file: usize,
    pub place: Place,
}

impl Record {
    fn object_mut(&mut self) -> &mut Map<String, Value> {
        if !self.fields.is_object() {
            self.fields = Value::Object(Map::new());
        }
        self.fields.as_object_mut().expect("just made an object")
    }
}

/// All records of one split, in file order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SplitRecords {
    pub files: Vec<PathBuf>,
    pub records: Vec<Record>,
}

impl SplitRecords {
    /// The file that names the split in messages about it as a whole.
    pub fn origin(&self) -> &Path {
        self.files
            .first()
            .map(PathBuf::as_path)
            .unwrap_or(Path::new("."))
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// `other`'s records after these, each still naming its own file.
    pub fn append(&mut self, other: SplitRecords) {
        let offset = self.files.len();
        self.files.extend(other.files);
        self.records.extend(other.records.into_iter().map(|mut r| {
            r.file += offset;
            r
        }));
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// An error about one record.
    pub fn error_at(&self, record: &Record, what: impl Into<String>) -> Error {
        Error::Record {
            path: self.files[record.file].clone(),
            at: record.place.to_string(),
            what: what.into(),
        }
    }

    /// Fails unless the split has at least one record.
    pub fn require_rows(&self) -> Result<()> {
        if self.is_empty() {
            return Err(Error::invalid(
                self.origin(),
                "split is empty; expected at least one row",
            ));
        }
        Ok(())
    }

    /// Deserializes every record into `T`, naming the first bad one.
    pub fn typed<T: DeserializeOwned>(&self) -> Result<Vec<T>> {
        self.records
            .iter()
            .map(|r| T::deserialize(&r.fields).map_err(|e| self.error_at(r, e.to_string())))
            .collect()
    }

    /// Renames columns (`from` → `to`), as MTEB's task transforms do after loading.
    pub fn rename(&mut self, renames: &[(String, String)]) {
        for record in &mut self.records {
            let fields = record.object_mut();
            for (from, to) in renames {
                if let Some(v) = fields.remove(from) {
                    fields.insert(to.clone(), v);
                }
            }
        }
    }

    /// Keeps the records whose `column` equals `value` and drops the column: MTEB's "fast
    /// loading" stores every language of a task in one config with a `lang` column.
    pub fn keep_where(&mut self, column: &str, value: &str) -> Result<()> {
        if let Some(r) = self.records.iter().find(|r| r.fields.get(column).is_none()) {
            return Err(self.error_at(r, format!("missing column `{column}`")));
        }
        self.records
            .retain(|r| r.fields.get(column).and_then(Value::as_str) == Some(value));
        for r in &mut self.records {
            r.object_mut().remove(column);
        }
        Ok(())
    }

    /// A split stored as one row of parallel lists becomes one record per list position.
    /// Splits stored row by row are left alone.
    pub fn explode_single_row(&mut self) -> Result<()> {
        let [only] = self.records.as_slice() else {
            return Ok(());
        };
        let Some(columns) = only.fields.as_object() else {
            return Ok(());
        };
        let lists: Vec<(&String, &Vec<Value>)> = columns
            .iter()
            .filter_map(|(k, v)| v.as_array().map(|a| (k, a)))
            .collect();
        if lists.is_empty() || lists.len() != columns.len() {
            return Ok(());
        }
        let n = lists[0].1.len();
        if let Some((k, a)) = lists.iter().find(|(_, a)| a.len() != n) {
            return Err(self.error_at(
                only,
                format!(
                    "list column `{k}` has {} items but `{}` has {n}",
                    a.len(),
                    lists[0].0
                ),
            ));
        }
        let row = match only.place {
            Place::Row(r) | Place::Line(r) | Place::Item { row: r, .. } => r,
        };
        let file = only.file;
        let exploded = (0..n)
            .map(|i| Record {
                fields: Value::Object(
                    lists
                        .iter()
                        .map(|(k, a)| ((*k).clone(), a[i].clone()))
                        .collect(),
                ),
                file,
                place: Place::Item { row, item: i + 1 },
            })
            .collect();
        self.records = exploded;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn split(rows: Vec<Value>) -> SplitRecords {
        SplitRecords {
            files: vec![PathBuf::from("d/test.parquet")],
            records: rows
                .into_iter()
                .enumerate()
                .map(|(i, v)| Record {
                    fields: v,
                    file: 0,
                    place: Place::Row(i + 1),
                })
                .collect(),
        }
    }

    #[test]
    fn renames_filters_and_explodes() {
        let mut s = split(vec![
            json!({"sent1": ["a", "b"], "sent2": ["c", "d"], "labels": [1, 0]}),
        ]);
        s.rename(&[
            ("sent1".into(), "sentence1".into()),
            ("sent2".into(), "sentence2".into()),
        ]);
        s.explode_single_row().unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.records[1].fields["sentence2"], json!("d"));
        assert_eq!(s.records[1].place, Place::Item { row: 1, item: 2 });

        let mut langs = split(vec![
            json!({"lang": "en", "x": 1}),
            json!({"lang": "de", "x": 2}),
        ]);
        langs.keep_where("lang", "en").unwrap();
        assert_eq!(langs.len(), 1);
        assert!(langs.records[0].fields.get("lang").is_none());
    }

    #[test]
    fn bad_records_name_file_and_place() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Row {
            score: f64,
        }
        let s = split(vec![json!({"score": 1.0}), json!({"score": "high"})]);
        let err = s.typed::<Row>().unwrap_err().to_string();
        assert!(
            err.starts_with("d/test.parquet: row 2: invalid type: string"),
            "{err}"
        );
        let mut ragged = split(vec![json!({"a": [1, 2], "b": [1]})]);
        let err = ragged.explode_single_row().unwrap_err().to_string();
        assert!(
            err.contains("row 1") && err.contains("`b` has 1 items"),
            "{err}"
        );
        let mut no_lang = split(vec![json!({"x": 1})]);
        let err = no_lang.keep_where("lang", "en").unwrap_err().to_string();
        assert!(err.contains("row 1: missing column `lang`"), "{err}");
    }
}
