//! Turning a model name into a local sentence-transformers model folder.
//!
//! A model is named either by a local folder path or by a Hugging Face repo id,
//! `org/name[@revision]`; the revision defaults to `main` and may be a branch, a tag or a
//! 40-hex commit sha. [`resolve_model`] looks in this order and stops at the first hit:
//!
//! 1. **Local folder.** An existing directory is returned, canonicalized. A name that looks like
//!    a path (starts with `.`, `/` or `~`) or that names an existing file is never reinterpreted
//!    as a repo id, so a mistyped path fails here instead of going to the network.
//! 2. **Hugging Face cache**, in the layout shared with Python's `huggingface_hub`:
//!    `<root>/models--<org>--<name>/refs/<revision>` holds a commit sha, and the files live in
//!    `<root>/models--<org>--<name>/snapshots/<sha>/` (usually as symlinks into `blobs/`).
//!    A sha revision skips `refs/` and names the snapshot directly. The root is
//!    [`ResolveOptions::cache_dir`], else `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
//!    `~/.cache/huggingface/hub`. A snapshot counts only if it holds `modules.json` or
//!    `config.json`.
//! 3. **Download** with `hf-hub` into that same cache, so the result is again a snapshot folder.
//!    Skipped when offline ([`ResolveOptions::offline`], or `HF_HUB_OFFLINE` set to `1`, `true`,
//!    `yes` or `on`). Only the files a sentence-transformers model needs are fetched; see
//!    [`files_to_download`].
//!
//! When every step misses, [`HubError::NotFound`] lists each place that was looked at.

use std::ffi::OsString;
use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use hf_hub::api::sync::{Api, ApiBuilder, ApiRepo};
use hf_hub::api::RepoInfo;
use hf_hub::{Cache, Repo, RepoType};
use tracing::info;

const DEFAULT_REVISION: &str = "main";
const OFFLINE_NOTE: &str = "download skipped: offline (HF_HUB_OFFLINE=1 or --offline)";
/// A snapshot holding neither file cannot be loaded, so it is treated as absent.
const SNAPSHOT_MARKERS: [&str; 2] = ["modules.json", "config.json"];
/// The hub's own limit on the length of an org or repo name.
const MAX_NAME_LEN: usize = 96;

/// How [`resolve_model`] may look for a model.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolveOptions {
    /// Never download; only local folders and the cache are consulted.
    pub offline: bool,
    /// Cache root; `None` means the standard Hugging Face location taken from the environment.
    pub cache_dir: Option<PathBuf>,
}

impl ResolveOptions {
    /// Options for a command line run: offline if `offline_flag` (`--offline`) or
    /// `HF_HUB_OFFLINE` says so, with the cache root taken from the environment.
    pub fn from_env(offline_flag: bool) -> Self {
        Self {
            offline: offline_flag || offline_from_env(),
            cache_dir: default_cache_root(),
        }
    }
}

/// A Hugging Face model repo at a given revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubModelId {
    /// `org/name`, as written on the hub.
    pub org_name: String,
    /// Branch, tag or commit sha (commit shas are kept lowercase, as the cache stores them).
    pub revision: String,
}

impl HubModelId {
    /// Whether the revision is an exact commit rather than a movable branch or tag.
    pub fn is_commit(&self) -> bool {
        is_commit_sha(&self.revision)
    }

    fn cache_folder(&self) -> String {
        format!("models--{}", self.org_name.replace('/', "--"))
    }

    fn to_repo(&self) -> Repo {
        Repo::with_revision(
            self.org_name.clone(),
            RepoType::Model,
            self.revision.clone(),
        )
    }
}

impl fmt::Display for HubModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.org_name, self.revision)
    }
}

/// Why a model could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("malformed model name `{name}`: {reason} (expected a local folder or `org/name[@revision]`)")]
    MalformedName { name: String, reason: String },

    #[error("`{}` exists but is not a directory; a model must be a folder", .path.display())]
    NotADirectory { path: PathBuf },

    #[error("{}", not_found_message(.model, .looked))]
    NotFound { model: String, looked: Vec<String> },

    #[error(
        "broken Hugging Face cache: {} points at snapshot {}, which is missing or holds neither \
         modules.json nor config.json; run online (without --offline or HF_HUB_OFFLINE) to \
         download it again",
        .refs.display(),
        .snapshot.display()
    )]
    DanglingRef { refs: PathBuf, snapshot: PathBuf },

    #[error("broken Hugging Face cache: {} should hold a commit sha but holds {content:?}", .refs.display())]
    BadRef { refs: PathBuf, content: String },

    #[error("download of {repo}@{revision} from the Hugging Face hub failed: {detail}")]
    Download {
        repo: String,
        revision: String,
        detail: String,
    },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn not_found_message(model: &str, looked: &[String]) -> String {
    let mut message = format!("model `{model}` not found; looked in:");
    for place in looked {
        message.push_str("\n  - ");
        message.push_str(place);
    }
    message
}

