//! Every fixture model, every role, against sentence-transformers' own embeddings
//! (tests/fixtures/refs, made by scripts/make_fixtures.py; versions in refs/PROVENANCE.json).

mod common;

use leafbench::parity::{compare, cosine};
use leafbench::{Embeddings, EncodeOptions, Encoder, Role};

const MODELS: [&str; 6] = [
    "leaf_mt",
    "mxbai",
    "leaf_mt_asym",
    "granite_r2",
    "dense_tanh",
    "no_prompt",
];
const ROLES: [(Role, &str); 3] = [
    (Role::Query, "query"),
    (Role::Document, "document"),
    (Role::Plain, "plain"),
];

fn quiet() -> EncodeOptions {
    EncodeOptions {
        progress: false,
        ..EncodeOptions::default()
    }
}

fn reference(model: &str, role: &str) -> Embeddings {
    Embeddings::load_npy(&common::fixtures().join(format!("refs/{model}.{role}.npy"))).unwrap()
}

#[test]
fn every_fixture_model_and_role_matches_sentence_transformers() {
    let texts = common::read_texts(&common::fixtures().join("texts.txt"));
    for model in MODELS {
        let encoder = Encoder::load(&common::fixture_model(model)).unwrap();
        for (role, name) in ROLES {
            let ours = encoder.encode(&texts, role, &quiet()).unwrap();
            let want = reference(model, name);
            assert_eq!(
                (ours.rows, ours.dim),
                (want.rows, want.dim),
                "{model} {name}: shape"
            );
            let r = compare(&ours, &want);
            assert!(
                r.min_cosine >= 0.99999,
                "{model} {name}: min cosine {} at row {}",
                r.min_cosine,
                r.worst_row
            );
        }
    }
}

#[test]
fn asym_model_routes_queries_and_documents_to_different_encoders() {
    let texts = common::read_texts(&common::fixtures().join("texts.txt"));
    let asym = Encoder::load(&common::fixture_model("leaf_mt_asym")).unwrap();
    let queries = asym.encode(&texts, Role::Query, &quiet()).unwrap();
    let documents = asym.encode(&texts, Role::Document, &quiet()).unwrap();
    // Queries go through the leaf-mt stack, documents through the mxbai stack.
    assert!(compare(&queries, &reference("leaf_mt", "query")).min_cosine >= 0.99999);
    assert!(compare(&documents, &reference("mxbai", "document")).min_cosine >= 0.99999);
    // Were the routes swapped, each side would land on the other encoder's output.
    let swapped = (0..texts.len())
        .filter(|&i| cosine(queries.row(i), reference("mxbai", "query").row(i)) > 0.999)
        .count();
    assert_eq!(
        swapped, 0,
        "query embeddings look like the document encoder's"
    );
}

#[test]
fn batch_size_does_not_change_embeddings() {
    let texts = common::read_texts(&common::fixtures().join("texts.txt"));
    let encoder = Encoder::load(&common::fixture_model("granite_r2")).unwrap();
    let one = encoder
        .encode(
            &texts,
            Role::Query,
            &EncodeOptions {
                batch_size: 1,
                ..quiet()
            },
        )
        .unwrap();
    let many = encoder
        .encode(
            &texts,
            Role::Query,
            &EncodeOptions {
                batch_size: 64,
                ..quiet()
            },
        )
        .unwrap();
    assert!(compare(&one, &many).max_abs_diff <= 1e-5);
}
