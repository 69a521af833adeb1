#!/usr/bin/env python3
"""Generate the metric fixtures of leafbench (tests/fixtures/metrics/*.json).

Usage (from anywhere; paths are relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_metric_fixtures.py

The Rust metrics in src/metrics/ must reproduce MTEB's numbers, so every expected value here comes
from the code MTEB itself runs: scipy.stats (pearsonr, spearmanr, rankdata), sklearn.metrics
(average_precision_score) and mteb's own metric methods (AbsTaskClassification._calculate_scores,
AbsTaskPairClassification._find_best_acc_and_threshold / _find_best_f1_and_threshold /
_compute_metrics_values). Inputs are small, seeded, and chosen to hit the edge cases: ties, all-tied,
two-valued, n=1/n=2, -0.0 next to 0.0, 1000 scores rounded to 2 decimals, constant input (NaN),
classes present in only one of y_true / y_pred, binary label sets other than {0, 1}.

Encoding: every float (input or expected) is written as a JSON *string* holding Python's repr
(shortest round-trip form; "nan" / "inf" / "-inf" for the specials). Rust's `str::parse::<f64>` is
correctly rounded, so the values are read back bit for bit; serde_json's default float parser is
not guaranteed to be. Integers (labels) are plain JSON numbers. `null` means "MTEB reports None".
Each file records the library versions in "provenance".

What it writes:

  correlation.json        scipy.stats.pearsonr / spearmanr statistics, rankdata(method='average')
  average_precision.json  sklearn.metrics.average_precision_score on binary y_true, float scores
  classification.json     mteb AbsTaskClassification._calculate_scores on integer labels
                          (accuracy, f1/precision/recall macro + weighted, ap, ap_weighted)
  pair_threshold.json     mteb AbsTaskPairClassification threshold sweeps + ap, both score directions
"""

import functools
import json
import math
import os
import platform
import types
import warnings

import numpy as np
import scipy
import scipy.stats
import sklearn
import sklearn.metrics
import mteb
from mteb.abstasks.classification import AbsTaskClassification
from mteb.abstasks.pair_classification import AbsTaskPairClassification

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "fixtures", "metrics")

warnings.simplefilter("ignore")  # constant-input / ill-defined-metric warnings are expected here


def provenance():
    return {
        "generator": "scripts/make_metric_fixtures.py",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "mteb": mteb.__version__,
        "float_encoding": "repr strings; parse with str::parse::<f64>",
    }


def f(x):
    """A float as its repr string (exact round trip)."""
    x = float(x)
    if math.isnan(x):
        return "nan"
    return repr(x)


def fl(xs):
    return [f(x) for x in xs]


def il(xs):
    return [int(x) for x in xs]


def write(name, payload):
    path = os.path.join(OUT, name)
    with open(path, "w") as fh:
        json.dump(payload, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path)} bytes)")


rng = np.random.default_rng(20260515)


def f32(xs):
    """Scores the way MTEB sees them: float32 similarities converted with .tolist()."""
    return np.asarray(xs, dtype=np.float32).astype(np.float64)


# --- correlation ----------------------------------------------------------------------------------


