//! `leafbench plot` on a compression grid written by the test plus shipped published scores:
//! every expected chart is written as PNG and SVG, a second run gives the same bytes, and each
//! chart carries its title, axis labels and legend (checked in the SVG text).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

const MODEL: &str = "org/tiny";

fn write_result(root: &Path, setting: Option<&str>, task: &str, main: f64) {
    let mut dir = root.join("org__tiny").join("r1");
    if let Some(s) = setting {
        dir = dir.join("experiments").join(s);
    }
    std::fs::create_dir_all(&dir).unwrap();
    let body = json!({
        "dataset_revision": "x", "task_name": task, "mteb_version": null, "evaluation_time": 1.0,
        "kg_co2_emissions": null,
        "scores": {"test": [{"main_score": main, "hf_subset": "default", "languages": ["eng-Latn"]}]}
    });
    std::fs::write(dir.join(format!("{task}.json")), body.to_string()).unwrap();
}

fn grid(root: &Path) {
    for (t, task) in ["STSBenchmark", "BIOSSES"].iter().enumerate() {
        write_result(root, None, task, 0.8 - 0.05 * t as f64);
        for (d, dim) in [384, 128].iter().enumerate() {
            for (l, level) in ["float32", "int8", "binary"].iter().enumerate() {
                let score = 0.8 - 0.05 * t as f64 - 0.02 * d as f64 - 0.01 * l as f64;
                write_result(root, Some(&format!("dim{dim}-{level}")), task, score);
            }
        }
    }
}

fn plot(inputs: &[&str], out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut args = vec!["plot"];
    args.extend_from_slice(inputs);
    args.extend(["--out", out.to_str().unwrap()]);
    let run = common::leafbench(&args);
    assert!(run.status.success(), "{}", common::stderr(&run));
    std::fs::read_dir(out)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect()
}

#[test]
fn charts_are_complete_labelled_and_byte_identical_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    grid(&dir.path().join("results"));
    let results = dir.path().join("results");
    let published = "published:sentence-transformers/all-MiniLM-L6-v2";
    let inputs = [results.to_str().unwrap(), published];
    let first = plot(&inputs, &dir.path().join("a"));
    let second = plot(&inputs, &dir.path().join("b"));
    assert_eq!(first, second, "two runs must write the same bytes");

    let slug = MODEL.replace('/', "__");
    let svg = |stem: &str| -> String {
        let bytes = first
            .get(&format!("{stem}.svg"))
            .unwrap_or_else(|| panic!("{stem}.svg missing; written: {:?}", first.keys()));
        assert!(
            first[&format!("{stem}.png")].starts_with(b"\x89PNG\r\n\x1a\n"),
            "{stem}.png"
        );
        String::from_utf8(bytes.clone()).unwrap()
    };
    let expect = |stem: &str, texts: &[&str]| {
        let text = svg(stem);
        assert!(text.contains("@font-face"), "{stem}: font not embedded");
        for t in texts {
            assert!(text.contains(t), "{stem}: `{t}` missing");
        }
    };
    let levels = ["float32", "int8", "binary"];
    for task in ["STSBenchmark", "BIOSSES", "STS"] {
        let mut texts = vec![
            "embedding dimensions kept (MRL truncation)",
            "main score (×100)",
        ];
        texts.extend(levels);
        expect(&format!("score-vs-dim_{slug}_{task}"), &texts);
    }
    expect(
        &format!("retention_{slug}"),
        &[
            "tiny: % of the float32 full-size score (mean of 2 tasks)",
            "storage level",
            "embedding dimensions kept",
            "100.0",
        ],
    );
    expect(
        &format!("score-vs-bytes_{slug}"),
        &[
            "tiny: score against storage",
            "bytes per vector",
            "mean main score (×100)",
            "Pareto front",
            "binary",
        ],
    );
    expect(
        "models-by-task",
        &[
            "Main score per task",
            "main score (×100)",
            "org/tiny",
            "sentence-transformers/all-MiniLM-L6-v2 (published)",
        ],
    );
}

#[test]
fn an_input_without_results_is_an_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("empty")).unwrap();
    let out = dir.path().join("out");
    let run = common::leafbench(&[
        "plot",
        dir.path().join("empty").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(2));
    assert!(
        common::stderr(&run).contains("holds no MTEB result files"),
        "{}",
        common::stderr(&run)
    );
    assert!(!out.exists());
}
