//! `leafbench run` on bad task definitions and bad data: clear errors naming the file (and
//! line), a non-zero exit, and no result file. Uses a tiny fixture model and task files and
//! data written by the test, which also shows that a new task is just a YAML file.

mod common;

use std::path::PathBuf;

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let s = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(s.path("tasks")).unwrap();
        s.task("MySTS", "STS", "params: {min_score: 0, max_score: 5}");
        s.task(
            "MyClassification",
            "Classification",
            "params: {samples_per_label: 2}",
        );
        s.data(
            "MySTS/test.jsonl",
            &[
                r#"{"sentence1": "a cat", "sentence2": "a dog", "score": 1.5}"#,
                r#"{"sentence1": "rain", "sentence2": "snow", "score": 4}"#,
                r#"{"sentence1": "up", "sentence2": "down", "score": 0}"#,
            ],
        );
        s.data(
            "MyClassification/train.jsonl",
            &[
                r#"{"text": "good", "label": 1}"#,
                r#"{"text": "great", "label": 1}"#,
                r#"{"text": "bad", "label": 0}"#,
                r#"{"text": "awful", "label": 0}"#,
            ],
        );
        s.data(
            "MyClassification/test.jsonl",
            &[
                r#"{"text": "fine", "label": 1}"#,
                r#"{"text": "poor", "label": 0}"#,
            ],
        );
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn task(&self, name: &str, kind: &str, params: &str) {
        let yaml = format!("name: {name}\ntype: {kind}\ndataset: {{path: me/{name}, revision: r1}}\neval_splits: [test]\nmain_score: {}\n{params}\n",
            if kind == "STS" { "cosine_spearman" } else { "accuracy" });
        std::fs::write(self.path(&format!("tasks/{name}.yaml")), yaml).unwrap();
    }

    fn data(&self, rel: &str, lines: &[&str]) {
        let path = self.path(&format!("data/{rel}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    fn run(&self, tasks: &str) -> std::process::Output {
        let config = format!(
            "models:\n  - name: me/tiny\n    path: {}\ntasks: {tasks}\ndata_dir: data\noutput_dir: results\n",
            common::fixture_model("leaf_mt").display()
        );
        std::fs::write(self.path("run.yaml"), config).unwrap();
        common::leafbench(&[
            "run",
            self.path("run.yaml").to_str().unwrap(),
            "--tasks-dir",
            self.path("tasks").to_str().unwrap(),
            "--quiet",
        ])
    }

    fn result(&self, task: &str) -> PathBuf {
        self.path(&format!("results/me__tiny/main/{task}.json"))
    }

    fn fails(&self, tasks: &str, parts: &[&str]) {
        let out = self.run(tasks);
        assert!(!out.status.success(), "expected failure");
        let err = common::stderr(&out);
        for p in parts {
            assert!(err.contains(p), "error should mention `{p}`:\n{err}");
        }
        let written: Vec<_> = common::files_below(&self.path("results"));
        assert!(
            written
                .iter()
                .all(|p| !p.to_string_lossy().contains(tasks.trim_matches(['[', ']']))),
            "result written: {written:?}"
        );
    }
}

#[test]
fn a_task_defined_by_a_yaml_file_runs() {
    let s = Setup::new();
    let out = s.run("[MySTS, MyClassification]");
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(s.result("MySTS").is_file() && s.result("MyClassification").is_file());
    assert!(common::stdout(&out).contains("MyClassification"));
}

#[test]
fn unknown_task_or_type() {
    let s = Setup::new();
    s.fails("[NoSuchTask]", &["tasks", "unknown task `NoSuchTask`"]);
    let out = common::leafbench(&[
        "tasks",
        "--type",
        "Ranking",
        "--tasks-dir",
        s.path("tasks").to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(common::stderr(&out).contains("unknown task type `Ranking`"));
}

#[test]
fn wrong_field_in_a_task_file_is_named_with_its_line() {
    let s = Setup::new();
    s.task("MySTS", "STS", "params: {min_score: 0, max_scor: 5}");
    s.fails("[MySTS]", &["MySTS.yaml", "max_scor", "line 6"]);
}

#[test]
fn row_missing_a_column_or_with_a_non_numeric_score() {
    let s = Setup::new();
    s.data(
        "MySTS/test.jsonl",
        &[
            r#"{"sentence1": "a", "sentence2": "b", "score": 1}"#,
            r#"{"sentence1": "a", "score": 2}"#,
        ],
    );
    s.fails("[MySTS]", &["MySTS/test.jsonl", "line 2", "sentence2"]);
    s.data(
        "MySTS/test.jsonl",
        &[r#"{"sentence1": "a", "sentence2": "b", "score": "high"}"#],
    );
    s.fails("[MySTS]", &["MySTS/test.jsonl", "line 1", "invalid type"]);
}

#[test]
fn test_label_unseen_in_train() {
    let s = Setup::new();
    s.data(
        "MyClassification/test.jsonl",
        &[
            r#"{"text": "fine", "label": 1}"#,
            r#"{"text": "meh", "label": 7}"#,
        ],
    );
    s.fails(
        "[MyClassification]",
        &[
            "MyClassification/test.jsonl",
            "line 2",
            "label `7` never occurs in the train split",
        ],
    );
}

#[test]
fn empty_split() {
    let s = Setup::new();
    s.data("MySTS/test.jsonl", &[""]);
    s.fails("[MySTS]", &["MySTS/test.jsonl", "split is empty"]);
}

#[test]
fn a_label_that_is_neither_integer_nor_text_says_what_the_file_holds() {
    let s = Setup::new();
    s.data(
        "MyClassification/train.jsonl",
        &[
            r#"{"text": "good", "label": 1}"#,
            r#"{"text": "bad", "label": 0.5}"#,
        ],
    );
    s.fails(
        "[MyClassification]",
        &[
            "MyClassification/train.jsonl",
            "line 2",
            "`label` is 0.5; expected an integer or a string",
        ],
    );
}

#[test]
fn a_train_split_of_one_label_names_that_label() {
    let s = Setup::new();
    s.data(
        "MyClassification/train.jsonl",
        &[
            r#"{"text": "good", "label": 1}"#,
            r#"{"text": "great", "label": 1}"#,
        ],
    );
    s.data(
        "MyClassification/test.jsonl",
        &[r#"{"text": "fine", "label": 1}"#],
    );
    s.fails(
        "[MyClassification]",
        &[
            "holds only label `1`",
            "expected at least two distinct labels",
        ],
    );
}
