"""Write tests/fixtures/test_cuts/data_stats.json: mteb's own descriptive statistics of the synthetic
copies in tests/fixtures/test_cuts/data (ToxicConversationsClassification, StackExchangeClustering.v2),
computed by mteb 2.26.24 after the task's dataset_transform (its stratified test cut), and written in
the figure names of tasks/data_stats.json (scripts/make_data_stats.py). leafbench's data check must
accept those copies with these figures, and refuse them when the task cuts them another way.

Run with the peer venv (offline):
    ~/.cache/peer-venv/bin/python scripts/make_cut_stats_fixture.py
"""

import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import datasets
import mteb

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "test_cuts"
PEER = ROOT.parent / "shared" / "peer" / "run_mteb_local.py"
TASKS = ["ToxicConversationsClassification", "StackExchangeClustering.v2"]


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def transformed_task(peer, name):
    """mteb's task object holding the local copy, after its own dataset_transform."""
    task = mteb.get_task(name)
    [(_, folder, src)] = peer.find_subset_dirs(str(FIXTURE / "data"), name, None)
    splits = list(task.metadata.eval_splits)
    if task.metadata.type == "Classification":
        task.dataset = peer.build_classification(task, folder, splits, None, src, [])
    else:
        task.dataset = peer.build_clustering(task, folder, splits, None, src, [], pack_sets=True)
    task.data_loaded = True
    task.dataset_transform()
    return task


def statistics(task):
    splits = list(task.metadata.eval_splits)
    if task.metadata.type == "Classification" and task.train_split not in splits:
        splits.append(task.train_split)
    return {s: task._calculate_descriptive_statistics_from_split(s) for s in splits}


def main():
    datasets.disable_progress_bars()
    peer = load_module("run_mteb_local", PEER)
    stats_script = load_module("make_data_stats", ROOT / "scripts" / "make_data_stats.py")
    tasks = {}
    for name in TASKS:
        task = transformed_task(peer, name)
        stats = json.loads(json.dumps(statistics(task)))
        kind = task.metadata.type
        tasks[name] = {
            "source": f"mteb {mteb.__version__} calculate statistics of the synthetic copy in "
                      "tests/fixtures/test_cuts/data, after the task's dataset_transform",
            "source_sha256": hashlib.sha256(json.dumps(stats, sort_keys=True).encode()).hexdigest(),
            "subsets": {"default": {s: stats_script.figures(kind, b) for s, b in stats.items()}},
        }
    out = {"provenance": f"mteb {mteb.__version__} (datasets {datasets.__version__}), made by "
                         "scripts/make_cut_stats_fixture.py", "tasks": tasks}
    (FIXTURE / "data_stats.json").write_text(json.dumps(out, indent=1) + "\n")
    for name, entry in tasks.items():
        test = entry["subsets"]["default"]["test"]
        print(name, test["rows"], test["text.chars"], test["labels"], file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
