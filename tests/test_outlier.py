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
    from skae._rounds import best_reconstructed

    rows, weights = best_reconstructed(np.arange(100.0)[::-1], trim_fraction=0.3)
    np.testing.assert_array_equal(rows, np.arange(30, 100))
    assert weights is None
    assert best_reconstructed(np.array([2.0, 1.0]), 0.3)[0].size == 2


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
    ratio = detector.explained_variance_ratio_
    assert ratio.shape == (detector.n_components_,)
    assert ratio.sum() == pytest.approx(expected, rel=1e-10)


def test_explained_variance_ratio_of_an_ensemble_is_its_own_networks():
    # The detector's own network, the first of the ensemble: the shares of
    # a detector alone; each member has its own.
    X, _ = planted(n_inliers=150, n_outliers=10)
    alone = AutoencoderOutlierDetector(**SMALL, max_iter=5).fit(X)
    ensemble = AutoencoderOutlierDetector(**SMALL, max_iter=5, n_estimators=2).fit(X)
    assert alone.n_components == "auto"
    assert ensemble.explained_variance_ratio_.shape == (ensemble.n_components_,)
    np.testing.assert_array_equal(
        ensemble.explained_variance_ratio_, alone.explained_variance_ratio_
    )
    (member,) = ensemble.members_
    assert member.explained_variance_ratio_.shape == (member.n_components_,)


# ----------------------------------------------------------------------
# Split-conformal false-alarm control

# A tiny network and budget: the guarantee holds for any score function.
TINY = dict(hidden_layer_sizes=(4,), max_iter=5, n_rounds=1, device="cpu")


def plane(n, rng, mixing):
    """Gaussian inliers near a plane through the origin of ``mixing``'s columns."""
    latent = rng.normal(size=(n, mixing.shape[0]))
    return latent @ mixing + 0.1 * rng.normal(size=(n, mixing.shape[1]))


def calibrated_fit(X=None, **params):
    if X is None:
        X, _ = planted(n_inliers=180, n_outliers=20)
    params = {**TINY, "random_state": 0, "calibration_fraction": 0.3, **params}
    return AutoencoderOutlierDetector(**params).fit(X), X


def held_out(detector, X):
    """The mask of the rows ``fit`` held out, found by their scores."""
    return np.isin(detector.score_samples(X), detector.calibration_scores_)


def test_false_alarm_rate_bounds_the_rate_on_fresh_inliers():
    alpha, n_seeds, n_rows, n_test = 0.1, 100, 200, 500
    rates = []
    for seed in range(n_seeds):
        rng = np.random.RandomState(seed)
        mixing = rng.normal(size=(2, 8))
        detector = AutoencoderOutlierDetector(
            calibration_fraction=0.3, false_alarm_rate=alpha, random_state=seed, **TINY
        ).fit(plane(n_rows, rng, mixing))
        rates.append(np.mean(detector.predict(plane(n_test, rng, mixing)) == -1))
    n_cal = detector.calibration_scores_.size
    # Each seed's rate varies by the draw of its calibration set (a Beta
    # with variance about alpha (1 - alpha) / (n_cal + 2)) and of its test
    # rows (binomial); the mean over seeds by sqrt(n_seeds) less.
    variance = alpha * (1 - alpha) * (1 / (n_cal + 2) + 1 / n_test)
    standard_error = np.sqrt(variance / n_seeds)
    assert np.mean(rates) <= alpha + 3 * standard_error
    # Exactly floor(alpha (n + 1)) / (n + 1) in expectation: not conservative.
    assert np.mean(rates) >= alpha / 2


def test_pvalues_are_the_conformal_formula():
    detector, X = calibrated_fit()
    calibration = detector.calibration_scores_
    scores = detector.score_samples(X)
    expected = np.array(
        [(1 + np.sum(calibration <= s)) / (1 + calibration.size) for s in scores]
    )
    pvalues = detector.pvalues(X)
    np.testing.assert_array_equal(pvalues, expected)
    assert pvalues.dtype == np.float64
    assert np.all((pvalues > 0) & (pvalues <= 1))
    order = np.argsort(scores)
    assert np.all(np.diff(pvalues[order]) >= 0)
    # The calibration rows themselves: the largest score has p-value 1.
    assert detector.pvalues(X[held_out(detector, X)]).max() == 1.0


