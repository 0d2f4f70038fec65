"""Unsupervised outlier detection on ten ODDS/ADBench tables (ADBench protocol).

Each detector is fitted on every row of a table (labels unseen), scores the
same rows, and is judged by the ROC-AUC of its scores against the labels.
skae's detector runs with its default parameters after a StandardScaler;
the baselines are IsolationForest, LocalOutlierFactor, PCA reconstruction
error and pyod's AutoEncoder (skipped when pyod is not installed).

Usage::

    python benchmarks/bench_outliers.py [DATA_DIR] [--seeds 0 1 2] [--tables cardio wbc]

DATA_DIR defaults to /work/shared/data/odds (``arrhythmia.mat`` and nine
``.npz`` files with arrays ``X`` and ``y``, 1 = outlier). Seeded methods run
once per seed; the table shows their mean ROC-AUC over seeds and the mean
seconds per fit. Timings depend on the machine and its load.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector

DEFAULT_DIR = "/work/shared/data/odds"
TABLES = [
    "arrhythmia",
    "cardio",
    "ionosphere",
    "letter",
    "mammography",
    "optdigits",
    "pendigits",
    "satellite",
    "thyroid",
    "wbc",
]


def load_table(data_dir, name):
    """``X`` (float64) and ``y`` (1 = outlier) of one table."""
    path = Path(data_dir)
    if (path / f"{name}.npz").exists():
        with np.load(path / f"{name}.npz", allow_pickle=False) as data:
            return data["X"].astype(np.float64), data["y"].ravel().astype(int)
    from scipy.io import loadmat

    data = loadmat(path / f"{name}.mat")
    return data["X"].astype(np.float64), data["y"].ravel().astype(int)


# Each method maps (X, seed) to outlier scores: higher = more abnormal.


def skae_scores(X, seed):
    detector = make_pipeline(
        StandardScaler(), AutoencoderOutlierDetector(random_state=seed)
    )
    return -detector.fit(X).score_samples(X)


def iforest_scores(X, seed):
    return -IsolationForest(random_state=seed).fit(X).score_samples(X)


def lof_scores(X, seed):
    lof = LocalOutlierFactor().fit(StandardScaler().fit_transform(X))
    return -lof.negative_outlier_factor_


def pca_scores(X, seed):
    # Half the variance: the best of 0.5 / 0.7 / 0.9 on these tables.
    Xs = StandardScaler().fit_transform(X)
    pca = PCA(n_components=0.5, svd_solver="full").fit(Xs)
    return ((pca.inverse_transform(pca.transform(Xs)) - Xs) ** 2).sum(axis=1)


def pyod_scores(X, seed):
    from pyod.models.auto_encoder import AutoEncoder

    return AutoEncoder(verbose=0, random_state=seed).fit(X).decision_scores_


METHODS = {
    "skae": (skae_scores, True),
    "iforest": (iforest_scores, True),
    "lof": (lof_scores, False),
    "pca": (pca_scores, False),
    "pyod_ae": (pyod_scores, True),
}


def available_methods():
    try:
        import pyod.models.auto_encoder  # noqa: F401
    except ImportError:
        return {k: v for k, v in METHODS.items() if k != "pyod_ae"}
    return METHODS


def run_method(fn, X, y, seeds):
    """ROC-AUC per seed and mean seconds per fit."""
    aucs, seconds = [], []
    for seed in seeds:
        start = time.perf_counter()
        scores = fn(X, seed)
        seconds.append(time.perf_counter() - start)
        aucs.append(roc_auc_score(y, scores))
    return aucs, float(np.mean(seconds))


def benchmark(data_dir, tables, seeds):
    methods = available_methods()
    results = {}
    for name in tables:
        X, y = load_table(data_dir, name)
        for method, (fn, seeded) in methods.items():
            results[name, method] = run_method(fn, X, y, seeds if seeded else seeds[:1])
        print_row(name, X, methods, results, flush=True)
    return methods, results


def print_header(methods):
    cells = "".join(f"{m:>17}" for m in methods)
    print(f"{'table':<12}{'rows':>7}{'feat':>5}{cells}")
    print(f"{'':<24}" + "".join(f"{'auc':>10}{'s':>7}" for _ in methods))


def print_row(name, X, methods, results, flush=False):
    cells = ""
    for method in methods:
        aucs, seconds = results[name, method]
        cells += f"{np.mean(aucs):>10.3f}{seconds:>7.1f}"
    print(f"{name:<12}{X.shape[0]:>7}{X.shape[1]:>5}{cells}", flush=flush)


def print_summary(methods, results, tables, seeds):
    cells = ""
    for method in methods:
        aucs = np.mean([np.mean(results[t, method][0]) for t in tables])
        seconds = np.sum([results[t, method][1] for t in tables])
        cells += f"{aucs:>10.3f}{seconds:>7.1f}"
    print(f"{'mean (s: sum)':<24}{cells}")
    for method, (_, seeded) in methods.items():
        if seeded and len(seeds) > 1:
            per_seed = np.mean([results[t, method][0] for t in tables], axis=0)
            print(
                f"{method}: mean ROC-AUC over seeds {list(seeds)}: "
                + ", ".join(f"{a:.4f}" for a in per_seed)
                + f"  ->  {per_seed.mean():.4f} +- {per_seed.std():.4f}"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", default=DEFAULT_DIR)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tables", nargs="+", default=TABLES)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="sklearn.neighbors")
    print_header(available_methods())
    methods, results = benchmark(args.data_dir, args.tables, args.seeds)
    print_summary(methods, results, args.tables, args.seeds)


if __name__ == "__main__":
    main()
