//! Named benchmarks (`tasks/benchmarks/*.yaml`: a `name` and its `tasks`), such as
//! "MTEB(eng, v2)", which `leafbench report --benchmark` aggregates over.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::task::TaskRef;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Benchmark {
    pub name: String,
    /// Task names, or `{name, subsets}` where the benchmark evaluates some of a task's subsets.
    pub tasks: Vec<TaskRef>,
}

impl Benchmark {
    /// The benchmarks folder beside a task folder.
    pub fn dir(tasks_dir: &Path) -> PathBuf {
        tasks_dir.join("benchmarks")
    }

    /// Every benchmark in `dir`, sorted by file name.
    pub fn load_all(dir: &Path) -> Result<Vec<Benchmark>> {
        let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| {
                let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
                serde_saphyr::from_str(&text)
                    .map_err(|e| Error::invalid(p, format!("not a benchmark definition: {e}")))
            })
            .collect()
    }

    /// The names of the benchmark's tasks, in order.
    pub fn task_names(&self) -> Vec<String> {
        self.tasks.iter().map(|t| t.name().to_string()).collect()
    }

    /// The benchmark called `name`; a miss lists the known names.
    pub fn find(dir: &Path, name: &str) -> Result<Benchmark> {
        let all = Self::load_all(dir)?;
        let names: Vec<String> = all.iter().map(|b| format!("\"{}\"", b.name)).collect();
        all.into_iter().find(|b| b.name == name).ok_or_else(|| {
            Error::invalid(
                dir,
                format!("no benchmark named \"{name}\"; known: {}", names.join(", ")),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_english_benchmark_has_41_known_tasks() {
        let tasks = crate::task::Registry::default_dir();
        let b = Benchmark::find(&Benchmark::dir(&tasks), "MTEB(eng, v2)").unwrap();
        assert_eq!(b.tasks.len(), 41);
        let registry = crate::task::Registry::load(&tasks).unwrap();
        assert_eq!(registry.resolve(&b.tasks).unwrap().len(), 41);
        let err = Benchmark::find(&Benchmark::dir(&tasks), "MTEB(fra)")
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"MTEB(eng, v2)\""), "{err}");
    }
}
