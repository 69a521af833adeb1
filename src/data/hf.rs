//! A task's data straight from its Hugging Face dataset repo, at the pinned revision: first
//! from the local Hugging Face cache (`datasets--<org>--<name>/snapshots/<sha>/…`, the layout
//! Python's `huggingface_hub` shares), else downloaded with hf-hub into that cache unless
//! offline. Which files hold a split is decided by [`super::data_files`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hf_hub::api::sync::ApiRepo;
use hf_hub::{Cache, Repo, RepoType};
use tracing::info;

use super::data_files::{has_data_extension, split_data_files, split_names};
use crate::error::{Error, Result};
use crate::hub::{
    build_api, check_repo_id, check_revision, default_cache_root, is_commit_sha, is_plain_sha,
    read_ref, ResolveOptions,
};
use crate::spec::DatasetRef;

const CARD: &str = "README.md";

/// One config of a dataset repo at one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubDataset {
    pub repo: String,
    pub revision: String,
    pub config: String,
    /// When the config lacks the requested split but has exactly one, read that one (MTEB's
    /// retrieval loader does this for the `corpus` and `queries` configs).
    pub take_only_split: bool,
    /// Split → file, where the revision is read through a loading script whose files the
    /// task file names ([`crate::spec::LoadingScript`]); the file names then decide nothing.
    pub script_files: Option<BTreeMap<String, String>>,
}

impl HubDataset {
    /// The repo, revision and config a task names; a fast-loading task reads the `default`
    /// config, which holds every language.
    pub fn of(dataset: &DatasetRef) -> Self {
        let config = if dataset.fast_loading {
            "default"
        } else {
            dataset.subset.as_str()
        };
        Self {
            repo: dataset.path.clone(),
            // The cache names snapshots by lowercase sha; branch and tag names keep their case.
            revision: if is_commit_sha(&dataset.revision) {
                dataset.revision.to_ascii_lowercase()
            } else {
                dataset.revision.clone()
            },
            config: config.to_string(),
            take_only_split: false,
            script_files: dataset
                .loading_script
                .as_ref()
                .map(|script| script.files.get(config).cloned().unwrap_or_default()),
        }
    }

    /// Another config of the same repo and revision.
    pub fn with_config(&self, config: &str, take_only_split: bool) -> Self {
        Self {
            config: config.to_string(),
            take_only_split,
            ..self.clone()
        }
    }

    /// The repo files holding `split` (or the config's only split, where allowed).
    fn files_of(
        &self,
        listing: &[String],
        card: Option<&str>,
        split: &str,
    ) -> std::result::Result<Vec<String>, String> {
        if let Some(files) = &self.script_files {
            return script_file(files, listing, &self.config, split);
        }
        let found = split_data_files(listing, card, &self.config, split);
        if found.is_ok() || !self.take_only_split {
            return found;
        }
        match split_names(listing, card, &self.config)?.as_slice() {
            [only] => split_data_files(listing, card, &self.config, only),
            _ => found,
        }
    }

    fn describe(&self) -> String {
        format!("{}@{} (config `{}`)", self.repo, self.revision, self.config)
    }

    fn cache_dir(&self, root: &Path) -> PathBuf {
        root.join(format!("datasets--{}", self.repo.replace('/', "--")))
    }

    fn hub_repo(&self, revision: &str) -> Repo {
        Repo::with_revision(self.repo.clone(), RepoType::Dataset, revision.to_string())
    }
}

/// The file a loading script reads for `split` of `config`, which the repo must hold.
fn script_file(
    files: &BTreeMap<String, String>,
    listing: &[String],
    config: &str,
    split: &str,
) -> std::result::Result<Vec<String>, String> {
    let Some(file) = files.get(split) else {
        return Err(format!(
            "the task file names no file that the loading script reads for split `{split}` \
             of config `{config}`"
        ));
    };
    if !listing.contains(file) {
        return Err(format!(
            "`{file}` (what the loading script reads for split `{split}` of config \
             `{config}`) is not in the repo"
        ));
    }
    if !has_data_extension(file) {
        return Err(format!("`{file}` is not a format leafbench reads"));
    }
    Ok(vec![file.clone()])
}

