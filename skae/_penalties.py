"""Penalty terms added to the reconstruction loss.

Each term is a small callable ``term(codes, module) -> scalar tensor`` with a
``name``; :class:`skae._objective.Objective` adds them up and reports each
one separately. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import torch

# Keeps log() finite when a unit's mean activation reaches 0 or 1.
_EPS = 1e-7


class KLSparsity:
    """``weight * sum_j KL(target || mean activation of code unit j)``.

    Ng's sparse-autoencoder penalty, H2O's ``average_activation`` /
    ``sparsity_beta``. Codes must lie in (0, 1); ``tanh`` codes are mapped
    there as ``(a + 1) / 2``, as H2O does.
    """

    name = "kl_sparsity"

    def __init__(self, target, weight, tanh_codes=False):
        self.target = target
        self.weight = weight
        self.tanh_codes = tanh_codes

    def __call__(self, codes, module):
        if self.tanh_codes:
            codes = (codes + 1.0) * 0.5
        rho_hat = codes.mean(dim=0).clamp(_EPS, 1.0 - _EPS)
        rho = self.target
        kl = rho * torch.log(rho / rho_hat) + (1.0 - rho) * torch.log(
            (1.0 - rho) / (1.0 - rho_hat)
        )
        return self.weight * kl.sum()


class L1Activity:
    """``weight * mean |code|``: the Keras ``activity_regularizer=l1``."""

    name = "l1_sparsity"

    def __init__(self, weight):
        self.weight = weight

    def __call__(self, codes, module):
        return self.weight * codes.abs().mean()


class ElasticNet:
    """``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``.

    Summed over every weight matrix of the module; biases are not penalised.
    """

    name = "weight_penalty"

    def __init__(self, alpha, l1_ratio):
        self.alpha = alpha
        self.l1_ratio = l1_ratio

    def __call__(self, codes, module):
        weights = module.weights()
        total = codes.new_zeros(())
        if self.l1_ratio > 0:
            total = total + self.l1_ratio * sum(w.abs().sum() for w in weights)
        if self.l1_ratio < 1:
            total = total + (1.0 - self.l1_ratio) / 2.0 * sum(
                w.square().sum() for w in weights
            )
        return self.alpha * total
