"""Missing values (NaN): every autoencoder trains and scores on the observed cells.

The training loss and the column statistics read the observed cells only,
scores are per observed cell, a row with nothing observed is refused at fit
and scores NaN later; streaming, weights, persistence and ONNX keep working.
"""

import pickle
import warnings

import numpy as np
import pytest
import torch
from _reliability import (
    all_outputs,
    assert_outputs_equal,
    blobs,
    call,
    class_id,
    is_density_model,
    make_estimator,
    public_estimator_classes,
)
from scipy import sparse
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    _data,
    _noise,
)
from skae._batch import Batch
from skae._inference import _check_finite_output
from skae._modules import Output
from skae._objective import MeanSquaredError, observed_mean

ESTIMATORS = public_estimator_classes()
X = blobs(n_samples=120, n_features=6)


def with_missing(X, fraction=0.2, seed=0):
    """A copy of ``X`` with ``fraction`` of its cells NaN, no row left empty."""
    rng = np.random.default_rng(seed)
    missing = rng.random(X.shape) < fraction
    missing[np.arange(len(X)), rng.integers(X.shape[1], size=len(X))] = False
    return np.where(missing, np.nan, X)


X_MISSING = with_missing(X)


def fitted(cls, X, **params):
    return call(make_estimator(cls, **params), "fit", X)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_every_method_takes_missing_values(cls):
    estimator = fitted(cls, X_MISSING)
    assert estimator.__sklearn_tags__().input_tags.allow_nan
    outputs = all_outputs(estimator, X_MISSING)
    for method, output in outputs.items():
        assert np.isfinite(np.asarray(output, dtype=float)).all(), method
    call(make_estimator(cls), "partial_fit", X_MISSING)


@pytest.mark.parametrize(
    "cls", [c for c in ESTIMATORS if not is_density_model(c)], ids=class_id
)
def test_reconstruction_scores_are_over_the_observed_cells(cls):
    estimator = fitted(cls, X_MISSING)
    expected = np.nanmean((estimator.reconstruct(X_MISSING) - X_MISSING) ** 2, axis=1)
    scores = estimator.score_samples(X_MISSING)
    np.testing.assert_allclose(-scores, expected, rtol=1e-5)
    if hasattr(estimator, "reconstruction_errors"):
        per_feature = estimator.reconstruction_errors(X_MISSING, per_feature=True)
        np.testing.assert_array_equal(np.isnan(per_feature), np.isnan(X_MISSING))
        np.testing.assert_allclose(-scores, np.nanmean(per_feature, axis=1), rtol=1e-12)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_a_row_with_nothing_observed_scores_nan(cls):
    estimator = fitted(cls, X_MISSING)
    rows = X_MISSING[:4].copy()
    rows[1] = np.nan
    scores = estimator.score_samples(rows)
    assert np.isnan(scores[1]) and np.isfinite(scores[[0, 2, 3]]).all()
    # What does not depend on an observed cell stays defined: an empty row
    # reads as the training means.
    assert np.isfinite(estimator.reconstruct(rows)).all()
    if hasattr(estimator, "predict"):
        # Nothing in it to flag.
        assert estimator.predict(rows)[1] == 1


def test_the_loss_leaves_missing_cells_out_and_gives_them_no_gradient():
    target = torch.tensor([[1.0, float("nan"), 3.0], [0.0, 2.0, float("nan")]])
    mask = ~torch.isnan(target)
    reconstruction = torch.zeros(2, 3, requires_grad=True)
    batch = Batch(target, mask=mask)
    loss = MeanSquaredError()(Output(reconstruction, None), batch)
    assert loss.item() == pytest.approx((1 + 9 + 0 + 4) / 4)
    loss.backward()
    assert torch.isfinite(reconstruction.grad).all()
    assert (reconstruction.grad[~mask] == 0).all()


