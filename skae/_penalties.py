"""Penalty terms added to the reconstruction loss.

Each term is a frozen dataclass (a plain description that pickles and
compares by value) with a ``name``, called as ``term(output, module,
batch)`` with the forward pass ``output`` of a :class:`~skae._batch.Batch`
to give a scalar tensor (a term that averages over rows weights them with
the batch's ``weights``, one per row, when it has them: see
:func:`skae._objective.row_mean`);
:class:`skae._objective.Objective` adds the terms up and reports each one
separately. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from dataclasses import dataclass

import torch

from ._objective import row_mean

# Keeps log() finite when a unit's mean activation reaches 0 or 1.
_EPS = 1e-7


@dataclass(frozen=True)
class KLSparsity:
    """``weight * sum_j KL(target || mean activation of code unit j)``.

    Ng's sparse-autoencoder penalty, H2O's ``average_activation`` /
    ``sparsity_beta``. Codes must lie in (0, 1); ``tanh`` codes are mapped
    there as ``(a + 1) / 2``, as H2O does.
    """

    target: float
    weight: float
    tanh_codes: bool = False
    name = "kl_sparsity"

    def __call__(self, output, module, batch):
        codes = output.codes
        if self.tanh_codes:
            codes = (codes + 1.0) * 0.5
        rho_hat = row_mean(codes, batch.weights).clamp(_EPS, 1.0 - _EPS)
        rho = self.target
        kl = rho * torch.log(rho / rho_hat) + (1.0 - rho) * torch.log(
            (1.0 - rho) / (1.0 - rho_hat)
        )
        return self.weight * kl.sum()


@dataclass(frozen=True)
class L1Activity:
    """``weight * mean |code|``: the Keras ``activity_regularizer=l1``."""

    weight: float
    name = "l1_sparsity"

    def __call__(self, output, module, batch):
        if batch.weights is None:
            return self.weight * output.codes.abs().mean()
        per_row = output.codes.abs().mean(dim=1)
        return self.weight * row_mean(per_row, batch.weights)


@dataclass(frozen=True)
class ElasticNet:
    """``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``.

    Summed over every weight matrix of the module; biases are not penalised.
    """

    alpha: float
    l1_ratio: float
    name = "weight_penalty"

    def __call__(self, output, module, batch):
        # A penalty on the network's weights: the rows' weights do not enter.
        matrices = module.weights()
        total = output.codes.new_zeros(())
        if self.l1_ratio > 0:
            total = total + self.l1_ratio * sum(w.abs().sum() for w in matrices)
        if self.l1_ratio < 1:
            total = total + (1.0 - self.l1_ratio) / 2.0 * sum(
                w.square().sum() for w in matrices
            )
        return self.alpha * total


# Codes up to this wide get the exact Jacobian penalty (one vectorised
# backward pass per code unit); wider codes an unbiased one-probe estimate,
# whose cost does not grow with the width.
EXACT_JACOBIAN_MAX_CODES = 16


@dataclass(frozen=True)
class Contractive:
    """``weight * mean over rows of ||d codes / d input||_F^2`` (Rifai et al. 2011).

    The input is the standardised one the network works on (each feature
    centred and divided by the data's global scale), so the weight does not
    depend on the units of X. Exact up to :data:`EXACT_JACOBIAN_MAX_CODES`
    code units; wider codes get Hutchinson's unbiased estimate
    ``||J^T v||^2``, ``v ~ N(0, I)``, one probe per row drawn from the
    module's generator. Masks of the forward pass (dropout, top-k, lifetime
    winners) count as constants, as backpropagation treats them.
    """

    weight: float
    name = "contractive"
    # The objective makes the network's input a leaf that records gradients.
    needs_input_grad = True

    def __call__(self, output, module, batch):
        codes, x_in = output.codes, batch.inputs
        if codes.shape[1] <= EXACT_JACOBIAN_MAX_CODES or module.generator is None:
            squared = _exact_jacobian_norms(codes, x_in)
        else:
            squared = _estimated_jacobian_norms(codes, x_in, module.generator)
        scale = module.input_scale()
        if scale is not None:
            # d codes / d standardised input = (d codes / d input) * scale.
            squared = squared * scale.square()
        return self.weight * row_mean(squared.sum(dim=1), batch.weights)


def _exact_jacobian_norms(codes, x_in):
    """Per row and input feature, the squared Jacobian entries summed over codes."""
    n_codes = codes.shape[1]
    basis = torch.eye(n_codes, dtype=codes.dtype, device=codes.device)
    probes = basis[:, None, :].expand(n_codes, *codes.shape)
    (rows,) = torch.autograd.grad(
        codes, x_in, probes, is_grads_batched=True, create_graph=True
    )
    return rows.square().sum(dim=0)


def _estimated_jacobian_norms(codes, x_in, generator):
    """An unbiased estimate of :func:`_exact_jacobian_norms` from one probe."""
    probe = torch.randn(
        codes.shape, generator=generator, dtype=codes.dtype, device=codes.device
    )
    (row,) = torch.autograd.grad(codes, x_in, probe, create_graph=True)
    return row.square()
