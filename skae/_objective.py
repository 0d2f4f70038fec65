"""The training objective: a reconstruction loss plus penalty terms.

Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math

import torch.nn.functional as F

RECONSTRUCTION = "reconstruction"
# Outside this range of variances the squared errors are taken in units of
# the data's standard deviation: squares of float32 errors beyond ~1e19
# overflow (data at 1e30 would make every loss infinite) and below ~1e-23
# underflow (data at 1e-30 would make every loss and gradient zero). Inside
# it the plain, faster path can do neither.
_PLAIN_VARIANCES = (1e-12, 1e12)


class Objective:
    """Reconstruction loss plus any number of penalty terms.

    Parameters
    ----------
    loss : {"mse", "bce"}
        ``"mse"`` is the mean squared error divided by ``variance`` (so with
        the data's mean per-feature variance it reads as the fraction of
        variance left unexplained); ``"bce"`` is the mean binary
        cross-entropy, for targets in [0, 1] and a sigmoid output.
    variance : float
        Divisor of the squared error.
    terms : sequence of callables
        Penalty terms ``term(codes, module)``, each with a ``name``.
    """

    def __init__(self, loss="mse", variance=1.0, terms=()):
        self.loss = loss
        self.variance = variance
        self.terms = tuple(terms)
        low, high = _PLAIN_VARIANCES
        self._std = None if low <= variance <= high else math.sqrt(variance)

    @property
    def names(self):
        """Names of the parts, reconstruction first."""
        return (RECONSTRUCTION, *(t.name for t in self.terms))

    def reconstruction(self, output, target):
        """Mean reconstruction loss of a batch (a scalar tensor)."""
        if self.loss == "bce":
            return F.binary_cross_entropy(output, target)
        if self._std is not None:
            return F.mse_loss(output / self._std, target / self._std)
        return F.mse_loss(output, target) / self.variance

    def __call__(self, module, x_in, target):
        """Total loss of a batch and its parts, in :attr:`names` order."""
        output, codes = module(x_in)
        parts = [self.reconstruction(output, target)]
        parts.extend(term(codes, module) for term in self.terms)
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total, parts
