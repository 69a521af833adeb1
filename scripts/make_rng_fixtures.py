#!/usr/bin/env python3
"""Generate the random-stream fixtures of leafbench (tests/fixtures/rng/*.json).

Usage (from anywhere; paths are relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_rng_fixtures.py

The Rust replicas in src/rng/ must reproduce MTEB's sampled indices bit for bit, so every number here
comes from the real generators: numpy's legacy `np.random.RandomState` and CPython's `random.Random`.
The only data read is the train labels of two classification tasks under ../shared/data. Each file
records the Python and numpy versions and, per case, the exact call that produced it.

What it writes:

  numpy_mt19937.json      RandomState(42): state after seeding, raw u32 stream, bounded draws that
                          exercise random_interval's 32- and 64-bit paths, shuffles of arange(n)
  mteb_undersample.json   MTEB classification train undersampling (fresh RandomState(42) per
                          experiment, cumulative shuffle) for Banking77 (8/label) and
                          TweetSentimentExtraction (32/label), 10 experiments each, with the
                          train labels they were computed from
  python_random.json      random.Random(42): state after seeding, random(), getrandbits(k),
                          _randbelow(n), sample(range(n), k) on both code paths, choices(range(n), k),
                          and two clustering chains (Biorxiv-sized, and SIB200ClusteringS2S: 1,004
                          of 1,004 drawn, then 10 bootstraps of 16,384)
"""

import json
import math
import os
import platform
import random
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "..", "shared", "data")
OUT = os.path.join(REPO, "tests", "fixtures", "rng")

SEED = 42


def provenance(extra=None):
    info = {
        "generator": "scripts/make_rng_fixtures.py",
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    info.update(extra or {})
    return info


def write(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(payload, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path)} bytes)")


# --- numpy legacy RandomState ---------------------------------------------------------------------


def raw_u32_stream(count):
    """Raw MT19937 outputs, read two independent ways that must agree."""
    via_randint = np.random.RandomState(SEED).randint(0, 2**32, size=count, dtype=np.uint32)
    # The bit generator behind RandomState, seeded the legacy way, exposes the untransformed words.
    bitgen = np.random.MT19937()
    bitgen._legacy_seeding(SEED)
    via_raw = bitgen.random_raw(count)
    assert [int(v) for v in via_randint] == [int(v) for v in via_raw], "randint(uint32) is not raw"
    return [int(v) for v in via_randint]


def bounded_case(high, count, dtype):
    """randint(0, high) draws; legacy randint uses the same masked rejection as random_interval."""
    rs = np.random.RandomState(SEED)
    values = rs.randint(0, high, size=count, dtype=dtype)
    return {
        "call": f"RandomState({SEED}).randint(0, {high}, size={count}, dtype=np.{np.dtype(dtype).name})",
        "max": high - 1,
        "values": [int(v) for v in values],
        "next_u32_after": next_u32(rs),
    }


def next_u32(rs):
    return int(rs.randint(0, 2**32, dtype=np.uint32))


def shuffle_case(n):
    rs = np.random.RandomState(SEED)
    x = np.arange(n)
    rs.shuffle(x)
    return {
        "call": f"x = np.arange({n}); RandomState({SEED}).shuffle(x)",
        "n": n,
        "shuffled": [int(v) for v in x],
        "next_u32_after": next_u32(rs),
    }


def numpy_fixture():
    key = np.random.RandomState(SEED).get_state()[1]
    return {
        "provenance": provenance(),
        "seed": SEED,
        "state_after_seeding": {
            "call": f"RandomState({SEED}).get_state()[1] (position 624)",
            "key": [int(v) for v in key],
        },
        "raw_u32": {
            "call": f"RandomState({SEED}).randint(0, 2**32, size=20, dtype=np.uint32)"
            f" == MT19937()._legacy_seeding({SEED}); .random_raw(20)",
            "values": raw_u32_stream(20),
        },
        "bounded": [
            bounded_case(11, 50, np.uint32),
            bounded_case(2**31 + 1, 20, np.uint32),
            bounded_case(2**32, 20, np.uint64),  # max 2**32 - 1: still one draw per value
            bounded_case(2**32 + 1, 20, np.uint64),  # max 2**32: the two-draw path
            bounded_case(2**40, 10, np.uint64),
            bounded_case(3 * 2**40 + 7, 20, np.uint64),
        ],
        "shuffles": [shuffle_case(n) for n in (1, 2, 5, 100, 10003)],
    }