@pytest.fixture(scope="module")
def calibrated():
    return calibrated_fit(false_alarm_rate=0.1)


@settings(max_examples=40, deadline=None)
@given(alpha=st.floats(0.005, 0.99))
def test_predict_flags_exactly_the_rows_whose_pvalue_is_at_most_alpha(
    calibrated, alpha
):
    detector, X = calibrated
    n = detector.calibration_scores_.size
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            detector.set_false_alarm_rate(alpha)
        flagged = detector.predict(X) == -1
        np.testing.assert_array_equal(flagged, detector.pvalues(X) <= alpha)
        # offset_ is c_(k), k = floor(alpha (n + 1)), away from the ties of
        # alpha (n + 1) with an integer, where rounding decides.
        k = int(np.floor(alpha * (n + 1)))
        if abs(alpha * (n + 1) - round(alpha * (n + 1))) > 1e-9:
            expected = detector.calibration_scores_[k - 1] if k else -np.inf
            assert detector.offset_ == expected
    finally:
        detector.set_false_alarm_rate(0.1)


def test_threshold_is_the_kth_calibration_score():
    detector, _ = calibrated_fit(false_alarm_rate=0.1)
    n = detector.calibration_scores_.size
    assert n == 60
    # floor(0.1 * 61) = 6: flag rows scoring below the 6th lowest.
    assert detector.offset_ == detector.calibration_scores_[5]


def rows_trained_on(monkeypatch):
    """A list that collects the rows of every training round from now on."""
    trained = []
    fit = AutoencoderOutlierDetector._fit

    def spy(self, X_round, *args, **kwargs):
        trained.append(np.asarray(X_round).copy())
        return fit(self, X_round, *args, **kwargs)

    monkeypatch.setattr(AutoencoderOutlierDetector, "_fit", spy)
    return trained


def test_calibration_rows_are_never_trained_on(monkeypatch):
    X, _ = planted(n_inliers=180, n_outliers=20)
    trained = rows_trained_on(monkeypatch)
    detector, _ = calibrated_fit(X, n_rounds=3, max_samples=100)
    calibration = held_out(detector, X)
    assert calibration.sum() == detector.calibration_scores_.size == 60
    np.testing.assert_array_equal(
        detector.training_scores_, detector.score_samples(X)[~calibration]
    )
    held = {row.tobytes() for row in X[calibration]}
    assert len(trained) == 3
    for X_round in trained:
        assert not held & {row.tobytes() for row in X_round}
    # Rounds after the first chose among the training rows only.
    assert {row.tobytes() for row in trained[-1]} <= {
        row.tobytes() for row in X[~calibration]
    }


def test_calibration_rows_have_positive_weight_and_keep_it():
    X, _ = planted(n_inliers=180, n_outliers=20)
    weights = np.tile([0.0, 1.0, 2.0, 3.0], 50)
    detector = AutoencoderOutlierDetector(
        calibration_fraction=0.3, random_state=0, **TINY
    ).fit(X, sample_weight=weights)
    calibration = held_out(detector, X)
    # 30% of the 150 rows of positive weight; the others (weight 0 too) train.
    assert calibration.sum() == 45
    assert np.all(weights[calibration] > 0)
    assert detector.training_scores_.size == 155
    scores = detector.score_samples(X)[calibration]
    np.testing.assert_array_equal(
        detector._calibration_weights, weights[calibration][np.argsort(scores)]
    )


def test_weighted_pvalues_count_rows_as_their_weights_say():
    detector, X = calibrated_fit(false_alarm_rate=0.2)
    rng = np.random.RandomState(1)
    inliers, weights = X[:150:3], rng.randint(0, 4, size=50)
    repeated, _ = calibrated_fit(false_alarm_rate=0.2)
    detector.calibrate(inliers, sample_weight=weights.astype(float))
    repeated.calibrate(np.repeat(inliers, weights, axis=0))
    np.testing.assert_array_equal(detector.pvalues(X), repeated.pvalues(X))
    assert detector.offset_ == repeated.offset_
    np.testing.assert_array_equal(detector.predict(X) == -1, detector.pvalues(X) <= 0.2)


