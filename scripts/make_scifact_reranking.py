#!/usr/bin/env python3
"""Build a small local *reranking* task from the offline SciFact retrieval set.

No MTEB reranking dataset is available offline, so this builds one in the local-mirror reranking
layout (../shared/data/README.md), one JSON line per query:

    {"query": str, "positive": [str, ...], "negative": [str, ...]}

Usage (standard library only; plain python3 or the peer venv; paths relative to the repo root):

    python3 scripts/make_scifact_reranking.py            # (re)write the fixture
    python3 scripts/make_scifact_reranking.py --check    # exit 1 if the files on disk differ

Inputs:  <data-dir>/SciFact/{corpus.jsonl, queries.jsonl, qrels/test.tsv}
         (data-dir: --data-dir, else $LEAFBENCH_DATA_DIR, else ../shared/data)
Outputs: tests/fixtures/reranking/SciFactReranking/test.jsonl   (not committed: 10 MB; tests rebuild it)
         tests/fixtures/reranking/SciFactReranking/source.json   (provenance, ids behind every text)

How each row is built (deterministic; byte-identical on every run):

  * Queries: every query of queries.jsonl that has at least one qrels row in qrels/test.tsv
    (all 300), in queries.jsonl order -- the order MTEB's retrieval loader keeps. query = the claim
    text as is.
  * Positives: the query's judged documents (qrels score >= 1; SciFact only has score 1), in
    qrels file order.
  * Document text: MTEB v2's retrieval rule (mteb/_create_dataloaders.py::_corpus_to_dict):
    (title + " " + text).strip() when the title is non-empty, else text.strip(). The texts are stored
    already in that form, so mteb v2's reranking path (title "" -> text.strip()) and mteb 1.38's
    RerankingEvaluator (raw string) both read exactly these strings. (MTEB v1.38 retrieval would not
    strip; that changes 3 SciFact documents by surrounding whitespace only, which BERT tokenizers
    ignore.) MTEB's own reranking datasets store each candidate as one plain string, as here.
  * Negatives: NEGATIVES_PER_QUERY = 20 corpus documents chosen pseudo-randomly per query with a
    seeded, keyed hash instead of a stateful RNG, so that the choice for one query does not depend on
    any other query, on Python's random module, or on the order of iteration:
        key(doc) = sha256(f"SciFactReranking|{SEED}|{query_id}|{doc_id}").hexdigest()
    Every corpus document that is not a judged document of that query (and whose text is not equal
    to a positive's text -- no such case in SciFact, kept as a guard against label-conflicting ties)
    is ranked by key ascending and the first 20 are the negatives, in that order. They are uniform
    random negatives (not hard negatives), so the task is easy; it exists to exercise the reranking
    code path against the peer, not to rank models. A document judged for *another* query may be a
    negative here.
  * Rows are never dropped (every row has >= 1 positive and 20 negatives), so mteb's reranking
    conversion (drop rows with no positive or no negative) keeps all 300, and its query ids
    "test_query{i}" follow the file's line order.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections import OrderedDict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TASK = "SciFactReranking"
SPLIT = "test"
SEED = 42
NEGATIVES_PER_QUERY = 20
OUT_DIR = os.path.join(REPO, "tests", "fixtures", "reranking", TASK)


def default_data_dir() -> str:
    return os.environ.get("LEAFBENCH_DATA_DIR") or os.path.join(REPO, "..", "shared", "data")


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def read_qrels(path: str) -> "OrderedDict[str, list[tuple[str, int]]]":
    """query-id -> [(corpus-id, score)] in file order (header: query-id corpus-id score)."""
    out: "OrderedDict[str, list[tuple[str, int]]]" = OrderedDict()
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        iq, ic, isc = header.index("query-id"), header.index("corpus-id"), header.index("score")
        for line in f:
            if not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            out.setdefault(parts[iq], []).append((parts[ic], int(float(parts[isc]))))
    return out


def doc_text(d: dict) -> str:
    """MTEB v2 _corpus_to_dict: (title + ' ' + text).strip() if title else text.strip()."""
    title = d.get("title") or ""
    text = d.get("text") or ""
    return (title + " " + text).strip() if len(title) > 0 else text.strip()


def neg_key(query_id: str, doc_id: str) -> str:
    return hashlib.sha256(f"{TASK}|{SEED}|{query_id}|{doc_id}".encode("utf-8")).hexdigest()


def build(data_dir: str) -> tuple[str, str]:
    src = os.path.join(data_dir, "SciFact")
    files = {
        "corpus": os.path.join(src, "corpus.jsonl"),
        "queries": os.path.join(src, "queries.jsonl"),
        "qrels": os.path.join(src, "qrels", f"{SPLIT}.tsv"),
    }
    for p in files.values():
        if not os.path.exists(p):
            sys.exit(f"missing input {p} (set --data-dir or LEAFBENCH_DATA_DIR)")
    corpus = read_jsonl(files["corpus"])
    queries = read_jsonl(files["queries"])
    qrels = read_qrels(files["qrels"])

    doc_by_id = {}
    for d in corpus:
        did = str(d["_id"])
        if did in doc_by_id:
            sys.exit(f"duplicate corpus id {did}")
        doc_by_id[did] = doc_text(d)
    corpus_ids = [str(d["_id"]) for d in corpus]

    lines, rows_meta = [], []
    n_pos = n_neg = 0
    for q in queries:
        qid = str(q["_id"])
        judged = [(did, s) for did, s in qrels.get(qid, [])]
        if not judged:
            continue  # MTEB drops queries without qrels
        pos_ids = [did for did, s in judged if s >= 1]
        if not pos_ids:
            continue
        for did in pos_ids:
            if did not in doc_by_id:
                sys.exit(f"qrels doc {did} of query {qid} is not in the corpus")
        judged_ids = {did for did, _ in judged}
        pos_texts = {doc_by_id[did] for did in pos_ids}
        pool = [did for did in corpus_ids if did not in judged_ids and doc_by_id[did] not in pos_texts]
        pool.sort(key=lambda did: neg_key(qid, did))
        neg_ids = pool[:NEGATIVES_PER_QUERY]
        if len(neg_ids) < NEGATIVES_PER_QUERY:
            sys.exit(f"query {qid}: only {len(neg_ids)} negatives available")
        row = {"query": q["text"], "positive": [doc_by_id[d] for d in pos_ids],
               "negative": [doc_by_id[d] for d in neg_ids]}
        lines.append(json.dumps(row, ensure_ascii=False))
        rows_meta.append({"line": len(lines) - 1, "mteb_query_id": f"{SPLIT}_query{len(lines) - 1}",
                          "query_id": qid, "positive_ids": pos_ids, "negative_ids": neg_ids})
        n_pos += len(pos_ids)
        n_neg += len(neg_ids)

    jsonl = "\n".join(lines) + "\n"
    source = OrderedDict([
        ("task", TASK),
        ("type", "Reranking"),
        ("subset", "default"),
        ("note", "Not an MTEB task: a local reranking set derived from SciFact (see transform). "
                 "Evaluate it with any MTEB v2 reranking task object (AbsTaskRetrieval with top_ranked), "
                 "e.g. scripts/peer_scifact_reranking.py."),
        ("splits", {SPLIT: {"samples": len(lines), "positives": n_pos, "negatives": n_neg,
                            "candidates": n_pos + n_neg,
                            "unique_candidate_docs": len({t for r in rows_meta for t in
                                                           (r["positive_ids"] + r["negative_ids"])})}}),
        ("generator", "scripts/make_scifact_reranking.py"),
        ("seed", SEED),
        ("negatives_per_query", NEGATIVES_PER_QUERY),
        ("negative_choice", f"per query: corpus docs that are not judged for the query (and whose text is not "
                            f"a positive's text), sorted by sha256('{TASK}|{SEED}|<query_id>|<doc_id>') hex "
                            f"ascending; first {NEGATIVES_PER_QUERY}, in that order"),
        ("document_text", "MTEB v2 _corpus_to_dict: (title + ' ' + text).strip() if title else text.strip()"),
        ("transform", "queries.jsonl order, queries with qrels in qrels/test.tsv only; query = claim text; "
                      "positive = judged docs (score >= 1) in qrels file order; negative = see negative_choice"),
        ("source_files", OrderedDict(
            (name, {"path": os.path.relpath(p, REPO).replace(os.sep, "/"), "sha256": sha256_file(p)})
            for name, p in files.items())),
        ("source_counts", {"corpus": len(corpus), "queries": len(queries),
                           "qrels_rows": sum(len(v) for v in qrels.values()),
                           "queries_with_qrels": len(qrels)}),
        ("origin", "../shared/data/SciFact/source.json (BEIR SciFact rebuilt from allenai/scifact; CC-BY-NC-2.0)"),
        ("output_sha256", {"test.jsonl": hashlib.sha256(jsonl.encode("utf-8")).hexdigest()}),
        ("rows", rows_meta),
    ])
    # rows on one line each keeps the file readable and diffable
    head = json.dumps(OrderedDict((k, v) for k, v in source.items() if k != "rows"), indent=2,
                      ensure_ascii=False)
    rows_txt = ",\n".join("    " + json.dumps(r, ensure_ascii=False) for r in rows_meta)
    source_txt = head[:-2] + ',\n  "rows": [\n' + rows_txt + "\n  ]\n}\n"
    json.loads(source_txt)  # well-formed
    return jsonl, source_txt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", default=default_data_dir(), help="local MTEB mirror (holds SciFact/)")
    ap.add_argument("--out-dir", default=OUT_DIR)
    ap.add_argument("--check", action="store_true", help="compare with the files on disk instead of writing")
    args = ap.parse_args()
    jsonl, source_txt = build(args.data_dir)
    targets = {"test.jsonl": jsonl, "source.json": source_txt}
    if args.check:
        bad = []
        for name, text in targets.items():
            p = os.path.join(args.out_dir, name)
            if not os.path.exists(p) or open(p, encoding="utf-8").read() != text:
                bad.append(name)
        if bad:
            print(f"differs from a fresh build: {', '.join(bad)}", file=sys.stderr)
            return 1
        print("up to date")
        return 0
    os.makedirs(args.out_dir, exist_ok=True)
    for name, text in targets.items():
        p = os.path.join(args.out_dir, name)
        with open(p, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {os.path.relpath(p, REPO)} ({os.path.getsize(p)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
