//! A run split into shards scores exactly what one unsplit run scores: shards started as a
//! Kubernetes Indexed Job would start them (JOB_COMPLETION_INDEX, LEAFBENCH_SHARDS) encode
//! every chunk once into a shared store, the final run encodes nothing, and faults — a shard
//! killed mid-chunk, two shards given the same index, a full disk, a rebuilt binary — change
//! no score and leave no entry a reader would accept half-written. Uses the tiny leaf_mt
//! fixture model on data each test writes: an STS task large enough to span several chunks,
//! and a small retrieval task (query and document roles).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

struct Split {
    dir: tempfile::TempDir,
}

/// Rows of the STS task: over 16,384 texts per side, so each side is several chunks.
const STS_ROWS: usize = 20_000;

impl Split {
    fn new() -> Self {
        let s = Split {
            dir: tempfile::tempdir().unwrap(),
        };
        s.write(
            "tasks/BigSTS.yaml",
            "name: BigSTS\ntype: STS\ndataset: {path: me/big, revision: r1}\neval_splits: [test]\nmain_score: cosine_spearman\nparams: {min_score: 0, max_score: 5}\n",
        );
        let words = [
            "cat", "dog", "rain", "snow", "river", "stone", "light", "song",
        ];
        let rows: Vec<String> = (0..STS_ROWS)
            .map(|i| {
                let (a, b) = (words[i % 8], words[(i / 8) % 8]);
                let filler = "very ".repeat(i % 13);
                format!(
                    "{{\"sentence1\": \"a {filler}{a} number {i}\", \"sentence2\": \"the {b} {a} {i}\", \"score\": {}}}",
                    (i * 7) % 6
                )
            })
            .collect();
        s.write("data/BigSTS/test.jsonl", &(rows.join("\n") + "\n"));
        s.write(
            "tasks/MyRetrieval.yaml",
            "name: MyRetrieval\ntype: Retrieval\ndataset: {path: me/r, revision: r1}\neval_splits: [test]\nmain_score: ndcg_at_10\nparams: {}\n",
        );
        s.write(
            "data/MyRetrieval/corpus.jsonl",
            "{\"_id\": \"d1\", \"title\": \"Cats\", \"text\": \"cats purr\"}\n{\"_id\": \"d2\", \"title\": \"\", \"text\": \"dogs bark\"}\n{\"_id\": \"d3\", \"title\": \"Rain\", \"text\": \"rain falls\"}\n",
        );
        s.write(
            "data/MyRetrieval/queries.jsonl",
            "{\"_id\": \"q1\", \"text\": \"what purrs\"}\n{\"_id\": \"q2\", \"text\": \"what barks\"}\n",
        );
        s.write(
            "data/MyRetrieval/qrels/test.tsv",
            "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n",
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

    /// A configuration writing results to `out` (a folder name under the test's folder).
    fn config(&self, out: &str) -> PathBuf {
        let path = self.path(&format!("{out}.yaml"));
        let text = format!(
            "models:\n  - {{name: me/tiny, path: {}}}\ntasks: [BigSTS, MyRetrieval]\ndata_dir: data\noutput_dir: {out}\n",
            common::fixture_model("leaf_mt").display()
        );
        // Written aside and renamed over: a shard started a moment ago may be reading it.
        let partial = path.with_extension("yaml.partial");
        std::fs::write(&partial, text).unwrap();
        std::fs::rename(&partial, &path).unwrap();
        path
    }

    /// `leafbench ARGS --tasks-dir … --quiet` with the store at `store`, offline, and no
    /// engine environment unless `env` sets it.
    fn command(&self, args: &[&str], store: &Path, env: &[(&str, &str)]) -> Command {
        self.command_with(env!("CARGO_BIN_EXE_leafbench"), args, store, env)
    }

    fn command_with(
        &self,
        binary: &str,
        args: &[&str],
        store: &Path,
        env: &[(&str, &str)],
    ) -> Command {
        let mut cmd = Command::new(binary);
        cmd.args(args)
            .args(["--tasks-dir", self.path("tasks").to_str().unwrap()])
            .env("HF_HUB_OFFLINE", "1")
            .env("LEAFBENCH_CACHE", store)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for var in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_COUNT",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_MAX",
            "JOB_COMPLETION_INDEX",
            "LEAFBENCH_SHARDS",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, out: &str, store: &Path) -> Output {
        let config = self.config(out);
        let output = self
            .command(&["run", config.to_str().unwrap(), "--quiet"], store, &[])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
        output
    }

    fn shard(&self, shard: &str, store: &Path) -> Child {
        let config = self.config("unused");
        self.command(
            &["run", config.to_str().unwrap(), "--shard", shard, "--quiet"],
            store,
            &[],
        )
        .spawn()
        .unwrap()
    }

    /// Chunks in the plan of the test's configuration.
    fn planned_chunks(&self) -> usize {
        let config = self.config("unused");
        let out = self
            .command(
                &["plan", config.to_str().unwrap(), "--shards", "3"],
                Path::new("/nonexistent"),
                &[],
            )
            .output()
            .unwrap();
        let text = common::stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
        text.split_whitespace().next().unwrap().parse().unwrap()
    }
}

/// Chunks a shard says it encoded (its last line), after checking it succeeded.
fn encoded_chunks(out: &Output) -> usize {
    let err = common::stderr(out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("shard "),
        "a shard ends with its summary: {err}"
    );
    let (_, after) = last.split_once("encoded ").unwrap();
    after.split_whitespace().next().unwrap().parse().unwrap()
}

fn last_line(out: &Output) -> String {
    common::stderr(out)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn emb_files(store: &Path) -> Vec<PathBuf> {
    common::files_below(store)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "emb"))
        .collect()
}

/// The unsplit run's scores, computed once for every test of this file.
fn unsplit() -> &'static BTreeMap<String, serde_json::Value> {
    static SCORES: OnceLock<BTreeMap<String, serde_json::Value>> = OnceLock::new();
    SCORES.get_or_init(|| {
        let s = Split::new();
        s.run("whole", &s.path("store-whole"));
        let scores = common::result_scores(&s.path("whole"));
        assert_eq!(scores.len(), 2, "both tasks evaluated: {scores:?}");
        scores
    })
}