def test_no_calibration_fraction_is_the_default_fit():
    X, _ = planted(n_inliers=150, n_outliers=10)
    params = dict(TINY, n_rounds=2, max_samples=100, random_state=0)
    default = AutoencoderOutlierDetector(**params).fit(X)
    zero = AutoencoderOutlierDetector(calibration_fraction=0.0, **params).fit(X)
    np.testing.assert_array_equal(default.score_samples(X), zero.score_samples(X))
    np.testing.assert_array_equal(default.training_scores_, zero.training_scores_)
    assert default.offset_ == zero.offset_
    assert not hasattr(zero, "calibration_scores_")


def test_calibrated_fit_is_reproducible():
    first, X = calibrated_fit(false_alarm_rate=0.1)
    again, _ = calibrated_fit(false_alarm_rate=0.1)
    other, _ = calibrated_fit(false_alarm_rate=0.1, random_state=1)
    np.testing.assert_array_equal(first.calibration_scores_, again.calibration_scores_)
    np.testing.assert_array_equal(first.pvalues(X), again.pvalues(X))
    assert first.offset_ == again.offset_
    assert not np.array_equal(held_out(first, X), held_out(other, X))


def test_calibrate_replaces_the_scores_and_moves_the_threshold():
    detector, X = calibrated_fit(false_alarm_rate=0.1)
    inliers = X[:180:2].copy()
    before = inliers.copy()
    assert detector.calibrate(inliers) is detector
    np.testing.assert_array_equal(inliers, before)
    np.testing.assert_array_equal(
        detector.calibration_scores_, np.sort(detector.score_samples(inliers))
    )
    # floor(0.1 * 91) = 9
    assert detector.offset_ == detector.calibration_scores_[8]
    assert detector._calibration_weights is None


def test_calibrate_then_set_false_alarm_rate_without_calibration_fraction():
    X, _ = planted(n_inliers=180, n_outliers=20)
    detector = AutoencoderOutlierDetector(contamination=0.1, random_state=0, **TINY)
    detector.fit(X)
    contamination_offset = detector.offset_
    detector.calibrate(X[:180])
    assert detector.offset_ == contamination_offset  # no false_alarm_rate yet
    weights = [p.detach().clone() for p in detector.encoder_.parameters()]
    detector.set_false_alarm_rate(0.05)
    assert detector.false_alarm_rate == 0.05
    np.testing.assert_array_equal(
        detector.predict(X) == -1, detector.pvalues(X) <= 0.05
    )
    for before, after in zip(weights, detector.encoder_.parameters(), strict=True):
        assert torch_equal(before, after)
    # set_contamination keeps the conformal threshold while it is set.
    conformal_offset = detector.offset_
    detector.set_contamination(0.2)
    assert detector.offset_ == conformal_offset
    detector.set_false_alarm_rate(None)
    refit = AutoencoderOutlierDetector(contamination=0.2, random_state=0, **TINY)
    assert detector.offset_ == refit.fit(X).offset_


def test_calibrated_fit_thresholds_contamination_on_the_training_rows():
    detector, X = calibrated_fit(contamination=0.1)
    expected = np.percentile(detector.training_scores_, 10)
    assert detector.offset_ == expected
    assert detector.training_scores_.size == len(X) - 60


def test_pvalues_need_calibration_scores():
    from sklearn.exceptions import NotFittedError

    X, _ = planted(n_inliers=60, n_outliers=0)
    detector = AutoencoderOutlierDetector(random_state=0, **TINY).fit(X)
    with pytest.raises(NotFittedError, match="calibration_fraction.*calibrate"):
        detector.pvalues(X)
    with pytest.raises(NotFittedError, match="calibrate"):
        detector.set_false_alarm_rate(0.1)
    assert detector.false_alarm_rate is None
    with pytest.raises(NotFittedError):
        AutoencoderOutlierDetector().pvalues(X)


def test_false_alarm_rate_without_calibration_rows_is_a_clear_error():
    X, _ = planted(n_inliers=60, n_outliers=0)
    detector = AutoencoderOutlierDetector(false_alarm_rate=0.1, **TINY)
    with pytest.raises(ValueError, match=r"calibration_fraction.*calibrate\(X_inliers"):
        detector.fit(X)


def test_too_few_rows_left_to_train_on():
    X = np.random.RandomState(0).normal(size=(4, 3))
    detector = AutoencoderOutlierDetector(calibration_fraction=0.6, **TINY)
    with pytest.raises(ValueError, match="holds out 2 of the 3 rows.*leaving 1"):
        detector.fit(X[:3])
    # Only rows of positive weight count.
    with pytest.raises(ValueError, match="holds out 2 of the 3 rows.*leaving 1"):
        detector.fit(X, sample_weight=[1.0, 0.0, 2.0, 1.0])
    detector.set_params(calibration_fraction=0.5).fit(X)
    assert detector.training_scores_.size == 2
    # At least one row is held out.
    small = AutoencoderOutlierDetector(calibration_fraction=0.01, **TINY).fit(X[:3])
    assert small.calibration_scores_.size == 1


