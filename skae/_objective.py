"""The training objective: a reconstruction loss plus penalty terms.

Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import torch.nn.functional as F

RECONSTRUCTION = "reconstruction"


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

    @property
    def names(self):
        """Names of the parts, reconstruction first."""
        return (RECONSTRUCTION, *(t.name for t in self.terms))

    def reconstruction(self, output, target):
        """Mean reconstruction loss of a batch (a scalar tensor)."""
        if self.loss == "bce":
            return F.binary_cross_entropy(output, target)
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
