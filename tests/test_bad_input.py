"""Bad input, for every public estimator and method.

Each case either works, with finite outputs of the right shape and dtype,
or raises a ``ValueError``/``TypeError`` whose message names the problem:
never a torch ``RuntimeError``, never NaN. The caller's data is never
modified, whether the call works or not.

What is accepted rather than rejected, and why:

- booleans, integers, float16, numeric strings, object arrays of numbers,
  lists and numeric pandas frames of mixed dtypes are converted to float64,
  as every scikit-learn estimator converts them;
- constant columns and all-constant data (the loss falls back to the plain
  squared error), one row for ``partial_fit`` and in later calls, fewer rows
  than ``batch_size`` (the batch is clipped), read-only, non-contiguous and
  Fortran-ordered arrays;
- huge (1e30) and tiny (1e-30) magnitudes, in float64 and float32: the data
  are centred and scaled inside the network and the loss is computed in
  units of the data's scale, so the fit is the same as on unit-scale data.
  Only data whose variance overflows float64 (about 1e154 and beyond) are
  rejected at fit, and a later call whose outputs overflow (e.g. 1e300 fed
  to a model of unit-scale data) raises instead of returning inf or NaN.
"""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from _reliability import (
    accepting,
    assert_finite,
    blobs,
    call,
    class_id,
    data_methods,
    fit_methods,
    is_density_model,
    make_estimator,
    public_estimator_classes,
)
from sklearn.utils._param_validation import make_constraint

import skae

ESTIMATORS = public_estimator_classes()
# Those with code sparsity and the contractive penalty.
SPARSE_CODE_ESTIMATORS = accepting(ESTIMATORS, "sparsity", "contractive_weight")
ERRORS = (ValueError, TypeError)
X_GOOD = blobs()


def _with(value, dtype=np.float64):
    X = X_GOOD.astype(dtype)
    X[3, 1] = value
    return X


def _frame(**columns):
    return pd.DataFrame({"a": X_GOOD[:, 0], "b": X_GOOD[:, 1], **columns})


def _read_only():
    X = X_GOOD.copy()
    X.flags.writeable = False
    return X


# name -> (make the data, pattern the error message must contain)
REJECTED_AT_FIT = {
    "inf": (lambda: _with(np.inf), "infinity"),
    "-inf": (lambda: _with(-np.inf), "infinity"),
    "row_of_nan": (lambda: _with_nan_row(), "1 row.s. with no observed value"),
    "column_of_nan": (lambda: _with_nan_column(), "no observed value in column"),
    "empty": (lambda: np.empty((0, 3)), "0 sample"),
    "zero_features": (lambda: np.empty((5, 0)), "0 feature"),
    "1d": (lambda: X_GOOD[:, 0].copy(), "2D array"),
    "3d": (lambda: X_GOOD.reshape(2, 12, 3), "dim 3"),
    "strings": (lambda: np.array([["a", "b", "c"]] * 6), "string"),
    "object_with_strings": (lambda: _object_with_string(), "string"),
    "complex": (lambda: X_GOOD + 1j, "omplex"),
    "frame_with_text": (lambda: _frame(c=["x"] * 24), "string"),
    "frame_categorical": (lambda: _frame(c=pd.Categorical(["u", "v"] * 12)), "string"),
    "variance_overflows": (lambda: X_GOOD * 1e300, "too large"),
}


def _with_nan_row():
    X = X_GOOD.copy()
    X[5] = np.nan
    return X


def _with_nan_column():
    X = X_GOOD.copy()
    X[:, 1] = np.nan
    return X


def _object_with_string():
    X = X_GOOD.astype(object)
    X[2, 0] = "oops"
    return X