def correlation_cases():
    n50 = rng.standard_normal(50)
    human = np.round(rng.uniform(0, 5, 1000) / 0.2) * 0.2  # STS-like gold scores, many ties
    pred = np.round(np.clip(human / 5 + rng.normal(0, 0.25, 1000), -1, 1), 2)
    two = rng.integers(0, 2, 30).astype(float)
    yield "normal_n50", n50, 0.6 * n50 + rng.standard_normal(50)
    yield "negative_n40", (a := rng.standard_normal(40)), -a + 0.3 * rng.standard_normal(40)
    yield "int_ties_n40", rng.integers(0, 6, 40).astype(float), rng.integers(0, 4, 40).astype(float)
    yield "two_valued_x", two, two + rng.standard_normal(30)
    yield "sts_1000_rounded_2dp", human, pred
    yield "float32_cosines_n200", f32(rng.uniform(-1, 1, 200)), f32(rng.uniform(0, 5, 200))
    yield "large_offset", 1e6 + rng.standard_normal(60), rng.standard_normal(60)
    yield "tiny_scale", 1e-9 * rng.standard_normal(60), rng.standard_normal(60)
    yield "signed_zero_ties", np.array([0.0, -0.0, 1.0, 0.0, -1.0, -0.0, 2.0]), np.array(
        [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    )
    yield "n3", np.array([1.0, 2.0, 4.0]), np.array([3.0, 1.0, 2.0])
    yield "n2_increasing", np.array([0.1, 0.7]), np.array([-3.0, 2.5])
    yield "n2_decreasing", np.array([0.1, 0.7]), np.array([2.5, -3.0])
    yield "n2_tied_x", np.array([0.5, 0.5]), np.array([1.0, 2.0])
    yield "constant_x", np.full(20, 3.25), rng.standard_normal(20)
    yield "constant_y", rng.standard_normal(20), np.full(20, -1.0)
    yield "all_tied_both", np.full(10, 0.3), np.full(10, 0.3)
    yield "nan_in_x", np.array([1.0, np.nan, 3.0, 4.0]), np.array([1.0, 2.0, 3.0, 5.0])
    yield "inf_in_x", np.array([1.0, np.inf, 3.0, 4.0, -2.0]), np.array([1.0, 4.0, 2.0, 3.0, 0.5])


def correlation_fixture():
    cases = []
    for name, x, y in correlation_cases():
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        cases.append(
            {
                "name": name,
                "x": fl(x),
                "y": fl(y),
                "pearson": f(scipy.stats.pearsonr(x, y).statistic),
                "spearman": f(scipy.stats.spearmanr(x, y).statistic),
                "rank_x": fl(scipy.stats.rankdata(x, method="average")),
                "rank_y": fl(scipy.stats.rankdata(y, method="average")),
            }
        )
    return {
        "provenance": provenance(),
        "calls": {
            "pearson": "scipy.stats.pearsonr(x, y).statistic",
            "spearman": "scipy.stats.spearmanr(x, y).statistic",
            "rank_*": "scipy.stats.rankdata(v, method='average')",
        },
        "cases": cases,
    }


# --- average precision ----------------------------------------------------------------------------


def ap_cases():
    def labels(n, p=0.4):
        return (rng.uniform(size=n) < p).astype(int)

    yield "random_n50", labels(50), rng.standard_normal(50)
    yield "ties_1dp_n100", labels(100), np.round(rng.uniform(size=100), 1)
    yield "dup_1000_rounded_2dp", (y := labels(1000, 0.3)), np.round(
        np.clip(0.5 * y + rng.normal(0.3, 0.25, 1000), 0, 1), 2
    )
    yield "distinct_n2000", labels(2000, 0.2), rng.standard_normal(2000)
    yield "float32_cosines_n300", labels(300), f32(rng.uniform(-1, 1, 300))
    yield "hard_predictions", labels(80), rng.integers(0, 2, 80).astype(float)
    yield "all_scores_tied", labels(25), np.full(25, 0.42)
    yield "two_valued_scores", labels(40), rng.choice([0.25, 0.75], 40)
    yield "signed_zero_ties", np.array([1, 0, 1, 0, 0, 1]), np.array([0.0, -0.0, 0.5, 0.0, -0.5, -0.0])
    yield "all_positive", np.ones(12, dtype=int), rng.standard_normal(12)
    yield "all_negative", np.zeros(12, dtype=int), rng.standard_normal(12)
    yield "perfect", np.array([0, 0, 1, 1, 0, 1]), np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7])
    yield "reversed", np.array([0, 0, 1, 1, 0, 1]), -np.array([0.1, 0.2, 0.9, 0.8, 0.3, 0.7])
    yield "n2", np.array([0, 1]), np.array([0.6, 0.4])
    yield "n1_positive", np.array([1]), np.array([0.3])
    yield "n1_negative", np.array([0]), np.array([0.3])


def ap_fixture():
    cases = []
    for name, y, s in ap_cases():
        s = np.asarray(s, dtype=np.float64)
        cases.append(
            {
                "name": name,
                "y_true": il(y),
                "scores": fl(s),
                "ap": f(sklearn.metrics.average_precision_score(y, s)),
            }
        )
    return {
        "provenance": provenance(),
        "calls": {"ap": "sklearn.metrics.average_precision_score(y_true, scores)"},
        "cases": cases,
    }


