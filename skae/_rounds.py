"""The outlier detector's training rounds: retraining on the best-reconstructed rows.

An autoencoder trained on every row also learns to reconstruct the outliers
among them; each round after the first trains a fresh network on the rows
the previous one reconstructed best, leaving out the ``trim_fraction``
worst, on a random subsample of at most ``max_samples`` of them.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np

from ._callbacks import subtask
from ._scores import trim_by_weight
from ._seeds import Stream, derived_seed
from ._training import StopReason

# max_samples='auto': rows each round trains on, at most. Caps the cost of a
# fit on large tables (it then grows with the rows only through scoring).
AUTO_MAX_SAMPLES = 20_000
# Stop reasons that end the rounds: Ctrl-C means stop now, and a round that
# diverged would likely diverge again with the same settings. The network
# the loop kept is scored and thresholded.
_STOP_ROUNDS = (
    StopReason.INTERRUPTED,
    StopReason.DIVERGED,
    StopReason.DIVERGED_AT_START,
)


def train_rounds(detector, X, sample_weight, train, seed):
    """Train the detector's rounds on the rows ``train`` of ``X`` (all if None).

    Returns every row's squared errors under the final network and the stop
    reason of its training; sets ``detector.max_samples_``. Each round is a
    callback task (when there are several), which a callback can end the
    rounds at.
    """
    rows, weights = np.arange(X.shape[0]) if train is None else train, None
    if sample_weight is not None:
        rows = rows[sample_weight[rows] > 0]
        weights = sample_weight[rows]
    rng = np.random.default_rng(derived_seed(seed, Stream.SUBSAMPLE))
    detector.max_samples_ = max_samples_for(detector.max_samples, rows.size)
    for round_ in range(detector.n_rounds):
        rows, weights = subsample(rows, weights, detector.max_samples_, rng)
        if detector.verbose:
            print(
                f"Round {round_ + 1} of {detector.n_rounds}: {rows.size} rows",
                flush=True,
            )
        X_round = X if rows.size == X.shape[0] else X[rows]
        several = detector.n_rounds > 1
        with subtask(detector, "round", detector.max_iter, when=several) as task:
            reason = detector._fit(X_round, sample_weight=weights)
            stop = task.end()
        errors = detector._squared_errors(X, per_feature=False)
        if reason in _STOP_ROUNDS or stop:
            break
        rows, weights = best_reconstructed(
            errors, detector.trim_fraction, sample_weight, train
        )
    return errors, reason


def member_subtasks(detector):
    """The most subtasks of a network's callback task: rounds, or epochs."""
    return detector.n_rounds if detector.n_rounds > 1 else detector.max_iter


def callback_subtasks(detector, method):
    """The most subtasks of the detector's root callback task of ``method``:
    members, or else rounds, or else epochs."""
    if detector.n_estimators > 1:
        return detector.n_estimators
    return 1 if method == "partial_fit" else member_subtasks(detector)


def max_samples_for(max_samples, n_samples):
    """The number of rows a round trains on at most (``max_samples_``)."""
    if max_samples == "auto":
        return min(AUTO_MAX_SAMPLES, n_samples)
    if isinstance(max_samples, Integral):
        return min(max_samples, n_samples)
    return max(2, int(max_samples * n_samples))


def subsample(rows, weights, max_samples, rng):
    """``rows`` and their ``weights`` (or None), or a random subset of
    ``max_samples`` of the rows, in order, with their weights."""
    if rows.size <= max_samples:
        return rows, weights
    chosen = np.sort(rng.choice(rows.size, size=max_samples, replace=False))
    return rows[chosen], None if weights is None else weights[chosen]


def best_reconstructed(errors, trim_fraction, sample_weight=None, among=None):
    """The rows the next round trains on, in order, and their weights.

    Unweighted, the ``trim_fraction`` of the rows with the largest errors
    are left out (the weights are None). Weighted, that fraction of the
    total weight is: see :func:`~skae._scores.trim_by_weight`. The rows are
    chosen from ``among`` (sorted row indices; every row when None).
    """
    if among is not None:
        weights = None if sample_weight is None else sample_weight[among]
        rows, kept = best_reconstructed(errors[among], trim_fraction, weights)
        return among[rows], kept
    if sample_weight is not None:
        return trim_by_weight(errors, sample_weight, trim_fraction)
    n = errors.shape[0]
    n_keep = max(min(n, 2), n - int(trim_fraction * n))
    # A stable sort makes ties (e.g. duplicated rows) deterministic.
    return np.sort(np.argsort(errors, kind="stable")[:n_keep]), None
