"""``explained_variance_ratio_``: the share of the variance a fit reconstructs,
split over the code units.

The total is ``1 - SSE / SST`` of the reconstruction of (a sample of) the
training rows. Each code unit's share is in proportion to how much the
squared error rises when that unit alone is replaced by its mean over the
rows, so that the shares sum to the total, as PCA's ratios do.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import numpy as np
import torch

from ._data import ColumnSummary
from ._seeds import Stream, derived_seed
from ._threads import numpy_workers

# The total reads at most this many training rows, drawn at random: a pass
# over all of them would cost a third of an epoch per fit. On MNIST (60,000
# rows) 2,000 rows give the ratio to about +-0.003 (10,000: +-0.001) for a
# sixth of the cost, a fifth of the fixed cost of a fit.
EXPLAINED_MAX_ROWS = 2_000
# The split decodes 1 + k codes a row: it reads at most this many row-decodes
# (and at least SPLIT_MIN_ROWS rows), so that a wide code costs a fit no
# more than a narrow one (2,000 MNIST rows and 32 codes: 0.78 s on all the
# rows, a tenth of it on 125).
SPLIT_MAX_DECODES = 4_000
SPLIT_MIN_ROWS = 100
# ...and at most this many multiply-adds of the network (a forward pass per
# decode, an overestimate of a decode's cost), on one row at least: a wide
# code of a convolutional network (a feature map of 3,136 units on MNIST)
# took a minute a fit on 100 rows; the dense networks stay under it.
SPLIT_MAX_WORK = 2_000_000_000


def variance_ratio(X, weights, errors, n_workers):
    """``1 - SSE / SST`` of rows whose mean squared errors are ``errors``.

    Both are (weighted) means over the rows, summed over features; constant
    data give 1.0 when reconstructed exactly and 0.0 otherwise, as
    ``r2_score`` does.
    """
    error = float(np.average(errors, weights=weights))
    variance = ColumnSummary(X, weights=weights, n_workers=n_workers).mean_variance
    if not 0 < variance < math.inf:
        return 1.0 if error == 0 else 0.0
    return 1.0 - error / variance


def unit_shares(total, increases):
    """``total`` split over the code units in proportion to ``increases``.

    A unit whose loss does not increase the error (a negative increase,
    rounding) gets 0; equal shares ``total / k`` when no unit's does.
    Returns a float64 array that sums to ``total`` up to rounding.
    """
    increases = np.maximum(np.asarray(increases, dtype=np.float64), 0.0)
    norm = increases.sum()
    if not 0 < norm < math.inf:
        return np.full(increases.shape, total / increases.size)
    return total * (increases / norm)


def explained_variance_ratio(estimator, X, sample_weight, errors=None):
    """``explained_variance_ratio_`` of a fitted ``estimator`` on ``X``.

    The total is that of the rows' ``errors`` when given (every row, as the
    detector scores them anyway), else of at most :data:`EXPLAINED_MAX_ROWS`
    rows drawn at random; the split (:func:`unit_shares` of
    :func:`unit_errors`) is measured on those rows, or on a random part of
    them for a wide code or a costly network (see :data:`SPLIT_MAX_DECODES`
    and :data:`SPLIT_MAX_WORK`).
    """
    X_rows, weights = _rows(estimator, X, sample_weight, EXPLAINED_MAX_ROWS, 0)
    n_workers = numpy_workers(estimator.n_threads)
    if errors is None:
        errors = estimator._squared_errors(X_rows, per_feature=False)
        X, sample_weight = X_rows, weights
    total = variance_ratio(X, sample_weight, errors, n_workers)
    k = estimator.n_components_
    if k == 1:
        return np.array([total])
    n_split = max(SPLIT_MIN_ROWS, SPLIT_MAX_DECODES // (k + 1))
    decode_cost = (k + 1) * estimator._network.module.multiply_adds()
    n_split = max(1, min(n_split, SPLIT_MAX_WORK // decode_cost))
    X_split, split_weights = _rows(estimator, X_rows, weights, n_split, 1)
    mean_errors = np.average(
        unit_errors(estimator, X_split, split_weights), axis=0, weights=split_weights
    )
    return unit_shares(total, mean_errors[1:] - mean_errors[0])


def _rows(estimator, X, sample_weight, n_max, draw):
    """``X`` and its weights, or at most ``n_max`` of its rows of positive
    weight drawn at random (the same each fit: ``draw`` names the draw)."""
    rows = explained_rows(estimator, X.shape[0], sample_weight, n_max, draw)
    if rows is None:
        return X, sample_weight
    return X[rows], None if sample_weight is None else sample_weight[rows]


def explained_rows(estimator, n_rows, sample_weight, n_max, draw=0):
    """The sorted rows read when there are more than ``n_max`` (of positive
    weight), else None."""
    if n_rows <= n_max:
        return None
    candidates = n_rows
    if sample_weight is not None and not sample_weight.all():
        # Rows of weight 0 are absent.
        candidates = np.flatnonzero(sample_weight)
        if candidates.size <= n_max:
            return candidates
    seed = derived_seed(estimator._seed, Stream.EXPLAINED_ROWS, draw)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(candidates, n_max, replace=False))


def unit_errors(estimator, X, weights):
    """The rows' mean squared errors (float64, shape (n_rows, 1 + k)): of
    the reconstruction (column 0) and, in column ``1 + j``, of the codes
    decoded with unit ``j`` replaced by its (weighted) mean over the rows of
    ``X``.

    One pass encodes ``X`` for the means; a second encodes it again and
    decodes ``1 + k`` codes per batch.
    """
    encoder, decoder = estimator.encoder_, estimator.decoder_
    codes = estimator._apply(
        lambda batch: encoder(estimator._filled_in(batch)), X, out_dtype=np.float64
    )
    param = next(estimator._network.module.parameters())
    means = np.average(codes, axis=0, weights=weights)
    means = torch.as_tensor(means, dtype=param.dtype, device=param.device)

    def row_errors(batch, code):
        error = decoder(code).double().sub_(batch).square_()
        return error.nanmean(dim=1) if error.isnan().any() else error.mean(dim=1)

    def each_unit(batch):
        code = encoder(estimator._filled_in(batch))
        errors = [row_errors(batch, code)]
        for j in range(code.shape[1]):
            unit_lost = code.clone()
            unit_lost[:, j] = means[j]
            errors.append(row_errors(batch, unit_lost))
        return torch.stack(errors, dim=1)

    return estimator._apply(each_unit, X, out_dtype=np.float64)
