"""Order statistics of detector scores, with rows weighted as counts.

Percentiles and split-conformal p-values of scores, the rows left after
trimming the worst reconstructed, and the common scale of an ensemble's
errors: NumPy only, nothing of torch or of the estimators.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np


def member_weights(errors, weights=None):
    """``member_weights_`` from each network's errors over the training rows."""
    medians = np.array([weighted_percentile(e, weights, 50) for e in errors])
    # A network that reconstructs most rows exactly has no scale to match.
    ratios = medians[0] / medians if np.all(medians > 0) else np.ones(len(errors))
    return ratios / len(errors)


def weighted_sum(weights, arrays):
    """``sum(w * a)``; the first array itself when it is the only one."""
    if len(arrays) == 1:
        return arrays[0]
    return sum(w * a for w, a in zip(weights, arrays, strict=True))


def weighted_percentile(values, weights, q):
    """NumPy's (linear) ``percentile`` of ``values``, each repeated ``weights`` times.

    ``weights`` None is ``np.percentile`` itself. With integer weights the
    result is that of the repeated values, as scikit-learn's weight checks
    require; other non-negative weights are counts that need not be whole
    (weights well below 1 in total pull every percentile to the minimum).
    """
    if weights is None:
        return np.percentile(values, q)
    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    values, counts = values[weights > 0], np.cumsum(weights[weights > 0])
    # Position in the repeated, sorted values; the value at position k is
    # that of the first row whose cumulative count exceeds k.
    position = np.clip(np.asarray(q, dtype=float) / 100.0 * (counts[-1] - 1), 0, None)
    below = np.floor(position)
    at = np.searchsorted(counts, below, side="right")
    above = np.searchsorted(counts, below + 1, side="right")
    low, high = values[at], values[np.minimum(above, values.size - 1)]
    return low + (position - below) * (high - low)


def pvalue_steps(scores, weights=None):
    """The p-value of any score, as a step function of it.

    Returns the distinct values ``v`` of the sorted calibration ``scores``
    and the p-values ``p`` (one more): a score below ``v[0]`` has p-value
    ``p[0] = 1 / (1 + n)``, one in ``[v[j - 1], v[j])`` has ``p[j]``, one
    at or above ``v[-1]`` has ``p[-1] = 1``. ``weights`` (positive, or None
    for 1 each) count the scores.
    """
    counts = np.ones(scores.size) if weights is None else weights
    cumulative = np.cumsum(counts)
    # Tied scores are one step: the count up to the last of them.
    last = np.r_[scores[1:] != scores[:-1], True]
    below = np.r_[0.0, cumulative[last]]
    return scores[last], (1.0 + below) / (1.0 + cumulative[-1])


def trim_by_weight(errors, weights, trim_fraction):
    """Rows left after trimming ``trim_fraction`` of the weight, and their weights.

    The rows of positive weight are taken from the smallest error up until
    they hold the weight to keep; the last one keeps only the part of its
    weight that is needed. With integer weights this trains on exactly the
    rows the unweighted rule keeps from the rows repeated as their weights
    say. Returns the rows in order.
    """
    positive = np.flatnonzero(weights)
    order = positive[np.argsort(errors[positive], kind="stable")]
    cumulative = np.cumsum(weights[order])
    total = cumulative[-1]
    keep = max(min(total, 2.0), total - np.floor(trim_fraction * total))
    n_rows = int(np.searchsorted(cumulative, keep, side="left")) + 1
    rows, kept = order[:n_rows], weights[order[:n_rows]].copy()
    kept[-1] -= cumulative[n_rows - 1] - keep
    in_order = np.argsort(rows)
    return rows[in_order], kept[in_order]