# name -> (make the data, extra parameters)
ACCEPTED_AT_FIT = {
    # Missing values: left out of the loss, the statistics and the scores.
    "nan": (lambda: _with(np.nan), {}),
    "nan_float32": (lambda: _with(np.nan, np.float32), {}),
    "frame_missing": (lambda: _frame(c=pd.array([1, None] * 12, dtype="Int64")), {}),
    "booleans": (lambda: X_GOOD > 0, {}),
    "integers": (lambda: np.round(X_GOOD * 10).astype(np.int64), {}),
    "int32": (lambda: np.round(X_GOOD * 10).astype(np.int32), {}),
    "float16": (lambda: X_GOOD.astype(np.float16), {}),
    "numeric_strings": (lambda: X_GOOD.astype(str), {}),
    "object_numbers": (lambda: X_GOOD.astype(object), {}),
    "list_of_lists": (lambda: X_GOOD.tolist(), {}),
    "constant_column": (lambda: np.c_[X_GOOD[:, :2], np.full(24, 7.0)], {}),
    "all_constant": (lambda: np.full((24, 3), 3.0), {}),
    "huge_float64": (lambda: X_GOOD * 1e30, {}),
    "huge_float32": (lambda: (X_GOOD * 1e30).astype(np.float32), {}),
    "tiny_float64": (lambda: X_GOOD * 1e-30, {}),
    "tiny_float32": (lambda: (X_GOOD * 1e-30).astype(np.float32), {}),
    "float32": (lambda: X_GOOD.astype(np.float32), {}),
    "read_only": (_read_only, {}),
    "non_contiguous": (lambda: np.repeat(X_GOOD, 2, axis=1)[:, ::2], {}),
    "negative_strides": (lambda: X_GOOD[::-1, ::-1], {}),
    "fortran_order": (lambda: np.asfortranarray(X_GOOD), {}),
    "frame_numeric_mixed": (
        lambda: _frame(c=np.arange(24), d=np.arange(24) % 2 == 0),
        {},
    ),
    "frame_float32": (lambda: _frame().astype(np.float32), {}),
    "fewer_rows_than_batch_size": (lambda: X_GOOD[:5], {"batch_size": 64}),
    "two_rows": (lambda: X_GOOD[:2], {}),
}


def _copy(X):
    return X.copy() if hasattr(X, "copy") else [list(row) for row in X]


def assert_unchanged(X, before):
    """The caller's data are as they were."""
    if isinstance(X, pd.DataFrame):
        pd.testing.assert_frame_equal(X, before)
    elif isinstance(X, list):
        assert before == X
    else:
        assert X.dtype == before.dtype
        np.testing.assert_array_equal(X, before)


def _expected_dtype(X):
    dtypes = X.dtypes.unique() if isinstance(X, pd.DataFrame) else [np.asarray(X).dtype]
    return np.float32 if all(d == np.float32 for d in dtypes) else np.float64


def check_outputs(estimator, X):
    """Every data method works on ``X``: finite, right shapes and dtypes."""
    n_samples, n_features = np.shape(X)
    dtype = _expected_dtype(X)
    for method in data_methods(estimator):
        out = call(estimator, method, X)
        assert_finite(out, method)
        if method == "score":
            assert np.ndim(out) == 0
        elif method == "transform":
            assert out.shape == (n_samples, estimator.n_components_)
            assert out.dtype == dtype
            if hasattr(estimator, "inverse_transform"):
                recon = estimator.inverse_transform(out)
                assert_finite(recon, "inverse_transform")
                assert recon.shape == (n_samples, n_features)
                assert recon.dtype == dtype
        elif method == "reconstruct":
            assert out.shape == (n_samples, n_features) and out.dtype == dtype
        else:
            assert out.shape == (n_samples,)
            if method != "predict":
                assert out.dtype == np.float64


def _fitted(cls, X=X_GOOD, method="fit", **params):
    estimator = make_estimator(cls, **params)
    call(estimator, method, X)
    return estimator


def _rejects(fn, pattern):
    with pytest.raises(ERRORS) as info:
        fn()
    assert re.search(pattern, str(info.value)), str(info.value)


# ----------------------------------------------------------------------
# Data at fit time


@pytest.mark.parametrize("case", REJECTED_AT_FIT)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_fit_rejects_bad_data(cls, case):
    make, pattern = REJECTED_AT_FIT[case]
    for method in fit_methods(cls()):
        X = make()
        before = _copy(X)
        _rejects(lambda m=method, X=X: call(make_estimator(cls), m, X), pattern)
        assert_unchanged(X, before)