/// The local files holding `split`, in the order `datasets` reads them.
pub fn split_files(
    dataset: &HubDataset,
    split: &str,
    opts: &ResolveOptions,
) -> Result<Vec<PathBuf>> {
    let not_found = |looked: Vec<String>| Error::DatasetNotFound {
        dataset: dataset.describe(),
        split: split.to_string(),
        looked,
    };
    check_repo_id(&dataset.repo)
        .and_then(|_| check_revision(&dataset.revision))
        .map_err(|reason| not_found(vec![format!("malformed dataset name: {reason}")]))?;
    let Some(root) = opts.cache_dir.clone().or_else(default_cache_root) else {
        return Err(not_found(vec![
            "Hugging Face cache: no location (HF_HUB_CACHE, HF_HOME and HOME are unset)".into(),
        ]));
    };
    let mut looked = Vec::new();
    match cached_split_files(&root, dataset, split)? {
        Ok(files) => return Ok(files),
        Err(place) => looked.push(place),
    }
    if opts.offline || crate::hub::offline_from_env() {
        looked.push("download skipped: offline (HF_HUB_OFFLINE=1 or --offline)".into());
        return Err(not_found(looked));
    }
    download_split_files(&root, dataset, split).map_err(|reason| {
        looked.push(reason);
        not_found(looked)
    })
}

// ---------------------------------------------------------------------------------------------
// The cache

/// `Ok(Ok(files))` on a hit; `Ok(Err(line))` says where the cache was looked at and why it
/// did not serve; `Err` is a broken cache.
fn cached_split_files(
    root: &Path,
    dataset: &HubDataset,
    split: &str,
) -> Result<std::result::Result<Vec<PathBuf>, String>> {
    let repo_dir = dataset.cache_dir(root);
    let sha = if is_commit_sha(&dataset.revision) {
        dataset.revision.clone()
    } else {
        let refs = repo_dir.join("refs").join(&dataset.revision);
        match read_ref(&refs)? {
            Some(sha) => sha,
            None => {
                return Ok(Err(format!(
                    "Hugging Face cache: {} (missing)",
                    refs.display()
                )))
            }
        }
    };
    let snapshot = repo_dir.join("snapshots").join(&sha);
    if !snapshot.is_dir() {
        return Ok(Err(format!(
            "Hugging Face cache: {} (missing)",
            snapshot.display()
        )));
    }
    let listing = list_files(&snapshot)?;
    let card = read_card(&snapshot.join(CARD))?;
    Ok(dataset
        .files_of(&listing, card.as_deref(), split)
        .map(|files| files.iter().map(|f| snapshot.join(f)).collect())
        .map_err(|why| format!("Hugging Face cache: {}: {why}", snapshot.display())))
}

fn read_card(path: &Path) -> Result<Option<String>> {
    if !path.is_file() {
        return Ok(None);
    }
    std::fs::read_to_string(path)
        .map(Some)
        .map_err(|e| Error::io(path, e))
}

