//! Task data read from the Hugging Face cache: the test rewrites seven tasks of `../shared/data`
//! into their hub repos' layouts and formats (Parquet with and without a dataset card,
//! gzipped JSON, fast-loading configs with a `lang` column, MTEB's original column names, a
//! BEIR repo with `corpus`, `queries` and qrels configs, splits concatenated into the evaluated one)
//! inside a cache at the tasks' pinned revisions, then checks that `leafbench run` from that
//! cache gives exactly the scores it gives from the local mirror. The other layout families
//! (tasks/README.md, "Hub layouts") are met with synthetic rows written in both layouts.

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde_json::Value;

use common::fake_hub::{FakeHub, FakeRepo};

const TASKS: [&str; 7] = [
    "STS17",
    "MassiveIntentClassification",
    "TwitterURLCorpus",
    "SIB200Classification",
    // The same repo as SIB200Classification: its train, validation and test are clustered as
    // one split (`concat_splits`), which the mirror holds already concatenated.
    "SIB200ClusteringS2S",
    "SummEvalSummarization.v2",
    "SciFact",
];

/// SIB200's topics, sorted: their positions are the integer labels of the mirror.
const SIB200_TOPICS: [&str; 7] = [
    "entertainment",
    "geography",
    "health",
    "politics",
    "science/technology",
    "sports",
    "travel",
];