@pytest.mark.parametrize(
    "params",
    [
        dict(calibration_fraction=1.0),
        dict(calibration_fraction=-0.1),
        dict(calibration_fraction="x"),
        dict(false_alarm_rate=0),
        dict(false_alarm_rate=1.5),
        dict(false_alarm_rate="x"),
    ],
)
def test_invalid_calibration_parameters_are_rejected(params):
    from sklearn.utils._param_validation import InvalidParameterError

    X = np.random.RandomState(0).normal(size=(20, 3))
    name = next(iter(params))
    with pytest.raises(InvalidParameterError, match=name):
        AutoencoderOutlierDetector(**params, **TINY).fit(X)


def test_set_false_alarm_rate_rejects_invalid_values_and_keeps_the_old_one():
    from sklearn.utils._param_validation import InvalidParameterError

    detector, X = calibrated_fit(false_alarm_rate=0.1)
    offset = detector.offset_
    for value in (0, 1.0, "x"):
        with pytest.raises(InvalidParameterError, match="false_alarm_rate"):
            detector.set_false_alarm_rate(value)
        assert detector.false_alarm_rate == 0.1
        assert detector.offset_ == offset


def test_false_alarm_rate_below_the_smallest_pvalue_flags_nothing():
    detector, X = calibrated_fit()
    # 60 calibration rows: the smallest p-value is 1 / 61.
    with pytest.warns(UserWarning, match=r"below 0.0164 .* n = 60"):
        detector.set_false_alarm_rate(0.01)
    assert detector.offset_ == -np.inf
    assert np.all(detector.predict(X) == 1)
    assert np.all(detector.decision_function(X) > 0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        detector.set_false_alarm_rate(1 / 61)
    assert np.sum(detector.predict(X) == -1) >= 1


def test_partial_fit_drops_stale_calibration_scores():
    detector, X = calibrated_fit(false_alarm_rate=0.1, contamination=0.2)
    with pytest.warns(UserWarning, match="calibrate"):
        detector.partial_fit(X)
    assert not hasattr(detector, "calibration_scores_")
    assert detector.offset_ == np.percentile(detector.score_samples(X), 20)
    detector.calibrate(X[:100])
    np.testing.assert_array_equal(detector.predict(X) == -1, detector.pvalues(X) <= 0.1)


def test_calibrate_and_pvalues_validate_their_input():
    detector, X = calibrated_fit()
    for method in (detector.calibrate, detector.pvalues):
        with pytest.raises(ValueError, match="features"):
            method(X[:, :3])
        bad = X.copy()
        bad[0, 0] = np.inf
        with pytest.raises(ValueError, match="infinity"):
            method(bad)
    with pytest.raises(ValueError, match="non-zero"):
        detector.calibrate(X[:5], sample_weight=np.zeros(5))
    with pytest.raises(ValueError, match="Negative"):
        detector.calibrate(X[:5], sample_weight=-np.ones(5))


@pytest.mark.parametrize(
    "n_features, code, hidden",
    [
        (1, 1, (64,)),
        (6, 2, (64,)),
        (71, 2, (64,)),
        (72, 3, (64,)),
        (274, 11, (88,)),
        (784, 32, (256,)),
        (5000, 32, (256,)),
    ],
)
def test_auto_architecture_follows_the_number_of_features(n_features, code, hidden):
    from skae._outlier import auto_code_width, auto_hidden_sizes

    assert auto_code_width(n_features) == code
    assert auto_hidden_sizes(code) == hidden


def test_auto_architecture_is_fitted_and_exposed(quiet_convergence):
    X = np.random.default_rng(0).normal(size=(40, 100))
    detector = AutoencoderOutlierDetector(max_iter=1, n_rounds=1, random_state=0)
    assert not hasattr(detector, "n_components_")
    detector.fit(X)
    assert detector.n_components_ == 4 and detector.hidden_layer_sizes_ == (64,)
    widths = [
        layer.weight.shape[0]
        for layer in detector.encoder_.modules()
        if hasattr(layer, "weight")
    ]
    assert widths[-2:] == [64, 4]
    explicit = AutoencoderOutlierDetector(
        n_components=3, hidden_layer_sizes=(7, 5), max_iter=1, n_rounds=1
    ).fit(X)
    assert explicit.n_components_ == 3 and explicit.hidden_layer_sizes_ == (7, 5)


def test_auto_architecture_of_a_table_is_the_tuned_table_network(quiet_convergence):
    # Tables of up to 71 features keep the network the defaults were tuned
    # with (code 2, 64 hidden units), bit for bit.
    X = np.random.default_rng(1).normal(size=(120, 12))
    auto = AutoencoderOutlierDetector(max_iter=3, random_state=0).fit(X)
    fixed = AutoencoderOutlierDetector(
        n_components=2, hidden_layer_sizes=(64,), max_iter=3, random_state=0
    ).fit(X)
    np.testing.assert_array_equal(auto.score_samples(X), fixed.score_samples(X))


@pytest.mark.parametrize("name", ["n_components", "hidden_layer_sizes"])
def test_auto_architecture_rejects_other_strings(name):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=name):
        AutoencoderOutlierDetector(**{name: "wide"}).fit(np.zeros((10, 3)))


