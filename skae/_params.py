"""The shared parameters: their constraints, and the checks that need the data.

Single parameters are validated by scikit-learn's ``_validate_params`` from
:data:`PARAMETER_CONSTRAINTS`; what depends on several parameters at once,
or on the data, is checked by :func:`check_settings` at the start of every
fit.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import torch

from ._modules import ACTIVATIONS
from ._recipe import SOLVERS
from ._sklearn_compat import Interval, StrOptions

PARAMETER_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left")],
    "hidden_layer_sizes": [
        "array-like",
        Interval(Integral, 1, None, closed="left"),
    ],
    "activation": [StrOptions(set(ACTIVATIONS))],
    "output_activation": [StrOptions({"identity", "sigmoid"})],
    "loss": [StrOptions({"mse", "bce"})],
    "solver": [StrOptions(set(SOLVERS))],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "batch_size": [
        StrOptions({"auto"}),
        Interval(Integral, 1, None, closed="left"),
    ],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "shuffle": ["boolean"],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "l1_ratio": [Interval(Real, 0, 1, closed="both")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "sparsity": [StrOptions({"kl", "l1"}), None],
    "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
    "sparsity_weight": [Interval(Real, 0, None, closed="left")],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
    "random_state": ["random_state"],
    "device": [str, torch.device],
}


def hidden_sizes(hidden_layer_sizes):
    """``hidden_layer_sizes`` as a list (a bare int is one layer), as MLP does."""
    if isinstance(hidden_layer_sizes, Integral):
        return [hidden_layer_sizes]
    return list(hidden_layer_sizes)


def check_settings(estimator, X, summary):
    """Raise a ValueError for shared settings that are invalid together or for X.

    Parameters
    ----------
    estimator : _BaseAutoencoder
        Its parameters are read, never changed.
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        The validated training data.
    summary : skae._data.ColumnSummary
        Column statistics of ``X``, computed only if a check needs them.
    """
    sizes = hidden_sizes(estimator.hidden_layer_sizes)
    if not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must hold positive integers (layer widths); "
            f"got {estimator.hidden_layer_sizes!r}."
        )
    # An estimator without some of these parameters (the variational
    # autoencoder has a likelihood instead of a loss) skips their checks.
    loss = getattr(estimator, "loss", None)
    output_activation = getattr(estimator, "output_activation", None)
    if loss == "bce" and output_activation != "sigmoid":
        raise ValueError(
            "loss='bce' needs output_activation='sigmoid': the binary "
            "cross-entropy compares probabilities in (0, 1)."
        )
    if output_activation == "sigmoid":
        check_unit_range(summary, loss)
    sparsity = getattr(estimator, "sparsity", None)
    if sparsity == "kl" and estimator.activation not in ("sigmoid", "tanh"):
        raise ValueError(
            "sparsity='kl' compares the mean code activation with "
            "sparsity_target, a rate in (0, 1), so it needs codes in a "
            "bounded range: use activation='sigmoid' or 'tanh' (got "
            f"activation={estimator.activation!r}), or sparsity='l1'."
        )
    if estimator.early_stopping and X.shape[0] < 2:
        raise ValueError(
            "early_stopping=True needs at least 2 samples: one to train on "
            f"and one to validate on; got {X.shape[0]}."
        )


def check_unit_range(summary, loss):
    """Raise unless the summarised data lie in [0, 1] (a sigmoid output's range)."""
    low, high = float(summary.min.min()), float(summary.max.max())
    if low < 0 or high > 1:
        what = "loss='bce'" if loss == "bce" else "output_activation='sigmoid'"
        raise ValueError(
            f"{what} needs X in [0, 1], but X ranges over [{low:g}, {high:g}]. "
            "Scale it first (e.g. MinMaxScaler) or use "
            "output_activation='identity' with loss='mse'."
        )
