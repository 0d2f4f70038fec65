"""Penalty terms: each matches its formula."""

import math

import numpy as np
import pytest
import torch

from skae import _penalties as penalties
from skae._batch import Batch
from skae._modules import Output
from skae._penalties import Contractive, ElasticNet, KLSparsity, L1Activity


def forward_with(codes):
    return Output(reconstruction=None, codes=codes)


def batch_of(codes):
    """A batch of unweighted rows as many as ``codes``."""
    return Batch(torch.zeros(codes.shape[0], 1, dtype=codes.dtype))


def test_kl_sparsity_matches_formula_and_vanishes_at_target():
    codes = torch.tensor([[0.1, 0.5], [0.3, 0.5]], dtype=torch.float64)
    term = KLSparsity(target=0.2, weight=2.0)
    rho, rho_hat = 0.2, np.array([0.2, 0.5])
    expected = 2.0 * np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )
    output = forward_with(codes)
    assert math.isclose(term(output, None, batch_of(codes)).item(), expected)
    at_target = torch.full((4, 3), 0.2, dtype=torch.float64)
    value = term(forward_with(at_target), None, batch_of(at_target)).item()
    assert value == pytest.approx(0.0, abs=1e-12)


def test_kl_sparsity_maps_tanh_codes_to_unit_interval():
    tanh_codes = torch.full((4, 3), -0.6, dtype=torch.float64)  # (a + 1) / 2 = 0.2
    term = KLSparsity(0.2, 1.0, tanh_codes=True)
    value = term(forward_with(tanh_codes), None, batch_of(tanh_codes)).item()
    assert value == pytest.approx(0, abs=1e-12)


def test_l1_activity_is_weighted_mean_abs_code():
    codes = torch.tensor([[1.0, -3.0], [0.0, 2.0]])
    value = L1Activity(0.5)(forward_with(codes), None, batch_of(codes)).item()
    assert value == pytest.approx(0.5 * 1.5)


def test_elastic_net_penalises_weights_not_biases(small_module):
    module = small_module()
    for p in module.parameters():
        torch.nn.init.constant_(p, 0.5)
    n_weights = sum(w.numel() for w in module.weights())
    output = forward_with(torch.zeros(1, 2, dtype=torch.float64))
    batch = batch_of(output.codes)
    l1 = ElasticNet(alpha=0.1, l1_ratio=1.0)(output, module, batch).item()
    l2 = ElasticNet(alpha=0.1, l1_ratio=0.0)(output, module, batch).item()
    assert l1 == pytest.approx(0.1 * 0.5 * n_weights)
    assert l2 == pytest.approx(0.1 * 0.5 * 0.25 * n_weights)


def test_terms_are_plain_values():
    # Frozen dataclasses: equal settings give equal terms, and none can be
    # changed in place.
    assert KLSparsity(0.1, 0.2) == KLSparsity(0.1, 0.2)
    with pytest.raises(AttributeError):
        L1Activity(0.1).weight = 0.2


def finite_difference_norms(module, x, step=1e-6):
    """Squared Frobenius norm of d codes / d standardised input, per row."""
    scale = module.input_scale()
    rows = []
    for row in x:
        columns = []
        for j in range(x.shape[1]):
            delta = torch.zeros_like(row)
            delta[j] = step * scale[j]  # a step of `step` in standardised units
            up = module.encoder((row + delta)[None])
            down = module.encoder((row - delta)[None])
            columns.append((up - down)[0] / (2 * step))
        rows.append(torch.stack(columns).square().sum())
    return torch.stack(rows)


@pytest.fixture
def scaled_module(small_module):
    module = small_module(0, activation="tanh", hidden_layer_sizes=(5, 4))
    # Standardise by a scale of 3, so the units of the Jacobian matter.
    module.encoder[0].factor.fill_(1 / 3)
    return module


def test_contractive_term_equals_the_finite_difference_jacobian(scaled_module):
    x = torch.randn(
        7, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    x.requires_grad_(True)
    output = scaled_module(x)
    value = Contractive(0.5)(output, scaled_module, Batch(x))
    expected = 0.5 * finite_difference_norms(scaled_module, x.detach()).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)
    # Differentiable with respect to the weights.
    value.backward()
    assert scaled_module.encoder[1][0].weight.grad is not None


def test_contractive_estimate_is_unbiased(scaled_module, monkeypatch):
    monkeypatch.setattr(penalties, "EXACT_JACOBIAN_MAX_CODES", 0)
    x = torch.randn(
        7, 6, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    x.requires_grad_(True)
    scaled_module.set_generator(torch.Generator().manual_seed(0))
    estimates = [
        Contractive(1.0)(scaled_module(x), scaled_module, Batch(x)).item()
        for _ in range(4000)
    ]
    exact = finite_difference_norms(scaled_module, x.detach()).mean().item()
    assert np.mean(estimates) == pytest.approx(exact, rel=0.03)
    assert np.std(estimates) > 0  # an estimate indeed, from the generator
