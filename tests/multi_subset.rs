//! A task of several subsets is evaluated as mteb evaluates it: every subset, in mteb's order, one
//! random stream across them, one result file holding each subset's scores, and the task score
//! their mean. Checked on a synthetic copy of ClusTREC-Covid (two subsets of the real task's shape)
//! against mteb 2.26.24's scores for it (tests/fixtures/multi_subset/ClusTREC-Covid.json, made by
//! scripts/make_multi_subset_fixture.py with the same real all-MiniLM-L6-v2).

mod common;

use std::path::{Path, PathBuf};

use leafbench::report::results_json::{result_path, TaskResult};
use serde_json::Value;

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
const TASK: &str = "ClusTREC-Covid";
/// v-measure is exact up to k-means ties that embeddings equal to ~1e-7 do not move.
const TOLERANCE: f64 = 1e-4;

fn fixture_dir() -> PathBuf {
    common::fixtures().join("multi_subset")
}

fn run(dir: &Path) -> TaskResult {
    let config = format!(
        "models:\n  - name: {MODEL}\n    path: {}\ntasks: [{TASK}]\ndata_dir: {}\noutput_dir: {}\n",
        common::minilm_dir().display(),
        fixture_dir().join("data").display(),
        dir.join("results").display()
    );
    let path = dir.join("run.yaml");
    std::fs::write(&path, config).unwrap();
    // Synthetic rows under the real task name: not MTEB's data, so not checked.
    let out = common::leafbench(&["run", path.to_str().unwrap(), "--quiet", "--no-data-check"]);
    assert!(
        out.status.success(),
        "run failed:\n{}",
        common::stderr(&out)
    );
    TaskResult::load(&result_path(&dir.join("results"), MODEL, "main", TASK)).unwrap()
}

#[test]
fn clustrec_covid_scores_both_subsets_as_mteb_does() {
    let text = std::fs::read_to_string(fixture_dir().join(format!("{TASK}.json"))).unwrap();
    let fixture: Value = serde_json::from_str(&text).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let result = run(dir.path());
    let entries = &result.scores["test"];
    let order: Vec<&str> = entries
        .iter()
        .map(|e| e["hf_subset"].as_str().unwrap())
        .collect();
    let want_order: Vec<&str> = fixture["subsets_in_mteb_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(order, want_order, "one entry per subset, in mteb's order");
    let mut mains = Vec::new();
    for entry in entries {
        let subset = entry["hf_subset"].as_str().unwrap();
        let ours = entry["v_measure"].as_f64().unwrap();
        let together = fixture["v_measure_together"][subset].as_f64().unwrap();
        let alone = fixture["v_measure_alone"][subset].as_f64().unwrap();
        assert!(
            (ours - together).abs() <= TOLERANCE,
            "{subset}: ours {ours} mteb {together} (alone, mteb gives {alone})"
        );
        mains.push(ours);
    }
    // The second subset only matches when it continues the first one's random stream.
    let second = want_order[1];
    let shifted = fixture["v_measure_together"][second].as_f64().unwrap()
        - fixture["v_measure_alone"][second].as_f64().unwrap();
    assert!(
        shifted.abs() > 10.0 * TOLERANCE,
        "the fixture must tell sharing from not sharing"
    );
    let mean = mains.iter().sum::<f64>() / mains.len() as f64;
    assert!((result.main_score().unwrap() - mean).abs() < 1e-12);
}
