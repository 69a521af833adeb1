//! The real all-MiniLM-L6-v2 weights against sentence-transformers on 1,030 texts from the
//! offline MTEB data: 750 STS sentences and 280 SciFact documents, 260 of them past the
//! 256-token limit (tests/fixtures/minilm, provenance in its PROVENANCE.json).

mod common;

use leafbench::parity::compare;
use leafbench::{EncodeOptions, Encoder, Role};

#[test]
fn parity_command_passes_on_real_weights_within_tolerance() {
    let model = common::minilm_dir();
    let fixtures = common::fixtures().join("minilm");
    let out = common::leafbench(&[
        "parity",
        "--model",
        model.to_str().unwrap(),
        "--texts",
        fixtures.join("texts.txt").to_str().unwrap(),
        "--reference",
        fixtures.join("reference.npy").to_str().unwrap(),
        "--min-cosine",
        "0.99999",
        "--max-abs-diff",
        "1e-4",
        "--quiet",
    ]);
    let stdout = common::stdout(&out);
    assert!(
        out.status.success(),
        "parity failed:\n{stdout}\n{}",
        common::stderr(&out)
    );
    assert!(
        stdout.contains("texts        1030") && stdout.contains("PASS"),
        "{stdout}"
    );
}

#[test]
fn parity_command_fails_beyond_tolerance() {
    // The same texts against a reference made for other texts (rows shifted by one): exit 1.
    let model = common::minilm_dir();
    let fixtures = common::fixtures().join("minilm");
    let dir = tempfile::tempdir().unwrap();
    let texts = common::read_texts(&fixtures.join("texts.txt"));
    let shifted: Vec<String> = texts[1..].iter().chain(&texts[..1]).cloned().collect();
    let path = dir.path().join("shifted.txt");
    std::fs::write(&path, shifted.join("\n") + "\n").unwrap();
    let out = common::leafbench(&[
        "parity",
        "--model",
        model.to_str().unwrap(),
        "--texts",
        path.to_str().unwrap(),
        "--reference",
        fixtures.join("reference.npy").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", common::stdout(&out));
    assert!(common::stdout(&out).contains("FAIL: min cosine"));
}

#[test]
fn batch_one_and_batch_64_agree_on_real_weights() {
    let encoder = Encoder::load(&common::minilm_dir()).unwrap();
    let texts = common::read_texts(&common::fixtures().join("minilm/texts.txt"));
    // Short sentences and long documents both, so batches mix lengths and padding.
    let sample: Vec<String> = texts.iter().step_by(8).cloned().collect();
    let quiet = EncodeOptions {
        progress: false,
        ..EncodeOptions::default()
    };
    let one = encoder
        .encode(
            &sample,
            Role::Plain,
            &EncodeOptions {
                batch_size: 1,
                ..quiet.clone()
            },
        )
        .unwrap();
    let many = encoder
        .encode(
            &sample,
            Role::Plain,
            &EncodeOptions {
                batch_size: 64,
                ..quiet
            },
        )
        .unwrap();
    let r = compare(&one, &many);
    assert!(r.max_abs_diff <= 1e-5, "max |Δ| {}", r.max_abs_diff);
}
