//! Every task file against mteb 2.26.24's task of the same name (scripts/audit_tasks.py): dataset,
//! type, splits, subsets and their languages, main score, evaluator parameters and test cuts, as
//! leafbench reads them (`leafbench tasks --json`). A difference fails the test unless
//! tasks/audit/known_differences.yaml lists it with its reason; a listed difference that no
//! longer occurs fails it too. Needs the peer environment (../shared/peer/setup.sh); without it
//! the test says so and passes.

mod common;

use std::path::Path;

#[test]
fn task_definitions_match_mteb_or_are_known_differences() {
    let Some(python) = common::peer_python() else {
        eprintln!("skipped: the task audit needs the peer venv (mteb 2.26.24); run ../shared/peer/setup.sh");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let out = common::leafbench(&["tasks", "--json"]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let tasks = work.path().join("tasks.json");
    std::fs::write(&tasks, &out.stdout).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let audit = |tasks: &Path| {
        std::process::Command::new(&python)
            .arg(root.join("scripts/audit_tasks.py"))
            .arg("--leafbench-json")
            .arg(tasks)
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .unwrap()
    };
    let out = audit(&tasks);
    let report = common::stdout(&out);
    assert!(
        out.status.success(),
        "the audit found unexplained or stale differences:\n{report}\n{}",
        common::stderr(&out)
    );
    let files = std::fs::read_dir(root.join("tasks"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "yaml")
        })
        .count();
    assert!(
        report.contains(&format!("{files} tasks audited")),
        "every task file must be audited:\n{report}"
    );

    // A planted difference fails the audit and is named.
    let mut planted: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&tasks).unwrap()).unwrap();
    let toxic = planted
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|t| t["name"] == "ToxicConversationsClassification")
        .unwrap();
    toxic["params"]["test_subsample"]["seed"] = 43.into();
    let bad = work.path().join("planted.json");
    std::fs::write(&bad, planted.to_string()).unwrap();
    let out = audit(&bad);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::stdout(&out)
            .contains("DIFF ToxicConversationsClassification params.test_subsample"),
        "{}",
        common::stdout(&out)
    );
}
