//! MTEB 2's reranking form (configs `corpus`, `queries`, `qrels` and `top_ranked`: each query
//! ranks only its listed candidates), as `AskUbuntuDupQuestions@mteb2` and
//! `MindSmallReranking@mteb2` read it from a Hugging Face cache at their pinned revisions.
//! The repos are small synthetic ones in the layout `push_to_hub` writes, with mteb 2.26.24's
//! scores of them under all-MiniLM-L6-v2 and mteb's own statistics of them
//! (tests/fixtures/reranking/top_ranked, made by scripts/make_top_ranked_fixture.py). The run
//! must pass the data check against those statistics and give every score mteb gives.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::{json, Value};

const TASKS: [&str; 2] = ["AskUbuntuDupQuestions", "MindSmallReranking"];

/// Scores agree to the last bits: the cosines are torch's, so every ranking and nAUC figure is
/// the same. Only means of unrounded per-query values may differ in their last bit, as mteb's
/// own order of the sub-query requests varies from run to run (its `max_over_subqueries_mrr`).
const TOLERANCE: f64 = 1e-12;

fn fixture(task: &str) -> PathBuf {
    common::fixtures().join("reranking/top_ranked").join(task)
}

fn key(task: &str) -> String {
    format!("{task}@mteb2")
}

/// The repo and revision the task's `mteb2` edition pins.
fn pinned(task: &str) -> (String, String) {
    let path = common::tasks_dir().join(format!("{}.yaml", key(task)));
    let spec = leafbench::task::TaskSpec::load(&path).unwrap();
    assert!(
        spec.dataset.top_ranked,
        "{task}: the edition reads the top_ranked form"
    );
    (spec.dataset.path, spec.dataset.revision)
}

/// A Hugging Face cache holding each fixture repo (its card and Parquet files) at the pinned
/// revision.
fn cache(root: &Path) {
    for task in TASKS {
        let (repo, revision) = pinned(task);
        let repo_dir = root.join(format!("datasets--{}", repo.replace('/', "--")));
        let snapshot = repo_dir.join("snapshots").join(&revision);
        for file in common::files_below(&fixture(task)) {
            let rel = file.strip_prefix(fixture(task)).unwrap();
            if rel.extension().is_some_and(|e| e == "json") {
                continue; // the peer's scores and statistics, not part of the repo
            }
            let to = snapshot.join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&file, &to).unwrap();
        }
        std::fs::create_dir_all(repo_dir.join("refs")).unwrap();
        std::fs::write(repo_dir.join("refs/main"), &revision).unwrap();
    }
}

/// The two task files with mteb's statistics of the fixtures in place of the real ones.
fn tasks_dir(work: &Path) -> PathBuf {
    let dir = work.join("tasks");
    std::fs::create_dir_all(&dir).unwrap();
    for task in TASKS {
        let file = format!("{}.yaml", key(task));
        std::fs::copy(common::tasks_dir().join(&file), dir.join(&file)).unwrap();
    }
    let stats = common::fixtures().join("reranking/top_ranked/data_stats.json");
    std::fs::copy(stats, dir.join("data_stats.json")).unwrap();
    dir
}

/// One config of a fixture repo.
fn frame(task: &str, config: &str) -> DataFrame {
    let path = fixture(task)
        .join(config)
        .join("test-00000-of-00001.parquet");
    ParquetReader::new(File::open(path).unwrap())
        .finish()
        .unwrap()
}

fn strings(frame: &DataFrame, column: &str) -> Vec<String> {
    let column = frame.column(column).unwrap().as_materialized_series();
    column
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect()
}

fn jsonl(rows: impl Iterator<Item = Value>) -> String {
    rows.map(|r| format!("{r}\n")).collect()
}

