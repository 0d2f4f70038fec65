"""The shared parameters: their constraints, and the checks that need the data.

Single parameters are validated by scikit-learn's ``_validate_params`` from
:data:`PARAMETER_CONSTRAINTS`; what depends on several parameters at once,
or on the data, is checked at the start of every fit by :func:`check_settings`
(every estimator) and :func:`check_reconstruction_settings` (those with a
reconstruction loss).
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
    "sparsity": [StrOptions({"kl", "l1", "topk", "lifetime"}), None],
    "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
    "sparsity_weight": [Interval(Real, 0, None, closed="left")],
    "sparsity_k": [Interval(Integral, 1, None, closed="left"), None],
    "sparsity_k_start": [Interval(Integral, 1, None, closed="left"), None],
    "sparsity_alpha": [Interval(Real, 1, None, closed="left")],
    "sparsity_rate": [Interval(Real, 0, 1, closed="neither")],
    "contractive_weight": [Interval(Real, 0, None, closed="left")],
    "tied_weights": ["boolean"],
    "warm_start": ["boolean"],
    "verbose": ["verbose"],
    "random_state": ["random_state"],
    "device": [str, torch.device],
    "n_threads": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
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
    sizes = estimator._hidden_sizes()
    if not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must hold positive integers (layer widths); "
            f"got {estimator.hidden_layer_sizes!r}."
        )
    if estimator.early_stopping and X.shape[0] < 2:
        raise ValueError(
            "early_stopping=True needs at least 2 samples: one to train on "
            f"and one to validate on; got {X.shape[0]}."
        )


def check_reconstruction_settings(estimator, X, summary):
    """Raise for settings of the code and loss of a reconstruction objective.

    The checks :func:`check_settings` makes do not cover the code width,
    the sparsity rules or the loss and output; parameters as there.
    """
    overcomplete = estimator.sparsity is not None or estimator.contractive_weight > 0
    check_code_width(estimator._code_width(), X.shape[1], overcomplete)
    check_sparse_code(estimator, estimator._code_width())
    loss, output_activation = estimator.loss, estimator.output_activation
    if loss == "bce" and output_activation != "sigmoid":
        raise ValueError(
            "loss='bce' needs output_activation='sigmoid': the binary "
            "cross-entropy compares probabilities in (0, 1)."
        )
    if output_activation == "sigmoid":
        check_unit_range(summary, loss)
    if estimator.sparsity == "kl" and estimator.activation not in ("sigmoid", "tanh"):
        raise ValueError(
            "sparsity='kl' compares the mean code activation with "
            "sparsity_target, a rate in (0, 1), so it needs codes in a "
            "bounded range: use activation='sigmoid' or 'tanh' (got "
            f"activation={estimator.activation!r}), or sparsity='l1'."
        )


def check_code_width(n_components, n_features, overcomplete=False):
    """Raise unless the code is at most as wide as the input, or may be wider.

    A code with as many units as there are features can already store the
    input unchanged; a wider one leaves the network free to learn the
    identity map, which reconstructs anything, outliers included, and
    compresses nothing. Equality stays allowed, as in PCA (and scikit-learn's
    checks fit the default code of 2 on 2 features). ``overcomplete`` says a
    setting makes a wider code useful: a sparsity rule or a contractive
    penalty keeps it from copying its input.
    """
    if n_components > n_features and not overcomplete:
        raise ValueError(
            f"n_components={n_components} is larger than the number of "
            f"features ({n_features}): a code wider than its input can learn "
            "the identity map and compress nothing. Use n_components <= "
            "n_features, or make the code sparse (sparsity='topk', "
            "'lifetime', 'kl' or 'l1') or contractive (contractive_weight > 0)."
        )


def check_sparse_code(estimator, n_components):
    """Raise for top-k settings that make no sense together or for the code."""
    sparsity = estimator.sparsity
    topk_only = {
        "sparsity_k": estimator.sparsity_k is not None,
        "sparsity_k_start": estimator.sparsity_k_start is not None,
        "sparsity_alpha": estimator.sparsity_alpha != 1,
    }
    misplaced = [name for name, given in topk_only.items() if given]
    if sparsity != "topk" and misplaced:
        raise ValueError(
            f"{', '.join(misplaced)} only applies to sparsity='topk' (got "
            f"sparsity={sparsity!r}): remove them, or use sparsity='topk'."
        )
    if sparsity != "topk":
        return
    k, k_start = estimator.sparsity_k, estimator.sparsity_k_start
    if k is None:
        raise ValueError(
            "sparsity='topk' needs sparsity_k, the number of codes each row "
            f"keeps (below n_components={n_components}; e.g. "
            f"{max(1, n_components // 20)})."
        )
    if k >= n_components:
        raise ValueError(
            f"sparsity_k={k} must be below n_components={n_components}: "
            "keeping every code is no sparsity."
        )
    if k_start is not None and not k < k_start <= n_components:
        raise ValueError(
            f"sparsity_k_start={k_start} must lie in (sparsity_k, "
            f"n_components] = ({k}, {n_components}]: the schedule lowers the "
            "codes kept per row from it to sparsity_k."
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