/// Resolves `name` to a local folder holding the whole model; see the module docs for the order.
///
/// # Errors
///
/// [`HubError::NotFound`] when no step finds the model, and the other variants when a step
/// finds something unusable: a malformed name, a path that is not a folder, a broken cache or
/// a download that fails part-way.
pub fn resolve_model(name: &str, opts: &ResolveOptions) -> Result<PathBuf, HubError> {
    if name.trim().is_empty() {
        return Err(malformed(name, "empty name"));
    }
    let mut looked = Vec::new();
    if let Some(folder) = find_local_folder(name, &mut looked)? {
        return Ok(folder);
    }
    let id = parse_model_name(name)?;
    let not_found = |looked| HubError::NotFound {
        model: name.to_string(),
        looked,
    };

    let Some(root) = opts.cache_dir.clone().or_else(default_cache_root) else {
        looked.push(
            "Hugging Face cache: no location (HF_HUB_CACHE, HF_HOME and HOME are unset)".into(),
        );
        return Err(not_found(looked));
    };
    let offline = opts.offline || offline_from_env();
    match lookup_cache(&root, &id)? {
        CacheLookup::Hit(snapshot) => return Ok(snapshot),
        CacheLookup::Miss(place) => looked.push(place),
        CacheLookup::Dangling { refs, snapshot } if offline => {
            return Err(HubError::DanglingRef { refs, snapshot });
        }
        // Online, a fresh download rewrites the ref, which repairs the cache.
        CacheLookup::Dangling { refs, snapshot } => looked.push(format!(
            "Hugging Face cache: {} -> {} (snapshot missing)",
            refs.display(),
            snapshot.display()
        )),
    }

    if offline {
        looked.push(OFFLINE_NOTE.to_string());
        return Err(not_found(looked));
    }
    let (api, info) = match fetch_repo_info(&root, &id) {
        Ok(found) => found,
        // An unknown or unreachable repo is one more miss, reported next to the others.
        Err(reason) => {
            looked.push(reason);
            return Err(not_found(looked));
        }
    };
    download_snapshot(&api, &root, &id, info)
}

/// Parses `org/name[@revision]`.
///
/// # Errors
///
/// [`HubError::MalformedName`] when the repo id or the revision breaks the hub's naming rules.
pub fn parse_model_name(s: &str) -> Result<HubModelId, HubError> {
    let (org_name, revision) = s.split_once('@').unwrap_or((s, DEFAULT_REVISION));
    check_repo_id(org_name).map_err(|reason| malformed(s, reason))?;
    check_revision(revision).map_err(|reason| malformed(s, reason))?;
    // The cache names snapshots by lowercase sha; normalising lets `@ABC…` find them.
    let revision = if is_commit_sha(revision) {
        revision.to_ascii_lowercase()
    } else {
        revision.to_string()
    };
    Ok(HubModelId {
        org_name: org_name.to_string(),
        revision,
    })
}

/// The cache root the environment selects, or `None` when not even a home directory is known.
pub fn default_cache_root() -> Option<PathBuf> {
    cache_root_from(
        std::env::var_os("HF_HUB_CACHE"),
        std::env::var_os("HF_HOME"),
        std::env::home_dir(),
    )
}

/// Picks the cache root from the environment values passed in, kept apart from the environment
/// itself so the precedence can be tested without mutating process-wide state.
fn cache_root_from(
    hf_hub_cache: Option<OsString>,
    hf_home: Option<OsString>,
    home: Option<PathBuf>,
) -> Option<PathBuf> {
    // An empty variable is almost always an unset one in disguise (`HF_HOME= cmd`).
    let set = |value: Option<OsString>| value.filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = set(hf_hub_cache) {
        return Some(expand_tilde(&dir, home.as_deref()));
    }
    if let Some(dir) = set(hf_home) {
        return Some(expand_tilde(&dir, home.as_deref()).join("hub"));
    }
    home.map(|home| home.join(".cache").join("huggingface").join("hub"))
}

pub(crate) fn offline_from_env() -> bool {
    is_truthy(std::env::var("HF_HUB_OFFLINE").ok().as_deref())
}

/// Accepts the spellings `huggingface_hub` accepts, so one setting drives both tools.
fn is_truthy(value: Option<&str>) -> bool {
    let value = value.map(|v| v.trim().to_ascii_lowercase());
    matches!(value.as_deref(), Some("1" | "true" | "yes" | "on"))
}

fn expand_tilde(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) if rest.as_os_str().is_empty() => home.to_path_buf(),
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

fn malformed(name: &str, reason: impl Into<String>) -> HubError {
    HubError::MalformedName {
        name: name.to_string(),
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Step 1: local folder

/// `Ok(Some)` for a folder, `Ok(None)` when `name` may still be a repo id, and an error when
/// `name` is plainly a path that cannot be used.
fn find_local_folder(name: &str, looked: &mut Vec<String>) -> Result<Option<PathBuf>, HubError> {
    let path = expand_tilde(Path::new(name), std::env::home_dir().as_deref());
    if path.is_dir() {
        let folder =
            std::fs::canonicalize(&path).map_err(|source| HubError::Io { path, source })?;
        return Ok(Some(folder));
    }
    if path.exists() {
        return Err(HubError::NotADirectory { path });
    }
    let shown = std::path::absolute(&path).unwrap_or(path);
    looked.push(format!(
        "local folder: {} (does not exist)",
        shown.display()
    ));
    if looks_like_path(name) {
        return Err(HubError::NotFound {
            model: name.to_string(),
            looked: std::mem::take(looked),
        });
    }
    Ok(None)
}

fn looks_like_path(name: &str) -> bool {
    name.starts_with(['.', '/', '~']) || Path::new(name).is_absolute()
}

// ---------------------------------------------------------------------------------------------
// Name validation

pub(crate) fn check_repo_id(repo_id: &str) -> Result<(), String> {
    if repo_id.is_empty() {
        return Err("empty repo id".into());
    }
    let parts: Vec<&str> = repo_id.split('/').collect();
    if parts.len() != 2 {
        return Err(format!(
            "a repo id has exactly one `/`, `{repo_id}` has {}",
            parts.len() - 1
        ));
    }
    parts.into_iter().try_for_each(check_name_part)
}

/// Mirrors the hub's naming rules. They matter here too: `--` is the cache's separator, so a
/// name containing it would map to an ambiguous cache folder.
fn check_name_part(part: &str) -> Result<(), String> {
    if part.is_empty() {
        return Err("empty org or repo name".into());
    }
    if !part
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "`{part}` may only contain letters, digits, `-`, `_` and `.`"
        ));
    }
    if part.starts_with(['-', '.']) || part.ends_with(['-', '.']) {
        return Err(format!("`{part}` must not start or end with `-` or `.`"));
    }
    if part.contains("--") || part.contains("..") {
        return Err(format!("`{part}` must not contain `--` or `..`"));
    }
    if part.len() > MAX_NAME_LEN {
        return Err(format!("`{part}` is longer than {MAX_NAME_LEN} characters"));
    }
    Ok(())
}