# ----------------------------------------------------------------------
# Ensembles

ENSEMBLE = dict(hidden_layer_sizes=(8,), max_iter=5, n_rounds=2, device="cpu")


def test_ensemble_is_reproducible_with_random_state():
    X, _ = planted(n_inliers=150, n_outliers=10)
    fits = [
        AutoencoderOutlierDetector(n_estimators=3, random_state=seed, **ENSEMBLE).fit(X)
        for seed in (0, 0, 1)
    ]
    np.testing.assert_array_equal(fits[0].score_samples(X), fits[1].score_samples(X))
    assert not np.array_equal(fits[0].score_samples(X), fits[2].score_samples(X))
    seeds = [member.random_state for member in fits[0].members_]
    assert seeds == [member.random_state for member in fits[1].members_]
    assert len(set(seeds)) == 2 and 0 not in seeds


@pytest.fixture(scope="module")
def ensemble_and_single():
    """An ensemble of three, the single detector of the same seed, the data."""
    X, _ = planted(n_inliers=150, n_outliers=10)
    ensemble = AutoencoderOutlierDetector(n_estimators=3, random_state=0, **ENSEMBLE)
    single = AutoencoderOutlierDetector(random_state=0, **ENSEMBLE)
    return ensemble.fit(X), single.fit(X), X


def test_ensemble_members_are_detectors_trained_alike_with_other_seeds(
    ensemble_and_single,
):
    ensemble, single, X = ensemble_and_single
    # Its own network is the single detector's.
    np.testing.assert_array_equal(ensemble.reconstruct(X), single.reconstruct(X))
    assert len(ensemble.members_) == 2
    for member in ensemble.members_:
        assert member.n_estimators == 1
        alone = AutoencoderOutlierDetector(
            random_state=member.random_state, **ENSEMBLE
        ).fit(X)
        np.testing.assert_array_equal(member.score_samples(X), alone.score_samples(X))


def test_ensemble_averages_errors_on_the_first_networks_scale(ensemble_and_single):
    ensemble, single, X = ensemble_and_single
    # Its own network is the single detector's (see the test above).
    own = [n.score_samples(X) for n in (single, *ensemble.members_)]
    medians = np.array([np.median(-s) for s in own])
    np.testing.assert_allclose(ensemble.member_weights_, medians[0] / medians / 3)
    expected = sum(w * s for w, s in zip(ensemble.member_weights_, own, strict=True))
    np.testing.assert_allclose(ensemble.score_samples(X), expected, rtol=1e-12)
    np.testing.assert_allclose(ensemble.training_scores_, expected, rtol=1e-12)
    per_feature = ensemble.reconstruction_errors(X, per_feature=True)
    np.testing.assert_allclose(per_feature.mean(axis=1), -expected, rtol=1e-12)


def test_one_estimator_has_no_members():
    X, _ = planted(n_inliers=60, n_outliers=5)
    detector = AutoencoderOutlierDetector(random_state=0, **TINY).fit(X)
    assert detector.members_ == []
    np.testing.assert_array_equal(detector.member_weights_, [1.0])
    # Fitting again with one estimator drops the members of an ensemble.
    detector.set_params(n_estimators=2).fit(X)
    assert len(detector.members_) == 1
    detector.set_params(n_estimators=1).fit(X)
    assert detector.members_ == []


