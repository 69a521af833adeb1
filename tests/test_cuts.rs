//! The tasks whose test split mteb cuts with a stratified `train_test_split` run end to end and
//! score what mteb scores: synthetic copies of ToxicConversationsClassification and
//! StackExchangeClustering.v2 larger than the 2,048-row cut, against mteb 2.26.24 on the same
//! files with its dataset_transform applied (tests/fixtures/test_cuts/scores.json, made by
//! scripts/make_test_cut_fixtures.py with the same real all-MiniLM-L6-v2). Scores only agree when
//! the same 2,048 rows are kept in the same order.

mod common;

use leafbench::report::results_json::{result_path, TaskResult};
use serde_json::Value;

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

#[test]
fn cut_tasks_score_as_mteb_scores_them() {
    let fixtures = common::fixtures().join("test_cuts");
    let text = std::fs::read_to_string(fixtures.join("scores.json")).unwrap();
    let peer: Value = serde_json::from_str(&text).unwrap();
    let work = tempfile::tempdir().unwrap();
    let config = format!(
        "models:\n  - name: {MODEL}\n    path: {}\ntasks: [ToxicConversationsClassification, StackExchangeClustering.v2]\ndata_dir: {}\noutput_dir: {}\n",
        common::minilm_dir().display(),
        fixtures.join("data").display(),
        work.path().join("results").display()
    );
    let path = work.path().join("run.yaml");
    std::fs::write(&path, config).unwrap();
    // The task files come with mteb's statistics of these copies, so their data is checked too.
    let tasks = common::cut_tasks_dir(work.path(), 42);
    let args = ["run", path.to_str().unwrap(), "--quiet", "--tasks-dir"];
    let out = common::leafbench(&[&args[..], &[tasks.to_str().unwrap()]].concat());
    assert!(out.status.success(), "{}", common::stderr(&out));
    let ours = |task: &str| {
        let path = result_path(&work.path().join("results"), MODEL, "main", task);
        let result = serde_json::to_value(TaskResult::load(&path).unwrap()).unwrap();
        assert_eq!(result["data_check"], "passed", "{task}");
        result["scores"]["test"][0].clone()
    };

    // Classification: every experiment's accuracy on the 2,048 kept rows (one row is 1/2048).
    let toxic = ours("ToxicConversationsClassification");
    let want = &peer["tasks"]["ToxicConversationsClassification"]["scores"];
    let accuracies = |scores: &Value| -> Vec<f64> {
        scores["scores_per_experiment"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["accuracy"].as_f64().unwrap())
            .collect()
    };
    let (mine, theirs) = (accuracies(&toxic), accuracies(want));
    assert_eq!(mine.len(), theirs.len());
    for (i, (a, b)) in mine.iter().zip(&theirs).enumerate() {
        assert!(
            (a - b).abs() <= 1.0 / 2048.0 + 1e-12,
            "experiment {i}: ours {a} mteb {b}"
        );
    }

    // Clustering: the v-measure of every bootstrap set over the kept documents.
    let se = ours("StackExchangeClustering.v2");
    let want = &peer["tasks"]["StackExchangeClustering.v2"]["scores"];
    let (a, b) = (
        se["v_measure"].as_f64().unwrap(),
        want["v_measure"].as_f64().unwrap(),
    );
    assert!((a - b).abs() <= 1e-4, "v_measure: ours {a} mteb {b}");
}
