"""The objective: reconstruction losses and the sum of the parts."""

import pytest
import torch

from skae._batch import Batch
from skae._objective import BinaryCrossEntropy, MeanSquaredError, Objective
from skae._penalties import L1Activity


def test_total_is_sum_of_parts_and_mse_is_variance_normalised(small_module):
    module = small_module()
    x = torch.randn(
        8, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    objective = Objective(MeanSquaredError(4.0), terms=[L1Activity(0.3)])
    total, parts = objective(module, Batch(x))
    assert objective.names == ("reconstruction", "l1_sparsity")
    assert total.item() == pytest.approx(sum(p.item() for p in parts))
    output = module(x).reconstruction
    assert parts[0].item() == pytest.approx(((output - x) ** 2).mean().item() / 4.0)
    # Validation monitors the reconstruction loss alone.
    assert objective.evaluation_loss(module, Batch(x)).item() == pytest.approx(
        parts[0].item()
    )


@pytest.mark.parametrize("variance", [1e-30, 1.0, 1e30])
def test_mse_is_finite_and_equivariant_at_extreme_scales(variance):
    # Errors of sqrt(variance) are one unit whatever the scale: no overflow
    # to inf, no underflow to 0.
    scale = variance**0.5
    output = torch.tensor([[1.0, 2.0]], dtype=torch.float32) * scale
    target = torch.tensor([[0.0, 0.0]], dtype=torch.float32)

    class Forward:
        reconstruction = output

    loss = MeanSquaredError(variance)(Forward, Batch(target)).item()
    assert loss == pytest.approx(2.5, rel=1e-5)


def test_bce_compares_probabilities():
    class Forward:
        reconstruction = torch.tensor([[0.5, 0.5]])

    loss = BinaryCrossEntropy()(Forward, Batch(torch.tensor([[0.0, 1.0]]))).item()
    assert loss == pytest.approx(-torch.log(torch.tensor(0.5)).item())
