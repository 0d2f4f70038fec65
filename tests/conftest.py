"""Fixtures shared by the test modules (the root conftest.py sets up the session)."""

import warnings

import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae._recipe import NetworkRecipe, build_network


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits: ``X`` (1797 x 64, pixels 0-16) and ``y``."""
    return load_digits(return_X_y=True)


@pytest.fixture
def quiet_convergence():
    """Tiny training budgets on purpose: their ConvergenceWarning is not the subject."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def make_small_module(seed=0, **recipe):
    """A 6-5-2-5-6 float64 autoencoder, initialised from ``seed``."""
    params = dict(
        n_features=6, n_components=2, hidden_layer_sizes=(5,), dtype="float64"
    )
    module = build_network(NetworkRecipe(**{**params, **recipe}))
    module.reset_parameters(torch.Generator().manual_seed(seed))
    return module


@pytest.fixture
def small_module():
    """A factory of small float64 autoencoders: ``small_module(seed, **recipe)``."""
    return make_small_module


@pytest.fixture
def two_torch_threads():
    """Two torch threads for the test; back to the suite's one afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)
