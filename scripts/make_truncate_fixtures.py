#!/usr/bin/env python3
"""The peer's STSBenchmark scores for all-MiniLM-L6-v2 at MRL truncation dims.

Usage (peer venv, see ../shared/peer/README.md; run from the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_truncate_fixtures.py [--model DIR] [--dims 384 256 128 64]

Runs ../shared/peer/run_mteb_local.py (the installed mteb evaluating the local data with a
sentence-transformers model loaded with truncate_dim) once per dim and writes
tests/fixtures/compress/peer_truncate_sts.json: per dim, every score mteb reported for the test
split, with the library versions that produced them.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(ROOT, "..", "shared")
OUT = os.path.join(ROOT, "tests", "fixtures", "compress", "peer_truncate_sts.json")


def run(model: str, dim: int) -> dict:
    cmd = [sys.executable, os.path.join(SHARED, "peer", "run_mteb_local.py"), "--task", "STSBenchmark",
           "--model", model, "--data-root", os.path.join(SHARED, "data"), "--quiet", "--threads", "2"]
    if dim:
        cmd += ["--truncate-dim", str(dim)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads([l for l in out.splitlines() if l.startswith("{")][-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=os.path.join(ROOT, ".cache", "models", "all-MiniLM-L6-v2"))
    p.add_argument("--dims", type=int, nargs="+", default=[384, 256, 128, 64])
    args = p.parse_args()
    dims = {}
    versions = None
    for dim in args.dims:
        r = run(args.model, dim)
        versions = r["versions"]
        dims[str(dim)] = {"main_score": r["main_score"], "scores": r["per_split_subset"]}
        print(f"dim {dim}: {r['main_score']:.6f}", file=sys.stderr)
    fixture = {
        "provenance": {
            "script": "scripts/make_truncate_fixtures.py",
            "harness": "../shared/peer/run_mteb_local.py --task STSBenchmark --truncate-dim <dim>",
            "model": "sentence-transformers/all-MiniLM-L6-v2 (scripts/fetch-model.sh)",
            "versions": versions,
        },
        "task": "STSBenchmark",
        "dims": dims,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
