#!/usr/bin/env python3
"""Vector drift of the GGUF port (scripts/llama-server.sh: llama.cpp's llama-server) against
sentence-transformers' all-MiniLM-L6-v2, on the first N (200) `sentence1` texts of
STSBenchmark's test split. Prints `key: value` lines.

    scripts/llama-server.sh start --type f16 --port 18431      # or --type q8_0
    ~/.cache/peer-venv/bin/python scripts/probe_gguf_drift.py --url http://127.0.0.1:18431/v1
    scripts/llama-server.sh stop

Sends the texts in requests of --batch to `<url>/embeddings`, L2-normalises what comes back
(the OpenAI route already normalises; normalising again changes nothing), and compares with
`SentenceTransformer(--model).encode(texts)` (normalised by the model's Normalize module):
max |Δ| over all components, min and mean cosine, and the texts whose cosine is lowest.
It also asks once with llama.cpp's `"embd_normalize": -1` to report the raw pooled norms
(to show whether the server normalises). Needs sentence_transformers + numpy: run it with
the peer venv's python (~/.cache/peer-venv/bin/python, made by ../shared/peer/setup.sh).
Offline: the model is a local folder.
"""
import argparse
import json
import os
import sys
import time
import urllib.request

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("LEAFBENCH_DATA_DIR", os.path.join(os.path.dirname(ROOT), "shared", "data"))


def post(url, body, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(),
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="server base URL, e.g. http://127.0.0.1:P/v1")
    ap.add_argument("--model", default=os.path.join(ROOT, ".cache", "models", "all-MiniLM-L6-v2"))
    ap.add_argument("--data", default=os.path.join(DATA, "STSBenchmark", "test.jsonl"))
    ap.add_argument("-n", type=int, default=200, help="first N lines (default 200)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--show", type=int, default=3, help="lowest-cosine texts to print")
    a = ap.parse_args()

    import numpy as np
    from sentence_transformers import SentenceTransformer

    with open(a.data) as f:
        texts = [json.loads(line)["sentence1"] for _, line in zip(range(a.n), f)]
    url = a.url.rstrip("/") + "/embeddings"

    t0 = time.perf_counter()
    got = []
    for i in range(0, len(texts), a.batch):
        d = post(url, {"input": texts[i:i + a.batch]})
        got.extend(x["embedding"] for x in sorted(d["data"], key=lambda x: x["index"]))
    wall = time.perf_counter() - t0
    got = np.asarray(got, dtype=np.float64)
    served_norms = np.linalg.norm(got, axis=1)
    got /= served_norms[:, None]

    raw = None
    try:
        d = post(url, {"input": texts[:a.batch], "embd_normalize": -1})
        raw = np.linalg.norm(np.asarray([x["embedding"] for x in d["data"]]), axis=1)
    except Exception as e:  # not llama.cpp, or the field is refused
        print(f"raw_norms: unavailable ({e})")

    st = SentenceTransformer(a.model, device="cpu")
    ref = np.asarray(st.encode(texts, batch_size=32, convert_to_numpy=True), dtype=np.float64)

    cos = (got * ref).sum(1) / np.linalg.norm(ref, axis=1)
    diff = np.abs(got - ref)
    print(f"server: {a.url}")
    print(f"model: {a.model}")
    print(f"texts: {len(texts)} (first {a.n} sentence1 of {a.data})")
    print(f"dim: {got.shape[1]} (reference {ref.shape[1]})")
    print(f"served_norms: min {served_norms.min():.6f} max {served_norms.max():.6f}")
    if raw is not None:
        print(f"raw_norms (embd_normalize=-1, first {len(raw)}): min {raw.min():.4f} max {raw.max():.4f}")
    print(f"max_abs_diff: {diff.max():.3e}")
    print(f"mean_abs_diff: {diff.mean():.3e}")
    print(f"min_cosine: {cos.min():.8f}")
    print(f"mean_cosine: {cos.mean():.8f}")
    print(f"server_texts_per_s: {len(texts) / wall:.1f} (batch {a.batch}, one request at a time)")
    for i in np.argsort(cos)[:a.show]:
        print(f"lowest: cos {cos[i]:.8f} maxdiff {diff[i].max():.3e} text {texts[i]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