fn mirror_rows(rel: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(common::shared_data().join(rel)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn strings(rows: &[Value], key: &str) -> Vec<String> {
    rows.iter()
        .map(|r| r[key].as_str().unwrap().to_string())
        .collect()
}

fn floats(rows: &[Value], key: &str) -> Vec<f64> {
    rows.iter().map(|r| r[key].as_f64().unwrap()).collect()
}

fn string_lists(rows: &[Value], key: &str) -> Series {
    let lists: Vec<Series> = rows
        .iter()
        .map(|r| {
            let items: Vec<&str> = r[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            Series::new("".into(), items)
        })
        .collect();
    Series::new(key.into(), lists)
}

fn float_lists(rows: &[Value], key: &str) -> Series {
    let lists: Vec<Series> = rows
        .iter()
        .map(|r| {
            let items: Vec<f64> = r[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            Series::new("".into(), items)
        })
        .collect();
    Series::new(key.into(), lists)
}

/// Dataset repo files at their pinned revisions, to be laid out as a Hugging Face cache or
/// served by a fake hub.
#[derive(Default)]
struct HubFiles {
    /// (repo, revision) → file → bytes.
    repos: BTreeMap<(String, String), BTreeMap<String, Vec<u8>>>,
}

impl HubFiles {
    fn put(&mut self, repo: &str, revision: &str, file: &str, bytes: &[u8]) {
        self.repos
            .entry((repo.to_string(), revision.to_string()))
            .or_default()
            .insert(file.to_string(), bytes.to_vec());
    }

    fn put_parquet(&mut self, repo: &str, revision: &str, file: &str, mut frame: DataFrame) {
        let mut bytes = Vec::new();
        ParquetWriter::new(&mut bytes).finish(&mut frame).unwrap();
        self.put(repo, revision, file, &bytes);
    }

    /// A cache in the layout `huggingface_hub` writes: snapshot files are symlinks into
    /// `blobs/`, and `refs/main` names the snapshot.
    fn install(&self) -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        for (n, ((repo, revision), files)) in self.repos.iter().enumerate() {
            let repo_dir = root
                .path()
                .join(format!("datasets--{}", repo.replace('/', "--")));
            for (i, (file, bytes)) in files.iter().enumerate() {
                let blob = repo_dir.join("blobs").join(format!("{n:020x}{i:020x}"));
                std::fs::create_dir_all(blob.parent().unwrap()).unwrap();
                std::fs::write(&blob, bytes).unwrap();
                let link = repo_dir.join("snapshots").join(revision).join(file);
                std::fs::create_dir_all(link.parent().unwrap()).unwrap();
                std::os::unix::fs::symlink(&blob, &link).unwrap();
            }
            std::fs::create_dir_all(repo_dir.join("refs")).unwrap();
            std::fs::write(repo_dir.join("refs/main"), revision).unwrap();
        }
        root
    }

    fn serve(&self) -> FakeHub {
        let repos = self
            .repos
            .iter()
            .map(|((repo, sha), files)| FakeRepo {
                url_prefix: "datasets/",
                repo: repo.clone(),
                sha: sha.clone(),
                files: files.clone(),
            })
            .collect();
        FakeHub::start(repos)
    }
}

/// The dataset repo and revision a task file pins.
fn pinned(task: &str) -> (String, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tasks/{task}.yaml"));
    let spec = leafbench::task::TaskSpec::load(&path).unwrap();
    (spec.dataset.path, spec.dataset.revision)
}

/// STS17 as MTEB's fast-loading repo stores it: one `default` config holding every language
/// pair, with a `lang` column; the other pairs must be filtered out.
fn put_sts17(hub: &mut HubFiles) {
    let (repo, rev) = pinned("STS17");
    let en = mirror_rows("STS17/en-en/test.jsonl");
    let mut s1 = strings(&en, "sentence1");
    let mut s2 = strings(&en, "sentence2");
    let mut score = floats(&en, "score");
    let mut lang = vec!["en-en".to_string(); en.len()];
    for i in 0..40 {
        s1.insert(2 * i, format!("frase {i}"));
        s2.insert(2 * i, format!("otra frase {}", i * 7 % 13));
        score.insert(2 * i, (i % 6) as f64);
        lang.insert(2 * i, "es-es".into());
    }
    let frame =
        df!("sentence1" => s1, "sentence2" => s2, "score" => score, "lang" => lang).unwrap();
    let card = "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: test\n    path: test/*.parquet\n---\n";
    hub.put(&repo, &rev, "README.md", card.as_bytes());
    hub.put_parquet(&repo, &rev, "test/0000.parquet", frame);
}

/// MassiveIntentClassification as neighbouring commits of its repo store it: one folder per
/// split holding `<language>.json.gz` (JSON lines with a `lang` column, no card); the fast-loading
/// task reads every file of the split and keeps its language. The English rows are the mirror's.
fn put_massive(hub: &mut HubFiles) {
    let task = "MassiveIntentClassification";
    let (repo, rev) = pinned(task);
    for split in ["train", "validation", "test"] {
        let en = mirror_rows(&format!("{task}/en/{split}.jsonl"));
        let hub_row = |i: usize, lang: &str, text: &str, label: &str| serde_json::json!({"id": i.to_string(), "lang": lang, "label": label, "label_text": label, "text": text});
        let english: Vec<Value> = en
            .iter()
            .enumerate()
            .map(|(i, r)| {
                hub_row(
                    i,
                    "en",
                    r["text"].as_str().unwrap(),
                    r["label"].as_str().unwrap(),
                )
            })
            .collect();
        let german: Vec<Value> = (0..50)
            .map(|i| hub_row(i, "de", &format!("weck mich um {i} uhr"), "alarm_set"))
            .collect();
        hub.put(
            &repo,
            &rev,
            &format!("{split}/en.json.gz"),
            &gzip(&jsonl(&english)),
        );
        hub.put(
            &repo,
            &rev,
            &format!("{split}/de.json.gz"),
            &gzip(&jsonl(&german)),
        );
    }
}

/// TwitterURLCorpus as its pinned revision stores it: `test.json.gz`, one row of lists under
/// the original names `sent1`, `sent2`, `labels`; no dataset card.
fn put_twitter_url(hub: &mut HubFiles) {
    let (repo, rev) = pinned("TwitterURLCorpus");
    let rows = mirror_rows("TwitterURLCorpus/test.jsonl");
    let row = serde_json::json!({
        "sent1": strings(&rows, "sentence1"),
        "sent2": strings(&rows, "sentence2"),
        "labels": rows.iter().map(|r| r["label"].clone()).collect::<Vec<_>>(),
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    writeln!(gz, "{row}").unwrap();
    hub.put(&repo, &rev, "test.json.gz", &gz.finish().unwrap());
}

/// SIB200 with one config per language declared in the card, topic names in `category`
/// (renamed to `label`) and an extra `index_id` column.
fn put_sib200(hub: &mut HubFiles) {
    let (repo, rev) = pinned("SIB200Classification");
    let mut card = String::from("---\nconfigs:\n");
    for config in ["eng_Latn", "fra_Latn"] {
        card += &format!("- config_name: {config}\n  data_files:\n");
        for split in ["train", "validation", "test"] {
            card += &format!("  - split: {split}\n    path: {config}/{split}-*\n");
        }
    }
    card += "---\n# SIB-200\n";
    hub.put(&repo, &rev, "README.md", card.as_bytes());
    for split in ["train", "validation", "test"] {
        let rows = mirror_rows(&format!("SIB200Classification/eng_Latn/{split}.jsonl"));
        let category: Vec<&str> = rows
            .iter()
            .map(|r| SIB200_TOPICS[r["label"].as_u64().unwrap() as usize])
            .collect();
        let ids: Vec<i64> = (0..rows.len() as i64).collect();
        let frame =
            df!("index_id" => ids, "category" => category, "text" => strings(&rows, "text"))
                .unwrap();
        hub.put_parquet(
            &repo,
            &rev,
            &format!("eng_Latn/{split}-00000-of-00001.parquet"),
            frame,
        );
    }
}

/// SummEval as sharded Parquet without a card (`data/test-00000-of-00001.parquet`).
fn put_summeval(hub: &mut HubFiles) {
    let (repo, rev) = pinned("SummEvalSummarization.v2");
    let rows = mirror_rows("SummEvalSummarization.v2/test.jsonl");
    let mut frame = df!("text" => strings(&rows, "text")).unwrap();
    for column in [
        string_lists(&rows, "human_summaries"),
        string_lists(&rows, "machine_summaries"),
        float_lists(&rows, "relevance"),
    ] {
        frame.with_column(column.into()).unwrap();
    }
    hub.put_parquet(&repo, &rev, "data/test-00000-of-00001.parquet", frame);
}

/// SciFact as a BEIR-style repo: configs `corpus` and `queries` (each with one split named
/// after the config) and `default` holding the qrels of split `test`, declared in the card.
fn put_scifact(hub: &mut HubFiles) {
    let (repo, rev) = pinned("SciFact");
    let card = "---\nconfigs:\n- config_name: corpus\n  data_files:\n  - split: corpus\n    path: corpus.jsonl\n\
        - config_name: queries\n  data_files:\n  - split: queries\n    path: queries.jsonl\n\
        - config_name: default\n  data_files:\n  - split: test\n    path: qrels/test.tsv\n---\n";
    hub.put(&repo, &rev, "README.md", card.as_bytes());
    for file in ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"] {
        let bytes = std::fs::read(common::shared_data().join("SciFact").join(file)).unwrap();
        hub.put(&repo, &rev, file, &bytes);
    }
}

fn all_tasks() -> HubFiles {
    let mut hub = HubFiles::default();
    put_sts17(&mut hub);
    put_twitter_url(&mut hub);
    put_sib200(&mut hub);
    put_summeval(&mut hub);
    put_scifact(&mut hub);
    put_massive(&mut hub);
    hub
}

/// Writes a run configuration of the fixture model on `tasks`, reading data from `source`
/// with `../shared/data` as the local mirror.
fn config(work: &Path, source: &str, tasks: &[&str]) -> PathBuf {
    config_with_mirror(work, source, tasks, &common::shared_data())
}

/// The one subset the mirror holds of its multi-subset tasks.
const MIRROR_SUBSETS: [(&str, &str); 4] = [
    ("STS17", "en-en"),
    ("MassiveIntentClassification", "en"),
    ("SIB200Classification", "eng_Latn"),
    ("SIB200ClusteringS2S", "eng_Latn"),
];

/// `task` as a run config names it: with the subset the mirror holds, where it has several.
fn task_entry(task: &str) -> String {
    match MIRROR_SUBSETS.iter().find(|(t, _)| *t == task) {
        Some((t, s)) => format!("{{name: {t}, subsets: [{s}]}}"),
        None => task.to_string(),
    }
}

fn config_with_mirror(work: &Path, source: &str, tasks: &[&str], mirror: &Path) -> PathBuf {
    let tasks: Vec<String> = tasks.iter().map(|t| task_entry(t)).collect();
    let config = format!(
        "models:\n  - name: me/tiny\n    path: {}\ntasks: [{}]\ndata_dir: {}\ndata_source: {source}\noutput_dir: results-{source}\n{}",
        common::fixture_model("leaf_mt").display(),
        tasks.join(", "),
        mirror.display(),
        common::DIFFERING_COPIES,
    );
    let path = work.join(format!("{source}.yaml"));
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs offline with `cache` as the Hugging Face cache.
fn run(work: &Path, source: &str, cache: &Path, tasks: &[&str]) -> std::process::Output {
    let path = config(work, source, tasks);
    common::leafbench_with_env(
        &["run", path.to_str().unwrap(), "--quiet"],
        &[("HF_HUB_CACHE", cache)],
    )
}

fn scores(work: &Path, source: &str, task: &str) -> Value {
    let path = work.join(format!("results-{source}/me__tiny/main/{task}.json"));
    let file = File::open(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (was {task} skipped for lack of data?)",
            path.display()
        )
    });
    let result: Value = serde_json::from_reader(file).unwrap();
    result["scores"].clone()
}

#[test]
fn hub_cache_gives_the_same_scores_as_the_local_mirror() {
    let cache = all_tasks().install();
    let work = tempfile::tempdir().unwrap();
    for source in ["local", "hub"] {
        let out = run(work.path(), source, cache.path(), &TASKS);
        assert!(out.status.success(), "{source}: {}", common::stderr(&out));
    }
    // `auto` falls back to the hub for tasks the mirror does not hold.
    let empty_mirror = work.path().join("empty-mirror");
    std::fs::create_dir_all(&empty_mirror).unwrap();
    let auto = config_with_mirror(work.path(), "auto", &TASKS, &empty_mirror);
    let out = common::leafbench_with_env(
        &["run", auto.to_str().unwrap(), "--quiet"],
        &[("HF_HUB_CACHE", cache.path())],
    );
    assert!(out.status.success(), "auto: {}", common::stderr(&out));
    for task in TASKS {
        let local = scores(work.path(), "local", task);
        assert!(
            local["test"][0]["main_score"].is_number(),
            "{task}: {local}"
        );
        for source in ["hub", "auto"] {
            let other = scores(work.path(), source, task);
            assert_eq!(local, other, "{task}: the {source} data scored differently");
        }
    }
}

#[test]
fn missing_hub_data_offline_is_reported_with_every_place_looked() {
    let cache = HubFiles::default().install();
    let work = tempfile::tempdir().unwrap();
    let out = run(work.path(), "hub", cache.path(), &["TwitterURLCorpus"]);
    // The run goes on without the task, says so, and exits 3: a task did not run.
    assert_eq!(out.status.code(), Some(3), "{}", common::stderr(&out));
    assert!(
        common::stdout(&out).contains("no data"),
        "{}",
        common::stdout(&out)
    );
    let err = common::stderr(&out);
    let (repo, rev) = pinned("TwitterURLCorpus");
    for part in [
        "split `test` of dataset".to_string(),
        format!("{repo}@{rev}"),
        format!("datasets--{}", repo.replace('/', "--")),
        "offline".to_string(),
    ] {
        assert!(err.contains(&part), "error should mention `{part}`:\n{err}");
    }
}

#[test]
fn bad_hub_rows_are_named_by_file_and_row() {
    let mut hub = HubFiles::default();
    let (repo, rev) = pinned("STS17");
    let frame = df!(
        "sentence1" => ["a", "b"],
        "sentence2" => ["c", "d"],
        "score" => ["1.0", "high"],
        "lang" => ["en-en", "en-en"],
    )
    .unwrap();
    hub.put_parquet(&repo, &rev, "data/test-00000-of-00001.parquet", frame);
    let cache = hub.install();
    let work = tempfile::tempdir().unwrap();
    let out = run(work.path(), "hub", cache.path(), &["STS17"]);
    assert!(!out.status.success());
    let err = common::stderr(&out);
    for part in [
        "test-00000-of-00001.parquet",
        "row 1",
        "invalid type: string \"1.0\", expected f64",
    ] {
        assert!(err.contains(part), "error should mention `{part}`:\n{err}");
    }
    assert!(!work
        .path()
        .join("results-hub/me__tiny/main/STS17.json")
        .exists());
}

#[test]
fn hub_data_is_downloaded_into_the_cache_once() {
    let hub = all_tasks().serve();
    let cache = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let path = config(work.path(), "hub", &TASKS);
    let args = ["run", path.to_str().unwrap(), "--quiet"];
    let env = [("HF_HUB_CACHE", cache.path())];
    let out = common::leafbench_from_endpoint(&args, &hub.endpoint, &env);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let served = hub.served();
    assert!(
        served
            .iter()
            .any(|p| p.ends_with("/eng_Latn/test-00000-of-00001.parquet")),
        "{served:?}"
    );
    // Only the subset that is evaluated is fetched.
    assert!(!served.iter().any(|p| p.contains("fra_Latn")), "{served:?}");
    let (repo, rev) = pinned("SummEvalSummarization.v2");
    let snapshot = cache.path().join(format!(
        "datasets--{}/snapshots/{rev}",
        repo.replace('/', "--")
    ));
    assert!(snapshot.join("data/test-00000-of-00001.parquet").is_file());

    // The same data scores as from the local mirror, and a second run needs no hub.
    let local = run(work.path(), "local", cache.path(), &TASKS);
    assert!(local.status.success(), "{}", common::stderr(&local));
    for task in TASKS {
        assert_eq!(
            scores(work.path(), "local", task),
            scores(work.path(), "hub", task),
            "{task}"
        );
    }
    let again = common::leafbench_with_env(&[&args[..], &["--overwrite"]].concat(), &env);
    assert!(
        again.status.success(),
        "offline rerun: {}",
        common::stderr(&again)
    );
}

/// A synthetic sentence: word `i` of a small vocabulary, then others picked by `seed`.
fn sentence(seed: usize, words: usize) -> String {
    const VOCAB: [&str; 16] = [
        "cell", "data", "model", "error", "server", "virus", "patient", "review", "film", "plot",
        "code", "query", "answer", "thread", "vote", "trial",
    ];
    (0..words)
        .map(|k| VOCAB[(seed * 7 + k * (seed % 5 + 1)) % VOCAB.len()])
        .collect::<Vec<_>>()
        .join(" ")
}

fn jsonl(rows: &[Value]) -> Vec<u8> {
    rows.iter()
        .map(|r| format!("{r}\n"))
        .collect::<String>()
        .into_bytes()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn put_mirror(mirror: &Path, task: &str, file: &str, bytes: &[u8]) {
    let path = mirror.join(task).join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Classification rows `{text, label}` and the hub's `{text, label, label_text}`.
fn labelled_rows(n: usize, offset: usize, every: usize) -> (Vec<Value>, Vec<Value>) {
    let mirror: Vec<Value> = (0..n)
        .map(|i| {
            let label = usize::from((i + offset) % every == 0);
            serde_json::json!({"text": sentence(i + offset + label * 3, 6 + i % 5), "label": label})
        })
        .collect();
    let hub = mirror
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let text = if r["label"] == 1 {
                "toxic"
            } else {
                "not toxic"
            };
            r["label_text"] = text.into();
            r
        })
        .collect();
    (mirror, hub)
}

/// Toxic and Imdb at their pinned revisions: `<split>.jsonl` at the repo root with `label_text`
/// beside `label`; Toxic with a card that declares no configs and a `prepare.py`, Imdb with an
/// `unsupervised.jsonl` that is no split of the task. Toxic's test split is larger than its
/// 2,048-row cut, which is computed from the hub rows.
fn put_flat_jsonl(hub: &mut HubFiles, mirror: &Path) {
    for (task, n_test, every) in [
        ("ToxicConversationsClassification", 2_100, 12),
        ("ImdbClassification", 60, 2),
    ] {
        let (repo, rev) = pinned(task);
        for (split, n, offset) in [("train", 200, 5_000), ("test", n_test, 0)] {
            let (local, remote) = labelled_rows(n, offset, every);
            put_mirror(mirror, task, &format!("{split}.jsonl"), &jsonl(&local));
            hub.put(&repo, &rev, &format!("{split}.jsonl"), &jsonl(&remote));
        }
        if task == "ToxicConversationsClassification" {
            hub.put(
                &repo,
                &rev,
                "README.md",
                b"---\nlicense: cc-by-4.0\n---\n# Toxic\n",
            );
            hub.put(&repo, &rev, "prepare.py", b"print('prepare')\n");
        } else {
            let unlabelled: Vec<Value> = (0..30)
                .map(|i| serde_json::json!({"text": sentence(i, 4), "label": -1, "label_text": "neg"}))
                .collect();
            hub.put(&repo, &rev, "unsupervised.jsonl", &jsonl(&unlabelled));
        }
    }
}

/// AskUbuntuDupQuestions at its pinned revision: `test.jsonl.gz` of `{query, positive,
/// negative}` rows and no card.
fn put_reranking_rows(hub: &mut HubFiles, mirror: &Path) {
    let task = "AskUbuntuDupQuestions";
    let (repo, rev) = pinned(task);
    let rows: Vec<Value> = (0..30)
        .map(|i| {
            serde_json::json!({
                "query": sentence(i, 5),
                "positive": [sentence(i + 1, 5), sentence(i + 2, 6)],
                "negative": (0..6).map(|k| sentence(i * 11 + k + 40, 4 + k)).collect::<Vec<_>>(),
            })
        })
        .collect();
    put_mirror(mirror, task, "test.jsonl", &jsonl(&rows));
    hub.put(&repo, &rev, "test.jsonl.gz", &gzip(&jsonl(&rows)));
}

/// MindSmallReranking at its pinned revision, as the commit that pinned it (".gz -> .zip")
/// implies: `test.zip` holding JSON lines of `{id, query: [titles], positive, negative}`, and a
/// card of plain text.
fn put_zipped_reranking(hub: &mut HubFiles, mirror: &Path) {
    let task = "MindSmallReranking";
    let (repo, rev) = pinned(task);
    let rows: Vec<Value> = (0..30)
        .map(|i| {
            serde_json::json!({
                "id": i,
                "query": (0..3).map(|k| sentence(i * 7 + k, 4)).collect::<Vec<_>>(),
                "positive": [sentence(i + 100, 5)],
                "negative": (0..5).map(|k| sentence(i * 13 + k + 200, 3 + k)).collect::<Vec<_>>(),
            })
        })
        .collect();
    put_mirror(mirror, task, "test.jsonl", &jsonl(&rows));
    let mut zipped = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated);
    zipped.start_file("test.jsonl", options).unwrap();
    zipped.write_all(&jsonl(&rows)).unwrap();
    hub.put(
        &repo,
        &rev,
        "test.zip",
        &zipped.finish().unwrap().into_inner(),
    );
    hub.put(
        &repo,
        &rev,
        "README.md",
        b"The test split of MIND, as reranking rows.\n",
    );
}

/// MedrxivClusteringP2P.v2 at its pinned revision: `test.jsonl.gz` with one clustering set per
/// row (lists of sentences and labels), which the v2 protocol pools into one split.
fn put_clustering_sets(hub: &mut HubFiles, mirror: &Path) {
    let task = "MedrxivClusteringP2P.v2";
    let (repo, rev) = pinned(task);
    let docs: Vec<(String, String)> = (0..600)
        .map(|i| (sentence(i, 8 + i % 7), format!("topic{}", i % 9)))
        .collect();
    let local: Vec<Value> = docs
        .iter()
        .map(|(s, l)| serde_json::json!({"sentences": s, "labels": l}))
        .collect();
    put_mirror(mirror, task, "test.jsonl", &jsonl(&local));
    let sets: Vec<Value> = docs
        .chunks(250)
        .map(|c| {
            let (s, l): (Vec<&String>, Vec<&String>) = c.iter().map(|(s, l)| (s, l)).unzip();
            serde_json::json!({"sentences": s, "labels": l})
        })
        .collect();
    hub.put(&repo, &rev, "test.jsonl.gz", &gzip(&jsonl(&sets)));
}

/// ArguAna as its card declares it: `corpus.jsonl`, `queries.jsonl` and qrels as JSON lines
/// (`qrels/test.jsonl`, float scores) rather than TSV.
fn put_beir_jsonl_qrels(hub: &mut HubFiles, mirror: &Path) {
    let task = "ArguAna";
    let (repo, rev) = pinned(task);
    let corpus: Vec<Value> = (0..80)
        .map(|i| serde_json::json!({"_id": format!("d{i}"), "title": sentence(i, 2), "text": sentence(i + 3, 9)}))
        .collect();
    // Query ids are document ids, as in ArguAna: `ignore_identical_ids` must drop them.
    let queries: Vec<Value> = (0..20)
        .map(|i| serde_json::json!({"_id": format!("d{}", i * 4), "text": sentence(i * 4 + 3, 7)}))
        .collect();
    let qrels: Vec<(String, String)> = (0..20)
        .map(|i| (format!("d{}", i * 4), format!("d{}", i * 4 + 1)))
        .collect();
    let tsv: String = std::iter::once("query-id\tcorpus-id\tscore\n".to_string())
        .chain(qrels.iter().map(|(q, d)| format!("{q}\t{d}\t1\n")))
        .collect();
    let qrels_jsonl: Vec<Value> = qrels
        .iter()
        .map(|(q, d)| serde_json::json!({"query-id": q, "corpus-id": d, "score": 1.0}))
        .collect();
    put_mirror(mirror, task, "corpus.jsonl", &jsonl(&corpus));
    put_mirror(mirror, task, "queries.jsonl", &jsonl(&queries));
    put_mirror(mirror, task, "qrels/test.tsv", tsv.as_bytes());
    let card = "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: test\n    path: qrels/test.jsonl\n\
        - config_name: corpus\n  data_files:\n  - split: corpus\n    path: corpus.jsonl\n\
        - config_name: queries\n  data_files:\n  - split: queries\n    path: queries.jsonl\n---\n";
    hub.put(&repo, &rev, "README.md", card.as_bytes());
    hub.put(&repo, &rev, "corpus.jsonl", &jsonl(&corpus));
    hub.put(&repo, &rev, "queries.jsonl", &jsonl(&queries));
    hub.put(&repo, &rev, "qrels/test.jsonl", &jsonl(&qrels_jsonl));
}

/// MTOPDomainClassification as its repo stores it (seen at a later commit of the same layout):
/// one folder per language with `train`, `validation` and `test` JSON lines, beside loading
/// scripts and a card without configs. Every subset and both evaluation splits are read.
fn put_folder_per_language(hub: &mut HubFiles, mirror: &Path) {
    let task = "MTOPDomainClassification";
    let (repo, rev) = pinned(task);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tasks/{task}.yaml"));
    let subsets = leafbench::task::TaskSpec::load(&path).unwrap().subsets();
    for (k, lang) in subsets.iter().enumerate() {
        for (split, n) in [("train", 90), ("validation", 30), ("test", 40)] {
            let rows: Vec<Value> = (0..n)
                .map(|i| {
                    let label = (i + k) % 3;
                    serde_json::json!({"text": sentence(i * 3 + label + k, 5 + i % 4), "label": label})
                })
                .collect();
            put_mirror(
                mirror,
                task,
                &format!("{lang}/{split}.jsonl"),
                &jsonl(&rows),
            );
            hub.put(&repo, &rev, &format!("{lang}/{split}.jsonl"), &jsonl(&rows));
        }
    }
    hub.put(
        &repo,
        &rev,
        "README.md",
        b"---\nlicense: cc-by-sa-4.0\n---\n",
    );
    hub.put(&repo, &rev, "mtop_domain.py", b"# loading script\n");
}

/// HotpotQAHardNegatives as `datasets`' `push_to_hub` lays out a repo of three configs
/// (inferred: no page shows these repos): `corpus`, `queries` and `default` declared by the
/// card, each a Parquet shard of a `test` split in its own folder, `data/` for `default`.
fn put_config_parquet_retrieval(hub: &mut HubFiles, mirror: &Path) {
    let task = "HotpotQAHardNegatives";
    let (repo, rev) = pinned(task);
    let ids = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}{i}")).collect::<Vec<_>>();
    let corpus: Vec<Value> = ids("doc", 90)
        .into_iter()
        .enumerate()
        .map(|(i, id)| serde_json::json!({"_id": id, "title": sentence(i + 7, 2), "text": sentence(i, 10)}))
        .collect();
    let queries: Vec<Value> = ids("q", 25)
        .into_iter()
        .enumerate()
        .map(|(i, id)| serde_json::json!({"_id": id, "text": sentence(i * 3 + 1, 6)}))
        .collect();
    // Two judged documents a query, as HotpotQA's two supporting passages.
    let qrels: Vec<(String, String)> = (0..25)
        .flat_map(|i| [(i, i * 3), (i, i * 3 + 2)])
        .map(|(q, d)| (format!("q{q}"), format!("doc{d}")))
        .collect();
    let tsv: String = std::iter::once("query-id\tcorpus-id\tscore\n".to_string())
        .chain(qrels.iter().map(|(q, d)| format!("{q}\t{d}\t1\n")))
        .collect();
    put_mirror(mirror, task, "corpus.jsonl", &jsonl(&corpus));
    put_mirror(mirror, task, "queries.jsonl", &jsonl(&queries));
    put_mirror(mirror, task, "qrels/test.tsv", tsv.as_bytes());
    let shard = "test-00000-of-00001.parquet";
    let c = |key: &str| strings(&corpus, key);
    let corpus_frame = df!("_id" => c("_id"), "title" => c("title"), "text" => c("text")).unwrap();
    hub.put_parquet(&repo, &rev, &format!("corpus/{shard}"), corpus_frame);
    let queries_frame =
        df!("_id" => strings(&queries, "_id"), "text" => strings(&queries, "text")).unwrap();
    hub.put_parquet(&repo, &rev, &format!("queries/{shard}"), queries_frame);
    let (q, d): (Vec<&str>, Vec<&str>) =
        qrels.iter().map(|(q, d)| (q.as_str(), d.as_str())).unzip();
    let judgements =
        df!("query-id" => q, "corpus-id" => d, "score" => vec![1i64; qrels.len()]).unwrap();
    hub.put_parquet(&repo, &rev, &format!("data/{shard}"), judgements);
    let card = "---\nconfigs:\n- config_name: corpus\n  data_files:\n  - split: test\n    path: corpus/test-*\n\
        - config_name: default\n  data_files:\n  - split: test\n    path: data/test-*\n\
        - config_name: queries\n  data_files:\n  - split: test\n    path: queries/test-*\n---\n";
    hub.put(&repo, &rev, "README.md", card.as_bytes());
}

/// STS22.v2 as the head of its repo stores it (the pinned commit is not placed in that
/// history): `data/train.jsonl.gz` and `data/test.jsonl.gz`, every language in one file with a
/// `lang` column. All eighteen subsets are read from the test file.
fn put_gzipped_fast_loading(hub: &mut HubFiles, mirror: &Path) {
    let task = "STS22.v2";
    let (repo, rev) = pinned(task);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tasks/{task}.yaml"));
    let subsets = leafbench::task::TaskSpec::load(&path).unwrap().subsets();
    let mut per_language = Vec::new();
    for (k, lang) in subsets.iter().enumerate() {
        let rows: Vec<Value> = (0..20)
            .map(|i| {
                let score = 1.0 + ((i * 5 + k) % 7) as f64 / 2.0;
                serde_json::json!({"sentence1": sentence(i + k, 9), "sentence2": sentence(i * 3 + k, 8), "score": score})
            })
            .collect();
        put_mirror(mirror, task, &format!("{lang}/test.jsonl"), &jsonl(&rows));
        per_language.push((lang, rows));
    }
    // One file of every language, rows interleaved: row i of each language in turn.
    let all: Vec<Value> = (0..20)
        .flat_map(|i| per_language.iter().map(move |(lang, rows)| (i, lang, rows)))
        .map(|(i, lang, rows)| {
            let mut row = rows[i].clone();
            row["lang"] = lang.as_str().into();
            row
        })
        .collect();
    hub.put(&repo, &rev, "data/test.jsonl.gz", &gzip(&jsonl(&all)));
    let train: Vec<Value> = (0..10)
        .map(|i| serde_json::json!({"sentence1": "x", "sentence2": sentence(i, 3), "score": 2.0, "lang": "en"}))
        .collect();
    hub.put(&repo, &rev, "data/train.jsonl.gz", &gzip(&jsonl(&train)));
}

/// ClusTREC-Covid with one config per subset declared by its card, named with spaces as mteb
/// names the subsets (inferred: mteb loads `title and abstract` and `title` with a `test` split
/// at the pin, which in this repo only a card's configs can give). The rows are those of the
/// multi-subset test's synthetic copy; both subsets draw from one random stream.
fn put_card_configs_with_spaces(hub: &mut HubFiles, mirror: &Path) {
    let task = "ClusTREC-Covid";
    let (repo, rev) = pinned(task);
    let mut card = String::from("---\nconfigs:\n");
    for (subset, folder) in [
        ("title and abstract", "title_and_abstract"),
        ("title", "title"),
    ] {
        let rel = format!("{task}/{subset}/test.jsonl");
        let bytes = std::fs::read(common::fixtures().join("multi_subset/data").join(&rel)).unwrap();
        put_mirror(mirror, task, &format!("{subset}/test.jsonl"), &bytes);
        hub.put(&repo, &rev, &format!("{folder}/test.jsonl"), &bytes);
        card += &format!(
            "- config_name: {subset}\n  data_files:\n  - split: test\n    path: {folder}/test.jsonl\n"
        );
    }
    hub.put(&repo, &rev, "README.md", format!("{card}---\n").as_bytes());
}

/// A field as Python's `csv` writer writes it with a tab delimiter: quoted, with quotes
/// doubled, when it holds a quote, a tab or a line break.
fn tsv_field(text: &str) -> String {
    if text.contains(['"', '\t', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// AmazonCounterfactualClassification at its pinned revision, read through a loading script:
/// `data/<LANG>_<split>.tsv` files of `sentence` and `is_counterfactual` (the task file names
/// them), some sentences quoted because they hold quotes, beside the script. All four subsets
/// and both evaluation splits are read.
fn put_loading_script_tsv(hub: &mut HubFiles, mirror: &Path) {
    let task = "AmazonCounterfactualClassification";
    let (repo, rev) = pinned(task);
    let prefixes = [
        ("en-ext", "EN-ext"),
        ("en", "EN"),
        ("de", "DE"),
        ("ja", "JP"),
    ];
    for (k, (subset, prefix)) in prefixes.iter().enumerate() {
        for (split, file_split, n) in [
            ("train", "train", 120),
            ("validation", "valid", 30),
            ("test", "test", 40),
        ] {
            let (mut rows, _) = labelled_rows(n, k * 1_000 + n, 4);
            for (i, row) in rows.iter_mut().enumerate().filter(|(i, _)| i % 5 == 0) {
                let text = row["text"].as_str().unwrap();
                row["text"] = format!("\"{text}\" she said{}", "!".repeat(i % 3)).into();
            }
            put_mirror(
                mirror,
                task,
                &format!("{subset}/{split}.jsonl"),
                &jsonl(&rows),
            );
            let tsv: String = std::iter::once("sentence\tis_counterfactual\n".to_string())
                .chain(rows.iter().map(|r| {
                    let text = tsv_field(r["text"].as_str().unwrap());
                    format!("{text}\t{}\n", r["label"])
                }))
                .collect();
            hub.put(
                &repo,
                &rev,
                &format!("data/{prefix}_{file_split}.tsv"),
                tsv.as_bytes(),
            );
        }
    }
    hub.put(
        &repo,
        &rev,
        "amazon_counterfactual.py",
        b"# loading script\n",
    );
}

/// The layouts of the other task families at their pinned revisions (tasks/README.md says
/// which were seen and which inferred): the same synthetic rows in the mirror's layout and in
/// the hub's score the same from both.
#[test]
fn other_hub_layouts_score_as_the_mirror() {
    let mirror = tempfile::tempdir().unwrap();
    let mut hub = HubFiles::default();
    put_flat_jsonl(&mut hub, mirror.path());
    put_reranking_rows(&mut hub, mirror.path());
    put_clustering_sets(&mut hub, mirror.path());
    put_beir_jsonl_qrels(&mut hub, mirror.path());
    put_folder_per_language(&mut hub, mirror.path());
    put_zipped_reranking(&mut hub, mirror.path());
    put_loading_script_tsv(&mut hub, mirror.path());
    put_config_parquet_retrieval(&mut hub, mirror.path());
    put_gzipped_fast_loading(&mut hub, mirror.path());
    put_card_configs_with_spaces(&mut hub, mirror.path());
    let cache = hub.install();
    let tasks = [
        "ToxicConversationsClassification",
        "ImdbClassification",
        "AskUbuntuDupQuestions",
        "MindSmallReranking",
        "MedrxivClusteringP2P.v2",
        "ArguAna",
        "MTOPDomainClassification",
        "AmazonCounterfactualClassification",
        "HotpotQAHardNegatives",
        "STS22.v2",
        "ClusTREC-Covid",
    ];
    let work = tempfile::tempdir().unwrap();
    for source in ["local", "hub"] {
        let path = config_with_mirror(work.path(), source, &tasks, mirror.path());
        // Synthetic rows under the real task names: not MTEB's data, so not checked.
        let out = common::leafbench_with_env(
            &["run", path.to_str().unwrap(), "--quiet", "--no-data-check"],
            &[("HF_HUB_CACHE", cache.path())],
        );
        assert!(out.status.success(), "{source}: {}", common::stderr(&out));
    }
    for task in tasks {
        let local = scores(work.path(), "local", task);
        assert!(
            local["test"][0]["main_score"].is_number(),
            "{task}: {local}"
        );
        assert_eq!(local, scores(work.path(), "hub", task), "{task}");
    }
    let both = ["validation", "test"].as_slice();
    for (task, splits, subsets) in [
        ("MTOPDomainClassification", both, 6),
        ("AmazonCounterfactualClassification", both, 4),
        ("STS22.v2", ["test"].as_slice(), 18),
        ("ClusTREC-Covid", ["test"].as_slice(), 2),
    ] {
        let hub = scores(work.path(), "hub", task);
        for split in splits {
            let found = hub[split].as_array().map_or(0, Vec::len);
            assert_eq!(found, subsets, "{task} {split}: every subset");
        }
    }
}
