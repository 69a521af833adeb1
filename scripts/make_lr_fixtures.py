#!/usr/bin/env python3
"""Generate the logistic-regression fixtures of leafbench (tests/fixtures/learn/*.json).

Usage (from anywhere; paths are relative to the repository root):

    ~/.cache/peer-venv/bin/python scripts/make_lr_fixtures.py

MTEB's classification tasks fit ``sklearn.linear_model.LogisticRegression(max_iter=100,
random_state=42)`` on embeddings; src/learn/logistic_regression.rs reimplements that fit
(L2 penalty, C=1, lbfgs via scipy's L-BFGS-B, tol=1e-4, intercept, multinomial for K>2 classes
and a single sigmoid vector for K=2). Each fixture stores the training data, sklearn's fitted
``coef_``/``intercept_``/``n_iter_``, its predictions and the final value of the objective that
sklearn minimises,

    mean_i loss_i(X_i W' + b) + ||W||^2 / (2 * C * n),

evaluated with sklearn's own ``LinearModelLoss`` at the fitted parameters. The versions of
sklearn, scipy and numpy that produced the numbers are recorded in every file.

Cases (all data come from numpy's default_rng with fixed seeds; features are rounded to 6
decimals before fitting so that the stored inputs are exactly the ones sklearn saw):

  binary_small.json      n=40, d=5, labels {3, 7}: logistic data, converges
  multiclass_small.json  n=60, d=8, labels {2, 5, 9, 11}: Gaussian class means + noise
  realistic_k77.json     n=616 (77 classes x 8), d=32, plus a 300-row test set: an
                         MTEB-sized task in miniature
  nonconverged.json      n=100, d=10, 4 classes, feature scales spread over two decades, plus a
                         60-row test set: stops at max_iter=100 without meeting tol (sklearn
                         warns ConvergenceWarning); the path is stable under rounding
  nonconverged_chaotic.json
                         n=90, d=6, 3 classes seen through an ill-conditioned linear map, plus a
                         60-row test set: also stops at max_iter=100, on a path where ulp-level
                         perturbations of the gradient move the result by ~1e-3 relative (measured
                         by rerunning scipy with perturbed gradients), which bounds how closely
                         any reimplementation can agree
"""

import json
import os
import warnings

import numpy as np
import scipy
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn._loss.loss import HalfBinomialLoss, HalfMultinomialLoss
from sklearn.linear_model._linear_loss import LinearModelLoss

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "learn")

C = 1.0
MAX_ITER = 100
TOL = 1e-4


def objective(model, X, y):
    """The penalised mean loss sklearn's lbfgs path minimises, at the fitted parameters."""
    classes = model.classes_
    n = X.shape[0]
    l2 = 1.0 / (C * n)
    if len(classes) == 2:
        loss = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
        w = np.concatenate([model.coef_[0], model.intercept_])
        target = (y == classes[1]).astype(np.float64)
    else:
        loss = LinearModelLoss(
            base_loss=HalfMultinomialLoss(n_classes=len(classes)), fit_intercept=True
        )
        w = np.hstack([model.coef_, model.intercept_[:, None]])
        target = np.searchsorted(classes, y).astype(np.float64)
    return float(loss.loss(w, X, target, l2_reg_strength=l2))


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).ravel()]