def test_ensemble_members_never_train_on_calibration_rows(monkeypatch):
    X, _ = planted(n_inliers=180, n_outliers=20)
    trained = rows_trained_on(monkeypatch)
    detector, _ = calibrated_fit(X, n_estimators=3)
    held = {row.tobytes() for row in X[held_out(detector, X)]}
    assert len(held) == 60 and len(trained) == 3
    for X_round in trained:
        assert not held & {row.tobytes() for row in X_round}
    assert all(m.calibration_fraction == 0 for m in detector.members_)


def test_ensemble_warm_start_continues_every_member():
    X, _ = planted(n_inliers=100, n_outliers=5)
    detector = AutoencoderOutlierDetector(
        n_estimators=2, warm_start=True, random_state=0, **TINY
    ).fit(X)
    (member,) = detector.members_
    detector.set_params(max_iter=3).fit(X)
    assert detector.members_[0] is member
    assert member.max_iter == 3 and member.n_iter_ == 8


def test_ensemble_partial_fit_trains_every_member():
    X, _ = planted(n_inliers=200, n_outliers=10)
    detector = AutoencoderOutlierDetector(
        n_estimators=2, contamination=0.1, random_state=0, **TINY
    )
    for chunk in np.array_split(X, 3):
        detector.partial_fit(chunk)
    (member,) = detector.members_
    assert member.n_iter_ == detector.n_iter_ == 3
    np.testing.assert_array_equal(
        detector.training_scores_, detector.score_samples(chunk)
    )
    np.testing.assert_array_equal(member.training_scores_, member.score_samples(chunk))


@pytest.mark.parametrize("interrupted_call, n_members", [(1, 0), (3, 1)])
def test_interrupting_an_ensemble_keeps_the_networks_trained_so_far(
    monkeypatch, interrupted_call, n_members
):
    from skae._training import StopReason

    X, _ = planted(n_inliers=60, n_outliers=5)
    fit = AutoencoderOutlierDetector._fit
    trained = []

    def interrupted(self, *args, **kwargs):
        reason = fit(self, *args, **kwargs)
        trained.append(self)
        return StopReason.INTERRUPTED if len(trained) == interrupted_call else reason

    monkeypatch.setattr(AutoencoderOutlierDetector, "_fit", interrupted)
    detector = AutoencoderOutlierDetector(n_estimators=4, random_state=0, **ENSEMBLE)
    detector.fit(X)
    # Two rounds each; an interrupted network trains no further round, and
    # no network trains after it.
    assert len(trained) == interrupted_call
    assert detector.members_ == trained[2:] and len(detector.members_) == n_members
    assert detector.member_weights_.shape == (n_members + 1,)
    assert np.isfinite(detector.score_samples(X)).all()


def test_member_weights_match_medians_unless_one_is_zero():
    from skae._scores import member_weights

    errors = [np.array([1.0, 2.0, 3.0]), np.array([4.0, 4.0, 9.0])]
    np.testing.assert_allclose(member_weights(errors), [0.5, 0.25])
    # Weighted medians: only the last row counts, 3 and 9.
    weights = np.array([0.0, 0.0, 1.0])
    np.testing.assert_allclose(member_weights(errors, weights), [0.5, 1 / 6])
    exact = [np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0, 3.0])]
    np.testing.assert_array_equal(member_weights(exact), [0.5, 0.5])


def test_verbose_ensemble_names_each_member(capsys):
    X, _ = planted(n_inliers=60, n_outliers=5)
    AutoencoderOutlierDetector(n_estimators=3, verbose=1, random_state=0, **TINY).fit(X)
    out = capsys.readouterr().out
    assert "Ensemble member 2 of 3" in out and "Ensemble member 3 of 3" in out


@pytest.mark.parametrize("n_estimators", [0, -1, 1.5, "3"])
def test_invalid_n_estimators_is_rejected(n_estimators):
    from sklearn.utils._param_validation import InvalidParameterError

    X = np.random.RandomState(0).normal(size=(20, 3))
    with pytest.raises(InvalidParameterError, match="n_estimators"):
        AutoencoderOutlierDetector(n_estimators=n_estimators, **TINY).fit(X)
