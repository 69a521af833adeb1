#!/usr/bin/env python3
"""Generate the clustering fixtures of leafbench.

Usage (from anywhere; paths are relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_cluster_fixtures.py

MTEB's clustering tasks run scikit-learn's MiniBatchKMeans on float32 embeddings and score the
result with sklearn.metrics.cluster.v_measure_score (v2 also reports adjusted_mutual_info_score).
src/learn/kmeans.rs and src/metrics/v_measure.rs reimplement those, so every expected number here
comes from sklearn itself:

  tests/fixtures/learn/kmeans.json
      Small seeded float32 blob datasets clustered with
        MiniBatchKMeans(n_clusters=k, batch_size=B, n_init=1, init="k-means++", random_state=42)
      (B = 512: MTEB v2 `AbsTaskClustering`; B = 500: the legacy evaluator, whose n_init="auto"
      means one k-means++ init as well) and `fit_predict`. Stored per run: sklearn's labels,
      the k-means++ centers it started from (captured by wrapping `_init_centroids`),
      cluster_centers_, inertia_, n_steps_ and n_iter_. `mteb_bootstrap` holds two MTEB-shaped
      fits (16,384 rows drawn with replacement from the all-MiniLM-L6-v2 vectors in
      tests/fixtures/minilm/reference.npy, k = 10 and 30); only sklearn's outputs are stored.
      An `rng` section holds draws from numpy's legacy RandomState(42) for the methods the
      k-means replica uses.
  tests/fixtures/metrics/v_measure.json
      homogeneity / completeness / v_measure (homogeneity_completeness_v_measure), mutual_info_score
      and adjusted_mutual_info_score on small label vectors, including the edge cases (empty input,
      one class, one cluster, n = 1, string labels, negative labels) and an MTEB-sized bootstrap
      (16,384 items).

Threads: OMP_NUM_THREADS=1 is set before numpy/sklearn load, so sklearn's OpenMP loops (the
inertia sums) add in sample order, the order the Rust code uses. With more threads sklearn sums
per-thread partial inertias, which moves inertia values in the last float32 bits only.

Encoding (as in the other fixture scripts): every float64 is a JSON string holding Python's repr,
every float32 (data, centers) a string holding numpy's shortest float32 repr; Rust's
`str::parse::<f64>` / `str::parse::<f32>` are correctly rounded, so both read back bit for bit.
Labels are plain JSON integers (or strings where the case says so).

`exact_logs` in v_measure.json: numpy's vectorised np.log (AVX-512 builds) and the C library's
log disagree in the last bit for a few integers (the first is 9170). The flag is true when every
argument that sklearn passes to np.log for that case gets the same value from both, so the Rust
result (which uses the C library's log) can be asserted bit for bit; otherwise only to ~1e-15.
"""

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import importlib.metadata  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from sklearn.cluster import MiniBatchKMeans  # noqa: E402
from sklearn.metrics.cluster import (  # noqa: E402
    adjusted_mutual_info_score,
    homogeneity_completeness_v_measure,
    mutual_info_score,
)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_LEARN = os.path.join(REPO, "tests", "fixtures", "learn")
OUT_METRICS = os.path.join(REPO, "tests", "fixtures", "metrics")

SEED = 42


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def provenance():
    import threadpoolctl

    return {
        "generator": "scripts/make_cluster_fixtures.py",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "threads": "OMP_NUM_THREADS=1, OPENBLAS_NUM_THREADS=1",
        "blas": sorted(
            {f"{m['internal_api']} {m['version']} {m.get('architecture', '')}".strip()
             for m in threadpoolctl.threadpool_info() if m["user_api"] == "blas"}
        ),
        "mteb": importlib.metadata.version("mteb"),
        "machine": platform.machine(),
        "cpu": cpu_model(),
        "float_encoding": "float64: repr strings, parse with str::parse::<f64>; "
        "float32: numpy's shortest float32 repr, parse with str::parse::<f32>",
    }


def f64(x):
    x = float(x)
    return "nan" if math.isnan(x) else repr(x)


def f32s(a):
    return [str(np.float32(v)) for v in np.asarray(a, dtype=np.float32).ravel()]


