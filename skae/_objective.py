"""The training objective: a reconstruction loss plus penalty terms.

Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from dataclasses import dataclass

import torch.nn.functional as F

RECONSTRUCTION = "reconstruction"
# Outside this range of variances the squared errors are taken in units of
# the data's standard deviation: squares of float32 errors beyond ~1e19
# overflow (data at 1e30 would make every loss infinite) and below ~1e-23
# underflow (data at 1e-30 would make every loss and gradient zero). Inside
# it the plain, faster path can do neither.
_PLAIN_VARIANCES = (1e-12, 1e12)


def row_mean(values, weights=None):
    """Mean over the rows (dim 0) of ``values``, weighted by ``weights`` if given.

    ``sum_i w_i v_i / sum_i w_i``: a row of weight 2 counts as two rows.
    """
    if weights is None:
        return values.mean(dim=0)
    shape = (-1,) + (1,) * (values.dim() - 1)
    return (values * weights.reshape(shape)).sum(dim=0) / weights.sum()


@dataclass(frozen=True)
class MeanSquaredError:
    """Mean squared error divided by ``variance``.

    With the data's mean per-feature variance it reads as the fraction of
    variance left unexplained. With ``weights``, the rows' mean squared
    errors are averaged with those weights.
    """

    variance: float = 1.0

    def __call__(self, output, batch):
        reconstruction, target = output.reconstruction, batch.rows
        low, high = _PLAIN_VARIANCES
        if not low <= self.variance <= high:
            std = math.sqrt(self.variance)
            return _mse(reconstruction / std, target / std, batch.weights)
        return _mse(reconstruction, target, batch.weights) / self.variance


def _mse(reconstruction, target, weights):
    if weights is None:
        return F.mse_loss(reconstruction, target)
    per_row = F.mse_loss(reconstruction, target, reduction="none").mean(dim=1)
    return row_mean(per_row, weights)


@dataclass(frozen=True)
class BinaryCrossEntropy:
    """Mean binary cross-entropy, for targets in [0, 1] and a sigmoid output."""

    def __call__(self, output, batch):
        if batch.weights is None:
            return F.binary_cross_entropy(output.reconstruction, batch.rows)
        per_row = F.binary_cross_entropy(
            output.reconstruction, batch.rows, reduction="none"
        ).mean(dim=1)
        return row_mean(per_row, batch.weights)


LOSSES = {"mse": MeanSquaredError, "bce": BinaryCrossEntropy}


class Objective:
    """Reconstruction loss plus any number of penalty terms.

    Parameters
    ----------
    reconstruction : callable
        ``reconstruction(output, batch)``: the mean reconstruction loss of a
        :class:`~skae._batch.Batch`, given the module's forward pass on its
        inputs (see :data:`LOSSES`).
    terms : sequence of callables
        Penalty terms ``term(output, module, batch)``, each with a ``name``
        (see :mod:`skae._penalties`).

    When the batch has weights (one per row), every average over rows is
    weighted (:func:`row_mean`), so that a row of weight 2 counts as two
    rows. The module is called as ``module(batch.inputs, weights=...)``:
    a layer whose training rule looks across the rows of a batch (lifetime
    sparsity) weighs them too.
    """

    def __init__(self, reconstruction, terms=()):
        self.reconstruction = reconstruction
        self.terms = tuple(terms)
        # Terms on the derivatives of the codes (the contractive penalty)
        # need the input to record gradients.
        self._input_grad = any(getattr(t, "needs_input_grad", False) for t in terms)

    @property
    def names(self):
        """Names of the parts, reconstruction first."""
        return (RECONSTRUCTION, *(t.name for t in self.terms))

    def __call__(self, module, batch):
        """Total loss of a batch and its parts, in :attr:`names` order."""
        if self._input_grad:
            batch = batch.with_inputs(batch.inputs.detach().requires_grad_(True))
        output = module(batch.inputs, weights=batch.weights)
        parts = [self.reconstruction(output, batch)]
        parts.extend(term(output, module, batch) for term in self.terms)
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total, parts

    def evaluation_loss(self, module, batch):
        """The loss validation monitors: the reconstruction loss alone."""
        return self.reconstruction(module(batch.inputs), batch)

    def loss_of(self, parts):
        """The training loss of an epoch's mean ``parts``: ``loss_curve_``'s
        value, the one ``tol`` and ``n_iter_no_change`` watch (their sum)."""
        return sum(parts)
