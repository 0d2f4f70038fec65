"""Penalty terms added to the reconstruction loss.

Each term is a frozen dataclass (a plain description that pickles and
compares by value) with a ``name``, called as ``term(output, module, x_in,
weights=None)`` on a batch's forward pass to give a scalar tensor (a term
that averages over rows weights them with ``weights``, one per row, when
given: see :func:`skae._objective.row_mean`);
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

    def __call__(self, output, module, x_in, weights=None):
        codes = output.codes
        if self.tanh_codes:
            codes = (codes + 1.0) * 0.5
        rho_hat = row_mean(codes, weights).clamp(_EPS, 1.0 - _EPS)
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

    def __call__(self, output, module, x_in, weights=None):
        if weights is None:
            return self.weight * output.codes.abs().mean()
        return self.weight * row_mean(output.codes.abs().mean(dim=1), weights)


@dataclass(frozen=True)
class ElasticNet:
    """``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``.

    Summed over every weight matrix of the module; biases are not penalised.
    """

    alpha: float
    l1_ratio: float
    name = "weight_penalty"

    def __call__(self, output, module, x_in, weights=None):
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
