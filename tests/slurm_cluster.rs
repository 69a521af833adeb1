//! The quickstart run split across a real Slurm cluster exactly as a user submits it
//! (`scripts/slurm/submit.sh CONFIG 4`: a 4-task array, then the evaluate job that depends on
//! it) scores exactly what one unsplit run scores; the shards encode every chunk once between
//! them, and the evaluate job encodes nothing. The single-node cluster comes from Debian's
//! packages (`scripts/slurm/local-cluster.sh` installs them when missing, as root), runs on
//! 127.0.0.1, and is stopped by the PIDs it recorded.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A running local cluster, stopped when dropped.
struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Cluster {
    fn start(dir: PathBuf) -> Cluster {
        let script = repo().join("scripts/slurm/local-cluster.sh");
        let out = Command::new(&script)
            .arg("start")
            .arg(&dir)
            .output()
            .unwrap();
        let stdout = common::stdout(&out);
        assert!(
            out.status.success(),
            "the local Slurm cluster did not start:\n{}",
            common::stderr(&out)
        );
        let conf = stdout
            .trim()
            .strip_prefix("export SLURM_CONF=")
            .unwrap_or_else(|| panic!("unexpected output: {stdout}"))
            .to_string();
        Cluster { dir, conf }
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", &self.conf);
        cmd
    }

    /// Whether job `id` (and every task of an array) has left the queue.
    fn finished(&self, id: &str) -> bool {
        let out = self
            .command("squeue")
            .args(["-h", "-j", id, "-o", "%i"])
            .output()
            .unwrap();
        common::stdout(&out).trim().is_empty()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/slurm/local-cluster.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

/// The quickstart configuration with absolute paths and results in `out`.
fn quickstart(dir: &Path, out: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo().join("configs/quickstart.yaml")).unwrap();
    let model = common::minilm_dir();
    let data = repo().join("../shared/data");
    let text = text
        .lines()
        .map(|l| match l.trim_start() {
            l2 if l2.starts_with("path:") => format!("    path: {}", model.display()),
            l2 if l2.starts_with("data_dir:") => format!("data_dir: {}", data.display()),
            l2 if l2.starts_with("output_dir:") => {
                format!("output_dir: {}", dir.join(out).display())
            }
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join(format!("{out}.yaml"));
    std::fs::write(&path, text + "\n").unwrap();
    path
}

fn leafbench(dir: &Path, args: &[&str], store: &Path) -> std::process::Output {
    let out = Command::new(env!("CARGO_BIN_EXE_leafbench"))
        .args(args)
        .current_dir(dir)
        .env("HF_HUB_OFFLINE", "1")
        .env("LEAFBENCH_CACHE", store)
        .env_remove("LEAFBENCH_SHARDS")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::stderr(&out));
    out
}

#[test]
fn quickstart_as_a_slurm_array_scores_what_one_unsplit_run_scores() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let cluster = Cluster::start(dir.join("cluster"));

    let whole = quickstart(dir, "whole");
    let started = Instant::now();
    leafbench(
        dir,
        &["run", whole.to_str().unwrap(), "--quiet"],
        &dir.join("store-whole"),
    );
    let expected = common::result_scores(&dir.join("whole"));
    assert_eq!(
        expected.len(),
        16,
        "every quickstart task evaluated: {expected:?}"
    );

    let split = quickstart(dir, "split");
    let plan = leafbench(
        dir,
        &["plan", split.to_str().unwrap(), "--shards", "4"],
        dir,
    );
    let plan = common::stdout(&plan);
    let planned: usize = plan.split_whitespace().next().unwrap().parse().unwrap();

    let unsplit_wall = started.elapsed();
    let started = Instant::now();
    let submitted = cluster
        .command(repo().join("scripts/slurm/submit.sh").to_str().unwrap())
        .arg(&split)
        .arg("4")
        .current_dir(dir)
        .env("LEAFBENCH", env!("CARGO_BIN_EXE_leafbench"))
        .env("LEAFBENCH_CACHE", dir.join("store"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    let text = common::stdout(&submitted);
    assert!(
        submitted.status.success(),
        "{text}{}",
        common::stderr(&submitted)
    );
    let job = |label: &str| -> String {
        let line = text.lines().find(|l| l.starts_with(label)).unwrap();
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    let (shards, evaluate) = (job("shards:"), job("evaluate:"));
    let deadline = Instant::now() + Duration::from_secs(3600);
    while !(cluster.finished(&shards) && cluster.finished(&evaluate)) {
        assert!(
            Instant::now() < deadline,
            "the jobs did not finish within an hour"
        );
        std::thread::sleep(Duration::from_secs(2));
    }
    // Printed for the record (`cargo test --test slurm_cluster -- --nocapture`).
    eprintln!(
        "quickstart wall time: unsplit {:.1} s; 4-task Slurm array plus evaluate job {:.1} s",
        unsplit_wall.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );

    // The array's logs: each task says which shard it was and what it encoded.
    let mut encoded = 0;
    for task in 0..4 {
        let log = std::fs::read_to_string(dir.join(format!("leafbench-shard-{shards}_{task}.log")))
            .unwrap_or_else(|e| panic!("array task {task} left no log: {e}"));
        let last = log.lines().last().unwrap_or_default();
        assert!(
            last.starts_with(&format!("shard {task}/4:")),
            "task {task}: {log}"
        );
        let (_, after) = last.split_once("encoded ").unwrap();
        encoded += after
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<usize>()
            .unwrap();
    }
    assert_eq!(
        encoded, planned,
        "every chunk encoded exactly once across the array"
    );

    let log = std::fs::read_to_string(dir.join(format!("leafbench-evaluate-{evaluate}.log")))
        .expect("the evaluate job ran after the array");
    let last = log.lines().last().unwrap_or_default();
    assert!(
        last.contains("re-encoded nothing"),
        "the evaluate job encodes nothing: {log}"
    );
    assert_eq!(common::result_scores(&dir.join("split")), expected);
    drop(cluster);
}
