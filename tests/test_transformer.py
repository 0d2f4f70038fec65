"""AutoencoderTransformer: quality floors, determinism, dtypes, stopping."""

import inspect
import random
import re
import sys
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import (
    AdversarialAutoencoder,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VariationalAutoencoder,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_mse(model, X):
    return np.mean((model.inverse_transform(model.transform(X)) - X) ** 2)


test_mse.__test__ = False  # a helper, not a test


@pytest.fixture(scope="module")
def pca8(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    return PCA(8).fit(X_train)


@pytest.fixture(scope="module")
def default8(digits_split):
    X_train = digits_split[0]
    return AutoencoderTransformer(8, random_state=0).fit(X_train)


# --------------------------------------------------------------------------
# Quality floors


def linear_autoencoder(n_components, **params):
    """A linear autoencoder trained to PCA's optimum (no stopping rule)."""
    return AutoencoderTransformer(
        n_components,
        hidden_layer_sizes=(),
        activation="identity",
        learning_rate_init=3e-3,
        tol=0,
        **params,
    )


@pytest.mark.slow
def test_linear_autoencoder_matches_pca(digits_split):
    X_train, X_test, _, _ = digits_split
    for k in (4, 8):
        pca = PCA(k).fit(X_train)
        ae = linear_autoencoder(k, max_iter=400, random_state=0).fit(X_train)
        assert test_mse(ae, X_test) <= 1.02 * test_mse(pca, X_test)
        # It keeps (almost) the share of variance PCA's components keep.
        kept = pca.explained_variance_ratio_.sum()
        assert kept - 0.01 <= ae.explained_variance_ratio_.sum() <= kept + 1e-6


@pytest.mark.slow
def test_nonlinear_default_explains_more_variance_than_pca(
    digits_split, pca8, default8
):
    kept = default8.explained_variance_ratio_.sum()
    assert kept > pca8.explained_variance_ratio_.sum()


@pytest.mark.slow
def test_nonlinear_default_beats_pca_reconstruction(digits_split, pca8, default8):
    X_test = digits_split[1]
    assert test_mse(default8, X_test) < test_mse(pca8, X_test)


@pytest.mark.slow
def test_default_codes_are_as_good_features_as_pca(digits_split, pca8, default8):
    X_train, X_test, y_train, y_test = digits_split

    def accuracy(reducer):
        clf = LogisticRegression(max_iter=5000)
        clf.fit(reducer.transform(X_train), y_train)
        return clf.score(reducer.transform(X_test), y_test)

    assert accuracy(default8) >= accuracy(pca8)
    # No dead code units: every code varies over the data.
    assert np.all(default8.transform(X_test).std(axis=0) > 1e-3)


def test_grid_search_without_scoring_prefers_the_wider_code():
    X = load_digits().data[:600]
    search = GridSearchCV(
        AutoencoderTransformer(hidden_layer_sizes=(32,), max_iter=30, random_state=0),
        {"n_components": [2, 12]},
        cv=3,
    ).fit(X)
    assert search.best_params_ == {"n_components": 12}
    assert search.cv_results_["mean_test_score"].max() < 0  # minus an error


def test_pipeline_with_scaler_and_classifier(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipe = make_pipeline(
        StandardScaler(),
        AutoencoderTransformer(
            8, hidden_layer_sizes=(32,), max_iter=30, random_state=0
        ),
        LogisticRegression(max_iter=2000),
    ).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.8


class _CountedFits(AutoencoderTransformer):
    fits = 0

    def fit(self, X, y=None, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight=sample_weight)


def test_pipeline_memory_trains_each_autoencoder_once_in_a_search(tmp_path):
    # A search over the classifier's parameters alone refits identical
    # autoencoders; with the pipeline's memory their clones must hash alike,
    # so that each (fold, width) is trained once and then loaded.
    X, y = load_digits(return_X_y=True)
    pipe = Pipeline(
        [
            (
                "reduce_dim",
                _CountedFits(hidden_layer_sizes=(16,), max_iter=5, random_state=0),
            ),
            ("classify", LogisticRegression(max_iter=200)),
        ],
        memory=str(tmp_path),
    )
    grid = {"reduce_dim__n_components": [2, 4], "classify__C": [0.1, 1.0, 10.0]}
    _CountedFits.fits = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(pipe, grid, cv=2).fit(X[:300], y[:300])
    # 2 folds x 2 widths, and the refit on all rows.
    assert _CountedFits.fits == 2 * 2 + 1
    assert search.best_score_ > 0.5


# --------------------------------------------------------------------------
# Determinism, random state, dtypes


def test_same_random_state_gives_bit_identical_codes():
    X = load_digits().data[:300]
    a = AutoencoderTransformer(3, **{**SMALL, "dropout": 0.2}).fit(X)
    b = AutoencoderTransformer(3, **{**SMALL, "dropout": 0.2}).fit(X)
    c = AutoencoderTransformer(3, **{**SMALL, "dropout": 0.2, "random_state": 1}).fit(X)
    assert np.array_equal(a.transform(X), b.transform(X))
    assert a.loss_curve_ == b.loss_curve_
    assert not np.array_equal(a.transform(X), c.transform(X))


def test_fit_leaves_global_random_state_untouched():
    X = load_digits().data[:200]
    np_state = np.random.get_state()
    torch_state = torch.get_rng_state()
    py_state = random.getstate()
    AutoencoderTransformer(3, **{**SMALL, "dropout": 0.3, "early_stopping": True}).fit(
        X
    )
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert random.getstate() == py_state
    after = np.random.get_state()
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])
    assert after[2:] == np_state[2:]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    X = load_digits().data[:100].astype(dtype)
    ae = AutoencoderTransformer(3, **SMALL).fit(X)
    codes = ae.transform(X)
    assert codes.dtype == dtype
    assert ae.inverse_transform(codes).dtype == dtype
    assert ae.reconstruct(X).dtype == dtype
    assert ae.score_samples(X).dtype == np.float64
    assert next(ae.encoder_.parameters()).dtype == getattr(torch, np.dtype(dtype).name)


def test_float32_and_float64_fits_of_one_seed_agree():
    # Same initial weights (drawn in float64 for both), so the two fits
    # differ by float32 rounding only; they used to start from unrelated
    # weights, with codes up to 1.5 apart.
    X = load_digits().data[:300]
    codes = [
        AutoencoderTransformer(4, **SMALL).fit(X.astype(dtype)).transform(X)
        for dtype in (np.float32, np.float64)
    ]
    np.testing.assert_allclose(codes[0], codes[1], atol=1e-4)


def test_integer_input_is_trained_in_float64():
    X = load_digits().data[:100].astype(np.int64)
    codes = AutoencoderTransformer(3, **SMALL).fit_transform(X)
    assert codes.dtype == np.float64


def test_caller_array_is_not_modified():
    X = load_digits().data[:100]
    before = X.copy()
    ae = AutoencoderTransformer(3, **SMALL).fit(X)
    ae.transform(X), ae.score_samples(X), ae.partial_fit(X)
    assert np.array_equal(X, before)


# --------------------------------------------------------------------------
# Methods and attributes


def test_fitted_attributes_and_score(digits_split):
    X = digits_split[0][:200]
    ae = AutoencoderTransformer(3, **SMALL).fit(X)
    assert ae.n_features_in_ == 64
    assert ae.n_iter_ == 5 == len(ae.loss_curve_)
    assert ae.validation_loss_curve_ is None
    assert ae.best_loss_ == min(ae.loss_curve_)
    assert not ae.encoder_.training and not ae.decoder_.training
    assert ae.score(X) == pytest.approx(ae.score_samples(X).mean())
    errors = np.mean((ae.reconstruct(X) - X) ** 2, axis=1)
    assert np.allclose(ae.score_samples(X), -errors)
    assert np.allclose(ae.reconstruct(X), ae.inverse_transform(ae.transform(X)))


def _explained(X, reconstruction, weights=None):
    """1 - SSE / SST over every feature, each a (weighted) sum over rows."""
    weights = np.ones(len(X)) if weights is None else weights
    mean = np.average(X, axis=0, weights=weights)
    sse = weights @ ((X - reconstruction) ** 2).sum(axis=1)
    sst = weights @ ((X - mean) ** 2).sum(axis=1)
    return 1.0 - sse / sst


def test_explained_variance_ratio_is_one_minus_sse_over_sst():
    X = load_digits().data[:300]
    ae = AutoencoderTransformer(3, **SMALL).fit(X)
    ratio = ae.explained_variance_ratio_
    assert isinstance(ratio, np.ndarray)
    assert ratio.shape == (3,) and ratio.dtype == np.float64
    expected = _explained(X, ae.reconstruct(X))
    assert ratio.sum() == pytest.approx(expected, rel=1e-10)
    # Without constant features, scikit-learn's variance-weighted R^2.
    varying = X[:, X.std(axis=0) > 0]
    ae.fit(varying)
    r2 = r2_score(varying, ae.reconstruct(varying), multioutput="variance_weighted")
    assert ae.explained_variance_ratio_.sum() == pytest.approx(r2, rel=1e-10)
    weights = np.random.default_rng(0).integers(0, 4, size=X.shape[0])
    ae.fit(X, sample_weight=weights)
    expected = _explained(X, ae.reconstruct(X), weights)
    assert ae.explained_variance_ratio_.sum() == pytest.approx(expected, rel=1e-10)


def test_explained_variance_ratio_after_partial_fit_is_of_the_last_chunk():
    X = load_digits().data[:300]
    ae = AutoencoderTransformer(3, **SMALL).fit(X)
    chunk = X[:120]
    ae.partial_fit(chunk)
    ratio = ae.explained_variance_ratio_
    assert ratio.shape == (3,)
    assert ratio.sum() == pytest.approx(_explained(chunk, ae.reconstruct(chunk)))
    # From the first call on, as IncrementalPCA.
    fresh = AutoencoderTransformer(3, **SMALL).partial_fit(chunk)
    assert fresh.explained_variance_ratio_.shape == (3,)


def test_explained_variance_ratio_reads_a_bounded_sample_of_many_rows(monkeypatch):
    from skae import _explained

    X = load_digits().data[:300]
    exact = AutoencoderTransformer(3, **SMALL).fit(X)
    monkeypatch.setattr(_explained, "EXPLAINED_MAX_ROWS", 100)
    sampled = AutoencoderTransformer(3, **SMALL).fit(X)
    # The same network; its ratio on 100 of the rows, the same ones each fit.
    np.testing.assert_array_equal(sampled.transform(X), exact.transform(X))
    ratio = sampled.explained_variance_ratio_
    assert ratio.shape == (3,)
    assert ratio.sum() != exact.explained_variance_ratio_.sum()
    assert ratio.sum() == pytest.approx(exact.explained_variance_ratio_.sum(), abs=0.05)
    refit = AutoencoderTransformer(3, **SMALL).fit(X)
    np.testing.assert_array_equal(refit.explained_variance_ratio_, ratio)
    # partial_fit reads as many rows of a large chunk; a wide code splits
    # the total on fewer of them (a bounded number of decodes).
    rows = []
    unit_errors = _explained.unit_errors
    monkeypatch.setattr(
        _explained,
        "unit_errors",
        lambda est, X, weights: rows.append(X.shape[0]) or unit_errors(est, X, weights),
    )
    refit.partial_fit(X)
    monkeypatch.setattr(_explained, "SPLIT_MAX_DECODES", 4 * 40)
    monkeypatch.setattr(_explained, "SPLIT_MIN_ROWS", 10)
    AutoencoderTransformer(3, **SMALL).fit(X)
    assert rows == [100, 40]


def test_explained_variance_ratio_of_constant_data():
    X = np.full((20, 3), 7.0)
    ae = AutoencoderTransformer(2, **SMALL).fit(X)
    exact = np.array_equal(ae.reconstruct(X), X)
    # No unit changes the error: equal shares of the total.
    total = 1.0 if exact else 0.0
    np.testing.assert_array_equal(ae.explained_variance_ratio_, [total / 2] * 2)


# Every public estimator with explained_variance_ratio_, small budgets.
WITH_RATIO = [
    AutoencoderTransformer(3, **SMALL),
    DenoisingAutoencoder(3, **SMALL),
    AutoencoderOutlierDetector(n_components=3, n_rounds=2, **SMALL),
    AutoencoderOutlierDetector(n_rounds=1, n_estimators=2, **SMALL),  # 'auto'
    VariationalAutoencoder(3, **SMALL),
    AdversarialAutoencoder(3, **SMALL),
]


@pytest.mark.parametrize("estimator", WITH_RATIO, ids=lambda e: type(e).__name__)
def test_explained_variance_ratio_has_one_share_per_code_unit(estimator):
    X = load_digits().data[:300]
    est = clone(estimator).fit(X)
    ratio = est.explained_variance_ratio_
    assert ratio.shape == (est.n_components_,) and ratio.dtype == np.float64
    # The shares sum to the whole reconstruction's 1 - SSE / SST.
    assert ratio.sum() == pytest.approx(_explained(X, est.reconstruct(X)), rel=1e-9)
    chunk = X[100:250]
    est.partial_fit(chunk)
    ratio = est.explained_variance_ratio_
    assert ratio.shape == (est.n_components_,)
    expected = _explained(chunk, est.reconstruct(chunk))
    assert ratio.sum() == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    "estimator",
    [e for e in WITH_RATIO if hasattr(e, "transform")],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_explained_variance_ratio_shares_follow_their_definition(estimator, weighted):
    # Unit j's share: the total times d_j / sum(d), d_j the growth of the
    # mean squared error when column j of the codes is replaced by its mean.
    X = load_digits().data[:300]
    weights, fit_params = None, {}
    if weighted:
        if "sample_weight" not in inspect.signature(estimator.fit).parameters:
            pytest.skip(f"{type(estimator).__name__} takes no sample_weight")
        weights = np.random.default_rng(0).integers(0, 4, size=X.shape[0])
        fit_params = dict(sample_weight=weights)
    est = clone(estimator).fit(X, **fit_params)
    codes = est.transform(X)

    def error(codes):
        errors = ((est.inverse_transform(codes) - X) ** 2).mean(axis=1)
        return np.average(errors, weights=weights)

    increases = []
    for j in range(codes.shape[1]):
        lost = codes.copy()
        lost[:, j] = np.average(codes[:, j], weights=weights)
        increases.append(error(lost) - error(codes))
    increases = np.maximum(increases, 0)
    total = _explained(X, est.reconstruct(X), weights)
    expected = total * increases / increases.sum()
    np.testing.assert_allclose(est.explained_variance_ratio_, expected, rtol=1e-6)


def test_explained_variance_ratio_of_one_code_unit_is_the_total():
    X = load_digits().data[:300]
    ae = AutoencoderTransformer(1, **SMALL).fit(X)
    assert ae.explained_variance_ratio_.shape == (1,)
    expected = _explained(X, ae.reconstruct(X))
    assert ae.explained_variance_ratio_[0] == pytest.approx(expected, rel=1e-10)


def _pca_like_data(n_samples=1000):
    """Three features whose principal variances are 10, 1 and 0.1."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n_samples, 3)) * np.sqrt([10.0, 1.0, 0.1])
    rotation, _ = np.linalg.qr(np.random.default_rng(1).normal(size=(3, 3)))
    return X @ rotation + [1.0, -2.0, 3.0]


def _set_linear_weights(ae, components, mean):
    """Make the linear autoencoder ``ae`` encode ``components @ (x - mean)``
    and decode ``mean + components.T @ z``."""
    standardise, linear = ae.encoder_[0], ae.encoder_[1][0]
    linear_out, unstandardise = ae.decoder_[0], ae.decoder_[-1]
    factor, offset = standardise.factor.numpy(), standardise.offset.numpy()
    out_factor = unstandardise.factor.numpy()
    out_offset = unstandardise.offset.numpy()
    encoder_weight = components / factor
    decoder_weight = components.T / out_factor[:, None]
    with torch.no_grad():
        for param, value in (
            (linear.weight, encoder_weight),
            (linear.bias, -components @ mean - encoder_weight @ offset),
            (linear_out.weight, decoder_weight),
            (linear_out.bias, (mean - out_offset) / out_factor),
        ):
            param.copy_(torch.as_tensor(value, dtype=param.dtype))


def test_linear_autoencoder_along_the_principal_axes_has_pcas_ratios():
    X = _pca_like_data()
    pca = PCA(2).fit(X)
    ratios = pca.explained_variance_ratio_
    ae = AutoencoderTransformer(
        2, hidden_layer_sizes=(), activation="identity", max_iter=1, random_state=0
    ).fit(X)
    # Its units made PCA's components, in the reverse order: the shares
    # follow the units, PCA's ratios reversed.
    _set_linear_weights(ae, pca.components_[::-1], pca.mean_)
    np.testing.assert_allclose(ae.transform(X), pca.transform(X)[:, ::-1], atol=1e-4)
    shares = ae._explained_variance_ratio(X, None)
    np.testing.assert_allclose(shares, ratios[::-1], atol=1e-6)
    # Units rotated by 30 degrees in PCA's plane: each share mixes PCA's.
    c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
    _set_linear_weights(ae, np.array([[c, s], [-s, c]]) @ pca.components_, pca.mean_)
    shares = ae._explained_variance_ratio(X, None)
    mixed = [c**2 * ratios[0] + s**2 * ratios[1], s**2 * ratios[0] + c**2 * ratios[1]]
    np.testing.assert_allclose(shares, mixed, atol=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_trained_linear_autoencoder_shares_mix_pcas_ratios(seed):
    # A linear autoencoder trained to PCA's quality spans PCA's plane in a
    # basis of its own: its shares sum to PCA's, and are mixtures of PCA's
    # ratios, between the first and the second.
    X = _pca_like_data()
    ratios = PCA(2).fit(X).explained_variance_ratio_
    ae = linear_autoencoder(2, max_iter=200, random_state=seed).fit(X)
    shares = np.sort(ae.explained_variance_ratio_)[::-1]
    # Twelve seeds measured: the sums within 0.006 of PCA's; the shares
    # anywhere from PCA's ratios (0.90, 0.09) to an even split (0.50, 0.49),
    # as the basis the training found.
    assert shares.sum() == pytest.approx(ratios.sum(), abs=0.01)
    assert ratios[1] - 0.01 <= shares[1] <= shares[0] <= ratios[0] + 0.01


def test_explained_variance_ratio_in_the_pipelining_example():
    # scikit-learn's "Pipelining: chaining a PCA and a logistic regression"
    # plots explained_variance_ratio_ against np.arange(1, n + 1).
    X = load_digits().data[:300]
    pipe = make_pipeline(StandardScaler(), AutoencoderTransformer(4, **SMALL)).fit(X)
    est = pipe[-1]
    x = np.arange(1, est.n_components_ + 1)
    assert len(est.explained_variance_ratio_) == est.n_components_ == 4
    assert x.shape == est.explained_variance_ratio_.shape
    cumulative = np.cumsum(np.sort(est.explained_variance_ratio_)[::-1])
    assert cumulative[-1] == pytest.approx(est.explained_variance_ratio_.sum())


def test_loss_curve_is_variance_normalised_reconstruction_loss():
    X = load_digits().data[:300]
    ae = AutoencoderTransformer(
        3, **{**SMALL, "max_iter": 1, "learning_rate_init": 1e-9}
    ).fit(X)
    # Untrained network outputs the mean: loss is the unexplained variance, 1.
    assert ae.loss_curve_[0] == pytest.approx(1.0, abs=0.05)
    assert ae.loss_components_ == {"reconstruction": ae.loss_curve_}


def test_feature_names_and_pandas_output():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(load_digits().data[:100]).add_prefix("pixel")
    ae = AutoencoderTransformer(3, **SMALL).set_output(transform="pandas").fit(X)
    out = ae.transform(X)
    assert list(out.columns) == [
        "autoencodertransformer0",
        "autoencodertransformer1",
        "autoencodertransformer2",
    ]
    assert list(ae.feature_names_in_) == list(X.columns)
    assert out.index.equals(X.index)


@pytest.mark.parametrize("output", ["pandas", "polars"])
def test_deep_features_and_reconstruct_follow_set_output(output):
    lib = pytest.importorskip(output)
    X = load_digits().data[:60]
    X_frame = lib.DataFrame(
        {f"pixel{j}": X[:, j] for j in range(X.shape[1])},
    )
    ae = AutoencoderTransformer(3, **{**SMALL, "hidden_layer_sizes": (5,)})
    ae.set_output(transform=output).fit(X_frame)
    hidden = ae.deep_features(X_frame, 0)
    assert isinstance(hidden, lib.DataFrame)
    names = [f"autoencodertransformer_layer0_{j}" for j in range(5)]
    assert list(hidden.columns) == names
    np.testing.assert_array_equal(np.asarray(hidden), ae.deep_features(X, 0))
    # Negative indices name the layer by its non-negative index.
    assert list(ae.deep_features(X_frame, -1).columns)[0] == (
        "autoencodertransformer_layer2_0"
    )
    reconstruction = ae.reconstruct(X_frame)
    assert isinstance(reconstruction, lib.DataFrame)
    assert list(reconstruction.columns) == list(X_frame.columns)
    if output == "pandas":
        assert reconstruction.index.equals(X_frame.index)
    # inverse_transform stays an array, as in scikit-learn.
    assert isinstance(ae.inverse_transform(np.zeros((2, 3))), np.ndarray)


def test_default_output_stays_an_array():
    X = load_digits().data[:60]
    ae = AutoencoderTransformer(3, **SMALL).fit(X)
    assert isinstance(ae.deep_features(X, "code"), np.ndarray)
    assert isinstance(ae.reconstruct(X), np.ndarray)


@pytest.mark.parametrize(
    "batch_size, early_stopping, expected",
    [("auto", False, 200), ("auto", True, 180), (64, False, 64), (500, False, 200)],
)
def test_resolved_batch_size_and_device_are_exposed(
    batch_size, early_stopping, expected
):
    X = load_digits().data[:200]
    ae = AutoencoderTransformer(
        hidden_layer_sizes=(),
        max_iter=1,
        batch_size=batch_size,
        early_stopping=early_stopping,
        random_state=0,
        device="auto",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
    assert ae.batch_size_ == expected
    assert ae.device_ == ("cuda:0" if torch.cuda.is_available() else "cpu")


def test_deep_features_of_every_layer():
    X = load_digits().data[:50]
    ae = AutoencoderTransformer(4, **{**SMALL, "hidden_layer_sizes": (20, 10)}).fit(X)
    widths = [ae.deep_features(X, layer).shape[1] for layer in range(5)]
    assert widths == [20, 10, 4, 10, 20]
    assert np.array_equal(ae.deep_features(X, 2), ae.transform(X))
    assert np.array_equal(ae.deep_features(X, "code"), ae.transform(X))
    assert np.array_equal(ae.deep_features(X, -1), ae.deep_features(X, 4))
    with pytest.raises(ValueError, match="layer=5 is out of range.*5 hidden layers"):
        ae.deep_features(X, 5)
    with pytest.raises(TypeError, match="layer must be an int"):
        ae.deep_features(X, 1.5)


def test_more_rows_than_batch_size_not_needed():
    X = np.random.RandomState(0).rand(5, 4)
    ae = AutoencoderTransformer(2, batch_size=200, max_iter=3, random_state=0).fit(X)
    assert np.isfinite(ae.transform(X)).all()


def test_bce_with_sigmoid_output_stays_in_unit_interval():
    X = load_digits().data[:200] / 16.0
    ae = AutoencoderTransformer(
        4, **SMALL, loss="bce", output_activation="sigmoid"
    ).fit(X)
    R = ae.reconstruct(X)
    assert R.min() >= 0 and R.max() <= 1
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd", "rmsprop"])
def test_every_solver_trains(solver):
    X = load_digits().data[:300]
    ae = AutoencoderTransformer(4, **{**SMALL, "max_iter": 8}, solver=solver).fit(X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


@pytest.mark.parametrize(
    "activation", ["identity", "relu", "leaky_relu", "elu", "tanh", "sigmoid"]
)
def test_every_activation_trains(activation):
    X = load_digits().data[:300]
    ae = AutoencoderTransformer(
        4, **{**SMALL, "max_iter": 8}, activation=activation
    ).fit(X)
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_device_auto_is_stored_as_given():
    X = load_digits().data[:50]
    ae = AutoencoderTransformer(2, **SMALL).fit(X)
    assert ae.get_params()["device"] == "auto"
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(ae.encoder_.parameters()).device.type == expected


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        AutoencoderTransformer(2, **SMALL, device="cuda").fit(np.ones((4, 3)))


# --------------------------------------------------------------------------
# Stopping, warm start, partial_fit


def test_stops_after_n_iter_no_change_without_warning():
    X = load_digits().data[:200]
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae = AutoencoderTransformer(
            2, **{**SMALL, "max_iter": 50}, tol=1e9, n_iter_no_change=3
        ).fit(X)
    assert ae.n_iter_ == 5


def test_convergence_warning_at_max_iter():
    X = load_digits().data[:100]
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(2\)"):
        AutoencoderTransformer(2, **{**SMALL, "max_iter": 2}).fit(X)


def test_early_stopping_monitors_validation_reconstruction_loss():
    X = load_digits().data[:400]
    ae = AutoencoderTransformer(
        3, **{**SMALL, "max_iter": 15}, early_stopping=True, validation_fraction=0.2
    ).fit(X)
    assert len(ae.validation_loss_curve_) == ae.n_iter_ == len(ae.loss_curve_)
    assert ae.best_loss_ == min(ae.validation_loss_curve_)


def test_warm_start_continues_training():
    X = load_digits().data[:300]
    ae = AutoencoderTransformer(3, **SMALL, warm_start=True).fit(X)
    first = list(ae.loss_curve_)
    ae.fit(X)
    assert ae.n_iter_ == 10
    assert ae.loss_curve_[:5] == first
    assert ae.loss_curve_[5] < first[0]
    ae.set_params(hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match="changing hidden_layer_sizes"):
        ae.fit(X)


def test_refit_without_warm_start_starts_afresh():
    X = load_digits().data[:300]
    ae = AutoencoderTransformer(3, **SMALL).fit(X)
    codes = ae.transform(X)
    ae.fit(X)
    assert ae.n_iter_ == 5
    assert np.array_equal(ae.transform(X), codes)


def test_partial_fit_learns_across_calls():
    X = load_digits().data[:600]
    ae = AutoencoderTransformer(4, hidden_layer_sizes=(32,), random_state=0)
    chunks = np.array_split(X, 6)
    scores = []
    for _ in range(3):
        for chunk in chunks:
            ae.partial_fit(chunk)
        scores.append(ae.score(X))
    assert ae.n_iter_ == 18
    assert scores[0] < scores[1] < scores[2]
    with pytest.raises(ValueError, match="X has 10 features"):
        ae.partial_fit(X[:, :10])


def test_partial_fit_rejects_early_stopping():
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping"):
        AutoencoderTransformer(early_stopping=True).partial_fit(np.ones((5, 3)))


# --------------------------------------------------------------------------
# verbose


def test_verbose_prints_one_line_per_epoch_and_why_it_stopped(capsys):
    X = load_digits().data[:200]
    ae = AutoencoderTransformer(2, **SMALL, verbose=1, early_stopping=True).fit(X)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == ae.n_iter_ + 1
    pattern = (
        r"Iteration 1, loss = [\d.]+, validation reconstruction loss = [\d.]+,"
        r" [\d.]+ s"
    )
    assert re.fullmatch(pattern, lines[0])
    best = ae.validation_loss_curve_.index(min(ae.validation_loss_curve_)) + 1
    assert lines[-1] == (
        "Stopped after max_iter=5 epochs; the loss was still improving by more "
        f"than tol. Restored the weights of epoch {best}."
    )


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_says_when_the_tol_rule_stopped_training(capsys, early_stopping):
    X = load_digits().data[:200]
    ae = AutoencoderTransformer(
        2,
        **{**SMALL, "max_iter": 50},
        tol=1e3,
        n_iter_no_change=2,
        early_stopping=early_stopping,
        verbose=1,
    ).fit(X)
    # The first epoch improves on nothing, then 3 > n_iter_no_change do not.
    assert ae.n_iter_ == 4
    monitored = "Validation reconstruction" if early_stopping else "Training"
    expected = (
        f"{monitored} loss did not improve more than tol=1000 for 2 "
        "consecutive epochs. Stopping."
    )
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(expected)


def test_silent_by_default(capsys):
    AutoencoderTransformer(2, **SMALL).fit(load_digits().data[:100])
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_verbose_2_without_tqdm_prints_batch_progress(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    X = load_digits().data[:100]
    AutoencoderTransformer(2, **{**SMALL, "max_iter": 1}, batch_size=10, verbose=2).fit(
        X
    )
    out = capsys.readouterr().out
    # One line for the epoch, rewritten in place and ended with the epoch.
    assert "\rEpoch 1: batch 1/10" in out
    assert "\rEpoch 1: batch 10/10\nIteration 1" in out


def test_verbose_2_progress_bar_keeps_one_line_per_epoch(capsys):
    pytest.importorskip("tqdm")
    X = load_digits().data[:100]
    AutoencoderTransformer(2, **{**SMALL, "max_iter": 3}, batch_size=10, verbose=2).fit(
        X
    )
    err = capsys.readouterr().err
    # What stays on screen of each line: the text after its last carriage
    # return. A bar that cleared itself would leave blanks.
    shown = [line.split("\r")[-1] for line in err.split("\n")]
    finished = [line for line in shown if "10/10" in line]
    assert [line.split(":")[0] for line in finished] == [
        "Epoch 1",
        "Epoch 2",
        "Epoch 3",
    ]


def test_a_class_sorted_stream_is_warned_about_and_learnt_in_passes():
    # scikit-learn's incremental-PCA example: iris in 15 chunks, by class.
    X, y = load_iris(return_X_y=True)
    chunks = np.array_split(X[np.argsort(y, kind="stable")], 15)

    def mse(estimator):
        return np.mean((estimator.inverse_transform(estimator.transform(X)) - X) ** 2)

    stream = AutoencoderTransformer(2, random_state=0)
    with pytest.warns(UserWarning, match="far outside the input scaling"):
        for chunk in chunks:
            stream.partial_fit(chunk)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(19):
            for chunk in chunks:
                stream.partial_fit(chunk)
        whole = AutoencoderTransformer(2, random_state=0).fit(X)
    assert stream.n_iter_ == 20 * 15
    assert mse(stream) < 1.5 * mse(whole)


def test_a_shuffled_stream_is_not_warned_about():
    X = load_iris().data
    rows = np.random.default_rng(0).permutation(len(X))
    stream = AutoencoderTransformer(2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        for chunk in np.array_split(X[rows], 15):
            stream.partial_fit(chunk)


def test_max_iter_on_small_data_says_why_and_what_to_do():
    # iris is one batch an epoch: 200 epochs are 200 optimizer steps, too
    # few at MLPRegressor's step size and tolerance.
    X = StandardScaler().fit_transform(load_iris().data)
    slow = dict(learning_rate_init=1e-3, tol=1e-4, random_state=0)
    with pytest.warns(ConvergenceWarning, match="Each epoch was 1 optimizer step"):
        AutoencoderTransformer(**slow).fit(X)
    # The advice works: smaller batches converge, with no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae = AutoencoderTransformer(batch_size=16, **slow).fit(X)
    assert ae.n_iter_ < ae.max_iter
    # Larger data get no such advice.
    with pytest.warns(ConvergenceWarning) as record:
        AutoencoderTransformer(max_iter=2, random_state=0).fit(load_digits().data)
    assert "optimizer step" not in str(record[0].message)


@pytest.mark.parametrize(
    "loader", [load_iris, load_wine, load_breast_cancer, load_digits]
)
def test_a_default_fit_on_small_data_converges(loader):
    # At MLPRegressor's defaults (step 1e-3, tol 1e-4) none of these did in
    # 200 epochs: a ConvergenceWarning and an undertrained model.
    X_train, X_test = train_test_split(loader().data, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ae = AutoencoderTransformer(random_state=0).fit(X_train)
    assert ae.n_iter_ < ae.max_iter
    assert ae._network.optimizers["network"].param_groups[0]["lr"] == 1e-2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        before = AutoencoderTransformer(learning_rate_init=1e-3, tol=1e-4)
        before.set_params(random_state=0).fit(X_train)
    # As good on held-out rows (within 2 %), in far fewer epochs.
    assert ae.score(X_test) > before.score(X_test) * 1.02


def test_the_auto_step_size_follows_the_fits_rows():
    X = StandardScaler().fit_transform(load_digits().data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        large = AutoencoderTransformer(max_iter=1, random_state=0).fit(
            np.tile(X, (2, 1))
        )
        stream = AutoencoderTransformer(random_state=0).partial_fit(X[:100])
    assert large._network.optimizers["network"].param_groups[0]["lr"] == 1e-3
    # A stream's size is unknown: the step for large data.
    assert stream._network.optimizers["network"].param_groups[0]["lr"] == 1e-3
    with pytest.raises(ValueError, match="learning_rate_init"):
        AutoencoderTransformer(learning_rate_init="fast").fit(X)
    with pytest.raises(ValueError, match="tol"):
        AutoencoderTransformer(tol="loose").fit(X)
    # The denoiser takes 'auto' for both, and keeps 1e-3 and 1e-4 by default.
    small = X[:300]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        auto = DenoisingAutoencoder(learning_rate_init="auto", tol="auto", max_iter=1)
        default = DenoisingAutoencoder(max_iter=1)
        auto.fit(small)
        default.fit(small)
    assert auto._network.optimizers["network"].param_groups[0]["lr"] == 1e-2
    assert default._network.optimizers["network"].param_groups[0]["lr"] == 1e-3