#[test]
fn indexed_job_shards_score_what_one_unsplit_run_scores() {
    let s = Split::new();
    let store = s.path("store");
    let planned = s.planned_chunks();
    assert!(planned >= 5, "the STS sides span several chunks: {planned}");
    let config = s.config("split");
    let shards: Vec<Child> = (0..3)
        .map(|i| {
            let index = i.to_string();
            s.command(
                &["run", config.to_str().unwrap(), "--quiet"],
                &store,
                &[("JOB_COMPLETION_INDEX", &index), ("LEAFBENCH_SHARDS", "3")],
            )
            .spawn()
            .unwrap()
        })
        .collect();
    let encoded: usize = shards
        .into_iter()
        .map(|c| encoded_chunks(&c.wait_with_output().unwrap()))
        .sum();
    assert_eq!(
        encoded, planned,
        "every chunk encoded exactly once across the shards"
    );
    assert!(!s.path("split").exists(), "shards evaluate nothing");
    let last = last_line(&s.run("split", &store));
    assert!(
        last.contains("re-encoded nothing"),
        "the final run encodes nothing: {last}"
    );
    assert_eq!(&common::result_scores(&s.path("split")), unsplit());
    let report = s
        .command(&["report", s.path("split").to_str().unwrap()], &store, &[])
        .output()
        .unwrap();
    assert_eq!(report.status.code(), Some(0), "{}", common::stderr(&report));
    assert!(
        common::stdout(&report).contains("BigSTS"),
        "report reads the merged folder"
    );
}

