#!/usr/bin/env python3
"""Generate the retrieval-metric fixture of leafbench (tests/fixtures/metrics/trec.json).

Usage (from anywhere; paths are relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_trec_fixtures.py

src/metrics/trec.rs must report the retrieval scores exactly as mteb 2.26 does, so every expected
value here comes from the code mteb itself runs for a retrieval task (AbsTaskRetrieval
._evaluate_subset):

  1. mteb.abstasks.retrieval._filter_queries_without_positives drops queries whose qrels dict is
     empty; only the remaining queries are searched, so the run holds no other query (calling the
     scorer with a run query absent from the qrels would raise KeyError in mteb's `mrr` helper).
  2. RetrievalEvaluator.evaluate(qrels, results, k_values) -> calculate_retrieval_scores, i.e.
     pytrec_eval.RelevanceEvaluator (ndcg_cut / map_cut / recall / P / success), mteb's `mrr`
     helper and `evaluate_abstention` (nAUC of every per-query metric against the max / std / diff1
     confidence of the query's retrieved scores).
  3. make_score_dict(...) names the metrics; AbsTask._add_main_score copies ndcg_at_10 (the
     retrieval tasks' metadata main score) into main_score.

Inputs are small and seeded: graded qrels (grades -1, 0, 1, 2, 3), score ties (inside the top k and
straddling a cut-off k), retrieved docs absent from the qrels, queries without any relevant doc,
a query with an empty qrels dict, a qrels query missing from the run, a run query missing from the
qrels, an empty run for a query, k larger than the run, all-equal metrics (nAUC = NaN), a single
query, and a 140-query random case (numpy's pairwise sums split above 128 items).

Scores are float32 values (mteb's similarities are float32 tensors turned into Python floats;
trec_eval reads them as C float). The run dict is built with queries in ascending id order and each
query's docs in trec_eval rank order ("canonical_order": true): a Rust implementation that sums in
that order reproduces every value bit for bit. One case repeats a random case with shuffled
insertion orders ("canonical_order": false): there mteb's float sums run in another order, so the
values agree only to ~1e-15 relative.

Encoding: every float (scores, expected values) is a JSON string holding Python's repr ("nan" for
NaN); grades and k values are plain integers. Metric names are mteb's result-JSON keys.
"""

import json
import math
import os
import platform
import warnings

import numpy as np
import pytrec_eval
import mteb
from mteb._evaluators.retrieval_evaluator import RetrievalEvaluator
from mteb._evaluators.retrieval_metrics import make_score_dict
from mteb.abstasks.retrieval import _filter_queries_without_positives

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "fixtures", "metrics")
MTEB_K = [1, 3, 5, 10, 20, 100, 1000]  # AbsTaskRetrieval.k_values

warnings.simplefilter("ignore")  # nAUC of constant metrics divides 0 by 0 on purpose


def provenance():
    import importlib.metadata as md

    return {
        "generator": "scripts/make_trec_fixtures.py",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "mteb": mteb.__version__,
        "pytrec_eval": md.version("pytrec_eval_terrier"),
        "float_encoding": "repr strings; parse with str::parse::<f64>",
    }


def f(x):
    """A float as its repr string (exact round trip)."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    return repr(x)


def f32(x):
    """A score the way mteb holds it: a float32 similarity as a Python float."""
    return float(np.float32(x))


def write(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w") as fh:
        json.dump(payload, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path)} bytes)")


class QueryIds:
    """The two things _filter_queries_without_positives uses of a HF queries dataset."""

    def __init__(self, ids):
        self.ids = list(ids)

    def __getitem__(self, column):
        assert column == "id"
        return self.ids

    def select(self, indices):
        return QueryIds(self.ids[i] for i in indices)


def trec_order(docs):
    """trec_eval's ranking: score descending, ties by doc id descending."""
    return sorted(docs.items(), key=lambda item: (item[1], item[0]), reverse=True)


