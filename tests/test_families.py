"""Proof of room: new network kinds, training steps and batch fields, from outside.

Everything a new model family needs is registered or overridden here, in a
test module, with no edit to ``skae/``: a network kind (a one-layer linear
autoencoder), a training step that takes two optimizer steps a batch with
two named optimizers, and a loss term that reads the batch's mask. They
train through a public estimator, pickle and load.
"""

import dataclasses
import pickle
import sys

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from skae import AutoencoderTransformer
from skae._batch import Batch
from skae._modules import Affine, Output
from skae._networks import NetworkModule
from skae._objective import MeanSquaredError, Objective
from skae._recipe import NETWORK_KINDS, build_optimizer, register_network_kind
from skae._training import NETWORK, LoopSettings, Run, fit_loop


@pytest.fixture(scope="module")
def X():
    return load_digits().data[:300] / 16.0


# ----------------------------------------------------------------------
# A network kind: one linear layer each way, standardised input.


class OneLayerLinear(NetworkModule):
    """``x -> W x -> V z``, with the input standardised as skae does."""

    def __init__(self, n_features, n_components, shift, scale, dtype):
        super().__init__()
        self.encoder = nn.Sequential(
            Affine(shift, scale),
            nn.utils.skip_init(nn.Linear, n_features, n_components),
        )
        self.decoder = nn.Sequential(
            nn.utils.skip_init(nn.Linear, n_components, n_features),
            Affine(shift, scale, inverse=True),
        )
        self.to(dtype)

    def forward(self, inputs, weights=None):
        codes = self.encoder(inputs)
        return Output(self.decoder(codes), codes)

    def reset_parameters(self, generator):
        for layer in (self.encoder[1], self.decoder[0]):
            weight = torch.empty(layer.weight.shape, dtype=torch.float64)
            nn.init.normal_(weight, std=0.1, generator=generator)
            with torch.no_grad():
                layer.weight.copy_(weight)
            nn.init.zeros_(layer.bias)

    def weights(self):
        return [self.encoder[1].weight, self.decoder[0].weight]

    def multiply_adds(self):
        return sum(w.numel() for w in self.weights())

    def widest_activation(self):
        return self.decoder[0].out_features

    def n_hidden_layers(self):
        return 1

    def code_layer_index(self):
        return 0

    def layer_features(self, index):
        return self.encoder

    def filters(self, layer):
        if layer == "encoder":
            return self.encoder[1].weight
        return self.decoder[0].weight.t()

    def input_scale(self):
        return 1.0 / self.encoder[0].factor


def build_one_layer_linear(recipe, shift, scale):
    return OneLayerLinear(
        recipe.n_features, recipe.n_components, shift, scale, recipe.torch_dtype
    )


@pytest.fixture(scope="module", autouse=True)
def one_layer_linear_kind():
    register_network_kind("one_layer_linear", build_one_layer_linear)
    yield
    del NETWORK_KINDS["one_layer_linear"]


class LinearTransformer(AutoencoderTransformer):
    """A public estimator training the registered kind."""

    def _network_recipe(self, n_features, dtype):
        recipe = super()._network_recipe(n_features, dtype)
        return dataclasses.replace(recipe, kind="one_layer_linear")


def test_a_registered_network_kind_trains_through_a_public_estimator(X):
    ae = LinearTransformer(4, learning_rate_init=1e-2, max_iter=30, random_state=0)
    ae.fit(X)
    assert isinstance(ae._network.module, OneLayerLinear)
    assert ae._network.recipe.kind == "one_layer_linear"
    assert ae.loss_curve_[-1] < 0.5 * ae.loss_curve_[0]
    assert ae.transform(X).shape == (300, 4)
    assert ae.deep_features(X, "code").shape == (300, 4)
    np.testing.assert_array_equal(
        ae._filters("decoder"), ae._network.module.decoder[0].weight.detach().t()
    )
    again = pickle.loads(pickle.dumps(ae))
    assert isinstance(again._network.module, OneLayerLinear)
    np.testing.assert_array_equal(again.reconstruct(X), ae.reconstruct(X))


def test_elastic_net_reaches_the_kind_s_own_weights(X):
    # The penalty asks the network for its weights, and shrinks them.
    plain = LinearTransformer(4, max_iter=10, random_state=0).fit(X)
    shrunk = LinearTransformer(4, max_iter=10, alpha=1.0, random_state=0).fit(X)
    assert "weight_penalty" in shrunk.loss_components_
    norm = [
        sum(w.abs().sum().item() for w in e._network.module.weights())
        for e in (plain, shrunk)
    ]
    assert norm[1] < norm[0]


def test_an_unregistered_kind_cannot_be_loaded(X):
    ae = LinearTransformer(2, max_iter=2, random_state=0).fit(X)
    state = pickle.dumps(ae)
    builder = NETWORK_KINDS.pop("one_layer_linear")
    try:
        with pytest.raises(ValueError, match="No network kind 'one_layer_linear'"):
            pickle.loads(state)
    finally:
        NETWORK_KINDS["one_layer_linear"] = builder


