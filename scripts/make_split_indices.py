#!/usr/bin/env python3
"""Write the rows MTEB keeps when it subsamples ArXivHierarchicalClusteringP2P / S2S (tasks/indices/*.json).

Usage (peer venv, which has datasets 5.2.0 and mteb 2.26.24; paths relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_split_indices.py [--check]

What MTEB does (mteb/tasks/clustering/eng/arxiv_hierarchical_clustering.py, dataset_transform):
flatten the hub test split (one row per clustering set, list columns "sentences"/"labels") with
itertools.chain into one row per item, split each label on "." and then

    self.dataset["test"] = self.dataset["test"].train_test_split(test_size=2048, seed=self.seed)["test"]

with seed 42 (AbsTask default). It is not stratified, so the rows kept depend on n (the number of
flattened items) only. datasets 5.2.0, Dataset.train_test_split (arrow_dataset.py), with shuffle=True,
no stratify column, no cache files (the flattened dataset is built in memory by Dataset.from_dict):

    generator    = np.random.default_rng(seed)          # PCG64 seeded with 42
    permutation  = generator.permutation(len(self))
    test_indices = permutation[:n_test]                  # n_test = 2048, in this (permutation) order
    train_indices= permutation[n_test:]
    return {"train": self.select(train_indices), "test": self.select(test_indices)}

So the kept rows are np.random.default_rng(42).permutation(n)[:2048], in that order (the order
matters: it is the row order of the evaluated split). This script computes them with the real call
(datasets.Dataset.from_dict({"i": range(n)}).train_test_split(test_size=2048, seed=42)["test"]["i"]) and
checks that numpy's formula above gives the same list.

n: the flattened test split has 732,723 items for both tasks, from mteb's own descriptive statistics
(mteb/descriptive_stats/Clustering/ArxivClusteringP2P.json and ArxivClusteringS2S.json,
test.num_samples = 732723, computed on the flattened items; older mteb task metadata also declared
n_samples={"test": 732723} for ArxivClusteringP2P). Those legacy tasks read the same hub repositories
(mteb/arxiv-clustering-p2p, mteb/arxiv-clustering-s2s) at revisions a122ad7f.../f910caf1..., while the
hierarchical tasks pin 0bbdb47b.../b73bd541... -- the revisions the legacy tasks pinned in 2023 (they
appear in published model cards' MTEB results). mteb ships no count for the flattened split at the
hierarchical revisions; the only stats it ships for them are of the 2048 kept rows. Consistency
evidence: the label-part frequencies of the kept rows match the 732,723-item label distribution within
sampling noise, and the kept rows of P2P and S2S have identical label statistics (same n, same order).
Each output file carries those statistics of the kept rows ("expected_selection_stats", copied from
mteb/descriptive_stats/Clustering/ArXivHierarchicalClustering{P2P,S2S}.json), so a harness that has
the hub data can verify the selection exactly (129 label counts, total/min/max text length).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import sys

import numpy as np
import datasets
from datasets import Dataset

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(REPO, "tasks", "indices")
TEST_SIZE = 2048
SEED = 42

TASKS = {
    "ArXivHierarchicalClusteringP2P": {
        "dataset": {"path": "mteb/arxiv-clustering-p2p", "revision": "0bbdb47bcbe3a90093699aefeed338a0f28a7ee8"},
        "n": 732723,
        "n_source": "mteb 2.26.24 mteb/descriptive_stats/Clustering/ArxivClusteringP2P.json test.num_samples "
                    "(legacy ArxivClusteringP2P: same repository, revision a122ad7f3f0291bf49cc6f4d32aa80929df69d5d, "
                    "statistics of the flattened items)",
        "stats_file": "ArXivHierarchicalClusteringP2P.json",
    },
    "ArXivHierarchicalClusteringS2S": {
        "dataset": {"path": "mteb/arxiv-clustering-s2s", "revision": "b73bd54100e5abfa6e3a23dcafb46fe4d2438dc3"},
        "n": 732723,
        "n_source": "mteb 2.26.24 mteb/descriptive_stats/Clustering/ArxivClusteringS2S.json test.num_samples "
                    "(legacy ArxivClusteringS2S: same repository, revision f910caf1a6075f7329cdf8c1a6135696f37dbd53, "
                    "statistics of the flattened items)",
        "stats_file": "ArXivHierarchicalClusteringS2S.json",
    },
}


def mteb_stats(name: str) -> dict | None:
    try:
        import mteb  # noqa: F401
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(sys.modules["mteb"].__file__), "descriptive_stats", "Clustering", name)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)["test"]


def split_indices(n: int) -> list[int]:
    ds = Dataset.from_dict({"i": list(range(n))})
    return list(ds.train_test_split(test_size=TEST_SIZE, seed=SEED)["test"]["i"])


def build(name: str, spec: dict) -> str:
    n = spec["n"]
    idx = split_indices(n)
    np_idx = np.random.default_rng(SEED).permutation(n)[:TEST_SIZE].tolist()
    if idx != np_idx:
        sys.exit(f"{name}: datasets' train_test_split differs from default_rng({SEED}).permutation(n)[:{TEST_SIZE}]")
    if len(set(idx)) != TEST_SIZE or min(idx) < 0 or max(idx) >= n:
        sys.exit(f"{name}: bad index list")
    stats = mteb_stats(spec["stats_file"])
    try:
        import mteb
        mteb_version = mteb.__version__
    except ImportError:
        mteb_version = None
    payload = {
        "task": name,
        "dataset": spec["dataset"],
        "split": "test",
        "what": "positions, in the flattened test split (hub rows = clustering sets, concatenated in row order with "
                "itertools.chain), of the rows MTEB keeps, in the order it keeps them (the evaluated split's row order)",
        "n": n,
        "n_source": spec["n_source"],
        "test_size": TEST_SIZE,
        "seed": SEED,
        "stratified": False,
        "call": f'datasets.Dataset.from_dict({{"i": list(range({n}))}}).train_test_split(test_size={TEST_SIZE}, '
                f'seed={SEED})["test"]["i"]',
        "equivalent": f"numpy.random.default_rng({SEED}).permutation({n})[:{TEST_SIZE}] (checked equal)",
        "mteb_code": "mteb/tasks/clustering/eng/arxiv_hierarchical_clustering.py dataset_transform "
                     "(train_test_split(test_size=N_SAMPLES=2048, seed=self.seed=42)['test'])",
        "expected_selection_stats": None if stats is None else {
            "source": f"mteb {mteb_version} mteb/descriptive_stats/Clustering/{spec['stats_file']} (test)",
            "num_samples": stats.get("num_samples"),
            "text_statistics": stats.get("text_statistics"),
            "labels_statistics": stats.get("labels_statistics") or stats.get("label_statistics"),
            "note": "labels are the '.'-split label parts (e.g. 'cs.CV' -> 'cs', 'CV'); counts are over all parts",
        },
        "generator": "scripts/make_split_indices.py",
        "versions": {"datasets": datasets.__version__, "numpy": np.__version__, "mteb": mteb_version,
                     "python": platform.python_version()},
        "indices_sha256": hashlib.sha256(json.dumps(idx, separators=(",", ":")).encode()).hexdigest(),
        "indices": idx,
    }
    head = json.dumps({k: v for k, v in payload.items() if k != "indices"}, indent=2, ensure_ascii=False)
    return head[:-2] + ',\n  "indices": ' + json.dumps(idx, separators=(",", ":")) + "\n}\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", default=OUT_DIR)
    ap.add_argument("--check", action="store_true", help="compare the index lists on disk with a fresh computation")
    args = ap.parse_args()
    bad = 0
    for name, spec in TASKS.items():
        text = build(name, spec)
        path = os.path.join(args.out_dir, f"{name}.json")
        if args.check:
            ok = os.path.exists(path) and json.load(open(path))["indices"] == json.loads(text)["indices"]
            print(f"{'ok  ' if ok else 'DIFF'} {os.path.relpath(path, REPO)}")
            bad += 0 if ok else 1
            continue
        os.makedirs(args.out_dir, exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path)} bytes)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
