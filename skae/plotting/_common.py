"""Helpers shared by the displays: optional matplotlib, rows, model outputs."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted


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


def final_step(estimator, *arrays):
    """The fitted estimator that does the work, and ``arrays`` in its input space.

    For a :class:`~sklearn.pipeline.Pipeline`, its last step and each array
    passed through the steps before it (None stays None); for any other
    estimator, itself and the arrays unchanged.
    """
    check_is_fitted(estimator)
    if not isinstance(estimator, Pipeline):
        return (estimator, *arrays)
    last = estimator[-1]
    if len(estimator) > 1:
        before = estimator[:-1]
        arrays = [None if X is None else before.transform(X) for X in arrays]
    return (last, *arrays)


def _what_to_pass(estimator, needs):
    return (
        f"{type(estimator).__name__} has no {needs}: pass a fitted skae "
        "estimator, or a fitted Pipeline whose last step is one (e.g. "
        "make_pipeline(StandardScaler(), AutoencoderOutlierDetector()))."
    )


def reconstruct(estimator, X):
    """The estimator's reconstruction of ``X``, as a float ndarray."""
    if hasattr(estimator, "reconstruct"):
        return np.asarray(estimator.reconstruct(X))
    if hasattr(estimator, "transform") and hasattr(estimator, "inverse_transform"):
        return np.asarray(estimator.inverse_transform(estimator.transform(X)))
    raise TypeError(
        _what_to_pass(estimator, "reconstruct (nor transform and inverse_transform)")
    )


def code_activations(estimator, X):
    """The code-layer activations of ``X``."""
    if hasattr(estimator, "transform"):
        return np.asarray(estimator.transform(X))
    if hasattr(estimator, "deep_features"):
        # Estimators without ``transform`` (the outlier detector) still
        # expose the code layer.
        return np.asarray(estimator.deep_features(X, "code"))
    raise TypeError(_what_to_pass(estimator, "transform (nor deep_features)"))


def as_picture(row, shape):
    """A flattened image ``row`` as a 2-d array ``imshow`` draws.

    ``shape`` is ``(height, width)`` or ``(channels, height, width)``;
    several channels are drawn side by side, the first on the left.
    """
    image = np.asarray(row).reshape(shape)
    if image.ndim == 2:
        return image
    return np.concatenate(list(image), axis=1)


def check_shape(shape, width, what):
    """``shape`` as a tuple, or a ValueError unless it holds ``width`` values."""
    shape = tuple(shape)
    if int(np.prod(shape)) != width:
        raise ValueError(
            f"image_shape={shape} holds {int(np.prod(shape))} pixels, but {what} "
            f"has {width} values."
        )
    return shape


def image_shape_of(estimator, image_shape, shape=None):
    """``image_shape``, or when None the shape the fitted estimator knows
    (``shape``, else the images its network was built for); a ValueError
    when neither is known."""
    if image_shape is not None:
        return image_shape
    network = getattr(estimator, "_network", None)
    shape = shape or getattr(getattr(network, "recipe", None), "image_shape", None)
    if shape is None:
        raise ValueError(
            f"{type(estimator).__name__} has no image_shape: pass image_shape, "
            "the shape of one image, e.g. image_shape=(8, 8)."
        )
    return shape
