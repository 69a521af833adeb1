//! The task definitions in a folder (`tasks/` by default), looked up by name or by type.

use std::path::{Path, PathBuf};

use super::spec::{TaskSpec, TASK_TYPES};
use super::task_ref::TaskRef;
use crate::error::{Error, Result};

pub struct Registry {
    dir: PathBuf,
    tasks: Vec<TaskSpec>,
}

impl Registry {
    /// The folder given, else `LEAFBENCH_TASKS_DIR`, else `./tasks`, else the `tasks/`
    /// folder of the source tree leafbench was built from.
    pub fn default_dir() -> PathBuf {
        if let Some(d) = std::env::var_os("LEAFBENCH_TASKS_DIR") {
            return PathBuf::from(d);
        }
        let local = PathBuf::from("tasks");
        if local.is_dir() {
            return local;
        }
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks")
    }

    /// Loads every `*.yaml` in `dir`, sorted by name.
    pub fn load(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        paths.sort();
        let tasks = paths
            .iter()
            .map(|p| TaskSpec::load(p))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            dir: dir.to_path_buf(),
            tasks,
        })
    }

    /// The folder the task files were read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn all(&self) -> &[TaskSpec] {
        &self.tasks
    }

    /// The task a key names: `Name` for the definition the published scores used, or
    /// `Name@edition` for another one.
    pub fn get(&self, name: &str) -> Result<&TaskSpec> {
        self.tasks.iter().find(|t| t.key() == name).ok_or_else(|| {
            let keys: Vec<String> = self.tasks.iter().map(TaskSpec::key).collect();
            let close: Vec<&str> = keys
                .iter()
                .map(String::as_str)
                .filter(|n| {
                    n.to_lowercase().contains(&name.to_lowercase())
                        || name.to_lowercase().contains(&n.to_lowercase())
                })
                .take(5)
                .collect();
            Error::invalid(
                &self.dir,
                format!(
                    "unknown task `{name}`{}; `leafbench tasks` lists them",
                    suggestion(&close)
                ),
            )
        })
    }

    /// Tasks of one type (case-insensitive), e.g. `STS` or `sts`; other editions are named
    /// only by key.
    pub fn of_type(&self, type_name: &str) -> Result<Vec<&TaskSpec>> {
        let canonical = TASK_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(type_name))
            .ok_or_else(|| {
                Error::invalid(
                    &self.dir,
                    format!(
                        "unknown task type `{type_name}`; expected one of {}",
                        TASK_TYPES.join(", ")
                    ),
                )
            })?;
        Ok(self
            .tasks
            .iter()
            .filter(|t| t.type_name() == *canonical && t.edition.is_none())
            .collect())
    }

    /// A name or a type; names win.
    pub fn select(&self, name_or_type: &str) -> Result<Vec<&TaskSpec>> {
        if let Ok(t) = self.get(name_or_type) {
            return Ok(vec![t]);
        }
        if TASK_TYPES
            .iter()
            .any(|t| t.eq_ignore_ascii_case(name_or_type))
        {
            return self.of_type(name_or_type);
        }
        self.get(name_or_type).map(|t| vec![t])
    }

    /// The tasks `refs` name, in order, each once (the first mention wins), narrowed to the
    /// subsets a reference selects. Two editions of one task are an error: both would write
    /// the task's one result file.
    pub fn resolve(&self, refs: &[TaskRef]) -> Result<Vec<TaskSpec>> {
        let mut out: Vec<TaskSpec> = Vec::new();
        for r in refs {
            let picked: Vec<TaskSpec> = match r {
                TaskRef::Name(name) => self.select(name)?.into_iter().cloned().collect(),
                TaskRef::Selection(_) => {
                    let task = self.get(r.name())?;
                    vec![task
                        .with_selection(r.subsets(), r.eval_splits())
                        .map_err(|e| Error::invalid(&self.dir, e))?]
                }
            };
            for t in picked {
                match out.iter().find(|o| o.name == t.name) {
                    None => out.push(t),
                    Some(o) if o.key() != t.key() => {
                        return Err(Error::invalid(
                            &self.dir,
                            format!(
                                "`{}` and `{}` are two definitions of task `{}`; a run \
                                 evaluates one of them",
                                o.key(),
                                t.key(),
                                t.name
                            ),
                        ))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(out)
    }

    /// This registry with the tasks `refs` select narrowed to their subsets (a benchmark's
    /// view of the tasks); the other tasks are unchanged.
    pub fn narrowed(&self, refs: &[TaskRef]) -> Result<Registry> {
        let selected = self.resolve(refs)?;
        let tasks = self
            .tasks
            .iter()
            .map(|t| {
                selected
                    .iter()
                    .find(|s| s.key() == t.key())
                    .unwrap_or(t)
                    .clone()
            })
            .collect();
        Ok(Registry {
            dir: self.dir.clone(),
            tasks,
        })
    }
}

fn suggestion(close: &[&str]) -> String {
    if close.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", close.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Registry {
        Registry::load(&Registry::default_dir()).unwrap()
    }

    #[test]
    fn a_selection_narrows_a_task_to_its_subsets_in_mteb_order() {
        let registry = shipped();
        let refs: Vec<TaskRef> = serde_saphyr::from_str(
            "- {name: STS17, subsets: [es-es, en-en]}\n- STS17\n- STSBenchmark\n",
        )
        .unwrap();
        let tasks = registry.resolve(&refs).unwrap();
        let names: Vec<&str> = tasks.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["STS17", "STSBenchmark"], "first mention wins");
        assert_eq!(tasks[0].subsets(), ["en-en", "es-es"]);
        assert_eq!(tasks[0].languages_of("es-es"), ["spa-Latn"]);
        let narrowed = registry.narrowed(&refs).unwrap();
        assert_eq!(narrowed.get("STS17").unwrap().subsets(), ["en-en", "es-es"]);
        assert_eq!(narrowed.get("STS22.v2").unwrap().subsets().len(), 18);
    }

    #[test]
    fn an_edition_is_named_by_its_key_and_never_run_beside_its_default() {
        let registry = shipped();
        let default = registry.get("AskUbuntuDupQuestions").unwrap();
        assert_eq!(default.edition, None);
        let mteb2 = registry.get("AskUbuntuDupQuestions@mteb2").unwrap();
        assert_eq!(mteb2.name, "AskUbuntuDupQuestions");
        assert!(mteb2.dataset.top_ranked);
        let rerankers = registry.of_type("reranking").unwrap();
        assert!(
            rerankers.iter().all(|t| t.edition.is_none()),
            "a type names the default editions"
        );
        let refs: Vec<TaskRef> =
            serde_saphyr::from_str("- MindSmallReranking@mteb2\n- MindSmallReranking\n").unwrap();
        let err = match registry.resolve(&refs) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("two editions were resolved together"),
        };
        assert!(
            err.contains("two definitions of task `MindSmallReranking`"),
            "{err}"
        );
        let refs: Vec<TaskRef> =
            serde_saphyr::from_str("- MindSmallReranking@mteb2\n- Reranking\n").unwrap();
        assert!(
            registry.resolve(&refs).is_err(),
            "the type adds the default edition"
        );
    }

    #[test]
    fn an_unknown_subset_is_named_with_the_task_s_subsets() {
        let refs: Vec<TaskRef> =
            serde_saphyr::from_str("- {name: ClusTREC-Covid, subsets: [abstract]}\n").unwrap();
        let err = match shipped().resolve(&refs) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("an unknown subset was accepted"),
        };
        assert!(
            err.contains("no subset `abstract`; it has title and abstract, title"),
            "{err}"
        );
    }
}
