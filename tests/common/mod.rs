//! Shared helpers for the integration tests: fixture paths, folder copies, running the CLI.
#![allow(dead_code)]

pub mod fake_embedder;
pub mod fake_hub;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

pub fn fixture_model(name: &str) -> PathBuf {
    fixtures().join("models").join(name)
}

/// The task files shipped with leafbench.
pub fn tasks_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tasks")
}

/// The offline MTEB data (../shared/data, or LEAFBENCH_DATA_DIR).
pub fn shared_data() -> PathBuf {
    std::env::var_os("LEAFBENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data"))
}

/// The offline copies that differ from MTEB's data (STS12 and STS14 by a few characters,
/// TwitterURLCorpus a partial copy), as a run configuration line that skips their data check,
/// as configs/quickstart.yaml does.
pub const DIFFERING_COPIES: &str = "no_data_check: [STS12, STS14, TwitterURLCorpus]\n";

/// A task folder holding the two tasks mteb cuts (Toxic, StackExchange.v2) with their cut seed
/// replaced by `seed`, and mteb's statistics of their synthetic copies in
/// tests/fixtures/test_cuts/data (made by scripts/make_cut_stats_fixture.py).
pub fn cut_tasks_dir(work: &Path, seed: u64) -> PathBuf {
    let dir = work.join("tasks");
    std::fs::create_dir_all(&dir).unwrap();
    for name in [
        "ToxicConversationsClassification",
        "StackExchangeClustering.v2",
    ] {
        let file = format!("{name}.yaml");
        let text = std::fs::read_to_string(tasks_dir().join(&file)).unwrap();
        assert!(text.contains("seed: 42"), "{file} cuts with seed 42");
        let text = text.replace("seed: 42", &format!("seed: {seed}"));
        std::fs::write(dir.join(file), text).unwrap();
    }
    let stats = fixtures().join("test_cuts/data_stats.json");
    std::fs::copy(stats, dir.join("data_stats.json")).unwrap();
    dir
}

/// The real all-MiniLM-L6-v2 folder that scripts/fetch-model.sh puts in place.
pub fn minilm_dir() -> PathBuf {
    let dir = std::env::var_os("LEAFBENCH_MINILM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join(".cache/models/all-MiniLM-L6-v2")
        });
    assert!(
        dir.join("model.safetensors").is_file(),
        "{} has no model: run scripts/fetch-model.sh (scripts/test.sh does) or set LEAFBENCH_MINILM",
        dir.display()
    );
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file below `dir` (none when it does not exist).
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return vec![];
    };
    entries
        .flatten()
        .flat_map(|e| {
            if e.path().is_dir() {
                files_below(&e.path())
            } else {
                vec![e.path()]
            }
        })
        .collect()
}

/// Runs the leafbench binary with the network switched off for the hub lookup.
pub fn leafbench(args: &[&str]) -> Output {
    leafbench_with_env(args, &[])
}

pub fn leafbench_with_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leafbench"));
    cmd.env("HF_HUB_OFFLINE", "1");
    let cache = tempfile::tempdir().unwrap();
    isolated(&mut cmd, args, env, cache.path())
        .output()
        .expect("leafbench runs")
}

/// Runs leafbench with downloads allowed, from `endpoint` only (a [`fake_hub::FakeHub`]).
pub fn leafbench_from_endpoint(args: &[&str], endpoint: &str, env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_leafbench"));
    cmd.env_remove("HF_HUB_OFFLINE")
        .env("HF_ENDPOINT", endpoint);
    let cache = tempfile::tempdir().unwrap();
    isolated(&mut cmd, args, env, cache.path())
        .output()
        .expect("leafbench runs")
}

/// The caller's own cache settings must not leak into a test's cache layout; each call gets an
/// empty embedding cache unless `env` names one (`LEAFBENCH_CACHE`).
fn isolated<'c>(
    cmd: &'c mut Command,
    args: &[&str],
    env: &[(&str, &Path)],
    embedding_cache: &Path,
) -> &'c mut Command {
    cmd.args(args)
        .env_remove("HF_HUB_CACHE")
        .env_remove("HF_HOME")
        .env_remove("HF_TOKEN")
        .env("LEAFBENCH_CACHE", embedding_cache);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn read_texts(path: &Path) -> Vec<String> {
    leafbench::texts::read_lines(path).unwrap()
}

/// Each MTEB result file's scores below `results`, by task name (model_meta.json left out).
pub fn result_scores(results: &Path) -> std::collections::BTreeMap<String, serde_json::Value> {
    files_below(results)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| p.file_name().unwrap() != "model_meta.json")
        .map(|p| {
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            let task = json["task_name"].as_str().unwrap().to_string();
            (task, json["scores"].clone())
        })
        .collect()
}

/// The peer environment's Python (`$PEER_VENV`, else ~/.cache/peer-venv: mteb and
/// sentence-transformers, installed by ../shared/peer/setup.sh), when it is installed.
pub fn peer_python() -> Option<PathBuf> {
    let venv = std::env::var_os("PEER_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/peer-venv")
        });
    let python = venv.join("bin/python");
    python.is_file().then_some(python)
}
