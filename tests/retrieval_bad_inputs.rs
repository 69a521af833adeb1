//! Bad retrieval and clustering data: judgements pointing outside the files are counted in
//! one warning (the run goes on, as MTEB's does), a duplicate document id is an error naming
//! it, and a clustering split with a single label is an error.

mod common;

use std::path::{Path, PathBuf};

struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Self {
        let s = Setup {
            dir: tempfile::tempdir().unwrap(),
        };
        s.write(
            "tasks/MyRetrieval.yaml",
            "name: MyRetrieval\ntype: Retrieval\ndataset: {path: me/r, revision: r1}\neval_splits: [test]\nmain_score: ndcg_at_10\nparams: {}\n",
        );
        s.write(
            "tasks/MyClustering.yaml",
            "name: MyClustering\ntype: Clustering\ndataset: {path: me/c, revision: r1}\neval_splits: [test]\nmain_score: v_measure\nparams: {max_documents_per_cluster: 32}\n",
        );
        s.write(
            "data/MyRetrieval/corpus.jsonl",
            "{\"_id\": \"d1\", \"title\": \"Cats\", \"text\": \"cats purr\"}\n{\"_id\": \"d2\", \"title\": \"\", \"text\": \"dogs bark\"}\n",
        );
        s.write(
            "data/MyRetrieval/queries.jsonl",
            "{\"_id\": \"q1\", \"text\": \"what purrs\"}\n{\"_id\": \"q2\", \"text\": \"what barks\"}\n",
        );
        s.write(
            "data/MyRetrieval/qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq2\td9\t1\nq7\td1\t1\nq8\td2\t2\n",
        );
        s.write(
            "data/MyClustering/test.jsonl",
            "{\"sentences\": \"a\", \"labels\": \"x\"}\n{\"sentences\": \"b\", \"labels\": \"x\"}\n",
        );
        s
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn run(&self, task: &str) -> std::process::Output {
        let config = format!(
            "models:\n  - name: me/tiny\n    path: {}\ntasks: {task}\ndata_dir: data\noutput_dir: results\n",
            common::fixture_model("leaf_mt").display()
        );
        self.write("run.yaml", &config);
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
}

fn assert_mentions(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "should mention `{p}`:\n{text}");
    }
}

#[test]
fn judgements_outside_the_files_are_counted_once() {
    let s = Setup::new();
    let out = s.run("[MyRetrieval]");
    assert!(out.status.success(), "{}", common::stderr(&out));
    let err = common::stderr(&out);
    assert_mentions(
        &err,
        &[
            "MyRetrieval: 2 judgements name 2 queries missing",
            "1 judgements name documents missing from the corpus",
        ],
    );
    assert_eq!(
        err.matches("judgements name").count(),
        2,
        "one warning line:\n{err}"
    );
    assert!(s.result("MyRetrieval").is_file());
}

#[test]
fn a_duplicate_document_id_is_named() {
    let s = Setup::new();
    s.write(
        "data/MyRetrieval/corpus.jsonl",
        "{\"_id\": \"d1\", \"text\": \"a\"}\n{\"_id\": \"d2\", \"text\": \"b\"}\n{\"_id\": \"d1\", \"text\": \"c\"}\n",
    );
    let out = s.run("[MyRetrieval]");
    assert!(!out.status.success());
    assert_mentions(
        &common::stderr(&out),
        &["MyRetrieval/corpus.jsonl: line 3: duplicate document id `d1`"],
    );
    assert!(!s.result("MyRetrieval").exists());
}

#[test]
fn a_clustering_split_with_one_label_is_an_error() {
    let s = Setup::new();
    let out = s.run("[MyClustering]");
    assert!(!out.status.success());
    assert_mentions(
        &common::stderr(&out),
        &["MyClustering", "at least 2 distinct labels, found 1"],
    );
    assert!(!Path::new(&s.result("MyClustering")).exists());
}
