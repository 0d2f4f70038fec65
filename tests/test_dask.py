"""skae.dask: training and inference over Dask arrays, a block of rows at a time.

The small cases run on Dask's local scheduler and on a real
``dask.distributed`` cluster on the loopback interface, and must give
exactly what the same calls give in memory. The large one trains on an
array several times larger than its single worker's memory limit.
"""

import warnings

import numpy as np
import pytest
from _reliability import (
    all_outputs,
    assert_outputs_equal,
    blobs,
    class_id,
    make_estimator,
    public_estimator_classes,
)
from sklearn.utils import check_random_state

from skae import AutoencoderTransformer
from skae.dask import apply_blocks, fit_blocks

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("dask.distributed")

pytestmark = pytest.mark.filterwarnings("ignore:Maximum iterations")
ESTIMATORS = public_estimator_classes()
X = blobs(n_samples=120, n_features=5)
WEIGHTS = np.random.default_rng(0).integers(0, 3, size=120).astype(float)
BLOCKS = 30  # rows per block: four blocks


def _in_memory(estimator, X, order, weights=None):
    """The partial_fit calls fit_blocks makes, on NumPy blocks."""
    for i in order:
        rows = slice(i * BLOCKS, (i + 1) * BLOCKS)
        if weights is None:
            estimator.partial_fit(X[rows])
        else:
            estimator.partial_fit(X[rows], sample_weight=weights[rows])
    return estimator


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_fit_blocks_is_partial_fit_on_each_block(cls, client):
    X_dask = da.from_array(X, chunks=(BLOCKS, 5))
    estimator = make_estimator(cls)
    trained = fit_blocks(estimator, X_dask, epochs=2, random_state=0)
    assert not hasattr(estimator, "n_iter_"), "the estimator passed was trained"
    rng = check_random_state(0)
    order = [*rng.permutation(4), *rng.permutation(4)]
    expected = _in_memory(make_estimator(cls), X, order)
    assert trained.n_iter_ == 8
    assert_outputs_equal(all_outputs(trained, X), all_outputs(expected, X))


def test_fit_blocks_carries_the_weights_and_keeps_the_order(client):
    X_dask = da.from_array(X, chunks=(BLOCKS, 5))
    weights = da.from_array(WEIGHTS, chunks=60)  # rechunked to X's blocks
    trained = fit_blocks(
        make_estimator(AutoencoderTransformer),
        X_dask,
        sample_weight=weights,
        shuffle=False,
    )
    expected = _in_memory(make_estimator(AutoencoderTransformer), X, range(4), WEIGHTS)
    assert_outputs_equal(all_outputs(trained, X), all_outputs(expected, X))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_apply_blocks_gives_each_method_its_own_shape(cls):
    # Dask's local scheduler: no cluster needed to map over blocks.
    estimator = make_estimator(cls).fit(X)
    X_dask = da.from_array(X, chunks=(BLOCKS, 3))  # columns split too
    for method, expected in all_outputs(estimator, X).items():
        data = X_dask
        if method == "inverse_transform":
            data = da.from_array(estimator.transform(X), chunks=BLOCKS)
        if method == "score":
            continue
        result = apply_blocks(estimator, data, method)
        assert result.shape == expected.shape, method
        assert result.dtype == expected.dtype, method
        # Matrix products on blocks of another height may round differently
        # in the last bit (whether they do depends on the CPU's kernels).
        np.testing.assert_allclose(
            result.compute(), expected, rtol=1e-13, atol=1e-15, err_msg=method
        )
    if hasattr(estimator, "deep_features"):
        hidden = apply_blocks(estimator, X_dask, "deep_features", layer=0)
        np.testing.assert_allclose(
            hidden.compute(), estimator.deep_features(X, 0), rtol=1e-13, atol=1e-15
        )


def test_blocks_with_missing_values_train_and_score_as_in_memory(client):
    # Each block's NaN cells are left out of its statistics and loss, and
    # scored per observed cell, as a NumPy block's are.
    missing = np.random.default_rng(1).random(X.shape) < 0.2
    missing[:, 0] = False  # every row keeps an observed cell
    X_missing = np.where(missing, np.nan, X)
    X_dask = da.from_array(X_missing, chunks=(BLOCKS, 5))
    trained = fit_blocks(make_estimator(AutoencoderTransformer), X_dask, shuffle=False)
    expected = _in_memory(make_estimator(AutoencoderTransformer), X_missing, range(4))
    assert_outputs_equal(
        all_outputs(trained, X_missing), all_outputs(expected, X_missing)
    )
    scores = apply_blocks(trained, X_dask, "score_samples").compute()
    np.testing.assert_allclose(
        scores, expected.score_samples(X_missing), rtol=1e-13, atol=1e-15
    )
    assert np.isfinite(scores).all()


def test_apply_blocks_returns_arrays_whatever_set_output_asks():
    pytest.importorskip("pandas")
    estimator = make_estimator(AutoencoderTransformer).fit(X)
    estimator.set_output(transform="pandas")
    codes = apply_blocks(estimator, da.from_array(X, chunks=BLOCKS)).compute()
    assert isinstance(codes, np.ndarray)


def test_dask_ml_incremental_trains_the_same_model():
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X_dask = da.from_array(X, chunks=(BLOCKS, 5))
    incremental = wrappers.Incremental(
        make_estimator(AutoencoderTransformer), shuffle_blocks=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        incremental.fit(X_dask)
    ours = fit_blocks(make_estimator(AutoencoderTransformer), X_dask, shuffle=False)
    assert_outputs_equal(all_outputs(incremental.estimator_, X), all_outputs(ours, X))


@pytest.mark.slow
def test_data_larger_than_the_workers_memory():
    # One worker process limited to 1 GiB (torch and skae take about half of
    # it once imported) and an array of 1.3 GB, made block by block on the
    # worker: no process ever holds it whole.
    limit = 2**30
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        memory_limit=limit,
        host="127.0.0.1",
        dashboard_address=None,
    )
    rows, features, block = 1_300_000, 256, 50_000
    X_big = da.random.default_rng(0).random(
        (rows, features), chunks=(block, features), dtype=np.float32
    )
    assert X_big.nbytes > 1.2 * limit
    ae = AutoencoderTransformer(
        2, hidden_layer_sizes=(8,), batch_size=4096, random_state=0, device="cpu"
    )
    with cluster, distributed.Client(cluster):
        ae = fit_blocks(ae, X_big, shuffle=False)
        scores = apply_blocks(ae, X_big, "score_samples")
        mean_error = -float(scores.mean().compute())
        (worker,) = cluster.scheduler_info["workers"].values()
        assert worker["memory_limit"] == limit
    assert ae.n_iter_ == rows // block
    # Uniform data: each feature's variance is 1/12, and a code of 2 units
    # explains little of 256 independent features.
    assert 0.07 < mean_error < 1 / 12
