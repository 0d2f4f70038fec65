"""Metrics for reconstructions: squared error and peak signal-to-noise ratio."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np
from sklearn.utils.validation import check_array

from ._sklearn_compat import _check_sample_weight

__all__ = ["mean_reconstruction_error", "psnr", "reconstruction_error"]


def _check_pair(X_true, X_pred):
    """Both arrays as float64 of one shape, with at least two dimensions."""
    arrays = []
    for name, X in (("X_true", X_true), ("X_pred", X_pred)):
        X = check_array(X, dtype=np.float64, allow_nd=True, input_name=name)
        arrays.append(X)
    X_true, X_pred = arrays
    if X_true.shape != X_pred.shape:
        raise ValueError(
            "X_true and X_pred must have the same shape, one row per sample; "
            f"got {X_true.shape} and {X_pred.shape}."
        )
    return X_true, X_pred


def reconstruction_error(X_true, X_pred, *, per_feature=False):
    """Squared reconstruction error of each sample, or of each entry.

    Parameters
    ----------
    X_true : array-like of shape (n_samples, n_features)
        Original (clean) data. Arrays with more dimensions, such as images
        of shape (n_samples, height, width), are accepted: every dimension
        after the first belongs to one sample.

    X_pred : array-like of the same shape as ``X_true``
        Reconstructions, e.g. from ``estimator.reconstruct(X)``.

    per_feature : bool, default=False
        If False, return the mean squared error of each sample; if True,
        every squared error, in the shape of ``X_true``.

    Returns
    -------
    errors : ndarray of shape (n_samples,) or the shape of ``X_true``
        Squared errors, in float64. For an autoencoder ``ae``,
        ``reconstruction_error(X, ae.reconstruct(X))`` is
        ``-ae.score_samples(X)``.

    Examples
    --------
    >>> from skae.metrics import reconstruction_error
    >>> X_true = [[0.0, 1.0], [2.0, 2.0]]
    >>> X_pred = [[0.0, 0.0], [1.0, 3.0]]
    >>> reconstruction_error(X_true, X_pred)
    array([0.5, 1. ])
    >>> reconstruction_error(X_true, X_pred, per_feature=True)
    array([[0., 1.],
           [1., 1.]])
    """
    X_true, X_pred = _check_pair(X_true, X_pred)
    errors = np.square(X_pred - X_true)
    if per_feature:
        return errors
    return errors.reshape(errors.shape[0], -1).mean(axis=1)


def mean_reconstruction_error(X_true, X_pred, *, sample_weight=None):
    """Mean squared reconstruction error over samples: one number.

    The mean of :func:`reconstruction_error` over the samples (weighted by
    ``sample_weight``), so it can be given to
    :func:`~sklearn.metrics.make_scorer`: lower is better, so pass
    ``greater_is_better=False``, and name the method that reconstructs in
    ``response_method``, in a list (``["reconstruct"]``, ``["denoise"]``):
    scikit-learn's validation accepts other methods than ``predict`` in a
    list only. A scorer compares its ``y`` with the method's
    output, so pass the clean data as ``y``: ``X`` itself for a plain
    autoencoder, the clean rows behind noisy ``X`` for a denoiser.

    Parameters
    ----------
    X_true : array-like of shape (n_samples, n_features)
        Original (clean) data; images may keep their shape.

    X_pred : array-like of the same shape as ``X_true``
        Reconstructions, e.g. from ``estimator.reconstruct(X)``.

    sample_weight : array-like of shape (n_samples,), default=None
        Weight of each sample in the mean.

    Returns
    -------
    error : float
        The (weighted) mean over samples of each sample's mean squared
        error; ``-estimator.score(X)`` for ``X_pred = estimator.reconstruct(X)``.

    Examples
    --------
    >>> from skae.metrics import mean_reconstruction_error
    >>> mean_reconstruction_error([[0.0, 1.0], [2.0, 2.0]], [[0.0, 0.0], [1.0, 3.0]])
    0.75

    As a scorer for cross-validation, with ``X`` as its own target:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.metrics import make_scorer
    >>> from sklearn.model_selection import cross_val_score
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> scorer = make_scorer(
    ...     mean_reconstruction_error,
    ...     greater_is_better=False,
    ...     response_method=["reconstruct"],
    ... )
    >>> ae = AutoencoderTransformer(8, max_iter=5, random_state=0)
    >>> scores = cross_val_score(ae, X, X, scoring=scorer, cv=3)
    >>> bool((scores < 0).all())
    True
    """
    errors = reconstruction_error(X_true, X_pred)
    if sample_weight is not None:
        sample_weight = _check_sample_weight(sample_weight, errors)
    return float(np.average(errors, weights=sample_weight))


def psnr(X_true, X_pred, *, data_range=None):
    """Peak signal-to-noise ratio in dB, averaged over samples.

    The PSNR of one sample is ``10 * log10(data_range ** 2 / mse)``, where
    ``mse`` is the sample's mean squared error; higher is better, and each
    halving of the error adds about 3 dB. This function returns the mean of
    the per-sample values, the figure reported for denoising autoencoders
    on MNIST and Fashion-MNIST (one PSNR per image, averaged).

    Parameters
    ----------
    X_true : array-like of shape (n_samples, n_features)
        Original (clean) data; images may keep their shape,
        (n_samples, height, width).

    X_pred : array-like of the same shape as ``X_true``
        Reconstructions or noisy versions of ``X_true``.

    data_range : float, default=None
        Distance between the smallest and largest values the data can
        take, e.g. ``1.0`` for images in [0, 1] or ``255`` for 8-bit pixels.
        None takes the range of ``X_true``, ``X_true.max() - X_true.min()``,
        over all samples at once.

    Returns
    -------
    psnr : float
        Mean per-sample PSNR in dB. A sample reconstructed exactly has an
        infinite PSNR, so the mean is ``inf`` when any sample is perfect
        (use :func:`reconstruction_error` to compare such results).

    Raises
    ------
    ValueError
        If the shapes differ, if ``data_range`` is not positive, or if it is
        None and ``X_true`` is constant (its range is 0).

    Examples
    --------
    >>> from skae.metrics import psnr
    >>> X_true = [[0.0, 1.0], [1.0, 0.0]]
    >>> X_noisy = [[0.1, 0.9], [0.9, 0.1]]
    >>> round(psnr(X_true, X_noisy), 2)
    20.0
    >>> psnr(X_true, X_true)
    inf
    """
    X_true, X_pred = _check_pair(X_true, X_pred)
    data_range = _check_data_range(X_true, data_range)
    mse = reconstruction_error(X_true, X_pred)
    # log10(0) is -inf: an exact reconstruction gets an infinite PSNR, not
    # a warning.
    with np.errstate(divide="ignore"):
        per_sample = 10.0 * (2.0 * np.log10(data_range) - np.log10(mse))
    return float(np.mean(per_sample))


def _check_data_range(X_true, data_range):
    if data_range is None:
        data_range = float(X_true.max() - X_true.min())
        if data_range == 0:
            raise ValueError(
                "X_true is constant, so its range (the default data_range) is "
                "0 and the PSNR is undefined; pass data_range explicitly."
            )
        return data_range
    if isinstance(data_range, bool) or not isinstance(data_range, Real):
        raise TypeError(f"data_range must be a positive number; got {data_range!r}.")
    if not 0 < data_range < np.inf:
        raise ValueError(f"data_range must be positive and finite; got {data_range!r}.")
    return float(data_range)
