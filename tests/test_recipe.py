"""Network recipes and the torch objects built from them."""

import dataclasses

import pytest
import torch

from skae._objective import BinaryCrossEntropy, MeanSquaredError
from skae._penalties import L1Activity
from skae._recipe import (
    NetworkRecipe,
    build_network,
    build_objective,
    build_optimizer,
)

RECIPE = NetworkRecipe(
    n_features=7,
    n_components=3,
    hidden_layer_sizes=(6, 4),
    activation="tanh",
    output_activation="sigmoid",
    dropout=0.25,
    dtype="float64",
)


def test_recipe_is_frozen_and_round_trips_through_a_dict():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RECIPE.n_components = 4
    plain = RECIPE.to_dict()
    builtins = (int, float, str, tuple, type(None))
    assert all(isinstance(v, builtins) for v in plain.values()), plain
    # Serialisers may turn tuples into lists: the recipe comes back equal.
    plain["hidden_layer_sizes"] = list(plain["hidden_layer_sizes"])
    assert NetworkRecipe.from_dict(plain) == RECIPE


def test_network_is_built_to_the_recipe():
    module = build_network(RECIPE)
    widths = [layer[0].out_features for layer in module.hidden_layers()]
    assert widths == [6, 4, 3, 4, 6]
    assert module.output_linear().out_features == 7
    assert all(p.dtype == torch.float64 for p in module.parameters())
    assert isinstance(module.decoder[-1], torch.nn.Sigmoid)


def test_saved_weights_load_into_a_network_built_from_the_recipe():
    shift = torch.arange(7, dtype=torch.float64)
    scale = torch.full((7,), 2.0, dtype=torch.float64)
    trained = build_network(RECIPE, shift, scale)
    trained.reset_parameters(torch.Generator().manual_seed(0))
    rebuilt = build_network(RECIPE)
    rebuilt.load_state_dict(trained.state_dict())
    x = torch.rand(5, 7, dtype=torch.float64)
    trained.eval(), rebuilt.eval()
    assert torch.equal(trained(x).reconstruction, rebuilt(x).reconstruction)


def test_changes_from_names_the_fields_that_differ():
    other = dataclasses.replace(RECIPE, n_components=5, activation="elu")
    assert other.changes_from(RECIPE) == ["n_components", "activation"]
    assert RECIPE.changes_from(RECIPE) == []


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd", "rmsprop"])
def test_build_optimizer_uses_fast_kernels(solver, small_module):
    module = small_module()
    optimizer = build_optimizer(solver, module, 1e-3, weight_decay=0.1)
    defaults = optimizer.defaults
    assert defaults.get("fused") or defaults.get("foreach")
    if solver == "adamw":
        # Decoupled decay on the weight matrices only, never on biases.
        by_decay = {g["weight_decay"]: g["params"] for g in optimizer.param_groups}
        assert sorted(by_decay) == [0.0, 0.1]
        assert all(p.ndim == 2 for p in by_decay[0.1])
        assert len(by_decay[0.1]) == len(module.weights())
        assert all(p.ndim == 1 for p in by_decay[0.0])


def test_build_optimizer_rejects_unknown_solvers(small_module):
    with pytest.raises(ValueError, match="Unknown solver 'lbfgs'"):
        build_optimizer("lbfgs", small_module(), 1e-3)


def test_build_objective_picks_the_loss_and_keeps_the_terms():
    mse = build_objective("mse", 4.0, [L1Activity(0.1)])
    assert mse.reconstruction == MeanSquaredError(4.0)
    assert mse.names == ("reconstruction", "l1_sparsity")
    assert build_objective("bce", 4.0).reconstruction == BinaryCrossEntropy()