/// Every file under `dir` (following the cache's symlinks into `blobs/`), as sorted
/// `/`-separated paths relative to `dir`. A symlink whose blob is gone is left out.
fn list_files(dir: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = std::fs::read_dir(&current).map_err(|e| Error::io(&current, e))?;
        for entry in entries {
            let path = entry.map_err(|e| Error::io(&current, e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.is_file() {
                let rel = path.strip_prefix(dir).expect("listed inside dir");
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
    }
    out.sort();
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Download

/// Downloads the card and the split's files; the error is a line for the not-found message.
fn download_split_files(
    root: &Path,
    dataset: &HubDataset,
    split: &str,
) -> std::result::Result<Vec<PathBuf>, String> {
    // Tests work on caches they build; reaching the network from one is a bug in the test.
    if cfg!(test) {
        panic!("test reached the download step for {}", dataset.describe());
    }
    let failed =
        |e: &dyn std::fmt::Display| format!("download failed: {}: {e}", dataset.describe());
    let api = build_api(root).map_err(|e| failed(&e))?;
    let info = api
        .repo(dataset.hub_repo(&dataset.revision))
        .info()
        .map_err(|e| failed(&e))?;
    if !is_plain_sha(&info.sha) {
        return Err(failed(&format!(
            "the hub answered with commit {:?}",
            info.sha
        )));
    }
    // Every file comes from the one commit, even if a branch moves during the download.
    let repo = api.repo(dataset.hub_repo(&info.sha));
    let listing: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
    let card = if listing.iter().any(|f| f == CARD) {
        Some(fetch_text(&repo, CARD).map_err(|e| failed(&e))?)
    } else {
        None
    };
    let files = dataset
        .files_of(&listing, card.as_deref(), split)
        .map_err(|why| failed(&why))?;
    info!(
        "downloading {} split {split}: {} files into {}",
        dataset.describe(),
        files.len(),
        root.display()
    );
    let paths = files
        .iter()
        .map(|f| repo.get(f).map_err(|e| failed(&format!("{f}: {e}"))))
        .collect::<std::result::Result<Vec<PathBuf>, String>>()?;
    if !is_commit_sha(&dataset.revision) {
        let cache = Cache::new(root.to_path_buf()).repo(dataset.hub_repo(&dataset.revision));
        cache.create_ref(&info.sha).map_err(|e| failed(&e))?;
    }
    Ok(paths)
}

fn fetch_text(repo: &ApiRepo, file: &str) -> std::result::Result<String, String> {
    let path = repo.get(file).map_err(|e| format!("{file}: {e}"))?;
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn dataset(revision: &str, config: &str) -> HubDataset {
        HubDataset {
            repo: "mteb/tiny".into(),
            revision: revision.into(),
            config: config.into(),
            take_only_split: false,
            script_files: None,
        }
    }

    fn offline(root: &Path) -> ResolveOptions {
        ResolveOptions {
            offline: true,
            cache_dir: Some(root.to_path_buf()),
        }
    }

    /// A cache holding `files` in a snapshot, as symlinks into `blobs/` like the real one.
    fn cache_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        let repo = root.path().join("datasets--mteb--tiny");
        let snapshot = repo.join("snapshots").join(SHA);
        std::fs::create_dir_all(repo.join("blobs")).unwrap();
        for (i, (name, content)) in files.iter().enumerate() {
            let blob = repo.join("blobs").join(format!("blob{i}"));
            std::fs::write(&blob, content).unwrap();
            let link = snapshot.join(name);
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(&blob, &link).unwrap();
        }
        std::fs::create_dir_all(repo.join("refs")).unwrap();
        std::fs::write(repo.join("refs").join("main"), SHA).unwrap();
        root
    }

    #[test]
    fn finds_split_files_by_sha_and_by_ref() {
        let root = cache_with(&[("en/test.jsonl", "{}\n"), ("de/test.jsonl", "{}\n")]);
        for revision in [SHA, "main"] {
            let files =
                split_files(&dataset(revision, "en"), "test", &offline(root.path())).unwrap();
            assert_eq!(files.len(), 1);
            assert!(files[0].ends_with("en/test.jsonl"), "{files:?}");
        }
    }

    #[test]
    fn offline_misses_list_every_place_looked() {
        let root = cache_with(&[("en/test.jsonl", "{}\n")]);
        let err = split_files(&dataset("v2", "en"), "test", &offline(root.path()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("refs/v2 (missing)") && err.contains("offline"),
            "{err}"
        );
        let err = split_files(&dataset(SHA, "en"), "validation", &offline(root.path()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mteb/tiny@")
                && err.contains("split `validation`")
                && err.contains("no file is named"),
            "{err}"
        );
    }

    /// A loading script's files are read as the task file names them, whatever the
    /// conventions say (`test.jsonl` here would hold the test split of `default`).
    #[test]
    fn a_loading_scripts_files_are_taken_as_named() {
        let root = cache_with(&[
            ("data/EN_valid.tsv", "sentence\tlabel\n"),
            ("test.jsonl", "{}\n"),
            ("tiny.py", "# loading script\n"),
        ]);
        let mut script = dataset(SHA, "en");
        let files = BTreeMap::from([
            ("validation".to_string(), "data/EN_valid.tsv".to_string()),
            ("test".to_string(), "data/EN_test.tsv".to_string()),
        ]);
        script.script_files = Some(files);
        let opts = offline(root.path());
        let found = split_files(&script, "validation", &opts).unwrap();
        assert!(found[0].ends_with("data/EN_valid.tsv"), "{found:?}");
        let err = split_files(&script, "test", &opts).unwrap_err().to_string();
        assert!(
            err.contains("`data/EN_test.tsv` (what the loading script reads for split `test`"),
            "{err}"
        );
        let err = split_files(&script, "train", &opts)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("names no file that the loading script reads"),
            "{err}"
        );
    }

    #[test]
    fn pruned_blobs_do_not_count() {
        let root = cache_with(&[("test.jsonl", "{}\n")]);
        std::fs::remove_file(root.path().join("datasets--mteb--tiny/blobs/blob0")).unwrap();
        let err = split_files(&dataset(SHA, "default"), "test", &offline(root.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no file is named for split `test`"), "{err}");
    }
}
