"""Sparsity, weight penalties, dropout and architecture search (issue 3)."""

import re

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from skae import AutoencoderTransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

BASE = dict(hidden_layer_sizes=(64,), max_iter=30, random_state=0)


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:800]


def all_weights(model):
    linears = [
        m
        for half in (model.encoder_, model.decoder_)
        for m in half.modules()
        if isinstance(m, torch.nn.Linear)
    ]
    return np.concatenate([m.weight.detach().cpu().numpy().ravel() for m in linears])


def test_kl_sparsity_drives_mean_activation_to_target(X):
    plain = AutoencoderTransformer(32, activation="sigmoid", **BASE).fit(X)
    sparse = AutoencoderTransformer(
        32,
        activation="sigmoid",
        sparsity="kl",
        sparsity_target=0.05,
        sparsity_weight=0.03,
        **BASE,
    ).fit(X)
    before, after = plain.transform(X).mean(), sparse.transform(X).mean()
    assert after <= 0.10
    assert after < before / 2
    assert "kl_sparsity" in sparse.loss_components_


def test_kl_sparsity_on_tanh_codes_uses_mapped_activation(X):
    plain = AutoencoderTransformer(32, activation="tanh", **BASE).fit(X)
    sparse = AutoencoderTransformer(
        32, activation="tanh", sparsity="kl", sparsity_weight=0.03, **BASE
    ).fit(X)
    mapped = lambda m: ((m.transform(X) + 1) / 2).mean()  # noqa: E731
    assert mapped(sparse) < mapped(plain) - 0.2


def test_l1_activity_sparsity_halves_mean_abs_code(X):
    plain = AutoencoderTransformer(8, **BASE).fit(X)
    sparse = AutoencoderTransformer(8, sparsity="l1", sparsity_weight=0.3, **BASE).fit(
        X
    )
    assert np.abs(sparse.transform(X)).mean() <= np.abs(plain.transform(X)).mean() / 2


def test_l1_weight_penalty_zeroes_more_weights(X):
    plain = AutoencoderTransformer(8, **BASE).fit(X)
    lasso = AutoencoderTransformer(8, alpha=1e-3, l1_ratio=1.0, **BASE).fit(X)
    near_zero = lambda m: np.mean(np.abs(all_weights(m)) < 1e-3)  # noqa: E731
    assert near_zero(lasso) > near_zero(plain) + 0.3


def test_l2_weight_penalty_shrinks_weights(X):
    plain = AutoencoderTransformer(8, **BASE).fit(X)
    ridge = AutoencoderTransformer(8, alpha=1e-2, l1_ratio=0.0, **BASE).fit(X)
    assert np.linalg.norm(all_weights(ridge)) < 0.7 * np.linalg.norm(all_weights(plain))


def test_adamw_applies_l2_as_decoupled_decay(X):
    plain = AutoencoderTransformer(8, solver="adamw", **BASE).fit(X)
    decayed = AutoencoderTransformer(8, solver="adamw", alpha=1.0, **BASE).fit(X)
    # No L2 term in the loss: the decay acts on the weights directly.
    assert set(decayed.loss_components_) == {"reconstruction"}
    assert np.linalg.norm(all_weights(decayed)) < np.linalg.norm(all_weights(plain))


def test_dropout_trains_differently_but_infers_deterministically(X):
    plain = AutoencoderTransformer(8, **{**BASE, "max_iter": 5}).fit(X)
    dropped = AutoencoderTransformer(8, dropout=0.3, **{**BASE, "max_iter": 5}).fit(X)
    assert dropped.loss_curve_ != plain.loss_curve_
    first = dropped.transform(X)
    assert np.array_equal(first, dropped.transform(X))
    assert np.array_equal(dropped.score_samples(X), dropped.score_samples(X))


def test_loss_curve_is_total_objective_and_parts_are_reported(X, capsys):
    model = AutoencoderTransformer(
        8,
        activation="sigmoid",
        sparsity="kl",
        sparsity_weight=0.01,
        alpha=1e-4,
        verbose=1,
        **{**BASE, "max_iter": 3},
    ).fit(X)
    parts = model.loss_components_
    assert list(parts) == ["reconstruction", "weight_penalty", "kl_sparsity"]
    totals = np.sum([parts[k] for k in parts], axis=0)
    assert np.allclose(model.loss_curve_, totals)
    first = capsys.readouterr().out.splitlines()[0]
    assert re.match(
        r"Iteration 1, loss = [\d.]+ \(reconstruction = [\d.]+, weight_penalty = "
        r"[\d.]+, kl_sparsity = [\d.]+\)",
        first,
    )


@pytest.mark.parametrize(
    "params, message",
    [
        ({"sparsity_target": 0.0}, "sparsity_target"),
        ({"sparsity_target": 1.0}, "sparsity_target"),
        ({"sparsity_weight": -0.1}, "sparsity_weight"),
        ({"sparsity": "entropy"}, "sparsity"),
        ({"l1_ratio": 1.5}, "l1_ratio"),
        ({"l1_ratio": -0.1}, "l1_ratio"),
        ({"alpha": -1.0}, "alpha"),
        ({"dropout": 1.0}, "dropout"),
        ({"sparsity": "kl", "activation": "relu"}, "activation='relu'"),
    ],
)
def test_invalid_regularization_parameters(params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        AutoencoderTransformer(2, **params).fit(np.random.RandomState(0).rand(10, 3))


def test_grid_search_over_architecture_and_penalties(X):
    grid = {
        "hidden_layer_sizes": [(), (16,)],
        "n_components": [2, 6],
        "activation": ["tanh"],
        "sparsity": ["kl"],
        "sparsity_weight": [0.0, 0.01],
        "alpha": [0.0, 1e-4],
    }
    search = GridSearchCV(
        AutoencoderTransformer(max_iter=3, random_state=0), grid, cv=2, n_jobs=2
    ).fit(X[:300])
    assert len(search.cv_results_["params"]) == 16
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_randomized_search_over_tuples(X):
    search = RandomizedSearchCV(
        AutoencoderTransformer(max_iter=3, random_state=0),
        {"hidden_layer_sizes": [(8,), (16, 8), (32,)], "n_components": [2, 4, 8]},
        n_iter=4,
        cv=2,
        random_state=0,
    ).fit(X[:300])
    assert len(search.cv_results_["params"]) == 4
    assert isinstance(search.best_params_["hidden_layer_sizes"], tuple)