# --- MTEB classification undersampling ------------------------------------------------------------


def read_labels(task):
    path = os.path.join(DATA, task, "train.jsonl")
    with open(path) as f:
        return [json.loads(line)["label"] for line in f]


def undersample_like_mteb(labels, samples_per_label, n_experiments):
    """mteb's AbsTaskClassification._undersample_data, applied n_experiments times in a row."""
    idxs = list(range(len(labels)))
    experiments = []
    for _ in range(n_experiments):
        np.random.RandomState(SEED).shuffle(idxs)
        counts = {}
        kept = []
        for i in idxs:
            if counts.get(labels[i], 0) < samples_per_label:
                kept.append(i)
                counts[labels[i]] = counts.get(labels[i], 0) + 1
        experiments.append(kept)
    return experiments


def undersample_with_mteb(labels, samples_per_label, n_experiments):
    """The same, through the installed mteb's own method; None when mteb is not installed."""
    try:
        import datasets
        import mteb
        from mteb.abstasks.classification import AbsTaskClassification
    except ImportError:
        return None, None

    class Task:
        seed = SEED
        label_column_name = "label"

    Task.samples_per_label = samples_per_label
    dataset = datasets.Dataset.from_dict({"label": labels})
    idxs, experiments = None, []
    for k in range(n_experiments):
        _, idxs, kept = AbsTaskClassification._undersample_data(Task(), dataset, k, idxs)
        experiments.append([int(i) for i in kept])
    return experiments, mteb.__version__


def undersample_case(task, samples_per_label, n_experiments=10):
    labels = read_labels(task)
    experiments = undersample_like_mteb(labels, samples_per_label, n_experiments)
    from_mteb, mteb_version = undersample_with_mteb(labels, samples_per_label, n_experiments)
    if from_mteb is not None:
        assert from_mteb == experiments, f"{task}: replica differs from mteb"
    return {
        "task": task,
        "labels_from": f"../shared/data/{task}/train.jsonl (field 'label', file order)",
        "n_train": len(labels),
        "samples_per_label": samples_per_label,
        "n_experiments": n_experiments,
        "call": "idxs = list(range(n)); per experiment: np.random.RandomState(42).shuffle(idxs), then"
        " keep i (walk order) while its label has < samples_per_label kept",
        "checked_against_mteb": mteb_version,
        # Stored so the Rust test needs only this file, not the data checkout.
        "labels": labels,
        "experiments": experiments,
    }


def undersample_fixture():
    return {
        "provenance": provenance(),
        "cases": [
            undersample_case("Banking77Classification", 8),
            undersample_case("TweetSentimentExtractionClassification", 32),
        ],
    }


# --- CPython random.Random ------------------------------------------------------------------------


def sample_path(n, k):
    """Which branch CPython 3.11's Random.sample takes (pool list vs. rejection set)."""
    setsize = 21
    if k > 5:
        setsize += 4 ** math.ceil(math.log(k * 3, 4))
    return "pool" if n <= setsize else "set"


def sample_case(n, k):
    rng = random.Random(SEED)
    values = rng.sample(range(n), k)
    return {
        "call": f"random.Random({SEED}).sample(range({n}), {k})",
        "n": n,
        "k": k,
        "path": sample_path(n, k),
        "values": values,
        "getrandbits32_after": rng.getrandbits(32),
    }


def choices_summary(values, call):
    return {
        "call": call,
        "k": len(values),
        "first_100": values[:100],
        "last_100": values[-100:],
        "sum": sum(values),
    }