def write_case(name, description, X, y, X_test=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LogisticRegression(max_iter=MAX_ITER, random_state=42).fit(X, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    case = {
        "name": name,
        "description": description,
        "versions": {
            "sklearn": sklearn.__version__,
            "scipy": scipy.__version__,
            "numpy": np.__version__,
        },
        "params": {"C": C, "max_iter": MAX_ITER, "tol": TOL},
        "n": int(X.shape[0]),
        "d": int(X.shape[1]),
        "x": flat(X),
        "y": [int(v) for v in y],
        "classes": [int(v) for v in model.classes_],
        "coef_rows": int(model.coef_.shape[0]),
        "coef": flat(model.coef_),
        "intercept": flat(model.intercept_),
        "n_iter": int(model.n_iter_[0]),
        "converged": converged,
        "objective": objective(model, X, y),
        "pred_train": [int(v) for v in model.predict(X)],
    }
    if X_test is not None:
        case["n_test"] = int(X_test.shape[0])
        case["x_test"] = flat(X_test)
        case["pred_test"] = [int(v) for v in model.predict(X_test)]
        case["decision_test"] = flat(model.decision_function(X_test))
    path = os.path.join(OUT_DIR, name + ".json")
    with open(path, "w") as fh:
        json.dump(case, fh, separators=(",", ":"))
        fh.write("\n")
    print(f"{path}: n_iter={case['n_iter']} converged={converged} "
          f"objective={case['objective']!r} bytes={os.path.getsize(path)}")


def binary_small():
    rng = np.random.default_rng(1001)
    X = np.round(rng.normal(size=(40, 5)) * 2.0, 6)
    w = rng.normal(size=5)
    labels = np.where(X @ w + rng.normal(size=40) > 0, 7, 3)
    write_case("binary_small", "n=40 d=5 two classes (ids 3, 7) from a noisy linear rule", X, labels)


def multiclass_small():
    rng = np.random.default_rng(1002)
    ids = np.array([2, 5, 9, 11])
    means = rng.normal(size=(4, 8)) * 1.5
    k = rng.permutation(np.repeat(np.arange(4), 15))
    X = np.round(means[k] + rng.normal(size=(60, 8)), 6)
    write_case("multiclass_small", "n=60 d=8 K=4 (ids 2,5,9,11), class means + unit noise",
               X, ids[k])


def realistic_k77():
    rng = np.random.default_rng(1003)
    K, per, d = 77, 8, 32
    means = rng.normal(size=(K, d))
    k = np.repeat(np.arange(K), per)
    X = np.round(means[k] + rng.normal(size=(K * per, d)), 6)
    k_test = rng.integers(0, K, size=300)
    X_test = np.round(means[k_test] + rng.normal(size=(300, d)) * 1.2, 6)
    write_case("realistic_k77", "n=616 (77 classes x 8) d=32, class means + unit noise; "
               "300 test rows with noise 1.2", X, k, X_test)


def nonconverged():
    rng = np.random.default_rng(3000)
    K, d, per = 4, 10, 25
    means = rng.normal(size=(K, d)) * 2.0
    k = np.repeat(np.arange(K), per)
    # Feature scales spread over two decades slow L-BFGS down enough to hit max_iter, while
    # the trajectory stays insensitive to rounding (see nonconverged_chaotic for the opposite).
    scales = np.geomspace(1.0, 100.0, d)
    X = np.round((means[k] + rng.normal(size=(K * per, d))) * scales, 6)
    k_test = rng.integers(0, K, size=60)
    X_test = np.round((means[k_test] + rng.normal(size=(60, d))) * scales, 6)
    write_case("nonconverged", "n=100 d=10 K=4, class means + noise with feature scales "
               "geomspace(1, 100): lbfgs stops at max_iter=100", X, k, X_test)


def nonconverged_chaotic():
    rng = np.random.default_rng(1004)
    means = rng.normal(size=(3, 6))
    k = np.repeat(np.arange(3), 30)
    # Correlated, badly scaled columns: 100 iterations fall short and the path amplifies
    # rounding differences, so no reimplementation can match sklearn closely here.
    mix = rng.normal(size=(6, 6))
    mix[:, 0] *= 10.0
    X = np.round((means[k] + rng.normal(size=(90, 6))) @ mix * 5.0, 6)
    k_test = rng.integers(0, 3, size=60)
    X_test = np.round((means[k_test] + rng.normal(size=(60, 6))) @ mix * 5.0, 6)
    write_case("nonconverged_chaotic", "n=90 d=6 K=3, overlapping classes seen through an "
               "ill-conditioned linear map: lbfgs stops at max_iter=100 on a path that is "
               "sensitive to rounding", X, k, X_test)


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    binary_small()
    multiclass_small()
    realistic_k77()
    nonconverged()
    nonconverged_chaotic()


if __name__ == "__main__":
    main()
