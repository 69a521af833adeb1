//! `leafbench run` with a compression grid, on all-MiniLM-L6-v2 and STSBenchmark from
//! ../shared/data: the float32 full-size cell equals the plain run, truncated float32 cells agree
//! with the peer's `--truncate-dim` runs (tests/fixtures/compress/peer_truncate_sts.json, from
//! scripts/make_truncate_fixtures.py), every cell's result file says its setting and bytes, a
//! second run reads every embedding from the cache, and a damaged cache entry is recomputed.
//! Bad grids fail before anything is written.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

fn write_config(dir: &Path, out: &str, compression: &str) -> PathBuf {
    write_config_for(dir, out, "STSBenchmark", compression)
}

fn write_config_for(dir: &Path, out: &str, tasks: &str, compression: &str) -> PathBuf {
    let path = dir.join(format!("{out}.yaml"));
    let yaml = format!(
        "models:\n  - name: {MODEL}\n    revision: r1\n    path: {}\ntasks: [{tasks}]\n\
         data_dir: {}\noutput_dir: {}\n{compression}",
        common::minilm_dir().display(),
        common::shared_data().display(),
        dir.join(out).display(),
    );
    std::fs::write(&path, yaml).unwrap();
    path
}

fn run(config: &Path, cache: &Path, extra: &[&str]) -> String {
    let mut args = vec!["run", config.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let out = common::leafbench_with_env(&args, &[("LEAFBENCH_CACHE", cache)]);
    let err = common::stderr(&out);
    assert!(out.status.success(), "{err}");
    err
}

fn result(dir: &Path, out: &str, cell: Option<&str>) -> Value {
    let rev = dir
        .join(out)
        .join("sentence-transformers__all-MiniLM-L6-v2/r1");
    let path = match cell {
        Some(c) => rev.join("experiments").join(c).join("STSBenchmark.json"),
        None => rev.join("STSBenchmark.json"),
    };
    serde_json::from_slice(
        &std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap()
}

fn split_scores(v: &Value) -> Value {
    let mut s = v["scores"]["test"][0].clone();
    s.as_object_mut().unwrap().remove("evaluation_time");
    s
}

const GRID: &str =
    "compression:\n  dims: [384, 256, 128, 64]\n  quantization: [float32, int8, binary, ubinary]\n";

#[test]
fn a_grid_encodes_once_matches_the_plain_run_and_the_peer() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let plain = write_config(dir.path(), "plain", "");
    run(&plain, &cache, &["--no-cache"]);
    let grid = write_config(dir.path(), "grid", GRID);
    let first = run(&grid, &cache, &[]);
    assert!(
        first.contains("embeddings: 2758 texts encoded, 0 read from the cache"),
        "{first}"
    );

    // The float32 full-size cell is the plain run, score for score.
    let base = split_scores(&result(dir.path(), "plain", None));
    assert_eq!(split_scores(&result(dir.path(), "grid", None)), base);
    assert_eq!(
        split_scores(&result(dir.path(), "grid", Some("dim384-float32"))),
        base
    );

    // Truncated float32 cells against the peer's truncate_dim runs, within 0.01 points.
    let fixture: Value = serde_json::from_slice(
        &std::fs::read(common::fixtures().join("compress/peer_truncate_sts.json")).unwrap(),
    )
    .unwrap();
    for dim in [384, 256, 128, 64] {
        let peer = fixture["dims"][dim.to_string()]["main_score"]
            .as_f64()
            .unwrap();
        let ours = result(dir.path(), "grid", Some(&format!("dim{dim}-float32")))["scores"]["test"]
            [0]["main_score"]
            .as_f64()
            .unwrap();
        assert!(
            (100.0 * (ours - peer)).abs() <= 0.01,
            "dim {dim}: leafbench {ours} vs peer {peer}"
        );
    }

    // Every cell records its setting, size and retention.
    let base_main = base["main_score"].as_f64().unwrap();
    for dim in [384usize, 256, 128, 64] {
        for (level, bytes) in [
            ("float32", 4 * dim),
            ("int8", dim),
            ("binary", dim / 8),
            ("ubinary", dim / 8),
        ] {
            let cell = format!("dim{dim}-{level}");
            let r = result(dir.path(), "grid", Some(&cell));
            let c = &r["compression"];
            assert_eq!(c["setting"], cell.as_str());
            assert_eq!(c["bytes_per_vector"], bytes, "{cell}");
            assert_eq!(c["float32_bytes_per_vector"], 1536);
            let main = r["scores"]["test"][0]["main_score"].as_f64().unwrap();
            // (serde_json's default float parsing may be off by one ulp.)
            let retention = c["retention"].as_f64().unwrap();
            assert!((retention - main / base_main).abs() < 1e-12, "{cell}");
        }
    }
    // Quantization costs something, and binary and ubinary store the same bits.
    let main = |cell: &str| {
        result(dir.path(), "grid", Some(cell))["scores"]["test"][0]["main_score"]
            .as_f64()
            .unwrap()
    };
    assert!(main("dim384-binary") < main("dim384-int8"));
    assert!(main("dim384-int8") < base_main);
    assert_eq!(main("dim128-binary"), main("dim128-ubinary"));

    // A second run computes every cell again from cached embeddings alone.
    let second = run(&grid, &cache, &["--overwrite"]);
    assert!(
        second.contains("re-encoded nothing; all 2758 texts read from the cache"),
        "{second}"
    );
    assert_eq!(
        split_scores(&result(dir.path(), "grid", Some("dim64-binary")))["main_score"],
        main("dim64-binary")
    );

    // A damaged entry is reported, recomputed, and the scores stay the same.
    let entry = cache_entries(&cache)
        .into_iter()
        .next()
        .expect("entries were written");
    let mut bytes = std::fs::read(&entry).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0x40;
    std::fs::write(&entry, bytes).unwrap();
    let third = run(&grid, &cache, &["--overwrite"]);
    assert!(
        third.contains("is damaged (checksum mismatch); recomputing it"),
        "{third}"
    );
    assert!(
        third.contains("1379 texts encoded, 1379 read from the cache"),
        "{third}"
    );
    assert_eq!(
        split_scores(&result(dir.path(), "grid", Some("dim384-float32"))),
        base
    );
}

#[test]
fn a_calibration_file_is_encoded_once_per_model_and_sets_the_int8_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    std::fs::write(
        dir.path().join("calibration.txt"),
        "A man is playing a guitar.\n\nStocks fell sharply today.\nThe cat sleeps.\n",
    )
    .unwrap();
    let grid = "compression:\n  quantization: [int8]\n  calibration: {file: calibration.txt}\n";
    let config = write_config_for(dir.path(), "file", "STSBenchmark, STS16", grid);
    let err = run(&config, &cache, &["--no-cache"]);
    let plain = write_config_for(dir.path(), "plain", "STSBenchmark, STS16", "");
    let plain_err = run(&plain, &cache, &["--no-cache"]);
    let count = |log: &str| -> usize {
        let line = log.lines().find(|l| l.starts_with("embeddings: ")).unwrap();
        line["embeddings: ".len()..]
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // The three calibration texts are encoded once, not once per task.
    assert_eq!(count(&err), count(&plain_err) + 3, "{err}");
    let r = result(dir.path(), "file", Some("dim384-int8"));
    let described = r["compression"]["calibration"].as_str().unwrap();
    assert!(
        described.starts_with("file ") && described.ends_with("calibration.txt"),
        "{described}"
    );
    // Ranges from three texts differ from the evaluated embeddings' own ranges.
    let train = write_config(
        dir.path(),
        "train",
        "compression:\n  quantization: [int8]\n",
    );
    run(&train, &cache, &[]);
    let main = |out: &str| {
        result(dir.path(), out, Some("dim384-int8"))["scores"]["test"][0]["main_score"]
            .as_f64()
            .unwrap()
    };
    assert_ne!(main("file"), main("train"));
}

fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for sub in std::fs::read_dir(dir).unwrap() {
        for f in std::fs::read_dir(sub.unwrap().path()).unwrap() {
            out.push(f.unwrap().path());
        }
    }
    out.sort();
    out
}

#[test]
fn bad_grids_fail_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "level",
            "compression:\n  quantization: [int8, int3]\n",
            vec!["`int3`", "expected one of"],
        ),
        (
            "dim",
            "compression:\n  dims: [512, 128]\n",
            vec!["512", "384"],
        ),
        (
            "calibration",
            "compression:\n  quantization: [int8]\n  calibration: {file: no-such-texts.txt}\n",
            vec!["no-such-texts.txt", "does not exist"],
        ),
    ];
    for (name, grid, expected) in cases {
        let config = write_config(dir.path(), name, grid);
        let out = common::leafbench(&["run", config.to_str().unwrap(), "--quiet"]);
        let err = common::stderr(&out);
        assert!(!out.status.success(), "{name}: {err}");
        for e in expected {
            assert!(err.contains(e), "{name}: `{e}` missing from: {err}");
        }
        assert!(
            !dir.path().join(name).exists(),
            "{name}: results were written"
        );
    }
}