def canonical(run):
    """Queries by ascending id, each query's docs in rank order (see the module doc)."""
    return {qid: dict(trec_order(run[qid])) for qid in sorted(run)}


def shuffled(run, rng):
    out = {}
    for qid in rng.permutation(sorted(run)):
        items = list(run[qid].items())
        out[str(qid)] = dict(items[i] for i in rng.permutation(len(items)))
    return out


def mteb_scores(qrels, run, k_values):
    """The score dict AbsTaskRetrieval._evaluate_subset + _add_main_score produce."""
    qrels = {q: dict(d) for q, d in qrels.items()}
    # mteb searches only the queries that keep a non-empty qrels dict.
    qrels, queries = _filter_queries_without_positives(qrels, QueryIds(run))
    searched = set(queries["id"])
    results = {q: dict(d) for q, d in run.items() if q in searched}
    res = RetrievalEvaluator.evaluate(None, qrels, results, k_values)  # `self` is unused
    scores = make_score_dict(
        ndcg=res.ndcg,
        _map=res.map,
        recall=res.recall,
        precision=res.precision,
        naucs=res.naucs,
        mrr=res.mrr,
        naucs_mrr=res.naucs_mrr,
        hit_rate=res.hit_rate,
        task_scores={},
    )
    if "ndcg_at_10" in scores:
        scores["main_score"] = scores["ndcg_at_10"]
    return scores


# --- cases ----------------------------------------------------------------------------------------


def edge_case():
    """Hand-written: every trec_eval / mteb rule on a few documents."""
    qrels = {
        # grades 2 and 1, a grade-0 judgment retrieved, a negative grade, a relevant doc unretrieved
        "q1": {"d1": 2, "d2": 1, "d3": 0, "d4": -1, "d9": 1},
        # only grade-0 judgments: evaluated, every metric 0 (IDCG = 0, no relevant doc)
        "q2": {"d1": 0, "d5": 0},
        # relevant docs tied with unjudged docs at ranks 2-5, straddling the cut-off 3
        "q3": {"b": 1, "m": 3, "z": 1},
        # in the qrels but not in the run: not evaluated
        "q4": {"d1": 1},
        # empty qrels dict: dropped by mteb before searching, even though the run has it
        "q5": {},
        # judged, with an empty result list: evaluated with zeros, confidence (0, 0, 0)
        "q6": {"d2": 1},
        # a single retrieved doc: std 0 and diff1 0
        "q7": {"d7": 1, "d8": 2},
    }
    run = {
        "q1": {"d1": 0.5, "d2": 0.75, "d3": 0.875, "d4": 0.9375, "x1": 0.5, "x2": 0.25},
        "q2": {"d1": 0.25, "d5": 0.125, "y": 0.0625},
        # "z" > "m" > "b" > "a": the tie at 0.5 ranks z, m, b, a.
        "q3": {"a": 0.5, "b": 0.5, "m": 0.5, "z": 0.5, "c": 0.375, "e": 0.625},
        "q5": {"d1": 0.5},
        "q6": {},
        "q7": {"d8": 0.3},
        # in the run but not in the qrels: never searched by mteb, not evaluated
        "q8": {"d1": 0.9},
    }
    return qrels, run


def float32_tie_case():
    """Scores that differ as float64 but not as float32 (trec_eval's C float) are ties, and so
    are -0.0 and 0.0."""
    qrels = {"a": {"lo": 1}, "b": {"lo": 1, "hi": 2, "z": 1}}
    run = {
        "a": {"hi": f32(0.7), "lo": f32(0.7 + 1e-12), "mid": f32(0.6)},
        # "z" (-0.0) ties with "y" (0.0) and ranks first by id.
        "b": {"lo": f32(-0.25), "hi": f32(-0.25), "x": f32(-0.5), "y": f32(0.0), "z": f32(-0.0)},
    }
    return qrels, run