@pytest.mark.parametrize("case", ACCEPTED_AT_FIT)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_fit_accepts_and_outputs_are_finite(cls, case):
    make, params = ACCEPTED_AT_FIT[case]
    for method in fit_methods(cls()):
        X = make()
        before = _copy(X)
        estimator = _fitted(cls, X, method, **params)
        assert_unchanged(X, before)
        check_outputs(estimator, X)
        assert_unchanged(X, before)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_one_sample(cls):
    # fit needs two rows (check_fit2d_1sample); partial_fit takes a chunk
    # of one, and a fitted model scores a single row.
    for method in set(fit_methods(cls())) - {"partial_fit"}:
        _rejects(lambda m=method: call(make_estimator(cls), m, X_GOOD[:1]), "1 sample")
    check_outputs(_fitted(cls), X_GOOD[:1])
    if hasattr(cls, "partial_fit"):
        check_outputs(_fitted(cls, X_GOOD[:1], "partial_fit"), X_GOOD[:1])


@pytest.mark.parametrize("scale", [1e30, 1e-30])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_extreme_magnitudes_fit_as_unit_scale_data(cls, dtype, scale):
    # The network standardises its input and the loss is taken in units of
    # the data's scale, so a model of X * scale is the model of X, rescaled.
    # (Gaussian denoising noise is in the data's units, so not scale-free;
    # masking noise is.)
    params = {"noise": "masking"} if "noise" in cls().get_params() else {}
    X = X_GOOD.astype(dtype)
    small = _fitted(cls, X, **params)
    big = _fitted(cls, (X_GOOD * scale).astype(dtype), **params)
    Xs = (X_GOOD * scale).astype(dtype)
    rtol = 1e-3 if dtype == np.float32 else 1e-6
    if hasattr(small, "transform"):
        np.testing.assert_allclose(
            big.transform(Xs), small.transform(X), rtol=rtol, atol=rtol
        )
    if is_density_model(small):
        # A density of X * scale is that of X divided by scale ** n_features.
        big_scores = big.score_samples(Xs) + X.shape[1] * np.log(scale)
    else:
        big_scores = big.score_samples(Xs) / scale**2
    np.testing.assert_allclose(
        big_scores, small.score_samples(X), rtol=rtol * 10, atol=rtol
    )


@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csr_array, sp.csc_matrix])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_sparse_input_works_as_its_dense_twin(cls, container):
    X = container(X_GOOD)
    estimator = _fitted(cls, X)
    dense = _fitted(cls, X_GOOD)
    for method in data_methods(estimator):
        np.testing.assert_array_equal(
            np.asarray(call(estimator, method, X)),
            np.asarray(call(dense, method, X_GOOD)),
            err_msg=method,
        )


# ----------------------------------------------------------------------
# Data in later calls

REJECTED_LATER = {
    "inf": (lambda: _with(np.inf), "infinity"),
    "empty": (lambda: np.empty((0, 3)), "0 sample"),
    "zero_features": (lambda: np.empty((5, 0)), "0 feature"),
    "1d": (lambda: X_GOOD[0].copy(), "2D array"),
    "3d": (lambda: X_GOOD.reshape(2, 12, 3), "dim 3"),
    "strings": (lambda: np.array([["a", "b", "c"]] * 6), "string"),
    "complex": (lambda: X_GOOD + 1j, "omplex"),
    "frame_with_text": (lambda: _frame(c=["x"] * 24), "string|feature"),
    "more_features": (lambda: np.c_[X_GOOD, X_GOOD[:, 0]], "4 features"),
    "fewer_features": (lambda: X_GOOD[:, :2], "2 features"),
}
ACCEPTED_LATER = {
    "nan": lambda: _with(np.nan),
    "integers": lambda: np.round(X_GOOD * 10).astype(np.int64),
    "booleans": lambda: X_GOOD > 0,
    "float32": lambda: X_GOOD.astype(np.float32),
    "read_only": _read_only,
    "non_contiguous": lambda: np.repeat(X_GOOD, 2, axis=1)[:, ::2],
    "negative_strides": lambda: X_GOOD[::-1, ::-1],
    "constant": lambda: np.full((24, 3), 3.0),
}


@pytest.fixture(scope="module", params=ESTIMATORS, ids=class_id)
def fitted(request):
    return _fitted(request.param)


@pytest.mark.filterwarnings("ignore:X has feature names")
@pytest.mark.parametrize("case", REJECTED_LATER)
def test_later_calls_reject_bad_data(fitted, case):
    make, pattern = REJECTED_LATER[case]
    methods = data_methods(fitted) + [m for m in ("partial_fit",) if hasattr(fitted, m)]
    for method in methods:
        X = make()
        before = _copy(X)
        _rejects(lambda m=method, X=X: call(fitted, m, X), pattern)
        assert_unchanged(X, before)


