"""Shared helpers of the reliability suites: the public estimators and their methods.

Every suite runs over the autoencoders listed in ``skae.__all__``, so a new
one joins them as soon as it is exported; ``AutoencoderImputer``, which wraps
one, has its own suite (``test_imputer.py``). Methods are called only where
the estimator has them.
"""

import inspect
import warnings

import numpy as np

import skae
from skae._base import _BaseAutoencoder

# Tiny networks and few epochs: these suites fit hundreds of times.
FAST = dict(hidden_layer_sizes=(4,), max_iter=3, device="cpu", random_state=0)

# Parameters for particular estimators, keyed by class name; a class not
# listed gets FAST only. Keys a class does not accept are dropped, so the
# table never breaks a suite when an estimator's parameters change.
EXTRA_PARAMS = {
    "DenoisingAutoencoder": dict(noise_level=0.1),
    "AutoencoderOutlierDetector": dict(contamination=0.1),
    # Its loss is a one-sample estimate of the ELBO, whose noise hides what
    # a few steps at 1e-3 achieve: at this rate every epoch of the suites'
    # tiny fits visibly improves it.
    "VariationalAutoencoder": dict(learning_rate_init=3e-2),
}

# Methods taking data with n_features_in_ columns, in the order tried.
DATA_METHODS = (
    "transform",
    "score_samples",
    "score",
    "reconstruct",
    "decision_function",
    "predict",
)
# Methods that fit: ``fit`` itself, then those that fit and return something.
FIT_METHODS = ("fit", "partial_fit", "fit_transform", "fit_predict")


def public_estimator_classes():
    """The autoencoder classes ``skae`` exports."""
    classes = (getattr(skae, name) for name in skae.__all__)
    return [
        c for c in classes if inspect.isclass(c) and issubclass(c, _BaseAutoencoder)
    ]


def make_estimator(cls, **overrides):
    """``cls`` with the fast settings, its extras and ``overrides`` it accepts."""
    accepted = cls().get_params(deep=False)
    params = {**FAST, **EXTRA_PARAMS.get(cls.__name__, {}), **overrides}
    return cls(**{k: v for k, v in params.items() if k in accepted})


def is_density_model(estimator):
    """Whether ``score_samples`` is a log-likelihood rather than minus a
    reconstruction error (``estimator`` may be a class)."""
    cls = estimator if inspect.isclass(estimator) else type(estimator)
    return issubclass(cls, skae.VariationalAutoencoder)


def accepting(classes, *names):
    """The classes of ``classes`` that take every parameter in ``names``."""
    return [c for c in classes if set(names) <= set(c().get_params(deep=False))]


def class_id(cls):
    return cls.__name__


def data_methods(estimator):
    """Names of the data methods ``estimator`` has."""
    return [m for m in DATA_METHODS if hasattr(estimator, m)]


def fit_methods(estimator):
    """Names of the fitting methods ``estimator`` has."""
    return [m for m in FIT_METHODS if hasattr(estimator, m)]


def call(estimator, method, X):
    """``estimator.method(X)``, quietly (convergence warnings are expected)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Maximum iterations")
        return getattr(estimator, method)(X)


def all_outputs(estimator, X):
    """``{method: output}`` for every data method, plus the inverse transform."""
    outputs = {m: call(estimator, m, X) for m in data_methods(estimator)}
    if hasattr(estimator, "inverse_transform"):
        codes = call(estimator, "transform", X)
        outputs["inverse_transform"] = estimator.inverse_transform(codes)
    return outputs


def assert_outputs_equal(a, b):
    """Two ``all_outputs`` results are bit-identical."""
    assert a.keys() == b.keys()
    for method in a:
        np.testing.assert_array_equal(
            np.asarray(a[method]), np.asarray(b[method]), err_msg=method
        )


def assert_finite(output, name=""):
    values = np.asarray(output, dtype=np.float64)
    assert np.isfinite(values).all(), f"{name} returned non-finite values"


def blobs(n_samples=24, n_features=3, dtype=np.float64, seed=0):
    """Small, well-scaled data with some structure."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n_samples, 2))
    mixing = rng.normal(size=(2, n_features))
    X = latent @ mixing + 0.1 * rng.normal(size=(n_samples, n_features))
    return X.astype(dtype)
