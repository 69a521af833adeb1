//! The local mirror layout: `<data>/<Task>/[<subset>/]<split>.jsonl`, one folder per task,
//! a subfolder per hf_subset other than `default`.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::spec::TaskSpec;

/// The data folder: the one given, else `LEAFBENCH_DATA_DIR`, else `../shared/data`.
pub fn default_data_dir() -> PathBuf {
    std::env::var_os("LEAFBENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../shared/data"))
}

/// Whether the mirror has a folder for `task`.
pub fn holds_task(data_dir: &Path, task: &TaskSpec) -> bool {
    data_dir.join(task.key()).is_dir()
}

/// The folder of `task`: `<data>/<Task>` (`<data>/<Task>@<edition>` for another edition), or
/// `<data>/<Task>/<subset>` for a subset other than `default`.
pub fn task_dir(data_dir: &Path, task: &TaskSpec) -> PathBuf {
    let dir = data_dir.join(task.key());
    if task.dataset.subset == "default" {
        dir
    } else {
        dir.join(&task.dataset.subset)
    }
}

/// The file holding `split` of `task`, which must exist.
pub fn split_file(data_dir: &Path, task: &TaskSpec, split: &str) -> Result<PathBuf> {
    existing_file(&task_dir(data_dir, task), &format!("{split}.jsonl"), task)
}

/// `dir/rel`, which must exist.
pub fn existing_file(dir: &Path, rel: &str, task: &TaskSpec) -> Result<PathBuf> {
    let path = dir.join(rel);
    if !path.is_file() {
        return Err(Error::MissingFile {
            path,
            what: format!(
                "{rel} of {} (expected <data>/<Task>/[<subset>/]{rel})",
                task.key()
            ),
        });
    }
    Ok(path)
}