@pytest.mark.parametrize("case", ACCEPTED_LATER)
def test_later_calls_accept(fitted, case):
    X = ACCEPTED_LATER[case]()
    before = _copy(X)
    check_outputs(fitted, X)
    assert_unchanged(X, before)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_later_calls_on_huge_values_are_finite_or_rejected(fitted, dtype):
    # 1e30 where the model saw unit-scale data: the outputs are finite, or
    # the call says they overflowed; never inf or NaN.
    X = (X_GOOD * 1e30).astype(dtype)
    for method in data_methods(fitted):
        try:
            out = call(fitted, method, X)
        except ValueError as exc:
            assert "overflow" in str(exc)
        else:
            assert_finite(out, method)


def test_scores_that_overflow_are_rejected(fitted):
    # Squared errors of 1e300 overflow float64: say so rather than -inf.
    X = X_GOOD * 1e300
    for method in set(data_methods(fitted)) & {
        "score_samples",
        "score",
        "decision_function",
        "predict",
    }:
        _rejects(lambda m=method: call(fitted, m, X), "overflow")


# name -> (make codes from the fitted model, pattern)
REJECTED_CODES = {
    "nan": (lambda k: np.full((4, k), np.nan), "NaN"),
    "inf": (lambda k: np.full((4, k), np.inf), "infinity"),
    "empty": (lambda k: np.empty((0, k)), "0 sample"),
    "1d": (lambda k: np.zeros(k), "2D array"),
    "3d": (lambda k: np.zeros((2, 2, k)), "dim 3"),
    "strings": (lambda k: np.array([["a"] * k] * 3), "string"),
    "complex": (lambda k: np.zeros((3, k)) + 1j, "omplex"),
    "too_wide": (lambda k: np.zeros((3, k + 1)), "features"),
    "too_narrow": (lambda k: np.zeros((3, max(k - 1, 0))), "feature"),
}


@pytest.mark.parametrize("case", REJECTED_CODES)
def test_inverse_transform_rejects_bad_codes(fitted, case):
    if not hasattr(fitted, "inverse_transform"):
        pytest.skip("no inverse_transform")
    make, pattern = REJECTED_CODES[case]
    codes = make(fitted.n_components_)
    before = codes.copy()
    _rejects(lambda: fitted.inverse_transform(codes), pattern)
    np.testing.assert_array_equal(codes, before)


@pytest.mark.parametrize(
    "make",
    [
        lambda k: np.ones((3, k), dtype=np.int64),
        lambda k: np.ones((3, k), dtype=np.float32),
        lambda k: np.ones((3, k)) > 0,
        lambda k: np.asfortranarray(np.ones((3, k))),
        lambda k: np.arange(3.0 * k).reshape(3, k)[::-1, ::-1],
    ],
    ids=["integers", "float32", "booleans", "fortran", "negative_strides"],
)
def test_inverse_transform_accepts(fitted, make):
    if not hasattr(fitted, "inverse_transform"):
        pytest.skip("no inverse_transform")
    codes = make(fitted.n_components_)
    before = codes.copy()
    out = fitted.inverse_transform(codes)
    assert out.shape == (3, X_GOOD.shape[1])
    assert out.dtype == (np.float32 if codes.dtype == np.float32 else np.float64)
    assert_finite(out)
    np.testing.assert_array_equal(codes, before)


# ----------------------------------------------------------------------
# Parameters


class _Opaque:
    """An object of a type no parameter expects."""

    def __repr__(self):
        return "Opaque()"


# Values that may break an estimator, tried on every parameter whose
# constraints they violate.
CANDIDATES = [
    -1,
    0,
    1.5,
    -0.5,
    2,
    np.nan,
    np.inf,
    -np.inf,
    "helloworld",
    "",
    None,
    [],
    {},
    1j,
    _Opaque(),
    np.int64(-3),
    np.float64(-2.5),
]
# Values that satisfy the declared constraints but not the estimator.
SEMANTICALLY_INVALID = {
    "hidden_layer_sizes": [
        (16, 0),
        (16, -1),
        (4.5,),
        [[1, 2]],
        (True,),
        ("a",),
        (None,),
    ],
    "device": ["tpu", "", "meta", "cuda:x", "gpu"],
}


