"""skae.metrics: reconstruction_error, mean_reconstruction_error and psnr."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import make_scorer
from sklearn.model_selection import cross_val_score

from skae import AutoencoderTransformer, DenoisingAutoencoder
from skae.metrics import mean_reconstruction_error, psnr, reconstruction_error

# Multiples of 1/8: exact in binary, and no squared error underflows to 0.
grid = st.integers(-8000, 8000).map(lambda i: i / 8.0)


def pairs(min_rows=1):
    """Strategy: (X_true, X_pred) of one 2-D shape."""
    shapes = st.tuples(st.integers(min_rows, 8), st.integers(1, 6))
    return shapes.flatmap(
        lambda shape: st.tuples(
            arrays(np.float64, shape, elements=grid),
            arrays(np.float64, shape, elements=grid),
        )
    )


def test_reconstruction_error_is_minus_score_samples():
    X = np.random.default_rng(0).normal(size=(60, 5))
    ae = AutoencoderTransformer(hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ae.fit(X)
    np.testing.assert_allclose(
        reconstruction_error(X, ae.reconstruct(X)), -ae.score_samples(X), rtol=1e-12
    )


@settings(max_examples=50, deadline=None)
@given(pairs())
def test_reconstruction_error_per_feature_and_per_sample_agree(pair):
    X_true, X_pred = pair
    per_entry = reconstruction_error(X_true, X_pred, per_feature=True)
    per_sample = reconstruction_error(X_true, X_pred)
    assert per_entry.shape == X_true.shape and per_sample.shape == (X_true.shape[0],)
    np.testing.assert_allclose(per_entry, (X_true - X_pred) ** 2)
    np.testing.assert_allclose(per_sample, per_entry.mean(axis=1))
    assert np.all(per_entry >= 0)


def test_reconstruction_error_known_values_and_inputs_untouched():
    X_true = np.array([[0.0, 1.0], [2.0, 2.0]], dtype=np.float32)
    X_pred = np.array([[0.0, 0.0], [1.0, 4.0]], dtype=np.float32)
    before = X_true.copy(), X_pred.copy()
    errors = reconstruction_error(X_true, X_pred)
    np.testing.assert_array_equal(errors, [0.5, 2.5])
    assert errors.dtype == np.float64
    np.testing.assert_array_equal(X_true, before[0])
    np.testing.assert_array_equal(X_pred, before[1])


def test_psnr_known_value():
    X_true = np.array([[0.0, 1.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0]])
    # Errors of 0.1 everywhere: mse 0.01, range 1 -> 20 dB per sample.
    assert psnr(X_true, X_true + 0.1) == pytest.approx(20.0)
    assert psnr(X_true, X_true + 0.1, data_range=10.0) == pytest.approx(40.0)


def test_psnr_averages_per_sample_values_not_the_pooled_error():
    X_true = np.array([[0.0, 1.0], [0.0, 1.0]])
    X_pred = X_true + np.array([[0.1], [0.01]])  # 20 dB and 40 dB
    assert psnr(X_true, X_pred) == pytest.approx(30.0)
    pooled = 10 * np.log10(1.0 / np.mean((X_true - X_pred) ** 2))
    assert abs(psnr(X_true, X_pred) - pooled) > 5


def test_psnr_default_range_is_that_of_x_true():
    X_true = np.array([[2.0, 6.0], [4.0, 3.0]])
    X_pred = X_true + 0.5
    assert psnr(X_true, X_pred) == pytest.approx(psnr(X_true, X_pred, data_range=4.0))


@settings(max_examples=50, deadline=None)
@given(pairs(), st.sampled_from([1e-3, 0.1, 3.0, 255.0, 1e3]))
def test_psnr_does_not_depend_on_units(pair, factor):
    X_true, X_pred = pair
    if np.ptp(X_true) == 0 or np.any(np.all(X_true == X_pred, axis=1)):
        return  # undefined range, or an infinite PSNR
    assert psnr(X_true * factor, X_pred * factor) == pytest.approx(
        psnr(X_true, X_pred), rel=1e-9, abs=1e-9
    )
    # Halving every error gains 20 * log10(2) dB.
    halfway = X_true + (X_pred - X_true) / 2
    gain = psnr(X_true, halfway) - psnr(X_true, X_pred)
    assert gain == pytest.approx(20 * np.log10(2), abs=1e-9)


def test_psnr_of_perfect_reconstruction_is_inf_without_warning():
    X = np.array([[0.0, 1.0], [1.0, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert psnr(X, X) == np.inf
        assert psnr(X, X + [[0.1], [0.0]]) == np.inf


def test_psnr_accepts_images_of_any_shape():
    rng = np.random.default_rng(0)
    X_true, X_pred = rng.random((5, 4, 4)), rng.random((5, 4, 4))
    assert psnr(X_true, X_pred) == pytest.approx(
        psnr(X_true.reshape(5, 16), X_pred.reshape(5, 16))
    )
    assert reconstruction_error(X_true, X_pred, per_feature=True).shape == (5, 4, 4)


@pytest.mark.parametrize("metric", [psnr, reconstruction_error])
@pytest.mark.parametrize(
    "X_true, X_pred, message",
    [
        (np.zeros((3, 2)), np.zeros((3, 3)), r"same shape.*\(3, 2\) and \(3, 3\)"),
        (np.zeros((3, 2)), np.zeros((2, 2)), "same shape"),
        (np.zeros(3), np.zeros(3), "Expected 2D array"),
        (np.zeros((2, 2)), [[0, np.nan], [0, 0]], "X_pred contains NaN"),
    ],
)
def test_bad_shapes_and_values_are_rejected(metric, X_true, X_pred, message):
    with pytest.raises(ValueError, match=message):
        metric(X_true, X_pred)


def test_psnr_rejects_an_undefined_range():
    with pytest.raises(ValueError, match="X_true is constant.*data_range"):
        psnr(np.ones((3, 2)), np.zeros((3, 2)))
    assert psnr(np.ones((3, 2)), np.zeros((3, 2)), data_range=1.0) == pytest.approx(0.0)
    for bad in (0.0, -1.0, np.inf):
        with pytest.raises(ValueError, match="data_range must be positive"):
            psnr(np.eye(2), np.zeros((2, 2)), data_range=bad)
    with pytest.raises(TypeError, match="data_range must be a positive number"):
        psnr(np.eye(2), np.zeros((2, 2)), data_range="1")


@settings(max_examples=30, deadline=None)
@given(pairs())
def test_mean_reconstruction_error_is_the_mean_of_the_per_sample_errors(pair):
    X_true, X_pred = pair
    error = mean_reconstruction_error(X_true, X_pred)
    assert isinstance(error, float)
    assert error == pytest.approx(reconstruction_error(X_true, X_pred).mean())


def test_mean_reconstruction_error_weights_samples_as_repetitions():
    X_true = [[0.0, 1.0], [2.0, 2.0], [1.0, 1.0]]
    X_pred = [[0.0, 0.0], [1.0, 3.0], [1.0, 1.0]]
    weighted = mean_reconstruction_error(X_true, X_pred, sample_weight=[2, 1, 0])
    repeated = mean_reconstruction_error(
        [X_true[0], X_true[0], X_true[1]], [X_pred[0], X_pred[0], X_pred[1]]
    )
    assert weighted == pytest.approx(repeated)
    with pytest.raises(ValueError, match="sample_weight"):
        mean_reconstruction_error(X_true, X_pred, sample_weight=[1, 2])


def _scorer(method):
    # A list: make_scorer's validation names the methods of classifiers and
    # regressors only, but tries any method given in a list.
    return make_scorer(
        mean_reconstruction_error, greater_is_better=False, response_method=[method]
    )


def test_scorer_matches_minus_score(quiet_convergence):
    X = np.random.default_rng(0).normal(size=(90, 5))
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    ae.fit(X)
    # The clean data are the scorer's y: X itself here.
    assert _scorer("reconstruct")(ae, X, X) == pytest.approx(ae.score(X))
    scores = cross_val_score(ae, X, X, scoring=_scorer("reconstruct"), cv=3)
    assert scores.shape == (3,) and (scores < 0).all()


def test_scorer_judges_a_denoiser_against_the_clean_rows(quiet_convergence):
    rng = np.random.default_rng(0)
    X_clean = rng.normal(size=(90, 5))
    X_noisy = X_clean + 0.5 * rng.normal(size=X_clean.shape)
    dae = DenoisingAutoencoder(3, hidden_layer_sizes=(4,), max_iter=2, random_state=0)
    dae.fit(X_noisy)
    expected = -mean_reconstruction_error(X_clean, dae.denoise(X_noisy))
    assert _scorer("denoise")(dae, X_noisy, X_clean) == pytest.approx(expected)
