"""Unsupervised outlier detection on ten ODDS/ADBench tables (ADBench protocol).

Each detector is fitted on every row of a table (labels unseen), scores the
same rows, and is judged by the ROC-AUC of its scores against the labels.
skae's detector runs with its default parameters after a StandardScaler;
the baselines are IsolationForest, LocalOutlierFactor, PCA reconstruction
error and pyod's AutoEncoder (skipped when pyod is not installed).

With ``--novelty`` the training data are clean instead (novelty detection):
per table and seed, every detector is fitted on a random half of the inliers
(its scaler too) and scores the other half and every outlier.

With ``--false-alarms ALPHA`` it measures the conformal threshold instead:
per table and seed, 30 % of the inliers are held out as fresh inliers; the
detector (defaults, ``calibration_fraction=0.3``, ``false_alarm_rate=ALPHA``)
is fitted on the other inliers ("clean") or on them and every outlier
("contaminated"), and the table gives the fraction of fresh inliers flagged
(the false-alarm rate, which should be at most ALPHA up to sampling error)
and, for the clean fit, the fraction of outliers flagged.

Usage::

    python benchmarks/bench_outliers.py [DATA_DIR] [--seeds 0 1 2] [--tables cardio wbc]
        [--n-estimators 3] [--n-rounds 1] [--novelty]
    python benchmarks/bench_outliers.py [DATA_DIR] --false-alarms 0.05 [--seeds 0 1 2]

DATA_DIR defaults to /work/shared/data/odds (``arrhythmia.mat`` and nine
``.npz`` files with arrays ``X`` and ``y``, 1 = outlier). Seeded methods run
once per seed; the table shows their mean ROC-AUC over seeds and the mean
seconds per fit. ``--n-estimators N`` runs skae's detector as an ensemble of
N networks, and ``--n-rounds N`` with N training rounds (4, the default).
Timings depend on the machine and its load.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings
from functools import partial
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


# Each method maps (X_fit, X_score, seed) to outlier scores of X_score: higher
# = more abnormal. In the ADBench protocol X_score is X_fit.


def skae_scores(X_fit, X_score, seed, **params):
    detector = make_pipeline(
        StandardScaler(), AutoencoderOutlierDetector(random_state=seed, **params)
    )
    return -detector.fit(X_fit).score_samples(X_score)


def iforest_scores(X_fit, X_score, seed):
    return -IsolationForest(random_state=seed).fit(X_fit).score_samples(X_score)


def lof_scores(X_fit, X_score, seed):
    scaler = StandardScaler().fit(X_fit)
    if X_score is X_fit:
        lof = LocalOutlierFactor().fit(scaler.transform(X_fit))
        return -lof.negative_outlier_factor_
    lof = LocalOutlierFactor(novelty=True).fit(scaler.transform(X_fit))
    return -lof.score_samples(scaler.transform(X_score))


def pca_scores(X_fit, X_score, seed):
    # Half the variance: the best of 0.5 / 0.7 / 0.9 on these tables.
    scaler = StandardScaler().fit(X_fit)
    pca = PCA(n_components=0.5, svd_solver="full").fit(scaler.transform(X_fit))
    Xs = scaler.transform(X_score)
    return ((pca.inverse_transform(pca.transform(Xs)) - Xs) ** 2).sum(axis=1)


def pyod_scores(X_fit, X_score, seed):
    from pyod.models.auto_encoder import AutoEncoder

    detector = AutoEncoder(verbose=0, random_state=seed).fit(X_fit)
    if X_score is X_fit:
        return detector.decision_scores_
    return detector.decision_function(X_score)


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


def novelty_split(y, seed):
    """Half the inliers to fit on (drawn with ``seed``) and the other rows to
    score, in order."""
    inliers = np.flatnonzero(y == 0)
    rng = np.random.default_rng(seed)
    fit = np.sort(rng.choice(inliers, inliers.size // 2, replace=False))
    return fit, np.setdiff1d(np.arange(y.size), fit)


def run_method(fn, X, y, seeds, novelty=False):
    """ROC-AUC per seed and mean seconds per fit (and score)."""
    aucs, seconds = [], []
    for seed in seeds:
        X_fit = X_score = X
        labels = y
        if novelty:
            fit, score = novelty_split(y, seed)
            X_fit, X_score, labels = X[fit], X[score], y[score]
        start = time.perf_counter()
        scores = fn(X_fit, X_score, seed)
        seconds.append(time.perf_counter() - start)
        aucs.append(roc_auc_score(labels, scores))
    return aucs, float(np.mean(seconds))


def benchmark(data_dir, tables, seeds, novelty=False):
    methods = available_methods()
    results = {}
    for name in tables:
        X, y = load_table(data_dir, name)
        for method, (fn, seeded) in methods.items():
            method_seeds = seeds if seeded or novelty else seeds[:1]
            results[name, method] = run_method(fn, X, y, method_seeds, novelty)
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


def false_alarms(X, y, seed, alpha):
    """Fresh inliers flagged after a clean and a contaminated fit, and outliers
    flagged after the clean one."""
    rng = np.random.default_rng(seed)
    inliers = rng.permutation(np.flatnonzero(y == 0))
    n_fresh = int(0.3 * inliers.size)
    fresh, train = inliers[:n_fresh], inliers[n_fresh:]
    outliers = np.flatnonzero(y == 1)
    rates = []
    for rows in (train, np.concatenate([train, outliers])):
        detector = make_pipeline(
            StandardScaler(),
            AutoencoderOutlierDetector(
                calibration_fraction=0.3, false_alarm_rate=alpha, random_state=seed
            ),
        ).fit(X[rows])
        rates.append(np.mean(detector.predict(X[fresh]) == -1))
        if len(rates) == 1:
            power = np.mean(detector.predict(X[outliers]) == -1)
    return rates[0], rates[1], power


def report_false_alarms(data_dir, tables, seeds, alpha):
    print(f"false_alarm_rate={alpha}: fraction flagged, mean over seeds {seeds}")
    print(f"{'table':<12}{'clean':>8}{'contam.':>9}{'outliers':>10}")
    all_rates = []
    for name in tables:
        X, y = load_table(data_dir, name)
        rates = np.mean([false_alarms(X, y, seed, alpha) for seed in seeds], axis=0)
        all_rates.append(rates)
        cells = f"{rates[0]:>8.3f}{rates[1]:>9.3f}{rates[2]:>10.3f}"
        print(f"{name:<12}{cells}", flush=True)
    mean = np.mean(all_rates, axis=0)
    print(f"{'mean':<12}{mean[0]:>8.3f}{mean[1]:>9.3f}{mean[2]:>10.3f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", nargs="?", default=DEFAULT_DIR)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tables", nargs="+", default=TABLES)
    parser.add_argument("--false-alarms", type=float, metavar="ALPHA", default=None)
    parser.add_argument("--n-estimators", type=int, default=1)
    parser.add_argument("--n-rounds", type=int, default=4)
    parser.add_argument("--novelty", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="sklearn.neighbors")
    params = dict(n_estimators=args.n_estimators, n_rounds=args.n_rounds)
    METHODS["skae"] = (partial(skae_scores, **params), True)
    if args.false_alarms is not None:
        report_false_alarms(args.data_dir, args.tables, args.seeds, args.false_alarms)
        return
    print_header(available_methods())
    methods, results = benchmark(args.data_dir, args.tables, args.seeds, args.novelty)
    print_summary(methods, results, args.tables, args.seeds)


if __name__ == "__main__":
    main()
