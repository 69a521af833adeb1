//! Library errors. Every variant names the file (or record) at fault and what was expected,
//! so a user can fix a model folder or an input file without reading the source.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid JSON ({source})")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {what}")]
    Invalid { path: PathBuf, what: String },
    #[error("{path}: missing file ({what})")]
    MissingFile { path: PathBuf, what: String },
    #[error("{path}: unknown module type `{type_name}`; expected one of Transformer, Pooling, Dense, Normalize, Router")]
    UnknownModule { path: PathBuf, type_name: String },
    #[error("{path}: tensor `{name}`: {what}")]
    Tensor {
        path: PathBuf,
        name: String,
        what: String,
    },
    #[error("{path}: line {line}: {what}")]
    Line {
        path: PathBuf,
        line: usize,
        what: String,
    },
    #[error("{path}: {at}: {what}")]
    Record {
        path: PathBuf,
        /// `line 3`, `row 3` or `row 1, list item 3`.
        at: String,
        what: String,
    },
    #[error("{}", dataset_not_found(.dataset, .split, .looked))]
    DatasetNotFound {
        dataset: String,
        split: String,
        looked: Vec<String>,
    },
    #[error("{task}: {what}")]
    Unsupported { task: String, what: String },
    #[error("{task}: {what}")]
    DataUnavailable { task: String, what: String },
    #[error("model {model}: the embedding of text {} (`{text}`) holds NaN or infinity; the model's weights or numerics are broken, so nothing was scored", .row + 1)]
    NonFinite {
        model: String,
        /// 0-based row of the text in its encode call.
        row: usize,
        text: String,
    },
    #[error("{task}: the main score ({metric}) of split `{split}` is undefined (NaN): the split is too small or degenerate for it (e.g. one row, or constant gold scores); nothing was saved")]
    UndefinedScore {
        task: String,
        split: String,
        metric: String,
    },
    #[error("{setting}: {what}")]
    Compression { setting: String, what: String },
    #[error("embedding server {url}: {what}")]
    Served { url: String, what: String },
    #[error("{0}")]
    Hub(#[from] crate::hub::HubError),
    #[error("tensor computation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

fn dataset_not_found(dataset: &str, split: &str, looked: &[String]) -> String {
    let mut message = format!("split `{split}` of dataset {dataset} not found; looked in:");
    for place in looked {
        message.push_str("\n  - ");
        message.push_str(place);
    }
    message
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Whether the error only says a task's data cannot be had here (not in the mirror, not in
    /// the cache, no download), so a run can go on with the other tasks.
    pub fn is_data_unavailable(&self) -> bool {
        matches!(
            self,
            Error::DatasetNotFound { .. }
                | Error::MissingFile { .. }
                | Error::DataUnavailable { .. }
        )
    }

    pub fn invalid(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        Error::Invalid {
            path: path.into(),
            what: what.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Reads and parses a JSON file, naming the file in any error.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &std::path::Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingFile {
                path: path.to_path_buf(),
                what: "expected by the model folder".into(),
            }
        } else {
            Error::io(path, e)
        }
    })?;
    serde_json::from_str(&text).map_err(|source| Error::Json {
        path: path.to_path_buf(),
        source,
    })
}