# --- classification -------------------------------------------------------------------------------


def noisy(y, acc, classes):
    """Copy of y with about (1 - acc) of the entries replaced by a random class."""
    y = np.array(y)
    flip = rng.uniform(size=len(y)) > acc
    y[flip] = rng.choice(classes, flip.sum())
    return y


def classification_cases():
    yb = rng.integers(0, 2, 100)
    yield "binary_n100", yb, noisy(yb, 0.7, [0, 1])
    yield "binary_pred_all_zero", (y := rng.integers(0, 2, 30)), np.zeros(30, dtype=int)
    yield "binary_pred_all_one", (y := rng.integers(0, 2, 30)), np.ones(30, dtype=int)
    yield "binary_pred_has_extra_class_2", (y := rng.integers(0, 2, 40)), noisy(y, 0.6, [0, 1, 2])
    yield "binary_labels_1_2", (y := rng.integers(1, 3, 50)), noisy(y, 0.7, [1, 2])
    yield "binary_labels_minus1_1", (y := rng.choice([-1, 1], 50)), noisy(y, 0.7, [-1, 1])
    yield "binary_labels_0_2", (y := rng.choice([0, 2], 20)), noisy(y, 0.7, [0, 2])
    ym = rng.integers(0, 5, 200)
    yield "multiclass5_n200", ym, noisy(ym, 0.5, [0, 1, 2, 3, 4])
    yield "pred_class_absent_from_true", (y := rng.integers(0, 3, 60)), noisy(y, 0.6, [0, 1, 2, 3])
    yield "true_class_absent_from_pred", (y := rng.integers(0, 4, 60)), noisy(
        np.where(y == 3, 0, y), 0.8, [0, 1, 2]
    )
    yb77 = rng.integers(0, 77, 600)
    yield "many_classes_77_n600", yb77, noisy(yb77, 0.6, list(range(77)))
    yield "single_class_true", np.zeros(15, dtype=int), noisy(np.zeros(15, dtype=int), 0.7, [0, 1])
    yield "all_correct_multiclass", (y := rng.integers(0, 3, 20)), y.copy()
    yield "n1", np.array([3]), np.array([3])
    yield "n2_wrong", np.array([0, 1]), np.array([1, 0])


def classification_fixture():
    cases = []
    for name, y_true, y_pred in classification_cases():
        y_true = [int(v) for v in y_true]  # mteb: dataset column (list of int)
        y_pred = np.asarray(y_pred, dtype=np.int64)  # mteb: classifier.predict() output
        entry = {"name": name, "y_true": y_true, "y_pred": il(y_pred)}
        try:
            scores = AbsTaskClassification._calculate_scores(None, y_true, y_pred)
        except ValueError as e:
            # sklearn refuses average precision when pos_label=1 is not one of two classes;
            # the other metrics are still defined, so record them and the error separately.
            entry["ap_error"] = str(e).splitlines()[0]
            scores = dict(
                accuracy=sklearn.metrics.accuracy_score(y_true, y_pred),
                f1=sklearn.metrics.f1_score(y_true, y_pred, average="macro"),
                f1_weighted=sklearn.metrics.f1_score(y_true, y_pred, average="weighted"),
                precision=sklearn.metrics.precision_score(y_true, y_pred, average="macro"),
                precision_weighted=sklearn.metrics.precision_score(y_true, y_pred, average="weighted"),
                recall=sklearn.metrics.recall_score(y_true, y_pred, average="macro"),
                recall_weighted=sklearn.metrics.recall_score(y_true, y_pred, average="weighted"),
                ap=None,
                ap_weighted=None,
            )
        for k, v in scores.items():
            entry[k] = None if v is None else f(v)
        cases.append(entry)
    return {
        "provenance": provenance(),
        "calls": {
            "*": "mteb.abstasks.classification.AbsTaskClassification._calculate_scores(None, "
            "y_true (list[int]), y_pred (np.int64 array))",
            "ap_error": "first line of the ValueError sklearn raised inside _calculate_scores; "
            "then the other metrics are the same sklearn calls made directly and ap/ap_weighted are null",
        },
        "cases": cases,
    }


