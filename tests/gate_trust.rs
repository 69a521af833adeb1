//! A CI gate built on leafbench must never pass wrongly, and a run must never write where it
//! should not: NaN embeddings, undefined scores, missing tasks, results that are not what
//! they claim, hostile names and odd output targets. Uses the tiny leaf_mt fixture model and
//! task files and data written by each test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use leafbench::Embeddings;

struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Self {
        let w = Work {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(w.path("tasks")).unwrap();
        for name in ["MySTS", "OtherSTS"] {
            w.sts_task(name);
            w.data(
                &format!("{name}/test.jsonl"),
                &[
                    r#"{"sentence1": "a cat", "sentence2": "a dog", "score": 1.5}"#,
                    r#"{"sentence1": "rain", "sentence2": "snow", "score": 4}"#,
                    r#"{"sentence1": "up", "sentence2": "down", "score": 0}"#,
                ],
            );
        }
        w
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn sts_task(&self, name: &str) {
        let yaml = format!("name: {name}\ntype: STS\ndataset: {{path: me/{name}, revision: r1}}\neval_splits: [test]\nmain_score: cosine_spearman\nparams: {{min_score: 0, max_score: 5}}\n");
        std::fs::write(self.path(&format!("tasks/{name}.yaml")), yaml).unwrap();
    }

    fn data(&self, rel: &str, lines: &[&str]) {
        let path = self.path(&format!("data/{rel}"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
    }

    /// Writes run.yaml with `model` (YAML of one entry) and `tasks`, plus `extra` lines.
    fn config(&self, model: &str, tasks: &str, extra: &str) -> PathBuf {
        let config = format!(
            "models:\n  - {model}\ntasks: {tasks}\ndata_dir: data\noutput_dir: results\n{extra}"
        );
        let path = self.path("run.yaml");
        std::fs::write(&path, config).unwrap();
        path
    }

    fn tiny(&self) -> String {
        format!(
            "{{name: me/tiny, path: {}}}",
            common::fixture_model("leaf_mt").display()
        )
    }

    fn run(&self, tasks: &str, extra_args: &[&str]) -> Output {
        self.run_model(&self.tiny(), tasks, "", extra_args)
    }

    fn run_model(&self, model: &str, tasks: &str, extra: &str, args: &[&str]) -> Output {
        let config = self.config(model, tasks, extra);
        let mut all = vec![
            "run",
            config.to_str().unwrap(),
            "--tasks-dir",
            self.path("tasks").to_str().unwrap().to_owned().leak(),
            "--quiet",
        ];
        all.extend_from_slice(args);
        common::leafbench(&all)
    }

    fn result(&self, task: &str) -> PathBuf {
        self.path(&format!("results/me__tiny/main/{task}.json"))
    }
}

fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// A copy of leaf_mt whose Dense projection has one NaN weight: every embedding is NaN.
fn nan_model(dir: &Path) -> PathBuf {
    let model = dir.join("nan-model");
    common::copy_dir(&common::fixture_model("leaf_mt"), &model);
    let path = model.join("2_Dense/model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut owned: Vec<(String, safetensors::Dtype, Vec<usize>, Vec<u8>)> = tensors
        .tensors()
        .into_iter()
        .map(|(name, t)| (name, t.dtype(), t.shape().to_vec(), t.data().to_vec()))
        .collect();
    let weight = owned
        .iter_mut()
        .find(|(name, ..)| name.ends_with("weight"))
        .expect("a Dense weight");
    assert_eq!(weight.1, safetensors::Dtype::F32);
    weight.3[..4].copy_from_slice(&f32::NAN.to_le_bytes());
    let views: Vec<(String, safetensors::tensor::TensorView)> = owned
        .iter()
        .map(|(name, dtype, shape, data)| {
            let view = safetensors::tensor::TensorView::new(*dtype, shape.clone(), data).unwrap();
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize_to_file(views, None, &path).unwrap();
    model
}

fn write_texts(dir: &Path, texts: &[&str]) -> PathBuf {
    let path = dir.join("texts.txt");
    std::fs::write(&path, texts.join("\n") + "\n").unwrap();
    path
}

/// `leafbench COMMAND --model M INPUT_FLAG INPUT OUTPUT_FLAG OUTPUT --quiet EXTRA…`.
fn model_command(
    command: &str,
    model: &Path,
    (input_flag, input): (&str, &Path),
    (output_flag, output): (&str, &Path),
    extra: &[&str],
) -> Output {
    let mut args = vec![
        command,
        "--model",
        model.to_str().unwrap(),
        input_flag,
        input.to_str().unwrap(),
        output_flag,
        output.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    common::leafbench(&args)
}

fn parity(model: &Path, texts: &Path, reference: &Path, extra: &[&str]) -> Output {
    model_command(
        "parity",
        model,
        ("--texts", texts),
        ("--reference", reference),
        extra,
    )
}

fn embed(model: &Path, input: &Path, output: &Path, extra: &[&str]) -> Output {
    model_command(
        "embed",
        model,
        ("--input", input),
        ("--output", output),
        extra,
    )
}

#[test]
fn nan_on_either_side_fails_parity_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let texts = write_texts(dir.path(), &["a cat", "a dog"]);
    let good = common::fixture_model("leaf_mt");
    let reference = dir.path().join("ref.npy");
    let out = embed(&good, &texts, &reference, &[]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let out = parity(&good, &texts, &reference, &[]);
    assert_eq!(code(&out), Some(0), "{}", common::stdout(&out));

    let out = parity(&nan_model(dir.path()), &texts, &reference, &[]);
    let stdout = common::stdout(&out);
    assert_eq!(code(&out), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "FAIL: the model's embedding holds NaN or infinity in 2 row(s), first row 0 (line 1)"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("PASS"), "{stdout}");

    let mut emb = Embeddings::load_npy(&reference).unwrap();
    emb.row_mut(1)[3] = f32::NAN;
    let bad_ref = dir.path().join("bad-ref.npy");
    std::fs::write(&bad_ref, emb.to_npy()).unwrap();
    let out = parity(&good, &texts, &bad_ref, &[]);
    let stdout = common::stdout(&out);
    assert_eq!(code(&out), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "FAIL: the reference holds NaN or infinity in 1 row(s), first row 1 (line 2)"
        ),
        "{stdout}"
    );
    let out = parity(&good, &texts, &reference, &["--max-abs-diff", "nan"]);
    assert_eq!(code(&out), Some(2), "a NaN tolerance is refused");
}

#[test]
fn nan_embeddings_stop_a_run_and_embed_naming_model_and_text() {
    let w = Work::new();
    let model = nan_model(w.dir.path());
    let entry = format!("{{name: me/tiny, path: {}}}", model.display());
    let out = w.run_model(&entry, "[MySTS]", "", &[]);
    let err = common::stderr(&out);
    assert_eq!(code(&out), Some(2), "{err}");
    assert!(
        err.contains("model `me/tiny`")
            && err.contains("nan-model")
            && err.contains("holds NaN or infinity")
            && err.contains("(`a cat`)"),
        "{err}"
    );
    assert!(
        common::files_below(&w.path("results")).is_empty(),
        "nothing saved"
    );

    let texts = write_texts(w.dir.path(), &["fine", "also fine"]);
    let output = w.path("out.npy");
    let out = embed(&model, &texts, &output, &[]);
    let err = common::stderr(&out);
    assert_eq!(code(&out), Some(2), "{err}");
    assert!(err.contains("text 1 (`fine`)"), "{err}");
    assert!(!output.exists());
}

#[test]
fn an_undefined_score_is_an_error_never_a_saved_null() {
    let w = Work::new();
    // One row: no correlation.
    w.data(
        "MySTS/test.jsonl",
        &[r#"{"sentence1": "a cat", "sentence2": "a dog", "score": 1.5}"#],
    );
    // Constant gold scores: no correlation either.
    w.data(
        "OtherSTS/test.jsonl",
        &[
            r#"{"sentence1": "a cat", "sentence2": "a dog", "score": 2}"#,
            r#"{"sentence1": "rain", "sentence2": "snow", "score": 2}"#,
            r#"{"sentence1": "up", "sentence2": "down", "score": 2}"#,
        ],
    );
    for task in ["MySTS", "OtherSTS"] {
        let out = w.run(&format!("[{task}]"), &[]);
        let err = common::stderr(&out);
        assert_eq!(code(&out), Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "{task}: the main score (cosine_spearman) of split `test` is undefined"
            )),
            "{err}"
        );
        assert!(!w.result(task).exists(), "{task}: a null score was saved");
    }
}

#[test]
fn a_run_that_leaves_tasks_unevaluated_exits_3_unless_partial_runs_are_allowed() {
    let w = Work::new();
    w.sts_task("NoDataSTS");
    let out = w.run("[MySTS, NoDataSTS]", &[]);
    let err = common::stderr(&out);
    assert_eq!(code(&out), Some(3), "{err}");
    assert!(
        err.contains("1 requested task(s) did not run") && err.contains("NoDataSTS (me/tiny)"),
        "{err}"
    );
    assert!(w.result("MySTS").exists(), "the tasks with data still ran");
    let out = w.run("[MySTS, NoDataSTS]", &["--allow-partial"]);
    assert_eq!(code(&out), Some(0), "{}", common::stderr(&out));
    let out = w.run_model(
        &w.tiny(),
        "[MySTS, NoDataSTS]",
        "allow_partial: true\n",
        &[],
    );
    assert_eq!(code(&out), Some(0), "{}", common::stderr(&out));
}

#[test]
fn a_result_file_that_is_not_the_task_s_result_is_recomputed() {
    let w = Work::new();
    let out = w.run("[MySTS, OtherSTS]", &[]);
    assert_eq!(code(&out), Some(0), "{}", common::stderr(&out));
    let mine = std::fs::read_to_string(w.result("MySTS")).unwrap();
    // Another task's result under this task's name.
    std::fs::copy(w.result("OtherSTS"), w.result("MySTS")).unwrap();
    let out = w.run("[MySTS]", &[]);
    let err = common::stderr(&out);
    assert_eq!(code(&out), Some(0), "{err}");
    assert!(
        err.contains("MySTS.json is not reused: its task_name is `OtherSTS`, expected `MySTS`; recomputing it"),
        "{err}"
    );
    let again: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(w.result("MySTS")).unwrap()).unwrap();
    let before: serde_json::Value = serde_json::from_str(&mine).unwrap();
    assert_eq!(again["task_name"], "MySTS");
    assert_eq!(again["scores"], before["scores"]);

    // A result of another model copied into this model's folder.
    let mut foreign = before.clone();
    foreign["model_name"] = "other/model".into();
    std::fs::write(w.result("MySTS"), foreign.to_string()).unwrap();
    let err = common::stderr(&w.run("[MySTS]", &[]));
    assert!(
        err.contains("its model_name is `other/model`, expected `me/tiny`"),
        "{err}"
    );

    // A saved null main score is never reused.
    let mut null = before.clone();
    null["scores"]["test"][0]["main_score"] = serde_json::Value::Null;
    std::fs::write(w.result("MySTS"), null.to_string()).unwrap();
    let err = common::stderr(&w.run("[MySTS]", &[]));
    assert!(
        err.contains("no defined main score for split `test`"),
        "{err}"
    );

    // The matching file is reused silently.
    let out = w.run("[MySTS]", &[]);
    assert!(
        !common::stderr(&out).contains("not reused"),
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn names_and_revisions_never_write_outside_the_output_folder() {
    let w = Work::new();
    let model = common::fixture_model("leaf_mt");
    for entry in [
        format!(
            "{{name: me/tiny, path: {}, revision: ../../x}}",
            model.display()
        ),
        format!(
            "{{name: me/tiny, path: {}, revision: {}}}",
            model.display(),
            w.path("abs").display()
        ),
        format!("{{name: '..', path: {}}}", model.display()),
    ] {
        let out = w.run_model(&entry, "[MySTS]", "", &[]);
        let err = common::stderr(&out);
        assert_eq!(code(&out), Some(2), "{entry}: {err}");
        assert!(err.contains("run.yaml") && err.contains("model `"), "{err}");
    }
    let written: Vec<PathBuf> = common::files_below(w.dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
    let twins = format!(
        "{{name: a/b__c, path: {0}}}\n  - {{name: a__b/c, path: {0}}}",
        model.display()
    );
    let out = w.run_model(&twins, "[MySTS]", "", &[]);
    assert!(common::stderr(&out).contains("would share the results folder"));
}

#[test]
fn outputs_follow_symlinks_and_write_through_fifos() {
    let w = Work::new();
    // --markdown through a symlink: the link stays, its target gets the table.
    let target = w.path("table.md");
    std::fs::write(&target, "old").unwrap();
    let link = w.path("link.md");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = w.run("[MySTS]", &["--markdown", link.to_str().unwrap()]);
    assert_eq!(code(&out), Some(0), "{}", common::stderr(&out));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target).unwrap().contains("MySTS"));

    // report --output into a FIFO: read from the other end, the FIFO stays a FIFO.
    let fifo = w.path("table.fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let out = common::leafbench(&[
        "report",
        w.path("results").to_str().unwrap(),
        "--tasks-dir",
        w.path("tasks").to_str().unwrap(),
        "--output",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(code(&out), Some(0), "{}", common::stderr(&out));
    assert!(reader.join().unwrap().contains("MySTS"));
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    // embed --output naming the input is refused, the input untouched.
    let texts = write_texts(w.dir.path(), &["one"]);
    let same = w.path("texts.npy");
    std::fs::copy(&texts, &same).unwrap();
    let model = common::fixture_model("leaf_mt");
    let out = embed(&model, &same, &w.path("./texts.npy"), &[]);
    assert_eq!(code(&out), Some(2));
    assert!(common::stderr(&out).contains("is the --input file"));
    assert_eq!(std::fs::read_to_string(&same).unwrap(), "one\n");
}

#[test]
fn report_ends_on_a_symlink_cycle() {
    let w = Work::new();
    assert_eq!(code(&w.run("[MySTS]", &[])), Some(0));
    let rev = w.path("results/me__tiny/main");
    std::os::unix::fs::symlink(w.path("results"), rev.join("up")).unwrap();
    std::os::unix::fs::symlink(w.path("results"), rev.join("up2")).unwrap();
    let out = common::leafbench(&[
        "report",
        w.path("results").to_str().unwrap(),
        "--tasks-dir",
        w.path("tasks").to_str().unwrap(),
    ]);
    assert_eq!(code(&out), Some(0), "{}", common::stderr(&out));
}

#[test]
fn leftovers_of_a_killed_run_are_swept_and_unwritable_places_are_found_first() {
    let w = Work::new();
    assert_eq!(code(&w.run("[MySTS]", &[])), Some(0));
    let dead = w.path("results/me__tiny/main/.OtherSTS.json.partial-4194999");
    std::fs::write(&dead, "half").unwrap();
    assert_eq!(code(&w.run("[MySTS]", &[])), Some(0));
    assert!(!dead.exists(), "the leftover is swept");

    // An output folder that is a file: found before any task, named.
    let entry = w.tiny();
    let config = w.config(&entry, "[MySTS]", "");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("output_dir: results", "output_dir: blocked/results");
    std::fs::write(&config, text).unwrap();
    std::fs::write(w.path("blocked"), "a file").unwrap();
    let out = common::leafbench(&[
        "run",
        config.to_str().unwrap(),
        "--tasks-dir",
        w.path("tasks").to_str().unwrap(),
    ]);
    let err = common::stderr(&out);
    assert_eq!(code(&out), Some(2), "{err}");
    assert!(
        err.contains("blocked/results: cannot create the output folder"),
        "{err}"
    );
    assert!(!err.contains("embeddings:"), "nothing was encoded: {err}");
    assert_eq!(
        err.matches("(os error 20)").count(),
        1,
        "the cause is said once: {err}"
    );

    // A cache that cannot be written: a warning, and the run goes on.
    let out = w.run(
        "[OtherSTS]",
        &["--cache-dir", w.path("blocked").to_str().unwrap()],
    );
    let err = common::stderr(&out);
    assert_eq!(code(&out), Some(0), "{err}");
    assert!(err.contains("embedding store cannot be written"), "{err}");
    assert!(w.result("OtherSTS").exists());
    assert!(
        !err.contains('\u{1b}'),
        "no colour codes off a terminal: {err:?}"
    );
}

#[test]
fn zero_sizes_and_too_many_threads_are_handled() {
    let w = Work::new();
    let out = w.run_model(&w.tiny(), "[MySTS]", "batch_size: 0\n", &[]);
    assert_eq!(code(&out), Some(2));
    assert!(common::stderr(&out).contains("`batch_size` is 0"));
    let texts = write_texts(w.dir.path(), &["one"]);
    let model = common::fixture_model("leaf_mt");
    let output = w.path("o.npy");
    let embed = |extra: &[&str]| embed(&model, &texts, &output, extra);
    for flag in ["--batch-size", "--max-batch-tokens"] {
        let out = embed(&[flag, "0"]);
        assert_eq!(code(&out), Some(2), "{flag}");
        assert!(
            common::stderr(&out).contains("0 is not allowed"),
            "{}",
            common::stderr(&out)
        );
    }
    let out = embed(&["--threads", "100000"]);
    let err = common::stderr(&out);
    assert_eq!(code(&out), Some(0), "{err}");
    assert!(err.contains("--threads 100000 is more than the"), "{err}");
    let out = common::leafbench(&["bench-search", "--dim", "100000000000"]);
    assert_eq!(code(&out), Some(2));
    assert!(
        common::stderr(&out).contains("choose smaller"),
        "{}",
        common::stderr(&out)
    );
}

#[test]
fn a_closed_output_pipe_ends_the_process_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_leafbench"))
        .args(["tasks"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the first line is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = common::stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert_ne!(code(&out), Some(101), "{err}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "{err}");
}

#[test]
fn two_runs_at_once_encode_each_text_once() {
    let w = Work::new();
    // Enough distinct texts that encoding takes a while, so the two runs overlap.
    let rows: Vec<String> = (0..6000)
        .map(|i| {
            format!(
                r#"{{"sentence1": "first sentence number {i} about things", "sentence2": "second text {i} on other things", "score": {}}}"#,
                i % 5
            )
        })
        .collect();
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    w.data("MySTS/test.jsonl", &rows);
    let cache = w.path("cache");
    let config = w.config(&w.tiny(), "[MySTS]", "");
    let spawn = |out_dir: &str| {
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace("output_dir: results", &format!("output_dir: {out_dir}"));
        let path = w.path(&format!("{out_dir}.yaml"));
        std::fs::write(&path, text).unwrap();
        Command::new(env!("CARGO_BIN_EXE_leafbench"))
            .args([
                "run",
                path.to_str().unwrap(),
                "--tasks-dir",
                w.path("tasks").to_str().unwrap(),
                "--quiet",
            ])
            .env("HF_HUB_OFFLINE", "1")
            .env("LEAFBENCH_CACHE", &cache)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    // The same output folder for both, as two CI jobs sharing a workspace would.
    let (a, b) = (spawn("results"), spawn("results"));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let encoded = |out: &Output| -> usize {
        let err = common::stderr(out);
        assert_eq!(code(out), Some(0), "{err}");
        let line = err
            .lines()
            .find(|l| l.starts_with("embeddings:"))
            .unwrap_or_else(|| panic!("no embeddings line: {err}"));
        if line.contains("re-encoded nothing") {
            0
        } else {
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        }
    };
    let total = encoded(&a) + encoded(&b);
    assert_eq!(total, 12_000, "every text encoded once across both runs");
    let result = std::fs::read_to_string(w.result("MySTS")).unwrap();
    assert!(result.contains("cosine_spearman"));
}
