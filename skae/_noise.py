"""Corruption functions: how a denoising autoencoder damages its inputs.

Each function maps a batch ``X`` (a 2-D tensor) to a corrupted copy, draws
its randomness from the given ``torch.Generator`` only, and clips the result
to the per-feature range ``[low, high]`` (tensors of length ``n_features``),
so corruption never produces values the data cannot take. The input batch is
never modified. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import torch


def _uniform(X, generator):
    # Drawn on X's device: a CUDA generator cannot fill a CPU tensor.
    return torch.rand(X.shape, generator=generator, dtype=X.dtype, device=X.device)


def gaussian(X, level, low, high, generator):
    """``X`` plus N(0, ``level``²) noise, clipped to ``[low, high]``."""
    noise = torch.randn(X.shape, generator=generator, dtype=X.dtype, device=X.device)
    return torch.clamp(X + level * noise, low, high)


def masking(X, level, low, high, generator):
    """``X`` with each entry set to 0 with probability ``level``.

    Clipping to ``[low, high]`` turns the 0 into the nearest value a feature
    can take when 0 lies outside its range.
    """
    return torch.clamp(X.masked_fill(_uniform(X, generator) < level, 0.0), low, high)


def salt_and_pepper(X, level, low, high, generator):
    """``X`` with each entry set, with probability ``level``, to ``low`` or ``high``.

    Either extreme is equally likely; one uniform draw per entry decides both
    whether it is hit and which extreme it gets. Entries left alone are
    clipped too, as in the other kinds, for data outside the range.
    """
    u = _uniform(X, generator)
    pepper = torch.where(u < 0.5 * level, low, X)
    salted = torch.where((u >= 0.5 * level) & (u < level), high, pepper)
    return torch.clamp(salted, low, high)


def missing(X, level, low, high, generator):
    """``X`` with each entry hidden (set to NaN) with probability ``level``.

    The network reads a hidden entry as a missing one (its feature's mean),
    so it learns to fill in cells from the rest of their row: the noise an
    imputer trains with. Left as NaN, it needs no clipping.
    """
    return X.masked_fill(_uniform(X, generator) < level, float("nan"))


NOISES = {
    "gaussian": gaussian,
    "masking": masking,
    "salt_and_pepper": salt_and_pepper,
    "missing": missing,
}


class Corruption:
    """A ``corrupt(batch, generator)`` callable for the training loop.

    Parameters
    ----------
    kind : {"gaussian", "masking", "salt_and_pepper"}
        Which of :data:`NOISES` to apply.
    level : float
        Standard deviation (``"gaussian"``) or probability per entry.
    low, high : array-like of shape (n_features,)
        Per-feature range the corrupted values are clipped to.
    """

    def __init__(self, kind, level, low, high):
        self.noise = NOISES[kind]
        self.level = level
        self.low = torch.as_tensor(low)
        self.high = torch.as_tensor(high)

    def __call__(self, batch, generator):
        # The bounds follow the batch's dtype and device; moving them is a
        # no-op after the first batch of a fit.
        self.low = self.low.to(dtype=batch.dtype, device=batch.device)
        self.high = self.high.to(dtype=batch.dtype, device=batch.device)
        return self.noise(batch, self.level, self.low, self.high, generator)