def write(path, payload):
    with open(path, "w") as fh:
        json.dump(payload, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {os.path.relpath(path, REPO)} ({os.path.getsize(path)} bytes)")


# --- k-means ----------------------------------------------------------------------------------------


def blobs(seed, n, d, k, spread, noise, weights=None, unit=False):
    """n float32 points around k Gaussian means, rounded to 2 decimals (4 if unit-normalised).

    The rounding keeps the fixture small and puts exact duplicates and ties into the data."""
    rng = np.random.default_rng(seed)
    means = rng.normal(0.0, spread, size=(k, d))
    p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
    y = rng.choice(k, size=n, p=p)
    x = means[y] + rng.normal(0.0, noise, size=(n, d))
    if unit:
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        x = np.round(x, 4)
    else:
        x = np.round(x, 2)
    return x.astype(np.float32), y


# name, description, data
def kmeans_datasets():
    yield "n40_d4_k2", "two well separated blobs, n below every batch size", blobs(101, 40, 4, 2, 4.0, 1.0), 2
    yield "n40_d8_k5", "five blobs, some overlapping, n below every batch size", blobs(102, 40, 8, 5, 1.5, 1.0), 5
    yield "n700_d16_k5", "five blobs; init_size = n (no init subsample)", blobs(103, 700, 16, 5, 2.0, 1.0), 5
    yield "n700_d8_k17", "17 overlapping blobs", blobs(104, 700, 8, 17, 1.2, 1.0), 17
    yield "n2000_d4_k2", "two overlapping blobs; init subsample of 1536 (1500) of 2000", blobs(105, 2000, 4, 2, 1.0, 1.0), 2
    yield "n2000_d32_k17", "17 blobs in 32-d; init subsample", blobs(106, 2000, 32, 17, 1.0, 1.0), 17
    yield "n2000_d12_k5_overlap", "five heavily overlapping blobs (hard, many near ties)", blobs(107, 2000, 12, 5, 0.4, 1.0), 5
    w = [40, 30, 20, 10, 5, 3, 2, 1, 1, 0.5, 0.5, 0.3, 0.3, 0.2, 0.2, 0.1, 0.1]
    yield "n1200_d24_k17_unit_imbalanced", "unit-norm 'embeddings' with very unequal blob sizes", blobs(108, 1200, 24, 17, 1.0, 0.6, weights=w, unit=True), 17


def run_kmeans(x, k, batch_size):
    captured = []
    original = MiniBatchKMeans._init_centroids

    def capture(self, *args, **kwargs):
        centers = original(self, *args, **kwargs)
        captured.append(np.array(centers, copy=True))
        return centers

    MiniBatchKMeans._init_centroids = capture
    try:
        model = MiniBatchKMeans(
            n_clusters=k, batch_size=batch_size, n_init=1, init="k-means++", random_state=SEED
        )
        labels = model.fit_predict(x)
    finally:
        MiniBatchKMeans._init_centroids = original
    assert len(captured) == 1
    assert model.cluster_centers_.dtype == np.float32
    return model, labels, captured[0]


def kmeans_fixture():
    cases = []
    for name, description, (x, y), k in kmeans_datasets():
        n, d = x.shape
        runs = []
        for batch_size in (512, 500):
            model, labels, init = run_kmeans(x, k, batch_size)
            runs.append(
                {
                    "batch_size": batch_size,
                    "labels": [int(v) for v in labels],
                    "init_centers": f32s(init),
                    "centers": f32s(model.cluster_centers_),
                    "inertia": f64(model.inertia_),
                    "n_steps": int(model.n_steps_),
                    "n_iter": int(model.n_iter_),
                }
            )
            print(f"  {name} batch={batch_size}: n_steps={model.n_steps_} n_iter={model.n_iter_} "
                  f"inertia={model.inertia_!r}")
        cases.append(
            {
                "name": name,
                "description": description,
                "n": n,
                "d": d,
                "k": k,
                "x": f32s(x),
                "blob": [int(v) for v in y],
                "runs": runs,
            }
        )
    return {
        "provenance": provenance(),
        "call": "MiniBatchKMeans(n_clusters=k, batch_size=batch_size, n_init=1, init='k-means++', "
        "random_state=42).fit_predict(x) on float32 x (n x d, row-major); other parameters default "
        "(max_iter=100, tol=0.0, max_no_improvement=10, init_size=None, reassignment_ratio=0.01)",
        "fields": {
            "x": "float32, row-major n x d",
            "blob": "the blob each point was drawn from (not used by sklearn)",
            "init_centers": "k-means++ centers returned by _init_centroids (k x d, float32)",
            "centers": "cluster_centers_ (k x d, float32)",
            "inertia": "inertia_ (float32 sum returned as a Python float)",
        },
        "rng": rng_fixture(),
        "mteb_bootstrap": mteb_bootstrap_fixture(),
        "cases": cases,
    }


def mteb_bootstrap_fixture():
    """MTEB-shaped fits on real embeddings: bootstraps of 16,384 all-MiniLM-L6-v2 vectors.

    The vectors are tests/fixtures/minilm/reference.npy (1,030 x 384, float32, unit norm); the
    rows of each bootstrap are `random.Random(42).choices(range(1030), k=16384)`, successive
    bootstraps continuing one stream, as MTEB v2's `_evaluate_clustering_bootstrapped` draws
    them. Only sklearn's outputs are stored; the test rebuilds the inputs.
    """
    import random

    emb = np.load(os.path.join(REPO, "tests", "fixtures", "minilm", "reference.npy"))
    assert emb.dtype == np.float32 and emb.shape == (1030, 384)
    rng = random.Random(SEED)
    runs = []
    for bootstrap, k in enumerate([10, 30]):
        idx = rng.choices(range(len(emb)), k=16384)
        model, labels, _ = run_kmeans(emb[idx], k, 512)
        runs.append(
            {
                "bootstrap": bootstrap,
                "k": k,
                "labels": [int(v) for v in labels],
                "inertia": f64(model.inertia_),
                "n_steps": int(model.n_steps_),
                "n_iter": int(model.n_iter_),
            }
        )
        print(f"  minilm bootstrap {bootstrap} k={k}: n_steps={model.n_steps_} inertia={model.inertia_!r}")
    return {
        "embeddings": "tests/fixtures/minilm/reference.npy",
        "draws": "random.Random(42).choices(range(1030), k=16384) per bootstrap, one stream",
        "call": "MiniBatchKMeans(n_clusters=k, batch_size=512, n_init=1, init='k-means++', "
        "random_state=42).fit_predict(embeddings[draws])",
        "runs": runs,
    }


def rng_fixture():
    """Draws from RandomState(42) for the legacy methods the k-means replica relies on."""
    out = {}
    rs = np.random.RandomState(SEED)
    out["random_sample"] = {
        "call": "RandomState(42).random_sample(12); then one raw u32 (randint(0, 2**32, dtype=uint32))",
        "values": [f64(v) for v in rs.random_sample(12)],
        "next_u32_after": int(rs.randint(0, 2**32, dtype=np.uint32)),
    }
    rs = np.random.RandomState(SEED)
    out["uniform"] = {"call": "RandomState(42).uniform(size=5)", "values": [f64(v) for v in rs.uniform(size=5)]}
    rs = np.random.RandomState(SEED)
    out["randint"] = {
        "call": "RandomState(42).randint(0, 1536, 20); then randint(3, 2000, 10)",
        "values": [int(v) for v in rs.randint(0, 1536, 20)],
        "values_3_2000": [int(v) for v in rs.randint(3, 2000, 10)],
    }
    rs = np.random.RandomState(SEED)
    out["permutation"] = {
        "call": "RandomState(42).permutation(512)[:40]; then random_sample()",
        "n": 512,
        "prefix": [int(v) for v in rs.permutation(512)[:40]],
        "random_sample_after": f64(rs.random_sample()),
    }
    rs = np.random.RandomState(SEED)
    p = (np.ones(7, dtype=np.float32) / np.float32(7)).astype(np.float32)
    out["choice_p"] = {
        "call": "RandomState(42).choice(7, 30, p=float32 ones(7)/7, replace=True)",
        "values": [int(v) for v in rs.choice(7, 30, p=p, replace=True)],
    }
    rs = np.random.RandomState(SEED)
    out["choice_no_replace"] = {
        "call": "RandomState(42).choice(512, replace=False, size=6)",
        "values": [int(v) for v in rs.choice(512, replace=False, size=6)],
    }
    return out


# --- v-measure / AMI --------------------------------------------------------------------------------


def np_log_matches_libm(values):
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return True
    return bool(np.all(np.log(v) == np.array([math.log(t) for t in v])))


def exact_logs(labels_true, labels_pred):
    """True when every np.log argument in sklearn's MI / entropy / EMI gives math.log's value."""
    if len(labels_true) == 0:
        return True
    _, ci = np.unique(np.asarray(labels_true), return_inverse=True)
    _, ki = np.unique(np.asarray(labels_pred), return_inverse=True)
    c = np.zeros((ci.max() + 1, ki.max() + 1), dtype=np.int64)
    np.add.at(c, (ci, ki), 1)
    a, b = c.sum(1), c.sum(0)
    nz = c[c > 0]
    outer = np.outer(a, b)[c > 0]
    n = len(labels_true)
    args = [nz, a, b, outer, [n], np.arange(1, max(a.max(), b.max()) + 1)]
    return all(np_log_matches_libm(v) for v in args)


def metric_cases():
    rng = np.random.default_rng(20260601)

    def noisy(y, keep, n_pred):
        y = np.array(y)
        out = y.copy()
        flip = rng.uniform(size=len(y)) > keep
        out[flip] = rng.integers(0, n_pred, flip.sum())
        return out

    yield "sklearn_doc_perfect_relabel", [0, 0, 1, 1], [1, 1, 0, 0]
    yield "sklearn_doc_split", [0, 0, 1, 2], [0, 0, 1, 1]
    yield "sklearn_doc_merge", [0, 0, 1, 1], [0, 0, 0, 0]
    yield "empty", [], []
    yield "n1", [3], [7]
    yield "single_class_single_cluster", [2] * 6, [5] * 6
    yield "single_class_many_clusters", [0] * 6, [0, 1, 2, 0, 1, 2]
    yield "many_classes_single_cluster", [0, 1, 2, 0, 1, 2], [4] * 6
    yield "all_singletons", list(range(8)), list(range(8))
    yield "singletons_vs_pairs", list(range(8)), [0, 0, 1, 1, 2, 2, 3, 3]
    yield "negative_and_sparse_ids", [-1, -1, 5, 5, 100, 100, -1], [9, 9, 9, 2, 2, 40, 40]
    yield "independent_n30", list(rng.integers(0, 3, 30)), list(rng.integers(0, 4, 30))
    y = rng.integers(0, 5, 200)
    yield "noisy_k5_n200", list(y), list(noisy(y, 0.6, 7))
    y = rng.integers(0, 10, 600)
    yield "noisy_k10_n600", list(y), list((noisy(y, 0.8, 10) * 7 + 3) % 10)
    y = rng.integers(0, 17, 1000)
    yield "noisy_k17_n1000", list(y), list(noisy(y, 0.5, 17))
    # MTEB-sized bootstrap: 16,384 draws of 30 classes, clustering with 30 clusters.
    y = rng.integers(0, 30, 16384)
    yield "mteb_bootstrap_k30_n16384", list(y), list(noisy(y, 0.55, 30))
    labels = np.array(["cs", "math", "physics", "q-bio", "stat"])
    y = rng.integers(0, 5, 120)
    yield "string_labels_true", list(labels[y]), list(noisy(y, 0.7, 6))


def metric_fixture():
    cases = []
    for name, yt, yp in metric_cases():
        yt_arr = np.asarray(yt) if len(yt) else np.asarray([], dtype=np.int64)
        yp_arr = np.asarray(yp) if len(yp) else np.asarray([], dtype=np.int64)
        h, c, v = homogeneity_completeness_v_measure(yt_arr, yp_arr)
        mi = mutual_info_score(yt_arr, yp_arr) if len(yt) else 0.0
        ami = adjusted_mutual_info_score(yt_arr, yp_arr)
        strings = yt_arr.dtype.kind == "U"
        cases.append(
            {
                "name": name,
                "labels_true": [str(t) for t in yt] if strings else [int(t) for t in yt],
                "labels_pred": [int(t) for t in yp],
                "homogeneity": f64(h),
                "completeness": f64(c),
                "v_measure": f64(v),
                "mutual_info": f64(mi),
                "ami": f64(ami),
                "exact_logs": exact_logs(yt, yp),
            }
        )
        print(f"  {name}: v={v!r} ami={ami!r} exact_logs={cases[-1]['exact_logs']}")
    import scipy.special

    # gammaln arguments as the EMI loop uses them (integers + 1) across Cephes' three branches
    # (< 13 recurrence + rational, 13..1000 Stirling with 5 terms, >= 1000 with 3 terms), plus a
    # few non-integers.
    gx = sorted(
        {float(v) for v in range(1, 40)}
        | {float(v) for v in np.geomspace(40, 1e6, 120).round()}
        | {2.5, 12.75, 13.0, 999.5, 1000.0, 16385.0, 1e8 + 1, 3e8}
    )
    gammaln_check = {
        "call": "scipy.special.gammaln(x)",
        "x": [f64(v) for v in gx],
        "values": [f64(v) for v in scipy.special.gammaln(np.array(gx))],
    }
    return {
        "provenance": provenance(),
        "gammaln": gammaln_check,
        "calls": {
            "homogeneity, completeness, v_measure": "sklearn.metrics.cluster."
            "homogeneity_completeness_v_measure(labels_true, labels_pred) (beta=1)",
            "mutual_info": "sklearn.metrics.cluster.mutual_info_score(labels_true, labels_pred) "
            "(0.0 written for the empty case, where sklearn raises)",
            "ami": "sklearn.metrics.cluster.adjusted_mutual_info_score(labels_true, labels_pred) "
            "(average_method='arithmetic')",
            "exact_logs": "np.log agrees with math.log on every log argument of the case",
        },
        "cases": cases,
    }


def main():
    os.makedirs(OUT_LEARN, exist_ok=True)
    os.makedirs(OUT_METRICS, exist_ok=True)
    write(os.path.join(OUT_METRICS, "v_measure.json"), metric_fixture())
    write(os.path.join(OUT_LEARN, "kmeans.json"), kmeans_fixture())


if __name__ == "__main__":
    main()