# --- pair classification thresholds ---------------------------------------------------------------


def pair_methods():
    P = AbsTaskPairClassification
    me = types.SimpleNamespace()
    me._find_best_acc_and_threshold = functools.partial(P._find_best_acc_and_threshold, me)
    me._find_best_f1_and_threshold = functools.partial(P._find_best_f1_and_threshold, me)
    me._compute_metrics_values = functools.partial(P._compute_metrics_values, me)
    return me


def pair_cases():
    def labels(n, p=0.5):
        return (rng.uniform(size=n) < p).astype(int)

    y = labels(100)
    yield "cosine_n100", y, f32(np.clip(0.3 * y + rng.normal(0.5, 0.2, 100), -1, 1))
    y = labels(100)
    yield "ties_1dp_n100", y, np.round(0.3 * y + rng.uniform(0, 0.7, 100), 1)
    y = labels(1000, 0.35)
    yield "dup_1000_rounded_2dp", y, np.round(np.clip(0.25 * y + rng.normal(0.5, 0.2, 1000), 0, 1), 2)
    y = labels(300)
    yield "euclidean_like_n300", y, f32(np.abs(1.2 - 0.4 * y + rng.normal(0, 0.3, 300)))
    yield "two_valued_scores", labels(40), rng.choice([0.25, 0.75], 40)
    yield "all_scores_tied", labels(20), np.full(20, 0.5)
    yield "all_positive", np.ones(15, dtype=int), rng.uniform(size=15)
    yield "all_negative", np.zeros(15, dtype=int), rng.uniform(size=15)
    yield "signed_zero_ties", np.array([1, 0, 1, 0, 0, 1, 1]), np.array([0.0, -0.0, 0.5, 0.0, -0.5, -0.0, 0.25])
    yield "accuracy_never_above_zero", np.array([0, 1]), np.array([1.0, 0.0])
    yield "first_split_best", np.array([1, 1, 0, 0, 0]), np.array([0.9, 0.9, 0.4, 0.3, 0.3])
    yield "tie_straddles_best_split", np.array([1, 1, 0, 1, 0, 0]), np.array([0.9, 0.8, 0.8, 0.8, 0.2, 0.1])
    yield "n2", np.array([1, 0]), np.array([0.7, 0.2])
    yield "n1", np.array([1]), np.array([0.7])


def pair_fixture():
    me = pair_methods()
    cases = []
    for name, labels, scores in pair_cases():
        scores = [float(s) for s in scores]  # mteb: similarity_scores[...] from .tolist()
        labels = np.asarray(labels, dtype=np.int64)
        for high in (True, False):
            acc, acc_thr = me._find_best_acc_and_threshold(scores, labels, high)
            f1, p, r, f1_thr = me._find_best_f1_and_threshold(scores, labels, high)
            values = me._compute_metrics_values(scores, labels, high)
            assert values["accuracy"] == float(acc) and values["f1"] == float(f1)
            cases.append(
                {
                    "name": name,
                    "high_score_more_similar": high,
                    "labels": il(labels),
                    "scores": fl(scores),
                    "accuracy": f(acc),
                    "accuracy_threshold": f(acc_thr),
                    "f1": f(f1),
                    "precision": f(p),
                    "recall": f(r),
                    "f1_threshold": f(f1_thr),
                    "ap": f(values["ap"]),
                }
            )
    return {
        "provenance": provenance(),
        "calls": {
            "accuracy, accuracy_threshold": "AbsTaskPairClassification._find_best_acc_and_threshold"
            "(scores, labels (np.int64), high_score_more_similar)",
            "f1, precision, recall, f1_threshold": "AbsTaskPairClassification._find_best_f1_and_threshold(...)",
            "ap": "AbsTaskPairClassification._compute_metrics_values(...)['ap']",
        },
        "cases": cases,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    write("correlation.json", correlation_fixture())
    write("average_precision.json", ap_fixture())
    write("classification.json", classification_fixture())
    write("pair_threshold.json", pair_fixture())


if __name__ == "__main__":
    main()
