"""Settings that change during training: called before every epoch.

A schedule is a callable that the training loop (``Run.schedules``) calls
with the number of epochs recorded since the network was initialised, at
the start of each epoch; it updates the objective or the optimizer it was
made for. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from dataclasses import dataclass


@dataclass
class KLWarmUp:
    """Raise an objective's ``kl_weight`` linearly to ``beta`` over ``n_epochs``.

    Epoch ``e`` (counted from 0) trains with ``beta * min(1, (e + 1) /
    n_epochs)``: the first epoch already sees a small weight, epoch
    ``n_epochs`` the full one.
    """

    objective: object
    beta: float
    n_epochs: int

    def __call__(self, n_iter):
        self.objective.kl_weight = self.beta * min(1.0, (n_iter + 1) / self.n_epochs)


@dataclass
class CosineLearningRate:
    """Cosine decay of the learning rate of every group of ``optimizers``.

    Epoch ``e`` trains with ``initial * (final + (1 - final) * (1 + cos(pi *
    e / n_epochs)) / 2)``, and at ``final * initial`` after ``n_epochs``.
    Each group's ``initial_lr`` is recorded in the group itself on the first
    call (as torch's own schedulers do), so it travels with the optimizer's
    saved state.
    """

    optimizers: tuple
    n_epochs: int
    final: float

    def factor(self, n_iter):
        """The learning rate of epoch ``n_iter``, relative to the initial one."""
        progress = min(n_iter, self.n_epochs) / self.n_epochs
        return self.final + (1.0 - self.final) * 0.5 * (
            1.0 + math.cos(math.pi * progress)
        )

    def __call__(self, n_iter):
        factor = self.factor(n_iter)
        for optimizer in self.optimizers:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
                group["lr"] = group["initial_lr"] * factor


@dataclass
class LinearSchedule:
    """A setting moved linearly from ``start`` to ``end`` over ``epochs`` epochs.

    Called with the number of epochs done; calls ``set_value`` with the
    setting for the next epoch (``end`` from epoch ``epochs`` on). For the
    run's ``schedules``.
    """

    set_value: object
    start: float
    end: float
    epochs: int

    def __call__(self, epoch):
        progress = min(epoch / self.epochs, 1.0)
        self.set_value(self.start + (self.end - self.start) * progress)
