//! Every loaded split is checked against MTEB's statistics of it before anything is encoded:
//! `leafbench plan` loads each split as a run does, so it passes on data equal to MTEB's and
//! stops, naming task, split, figure, expected and found, on a copy that is not: the offline
//! copies known to differ, a dropped row, swapped columns, a test cut taken with another seed.

mod common;

use std::path::{Path, PathBuf};

use leafbench::report::results_json::{result_path, TaskResult};

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// A run configuration of `tasks` on `data_dir`, plus `extra` lines, written under `work`.
fn config(work: &Path, tasks: &str, data_dir: &Path, extra: &str) -> PathBuf {
    let text = format!(
        "models:\n  - name: {MODEL}\n    path: {}\ntasks: {tasks}\ndata_dir: {}\noutput_dir: {}\n{extra}",
        common::minilm_dir().display(),
        data_dir.display(),
        work.join("results").display()
    );
    let path = work.join("run.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

fn plan(config: &Path, tasks_dir: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "plan",
        config.to_str().unwrap(),
        "--tasks-dir",
        tasks_dir.to_str().unwrap(),
    ];
    args.extend(extra);
    common::leafbench(&args)
}

fn assert_refused(out: &std::process::Output, needles: &[&str]) {
    let err = common::stderr(out);
    assert!(!out.status.success(), "the check passed:\n{err}");
    for needle in needles {
        assert!(err.contains(needle), "no `{needle}` in:\n{err}");
    }
}

/// STSBenchmark's offline test split copied under `work/data`, its rows passed through `edit`.
fn edited_sts_copy(work: &Path, edit: impl FnOnce(Vec<String>) -> Vec<String>) -> PathBuf {
    let data = work.join("data");
    let task = data.join("STSBenchmark");
    common::copy_dir(&common::shared_data().join("STSBenchmark"), &task);
    let file = task.join("test.jsonl");
    let rows: Vec<String> = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    std::fs::write(&file, edit(rows).join("\n") + "\n").unwrap();
    data
}

#[test]
fn the_offline_data_passes_and_the_copies_known_to_differ_are_named() {
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/quickstart.yaml");
    let out = plan(&quickstart, &common::tasks_dir(), &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));

    // Without the config's exemption, each of the three stops the plan on what differs.
    for (task, figure) in [
        ("STS12", "sentence1.chars: expected"),
        ("STS14", "sentence2.chars: expected"),
        ("TwitterURLCorpus", "rows: expected"),
    ] {
        let work = tempfile::tempdir().unwrap();
        let path = config(
            work.path(),
            &format!("[{task}]"),
            &common::shared_data(),
            "",
        );
        let out = plan(&path, &common::tasks_dir(), &[]);
        assert_refused(
            &out,
            &[&format!("{task}, split test, subset default"), figure],
        );
    }
}

#[test]
fn a_dropped_row_stops_the_run_unless_the_check_is_skipped() {
    let work = tempfile::tempdir().unwrap();
    let mut kept = 0;
    let data = edited_sts_copy(work.path(), |mut rows| {
        rows.pop();
        kept = rows.len();
        rows
    });
    let path = config(work.path(), "[STSBenchmark]", &data, "");
    let out = plan(&path, &common::tasks_dir(), &[]);
    assert_refused(
        &out,
        &[
            "STSBenchmark, split test, subset default",
            &format!("found {kept}"),
            "rows: expected",
            "test.jsonl",
        ],
    );

    // Skipped, the run scores the damaged copy and its result file says it was not checked.
    let out = common::leafbench(&["run", path.to_str().unwrap(), "--quiet", "--no-data-check"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let file = result_path(&work.path().join("results"), MODEL, "main", "STSBenchmark");
    let result = serde_json::to_value(TaskResult::load(&file).unwrap()).unwrap();
    assert_eq!(result["data_check"], "skipped");
}

#[test]
fn swapped_columns_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let data = edited_sts_copy(work.path(), |rows| {
        rows.iter()
            .map(|r| {
                let mut row: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(r).unwrap();
                let s1 = row.remove("sentence1").unwrap();
                let s2 = row.insert("sentence2".into(), s1).unwrap();
                row.insert("sentence1".into(), s2);
                serde_json::to_string(&row).unwrap()
            })
            .collect()
    });
    let path = config(work.path(), "[STSBenchmark]", &data, "");
    let out = plan(&path, &common::tasks_dir(), &[]);
    assert_refused(
        &out,
        &["sentence1.chars: expected", "sentence2.chars: expected"],
    );
    // The config can exempt the task by name.
    let path = config(
        work.path(),
        "[STSBenchmark]",
        &data,
        "no_data_check: [STSBenchmark]\n",
    );
    let out = plan(&path, &common::tasks_dir(), &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
}

#[test]
fn a_test_cut_taken_another_way_is_refused() {
    let data = common::fixtures().join("test_cuts/data");
    for task in [
        "ToxicConversationsClassification",
        "StackExchangeClustering.v2",
    ] {
        let work = tempfile::tempdir().unwrap();
        let path = config(work.path(), &format!("[{task}]"), &data, "");
        let out = plan(&path, &common::cut_tasks_dir(work.path(), 42), &[]);
        assert!(out.status.success(), "{task}: {}", common::stderr(&out));
        let out = plan(&path, &common::cut_tasks_dir(work.path(), 43), &[]);
        assert_refused(
            &out,
            &[&format!("{task}, split test"), "text.chars: expected"],
        );
    }
}