#[test]
fn a_shard_killed_mid_chunk_then_rerun_changes_no_score() {
    let s = Split::new();
    let store = s.path("store");
    let planned = s.planned_chunks();
    let mut victim = s.shard("0/1", &store);
    // Killed while it holds a chunk's lock, i.e. while it encodes that chunk.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !common::files_below(&store)
        .iter()
        .any(|p| p.extension().is_some_and(|e| e == "lock"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the shard never started a chunk"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    victim.kill().unwrap();
    victim.wait().unwrap();
    let before = emb_files(&store).len();
    assert!(
        before < planned,
        "killed before it finished: {before} of {planned}"
    );
    let rerun = encoded_chunks(&s.shard("0/1", &store).wait_with_output().unwrap());
    assert_eq!(
        before + rerun,
        planned,
        "the rerun computes only the missing chunks"
    );
    let last = last_line(&s.run("split", &store));
    assert!(last.contains("re-encoded nothing"), "{last}");
    assert_eq!(&common::result_scores(&s.path("split")), unsplit());
}

#[test]
fn two_shards_given_the_same_index_both_finish_and_the_store_stays_intact() {
    let s = Split::new();
    let store = s.path("store");
    let planned = s.planned_chunks();
    let (a, b) = (s.shard("1/2", &store), s.shard("1/2", &store));
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let twins = encoded_chunks(&a) + encoded_chunks(&b);
    let other = encoded_chunks(&s.shard("0/2", &store).wait_with_output().unwrap());
    assert_eq!(twins + other, planned, "no chunk encoded twice");
    let last = last_line(&s.run("split", &store));
    assert!(
        last.contains("re-encoded nothing"),
        "every entry is intact: {last}"
    );
    assert_eq!(&common::result_scores(&s.path("split")), unsplit());
}

#[test]
fn a_rebuilt_binary_finds_what_the_old_one_stored() {
    let s = Split::new();
    let store = s.path("store");
    s.run("first", &store);
    // Another build of the same encoder: other executable bytes, same numerics.
    let rebuilt = s.path("leafbench-rebuilt");
    let mut bytes = std::fs::read(env!("CARGO_BIN_EXE_leafbench")).unwrap();
    bytes.extend_from_slice(b"another build");
    std::fs::write(&rebuilt, bytes).unwrap();
    std::fs::set_permissions(
        &rebuilt,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let config = s.config("second");
    let out = s
        .command_with(
            rebuilt.to_str().unwrap(),
            &["run", config.to_str().unwrap(), "--quiet"],
            &store,
            &[],
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", common::stderr(&out));
    assert!(
        last_line(&out).contains("re-encoded nothing"),
        "{}",
        last_line(&out)
    );
}

/// A small tmpfs as the store (root only: elsewhere the test says so and passes).
struct SmallDisk {
    path: PathBuf,
}

impl SmallDisk {
    fn mount(path: PathBuf, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(&path).unwrap();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(SmallDisk { path })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[test]
fn a_full_store_is_a_clear_error_and_holds_nothing_half_written() {
    let s = Split::new();
    let Some(disk) = SmallDisk::mount(s.path("small"), "200k") else {
        eprintln!("SKIPPED: mounting a small tmpfs needs root");
        return;
    };
    let out = s.shard("0/1", &disk.path).wait_with_output().unwrap();
    let err = common::stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("cannot write the embedding store entry") && err.contains("No space left"),
        "{err}"
    );
    let leftovers: Vec<PathBuf> = common::files_below(&disk.path)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains(".partial-"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary file stays: {leftovers:?}"
    );
    // Whatever entries did fit are whole: a run reading this store finds none damaged, and
    // scores what an unsplit run scores.
    let out = s.run("after", &disk.path);
    assert!(
        !common::stderr(&out).contains("damaged"),
        "{}",
        common::stderr(&out)
    );
    assert_eq!(&common::result_scores(&s.path("after")), unsplit());
}