def choices_case(n, k):
    rng = random.Random(SEED)
    values = rng.choices(range(n), k=k)
    summary = choices_summary(values, f"random.Random({SEED}).choices(range({n}), k={k})")
    summary["n"] = n
    summary["getrandbits32_after"] = rng.getrandbits(32)
    return summary


def clustering_chain(n_docs, m=None, n_boot=10, k=16384):
    """MTEB fast clustering: one Random(42) draws the document subsample (4% by default, or m
    documents as for SIB200ClusteringS2S's max_document_to_embed), then every bootstrap."""
    rng = random.Random(SEED)
    m = int(0.04 * n_docs) if m is None else m
    docs = rng.sample(range(n_docs), m)
    boots = [
        choices_summary(rng.choices(range(m), k=k), f"bootstrap {b}: rng.choices(range({m}), k={k})")
        for b in range(n_boot)
    ]
    return {
        "call": f"rng = random.Random({SEED}); rng.sample(range({n_docs}), {m}); then {n_boot} x"
        f" rng.choices(range({m}), k={k}) on the same rng",
        "n_docs": n_docs,
        "m": m,
        "sample_first_100": docs[:100],
        "sample_sum": sum(docs),
        "bootstraps": boots,
    }


GETRANDBITS_KS = [1, 2, 5, 8, 16, 31, 32, 33, 48, 53, 63, 64, 65, 100, 128]
RANDBELOW_NS = [1, 2, 3, 10, 100, 2151, 53787, 2**31, 2**32 - 1, 2**32, 2**32 + 1, 2**40 + 3, 2**64 - 1]
SAMPLE_CASES = [
    # set-rejection path
    (100, 3), (100, 10), (2020, 81), (53787, 2151), (1004, 40), (86, 10), (22, 5), (86, 6),
    # pool path (n <= setsize); (85, 6) is the first k whose setsize includes the table term
    (20, 3), (21, 5), (85, 6), (85, 10), (100, 30), (1000, 100), (10, 10), (5, 0),
]


def python_fixture():
    rng = random.Random(SEED)
    state = rng.getstate()[1]
    rng = random.Random(SEED)
    randoms = [rng.random() for _ in range(10)]
    rng = random.Random(SEED)
    bits = [{"k": k, "hex": format(rng.getrandbits(k), "x")} for k in GETRANDBITS_KS]
    rng = random.Random(SEED)
    below = [{"n": str(n), "value": str(rng._randbelow(n))} for n in RANDBELOW_NS]
    return {
        "provenance": provenance({"implementation": platform.python_implementation(),
                                  "sys_version": sys.version}),
        "seed": SEED,
        "state_after_seeding": {
            "call": f"random.Random({SEED}).getstate()[1] (last element is the position)",
            "key": list(state[:624]),
            "pos": state[624],
        },
        "random": {
            "call": f"rng = random.Random({SEED}); [rng.random() for _ in range(10)]",
            "repr": [repr(v) for v in randoms],
        },
        "getrandbits": {
            "call": f"rng = random.Random({SEED}); rng.getrandbits(k) for k in order",
            "draws": bits,
        },
        "randbelow": {
            "call": f"rng = random.Random({SEED}); rng._randbelow(n) for n in order (decimal strings)",
            "draws": below,
        },
        "sample": [sample_case(n, k) for n, k in SAMPLE_CASES],
        "choices": choices_case(2151, 16384),
        "clustering_chain": clustering_chain(53787),
        "clustering_chain_sib200": clustering_chain(1004, m=1004),
    }


def main():
    assert sys.version_info[:2] == (3, 11), "sample()'s setsize formula is checked for CPython 3.11"
    os.makedirs(OUT, exist_ok=True)
    write("numpy_mt19937.json", numpy_fixture())
    write("mteb_undersample.json", undersample_fixture())
    write("python_random.json", python_fixture())


if __name__ == "__main__":
    main()
