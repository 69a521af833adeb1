//! Parquet data files (what the hub stores for most MTEB datasets), read with polars and
//! turned into one record per row. Columns of strings, integers, floats, booleans and
//! (nested) lists of those are read; integers stay integers, so labels keep their type.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;
use serde_json::{Map, Number, Value};

use super::records::{Place, Record};
use crate::error::{Error, Result};

/// The records of one file; `file` is the index the records will carry.
pub fn read_records(path: &Path, file: usize) -> Result<Vec<Record>> {
    let handle = File::open(path).map_err(|e| Error::io(path, e))?;
    let frame = ParquetReader::new(handle)
        .finish()
        .map_err(|e| Error::invalid(path, format!("not a readable Parquet file: {e}")))?;
    let mut rows: Vec<Map<String, Value>> = vec![Map::new(); frame.height()];
    for column in frame.columns() {
        let series = column.as_materialized_series();
        let values = series_values(series)
            .map_err(|what| Error::invalid(path, format!("column `{}`: {what}", series.name())))?;
        for (row, value) in rows.iter_mut().zip(values) {
            row.insert(series.name().to_string(), value);
        }
    }
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, fields)| Record {
            fields: Value::Object(fields),
            file,
            place: Place::Row(i + 1),
        })
        .collect())
}

/// One JSON value per element of `series`; nulls become `null`.
fn series_values(series: &Series) -> std::result::Result<Vec<Value>, String> {
    let failed = |e: PolarsError| e.to_string();
    let dtype = series.dtype();
    let values = match dtype {
        DataType::String => series
            .str()
            .map_err(failed)?
            .iter()
            .map(|v| v.map_or(Value::Null, |s| Value::String(s.to_string())))
            .collect(),
        DataType::Boolean => series
            .bool()
            .map_err(failed)?
            .iter()
            .map(|v| v.map_or(Value::Null, Value::Bool))
            .collect(),
        DataType::Float32 | DataType::Float64 => series
            .cast(&DataType::Float64)
            .map_err(failed)?
            .f64()
            .map_err(failed)?
            .iter()
            .map(|v| {
                v.and_then(Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            })
            .collect(),
        DataType::UInt64 => series
            .u64()
            .map_err(failed)?
            .iter()
            .map(|v| v.map_or(Value::Null, |x| Value::Number(x.into())))
            .collect(),
        d if d.is_integer() => series
            .cast(&DataType::Int64)
            .map_err(failed)?
            .i64()
            .map_err(failed)?
            .iter()
            .map(|v| v.map_or(Value::Null, |x| Value::Number(x.into())))
            .collect(),
        DataType::List(_) => {
            let lists = series.list().map_err(failed)?;
            let mut out = Vec::with_capacity(series.len());
            for item in lists.amortized_iter() {
                out.push(match item {
                    Some(inner) => Value::Array(series_values(inner.as_ref())?),
                    None => Value::Null,
                });
            }
            out
        }
        DataType::Null => vec![Value::Null; series.len()],
        other => {
            return Err(format!(
                "has type {other}; leafbench reads strings, numbers, booleans and lists of them"
            ))
        }
    };
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_types() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.parquet");
        let mut frame = df!(
            "text" => ["a", "b"],
            "label" => [3i64, 7],
            "score" => [0.5f32, 4.25],
        )
        .unwrap();
        let lists = Series::new(
            "summaries".into(),
            [
                Series::new("".into(), ["x", "y"]),
                Series::new("".into(), ["z"]),
            ],
        );
        frame.with_column(lists.into()).unwrap();
        ParquetWriter::new(File::create(&path).unwrap())
            .finish(&mut frame)
            .unwrap();
        let recs = read_records(&path, 2).unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].place, Place::Row(2));
        assert_eq!(recs[1].file, 2);
        let r = &recs[1].fields;
        assert_eq!(r["text"], "b");
        assert_eq!(r["label"], 7);
        assert_eq!(r["score"], 4.25);
        assert_eq!(r["summaries"], serde_json::json!(["z"]));
    }

    #[test]
    fn a_file_that_is_not_parquet_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.parquet");
        std::fs::write(&path, b"not parquet").unwrap();
        let err = read_records(&path, 0).unwrap_err().to_string();
        assert!(
            err.contains("test.parquet: not a readable Parquet file"),
            "{err}"
        );
    }
}