def random_case(rng, n_queries, n_docs, n_retrieved, decimals=None, grades=(1, 1, 1, 2)):
    """Random qrels (1-4 judged docs, some grade 0) and a run of n_retrieved docs per query."""
    docs = [f"doc{i:03d}" for i in range(n_docs)]
    qrels, run = {}, {}
    for q in range(n_queries):
        qid = f"q{q:03d}"
        judged = rng.choice(n_docs, size=int(rng.integers(1, 5)), replace=False)
        qrels[qid] = {docs[d]: int(rng.choice((0,) + tuple(grades))) for d in judged}
        # Most judged docs are retrieved (mteb retrieves 1000 of a corpus; here the run is short).
        found = [d for d in judged if rng.uniform() < 0.75]
        others = rng.permutation([d for d in range(n_docs) if d not in judged])
        retrieved = np.array(found + list(others[: n_retrieved - len(found)]))
        # Judged docs get a boost so the metrics spread over (0, 1).
        raw = rng.uniform(-0.2, 0.8, n_retrieved) + np.array(
            [0.3 * (docs[d] in qrels[qid]) for d in retrieved]
        )
        if decimals is not None:
            raw = np.round(raw, decimals)
        run[qid] = {docs[d]: f32(s) for d, s in zip(retrieved, raw)}
    return qrels, run


def perfect_case():
    """Every query ranks its only relevant doc first: all per-query metrics equal, nAUC = NaN."""
    qrels = {f"p{i}": {f"r{i}": 1} for i in range(4)}
    run = {f"p{i}": {f"r{i}": f32(0.9 - 0.1 * i), "n": f32(0.1 * i)} for i in range(4)}
    return qrels, run


def single_query_case():
    qrels = {"only": {"a": 1, "b": 2, "c": 0}}
    run = {"only": {"a": f32(0.3), "b": f32(0.1), "c": f32(0.2), "d": f32(0.4)}}
    return qrels, run


def cases():
    rng = np.random.default_rng(20260516)
    yield "edge_rules", *edge_case(), MTEB_K, True
    yield "edge_rules_k_1_2_4", *edge_case(), [1, 2, 4], True
    yield "float32_ties", *float32_tie_case(), MTEB_K, True
    yield "perfect_nan_nauc", *perfect_case(), MTEB_K, True
    yield "single_query", *single_query_case(), MTEB_K, True
    small = random_case(rng, 16, 30, 12, decimals=1)  # many score ties, many tied confidences
    yield "random_16q_ties", *small, MTEB_K, True
    yield "random_16q_ties_shuffled", *small, MTEB_K, False
    yield "random_graded_12q", *random_case(rng, 12, 40, 25, grades=(1, 2, 3)), MTEB_K, True
    yield "random_140q", *random_case(rng, 140, 200, 20, decimals=3), MTEB_K, True


def trec_fixture():
    rng = np.random.default_rng(7)
    out = []
    for name, qrels, run, k_values, canonical_order in cases():
        run = {q: {d: f32(s) for d, s in docs.items()} for q, docs in run.items()}
        run = canonical(run) if canonical_order else shuffled(run, rng)
        expected = mteb_scores(qrels, run, k_values)
        out.append(
            {
                "name": name,
                "k_values": k_values,
                "canonical_order": canonical_order,
                "qrels": qrels,
                "run": {q: {d: f(s) for d, s in docs.items()} for q, docs in run.items()},
                "expected": {k: f(v) for k, v in expected.items()},
            }
        )
    return {
        "provenance": provenance(),
        "calls": {
            "expected": "make_score_dict(RetrievalEvaluator.evaluate(qrels', results', k_values)) "
            "+ main_score = ndcg_at_10, where qrels' = _filter_queries_without_positives(qrels) "
            "and results' = run restricted to the queries of qrels'",
        },
        "cases": out,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    write("trec.json", trec_fixture())


if __name__ == "__main__":
    main()
