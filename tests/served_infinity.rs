//! A model behind a real embedding server: infinity-emb 0.0.78 (PyPI), installed into the
//! project's cache and started on 127.0.0.1 by scripts/embedding-server.sh, serving the real
//! all-MiniLM-L6-v2 folder. The served model's STSBenchmark and SciFact scores must equal
//! leafbench's own candle scores of the folder within 0.01 point, as `leafbench compare`
//! checks them.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const TASKS: &str = "[STSBenchmark, SciFact]";

/// The server, stopped when the test ends however it ends.
struct Server {
    url: String,
    pid_file: PathBuf,
}

impl Server {
    fn start(work: &Path) -> Self {
        let pid_file = work.join("server.pid");
        let out = Command::new("bash")
            .arg(script())
            .args(["start", "--model"])
            .arg(common::minilm_dir())
            .arg("--pid-file")
            .arg(&pid_file)
            .arg("--log")
            .arg(work.join("server.log"))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "embedding server did not start:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = stdout
            .lines()
            .find_map(|l| l.strip_prefix("url="))
            .expect("the script prints url=")
            .to_string();
        Self { url, pid_file }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg("--pid-file")
            .arg(&self.pid_file)
            .output();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/embedding-server.sh")
}

fn run(work: &Path, name: &str, model: &str) -> PathBuf {
    let out = work.join(name);
    let config = format!(
        "models:\n  - name: {model_name}\n{model}tasks: {TASKS}\ndata_dir: {}\noutput_dir: {}\n",
        common::shared_data().display(),
        out.display(),
        model_name = name.replace('-', "/"),
    );
    let path = work.join(format!("{name}.yaml"));
    std::fs::write(&path, config).unwrap();
    let run = common::leafbench(&["run", path.to_str().unwrap(), "--quiet"]);
    assert!(run.status.success(), "{name}: {}", common::stderr(&run));
    out.join(name.replace('-', "__"))
}

#[test]
fn a_served_model_scores_as_the_same_model_run_here() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(work.path());
    let served = run(
        work.path(),
        "port-minilm",
        &format!(
            "    endpoint: {{url: {}/embeddings, model: all-MiniLM-L6-v2, batch_size: 64, concurrency: 4}}\n",
            server.url
        ),
    );
    let here = run(
        work.path(),
        "here-minilm",
        &format!("    path: {}\n", common::minilm_dir().display()),
    );
    let compare = common::leafbench(&[
        "compare",
        here.to_str().unwrap(),
        served.to_str().unwrap(),
        "--tolerance",
        "0.01",
        "--all-metrics",
    ]);
    let report = format!("{}{}", common::stdout(&compare), common::stderr(&compare));
    assert_eq!(compare.status.code(), Some(0), "{report}");
    assert!(report.contains("PASS"), "{report}");
    let scores = common::result_scores(&served);
    for task in ["STSBenchmark", "SciFact"] {
        assert!(
            scores[task]["test"][0]["main_score"].is_number(),
            "{task}: {}",
            scores[task]
        );
    }
}
