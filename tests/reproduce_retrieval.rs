//! all-MiniLM-L6-v2 on the retrieval, clustering and reranking tasks held here:
//! - SciFact: `ndcg_at_10` within 0.01 pt of the published score (reference/published_scores.csv)
//!   and all 149 reported metrics within 0.01 pt of the peer's (../shared/reference/peer_scores.csv:
//!   mteb 2.26.24 + sentence-transformers 6.2.0 on the same files);
//! - SIB200ClusteringS2S: v-measure within 1.0 pt of the peer's;
//! - SciFactReranking (rebuilt from ../shared/data by scripts/make_scifact_reranking.py; its
//!   provenance and the peer's scores are in tests/fixtures/reranking/SciFactReranking):
//!   `map` within 0.01 pt of the peer's MTEB 1.38-semantics value, and the MTEB 2 metrics
//!   within 0.01 pt of the peer's (peer_scores.json there, by scripts/peer_scifact_reranking.py).

mod common;

use std::path::{Path, PathBuf};

use leafbench::report::published::Published;
use leafbench::report::results_json::{result_path, TaskResult};
use serde_json::Value;

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
const REVISION: &str = "8b3219a92973c328a8e22fadcfa821b5dc75636a";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn data_dir() -> PathBuf {
    std::env::var_os("LEAFBENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/data"))
}

/// Every peer metric of a task's test split.
fn peer_scores(task: &str) -> Vec<(String, f64)> {
    let path = root().join("../shared/reference/peer_scores.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[0] == task && f[1] == "test")
        .map(|f| (f[3].to_string(), f[4].parse().unwrap()))
        .collect()
}

/// Runs `tasks` and returns each task's test-split scores.
/// Runs `tasks` (name, subset held here) and returns each one's test scores.
fn run(tasks: &[(&str, &str)], data: &Path, tasks_dir: Option<&Path>) -> Vec<Value> {
    let work = tempfile::tempdir().unwrap();
    let out_dir = work.path().join("results");
    let config = format!(
        "models:\n  - name: {MODEL}\n    revision: {REVISION}\n    path: {}\ntasks: [{}]\ndata_dir: {}\noutput_dir: {}\n",
        common::minilm_dir().display(),
        tasks
            .iter()
            .map(|(t, s)| format!("{{name: {t}, subsets: [{s}]}}"))
            .collect::<Vec<_>>()
            .join(", "),
        data.display(),
        out_dir.display()
    );
    let path = work.path().join("run.yaml");
    std::fs::write(&path, config).unwrap();
    let mut args = vec!["run", path.to_str().unwrap(), "--quiet"];
    if let Some(dir) = tasks_dir {
        args.extend(["--tasks-dir", dir.to_str().unwrap()]);
    }
    let out = common::leafbench(&args);
    assert!(
        out.status.success(),
        "run failed:\n{}",
        common::stderr(&out)
    );
    tasks
        .iter()
        .map(|(t, _)| {
            let result = TaskResult::load(&result_path(&out_dir, MODEL, REVISION, t)).unwrap();
            serde_json::to_value(&result).unwrap()["scores"]["test"][0].clone()
        })
        .collect()
}

fn assert_within(task: &str, metric: &str, ours: &Value, expected: f64, tolerance_pt: f64) {
    let ours = ours[metric]
        .as_f64()
        .unwrap_or_else(|| panic!("{task}: no {metric}"));
    let delta = (ours - expected) * 100.0;
    assert!(
        delta.abs() <= tolerance_pt,
        "{task} {metric}: {ours} vs {expected} (Δ {delta:+.4} pt, tolerance {tolerance_pt})"
    );
}

#[test]
fn scifact_retrieval_and_sib200_clustering_match_the_published_and_peer_scores() {
    let scores = run(
        &[("SciFact", "default"), ("SIB200ClusteringS2S", "eng_Latn")],
        &data_dir(),
        None,
    );
    let published = Published::load(&Published::default_path()).unwrap();
    let ndcg = published
        .score(
            MODEL,
            "SciFact",
            &["test".to_string()],
            &["default".to_string()],
        )
        .expect("published SciFact score");
    assert_within("SciFact", "ndcg_at_10", &scores[0], ndcg, 0.01);
    let peer = peer_scores("SciFact");
    assert_eq!(peer.len(), 149, "the peer reports 149 SciFact metrics");
    for (metric, value) in &peer {
        assert_within("SciFact", metric, &scores[0], *value, 0.01);
    }
    for (metric, value) in peer_scores("SIB200ClusteringS2S") {
        if metric == "v_measure" || metric == "main_score" {
            assert_within("SIB200ClusteringS2S", &metric, &scores[1], value, 1.0);
        }
    }
}

#[test]
fn scifact_reranking_matches_the_peer() {
    let fixtures = root().join("tests/fixtures");
    // The task's rows (10 MB) are rebuilt from ../shared/data by their seeded script; the
    // provenance file written beside them (which records their sha256) must equal the one the
    // peer's scores were computed with.
    let data = tempfile::tempdir().unwrap();
    let out_dir = data.path().join("SciFactReranking");
    let built = std::process::Command::new("python3")
        .arg(root().join("scripts/make_scifact_reranking.py"))
        .args([
            "--data-dir",
            data_dir().to_str().unwrap(),
            "--out-dir",
            out_dir.to_str().unwrap(),
        ])
        .output()
        .expect("python3 runs");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let committed = fixtures.join("reranking/SciFactReranking/source.json");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("source.json")).unwrap(),
        std::fs::read_to_string(committed).unwrap(),
        "the rebuilt reranking task differs from the one the peer scored"
    );
    let scores = run(
        &[("SciFactReranking", "default")],
        data.path(),
        Some(&fixtures.join("tasks")),
    );
    let path = fixtures.join("reranking/SciFactReranking/peer_scores.json");
    let peer: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let v1 = &peer["mteb_1_38_semantics"];
    for metric in ["map", "mrr"] {
        assert_within(
            "SciFactReranking",
            metric,
            &scores[0],
            v1[metric].as_f64().unwrap(),
            0.01,
        );
    }
    let v2 = peer["mteb_v2"]["scores"].as_object().unwrap();
    let mut checked = 0;
    for (metric, value) in v2 {
        if let (Some(value), true) = (value.as_f64(), metric.contains("_at_")) {
            assert_within("SciFactReranking", metric, &scores[0], value, 0.01);
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} MTEB 2 metrics compared");
}
