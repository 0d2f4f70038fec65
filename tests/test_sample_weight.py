"""sample_weight: a row of weight k counts as k copies of it, 0 as absent.

scikit-learn's own checks (test_common) compare weighted fits with fits on
repeated and removed rows; these tests cover what they do not: weights
following their rows through shuffled and streamed batches, partial_fit,
early stopping, the detector's rounds and threshold, and the validation
of the weights.
"""

import numpy as np
import pytest
from _reliability import (
    all_outputs,
    assert_outputs_equal,
    blobs,
    call,
    class_id,
    make_estimator,
    public_estimator_classes,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils.validation import has_fit_parameter

import skae._training as training
from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    VariationalAutoencoder,
    _data,
)
from skae._scores import trim_by_weight, weighted_percentile

# The variational autoencoder takes no weights: its codes are drawn per row,
# so a row of weight 2 cannot train as its two copies do.
ESTIMATORS = [
    cls
    for cls in public_estimator_classes()
    if has_fit_parameter(cls(), "sample_weight")
]
X = blobs(n_samples=30, n_features=4)
WEIGHTS = np.random.default_rng(0).integers(0, 4, size=30).astype(float)


def _repeated(X, weights):
    return np.repeat(X, weights.astype(int), axis=0)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
@pytest.mark.parametrize("value", [1.0, 3.0])
def test_equal_weights_are_the_unweighted_fit_bit_for_bit(cls, value):
    plain = call(make_estimator(cls), "fit", X)
    weighted = make_estimator(cls)
    weighted.fit(X, sample_weight=np.full(X.shape[0], value))
    assert_outputs_equal(all_outputs(weighted, X), all_outputs(plain, X))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_the_callers_weights_are_left_alone(cls):
    weights = WEIGHTS.copy()
    weights.flags.writeable = False
    for method in ("fit", "partial_fit"):
        getattr(make_estimator(cls), method)(X, sample_weight=weights)
    np.testing.assert_array_equal(weights, WEIGHTS)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_bad_weights_are_refused_with_a_clear_message(cls):
    estimator = make_estimator(cls)
    with pytest.raises(ValueError, match="Negative values"):
        estimator.fit(X, sample_weight=-np.ones(X.shape[0]))
    one = np.zeros(X.shape[0])
    one[3] = 1.0
    with pytest.raises(ValueError, match=r"sample_weight gives 1 sample\(s\)"):
        estimator.fit(X, sample_weight=one)
    # One positive row is enough for one epoch of partial_fit.
    make_estimator(cls).partial_fit(X, sample_weight=one)


# ----------------------------------------------------------------------
# Weights follow their rows


def _spy_batches(monkeypatch):
    """Record (target rows, their weights) of every training step."""
    seen, real = [], training.train_step

    def spy(run, batch):
        weights = batch.weights
        seen.append((batch.rows.numpy().copy(), weights))
        return real(run, batch)

    monkeypatch.setattr(training, "train_step", spy)
    return seen


def _row_ids_and_weights():
    # Column 0 names the row; each row's weight is a function of its name.
    ids = np.arange(200, dtype=float)
    X_ids = np.column_stack([ids, np.random.default_rng(1).normal(size=(200, 3))])
    weights = ids % 4  # a quarter of the rows have weight 0
    return X_ids, weights


@pytest.mark.parametrize("streamed", [False, True], ids=["resident", "streamed"])
def test_weights_follow_their_rows_and_zero_weights_never_train(monkeypatch, streamed):
    if streamed:
        # Chunks of 64 rows: four shuffled chunks per epoch.
        monkeypatch.setattr(_data, "RESIDENT_BYTES", 0)
        monkeypatch.setattr(_data, "STREAM_CHUNK_BYTES", 64 * 4 * 8)
        monkeypatch.setattr(_data, "STREAM_BLOCK_BYTES", 16 * 4 * 8)
    seen = _spy_batches(monkeypatch)
    X_ids, weights = _row_ids_and_weights()
    ae = AutoencoderTransformer(2, hidden_layer_sizes=(4,), batch_size=16, max_iter=2)
    with pytest.warns(Warning):
        ae.fit(X_ids, sample_weight=weights)
    rows = np.concatenate([batch[:, 0] for batch, _ in seen])
    given = np.concatenate([w.numpy() for _, w in seen])
    np.testing.assert_array_equal(given, rows % 4)
    # Each epoch trains on every row of positive weight once.
    expected = np.flatnonzero(weights).astype(float)
    for epoch in np.split(rows, 2):
        np.testing.assert_array_equal(np.sort(epoch), expected)