/// The revision becomes a path below `refs/`, so anything that could step outside it is refused.
pub(crate) fn check_revision(revision: &str) -> Result<(), String> {
    if revision.is_empty() {
        return Err("empty revision after `@`".into());
    }
    let bad_char = |c: char| c.is_whitespace() || c.is_control() || c == '\\' || c == '@';
    let bad_segment = |s: &str| s.is_empty() || s == "." || s == "..";
    if revision.chars().any(bad_char) || revision.split('/').any(bad_segment) {
        return Err(format!("`{revision}` is not a valid branch, tag or commit"));
    }
    Ok(())
}

pub(crate) fn is_commit_sha(revision: &str) -> bool {
    revision.len() == 40 && revision.chars().all(|c| c.is_ascii_hexdigit())
}

/// Refs name a snapshot folder, so their content must be a plain token, never a path.
pub(crate) fn is_plain_sha(content: &str) -> bool {
    !content.is_empty() && content.chars().all(|c| c.is_ascii_alphanumeric())
}

// ---------------------------------------------------------------------------------------------
// Step 2: Hugging Face cache

enum CacheLookup {
    Hit(PathBuf),
    /// Nothing cached; the string says where we looked.
    Miss(String),
    /// A ref exists but its snapshot is gone or unusable.
    Dangling {
        refs: PathBuf,
        snapshot: PathBuf,
    },
}

fn lookup_cache(root: &Path, id: &HubModelId) -> Result<CacheLookup, HubError> {
    let repo_dir = root.join(id.cache_folder());
    if id.is_commit() {
        let snapshot = repo_dir.join("snapshots").join(&id.revision);
        if is_usable_snapshot(&snapshot) {
            return Ok(CacheLookup::Hit(snapshot));
        }
        return Ok(cache_miss(&snapshot));
    }
    let refs = repo_dir.join("refs").join(&id.revision);
    let Some(sha) = read_ref(&refs)? else {
        return Ok(cache_miss(&refs));
    };
    let snapshot = repo_dir.join("snapshots").join(sha);
    if is_usable_snapshot(&snapshot) {
        Ok(CacheLookup::Hit(snapshot))
    } else {
        Ok(CacheLookup::Dangling { refs, snapshot })
    }
}

fn cache_miss(path: &Path) -> CacheLookup {
    CacheLookup::Miss(format!("Hugging Face cache: {} (missing)", path.display()))
}

/// The commit sha a ref file points at, or `None` when there is no such ref.
pub(crate) fn read_ref(refs: &Path) -> Result<Option<String>, HubError> {
    let content = match std::fs::read_to_string(refs) {
        Ok(content) => content,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(HubError::Io {
                path: refs.to_path_buf(),
                source,
            })
        }
    };
    let sha = content.trim();
    if !is_plain_sha(sha) {
        return Err(HubError::BadRef {
            refs: refs.to_path_buf(),
            content: sha.to_string(),
        });
    }
    Ok(Some(sha.to_string()))
}

/// `is_file` follows symlinks, so a snapshot whose blobs were pruned does not count.
fn is_usable_snapshot(snapshot: &Path) -> bool {
    SNAPSHOT_MARKERS
        .iter()
        .any(|marker| snapshot.join(marker).is_file())
}

// ---------------------------------------------------------------------------------------------
// Step 3: download

/// Looks the repo up on the hub; the error is a line for [`HubError::NotFound`].
fn fetch_repo_info(root: &Path, id: &HubModelId) -> Result<(Api, RepoInfo), String> {
    // Tests work on fake caches; getting here from one is a bug in the test, never a reason to
    // touch the network.
    if cfg!(test) {
        panic!("test reached the download step for {id}; pass `offline: true`");
    }
    let failed = |e: &dyn fmt::Display| format!("download failed: {id}: {e}");
    let api = build_api(root).map_err(|e| failed(&e))?;
    let info = api.repo(id.to_repo()).info().map_err(|e| failed(&e))?;
    Ok((api, info))
}

