"""Hyperparameter search under joblib's parallel backends: loky and Dask."""

import warnings

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

distributed = pytest.importorskip("dask.distributed")

GRID = {"n_components": [2, 4], "hidden_layer_sizes": [(16,)]}
# The scores of a fit must not depend on where it ran. They are compared to
# within rounding, not to the bit: a worker may run torch with another
# number of threads, which can change the order of a large reduction.
SCORES = [
    "mean_test_score",
    "std_test_score",
    *(f"split{i}_test_score" for i in range(3)),
]


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:600]


def search(X, n_jobs=None):
    estimator = AutoencoderTransformer(max_iter=10, random_state=0, device="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return GridSearchCV(estimator, GRID, cv=3, n_jobs=n_jobs).fit(X)


@pytest.fixture(scope="module")
def sequential(X):
    # On one torch thread (the suite's setting), as each parallel worker gets.
    return search(X).cv_results_


def assert_same_results(results, expected):
    for key in SCORES:
        np.testing.assert_allclose(results[key], expected[key], rtol=1e-10)
    np.testing.assert_array_equal(
        results["rank_test_score"], expected["rank_test_score"]
    )
    assert results["params"] == expected["params"]


def test_loky_search_matches_sequential(X, sequential):
    assert_same_results(search(X, n_jobs=2).cv_results_, sequential)


@pytest.mark.slow
def test_dask_search_matches_sequential(X, sequential):
    # A real cluster on the loopback interface: a scheduler and one worker
    # with two threads, talking over TCP. Thread workers share one process,
    # so this also exercises the sharing of torch's threads between fits.
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster), joblib.parallel_backend("dask"):
        results = search(X, n_jobs=-1).cv_results_
    assert_same_results(results, sequential)
