//! Run configurations (`configs/*.yaml`): which models, which tasks, where data and results
//! live. A model is one sentence-transformers folder (possibly a Router), or an asymmetric
//! pair of a query model and a document model.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::compress::setting::{CalibrationPolicy, Grid, Semantics};
use crate::data::check::SkipCheck;
use crate::data::DataOrigin;
use crate::error::{Error, Result};
use crate::hub::{check_repo_id, check_revision};
use crate::report::results_json::model_dir_name;
use crate::task::TaskRef;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    pub models: Vec<ModelEntry>,
    /// Task names or task types (e.g. `STS`), or `{name, subsets}` to evaluate some of a
    /// task's subsets.
    pub tasks: Vec<TaskRef>,
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
    /// Whether a run that leaves requested tasks unevaluated (no data here) still succeeds;
    /// otherwise it exits with status 3.
    #[serde(default)]
    pub allow_partial: bool,
    /// Tasks whose loaded data is not checked against MTEB's statistics of it (`true`: all),
    /// e.g. a local copy known to differ by a few characters.
    #[serde(default)]
    pub no_data_check: SkipCheck,
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
    /// A model behind an embedding server, instead of a folder run here.
    #[serde(default)]
    pub endpoint: Option<crate::served::Endpoint>,
}

fn default_batch() -> usize {
    64
}
fn default_out() -> PathBuf {
    PathBuf::from("results")
}

impl RunConfig {
    /// The compute precisions each model is encoded at: float32, then the grid's others.
    pub fn precisions(&self) -> Vec<crate::encoder::Precision> {
        let mut out = vec![crate::encoder::Precision::Float32];
        if let Some(grid) = &self.compression {
            out.extend(grid.lower_precisions().copied());
        }
        out
    }

    /// The grid's calibration file, when its texts are encoded (sentence-transformers
    /// semantics learn the scalar ranges from them, once per model).
    pub fn calibration_file(&self) -> Option<&Path> {
        match &self.compression {
            Some(Grid {
                calibration: CalibrationPolicy::File(path),
                semantics: Semantics::SentenceTransformers,
                ..
            }) => Some(path),
            _ => None,
        }
    }

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
        for m in &mut self.models {
            if let Some(dir) = m.endpoint.as_mut().and_then(|e| e.truncate_like.as_mut()) {
                fix(dir)
            }
        }
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
        if self.batch_size == 0 {
            return Err(Error::invalid(
                path,
                "`batch_size` is 0; expected at least 1 text per batch",
            ));
        }
        self.check_result_folders(path)?;
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
            if let Some(endpoint) = &m.endpoint {
                if m.path.is_some() || m.query.is_some() {
                    return Err(Error::invalid(
                        path,
                        format!(
                            "model `{}`: give either `endpoint` or a folder (`path`, `query`/`document`)",
                            m.name
                        ),
                    ));
                }
                if let Some(problem) = endpoint.problem() {
                    return Err(Error::invalid(
                        path,
                        format!("model `{}`: {problem}", m.name),
                    ));
                }
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

impl RunConfig {
    /// Names and revisions become results folders: each must be a valid hub name and one
    /// folder, and no two models may share a folder (`org/model` and `org__model` do).
    fn check_result_folders(&self, path: &Path) -> Result<()> {
        let mut seen: Vec<(String, &str, &str)> = Vec::new();
        for m in &self.models {
            m.check_names()
                .map_err(|why| Error::invalid(path, format!("model `{}`: {why}", m.name)))?;
            let folder = model_dir_name(&m.name);
            if let Some((_, other, _)) = seen
                .iter()
                .find(|(f, _, rev)| *f == folder && *rev == m.revision())
            {
                return Err(Error::invalid(
                    path,
                    format!(
                        "models `{other}` and `{}` (revision {}) would share the results folder \
                         {folder}; give them distinct names",
                        m.name,
                        m.revision()
                    ),
                ));
            }
            seen.push((folder, &m.name, m.revision()));
        }
        Ok(())
    }
}

impl ModelEntry {
    pub fn revision(&self) -> &str {
        self.revision.as_deref().unwrap_or("main")
    }

    /// The hub's naming rules for the name and revision; a revision is also one folder.
    fn check_names(&self) -> std::result::Result<(), String> {
        check_repo_id(&self.name)
            .map_err(|why| format!("`name` must be `org/name` as on the hub: {why}"))?;
        let rev = self.revision();
        check_revision(rev).map_err(|why| format!("`revision`: {why}"))?;
        if rev.contains('/') {
            return Err(format!(
                "`revision: {rev}` contains `/`, and a revision names one results folder; \
                 give the commit sha instead"
            ));
        }
        Ok(())
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

    fn load_error(yaml: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.yaml");
        std::fs::write(&path, yaml).unwrap();
        RunConfig::load(&path).unwrap_err().to_string()
    }

    #[test]
    fn names_and_revisions_cannot_leave_the_results_folder() {
        for (model, expect) in [
            ("{name: '..', path: m}", "`name` must be"),
            ("{name: org/m, path: m, revision: /abs/dir}", "`revision`"),
            ("{name: org/m, path: m, revision: ../../x}", "`revision`"),
            ("{name: org/m, path: m, revision: a/b}", "contains `/`"),
        ] {
            let err = load_error(&format!("models:\n  - {model}\ntasks: [STS]\n"));
            assert!(err.contains(expect), "{model}: {err}");
        }
    }

    #[test]
    fn two_models_cannot_share_a_results_folder() {
        let err = load_error(
            "models:\n  - {name: a/b__c, path: m}\n  - {name: a__b/c, path: n}\ntasks: [STS]\n",
        );
        assert!(
            err.contains("`a/b__c` and `a__b/c`") && err.contains("a__b__c"),
            "{err}"
        );
        let ok = "models:\n  - {name: a/b, path: m}\n  - {name: a/b, path: m, revision: v2}\ntasks: [STS]\n";
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("r.yaml"), ok).unwrap();
        assert!(RunConfig::load(&dir.path().join("r.yaml")).is_ok());
    }

    #[test]
    fn a_served_model_is_an_endpoint_instead_of_a_folder() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/served-port.yaml");
        let cfg = RunConfig::load(&shipped).unwrap();
        assert!(cfg.models[0].path.is_some(), "the reference runs here");
        let endpoint = cfg.models[1].endpoint.as_ref().unwrap();
        assert_eq!((endpoint.batch_size, endpoint.concurrency), (64, 4));
        let err = load_error(
            "models:\n  - {name: a/b, path: m, endpoint: {url: 'http://x/e'}}\ntasks: [STS]\n",
        );
        assert!(err.contains("give either `endpoint` or a folder"), "{err}");
        let err = load_error(
            "models:\n  - {name: a/b, endpoint: {url: 'http://x/e', concurrency: 0}}\ntasks: [STS]\n",
        );
        assert!(err.contains("at least 1"), "{err}");
    }

    #[test]
    fn a_zero_batch_size_is_refused() {
        let err = load_error("models:\n  - {name: a/b, path: m}\ntasks: [STS]\nbatch_size: 0\n");
        assert!(err.contains("`batch_size` is 0"), "{err}");
    }
}
