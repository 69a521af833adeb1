//! all-MiniLM-L6-v2 on the offline MTEB tasks reproduces the published scores
//! (reference/published_scores.csv: embeddings-benchmark/results f4cc6c8b3) within the
//! stated tolerances, and TwitterURLCorpus — a partial copy — the peer's scores
//! (../shared/reference/peer_scores.csv: mteb 2.26.24 + sentence-transformers 6.2.0 on the same
//! files). Tolerances are in points (×100).

mod common;

use std::path::{Path, PathBuf};

use leafbench::report::published::Published;
use leafbench::report::results_json::{result_path, TaskResult};

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
const REVISION: &str = "8b3219a92973c328a8e22fadcfa821b5dc75636a";

const EXPECTED: [(&str, f64); 14] = [
    ("STSBenchmark", 0.01),
    ("SICK-R", 0.01),
    ("STS12", 0.01),
    ("STS14", 0.01),
    ("STS16", 0.01),
    ("STS17", 0.01),
    ("Banking77Classification", 0.3),
    ("AmazonCounterfactualClassification", 0.3),
    ("MassiveIntentClassification", 0.3),
    ("TweetSentimentExtractionClassification", 0.3),
    ("EmotionClassification", 0.3),
    ("SIB200Classification", 0.3),
    ("SummEvalSummarization.v2", 0.05),
    ("TwitterURLCorpus", 0.01),
];

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

fn data_dir() -> PathBuf {
    std::env::var_os("LEAFBENCH_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| shared().join("data"))
}

/// The peer's value of `metric` for a task's test split.
fn peer_score(task: &str, metric: &str) -> f64 {
    let path = shared().join("reference/peer_scores.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f[0] == task && f[1] == "test" && f[3] == metric)
        .unwrap_or_else(|| panic!("no peer score for {task} {metric}"))[4]
        .parse()
        .unwrap()
}

fn write_config(dir: &Path) -> PathBuf {
    let tasks: Vec<String> = EXPECTED
        .iter()
        .map(|(t, _)| {
            format!(
                "  - {{name: {t}, subsets: [{}], eval_splits: [test]}}",
                subset(t)
            )
        })
        .collect();
    let config = format!(
        "models:\n  - name: {MODEL}\n    revision: {REVISION}\n    path: {}\ntasks:\n{}\ndata_dir: {}\noutput_dir: {}\n{}",
        common::minilm_dir().display(),
        tasks.join("\n"),
        data_dir().display(),
        dir.join("results").display(),
        common::DIFFERING_COPIES,
    );
    let path = dir.join("run.yaml");
    std::fs::write(&path, config).unwrap();
    path
}

fn run(config: &Path) -> String {
    let out = common::leafbench(&["run", config.to_str().unwrap(), "--quiet"]);
    assert!(
        out.status.success(),
        "run failed:\n{}",
        common::stderr(&out)
    );
    common::stdout(&out)
}

#[test]
fn offline_tasks_reproduce_published_and_peer_scores() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path());
    run(&config);
    let published = Published::load(&Published::default_path()).unwrap();
    let results = dir.path().join("results");
    let load =
        |task: &str| TaskResult::load(&result_path(&results, MODEL, REVISION, task)).unwrap();
    let mut report = Vec::new();
    for (task, tolerance) in EXPECTED {
        let ours = load(task).scores["test"][0]["main_score"].as_f64().unwrap() * 100.0;
        let want = if task == "TwitterURLCorpus" {
            peer_score(task, "main_score") * 100.0
        } else {
            published
                .score(MODEL, task, &["test".into()], &[subset(task).to_string()])
                .unwrap()
                * 100.0
        };
        report.push(format!(
            "{task}: ours {ours:.4} want {want:.4} Δ {:+.4} (tolerance {tolerance})",
            ours - want
        ));
        assert!((ours - want).abs() <= tolerance, "{}", report.join("\n"));
    }
    let twitter = load("TwitterURLCorpus");
    let entry = &twitter.scores["test"][0];
    for scorer in ["similarity", "cosine", "manhattan", "euclidean", "dot"] {
        let metric = format!("{scorer}_ap");
        let ours = entry[&metric].as_f64().unwrap() * 100.0;
        let want = peer_score("TwitterURLCorpus", &metric) * 100.0;
        assert!(
            (ours - want).abs() <= 0.01,
            "TwitterURLCorpus {metric}: ours {ours} peer {want}"
        );
    }
    results_load_in_mteb(&results);
    resumes_with_what_is_done(&config, &results);
}

fn subset(task: &str) -> &'static str {
    match task {
        "STS17" => "en-en",
        "AmazonCounterfactualClassification" | "MassiveIntentClassification" => "en",
        "SIB200Classification" => "eng_Latn",
        _ => "default",
    }
}

/// Every result file loads in Python mteb, when the peer environment is installed.
fn results_load_in_mteb(results: &Path) {
    let Some(python) = common::peer_python() else {
        eprintln!(
            "skipped: loading results in mteb needs the peer venv; run ../shared/peer/setup.sh"
        );
        return;
    };
    let script = "import sys, pathlib, mteb\nfor p in sorted(pathlib.Path(sys.argv[1]).rglob('*.json')):\n    r = mteb.TaskResult.from_disk(p)\n    print(r.task_name, r.get_score())\n";
    let out = std::process::Command::new(&python)
        .args(["-c", script, results.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mteb could not load the results:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        EXPECTED.len()
    );
}

/// A second run reuses finished results and recomputes only what is missing.
fn resumes_with_what_is_done(config: &Path, results: &Path) {
    let sts17 = result_path(results, MODEL, REVISION, "STS17");
    let banking = result_path(results, MODEL, REVISION, "Banking77Classification");
    let banking_before = std::fs::read(&banking).unwrap();
    std::fs::remove_file(&sts17).unwrap();
    run(config);
    assert!(sts17.is_file(), "the missing result was not recomputed");
    assert_eq!(
        std::fs::read(&banking).unwrap(),
        banking_before,
        "a finished result was rewritten"
    );
}
