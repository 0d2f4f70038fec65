"""Behaviour of AutoencoderOutlierDetector."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector

SMALL = dict(device="cpu", random_state=0)


def planted(n_inliers=400, n_outliers=20, n_features=10, seed=0):
    """Inliers near a curved 2-D surface in ``n_features`` dimensions,
    outliers drawn from a Gaussian with the inliers' per-feature spread;
    ``y`` is 1 for outliers."""
    rng = np.random.RandomState(seed)
    latent = np.tanh(rng.normal(size=(n_inliers, 2)))
    noise = 0.05 * rng.normal(size=(n_inliers, n_features))
    inliers = latent @ rng.normal(size=(2, n_features)) + noise
    outliers = rng.normal(size=(n_outliers, n_features)) * inliers.std(axis=0)
    X = np.vstack([inliers, outliers])
    y = np.r_[np.zeros(n_inliers), np.ones(n_outliers)]
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = planted()
    X = StandardScaler().fit_transform(X)
    return AutoencoderOutlierDetector(**SMALL).fit(X), X, y


def test_planted_outliers_rank_high(fitted):
    detector, X, y = fitted
    assert roc_auc_score(y, -detector.score_samples(X)) > 0.95


def test_each_round_trains_afresh_on_the_best_reconstructed_rows():
    X, _ = planted(n_inliers=150, n_outliers=10)
    first = AutoencoderOutlierDetector(n_rounds=1, **SMALL).fit(X)
    n_keep = len(X) - int(0.3 * len(X))
    rows = np.sort(np.argsort(-first.training_scores_, kind="stable")[:n_keep])
    on_rows = AutoencoderOutlierDetector(n_rounds=1, **SMALL).fit(X[rows])
    two_rounds = AutoencoderOutlierDetector(n_rounds=2, trim_fraction=0.3, **SMALL).fit(
        X
    )
    np.testing.assert_array_equal(two_rounds.score_samples(X), on_rows.score_samples(X))


@pytest.mark.parametrize(
    "max_samples, rows", [(40, [40, 40]), (0.25, [40, 40]), ("auto", [160, 112])]
)
def test_max_samples_caps_the_rows_of_each_round(capsys, max_samples, rows):
    X, _ = planted(n_inliers=150, n_outliers=10)
    params = dict(SMALL, max_iter=2, verbose=1)
    detector = AutoencoderOutlierDetector(n_rounds=2, max_samples=max_samples, **params)
    detector.fit(X)
    assert detector.max_samples_ == rows[0]
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("Round")
    ]
    assert lines == [f"Round {i + 1} of 2: {n} rows" for i, n in enumerate(rows)]


def test_contamination_flags_that_fraction_of_training_rows():
    X, _ = planted(n_inliers=180, n_outliers=20)
    detector = AutoencoderOutlierDetector(contamination=0.1, **SMALL).fit(X)
    assert np.sum(detector.predict(X) == -1) == 20


def test_predict_returns_plus_minus_one_integers(fitted):
    detector, X, _ = fitted
    labels = detector.predict(X)
    assert labels.dtype.kind == "i"
    assert set(np.unique(labels)) == {-1, 1}


def test_decision_function_is_shifted_score_samples(fitted):
    detector, X, _ = fitted
    decision = detector.decision_function(X)
    assert decision.dtype == np.float64
    np.testing.assert_array_equal(
        decision, detector.score_samples(X) - detector.offset_
    )
    np.testing.assert_array_equal(detector.predict(X) == -1, decision < 0)


def test_training_scores_are_the_scores_of_the_training_rows(fitted):
    detector, X, _ = fitted
    np.testing.assert_allclose(detector.training_scores_, detector.score_samples(X))


def test_auto_threshold_flags_planted_outliers_and_few_inliers(fitted):
    detector, X, y = fitted
    flagged = detector.predict(X) == -1
    assert flagged[y == 1].mean() >= 0.8
    assert flagged[y == 0].mean() <= 0.15


def test_auto_threshold_flags_little_of_clean_gaussian_data():
    X = np.random.RandomState(0).normal(size=(500, 5))
    detector = AutoencoderOutlierDetector(**SMALL).fit(X)
    assert np.mean(detector.predict(X) == -1) <= 0.06


@pytest.mark.parametrize("n_samples", [2, 5])
@pytest.mark.parametrize("batch_size", ["auto", 64])
def test_tables_smaller_than_a_batch(n_samples, batch_size):
    X = np.random.RandomState(0).normal(size=(n_samples, 3))
    detector = AutoencoderOutlierDetector(batch_size=batch_size, **SMALL).fit(X)
    assert detector.predict(X).shape == (n_samples,)
    assert np.all(np.isfinite(detector.decision_function(X)))


@pytest.mark.parametrize(
    "contamination, match",
    [
        (0, "contamination"),
        (0.0, "contamination"),
        (0.6, "contamination"),
        (-0.1, "contamination"),
        ("most", "contamination"),
    ],
)
def test_invalid_contamination_is_a_clear_error(contamination, match):
    X = np.random.RandomState(0).normal(size=(20, 3))
    detector = AutoencoderOutlierDetector(contamination=contamination, **SMALL)
    with pytest.raises(ValueError, match=match):
        detector.fit(X)


def test_set_contamination_equals_refitting_and_does_not_retrain(fitted):
    detector, X, _ = fitted
    weights = [p.detach().clone() for p in detector.encoder_.parameters()]
    try:
        detector.set_contamination(0.2)
        assert detector.contamination == 0.2
        assert np.mean(detector.predict(X) == -1) == pytest.approx(0.2, abs=1 / len(X))
        refit = AutoencoderOutlierDetector(contamination=0.2, **SMALL).fit(X)
        assert detector.offset_ == refit.offset_
        for before, after in zip(weights, detector.encoder_.parameters(), strict=True):
            assert torch_equal(before, after)
    finally:
        detector.set_contamination("auto")


def test_set_contamination_rejects_invalid_values_and_keeps_the_old_one(fitted):
    detector, _, _ = fitted
    offset = detector.offset_
    with pytest.raises(ValueError, match="contamination"):
        detector.set_contamination(0.7)
    assert detector.contamination == "auto"
    assert detector.offset_ == offset


def test_set_contamination_needs_a_fitted_detector():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        AutoencoderOutlierDetector().set_contamination(0.1)


@settings(max_examples=25, deadline=None)
@given(contamination=st.floats(0.01, 0.5))
def test_any_contamination_flags_its_fraction_without_refit(fitted, contamination):
    detector, X, _ = fitted
    try:
        detector.set_contamination(contamination)
        flagged = np.sum(detector.predict(X) == -1)
        # np.percentile interpolates, so the count is within one row.
        assert abs(flagged - contamination * len(X)) <= 1
    finally:
        detector.set_contamination("auto")


def test_per_feature_errors_explain_score_samples(fitted):
    detector, X, _ = fitted
    per_feature = detector.reconstruction_errors(X, per_feature=True)
    assert per_feature.shape == X.shape
    assert per_feature.dtype == np.float64
    np.testing.assert_allclose(per_feature.mean(axis=1), -detector.score_samples(X))
    np.testing.assert_allclose(
        detector.reconstruction_errors(X), -detector.score_samples(X)
    )


def test_per_feature_errors_point_at_the_corrupted_feature(fitted):
    detector, X, _ = fitted
    rows = X[:20].copy()
    rows[:, 3] += 6.0
    per_feature = detector.reconstruction_errors(rows, per_feature=True)
    assert np.all(per_feature.argmax(axis=1) == 3)


def test_scores_keep_float64_for_float32_input(fitted):
    _, X, _ = fitted
    detector = AutoencoderOutlierDetector(**SMALL).fit(X.astype(np.float32))
    assert detector.score_samples(X.astype(np.float32)).dtype == np.float64
    assert detector.decision_function(X.astype(np.float32)).dtype == np.float64


def test_default_epoch_budget_raises_no_convergence_warning():
    X, _ = planted(n_inliers=100, n_outliers=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        AutoencoderOutlierDetector(**dict(SMALL, max_iter=3)).fit(X)


def test_trimmed_rounds_train_on_fewer_rows():
    X, _ = planted(n_inliers=100, n_outliers=0)
    detector = AutoencoderOutlierDetector(trim_fraction=0.3, **SMALL)
    rows, weights = detector._best_reconstructed(np.arange(100.0)[::-1])
    np.testing.assert_array_equal(rows, np.arange(30, 100))
    assert weights is None
    assert detector._best_reconstructed(np.array([2.0, 1.0]))[0].size == 2


def test_fit_is_deterministic_and_in_a_pipeline():
    X, _ = planted(n_inliers=150, n_outliers=10)
    pipes = [
        make_pipeline(StandardScaler(), AutoencoderOutlierDetector(**SMALL))
        for _ in range(2)
    ]
    scores = [p.fit(X).decision_function(X) for p in pipes]
    np.testing.assert_array_equal(scores[0], scores[1])


def test_partial_fit_sets_a_threshold_from_the_latest_chunk():
    X, _ = planted(n_inliers=200, n_outliers=10)
    detector = AutoencoderOutlierDetector(contamination=0.1, **SMALL)
    for chunk in np.array_split(X, 3):
        detector.partial_fit(chunk)
    np.testing.assert_allclose(detector.training_scores_, detector.score_samples(chunk))
    assert np.sum(detector.predict(chunk) == -1) == pytest.approx(
        0.1 * len(chunk), abs=1
    )


def torch_equal(a, b):
    return bool((a == b).all())


def test_explained_variance_ratio_covers_every_training_row():
    X, _ = planted(n_inliers=150, n_outliers=10)
    detector = AutoencoderOutlierDetector(**SMALL).fit(X)
    expected = r2_score(X, detector.reconstruct(X), multioutput="variance_weighted")
    assert detector.explained_variance_ratio_ == pytest.approx(expected, rel=1e-10)
