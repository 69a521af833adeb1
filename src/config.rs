//! Run configurations (`configs/*.yaml`): which models, which tasks, where data and results
//! live. A model is one sentence-transformers folder (possibly a Router), or an asymmetric
//! pair of a query model and a document model.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::compress::setting::{CalibrationPolicy, Grid};
use crate::data::DataOrigin;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub models: Vec<ModelEntry>,
    /// Task names or task types (e.g. `STS`).
    pub tasks: Vec<String>,
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    #[serde(default)]
    pub data_dir: Option<PathBuf>,
    /// `auto` (the local mirror for the tasks it holds, the hub for the rest), `local` or `hub`.
    #[serde(default)]
    pub data_source: DataOrigin,
    #[serde(default = "default_out")]
    pub output_dir: PathBuf,
    /// A grid of truncation dims × storage levels evaluated from one encode per text.
    #[serde(default)]
    pub compression: Option<Grid>,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelEntry {
    /// `org/name` as published; names the results folder and finds published scores.
    pub name: String,
    /// Revision to download and to name the results folder (default `main`).
    #[serde(default)]
    pub revision: Option<String>,
    /// A local folder to load instead of resolving `name@revision`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// An asymmetric pair: the model that encodes queries…
    #[serde(default)]
    pub query: Option<String>,
    /// …and the one that encodes documents and symmetric texts.
    #[serde(default)]
    pub document: Option<String>,
}

fn default_batch() -> usize {
    64
}
fn default_out() -> PathBuf {
    PathBuf::from("results")
}

impl RunConfig {
    /// Parses a config file; relative paths in it are taken relative to the file's folder.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let mut cfg: RunConfig = serde_saphyr::from_str(&text)
            .map_err(|e| Error::invalid(path, format!("not a valid run configuration: {e}")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        cfg.rebase(base);
        cfg.check(path)?;
        Ok(cfg)
    }

    fn rebase(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(d) = self.data_dir.as_mut() {
            fix(d)
        }
        fix(&mut self.output_dir);
        if let Some(Grid {
            calibration: CalibrationPolicy::File(p),
            ..
        }) = self.compression.as_mut()
        {
            fix(p)
        }
        for m in &mut self.models {
            if let Some(p) = m.path.as_mut() {
                fix(p)
            }
        }
    }

    fn check(&self, path: &Path) -> Result<()> {
        if let Some(grid) = &self.compression {
            grid.check().map_err(|what| Error::invalid(path, what))?;
        }
        if self.models.is_empty() || self.tasks.is_empty() {
            return Err(Error::invalid(
                path,
                "`models` and `tasks` must each name at least one entry",
            ));
        }
        for m in &self.models {
            if m.query.is_some() != m.document.is_some() {
                return Err(Error::invalid(
                    path,
                    format!(
                        "model `{}`: an asymmetric pair needs both `query` and `document`",
                        m.name
                    ),
                ));
            }
            if m.path.is_some() && m.query.is_some() {
                return Err(Error::invalid(
                    path,
                    format!(
                        "model `{}`: give either `path` or `query`/`document`",
                        m.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl ModelEntry {
    pub fn revision(&self) -> &str {
        self.revision.as_deref().unwrap_or("main")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_follow_the_config_file_and_typos_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.yaml");
        std::fs::write(
            &path,
            "models:\n  - name: org/m\n    path: models/m\ntasks: [STS]\ndata_dir: data\n",
        )
        .unwrap();
        let cfg = RunConfig::load(&path).unwrap();
        assert_eq!(
            cfg.models[0].path.as_deref(),
            Some(dir.path().join("models/m").as_path())
        );
        assert_eq!(cfg.output_dir, dir.path().join("results"));
        std::fs::write(
            &path,
            "models:\n  - name: org/m\ntasks: [STS]\nbatch_sise: 3\n",
        )
        .unwrap();
        let err = RunConfig::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("run.yaml") && err.contains("batch_sise") && err.contains("line 4"),
            "{err}"
        );
    }
}
