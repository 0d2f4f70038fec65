"""Outlier detection on images: MNIST (or Fashion-MNIST), one class at a time.

Two protocols, each digit in turn being the normal class:

- ``oneclass`` (Ruff et al. 2018): fit on the training images of the digit,
  score the 10,000 test images; the digit's test images are the inliers.
- ``contaminated``: the digit's training images with 5 % images of other
  digits mixed in; fit and score the same rows (labels unseen).

Every detector runs with its defaults on raw pixels in [0, 1], as a new user
would: skae's ``AutoencoderOutlierDetector``, the reconstruction error of
``PCA(32)``, the distance to the 5th nearest neighbour, IsolationForest and
LocalOutlierFactor (``novelty=True`` for the one-class protocol). The table
gives the ROC-AUC per digit and the mean, and the seconds per digit (fit and
score; seeded methods: means over seeds).

Usage::

    python benchmarks/bench_image_outliers.py [DATA_DIR] [--protocol oneclass]
        [--seeds 0 1 2] [--digits 0 1 ...] [--methods skae pca]
        [--n-train 2000] [--n-test 2000] [--n-estimators 3] [--n-rounds 1]

``--n-train`` / ``--n-test`` subsample (seeded, the same rows for every
method) for quick runs; the figures in the docs use every image.
``--n-estimators N`` runs skae's detector as an ensemble of N networks, and
``--n-rounds N`` with N training rounds (4, the default).
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings
from functools import partial

import numpy as np
import torch
from _mnist import DEFAULT_DATA, load_images
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor, NearestNeighbors

from skae import AutoencoderOutlierDetector

CONTAMINATION = 0.05


# Each method maps (X_fit, X_score, seed, novelty) to scores of X_score:
# higher = more abnormal. ``novelty`` is False when X_score is X_fit.


def skae_scores(X_fit, X_score, seed, novelty, **params):
    detector = AutoencoderOutlierDetector(random_state=seed, **params).fit(X_fit)
    return -detector.score_samples(X_score)


def pca_scores(X_fit, X_score, seed, novelty):
    pca = PCA(32, random_state=0).fit(X_fit)
    return ((pca.inverse_transform(pca.transform(X_score)) - X_score) ** 2).sum(1)


def knn_scores(X_fit, X_score, seed, novelty):
    # Scoring the training rows themselves, each is its own nearest neighbour.
    k = 5 if novelty else 6
    distances, _ = NearestNeighbors(n_neighbors=k).fit(X_fit).kneighbors(X_score)
    return distances[:, -1]


def iforest_scores(X_fit, X_score, seed, novelty):
    return -IsolationForest(random_state=seed).fit(X_fit).score_samples(X_score)


def lof_scores(X_fit, X_score, seed, novelty):
    if novelty:
        return -LocalOutlierFactor(novelty=True).fit(X_fit).score_samples(X_score)
    return -LocalOutlierFactor().fit(X_fit).negative_outlier_factor_


METHODS = {
    "skae": (skae_scores, True),
    "pca32": (pca_scores, False),
    "knn5": (knn_scores, False),
    "iforest": (iforest_scores, True),
    "lof": (lof_scores, False),
}


def oneclass_task(data, digit, n_train, n_test, rng):
    """(X_fit, X_score, y_score with 1 = outlier, novelty) for one digit."""
    X, y, X_test, y_test = data
    train = np.flatnonzero(y == digit)
    if n_train:
        train = np.sort(rng.choice(train, min(n_train, train.size), replace=False))
    test = np.arange(y_test.size)
    if n_test:
        test = np.sort(rng.choice(test, n_test, replace=False))
    return X[train], X_test[test], (y_test[test] != digit).astype(int), True


def contaminated_task(data, digit, n_train, n_test, rng):
    X, y, _, _ = data
    inliers = np.flatnonzero(y == digit)
    if n_train:
        inliers = rng.choice(inliers, min(n_train, inliers.size), replace=False)
    n_out = round(CONTAMINATION / (1 - CONTAMINATION) * inliers.size)
    outliers = rng.choice(np.flatnonzero(y != digit), n_out, replace=False)
    rows = np.concatenate([inliers, outliers])
    labels = np.r_[np.zeros(inliers.size, int), np.ones(n_out, int)]
    return X[rows], X[rows], labels, False


TASKS = {"oneclass": oneclass_task, "contaminated": contaminated_task}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA / "mnist")
    parser.add_argument("--protocol", choices=sorted(TASKS), default="oneclass")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--methods", nargs="+", default=list(METHODS))
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--n-test", type=int, default=None)
    parser.add_argument("--n-estimators", type=int, default=1)
    parser.add_argument("--n-rounds", type=int, default=4)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="sklearn.neighbors")
    params = dict(n_estimators=args.n_estimators, n_rounds=args.n_rounds)
    METHODS["skae"] = (partial(skae_scores, **params), True)
    data = load_images(args.data)
    print(
        f"{args.protocol} protocol, {args.data}, seeds {args.seeds}, "
        f"torch {torch.__version__} on {torch.get_num_threads()} threads"
    )
    auc_table(
        data,
        TASKS[args.protocol],
        args.digits,
        {m: METHODS[m] for m in args.methods},
        args.seeds,
        args.n_train,
        args.n_test,
    )


def auc_table(data, task, digits, methods, seeds, n_train, n_test):
    """Print each digit's ROC-AUC and seconds per method, then the means.

    ``methods`` maps a name to ``(scores function, seeded)``; a seeded
    method runs once per seed, the others once. Each digit's rows are drawn
    from a generator seeded by the digit, so every method (and every script
    calling this) scores the same rows.
    """
    print(f"{'digit':<7}" + "".join(f"{m:>10}{'s':>7}" for m in methods))
    aucs = {m: [] for m in methods}
    for digit in digits:
        rng = np.random.default_rng(digit)
        X_fit, X_score, labels, novelty = task(data, digit, n_train, n_test, rng)
        cells = ""
        for method, (fn, seeded) in methods.items():
            digit_aucs, seconds = [], []
            for seed in seeds if seeded else seeds[:1]:
                start = time.perf_counter()
                scores = fn(X_fit, X_score, seed, novelty)
                seconds.append(time.perf_counter() - start)
                digit_aucs.append(roc_auc_score(labels, scores))
            aucs[method].append(digit_aucs)
            cells += f"{np.mean(digit_aucs):>10.4f}{np.mean(seconds):>7.1f}"
        print(f"{digit:<7}{cells}", flush=True)
    print(f"{'mean':<7}" + "".join(f"{np.mean(aucs[m]):>10.4f}{'':>7}" for m in aucs))
    for method in methods:
        per_seed = np.mean(aucs[method], axis=0)
        if per_seed.size > 1:
            print(
                f"{method}: per seed "
                + ", ".join(f"{a:.4f}" for a in per_seed)
                + f" -> {per_seed.mean():.4f} +- {per_seed.std():.4f}"
            )


if __name__ == "__main__":
    main()
