#!/usr/bin/env python3
"""Generate the fixtures of leafbench's replicas of NumPy's default_rng and of Hugging Face
datasets' train_test_split (tests/fixtures/rng/numpy_generator.json, train_test_split.json).

Usage (the peer venv has numpy and datasets):

    ~/.cache/peer-venv/bin/python scripts/make_split_fixtures.py

Every number comes from the real libraries: `np.random.default_rng(seed)` (raw PCG64 output,
permutation, choice(replace=False) on both of its code paths, integers) and
`datasets.Dataset.train_test_split(test_size=n, seed=s[, stratify_by_column="label"])` on synthetic
label columns (balanced, skewed, a single-member class, row counts not divisible by the class count,
ties in the per-class shares, several seeds and sizes). Labels are cast to a ClassLabel whose names
are the distinct labels sorted as strings, which is how MTEB encodes a label column before it
stratifies. A column is stored as its distinct names and each row's index into them. A case
datasets refuses carries "error" instead of positions.
"""

import json
import platform
from pathlib import Path

import datasets
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "rng"


def versions() -> dict:
    return {"python": platform.python_version(), "numpy": np.__version__, "datasets": datasets.__version__}


def generator_cases() -> list:
    cases = []
    for seed in (0, 1, 42, 2**32 + 5):
        rng = np.random.default_rng(seed)
        cases.append({"seed": seed, "method": "random_raw", "n": 8,
                      "call": f"default_rng({seed}).bit_generator.random_raw(8)",
                      "out": [int(v) for v in rng.bit_generator.random_raw(8)]})
    for seed, n in [(42, 1), (42, 10), (7, 1000), (42, 12000)]:
        out = np.random.default_rng(seed).permutation(n)
        cases.append({"seed": seed, "method": "permutation", "n": n,
                      "call": f"default_rng({seed}).permutation({n})", "out": [int(v) for v in out]})
    # choice(replace=False): Floyd's algorithm below the tail-shuffle threshold, tail shuffle above.
    for seed, n, size in [(7, 10, 3), (7, 100, 37), (3, 7, 7), (5, 5, 1), (42, 20000, 100),
                          (42, 20000, 1000), (9, 10001, 10001)]:
        out = np.random.default_rng(seed).choice(n, size=size, replace=False)
        cases.append({"seed": seed, "method": "choice", "n": n, "size": size,
                      "call": f"default_rng({seed}).choice({n}, size={size}, replace=False)",
                      "out": [int(v) for v in out]})
    for seed, high in [(11, 10), (11, 2**31 + 7), (12, 2**40)]:
        out = np.random.default_rng(seed).integers(0, high, size=5)
        cases.append({"seed": seed, "method": "integers", "high": high, "size": 5,
                      "call": f"default_rng({seed}).integers(0, {high}, size=5)",
                      "out": [int(v) for v in out]})
    rng = np.random.default_rng(13)
    out = [int(v) for v in rng.integers(0, 10, size=3)] + [int(v) for v in rng.permutation(5)]
    cases.append({"seed": 13, "method": "integers_then_permutation",
                  "call": "rng=default_rng(13); rng.integers(0, 10, size=3), rng.permutation(5)",
                  "out": out})
    return cases


def label_columns() -> list:
    """(name, labels) synthetic columns."""
    r = np.random.RandomState(0)
    skewed = ["0"] * 46_000 + ["1"] * 4_000
    r.shuffle(skewed)
    many = [f"forum{int(x)}" for x in r.zipf(1.6, 30_000) % 121]
    return [
        ("balanced 4x25", [c for _ in range(25) for c in "abcd"]),
        ("balanced 3x33 + 1 (n not divisible)", [c for _ in range(33) for c in "xyz"] + ["x"]),
        ("skewed 90/10", ["neg"] * 90 + ["pos"] * 10),
        ("ties: 7 classes of 3", [f"k{i}" for i in range(7) for _ in range(3)]),
        ("string order differs from numeric", [str(i % 12) for i in range(240)]),
        ("single-member class", ["a"] * 10 + ["b"] * 10 + ["c"]),
        ("toxic-like 46,000/4,000", skewed),
        ("stackexchange-like zipf over 121 labels", many),
    ]


def split_case(labels, n, test_size, seed) -> dict:
    case = {"test_size": test_size, "seed": seed}
    if labels is None:
        ds = datasets.Dataset.from_dict({"x": list(range(n))})
        case["n"] = n
        case["call"] = f"Dataset(n={n}).train_test_split(test_size={test_size}, seed={seed})"
        kwargs = {}
    else:
        names = sorted(set(labels))
        ds = datasets.Dataset.from_dict({"x": list(range(len(labels))), "label": labels})
        ds = ds.cast_column("label", datasets.ClassLabel(names=names))
        case["label_names"] = names
        case["label_ids"] = [names.index(x) for x in labels] if len(names) < 2 else \
            list(np.searchsorted(np.array(names), np.array(labels)).tolist())
        case["call"] = (f"Dataset(labels, ClassLabel(sorted names)).train_test_split("
                        f"test_size={test_size}, seed={seed}, stratify_by_column='label')")
        kwargs = {"stratify_by_column": "label"}
    try:
        parts = ds.train_test_split(test_size=test_size, seed=seed, **kwargs)
    except ValueError as e:
        case["error"] = str(e)
        return case
    train = [int(v) for v in parts["train"]["x"]]
    case["test"] = [int(v) for v in parts["test"]["x"]]
    case["train"] = {"len": len(train), "sum": sum(train), "first_100": train[:100]}
    return case


def split_cases() -> list:
    cases = []
    for name, labels in label_columns():
        n = len(labels)
        sizes = [2048] if n > 5000 else [n // 5, n // 3 + 1]
        for test_size in sizes:
            for seed in (42, 7):
                case = split_case(labels, n, test_size, seed)
                case["column"] = name
                cases.append(case)
    for n, test_size, seed in [(10, 3, 42), (1000, 999, 1), (5000, 2048, 42), (732_723, 2048, 42)]:
        cases.append(split_case(None, n, test_size, seed))
    return cases


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, cases in [("numpy_generator.json", generator_cases()),
                        ("train_test_split.json", split_cases())]:
        doc = {"provenance": {"script": "scripts/make_split_fixtures.py", **versions()}, "cases": cases}
        (OUT / name).write_text(json.dumps(doc, separators=(",", ":")) + "\n")
        print(name, len(cases), "cases")


if __name__ == "__main__":
    main()
