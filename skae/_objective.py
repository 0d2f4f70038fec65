"""The training objective: a reconstruction loss plus penalty terms.

Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

RECONSTRUCTION = "reconstruction"
# Outside this range of variances the squared errors are taken in units of
# the data's standard deviation: squares of float32 errors beyond ~1e19
# overflow (data at 1e30 would make every loss infinite) and below ~1e-23
# underflow (data at 1e-30 would make every loss and gradient zero). Inside
# it the plain, faster path can do neither.
_PLAIN_VARIANCES = (1e-12, 1e12)


def observed_mean(values, mask, weights=None):
    """Mean of ``values`` over the cells ``mask`` marks observed.

    Every observed cell counts alike (a row's weight multiplies each of its
    cells); missing cells, whose ``values`` may be NaN, are left out.
    """
    values = torch.where(mask, values, 0.0)
    counts = mask.sum(dim=1, dtype=values.dtype)
    if weights is None:
        return values.sum() / counts.sum()
    return torch.dot(values.sum(dim=1), weights) / torch.dot(counts, weights)


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
    errors are averaged with those weights. With a mask (incomplete rows),
    the mean is over the observed cells (:func:`observed_mean`).
    ``hidden_weight`` counts each observed cell that the corruption hid (a
    NaN input) that many times a visible one: Vincent et al.'s (2010)
    emphasised denoising, which puts the network's effort where filling in
    is learnt.
    """

    variance: float = 1.0
    hidden_weight: float = 1.0

    def __call__(self, output, batch):
        reconstruction, target = output.reconstruction, batch.rows
        if self.hidden_weight != 1.0:
            return _emphasised_mse(output, batch, self.hidden_weight) / self.variance
        low, high = _PLAIN_VARIANCES
        if not low <= self.variance <= high:
            std = math.sqrt(self.variance)
            return _mse(reconstruction / std, target / std, batch.weights, batch.mask)
        mse = _mse(reconstruction, target, batch.weights, batch.mask)
        return mse / self.variance


def _mse(reconstruction, target, weights, mask=None):
    if mask is not None:
        # Filled first: a NaN target would turn the masked cells' zero
        # gradients into NaN.
        target = torch.where(mask, target, 0.0)
        squared = F.mse_loss(reconstruction, target, reduction="none")
        return observed_mean(squared, mask, weights)
    if weights is None:
        return F.mse_loss(reconstruction, target)
    per_row = F.mse_loss(reconstruction, target, reduction="none").mean(dim=1)
    return row_mean(per_row, weights)


def _emphasised_mse(output, batch, hidden_weight):
    hidden = torch.isnan(batch.inputs)
    cells = torch.where(hidden, hidden_weight, 1.0).to(output.reconstruction.dtype)
    target = batch.rows
    if batch.mask is not None:
        cells = cells * batch.mask
        target = torch.where(batch.mask, target, 0.0)
    squared = F.mse_loss(output.reconstruction, target, reduction="none") * cells
    if batch.weights is None:
        return squared.sum() / cells.sum()
    per_row, counts = squared.sum(dim=1), cells.sum(dim=1)
    return torch.dot(per_row, batch.weights) / torch.dot(counts, batch.weights)


@dataclass(frozen=True)
class BinaryCrossEntropy:
    """Mean binary cross-entropy, for targets in [0, 1] and a sigmoid output."""

    def __call__(self, output, batch):
        if batch.mask is not None:
            target = torch.where(batch.mask, batch.rows, 0.0)
            cells = F.binary_cross_entropy(
                output.reconstruction, target, reduction="none"
            )
            return observed_mean(cells, batch.mask, batch.weights)
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
