"""The shared parameters: their constraints, and the checks that need the data.

Single parameters are validated by scikit-learn's ``_validate_params`` from
:data:`PARAMETER_CONSTRAINTS`; what depends on several parameters at once,
or on the data, is checked at the start of every fit by the functions here,
which the estimators call with the values to check (resolved where a
parameter is ``'auto'``), never reading an estimator themselves.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch

from ._data import rows_without_observation
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
    "image_shape": ["array-like", None],
    "conv_channels": ["array-like"],
    "kernel_size": [Interval(Integral, 1, None, closed="left")],
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


def check_hidden_sizes(sizes, given):
    """Raise unless ``sizes`` (``given`` resolved, a list) are layer widths."""
    if not all(
        isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must hold positive integers (layer widths); "
            f"got {given!r}."
        )


def check_early_stopping(early_stopping, n_samples):
    """Raise if early stopping cannot split ``n_samples`` rows in two."""
    if early_stopping and n_samples < 2:
        raise ValueError(
            "early_stopping=True needs at least 2 samples: one to train on "
            f"and one to validate on; got {n_samples}."
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
            "'lifetime', 'kl' or 'l1'), contractive (contractive_weight > 0) or "
            "denoising (DenoisingAutoencoder with noise_level > 0)."
        )


def check_sparse_code(sparsity, k, k_start, alpha, width, width_source):
    """Check the top-k settings against each other and the code's ``width``.

    ``k``, ``k_start`` and ``alpha`` are ``sparsity_k``, ``sparsity_k_start``
    and ``sparsity_alpha``; ``width_source`` says where the width came from
    (e.g. ``"n_components=8"``), for the messages. Raises for settings that
    contradict each other. A ``k`` that is not below the width is valid but
    keeps every code, so it warns: scikit-learn's own checks narrow
    ``n_components`` to 1 whatever ``k`` is, and a grid search may pair a
    ``k`` with narrower codes.
    """
    topk_only = {
        "sparsity_k": k is not None,
        "sparsity_k_start": k_start is not None,
        "sparsity_alpha": alpha != 1,
    }
    misplaced = [name for name, given in topk_only.items() if given]
    if sparsity != "topk" and misplaced:
        raise ValueError(
            f"{', '.join(misplaced)} only applies to sparsity='topk' (got "
            f"sparsity={sparsity!r}): remove them, or use sparsity='topk'."
        )
    if sparsity != "topk":
        return
    if k is None:
        raise ValueError(
            "sparsity='topk' needs sparsity_k, the number of codes each row "
            f"keeps (below the code width, {width} here; e.g. "
            f"{max(1, width // 20)})."
        )
    if k >= width:
        warnings.warn(
            f"sparsity_k={k} is not below the code width ({width_source}): "
            "every code is kept, so the code is not sparse. Lower sparsity_k "
            "or widen the code.",
            UserWarning,
            stacklevel=2,
        )
    elif k_start is not None and not k < k_start <= width:
        raise ValueError(
            f"sparsity_k_start={k_start} must lie in (sparsity_k, code width] "
            f"= ({k}, {width}] ({width_source}): the schedule lowers the codes "
            "kept per row from it to sparsity_k."
        )


def check_loss(loss, output_activation, summary):
    """Raise for a loss and output that do not fit each other or the data."""
    if loss == "bce" and output_activation != "sigmoid":
        raise ValueError(
            "loss='bce' needs output_activation='sigmoid': the binary "
            "cross-entropy compares probabilities in (0, 1)."
        )
    if output_activation == "sigmoid":
        check_unit_range(summary, loss)


def check_kl_sparsity(sparsity, activation):
    """Raise when KL sparsity meets codes that are not rates."""
    if sparsity == "kl" and activation not in ("sigmoid", "tanh"):
        raise ValueError(
            "sparsity='kl' compares the mean code activation with "
            "sparsity_target, a rate in (0, 1), so it needs codes in a "
            "bounded range: use activation='sigmoid' or 'tanh' (got "
            f"activation={activation!r}), or sparsity='l1'."
        )


def check_observed(X, summary):
    """Raise for a column or a row of ``X`` with no observed (non-NaN) cell:
    there is nothing to learn it from."""
    if not summary.has_missing:
        return
    empty = np.flatnonzero(summary.n_observed == 0)
    if empty.size:
        raise ValueError(
            f"X has no observed value in column(s) {empty[:10].tolist()} (every "
            "cell missing, or in rows of weight zero): there is nothing to learn "
            "such a feature from. Drop it."
        )
    rows = rows_without_observation(X)
    if rows.size:
        raise ValueError(
            f"X has {rows.size} row(s) with no observed value (row(s) "
            f"{rows[:10].tolist()}): a row of missing values only has nothing to "
            "train on. Drop them before fitting; the fitted model scores them "
            "as NaN."
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


def _positive_ints(values):
    return all(
        isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in values
    )


def check_image(image_shape, conv_channels, kernel_size, n_features):
    """``image_shape`` as ``(channels, height, width)``, checked against the
    convolution settings and the ``n_features`` columns of ``X``; None for a
    dense network. A side given as -1 is inferred from ``n_features``, as
    NumPy's ``reshape`` does."""
    if image_shape is None:
        return None
    shape = tuple(image_shape)
    sides_ok = _positive_ints([v for v in shape if v != -1])
    if len(shape) not in (2, 3) or not sides_ok or shape.count(-1) > 1:
        raise ValueError(
            "image_shape must be (height, width) or (channels, height, width), "
            f"positive integers (one may be -1); got {image_shape!r}."
        )
    shape = tuple(int(v) for v in ((1, *shape) if len(shape) == 2 else shape))
    channels = tuple(conv_channels)
    if not channels or not _positive_ints(channels):
        raise ValueError(
            "conv_channels must hold one positive number of output channels per "
            f"strided convolution, e.g. (32, 64); got {conv_channels!r}."
        )
    if kernel_size % 2 == 0:
        raise ValueError(
            f"kernel_size must be odd (got {kernel_size}): an odd kernel centred "
            "on each pixel lets the decoder give back images of exactly the "
            "input's height and width."
        )
    known = math.prod(v for v in shape if v != -1)
    if -1 in shape and n_features % known == 0:
        shape = tuple(n_features // known if v == -1 else v for v in shape)
    if math.prod(shape) != n_features:
        holds = f"a multiple of {known}" if -1 in shape else math.prod(shape)
        raise ValueError(
            f"image_shape={image_shape!r} holds {holds} values per image, but X "
            f"has {n_features} features: each row must be one image "
            "flattened channels first, images.reshape(len(images), -1) of an (n, "
            "channels, height, width) array."
        )
    return shape


def check_map_code(n_components, image_shape, hidden_layer_sizes, given=None):
    """Raise unless ``n_components=None`` (the feature map as the code) comes
    with an image and no dense layers; ``given`` is the parameter's value
    as the user set it, when it resolved to None."""
    if n_components is not None:
        return
    given = f"n_components={given!r}"
    if image_shape is None:
        raise ValueError(
            f"{given} makes the last convolution's feature map the code, "
            "so it needs image_shape; give n_components as an int for a dense "
            "network."
        )
    if len(hidden_layer_sizes):
        raise ValueError(
            f"{given} makes the last convolution's feature map the code, "
            "with no dense layers; set hidden_layer_sizes=() (got "
            f"{tuple(hidden_layer_sizes)!r}), or give n_components as an int."
        )


def check_untied(tied_weights, image_shape):
    """Raise for tied weights in a convolutional network."""
    if tied_weights and image_shape is not None:
        raise ValueError(
            "tied_weights=True is not available with image_shape: a convolutional "
            "network's decoder has its own transposed convolutions. Set "
            "tied_weights=False, or image_shape=None for a dense network."
        )
