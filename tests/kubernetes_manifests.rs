//! The Kubernetes recipe: its manifests validate against the Kubernetes API schemas
//! (`scripts/validate-kubernetes.sh`, kubernetes-validate from PyPI), and the Indexed Job runs
//! exactly the shard command that `tests/split_run.rs` runs as N processes with
//! JOB_COMPLETION_INDEX set: `leafbench run CONFIG` with LEAFBENCH_SHARDS equal to the Job's
//! completions and the store on the shared volume.

use std::path::PathBuf;
use std::process::Command;

fn manifest(name: &str) -> serde_json::Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/kubernetes")
        .join(name);
    serde_saphyr::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn env_of(container: &serde_json::Value, name: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .map(|e| e["value"].as_str().unwrap().to_string())
}

#[test]
fn the_manifests_validate_against_the_kubernetes_schemas() {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-kubernetes.sh");
    let out = Command::new(script).output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert_eq!(text.matches(" passed for resource ").count(), 3, "{text}");
}

#[test]
fn the_indexed_job_runs_one_shard_per_index_into_the_shared_store() {
    let job = manifest("shards-job.yaml");
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    let container = &spec["template"]["spec"]["containers"][0];
    let command: Vec<&str> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(&command[..2], ["leafbench", "run"]);
    assert!(
        !command.iter().any(|c| c.starts_with("--shard")),
        "the index comes from the Job"
    );
    let shards = env_of(container, "LEAFBENCH_SHARDS").expect("the count is given");
    assert_eq!(
        shards,
        spec["completions"].to_string(),
        "one shard per completion index"
    );
    let store = env_of(container, "LEAFBENCH_CACHE").unwrap();
    let evaluate = manifest("evaluate-job.yaml");
    let eval_container = &evaluate["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        env_of(eval_container, "LEAFBENCH_CACHE"),
        Some(store.clone())
    );
    let mount = container["volumeMounts"][0]["mountPath"].as_str().unwrap();
    assert!(
        store.starts_with(mount),
        "the store {store} is on the shared volume {mount}"
    );
}