pub(crate) fn build_api(root: &Path) -> Result<Api, hf_hub::api::sync::ApiError> {
    let mut builder = ApiBuilder::from_cache(Cache::new(root.to_path_buf()))
        .with_progress(std::io::stderr().is_terminal());
    // hf-hub 0.5 reads neither variable itself when given an explicit cache.
    if let Some(endpoint) = non_empty_env("HF_ENDPOINT") {
        builder = builder.with_endpoint(endpoint);
    }
    if let Some(token) = non_empty_env("HF_TOKEN") {
        builder = builder.with_token(Some(token));
    }
    builder.build()
}

fn non_empty_env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// Fetches the model's files into `root` and returns the snapshot folder.
fn download_snapshot(
    api: &Api,
    root: &Path,
    id: &HubModelId,
    info: RepoInfo,
) -> Result<PathBuf, HubError> {
    let failed = |detail: &dyn fmt::Display| HubError::Download {
        repo: id.org_name.clone(),
        revision: id.revision.clone(),
        detail: detail.to_string(),
    };
    if !is_plain_sha(&info.sha) {
        return Err(failed(&format!(
            "the hub answered with commit {:?}",
            info.sha
        )));
    }
    let siblings: Vec<String> = info.siblings.into_iter().map(|s| s.rfilename).collect();
    if !SNAPSHOT_MARKERS
        .iter()
        .any(|m| siblings.iter().any(|s| s == m))
    {
        return Err(failed(&"the repo has neither modules.json nor config.json"));
    }

    // Fetching by commit rather than by branch keeps every file from one commit even if the
    // branch moves meanwhile. It also leaves `refs/<branch or tag>` unwritten until the snapshot
    // is complete, so an interrupted download is resumed next time instead of being found
    // half-done (hf-hub's own `refs/<sha>` lets the resumed run skip finished files).
    let pinned = HubModelId {
        org_name: id.org_name.clone(),
        revision: info.sha.clone(),
    };
    let repo = api.repo(pinned.to_repo());
    let module_paths = fetch_module_paths(&repo, &siblings).map_err(|e| failed(&e))?;
    let files = files_to_download(&siblings, &module_paths);
    info!(
        "downloading {id} (commit {}) into {}: {} files",
        info.sha,
        root.display(),
        files.len()
    );
    for file in &files {
        info!("downloading {}/{file}", id.org_name);
        repo.get(file)
            .map_err(|e| failed(&format!("{file}: {e}")))?;
    }

    let snapshot = root
        .join(id.cache_folder())
        .join("snapshots")
        .join(&info.sha);
    if !is_usable_snapshot(&snapshot) {
        return Err(failed(&format!(
            "{} is incomplete after download",
            snapshot.display()
        )));
    }
    if !id.is_commit() {
        record_ref(root, id, &info.sha)?;
    }
    Ok(snapshot)
}

fn record_ref(root: &Path, id: &HubModelId, sha: &str) -> Result<(), HubError> {
    let refs = root.join(id.cache_folder()).join("refs").join(&id.revision);
    let cache = Cache::new(root.to_path_buf()).repo(id.to_repo());
    cache
        .create_ref(sha)
        .map_err(|source| HubError::Io { path: refs, source })
}

/// Module folders named by `modules.json`, plus the route folders of any Router module, whose
/// sub-modules are stored one level further down and are listed only in `router_config.json`.
fn fetch_module_paths(repo: &ApiRepo, siblings: &[String]) -> Result<Vec<String>, String> {
    if !siblings.iter().any(|s| s == "modules.json") {
        return Ok(Vec::new());
    }
    let mut paths = parse_module_paths(&fetch_text(repo, "modules.json")?)?;
    for module in paths.clone() {
        let router_config = join_repo_path(&module, "router_config.json");
        if siblings.contains(&router_config) {
            let routes = parse_router_routes(&fetch_text(repo, &router_config)?)?;
            paths.extend(routes.iter().map(|route| join_repo_path(&module, route)));
        }
    }
    Ok(paths)
}

fn fetch_text(repo: &ApiRepo, file: &str) -> Result<String, String> {
    info!("downloading {file}");
    let path = repo.get(file).map_err(|e| format!("{file}: {e}"))?;
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The `path` of every module in a `modules.json`, normalised to repo-relative folders
/// (`""` for modules stored at the top level).
fn parse_module_paths(modules_json: &str) -> Result<Vec<String>, String> {
    let modules: Vec<serde_json::Value> =
        serde_json::from_str(modules_json).map_err(|e| format!("modules.json: {e}"))?;
    Ok(modules
        .iter()
        .filter_map(|module| module.get("path")?.as_str())
        .map(normalize_repo_dir)
        .collect())
}

/// The sub-module folders listed under `structure` in a Router's `router_config.json`.
fn parse_router_routes(router_config: &str) -> Result<Vec<String>, String> {
    let config: serde_json::Value =
        serde_json::from_str(router_config).map_err(|e| format!("router_config.json: {e}"))?;
    let mut routes: Vec<String> = config
        .get("structure")
        .and_then(|s| s.as_object())
        .into_iter()
        .flat_map(|structure| structure.values())
        .filter_map(|modules| modules.as_array())
        .flatten()
        .filter_map(|module| module.as_str())
        .map(normalize_repo_dir)
        .collect();
    routes.sort();
    routes.dedup();
    Ok(routes)
}

fn normalize_repo_dir(path: &str) -> String {
    let path = path.trim_start_matches("./").trim_matches('/');
    if path == "." {
        String::new()
    } else {
        path.to_string()
    }
}

fn join_repo_path(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_string()
    } else {
        format!("{dir}/{file}")
    }
}

