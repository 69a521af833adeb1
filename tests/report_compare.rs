//! `leafbench report` and `leafbench compare` on result files written by the test and on the
//! shipped published scores.

mod common;

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

const MINILM: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// Writes one MTEB result file of `model` at `revision` (and `setting`, a grid cell).
fn write_result(
    root: &Path,
    model: &str,
    revision: &str,
    setting: Option<&str>,
    task: &str,
    main: f64,
) -> PathBuf {
    let mut dir = root.join(model.replace('/', "__")).join(revision);
    if let Some(s) = setting {
        dir = dir.join("experiments").join(s);
    }
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{task}.json"));
    let body = json!({
        "dataset_revision": "x", "task_name": task, "mteb_version": null, "evaluation_time": 1.0,
        "kg_co2_emissions": null,
        "scores": {"test": [{"main_score": main, "cosine_spearman": main, "pearson": main - 0.01,
                              "hf_subset": "default", "languages": ["eng-Latn"]}]}
    });
    std::fs::write(&path, serde_json::to_vec_pretty(&body).unwrap()).unwrap();
    path
}

const TASKS: [&str; 3] = ["STSBenchmark", "BIOSSES", "SICK-R"];

fn results(root: &Path, shift: f64) {
    for (i, t) in TASKS.iter().enumerate() {
        write_result(root, MINILM, "r1", None, t, 0.80 - 0.01 * i as f64 + shift);
    }
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = common::leafbench(args);
    (
        out.status.code().unwrap(),
        common::stdout(&out),
        common::stderr(&out),
    )
}

