"""The torch modules: network layout, input scaling, initialisation, dropout."""

import math

import pytest
import torch

from skae._modules import (
    Autoencoder,
    LifetimeSparsity,
    SeededDropout,
    TiedLinear,
    TopK,
)


def test_hidden_layers_in_forward_order():
    module = Autoencoder(10, 3, hidden_layer_sizes=(8, 5))
    widths = [layer[0].out_features for layer in module.hidden_layers()]
    assert widths == [8, 5, 3, 5, 8]
    assert module.code_layer_index() == 2
    assert module.output_linear().out_features == 10


def test_forward_returns_reconstruction_and_codes(small_module):
    module = small_module()
    x = torch.zeros(4, 6, dtype=torch.float64)
    output = module(x)
    assert output.reconstruction.shape == (4, 6)
    assert torch.equal(output.codes, module.encoder(x))


def test_affine_scaling_is_undone_at_the_output():
    shift = torch.tensor([1.0, -2.0], dtype=torch.float64)
    scale = torch.tensor([3.0, 3.0], dtype=torch.float64)
    module = Autoencoder(2, 2, shift=shift, scale=scale, dtype=torch.float64)
    x = torch.tensor([[4.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(
        module.encoder[0](x), torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    )
    assert torch.allclose(module.decoder[-1](module.encoder[0](x)), x)


def test_untrained_network_outputs_the_mean():
    # Zero biases and un-scaling at the output: a zero code decodes to shift.
    shift = torch.tensor([5.0, -1.0, 2.0], dtype=torch.float64)
    scale = torch.ones(3, dtype=torch.float64)
    module = Autoencoder(
        3,
        2,
        hidden_layer_sizes=(),
        activation="identity",
        shift=shift,
        scale=scale,
        dtype=torch.float64,
    )
    module.reset_parameters(torch.Generator().manual_seed(0))
    assert torch.allclose(module.decoder(torch.zeros(1, 2, dtype=torch.float64)), shift)


def test_reset_parameters_is_reproducible_and_zeroes_biases(small_module):
    a, b, c = small_module(0), small_module(0), small_module(1)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.output_linear().weight, c.output_linear().weight)
    assert all(torch.count_nonzero(layer[0].bias) == 0 for layer in a.hidden_layers())


def test_building_a_network_leaves_global_random_state_alone(small_module):
    before = torch.random.get_rng_state()
    small_module(3)
    assert torch.equal(torch.random.get_rng_state(), before)


def test_seeded_dropout_uses_its_generator_and_is_off_in_eval():
    drop = SeededDropout(0.5)
    x = torch.ones(100, 10)
    drop.generator = torch.Generator().manual_seed(3)
    first = drop(x)
    drop.generator = torch.Generator().manual_seed(3)
    assert torch.equal(first, drop(x))
    assert 0.3 < (first == 0).float().mean() < 0.7
    assert set(first.unique().tolist()) == {0.0, 2.0}
    drop.eval()
    assert torch.equal(drop(x), x)


def test_dropout_skips_the_code_layer():
    module = Autoencoder(6, 2, hidden_layer_sizes=(5,), dropout=0.3)
    kinds = [type(m).__name__ for m in (*module.encoder, *module.decoder)]
    # hidden, dropout, code (no dropout after it), hidden, dropout, output
    assert kinds == [
        "HiddenLayer",
        "SeededDropout",
        "HiddenLayer",
        "HiddenLayer",
        "SeededDropout",
        "Linear",
        "Identity",
    ]


def test_float32_and_float64_networks_start_from_the_same_weights():
    # The weights are drawn in float64 and cast, so one seed gives one
    # network whatever its dtype (up to float32 rounding).
    nets = []
    for dtype in (torch.float32, torch.float64):
        module = Autoencoder(6, 2, hidden_layer_sizes=(5,), dtype=dtype)
        module.reset_parameters(torch.Generator().manual_seed(0))
        nets.append(module.state_dict())
    for name, weight in nets[0].items():
        assert weight.dtype == torch.float32
        assert torch.equal(weight, nets[1][name].to(torch.float32)), name


def test_topk_keeps_the_k_largest_of_each_row_and_k_eval_in_eval_mode():
    x = torch.tensor([[0.5, -2.0, 3.0, 1.0], [4.0, 3.0, -1.0, 0.0]])
    layer = TopK(2, k_eval=3)
    expected = torch.tensor([[0.0, 0.0, 3.0, 1.0], [4.0, 3.0, 0.0, 0.0]])
    assert torch.equal(layer(x), expected)
    layer.eval()
    assert torch.equal(layer(x), torch.tensor([[0.5, 0, 3, 1], [4, 3, 0, 0]]))


@pytest.mark.parametrize("rate, batch", [(0.05, 256), (0.25, 10), (0.5, 7)])
def test_lifetime_keeps_each_units_share_of_the_batch(rate, batch):
    x = torch.rand(batch, 5, generator=torch.Generator().manual_seed(0)) + 0.1
    layer = LifetimeSparsity(rate)
    kept = (layer(x) != 0).sum(dim=0)
    assert kept.tolist() == [math.ceil(rate * batch)] * 5
    # The winners are each unit's largest activations.
    out = layer(x)
    for j in range(5):
        assert out[:, j].max() == x[:, j].max()
        assert x[out[:, j] == 0, j].max() <= x[out[:, j] != 0, j].min()
    layer.eval()
    assert torch.equal(layer(x), x)


def test_tied_decoder_reuses_the_encoder_weights():
    module = Autoencoder(6, 3, hidden_layer_sizes=(4,), tied_weights=True)
    module.reset_parameters(torch.Generator().manual_seed(0))
    encoder = [layer[0] for layer in module.hidden_layers()[:2]]
    decoder = [module.hidden_layers()[2][0], module.output_linear()]
    assert all(isinstance(layer, TiedLinear) for layer in decoder)
    assert torch.equal(decoder[0].weight, encoder[1].weight.t())
    assert torch.equal(decoder[1].weight, encoder[0].weight.t())
    # One parameter per tied pair: the weights and every bias, no more.
    assert len(list(module.parameters())) == 2 + 4
    assert not any("decoder" in k and "weight" in k for k in module.state_dict())
    # Both halves' gradients reach the shared weight.
    x = torch.rand(5, 6)
    module(x).reconstruction.sum().backward()
    assert encoder[0].weight.grad is not None


def test_tied_networks_rebuild_from_their_state_dict():
    a = Autoencoder(6, 3, hidden_layer_sizes=(4,), tied_weights=True)
    a.reset_parameters(torch.Generator().manual_seed(0))
    b = Autoencoder(6, 3, hidden_layer_sizes=(4,), tied_weights=True)
    b.load_state_dict(a.state_dict())
    x = torch.rand(5, 6)
    assert torch.equal(a(x).reconstruction, b(x).reconstruction)
