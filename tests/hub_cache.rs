//! Models named `org/name[@revision]` load from a Hugging Face cache laid out as the hub
//! client lays it out (refs/, snapshots/ with links into blobs/), without any network.

mod common;

use std::path::Path;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// Builds `<root>/models--acme--tiny/{refs/main, blobs/, snapshots/<sha>/…}` from a fixture,
/// with every snapshot file a symlink to a blob as in real caches.
fn make_cache(root: &Path, fixture: &str) {
    let repo = root.join("models--acme--tiny");
    std::fs::create_dir_all(repo.join("refs")).unwrap();
    std::fs::write(repo.join("refs/main"), SHA).unwrap();
    let blobs = repo.join("blobs");
    std::fs::create_dir_all(&blobs).unwrap();
    link_tree(
        &common::fixture_model(fixture),
        &repo.join("snapshots").join(SHA),
        &blobs,
    );
}

fn link_tree(from: &Path, to: &Path, blobs: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().map(Result::unwrap) {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            link_tree(&entry.path(), &target, blobs);
        } else {
            let blob = blobs.join(
                format!("{:x}", std::fs::metadata(entry.path()).unwrap().len())
                    + &entry.file_name().to_string_lossy(),
            );
            std::fs::copy(entry.path(), &blob).unwrap();
            std::os::unix::fs::symlink(&blob, &target).unwrap();
        }
    }
}

fn embed_from_cache(model: &str, env: &[(&str, &Path)], out: &Path) -> std::process::Output {
    let texts = common::fixtures().join("texts.txt");
    common::leafbench_with_env(
        &[
            "embed",
            "--model",
            model,
            "--offline",
            "--input",
            texts.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--quiet",
        ],
        env,
    )
}

#[test]
fn repo_name_resolves_through_hf_hub_cache() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("hub");
    make_cache(&cache, "mxbai");
    let out_path = tmp.path().join("emb.npy");
    let out = embed_from_cache("acme/tiny", &[("HF_HUB_CACHE", &cache)], &out_path);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let ours = leafbench::Embeddings::load_npy(&out_path).unwrap();
    let want =
        leafbench::Embeddings::load_npy(&common::fixtures().join("refs/mxbai.plain.npy")).unwrap();
    assert!(leafbench::parity::compare(&ours, &want).min_cosine >= 0.99999);
}

#[test]
fn pinned_revision_resolves_through_hf_home() {
    let tmp = tempfile::tempdir().unwrap();
    make_cache(&tmp.path().join("hub"), "granite_r2");
    let out_path = tmp.path().join("emb.npy");
    let model = format!("acme/tiny@{SHA}");
    let out = embed_from_cache(&model, &[("HF_HOME", tmp.path())], &out_path);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert!(out_path.is_file());
}

#[test]
fn offline_miss_lists_the_places_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("empty-hub");
    std::fs::create_dir_all(&cache).unwrap();
    let out = embed_from_cache(
        "acme/absent@v2",
        &[("HF_HUB_CACHE", &cache)],
        &tmp.path().join("o.npy"),
    );
    assert!(!out.status.success());
    let err = common::stderr(&out);
    assert!(
        err.contains("models--acme--absent/refs/v2") && err.contains("offline"),
        "{err}"
    );
}

/// Every file under `dir`, keyed by its `/`-separated path inside it.
fn repo_files(dir: &Path, prefix: &str, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
    for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.file_type().unwrap().is_dir() {
            repo_files(&entry.path(), &format!("{name}/"), out);
        } else {
            out.insert(name, std::fs::read(entry.path()).unwrap());
        }
    }
}

#[test]
fn a_model_missing_from_the_cache_is_downloaded_at_its_revision() {
    let mut files = std::collections::BTreeMap::new();
    repo_files(&common::fixture_model("leaf_mt"), "", &mut files);
    // A file no sentence-transformers model needs is not fetched.
    files.insert("onnx/model.onnx".into(), vec![0; 16]);
    let hub = common::fake_hub::FakeHub::start(vec![common::fake_hub::FakeRepo {
        url_prefix: "",
        repo: "acme/tiny".into(),
        sha: SHA.into(),
        files,
    }]);
    let cache = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = out_dir.path().join("e.npy");
    let texts = common::fixtures().join("texts.txt");
    let args = [
        "embed",
        "--model",
        "acme/tiny@main",
        "--input",
        texts.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
        "--quiet",
    ];
    let run =
        common::leafbench_from_endpoint(&args, &hub.endpoint, &[("HF_HUB_CACHE", cache.path())]);
    assert!(run.status.success(), "{}", common::stderr(&run));
    let repo = cache.path().join("models--acme--tiny");
    assert_eq!(
        std::fs::read_to_string(repo.join("refs/main"))
            .unwrap()
            .trim(),
        SHA
    );
    let snapshot = repo.join("snapshots").join(SHA);
    assert!(snapshot.join("2_Dense/model.safetensors").is_file());
    assert!(!snapshot.join("onnx/model.onnx").exists());
    assert!(
        !hub.served().iter().any(|p| p.contains("onnx")),
        "{:?}",
        hub.served()
    );

    // The download gives the embeddings the fixture folder gives.
    let direct = out_dir.path().join("direct.npy");
    let from_folder = embed_from_cache(
        common::fixture_model("leaf_mt").to_str().unwrap(),
        &[],
        &direct,
    );
    assert!(
        from_folder.status.success(),
        "{}",
        common::stderr(&from_folder)
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(&direct).unwrap()
    );
}