#[test]
fn published_means_reproduce_the_leaderboard() {
    let fixture: Value = serde_json::from_slice(
        &std::fs::read(common::fixtures().join("report/leaderboard_means.json")).unwrap(),
    )
    .unwrap();
    let mut args = vec!["report".to_string()];
    for model in fixture["models"].as_object().unwrap().keys() {
        args.push(format!("published:{model}"));
    }
    args.extend(["--benchmark", "MTEB(eng, v2)", "--format", "json"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 2);
    for row in rows {
        let expected = &fixture["models"][row["Model"].as_str().unwrap()];
        let round = |v: &Value| (v.as_f64().unwrap() * 100.0).round() / 100.0;
        assert_eq!(
            round(&row["Mean (Task)"]),
            expected["mean_task"].as_f64().unwrap(),
            "{row}"
        );
        assert_eq!(
            round(&row["Mean (TaskType)"]),
            expected["mean_task_type"].as_f64().unwrap(),
            "{row}"
        );
    }
}

#[test]
fn report_tables_rank_models_settings_and_show_the_published_delta() {
    let dir = tempfile::tempdir().unwrap();
    results(dir.path(), 0.0);
    for s in ["dim384-float32", "dim128-int8"] {
        for t in TASKS {
            write_result(
                dir.path(),
                MINILM,
                "r1",
                Some(s),
                t,
                if s.contains("int8") { 0.7 } else { 0.8 },
            );
        }
    }
    write_result(dir.path(), "org/other", "main", None, "STSBenchmark", 0.9);
    let root = dir.path().to_str().unwrap();
    let (code, md, err) = run(&["report", root, "--reference", "published"]);
    assert_eq!(code, 0, "{err}");
    let header = md.lines().next().unwrap();
    assert!(
        header.starts_with("| Rank (Borda) | Model | Revision | Setting | Mean (Task) | Mean (TaskType) | Published Mean (Task) | Δ published | STS | BIOSSES | SICK-R | STSBenchmark |"),
        "{header}"
    );
    // org/other misses two tasks: no Mean(Task); MiniLM's plain row has 79.00 against the
    // published mean of the same three tasks.
    assert!(md.contains("| org/other | main | plain | – | – |"), "{md}");
    assert!(
        md.contains("| sentence-transformers/all-MiniLM-L6-v2 | r1 | plain | 79.00 |"),
        "{md}"
    );
    assert!(md.contains("| dim128-int8 | 70.00 |"), "{md}");
    let csv_out = dir.path().join("table.csv");
    let (code, _, err) = run(&[
        "report",
        root,
        "--format",
        "csv",
        "--output",
        csv_out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&csv_out).unwrap().lines().count(),
        5
    );
}

#[test]
fn compare_passes_identical_results_and_fails_a_perturbed_task() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    results(&a, 0.0);
    results(&b, 0.0);
    let (code, out, err) = run(&["compare", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("compare: PASS, 3 tasks within tolerance"),
        "{out}"
    );
    // One task 0.3 points lower.
    write_result(&b, MINILM, "r1", None, "BIOSSES", 0.79 - 0.003);
    let (code, out, _) = run(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--tolerance",
        "0.1",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("compare: FAIL, 1 of 3 compared values beyond tolerance"),
        "{out}"
    );
    assert!(
        out.contains("BIOSSES") && out.contains("REGRESSION"),
        "{out}"
    );
    let (code, out, _) = run(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--per-type",
        "STS=0.5",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = run(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--per-type",
        "STS=0.5",
        "--all-metrics",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("pearson"), "{out}");
    // Against the shipped published scores: the candidate lacks most published tasks, which
    // fails the gate unless missing tasks are allowed; then only the shared tasks count.
    let (code, out, _) = run(&[
        "compare",
        &format!("published:{MINILM}"),
        a.to_str().unwrap(),
        "--tolerance",
        "100",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("baseline task(s) missing from the candidate"),
        "{out}"
    );
    let (code, out, _) = run(&[
        "compare",
        &format!("published:{MINILM}"),
        a.to_str().unwrap(),
        "--tolerance",
        "100",
        "--allow-missing",
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("compare: PASS, 3 tasks"), "{out}");
    let baseline = format!("published:{MINILM}");
    let (code, out, _) = run(&["compare", "--baseline", &baseline, a.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not in the candidate (MISSING)"), "{out}");
}

#[test]
fn compare_fails_on_a_missing_task_and_refuses_meaningless_tolerances() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    results(&a, 0.0);
    results(&b, 0.0);
    std::fs::remove_file(b.join(MINILM.replace('/', "__")).join("r1/BIOSSES.json")).unwrap();
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let (code, out, _) = run(&["compare", a, b]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.starts_with("compare: FAIL, 1 baseline task(s) missing from the candidate (BIOSSES)"),
        "{out}"
    );
    let (code, out, _) = run(&["compare", a, b, "--allow-missing"]);
    assert_eq!(code, 0, "{out}");
    for bad in [
        vec!["--tolerance", "nan"],
        vec!["--tolerance=-0.5"],
        vec!["--per-type", "Unknown=1"],
        vec!["--per-type", "STS=nan"],
    ] {
        let mut args = vec!["compare", a, a];
        args.extend(bad.iter().copied());
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{bad:?} accepted: {err}");
    }
}

#[test]
fn bad_results_are_named() {
    let dir = tempfile::tempdir().unwrap();
    results(dir.path(), 0.0);
    let bad = dir
        .path()
        .join(MINILM.replace('/', "__"))
        .join("r1/STS12.json");
    std::fs::write(&bad, r#"{"task_name": "STS12", "evaluation_time": 1}"#).unwrap();
    let (code, _, err) = run(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("STS12.json") && err.contains("missing field `scores`"),
        "{err}"
    );
    std::fs::remove_file(&bad).unwrap();
    write_result(dir.path(), MINILM, "r2", None, "STS12", 0.7);
    let (code, _, err) = run(&["report", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("2 revisions (r1, r2)"), "{err}");
    let (code, out, err) = run(&[
        "report",
        dir.path().to_str().unwrap(),
        "--allow-mixed-revisions",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("| r1+r2 |") && err.contains("would be combined"),
        "{out}{err}"
    );
}