def _invalid_values(constraints):
    checks = [make_constraint(c) for c in constraints]
    return [v for v in CANDIDATES if not any(c.is_satisfied_by(v) for c in checks)]


def _parameter_cases():
    for cls in ESTIMATORS:
        for name, constraints in cls._parameter_constraints.items():
            values = _invalid_values(constraints) + SEMANTICALLY_INVALID.get(name, [])
            for value in values:
                yield pytest.param(
                    cls, name, value, id=f"{cls.__name__}-{name}={value!r}"
                )


@pytest.mark.parametrize("cls, name, value", list(_parameter_cases()))
def test_invalid_parameter_is_named(cls, name, value):
    estimator = make_estimator(cls).set_params(**{name: value})
    with pytest.raises(ERRORS) as info:
        call(estimator, "fit", X_GOOD)
    assert name in str(info.value), str(info.value)


def test_every_parameter_has_invalid_values():
    # Guards the generator above: a parameter with no invalid value tried
    # would silently escape the suite.
    for cls in ESTIMATORS:
        for name, constraints in cls._parameter_constraints.items():
            values = _invalid_values(constraints) + SEMANTICALLY_INVALID.get(name, [])
            assert values, f"no invalid value tried for {cls.__name__}.{name}"


UNIT_RANGE_X = np.abs(X_GOOD) / np.abs(X_GOOD).max()
# The list from the foundation issue: (parameters, data, message pattern).
ISSUE_2_CASES = {
    "unknown_activation": ({"activation": "swish"}, X_GOOD, "activation"),
    "n_components_0": ({"n_components": 0}, X_GOOD, "n_components"),
    "negative_learning_rate": (
        {"learning_rate_init": -0.1},
        X_GOOD,
        "learning_rate_init",
    ),
    "zero_width_layer": ({"hidden_layer_sizes": (16, 0)}, X_GOOD, "hidden_layer_sizes"),
    "bce_outside_unit_range": (
        {"loss": "bce", "output_activation": "sigmoid"},
        X_GOOD,
        r"loss='bce'.*\[0, 1\]",
    ),
    "sigmoid_output_outside_unit_range": (
        {"output_activation": "sigmoid"},
        X_GOOD,
        r"\[0, 1\]",
    ),
    "bce_without_sigmoid": (
        {"loss": "bce"},
        UNIT_RANGE_X,
        "output_activation='sigmoid'",
    ),
    "kl_sparsity_unbounded_codes": (
        {"sparsity": "kl", "activation": "relu"},
        X_GOOD,
        "sparsity='kl'",
    ),
    "unknown_device": ({"device": "tpu"}, X_GOOD, "device='tpu'"),
    "cuda_without_cuda": ({"device": "cuda"}, X_GOOD, "CUDA is not available"),
    "cuda_index_out_of_range": ({"device": "cuda:99"}, X_GOOD, "cuda:99"),
}


@pytest.mark.parametrize("case", ISSUE_2_CASES)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_issue_2_invalid_settings(cls, case):
    params, X, pattern = ISSUE_2_CASES[case]
    if case == "cuda_without_cuda" and torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    if not set(params) <= set(cls().get_params()):
        pytest.skip(f"{cls.__name__} does not take {sorted(params)}")
    before = X.copy()
    for method in fit_methods(cls()):
        _rejects(lambda m=method: call(make_estimator(cls, **params), m, X), pattern)
    np.testing.assert_array_equal(X, before)


