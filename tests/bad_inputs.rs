//! Each kind of bad input fails with a message naming the file (and line or tensor) and what
//! was expected, exits non-zero, and leaves no output file behind.

mod common;

use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// A writable copy of a fixture model, plus the texts and output paths of one `embed` run.
struct Case {
    dir: TempDir,
    model: PathBuf,
}

impl Case {
    fn new(fixture: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let model = dir.path().join("model");
        common::copy_dir(&common::fixture_model(fixture), &model);
        std::fs::write(dir.path().join("texts.txt"), "hello world\n\nsecond line\n").unwrap();
        Case { dir, model }
    }

    fn file(&self, rel: &str) -> PathBuf {
        self.model.join(rel)
    }

    fn edit_json(&self, rel: &str, edit: impl FnOnce(&mut serde_json::Value)) {
        let path = self.file(rel);
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut v);
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    }

    fn output(&self) -> PathBuf {
        self.dir.path().join("out.npy")
    }

    /// Runs `embed`, expects failure, and returns stderr.
    fn embed_fails(&self) -> String {
        self.embed_fails_with(&self.dir.path().join("texts.txt"), &self.output())
    }

    fn embed_fails_with(&self, input: &Path, output: &Path) -> String {
        let out = common::leafbench(&[
            "embed",
            "--model",
            self.model.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--output",
            output.to_str().unwrap(),
            "--quiet",
        ]);
        assert!(!out.status.success(), "expected failure, got success");
        assert!(
            !output.exists(),
            "{} was written despite the error",
            output.display()
        );
        let leftovers: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        common::stderr(&out)
    }
}

fn assert_mentions(err: &str, parts: &[&str]) {
    for p in parts {
        assert!(err.contains(p), "error should mention `{p}`:\n{err}");
    }
}

#[test]
fn missing_modules_json() {
    let c = Case::new("leaf_mt");
    std::fs::remove_file(c.file("modules.json")).unwrap();
    assert_mentions(&c.embed_fails(), &["modules.json", "missing file"]);
}

#[test]
fn malformed_modules_json() {
    let c = Case::new("leaf_mt");
    std::fs::write(c.file("modules.json"), "[{\"idx\": 0, \"path\": \"\",").unwrap();
    assert_mentions(
        &c.embed_fails(),
        &["modules.json", "not valid JSON", "line 1"],
    );
}

#[test]
fn unknown_module_type() {
    let c = Case::new("leaf_mt");
    c.edit_json("modules.json", |v| {
        v[1]["type"] = "sentence_transformers.models.Attention".into()
    });
    assert_mentions(
        &c.embed_fails(),
        &[
            "modules.json",
            "unknown module type",
            "Attention",
            "expected one of",
        ],
    );
}

#[test]
fn missing_weight_tensor() {
    let c = Case::new("leaf_mt");
    let path = c.file("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let kept: Vec<(String, safetensors::tensor::TensorView)> = tensors
        .tensors()
        .into_iter()
        .filter(|(name, _)| !name.ends_with("encoder.layer.1.output.dense.weight"))
        .collect();
    safetensors::serialize_to_file(kept, None, &path).unwrap();
    assert_mentions(
        &c.embed_fails(),
        &[
            "model.safetensors",
            "encoder.layer.1.output.dense.weight",
            "missing",
        ],
    );
}

#[test]
fn dense_in_out_mismatch() {
    let c = Case::new("leaf_mt");
    c.edit_json("2_Dense/config.json", |v| v["in_features"] = 17.into());
    assert_mentions(
        &c.embed_fails(),
        &[
            "2_Dense/model.safetensors",
            "linear.weight",
            "expected shape [24, 17]",
            "found [24, 16]",
        ],
    );
}

#[test]
fn truncated_safetensors() {
    let c = Case::new("leaf_mt");
    let path = c.file("model.safetensors");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert_mentions(
        &c.embed_fails(),
        &["model.safetensors", "truncated or corrupt"],
    );
}

#[test]
fn unknown_pooling_mode() {
    let c = Case::new("leaf_mt");
    c.edit_json("1_Pooling/config.json", |v| {
        v["pooling_mode"] = "median".into()
    });
    assert_mentions(
        &c.embed_fails(),
        &["1_Pooling/config.json", "unknown pooling mode `median`"],
    );
}

#[test]
fn router_route_missing_module() {
    let c = Case::new("leaf_mt_asym");
    c.edit_json("router_config.json", |v| {
        v["types"].as_object_mut().unwrap().remove("query_2_Dense");
    });
    assert_mentions(
        &c.embed_fails(),
        &["router_config.json", "route `query`", "query_2_Dense"],
    );
}

#[test]
fn router_route_folder_missing() {
    let c = Case::new("leaf_mt_asym");
    std::fs::remove_dir_all(c.file("document_0_Transformer")).unwrap();
    assert_mentions(
        &c.embed_fails(),
        &["document_0_Transformer", "missing file"],
    );
}

#[test]
fn input_not_utf8_names_the_line() {
    let c = Case::new("leaf_mt");
    let input = c.dir.path().join("latin1.txt");
    std::fs::write(&input, b"fine\nalso fine\ncaf\xe9\n").unwrap();
    assert_mentions(
        &c.embed_fails_with(&input, &c.output()),
        &["latin1.txt", "line 3", "UTF-8"],
    );
}

#[test]
fn output_path_not_writable() {
    let c = Case::new("leaf_mt");
    let input = c.dir.path().join("texts.txt");
    let missing_dir = c.dir.path().join("no/such/folder/out.npy");
    assert_mentions(
        &c.embed_fails_with(&input, &missing_dir),
        &["no/such/folder", "not writable"],
    );
    let folder = c.dir.path().join("a_folder.npy");
    std::fs::create_dir(&folder).unwrap();
    let out = common::leafbench(&[
        "embed",
        "--model",
        c.model.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--output",
        folder.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_mentions(&common::stderr(&out), &["a_folder.npy", "is a folder"]);
}

#[test]
fn empty_lines_are_valid_texts() {
    let c = Case::new("leaf_mt");
    let out = common::leafbench(&[
        "embed",
        "--model",
        c.model.to_str().unwrap(),
        "--input",
        c.dir.path().join("texts.txt").to_str().unwrap(),
        "--output",
        c.output().to_str().unwrap(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let emb = leafbench::Embeddings::load_npy(&c.output()).unwrap();
    assert_eq!((emb.rows, emb.dim), (3, 24));
}
