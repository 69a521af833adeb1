#!/usr/bin/env python3
"""The peer side of `scripts/bench.sh search`: MTEB's own exact search
(mteb.models.search_wrappers.chunked_full_corpus_search, mteb 2.26) over a synthetic corpus of
random embeddings, timed, with peak memory. The "encoder" returns pre-drawn random chunks, so
what is measured is MTEB's scoring (torch cosine + topk) and heap merging, as in
`leafbench bench-search`.

    ~/.cache/peer-venv/bin/python scripts/peer_bench_search.py --docs 300000 --queries 1000 --dim 384

Prints one JSON line: seconds, docs_per_s, peak_rss_mib (ru_maxrss), and the shape.
"""

import argparse
import json
import resource
import time

import numpy as np
import torch
from datasets import Dataset

import mteb
from mteb.models.search_wrappers import chunked_full_corpus_search


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--docs", type=int, default=300_000)
    p.add_argument("--queries", type=int, default=1_000)
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--chunk", type=int, default=50_000)
    p.add_argument("--top-k", type=int, default=1_000)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    queries = torch.from_numpy(rng.uniform(-1, 1, (a.queries, a.dim)).astype(np.float32))
    corpus = Dataset.from_dict(
        {"id": [f"doc{i}" for i in range(a.docs)], "text": [""] * a.docs, "title": [""] * a.docs}
    )
    metadata = mteb.get_task("SciFact").metadata
    chunk_index = [0]

    def encode(loader, **kwargs):
        # Each call stands for encoding one corpus chunk: fresh random vectors of its size.
        start = chunk_index[0] * a.chunk
        n = min(a.chunk, a.docs - start)
        chunk_index[0] += 1
        return rng.uniform(-1, 1, (n, a.dim)).astype(np.float32)

    def cosine(q, d):
        q = torch.nn.functional.normalize(torch.as_tensor(q), dim=-1)
        d = torch.nn.functional.normalize(torch.as_tensor(d), dim=-1)
        return q @ d.T

    t0 = time.perf_counter()
    heaps = chunked_full_corpus_search(
        task_corpus=corpus,
        corpus_chunk_size=a.chunk,
        query_idx_to_id={i: f"q{i}" for i in range(a.queries)},
        query_embeddings=queries,
        task_metadata=metadata,
        hf_subset="default",
        hf_split="test",
        top_k=a.top_k,
        encode_kwargs={"batch_size": 32},
        encode_fn=encode,
        similarity_fn=cosine,
        search_k_offset=1,
    )
    seconds = time.perf_counter() - t0
    assert all(len(h) == min(a.top_k, a.docs) for h in heaps.values())
    print(json.dumps({
        "docs": a.docs, "queries": a.queries, "dim": a.dim, "chunk": a.chunk, "top_k": a.top_k,
        "seconds": seconds, "docs_per_s": a.docs / seconds,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_threads": torch.get_num_threads(), "mteb": mteb.__version__,
    }))


if __name__ == "__main__":
    main()