/// The same repos in the local mirror's layout: `<data>/<name>@mteb2/` with `corpus.jsonl`,
/// `queries.jsonl`, `qrels/test.tsv` and `top_ranked/test.jsonl`.
fn mirror(work: &Path) -> PathBuf {
    let data = work.join("data");
    for task in TASKS {
        let dir = data.join(key(task));
        std::fs::create_dir_all(dir.join("qrels")).unwrap();
        std::fs::create_dir_all(dir.join("top_ranked")).unwrap();
        let corpus = frame(task, "corpus");
        let titles = match corpus.column("title") {
            Ok(_) => strings(&corpus, "title"),
            Err(_) => vec![String::new(); corpus.height()],
        };
        let docs = strings(&corpus, "id")
            .into_iter()
            .zip(titles)
            .zip(strings(&corpus, "text"));
        let docs = docs.map(|((id, title), text)| json!({"_id": id, "title": title, "text": text}));
        std::fs::write(dir.join("corpus.jsonl"), jsonl(docs)).unwrap();
        let queries = frame(task, "queries");
        let queries = strings(&queries, "id")
            .into_iter()
            .zip(strings(&queries, "text"));
        let queries = queries.map(|(id, text)| json!({"_id": id, "text": text}));
        std::fs::write(dir.join("queries.jsonl"), jsonl(queries)).unwrap();
        let qrels = frame(task, "qrels");
        let grades = qrels
            .column("score")
            .unwrap()
            .as_materialized_series()
            .i64()
            .unwrap()
            .clone();
        let mut tsv = String::from("query-id\tcorpus-id\tscore\n");
        let pairs = strings(&qrels, "query-id")
            .into_iter()
            .zip(strings(&qrels, "corpus-id"));
        for ((q, d), g) in pairs.zip(grades.iter()) {
            tsv += &format!("{q}\t{d}\t{}\n", g.unwrap());
        }
        std::fs::write(dir.join("qrels/test.tsv"), tsv).unwrap();
        let lists = frame(task, "top_ranked");
        let series = lists.column("corpus-ids").unwrap().as_materialized_series();
        let mut candidates = Vec::new();
        for list in series.list().unwrap().amortized_iter() {
            let list = list.unwrap();
            let ids = list.as_ref().str().unwrap().iter();
            candidates.push(ids.map(|id| id.unwrap().to_string()).collect::<Vec<_>>());
        }
        let rows = strings(&lists, "query-id")
            .into_iter()
            .zip(candidates)
            .map(|(q, ids)| json!({"query-id": q, "corpus-ids": ids}));
        std::fs::write(dir.join("top_ranked/test.jsonl"), jsonl(rows)).unwrap();
    }
    data
}

fn run(work: &Path, tasks: &[String]) -> std::process::Output {
    run_from(work, tasks, "data_source: hub")
}

fn run_from(work: &Path, tasks: &[String], source: &str) -> std::process::Output {
    let config = format!(
        "models:\n  - name: sentence-transformers/all-MiniLM-L6-v2\n    path: {}\ntasks: [{}]\n\
         {source}\noutput_dir: {}\n",
        common::minilm_dir().display(),
        tasks.join(", "),
        work.join("results").display()
    );
    let path = work.join("run.yaml");
    std::fs::write(&path, config).unwrap();
    let tasks = tasks_dir(work);
    let cache_dir = work.join("hf-cache");
    cache(&cache_dir);
    common::leafbench_with_env(
        &[
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--tasks-dir",
            tasks.to_str().unwrap(),
        ],
        &[("HF_HUB_CACHE", &cache_dir)],
    )
}