# Sparse and contractive codes (issue 14): settings that make no sense
# together, or for the code they would act on (X_GOOD: 3 features, 2 codes).
ISSUE_14_CASES = {
    "topk_without_k": ({"sparsity": "topk"}, "needs sparsity_k"),
    "k_zero": ({"sparsity": "topk", "sparsity_k": 0}, "sparsity_k"),
    "k_start_below_k": (
        {"n_components": 3, "sparsity": "topk", "sparsity_k": 2, "sparsity_k_start": 1},
        r"sparsity_k_start=1 must lie in \(sparsity_k",
    ),
    "k_start_wider_than_code": (
        {"sparsity": "topk", "sparsity_k": 1, "sparsity_k_start": 5},
        "sparsity_k_start=5",
    ),
    "k_with_kl": (
        {"sparsity": "kl", "activation": "tanh", "sparsity_k": 1},
        "sparsity_k only applies to sparsity='topk'",
    ),
    "alpha_with_lifetime": (
        {"sparsity": "lifetime", "sparsity_alpha": 3.0},
        "sparsity_alpha only applies to sparsity='topk'",
    ),
    "alpha_below_one": (
        {"sparsity": "topk", "sparsity_k": 1, "sparsity_alpha": 0.5},
        "sparsity_alpha",
    ),
    "rate_zero": ({"sparsity": "lifetime", "sparsity_rate": 0.0}, "sparsity_rate"),
    "rate_one": ({"sparsity": "lifetime", "sparsity_rate": 1.0}, "sparsity_rate"),
    "negative_contractive_weight": ({"contractive_weight": -1.0}, "contractive_weight"),
}


@pytest.mark.parametrize("case", ISSUE_14_CASES)
@pytest.mark.parametrize("cls", SPARSE_CODE_ESTIMATORS, ids=class_id)
def test_issue_14_invalid_settings(cls, case):
    params, pattern = ISSUE_14_CASES[case]
    for method in fit_methods(cls()):
        _rejects(
            lambda m=method: call(make_estimator(cls, **params), m, X_GOOD), pattern
        )


@pytest.mark.parametrize(
    "params",
    [
        {"sparsity": "topk", "sparsity_k": 2},
        {"sparsity": "lifetime"},
        {"contractive_weight": 0.1},
    ],
    ids=["topk", "lifetime", "contractive"],
)
@pytest.mark.parametrize("cls", SPARSE_CODE_ESTIMATORS, ids=class_id)
def test_sparse_or_contractive_codes_may_be_overcomplete(cls, params):
    # 6 codes on 3 features: the sparsity rule or the penalty keeps the
    # network from copying its input, so the width is allowed.
    estimator = _fitted(cls, n_components=6, **params)
    check_outputs(estimator, X_GOOD)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_partial_fit_rejects_early_stopping(cls):
    if not hasattr(cls, "partial_fit"):
        pytest.skip("no partial_fit")
    _rejects(
        lambda: make_estimator(cls, early_stopping=True).partial_fit(X_GOOD),
        "early_stopping",
    )


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_deep_features_rejects_bad_layer(cls):
    estimator = _fitted(cls)
    if not hasattr(estimator, "deep_features"):
        pytest.skip("no deep_features")
    _rejects(lambda: estimator.deep_features(X_GOOD, 99), "layer=99")
    _rejects(lambda: estimator.deep_features(X_GOOD, "0"), "layer")
    _rejects(lambda: estimator.deep_features(X_GOOD, 0.5), "layer")
    assert_finite(estimator.deep_features(X_GOOD, -1))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_unknown_keyword_names_the_public_class(cls):
    # Keras's name for the number of epochs is a common slip.
    pattern = rf"^{cls.__name__}\.__init__\(\).*'epochs'"
    with pytest.raises(TypeError, match=pattern):
        cls(epochs=10)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_every_public_class_defines_its_own_init(cls):
    # scikit-learn's convention: the signature (and so get_params, the
    # docs and error messages) belongs to the public class.
    assert "__init__" in vars(cls)


# The variational autoencoder's KL term switches surplus codes off (see
# active_components_), so it takes a wide code.
@pytest.mark.parametrize("cls", SPARSE_CODE_ESTIMATORS, ids=class_id)
def test_code_wider_than_the_input_is_rejected(cls):
    # X_GOOD has 3 features: a code of 4 could learn the identity map (the
    # denoiser, without noise, too).
    wide = dict(n_components=4, noise_level=0.0)
    for method in fit_methods(cls()):
        _rejects(
            lambda m=method: call(make_estimator(cls, **wide), m, X_GOOD),
            r"n_components=4 is larger than the number of features \(3\)",
        )
    # As wide as the input is allowed, as in PCA.
    assert_finite(_fitted(cls, n_components=3).score_samples(X_GOOD))


def test_a_denoiser_takes_a_code_wider_than_its_input():
    # Noise keeps a wide code from copying its input (Vincent et al.).
    wide = make_estimator(skae.DenoisingAutoencoder, n_components=6, noise_level=0.2)
    assert_finite(call(wide, "fit", X_GOOD).transform(X_GOOD))