/// Picks, from a repo's file list, what loading a sentence-transformers model needs: top-level
/// configs (`*.json`), vocabularies (`*.txt`) and weights, plus everything inside the module
/// folders in `module_paths`. Exports for other runtimes are left out, and so are `.bin`
/// weights that sit next to a `.safetensors` file. The result is sorted and has no duplicates.
pub fn files_to_download(siblings: &[String], module_paths: &[String]) -> Vec<String> {
    let module_dirs: Vec<String> = module_paths
        .iter()
        .map(String::as_str)
        .map(normalize_repo_dir)
        .filter(|p| !p.is_empty())
        .collect();
    let wanted = |file: &str| {
        is_top_level_model_file(file) || module_dirs.iter().any(|dir| is_inside(file, dir))
    };
    let mut files: Vec<String> = siblings
        .iter()
        .filter(|file| is_safe_repo_path(file) && !is_skipped(file, siblings) && wanted(file))
        .cloned()
        .collect();
    files.sort();
    files.dedup();
    files
}

fn is_top_level_model_file(file: &str) -> bool {
    !file.contains('/') && matches!(extension(file), "json" | "txt" | "safetensors" | "bin")
}

fn is_inside(file: &str, dir: &str) -> bool {
    file.strip_prefix(dir)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Other runtimes' exports can be many times the size of the model we actually load.
fn is_skipped(file: &str, siblings: &[String]) -> bool {
    let foreign_export = file
        .split('/')
        .any(|part| part == "onnx" || part == "openvino");
    let foreign_weights = matches!(
        extension(file),
        "onnx" | "onnx_data" | "h5" | "msgpack" | "ot" | "gguf"
    );
    let redundant_bin = extension(file) == "bin" && has_safetensors_beside(file, siblings);
    foreign_export || foreign_weights || redundant_bin
}

fn has_safetensors_beside(file: &str, siblings: &[String]) -> bool {
    let folder = parent_dir(file);
    siblings
        .iter()
        .any(|s| parent_dir(s) == folder && extension(s) == "safetensors")
}

/// Hub file names are joined onto the snapshot folder, so none may climb out of it.
fn is_safe_repo_path(file: &str) -> bool {
    !file.is_empty()
        && !file.starts_with('/')
        && !file.contains('\\')
        && !file.split('/').any(|part| part.is_empty() || part == "..")
}

fn parent_dir(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn extension(file: &str) -> &str {
    let name = file.rsplit('/').next().unwrap_or(file);
    name.rsplit_once('.').map_or("", |(_, ext)| ext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
    const SHA_V1: &str = "89abcdef0123456789abcdef0123456789abcdef";
    const REPO_FOLDER: &str = "models--org--name";

    fn offline(root: &Path) -> ResolveOptions {
        ResolveOptions {
            offline: true,
            cache_dir: Some(root.to_path_buf()),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// A snapshot with real files, as a copied or hand-made cache has.
    fn write_snapshot(root: &Path, sha: &str) -> PathBuf {
        let snapshot = root.join(REPO_FOLDER).join("snapshots").join(sha);
        fs::create_dir_all(snapshot.join("1_Pooling")).unwrap();
        fs::write(snapshot.join("modules.json"), r#"[{"path": ""}]"#).unwrap();
        fs::write(snapshot.join("config.json"), "{}").unwrap();
        fs::write(snapshot.join("1_Pooling/config.json"), "{}").unwrap();
        snapshot
    }

    /// A snapshot of relative symlinks into `blobs/`, as `huggingface_hub` and hf-hub write.
    #[cfg(unix)]
    fn write_symlinked_snapshot(root: &Path, sha: &str) -> PathBuf {
        let repo_dir = root.join(REPO_FOLDER);
        let snapshot = repo_dir.join("snapshots").join(sha);
        fs::create_dir_all(repo_dir.join("blobs")).unwrap();
        fs::create_dir_all(&snapshot).unwrap();
        for (file, blob, content) in [
            ("modules.json", "aaa111", r#"[{"path": ""}]"#),
            ("config.json", "bbb222", r#"{"hidden_size": 8}"#),
        ] {
            fs::write(repo_dir.join("blobs").join(blob), content).unwrap();
            std::os::unix::fs::symlink(format!("../../blobs/{blob}"), snapshot.join(file)).unwrap();
        }
        snapshot
    }

    fn write_ref(root: &Path, revision: &str, sha: &str) -> PathBuf {
        let refs = root.join(REPO_FOLDER).join("refs").join(revision);
        fs::create_dir_all(refs.parent().unwrap()).unwrap();
        // Trailing whitespace, as an editor or `echo` would leave it.
        fs::write(&refs, format!("{sha}\n")).unwrap();
        refs
    }

    #[test]
    fn local_folder_is_returned_canonicalized() {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model");
        fs::create_dir(&model).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let name = format!("{}/./model/", dir.path().display());

        let resolved = resolve_model(&name, &offline(cache.path())).unwrap();
        assert_eq!(resolved, fs::canonicalize(&model).unwrap());
    }

    #[test]
    fn local_folder_wins_over_cache_for_repo_shaped_name() {
        // Relative to the working directory, so the name also parses as `org/name`.
        let cwd_dir = tempfile::Builder::new()
            .prefix("hubtest")
            .tempdir_in(".")
            .unwrap();
        let org = cwd_dir
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string();
        fs::create_dir(cwd_dir.path().join("name")).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let cached = cache
            .path()
            .join(format!("models--{org}--name/snapshots"))
            .join(SHA);
        fs::create_dir_all(&cached).unwrap();
        fs::write(cached.join("config.json"), "{}").unwrap();
        let refs = cache.path().join(format!("models--{org}--name/refs/main"));
        fs::create_dir_all(refs.parent().unwrap()).unwrap();
        fs::write(refs, SHA).unwrap();

        let name = format!("{org}/name");
        let resolved = resolve_model(&name, &offline(cache.path())).unwrap();
        assert_eq!(
            resolved,
            fs::canonicalize(cwd_dir.path().join("name")).unwrap()
        );
    }

    #[test]
    fn cache_hit_through_refs_main() {
        let cache = tempfile::tempdir().unwrap();
        let snapshot = write_snapshot(cache.path(), SHA);
        write_ref(cache.path(), "main", SHA);

        let resolved = resolve_model("org/name", &offline(cache.path())).unwrap();
        assert_eq!(resolved, snapshot);
        assert!(resolved.join("1_Pooling/config.json").is_file());
    }

    #[test]
    fn cache_hit_through_explicit_sha_needs_no_ref() {
        let cache = tempfile::tempdir().unwrap();
        let snapshot = write_snapshot(cache.path(), SHA);

        let resolved = resolve_model(&format!("org/name@{SHA}"), &offline(cache.path())).unwrap();
        assert_eq!(resolved, snapshot);
        let upper = format!("org/name@{}", SHA.to_ascii_uppercase());
        assert_eq!(
            resolve_model(&upper, &offline(cache.path())).unwrap(),
            snapshot
        );
    }

    #[test]
    fn cache_hit_through_named_revision() {
        let cache = tempfile::tempdir().unwrap();
        write_snapshot(cache.path(), SHA);
        let v1 = write_snapshot(cache.path(), SHA_V1);
        write_ref(cache.path(), "main", SHA);
        write_ref(cache.path(), "v1", SHA_V1);

        let resolved = resolve_model("org/name@v1", &offline(cache.path())).unwrap();
        assert_eq!(resolved, v1);
    }

    #[cfg(unix)]
    #[test]
    fn cache_hit_follows_symlinks_into_blobs() {
        let cache = tempfile::tempdir().unwrap();
        let snapshot = write_symlinked_snapshot(cache.path(), SHA);
        write_ref(cache.path(), "main", SHA);

        let resolved = resolve_model("org/name", &offline(cache.path())).unwrap();
        assert_eq!(resolved, snapshot);
        let config = fs::read_to_string(resolved.join("config.json")).unwrap();
        assert_eq!(config, r#"{"hidden_size": 8}"#);
    }

    #[cfg(unix)]
    #[test]
    fn snapshot_with_pruned_blobs_does_not_count() {
        let cache = tempfile::tempdir().unwrap();
        write_symlinked_snapshot(cache.path(), SHA);
        write_ref(cache.path(), "main", SHA);
        fs::remove_dir_all(cache.path().join(REPO_FOLDER).join("blobs")).unwrap();

        let err = resolve_model("org/name", &offline(cache.path())).unwrap_err();
        assert!(matches!(err, HubError::DanglingRef { .. }), "{err}");
    }

    #[test]
    fn ref_to_missing_snapshot_names_both_paths() {
        let cache = tempfile::tempdir().unwrap();
        let refs = write_ref(cache.path(), "main", SHA);

        let err = resolve_model("org/name", &offline(cache.path())).unwrap_err();
        let snapshot = cache.path().join(REPO_FOLDER).join("snapshots").join(SHA);
        match &err {
            HubError::DanglingRef {
                refs: r,
                snapshot: s,
            } => {
                assert_eq!((r, s), (&refs, &snapshot));
            }
            other => panic!("expected DanglingRef, got {other:?}"),
        }
        let message = err.to_string();
        assert!(message.contains(&refs.display().to_string()), "{message}");
        assert!(
            message.contains(&snapshot.display().to_string()),
            "{message}"
        );
    }

    #[test]
    fn ref_holding_a_path_is_rejected() {
        let cache = tempfile::tempdir().unwrap();
        write_ref(cache.path(), "main", "../../elsewhere");

        let err = resolve_model("org/name", &offline(cache.path())).unwrap_err();
        assert!(matches!(err, HubError::BadRef { .. }), "{err}");
    }

    #[test]
    fn offline_miss_lists_every_place_looked() {
        let cache = tempfile::tempdir().unwrap();

        let err = resolve_model("org/name", &offline(cache.path())).unwrap_err();
        let HubError::NotFound { model, looked } = &err else {
            panic!("expected NotFound, got {err:?}");
        };
        assert_eq!(model, "org/name");
        assert_eq!(looked.len(), 3, "{looked:?}");
        let local = std::path::absolute("org/name").unwrap();
        let refs = cache.path().join(REPO_FOLDER).join("refs").join("main");
        let message = err.to_string();
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines.len(), 4, "{message}");
        assert!(lines[1].contains(&local.display().to_string()), "{message}");
        assert!(lines[2].contains(&refs.display().to_string()), "{message}");
        assert!(lines[3].contains(OFFLINE_NOTE), "{message}");
        assert!(message.contains("offline"));
    }

    #[test]
    fn offline_miss_for_sha_names_the_snapshot_path() {
        let cache = tempfile::tempdir().unwrap();
        let name = format!("org/name@{SHA}");

        let message = resolve_model(&name, &offline(cache.path()))
            .unwrap_err()
            .to_string();
        let snapshot = cache.path().join(REPO_FOLDER).join("snapshots").join(SHA);
        assert!(
            message.contains(&snapshot.display().to_string()),
            "{message}"
        );
        assert!(message.contains("offline"), "{message}");
    }

    #[test]
    fn snapshot_without_config_is_a_miss() {
        let cache = tempfile::tempdir().unwrap();
        let snapshot = cache.path().join(REPO_FOLDER).join("snapshots").join(SHA);
        fs::create_dir_all(&snapshot).unwrap();
        fs::write(snapshot.join("README.md"), "").unwrap();

        let err = resolve_model(&format!("org/name@{SHA}"), &offline(cache.path())).unwrap_err();
        assert!(matches!(err, HubError::NotFound { .. }), "{err}");
    }

    #[test]
    fn path_like_names_never_become_repo_ids() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("weights.safetensors");
        fs::write(&file, "").unwrap();
        let cache = tempfile::tempdir().unwrap();

        let err = resolve_model(file.to_str().unwrap(), &offline(cache.path())).unwrap_err();
        assert!(matches!(err, HubError::NotADirectory { .. }), "{err}");

        let missing = dir.path().join("missing");
        let err = resolve_model(missing.to_str().unwrap(), &offline(cache.path())).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, HubError::NotFound { .. }), "{err}");
        assert!(
            message.contains(&missing.display().to_string()),
            "{message}"
        );

        let err = resolve_model("./no/such/model", &offline(cache.path())).unwrap_err();
        assert!(matches!(err, HubError::NotFound { .. }), "{err}");
    }

    #[test]
    fn malformed_names_are_rejected() {
        let cache = tempfile::tempdir().unwrap();
        for name in [
            "",
            "  ",
            "a/b/c@",
            "a/b/c",
            "a/b@",
            "noslash",
            "@main",
            "a//b",
            "/b",
            "org/",
            "org/na me",
            "org/a--b",
            "org/-a",
            "org/a.",
            "org/name@../../x",
            "org/name@a//b",
            "org/name@v 1",
            "org/name@a@b",
        ] {
            match resolve_model(name, &offline(cache.path())) {
                Err(HubError::MalformedName { .. }) => {}
                // Absolute or dotted names are paths first; they must still fail, as a path.
                Err(HubError::NotFound { .. }) if looks_like_path(name) => {}
                other => panic!("{name:?}: expected MalformedName, got {other:?}"),
            }
        }
    }

    #[test]
    fn model_names_parse() {
        let parsed = |s: &str| parse_model_name(s).unwrap();
        assert_eq!(
            parsed("sentence-transformers/all-MiniLM-L6-v2"),
            HubModelId {
                org_name: "sentence-transformers/all-MiniLM-L6-v2".into(),
                revision: "main".into()
            }
        );
        assert_eq!(parsed("BAAI/bge-small-en-v1.5@v1.0").revision, "v1.0");
        assert_eq!(parsed("org/name@refs/pr/3").revision, "refs/pr/3");
        let upper = parsed(&format!("org/name@{}", SHA.to_ascii_uppercase()));
        assert_eq!(upper.revision, SHA);
        assert!(upper.is_commit());
        assert!(!parsed("org/name").is_commit());
        assert_eq!(parsed("org/name@v1").to_string(), "org/name@v1");
        assert!(parse_model_name("a/b/c@").is_err());
        assert!(parse_model_name("").is_err());
    }

    #[test]
    fn cache_root_precedence() {
        let os = |s: &str| Some(OsString::from(s));
        let home = || Some(PathBuf::from("/home/u"));
        assert_eq!(
            cache_root_from(os("/hub-cache"), os("/hf-home"), home()),
            Some(PathBuf::from("/hub-cache"))
        );
        assert_eq!(
            cache_root_from(None, os("/hf-home"), home()),
            Some(PathBuf::from("/hf-home/hub"))
        );
        assert_eq!(
            cache_root_from(None, None, home()),
            Some(PathBuf::from("/home/u/.cache/huggingface/hub"))
        );
        assert_eq!(
            cache_root_from(os(""), os(""), home()),
            Some(PathBuf::from("/home/u/.cache/huggingface/hub"))
        );
        assert_eq!(
            cache_root_from(None, os("~/hf"), home()),
            Some(PathBuf::from("/home/u/hf/hub"))
        );
        assert_eq!(cache_root_from(None, None, None), None);
    }

    #[test]
    fn env_selected_cache_root_resolves() {
        let cache = tempfile::tempdir().unwrap();
        let hf_home = cache.path().as_os_str().to_os_string();
        let snapshot_root = cache.path().join("hub");
        let snapshot = write_snapshot(&snapshot_root, SHA);
        write_ref(&snapshot_root, "main", SHA);

        let via_home = cache_root_from(None, Some(hf_home), None);
        let opts = ResolveOptions {
            offline: true,
            cache_dir: via_home,
        };
        assert_eq!(resolve_model("org/name", &opts).unwrap(), snapshot);

        let via_hub_cache = cache_root_from(Some(snapshot_root.into()), None, None);
        let opts = ResolveOptions {
            offline: true,
            cache_dir: via_hub_cache,
        };
        assert_eq!(resolve_model("org/name", &opts).unwrap(), snapshot);
    }

    #[test]
    fn offline_spellings() {
        for value in ["1", "true", "TRUE", "yes", " on "] {
            assert!(is_truthy(Some(value)), "{value}");
        }
        for value in ["0", "false", "", "no"] {
            assert!(!is_truthy(Some(value)), "{value}");
        }
        assert!(!is_truthy(None));
        assert!(ResolveOptions::from_env(true).offline);
    }

    #[test]
    fn tilde_expansion() {
        let home = Path::new("/home/u");
        assert_eq!(
            expand_tilde(Path::new("~"), Some(home)),
            PathBuf::from("/home/u")
        );
        assert_eq!(
            expand_tilde(Path::new("~/m"), Some(home)),
            PathBuf::from("/home/u/m")
        );
        assert_eq!(
            expand_tilde(Path::new("~x/m"), Some(home)),
            PathBuf::from("~x/m")
        );
        assert_eq!(expand_tilde(Path::new("~/m"), None), PathBuf::from("~/m"));
    }

    #[test]
    fn download_selection_for_a_typical_model() {
        let siblings = strings(&[
            ".gitattributes",
            "1_Pooling/config.json",
            "README.md",
            "config.json",
            "config_sentence_transformers.json",
            "flax_model.msgpack",
            "model.safetensors",
            "modules.json",
            "onnx/model.onnx",
            "onnx/tokenizer.json",
            "openvino/openvino_model.bin",
            "openvino/openvino_model.xml",
            "pytorch_model.bin",
            "rust_model.ot",
            "sentence_bert_config.json",
            "special_tokens_map.json",
            "tf_model.h5",
            "tokenizer.json",
            "tokenizer_config.json",
            "train_script.py",
            "vocab.txt",
            "model.gguf",
        ]);
        let modules = strings(&["", "1_Pooling", "2_Normalize"]);

        assert_eq!(
            files_to_download(&siblings, &modules),
            strings(&[
                "1_Pooling/config.json",
                "config.json",
                "config_sentence_transformers.json",
                "model.safetensors",
                "modules.json",
                "sentence_bert_config.json",
                "special_tokens_map.json",
                "tokenizer.json",
                "tokenizer_config.json",
                "vocab.txt",
            ])
        );
    }

    #[test]
    fn bin_weights_are_kept_only_without_safetensors_beside_them() {
        let siblings = strings(&[
            "config.json",
            "modules.json",
            "pytorch_model.bin",
            "2_Dense/config.json",
            "2_Dense/pytorch_model.bin",
            "3_Dense/model.safetensors",
            "3_Dense/pytorch_model.bin",
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json",
        ]);
        let modules = strings(&["", "1_Pooling", "2_Dense/", "./3_Dense"]);

        assert_eq!(
            files_to_download(&siblings, &modules),
            strings(&[
                "2_Dense/config.json",
                "2_Dense/pytorch_model.bin",
                "3_Dense/model.safetensors",
                "config.json",
                "model-00001-of-00002.safetensors",
                "model-00002-of-00002.safetensors",
                "model.safetensors.index.json",
                "modules.json",
            ])
        );
        let no_safetensors = strings(&["config.json", "pytorch_model.bin"]);
        assert_eq!(files_to_download(&no_safetensors, &[]), no_safetensors);
    }

    #[test]
    fn download_selection_follows_modules_and_router_routes() {
        let siblings = strings(&[
            "modules.json",
            "router_config.json",
            "query_0_SparseStaticEmbedding/config.json",
            "query_0_SparseStaticEmbedding/model.safetensors",
            "document_0_MLMTransformer/config.json",
            "document_0_MLMTransformer/model.safetensors",
            "document_0_MLMTransformer/tokenizer/vocab.txt",
            "document_0_MLMTransformer/onnx/model.onnx",
            "document_1_SpladePooling/config.json",
            "checkpoint-500/model.safetensors",
            "../escape.json",
            "/abs.json",
        ]);
        let router = r#"{"types": {}, "structure": {
            "query": ["query_0_SparseStaticEmbedding"],
            "document": ["document_0_MLMTransformer", "document_1_SpladePooling"]},
            "parameters": {"default_route": "document"}}"#;
        let mut modules = parse_module_paths(r#"[{"idx": 0, "name": "0", "path": ""}]"#).unwrap();
        modules.extend(parse_router_routes(router).unwrap());

        assert_eq!(
            files_to_download(&siblings, &modules),
            strings(&[
                "document_0_MLMTransformer/config.json",
                "document_0_MLMTransformer/model.safetensors",
                "document_0_MLMTransformer/tokenizer/vocab.txt",
                "document_1_SpladePooling/config.json",
                "modules.json",
                "query_0_SparseStaticEmbedding/config.json",
                "query_0_SparseStaticEmbedding/model.safetensors",
                "router_config.json",
            ])
        );
    }

    #[test]
    fn module_paths_parse() {
        let modules = r#"[
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Dense/", "type": "sentence_transformers.models.Dense"}
        ]"#;
        assert_eq!(
            parse_module_paths(modules).unwrap(),
            strings(&["", "1_Pooling", "2_Dense"])
        );
        assert!(parse_module_paths("{not json").is_err());
        assert_eq!(parse_router_routes("{}").unwrap(), Vec::<String>::new());
    }
}