def test_early_stopping_splits_the_rows_of_positive_weight(monkeypatch):
    evaluated, real = [], training.evaluate

    def spy(module, objective, X, *args, **kwargs):
        for _, batch in training.epoch_batches(X, 10**6, False, None):
            evaluated.append((batch.rows[:, 0].numpy().copy(), batch.weights))
        return real(module, objective, X, *args, **kwargs)

    monkeypatch.setattr(training, "evaluate", spy)
    seen = _spy_batches(monkeypatch)
    X_ids, weights = _row_ids_and_weights()
    ae = AutoencoderTransformer(
        2, hidden_layer_sizes=(4,), max_iter=1, early_stopping=True, random_state=0
    )
    with pytest.warns(Warning):
        ae.fit(X_ids, sample_weight=weights)
    trained = np.concatenate([batch[:, 0] for batch, _ in seen])
    # The validation set: evaluated with weights (the divergence probe reads
    # the first training rows, unweighted).
    ((validated, validation_weights),) = {
        (rows.tobytes(), w is not None): (rows, w)
        for rows, w in evaluated
        if w is not None
    }.values()
    assert np.intersect1d(trained, validated).size == 0
    np.testing.assert_array_equal(
        np.sort(np.concatenate([trained, validated])),
        np.flatnonzero(weights).astype(float),
    )
    # 10% of the 150 rows of positive weight, weighted by their weights.
    assert validated.size == 15
    np.testing.assert_array_equal(validation_weights.numpy(), validated % 4)


# ----------------------------------------------------------------------
# As repeated rows


def _full_batch(cls, **params):
    return make_estimator(cls, batch_size="auto", noise_level=0.0, **params)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_partial_fit_with_weights_is_partial_fit_on_repeated_rows(cls):
    weighted, repeated = _full_batch(cls), _full_batch(cls)
    for _ in range(3):
        weighted.partial_fit(X, sample_weight=WEIGHTS)
        repeated.partial_fit(_repeated(X, WEIGHTS))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(
        weighted.score_samples(X), repeated.score_samples(X), rtol=1e-9
    )


def test_weighted_losses_are_those_of_the_repeated_rows():
    weighted = _full_batch(AutoencoderTransformer, early_stopping=False)
    repeated = _full_batch(AutoencoderTransformer, early_stopping=False)
    weighted.set_params(max_iter=4).fit(X, sample_weight=WEIGHTS)
    call(repeated.set_params(max_iter=4), "fit", _repeated(X, WEIGHTS))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-9)


def test_detector_threshold_is_the_percentile_of_the_repeated_scores():
    detector = make_estimator(AutoencoderOutlierDetector, contamination=0.2)
    detector.fit(X, sample_weight=WEIGHTS)
    scores = detector.training_scores_
    expected = np.percentile(_repeated(scores[:, None], WEIGHTS)[:, 0], 20)
    assert detector.offset_ == pytest.approx(expected, rel=1e-12)
    # set_contamination weighs the stored scores alike.
    detector.set_contamination("auto")
    q1, q3 = np.percentile(-_repeated(scores[:, None], WEIGHTS)[:, 0], [25, 75])
    assert detector.offset_ == pytest.approx(-(q3 + 1.5 * (q3 - q1)), rel=1e-12)


# ----------------------------------------------------------------------
# The detector's weighted helpers


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=12),
    st.data(),
    st.floats(0, 100),
)
def test_weighted_percentile_is_numpys_on_the_repeated_values(values, data, q):
    values = np.array(values)
    counts = np.array(
        data.draw(
            st.lists(st.integers(0, 4), min_size=values.size, max_size=values.size)
        )
    )
    if counts.sum() == 0:
        counts[0] = 1
    expected = np.percentile(np.repeat(values, counts), q)
    got = weighted_percentile(values, counts.astype(float), q)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.floats(0, 0.9))
def test_trim_by_weight_keeps_what_trimming_the_repeated_rows_keeps(data, trim):
    n = data.draw(st.integers(1, 12))
    errors = np.array(data.draw(st.lists(st.floats(0, 10), min_size=n, max_size=n)))
    counts = np.array(data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    if counts.sum() == 0:
        counts[0] = 1
    rows, kept = trim_by_weight(errors, counts.astype(float), trim)
    # The unweighted rule on the repeated rows (ties by position, as there).
    owner = np.repeat(np.arange(n), counts)
    total = owner.size
    n_keep = max(min(total, 2), total - int(trim * total))
    kept_owner = owner[np.argsort(errors[owner], kind="stable")[:n_keep]]
    expected = np.bincount(kept_owner, minlength=n)
    assert (np.diff(rows) > 0).all()
    np.testing.assert_allclose(kept, expected[rows])
    assert expected[np.setdiff1d(np.arange(n), rows)].sum() == 0


def test_the_variational_autoencoder_takes_no_weights():
    vae = VariationalAutoencoder(max_iter=2)
    for method in (vae.fit, vae.partial_fit, vae.fit_transform):
        with pytest.raises(TypeError, match="sample_weight"):
            method(np.ones((4, 3)), sample_weight=np.ones(4))
