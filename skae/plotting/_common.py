"""Helpers shared by the displays: optional matplotlib, rows, model outputs."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np


def import_pyplot(caller):
    """``matplotlib.pyplot``, or an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed. Install it "
            "with `pip install skae[plot]` (or `pip install matplotlib`)."
        ) from exc
    return plt


def select_rows(X, indices):
    """Rows ``indices`` of an array-like or DataFrame, keeping its type."""
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    return np.asarray(X)[indices]


def reconstruct(estimator, X):
    """The estimator's reconstruction of ``X``, as a float ndarray."""
    if hasattr(estimator, "reconstruct"):
        return np.asarray(estimator.reconstruct(X))
    return np.asarray(estimator.inverse_transform(estimator.transform(X)))


def code_activations(estimator, X):
    """The code-layer activations of ``X``."""
    if hasattr(estimator, "transform"):
        return np.asarray(estimator.transform(X))
    if hasattr(estimator, "deep_features"):
        # Estimators without ``transform`` (the outlier detector) still
        # expose the code layer.
        return np.asarray(estimator.deep_features(X, "code"))
    raise TypeError(
        f"{type(estimator).__name__} has neither transform nor deep_features: "
        "cannot compute codes to plot."
    )
