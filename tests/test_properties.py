"""Properties that hold for any data shape, dtype and small architecture.

Hypothesis draws the shape, dtype, scale and a few parameters; the data
themselves come from a seeded NumPy generator, so each example is cheap and
reproducible. Examples are few and derandomized, to keep the suite fast and
its failures repeatable.
"""

import pickle
import warnings

import numpy as np
import pytest
from _reliability import (
    assert_outputs_equal,
    class_id,
    data_methods,
    is_density_model,
    make_estimator,
    public_estimator_classes,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

ESTIMATORS = public_estimator_classes()
PROPERTY = settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def problems(draw):
    """``(X, params)``: data of random shape, dtype and scale, and parameters."""
    n_samples = draw(st.integers(2, 30))
    n_features = draw(st.integers(1, 6))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    scale = draw(st.sampled_from([1e-3, 1.0, 1e3]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X = rng.normal(
        loc=rng.normal(size=n_features), scale=scale, size=(n_samples, n_features)
    )
    params = dict(
        # A code no wider than the input (wider ones are rejected).
        n_components=draw(st.integers(1, min(4, n_features))),
        hidden_layer_sizes=draw(st.sampled_from([(), (3,), (4, 2)])),
        activation=draw(
            st.sampled_from(["identity", "relu", "elu", "tanh", "sigmoid"])
        ),
        solver=draw(st.sampled_from(["adam", "sgd", "rmsprop"])),
        batch_size=draw(st.sampled_from(["auto", 1, 7])),
        max_iter=2,
        random_state=seed,
    )
    return X.astype(dtype), params


def _fit(estimator, X):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Maximum iterations")
        return estimator.fit(X)


def _outputs(estimator, X):
    outputs = {m: np.asarray(getattr(estimator, m)(X)) for m in data_methods(estimator)}
    if hasattr(estimator, "inverse_transform"):
        outputs["inverse_transform"] = estimator.inverse_transform(outputs["transform"])
    return outputs


def _tolerance(dtype):
    return (
        dict(rtol=1e-5, atol=1e-6)
        if dtype == np.float32
        else dict(rtol=1e-10, atol=1e-12)
    )


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
@PROPERTY
@given(problem=problems())
def test_output_shapes_and_dtypes(cls, problem):
    X, params = problem
    estimator = _fit(make_estimator(cls, **params), X)
    n_samples, n_features = X.shape
    outputs = _outputs(estimator, X)
    for name, out in outputs.items():
        assert np.isfinite(out).all(), name
    if "transform" in outputs:
        assert outputs["transform"].shape == (n_samples, params["n_components"])
        assert outputs["transform"].dtype == X.dtype
    for name in ("inverse_transform", "reconstruct"):
        if name in outputs:
            assert outputs[name].shape == (n_samples, n_features)
            assert outputs[name].dtype == X.dtype
    for name in ("score_samples", "decision_function", "predict"):
        if name in outputs:
            assert outputs[name].shape == (n_samples,)
    assert outputs["score_samples"].dtype == np.float64


# Density models score by log-likelihood instead (see test_vae.py).
@pytest.mark.parametrize(
    "cls", [c for c in ESTIMATORS if not is_density_model(c)], ids=class_id
)
@PROPERTY
@given(problem=problems())
def test_scores_are_minus_the_reconstruction_error(cls, problem):
    X, params = problem
    estimator = _fit(make_estimator(cls, **params), X)
    if hasattr(estimator, "reconstruct"):
        reconstruction = estimator.reconstruct(X)
    else:
        reconstruction = estimator.inverse_transform(estimator.transform(X))
    error = np.mean(
        (reconstruction.astype(np.float64) - X.astype(np.float64)) ** 2, axis=1
    )
    scores = estimator.score_samples(X)
    assert np.all(scores <= 0)
    np.testing.assert_allclose(scores, -error, rtol=1e-9, atol=1e-300)
    if hasattr(estimator, "reconstruct") and hasattr(estimator, "inverse_transform"):
        composed = estimator.inverse_transform(estimator.transform(X))
        np.testing.assert_allclose(composed, reconstruction, **_tolerance(X.dtype))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
@PROPERTY
@given(problem=problems())
def test_refit_with_the_same_random_state_is_identical(cls, problem):
    X, params = problem
    estimator = make_estimator(cls, **params)
    first = _outputs(_fit(estimator, X), X)
    assert_outputs_equal(_outputs(_fit(estimator, X), X), first)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
@PROPERTY
@given(problem=problems())
def test_clone_then_fit_equals_fit(cls, problem):
    X, params = problem
    estimator = _fit(make_estimator(cls, **params), X)
    twin = _fit(clone(estimator), X)
    assert_outputs_equal(_outputs(twin, X), _outputs(estimator, X))
    assert twin.loss_curve_ == estimator.loss_curve_


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
@PROPERTY
@given(problem=problems(), order_seed=st.integers(0, 2**16))
def test_row_order_and_subsets_do_not_change_row_outputs(cls, problem, order_seed):
    X, params = problem
    estimator = _fit(make_estimator(cls, **params), X)
    order = np.random.default_rng(order_seed).permutation(X.shape[0])
    subset = order[: max(1, len(order) // 2)]
    full = _outputs(estimator, X)
    for rows in (order, subset):
        part = _outputs(estimator, X[rows])
        for name in ("transform", "score_samples", "reconstruct", "decision_function"):
            if name in full:
                np.testing.assert_allclose(
                    part[name], full[name][rows], err_msg=name, **_tolerance(X.dtype)
                )


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
@PROPERTY
@given(problem=problems())
def test_pickle_round_trip_is_identical(cls, problem):
    X, params = problem
    estimator = _fit(make_estimator(cls, **params), X)
    loaded = pickle.loads(pickle.dumps(estimator))
    assert_outputs_equal(_outputs(loaded, X), _outputs(estimator, X))