fn result(work: &Path, task: &str) -> Value {
    let dir = work.join("results/sentence-transformers__all-MiniLM-L6-v2/main");
    let path = dir.join(format!("{task}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn peer(task: &str) -> serde_json::Map<String, Value> {
    let path = fixture(task).join("peer_scores.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    json["scores"].as_object().unwrap().clone()
}

#[test]
fn the_reranking_form_scores_as_mteb_2_does() {
    let work = tempfile::tempdir().unwrap();
    let keys: Vec<String> = TASKS.iter().map(|t| key(t)).collect();
    let out = run(work.path(), &keys);
    assert!(out.status.success(), "{}", common::stderr(&out));
    for task in TASKS {
        let file = result(work.path(), task);
        assert_eq!(
            file["task_name"], task,
            "results are written under MTEB's name"
        );
        assert_eq!(file["task_edition"], "mteb2");
        assert_eq!(
            file["data_check"], "passed",
            "{task}: mteb's statistics of the fixture"
        );
        let ours = file["scores"]["test"][0].as_object().unwrap().clone();
        let theirs = peer(task);
        let mut compared = 0;
        for (metric, want) in &theirs {
            if want.is_string() {
                continue; // `mteb_version`, `main_score_name`: not scores
            }
            let got = ours
                .get(metric)
                .unwrap_or_else(|| panic!("{task}: no `{metric}`"));
            match (want.as_f64(), got.as_f64()) {
                (Some(w), Some(g)) => assert!(
                    (w - g).abs() <= TOLERANCE,
                    "{task} {metric}: mteb {w}, leafbench {g}"
                ),
                // mteb's NaN (a constant confidence score) is written as null by both.
                (None, None) => {}
                _ => panic!("{task} {metric}: mteb {want}, leafbench {got}"),
            }
            compared += 1;
        }
        assert!(compared > 140, "{task}: only {compared} metrics compared");
        assert_eq!(
            file["scores"]["test"][0]["main_score"],
            ours[theirs["main_score_name"].as_str().unwrap()],
            "{task}: the main score is the task file's"
        );
    }
}

#[test]
fn the_local_mirror_holds_the_form_as_files() {
    let keys: Vec<String> = TASKS.iter().map(|t| key(t)).collect();
    let hub = tempfile::tempdir().unwrap();
    let out = run(hub.path(), &keys);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let local = tempfile::tempdir().unwrap();
    let data = mirror(local.path());
    let source = format!("data_source: local\ndata_dir: {}", data.display());
    let out = run_from(local.path(), &keys, &source);
    assert!(out.status.success(), "{}", common::stderr(&out));
    for task in TASKS {
        let (a, b) = (result(hub.path(), task), result(local.path(), task));
        assert_eq!(b["data_check"], "passed", "{task}");
        assert_eq!(a["scores"], b["scores"], "{task}");
    }
}

#[test]
fn a_wrong_copy_of_the_form_is_refused() {
    // Statistics that expect one candidate more than the copy lists: the copy is refused
    // before anything is encoded.
    let work = tempfile::tempdir().unwrap();
    let tasks = tasks_dir(work.path());
    let stats = std::fs::read_to_string(tasks.join("data_stats.json")).unwrap();
    let swapped = stats.replace("\"top_ranked.total\": 94", "\"top_ranked.total\": 95");
    assert_ne!(
        stats, swapped,
        "the fixture's statistics name 94 candidates"
    );
    std::fs::write(tasks.join("data_stats.json"), swapped).unwrap();
    let config = format!(
        "models:\n  - name: sentence-transformers/all-MiniLM-L6-v2\n    path: {}\n\
         tasks: [{}]\ndata_source: hub\noutput_dir: {}\n",
        common::minilm_dir().display(),
        key("AskUbuntuDupQuestions"),
        work.path().join("results").display()
    );
    let path = work.path().join("run.yaml");
    std::fs::write(&path, config).unwrap();
    let cache_dir = work.path().join("hf-cache");
    cache(&cache_dir);
    let out = common::leafbench_with_env(
        &[
            "plan",
            path.to_str().unwrap(),
            "--tasks-dir",
            tasks.to_str().unwrap(),
        ],
        &[("HF_HUB_CACHE", &cache_dir)],
    );
    let err = common::stderr(&out);
    assert!(!out.status.success(), "the check passed:\n{err}");
    assert!(
        err.contains("top_ranked.total: expected 95, found 94"),
        "{err}"
    );
}

#[test]
fn two_editions_of_one_task_are_not_run_together() {
    let work = tempfile::tempdir().unwrap();
    let config = format!(
        "models:\n  - name: sentence-transformers/all-MiniLM-L6-v2\n    path: {}\n\
         tasks: [AskUbuntuDupQuestions, AskUbuntuDupQuestions@mteb2]\noutput_dir: {}\n",
        common::minilm_dir().display(),
        work.path().join("results").display()
    );
    let path = work.path().join("run.yaml");
    std::fs::write(&path, config).unwrap();
    let out = common::leafbench(&["plan", path.to_str().unwrap()]);
    let err = common::stderr(&out);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(
            "`AskUbuntuDupQuestions` and `AskUbuntuDupQuestions@mteb2` are two definitions"
        ),
        "{err}"
    );
}
