//! A run over the whole MTEB(eng, v2) task list (configs/mteb-eng-v2.yaml) with only the data
//! held here: the tasks without data are reported and the run exits 3, and Mean(Task) is
//! printed only for a run in which every task ran.

mod common;

use std::path::Path;

use leafbench::task::TaskRef;

fn benchmark_tasks() -> Vec<TaskRef> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/mteb-eng-v2.yaml");
    leafbench::config::RunConfig::load(&path).unwrap().tasks
}

/// A task reference as a run config writes it.
fn yaml(task: &TaskRef) -> String {
    let mut parts = vec![format!("name: {}", task.name())];
    if let Some(s) = task.subsets() {
        parts.push(format!("subsets: [{}]", s.join(", ")));
    }
    if let Some(s) = task.eval_splits() {
        parts.push(format!("eval_splits: [{}]", s.join(", ")));
    }
    format!("{{{}}}", parts.join(", "))
}

fn run(work: &Path, tasks: &[TaskRef]) -> std::process::Output {
    let tasks: Vec<String> = tasks.iter().map(yaml).collect();
    let config = format!(
        "models:\n  - name: me/tiny\n    path: {}\ntasks: [{}]\ndata_dir: {}\noutput_dir: results\n{}",
        common::fixture_model("leaf_mt").display(),
        tasks.join(", "),
        common::shared_data().display(),
        common::DIFFERING_COPIES,
    );
    let path = work.join("run.yaml");
    std::fs::write(&path, config).unwrap();
    // An empty cache and no network: only the local mirror has data.
    let cache = work.join("empty-cache");
    std::fs::create_dir_all(&cache).unwrap();
    common::leafbench_with_env(
        &["run", path.to_str().unwrap(), "--quiet"],
        &[("HF_HUB_CACHE", &cache)],
    )
}

fn row_of<'a>(stdout: &'a str, task: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(task))
        .unwrap_or_else(|| panic!("no row for {task}:\n{stdout}"))
}

#[test]
fn tasks_without_data_are_reported_and_mean_needs_all_of_them() {
    let tasks = benchmark_tasks();
    assert_eq!(tasks.len(), 41, "MTEB(eng, v2) has 41 tasks");
    let work = tempfile::tempdir().unwrap();
    let out = run(work.path(), &tasks);
    // Requested tasks did not run: the run says which and exits 3.
    assert_eq!(out.status.code(), Some(3), "{}", common::stderr(&out));
    assert!(
        common::stderr(&out).contains("ArguAna (me/tiny)"),
        "{}",
        common::stderr(&out)
    );
    let stdout = common::stdout(&out);
    assert!(row_of(&stdout, "ArguAna").contains("no data"), "{stdout}");
    let ran: Vec<TaskRef> = tasks
        .iter()
        .filter(|t| !row_of(&stdout, t.name()).contains("no data"))
        .cloned()
        .collect();
    let names: Vec<&str> = ran.iter().map(TaskRef::name).collect();
    assert!(names.contains(&"STSBenchmark") && names.contains(&"TwitterURLCorpus"));
    assert!(
        stdout.contains(&format!("{} of 41 tasks ran; no Mean(Task)", ran.len())),
        "{stdout}"
    );

    // With only the tasks that have data, every task runs and the mean is printed: the mean of
    // the main scores in the result files.
    let work = tempfile::tempdir().unwrap();
    let out = run(work.path(), &ran);
    let stdout = common::stdout(&out);
    let scores: Vec<f64> = names
        .iter()
        .map(|t| {
            let path = work.path().join(format!("results/me__tiny/main/{t}.json"));
            let result = leafbench::report::results_json::TaskResult::load(&path).unwrap();
            result.main_score().unwrap() * 100.0
        })
        .collect();
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let expected = format!("me/tiny: Mean(Task) over {} tasks: {mean:.2}", ran.len());
    assert!(
        stdout.contains(&expected),
        "expected `{expected}` in:\n{stdout}"
    );
}
