//! `leafbench embed` writes the same embeddings as sentence-transformers, as .npy or .jsonl.

mod common;

use leafbench::parity::compare;
use leafbench::Embeddings;

fn embed(model: &str, role: &str, output: &std::path::Path) {
    let texts = common::fixtures().join("texts.txt");
    let out = common::leafbench(&[
        "embed",
        "--model",
        common::fixture_model(model).to_str().unwrap(),
        "--role",
        role,
        "--input",
        texts.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
}

#[test]
fn npy_output_matches_the_reference_for_the_role() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.npy");
    embed("no_prompt", "query", &path);
    let ours = Embeddings::load_npy(&path).unwrap();
    let want = Embeddings::load_npy(&common::fixtures().join("refs/no_prompt.query.npy")).unwrap();
    assert!(compare(&ours, &want).min_cosine >= 0.99999);
}

#[test]
fn jsonl_output_has_one_array_per_text() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.jsonl");
    embed("leaf_mt", "document", &path);
    let rows: Vec<Vec<f32>> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ours = Embeddings {
        rows: rows.len(),
        dim: rows[0].len(),
        data: rows.concat(),
    };
    let want = Embeddings::load_npy(&common::fixtures().join("refs/leaf_mt.document.npy")).unwrap();
    assert_eq!((ours.rows, ours.dim), (want.rows, want.dim));
    assert!(compare(&ours, &want).min_cosine >= 0.99999);
}