def test_a_row_weight_counts_its_observed_cells_as_repeated_rows():
    values = torch.tensor([[1.0, 2.0, 0.0], [5.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    weighted = observed_mean(values, mask, torch.tensor([1.0, 2.0]))
    repeated = observed_mean(values[[0, 1, 1]], mask[[0, 1, 1]])
    assert weighted.item() == pytest.approx(repeated.item())
    assert weighted.item() == pytest.approx((1 + 2 + 5 + 5) / 4)


def test_a_hidden_cell_weighs_as_much_as_hidden_weight_visible_ones():
    rows = torch.tensor([[1.0, 2.0, float("nan")]])
    inputs = torch.tensor([[float("nan"), 2.0, float("nan")]])
    batch = Batch(rows, mask=~torch.isnan(rows), inputs=inputs)
    reconstruction = torch.tensor([[0.0, 0.0, 7.0]])
    loss = MeanSquaredError(hidden_weight=4.0)(Output(reconstruction, None), batch)
    # The first cell hidden (weight 4), the second visible, the third missing.
    assert loss.item() == pytest.approx((4 * 1 + 1 * 4) / 5)
    plain = MeanSquaredError()(Output(reconstruction, None), batch)
    assert plain.item() == pytest.approx((1 + 4) / 2)


def test_column_statistics_use_the_observed_cells():
    weights = np.random.default_rng(1).integers(1, 4, size=len(X)).astype(float)
    summary = _data.ColumnSummary(X_MISSING, weights=weights)
    observed = ~np.isnan(X_MISSING)
    for j in range(X.shape[1]):
        cells, w = X_MISSING[observed[:, j], j], weights[observed[:, j]]
        mean = np.average(cells, weights=w)
        assert summary.mean[j] == pytest.approx(mean, rel=1e-12)
        assert summary.variance[j] == pytest.approx(
            np.average((cells - mean) ** 2, weights=w), rel=1e-10
        )
        assert summary.min[j] == cells.min() and summary.max[j] == cells.max()
        assert summary.n_observed[j] == w.sum()
    assert summary.has_missing
    assert not _data.ColumnSummary(X).has_missing


def test_column_statistics_of_chunks_match_the_whole(monkeypatch):
    whole = _data.ColumnSummary(X_MISSING)
    expected = (whole.mean, whole.variance, whole.min, whole.max)
    monkeypatch.setattr(_data, "_stats_rows", lambda n_features: 7)
    chunked = _data.ColumnSummary(X_MISSING)
    got = (chunked.mean, chunked.variance, chunked.min, chunked.max)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_the_statistics_ignore_what_the_missing_cells_held():
    # Whatever a missing cell held, the fit is the same: it was never read.
    X_other = np.where(np.isnan(X_MISSING), 1e6, X)
    first = fitted(AutoencoderTransformer, X_MISSING)
    second = fitted(
        AutoencoderTransformer, np.where(np.isnan(X_MISSING), np.nan, X_other)
    )
    assert_outputs_equal(all_outputs(first, X), all_outputs(second, X))


def test_sparse_rows_with_missing_values_train_as_their_dense_twin():
    X_sparse = sparse.csr_matrix(np.where(np.abs(X) < 0.3, 0.0, X_MISSING))
    dense = X_sparse.toarray()
    a = fitted(AutoencoderTransformer, X_sparse)
    b = fitted(AutoencoderTransformer, dense)
    assert_outputs_equal(all_outputs(a, X_sparse), all_outputs(b, dense))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_a_model_fitted_on_missing_values_pickles(cls):
    estimator = fitted(cls, X_MISSING)
    loaded = pickle.loads(pickle.dumps(estimator))
    assert_outputs_equal(
        all_outputs(loaded, X_MISSING), all_outputs(estimator, X_MISSING)
    )


def test_onnx_graph_scores_the_observed_cells():
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from skae import to_onnx

    detector = fitted(AutoencoderOutlierDetector, X_MISSING, contamination=0.1)
    rows = X_MISSING[:10].astype(np.float32)
    rows[3] = np.nan
    for method in ("score_samples", "decision_function", "predict", "reconstruct"):
        model = to_onnx(detector, method=method)
        session = ort.InferenceSession(
            model.SerializeToString(), providers=["CPUExecutionProvider"]
        )
        (got,) = session.run(None, {"X": rows.astype(np.float64)})
        expected = getattr(detector, method)(rows.astype(np.float64))
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_missing_noise_hides_cells_as_missing_values():
    rows = torch.arange(1.0, 40001.0).reshape(200, 200)
    hidden = _noise.missing(rows, 0.3, None, None, torch.Generator().manual_seed(0))
    gone = torch.isnan(hidden)
    assert gone.double().mean().item() == pytest.approx(0.3, abs=0.01)
    assert torch.equal(hidden[~gone], rows[~gone])


def test_a_missing_noise_denoiser_learns_to_fill_cells_in():
    # Two latent factors behind six columns: a hidden cell is predictable
    # from the others, which only the network trained to fill in learns.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 2)) @ rng.normal(size=(2, 6))
    params = dict(hidden_layer_sizes=(32,), max_iter=60, random_state=0)
    filler = DenoisingAutoencoder(16, noise="missing", noise_level=0.25, **params)
    copier = DenoisingAutoencoder(16, noise="gaussian", noise_level=0.01, **params)
    hidden = with_missing(X, 0.2, seed=1)
    missing = np.isnan(hidden)
    errors = []
    for model in (filler, copier):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(X)
        errors.append(np.sqrt(np.mean((model.reconstruct(hidden) - X)[missing] ** 2)))
    assert errors[0] < 0.75 * errors[1]
    assert errors[0] < 0.4 * X.std()


def _outlier_table(seed=0):
    """Inliers near a 2-d plane in 8 dimensions, outliers off it."""
    rng = np.random.default_rng(seed)
    basis = rng.normal(size=(2, 8))
    inliers = rng.normal(size=(450, 2)) @ basis + 0.1 * rng.normal(size=(450, 8))
    outliers = rng.normal(size=(50, 8)) * inliers.std(axis=0)
    return np.vstack([inliers, outliers]), np.r_[np.zeros(450), np.ones(50)]


def test_the_detector_flags_rows_for_what_is_in_them_not_for_what_is_missing():
    X, y = _outlier_table()
    X_missing = with_missing(X, 0.2, seed=3)
    aucs = []
    for steps, data in [([], X), ([], X_missing), ([SimpleImputer()], X_missing)]:
        detector = make_pipeline(
            *steps,
            StandardScaler(),
            AutoencoderOutlierDetector(hidden_layer_sizes=(16,), random_state=0),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aucs.append(roc_auc_score(y, -detector.fit(data).score_samples(data)))
    complete, with_nan, imputed = aucs
    assert with_nan > imputed + 0.01
    # A fifth of the evidence is gone: on eight columns, a little is lost.
    assert with_nan > complete - 0.04


def test_codes_of_a_table_with_missing_cells_classify_as_the_complete_ones(digits):
    X, y = digits
    X = X[:900] / 16.0
    y = y[:900]
    # Two splits and seeds: one of them alone moves the gap by 0.02.
    accuracies = np.zeros(2)
    for seed in (0, 1):
        train, test = train_test_split(np.arange(len(X)), random_state=seed, stratify=y)
        for i, data in enumerate((X, with_missing(X, 0.2, seed=0))):
            model = make_pipeline(
                AutoencoderTransformer(16, hidden_layer_sizes=(64,), random_state=seed),
                LogisticRegression(max_iter=2000),
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.fit(data[train], y[train])
            accuracies[i] += model.score(data[test], y[test]) / 2
    assert accuracies[1] >= accuracies[0] - 0.03


def test_nan_outputs_pass_only_where_nothing_was_observed():
    # A NaN score stands for a row with nothing observed, a NaN per-cell
    # error for a missing cell; any other NaN is the network failing.
    X_small = np.array([[1.0, np.nan], [np.nan, np.nan], [2.0, 3.0]])
    per_row = np.array([-0.5, np.nan, -0.1])
    assert _check_finite_output(per_row, X_small, missing_ok=True) is per_row
    per_cell = np.array([[0.1, np.nan], [np.nan, np.nan], [0.2, 0.3]])
    assert _check_finite_output(per_cell, X_small, missing_ok=True) is per_cell
    for bad in (np.array([np.nan, np.nan, -0.1]), np.full((3, 2), np.nan)):
        with pytest.raises(ValueError, match="overflowed"):
            _check_finite_output(bad, X_small, missing_ok=True)
    with pytest.raises(ValueError, match="overflowed"):
        _check_finite_output(per_row, X_small)
    with pytest.raises(ValueError, match="largest magnitude is 5"):
        _check_finite_output(np.array([-np.inf]), sparse.csr_matrix([[1.0, -5.0]]))