# ----------------------------------------------------------------------
# A training step of its own: two optimizers, two steps a batch.


def decoder_then_encoder_step(run, batch):
    """Step the decoder on the batch's loss, then the encoder on a fresh one."""
    for part in ("decoder", "encoder"):
        total, parts = run.objective(run.module, batch)
        optimizer = run.optimizers[part]
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        optimizer.step()
    return [p.detach() for p in parts]


class TwoStepTransformer(AutoencoderTransformer):
    """A public estimator with its own step and two named optimizers."""

    def _build_optimizers(self, module):
        lr = self._learning_rate()
        return {
            "decoder": build_optimizer("adam", module, lr, part="decoder"),
            "encoder": build_optimizer("sgd", module, lr, part="encoder"),
        }

    def _training_step(self):
        return decoder_then_encoder_step


def test_a_family_step_takes_two_optimizer_steps_a_batch(X, monkeypatch):
    calls = {"decoder": 0, "encoder": 0}
    ae = TwoStepTransformer(3, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    real_step = torch.optim.Adam.step

    def counted(self, *args, **kwargs):
        calls["decoder"] += 1
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counted)
    ae.fit(X)
    # 300 rows in batches of 200: two batches an epoch, one Adam step each.
    assert calls["decoder"] == 3 * 2
    optimizers = ae._network.optimizers
    assert set(optimizers) == {"decoder", "encoder"}
    decoder_params = {id(p) for p in ae._network.module.decoder.parameters()}
    adam_params = {
        id(p) for g in optimizers["decoder"].param_groups for p in g["params"]
    }
    assert adam_params == decoder_params
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]


def test_every_optimizer_is_saved_and_training_continues_after_loading(X):
    ae = TwoStepTransformer(3, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    ae.fit(X)
    again = pickle.loads(pickle.dumps(ae))
    for name, optimizer in ae._network.optimizers.items():
        loaded = again._network.optimizers[name]
        assert type(loaded) is type(optimizer)
        saved, restored = optimizer.state_dict(), loaded.state_dict()
        assert saved["param_groups"] == restored["param_groups"]
        for key, state in saved["state"].items():
            for field, value in state.items():
                assert torch.equal(
                    torch.as_tensor(value),
                    torch.as_tensor(restored["state"][key][field]),
                )
    # Both continue exactly alike.
    ae.partial_fit(X)
    again.partial_fit(X)
    np.testing.assert_array_equal(again.reconstruct(X), ae.reconstruct(X))


def test_divergence_forgets_every_optimizer(X, monkeypatch):
    ae = TwoStepTransformer(3, hidden_layer_sizes=(16,), max_iter=2, random_state=0)
    ae.fit(X)

    step = decoder_then_encoder_step

    def poisoned(run, batch):
        parts = step(run, batch)
        with torch.no_grad():
            run.module.decoder[0][0].weight.fill_(float("nan"))
        return parts

    monkeypatch.setattr(sys.modules[__name__], "decoder_then_encoder_step", poisoned)
    ae.set_params(warm_start=True)
    with pytest.warns(Warning, match="diverged"):
        ae.fit(X)
    assert ae._network.optimizers == {}
    assert np.isfinite(ae.reconstruct(X)).all()


# ----------------------------------------------------------------------
# A loss term that reads the batch's mask.


@dataclasses.dataclass(frozen=True)
class ObservedEntries:
    """A masked term: records the masks it sees, adds the observed cells' mean."""

    seen: list
    name = "observed"

    def __call__(self, output, module, batch):
        self.seen.append((batch.rows.detach().clone(), batch.mask.clone()))
        cells = batch.mask.to(output.reconstruction.dtype)
        squared = (output.reconstruction - batch.rows).square()
        return 0.0 * (squared * cells).sum() / cells.sum()


def test_a_masked_loss_term_sees_each_batch_s_mask(small_module):
    generator = torch.Generator().manual_seed(0)
    rows = torch.randn(50, 6, generator=generator, dtype=torch.float64)
    mask = rows > -0.5
    module = small_module(0)
    seen = []
    run = Run(
        module,
        {NETWORK: build_optimizer("adam", module, 1e-2)},
        Objective(MeanSquaredError(), [ObservedEntries(seen)]),
        LoopSettings(max_iter=2, batch_size=16),
        torch.Generator().manual_seed(0),
    )
    fit_loop(run, Batch(rows, mask=mask))
    assert len(seen) == 2 * 4
    for batch_rows, batch_mask in seen:
        # The mask was shuffled and sliced with its rows.
        assert torch.equal(batch_mask, batch_rows > -0.5)
    assert sum(int(m.sum()) for _, m in seen) == 2 * int(mask.sum())
