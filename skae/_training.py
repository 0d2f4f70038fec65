"""The fit loop, as small functions over one training :class:`Run`.

Nothing here knows about scikit-learn: the estimators build a :class:`Run`
(module, optimizers, objective, settings, generator, history...), call
:func:`fit_loop` and turn its :class:`History` and :class:`StopReason` into
fitted attributes and warnings.

The loop keeps the training data on the device as one tensor (or one
:class:`~skae._batch.Batch` of rows with their weights) and slices shuffled
batches out of it by index; losses stay on the device during an epoch and
are read back once at its end, so an epoch costs one host synchronisation
however many batches it has. Data too large to keep resident come as a
stream instead: any object with a ``shape``, a ``head(n)`` method and a
``chunks(shuffle)`` method yielding :class:`~skae._batch.Batch` chunks of
device tensors (see :class:`skae._data.RowStream`); each chunk is then
trained on exactly as resident data are. A row's weight weighs its loss
within its batch (``sum w_i l_i / sum w_i``) and its batch's loss within the
epoch's mean, so that a row of weight 2 counts as two rows.

How one batch is trained is the run's ``step``: :func:`train_step` (the
objective, backward, one step of the ``"network"`` optimizer) unless a model
family gives its own, which may use any of the run's named optimizers.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import enum
import math
import time
from dataclasses import dataclass, field

import torch

from ._batch import Batch
from ._reporting import progress, report_epoch, report_stop

# The name of the optimizer that trains the whole network, the one the
# default step uses.
NETWORK = "network"
# Rows of the divergence probe run after every epoch: a forward pass on them
# says whether the final weights still give a finite loss, which any rows
# tell as well as many (an epoch's loss is taken before each of its steps).
_PROBE_ROWS = 32


class StopReason(enum.Enum):
    """Why :func:`fit_loop` returned."""

    #: No ``tol`` improvement of the monitored loss for more than
    #: ``n_iter_no_change`` epochs.
    CONVERGED = "converged"
    #: ``max_iter`` epochs done.
    MAX_ITER = "max_iter"
    #: The single epoch of an incremental (``partial_fit``) call done.
    INCREMENTAL = "incremental"
    #: Ctrl-C; the module holds the best recorded weights.
    INTERRUPTED = "interrupted"
    #: A non-finite loss or weights; the module holds the best recorded weights.
    DIVERGED = "diverged"
    #: As ``DIVERGED``, but no recorded weights give a finite loss: the
    #: module holds the weights it came in with.
    DIVERGED_AT_START = "diverged_at_start"
    #: The run's observer asked to stop at the end of an epoch; with early
    #: stopping the module holds the best recorded weights.
    STOPPED = "stopped"

    @property
    def diverged(self):
        """Whether training diverged (either way)."""
        return self in (StopReason.DIVERGED, StopReason.DIVERGED_AT_START)

    @property
    def message(self):
        """Why training stopped, as a sentence for ``verbose`` output."""
        return _STOP_MESSAGES[self]

    def describe(self, settings, history):
        """:attr:`message` with the numbers of the run (``settings``, ``history``)."""
        if self is StopReason.CONVERGED:
            monitored = (
                "Validation reconstruction" if settings.early_stopping else "Training"
            )
            return (
                f"{monitored} loss did not improve more than tol={settings.tol:g} "
                f"for {settings.n_iter_no_change} consecutive epochs. Stopping."
            )
        if self is StopReason.STOPPED:
            return f"A callback asked training to stop after epoch {history.n_iter}."
        if self is StopReason.MAX_ITER:
            return (
                f"Stopped after max_iter={settings.max_iter} epochs; the loss was "
                "still improving by more than tol."
            )
        return self.message


_STOP_MESSAGES = {
    StopReason.CONVERGED: "Training loss did not improve more than tol for "
    "n_iter_no_change consecutive epochs. Stopping.",
    StopReason.MAX_ITER: "Stopped after max_iter epochs.",
    StopReason.INCREMENTAL: "One epoch of partial_fit done.",
    StopReason.INTERRUPTED: "Interrupted by the user.",
    StopReason.DIVERGED: "Training diverged; restored the best epoch's weights.",
    StopReason.DIVERGED_AT_START: "Training diverged before any usable epoch.",
    StopReason.STOPPED: "A callback asked training to stop.",
}


@dataclass
class LoopSettings:
    """What the loop needs to know besides the module, data and objective."""

    max_iter: int
    batch_size: int
    shuffle: bool = True
    tol: float = 1e-4
    n_iter_no_change: int = 10
    early_stopping: bool = False
    verbose: int = 0
    incremental: bool = False


@dataclass
class History:
    """Per-epoch record of a fit, kept across ``partial_fit`` calls.

    ``best_loss`` is the best value of the monitored curve (validation loss
    with early stopping, training loss otherwise) and ``best_state`` the
    weights that reached it.
    """

    loss_curve: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    components: dict = field(default_factory=dict)
    best_loss: float = math.inf
    best_state: dict = None
    no_improvement_count: int = 0
    n_iter: int = 0


@dataclass
class Validation:
    """Held-out rows, and how their inputs are made.

    ``corrupt_seed``, when set, validates on inputs corrupted by the run's
    ``corrupt`` with a generator reseeded with it at every pass, so every
    epoch is judged on the same inputs; else on the clean rows.
    """

    data: object
    corrupt_seed: int = None


@dataclass
class Run:
    """Everything one training run works with.

    ``optimizers`` maps names to torch optimizers (the default step uses
    the one named :data:`NETWORK`); ``step(run, batch)``, when given,
    trains on one :class:`~skae._batch.Batch` and returns its loss parts,
    detached, in ``objective.names`` order (None: :func:`train_step`).
    ``corrupt(rows, generator)``, when given, makes the network's input
    from the clean rows (the denoising hook); the loss always compares with
    the clean rows. Each of ``schedules`` is called with the number of
    epochs recorded so far at the start of every epoch, for settings that
    change during training (a penalty's warm-up, say). ``observer``, when
    given, is told of every epoch: ``observer.begin()`` before it and
    ``observer.end()`` after it, which returns True to stop training
    (:attr:`StopReason.STOPPED`).
    """

    module: torch.nn.Module
    optimizers: dict
    objective: object
    settings: LoopSettings
    generator: torch.Generator
    history: History = field(default_factory=History)
    corrupt: object = None
    validation: Validation = None
    schedules: tuple = ()
    step: object = None
    observer: object = None


def train_step(run, batch):
    """The default step: the objective, backward, one optimizer step.

    Steps the run's :data:`NETWORK` optimizer; returns the batch's loss
    parts, detached.
    """
    total, parts = run.objective(run.module, batch)
    optimizer = run.optimizers[NETWORK]
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    return [p.detach() for p in parts]


def batch_slices(n_samples, batch_size, order):
    """Index tensors (or slices when ``order`` is None) of consecutive batches."""
    for start in range(0, n_samples, batch_size):
        if order is None:
            yield slice(start, start + batch_size)
        else:
            yield order[start : start + batch_size]


def as_data(X):
    """``X`` as a source of :class:`~skae._batch.Batch` chunks: a resident
    tensor is one batch of unweighted rows."""
    return Batch(X) if isinstance(X, torch.Tensor) else X


def epoch_batches(X, batch_size, shuffle, generator):
    """``(chunk number, batch)`` of one pass over ``X``.

    Rows are shuffled within each chunk (the whole of resident data) when
    ``shuffle``; weights and masks follow their rows.
    """
    for number, chunk in enumerate(as_data(X).chunks(shuffle)):
        order = None
        if shuffle:
            n = chunk.shape[0]
            order = torch.randperm(n, generator=generator, device=chunk.rows.device)
        for idx in batch_slices(chunk.shape[0], batch_size, order):
            yield number, chunk.select(idx)


def run_epoch(run, X):
    """Train for one pass over ``X``; returns the mean of each loss part.

    Each batch's losses count by its number of rows, or by its weight.
    """
    run.module.train()
    settings = run.settings
    # Looked up here, not bound when the run is made: the default step is
    # this module's train_step as it stands.
    step = train_step if run.step is None else run.step
    n = X.shape[0]
    total, mass, steps, sizes, current = None, None, [], [], 0
    batches = epoch_batches(X, settings.batch_size, settings.shuffle, run.generator)
    epoch = run.history.n_iter + 1
    for number, batch in progress(batches, n, settings, epoch):
        if number != current:
            # Fold each streamed chunk's losses into a running total when it
            # ends: per-step loss tensors kept for a whole epoch, interleaved
            # with the steps' temporaries, would fragment the host heap in
            # proportion to the number of rows.
            total = _add(total, _weighted_sums(steps, sizes))
            mass = _add(mass, _mass(sizes))
            steps, sizes, current = [], [], number
        if run.corrupt is not None:
            batch = batch.with_inputs(run.corrupt(batch.rows, run.generator))
        steps.append(step(run, batch))
        sizes.append(batch.size)
    total = _add(total, _weighted_sums(steps, sizes))
    mass = _add(mass, _mass(sizes))
    # One read-back for the whole epoch.
    return (total / (n if mass is None else mass)).tolist()


def _add(total, part):
    return part if total is None else total + part


def _mass(sizes):
    """Total weight of a chunk's batches, or None for unweighted ones."""
    return torch.stack(sizes).sum() if isinstance(sizes[0], torch.Tensor) else None


def _weighted_sums(steps, sizes):
    """Sum of each loss part weighted by its batch's size: one reduction per part.

    ``sizes`` are row counts, or the batches' weights as device tensors.
    """
    if isinstance(sizes[0], torch.Tensor):
        weights = torch.stack(sizes)
    else:
        # Built on the host and sent without waiting: a blocking copy to
        # CUDA would synchronise with the device at every streamed chunk.
        weights = torch.tensor(sizes, dtype=steps[0][0].dtype)
        weights = weights.to(steps[0][0].device, non_blocking=True)
    return torch.stack(
        [torch.dot(torch.stack(part), weights) for part in zip(*steps, strict=True)]
    )


@torch.no_grad()
def evaluate(module, objective, X, batch_size, corrupt=None, seed=None):
    """Mean reconstruction loss of ``X`` (no penalties, no dropout), weighted
    by the rows' weights when ``X`` has them.

    With ``corrupt``, the network's input is ``corrupt(batch, generator)``
    (to validate a denoiser) and the target stays the clean batch; the
    generator is seeded with ``seed`` at the start of every pass, so every
    pass sees the same corruption.
    """
    module.eval()
    generator = None
    total, mass = 0.0, 0.0
    for _, batch in epoch_batches(X, batch_size, False, None):
        if corrupt is not None:
            if generator is None:
                device = batch.rows.device
                generator = torch.Generator(device=device).manual_seed(seed)
            batch = batch.with_inputs(corrupt(batch.rows, generator))
        loss = objective.evaluation_loss(module, batch)
        size = batch.size
        total, mass = total + loss * size, mass + size
    if isinstance(mass, torch.Tensor):
        return float(total / mass)
    return float(total) / X.shape[0]


def validation_loss(run):
    """The run's validation loss for this epoch, or None without validation."""
    validation = run.validation
    if validation is None:
        return None
    corrupt = None if validation.corrupt_seed is None else run.corrupt
    return evaluate(
        run.module,
        run.objective,
        validation.data,
        run.settings.batch_size,
        corrupt,
        validation.corrupt_seed,
    )


def first_rows(X, n):
    """The first ``n`` rows of resident or streamed data, as an unweighted batch.

    For the divergence probe, which asks whether the loss is finite: the
    rows' weights do not change the answer.
    """
    head = as_data(X).head(n)
    return Batch(head.rows, mask=head.mask)


def snapshot(module):
    """A detached copy of the module's weights."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def update_history(history, loss, parts, names, validation_loss, tol):
    """Record an epoch of training ``loss`` and loss ``parts``; returns True
    when the monitored loss improved."""
    history.n_iter += 1
    history.loss_curve.append(loss)
    for name, value in zip(names, parts, strict=True):
        history.components.setdefault(name, []).append(value)
    monitored = history.loss_curve[-1]
    if validation_loss is not None:
        history.validation_loss_curve.append(validation_loss)
        monitored = validation_loss
    if monitored > history.best_loss - tol:
        history.no_improvement_count += 1
    else:
        history.no_improvement_count = 0
    improved = monitored < history.best_loss
    if improved:
        history.best_loss = monitored
    return improved


def fit_loop(run, X):
    """Train ``run.module`` on ``X`` until a stopping rule fires.

    Returns
    -------
    reason : StopReason
        After ``INTERRUPTED``, and after any fit with early stopping, the
        module holds the best weights recorded in ``run.history``, or the
        weights it came in with when no epoch has been recorded; see
        :class:`StopReason` for the others.
    """
    fallback = snapshot(run.module)
    settings = run.settings
    reason = StopReason.INCREMENTAL if settings.incremental else StopReason.MAX_ITER
    try:
        for _ in range(1 if settings.incremental else settings.max_iter):
            stop = _one_epoch(run, X)
            if stop is not None:
                reason = stop
                break
    except KeyboardInterrupt:
        reason = StopReason.INTERRUPTED
    reason = _restore_after(run, X, reason, fallback)
    run.module.eval()
    if settings.verbose:
        report_stop(reason.describe(settings, run.history), _restored_epoch(run))
    return reason


def _restored_epoch(run):
    """The epoch whose weights early stopping restored, or None."""
    curve = run.history.validation_loss_curve
    if not run.settings.early_stopping or not curve:
        return None
    return curve.index(min(curve)) + 1


def _one_epoch(run, X):
    """Train and record one epoch, telling the run's observer; returns a
    StopReason when it ends the fit."""
    observer = run.observer
    if observer is None:
        return _train_epoch(run, X)
    observer.begin()
    reason = None
    try:
        reason = _train_epoch(run, X)
    finally:
        # Ended however the epoch ends, so a display never waits on it.
        asked = observer.end()
    return StopReason.STOPPED if reason is None and asked else reason


def _train_epoch(run, X):
    """Train and record one epoch; returns a StopReason when it ends the fit."""
    start = time.perf_counter()
    for schedule in run.schedules:
        schedule(run.history.n_iter)
    parts = run_epoch(run, X)
    val_loss = validation_loss(run)
    # A diverged epoch is not recorded: its weights are thrown away. The
    # epoch's losses are taken before each step, so a last step that blows
    # the weights up (to NaN, or to finite values that overflow every
    # output) shows only in a loss of the final weights: a few rows of it.
    if not all(map(math.isfinite, [*parts, val_loss or 0.0])):
        return StopReason.DIVERGED
    probe = first_rows(X, _PROBE_ROWS)
    if not math.isfinite(evaluate(run.module, run.objective, probe, _PROBE_ROWS)):
        return StopReason.DIVERGED
    history = run.history
    names = run.objective.names
    loss = run.objective.loss_of(parts)
    if update_history(history, loss, parts, names, val_loss, run.settings.tol):
        history.best_state = snapshot(run.module)
    if run.settings.verbose:
        report_epoch(history, names, parts, val_loss, start)
    if history.no_improvement_count > run.settings.n_iter_no_change:
        return StopReason.CONVERGED
    return None


def _restore_after(run, X, reason, fallback):
    """Load the weights that ``reason`` calls for; returns the final reason."""
    module, history = run.module, run.history
    if reason in (StopReason.DIVERGED, StopReason.INTERRUPTED) or (
        run.settings.early_stopping
    ):
        module.load_state_dict(history.best_state if history.best_state else fallback)
    if reason is not StopReason.DIVERGED:
        return reason
    # Recorded weights passed a one-batch check only: make sure they give a
    # finite loss on all of X, else fall back to the weights this call came
    # in with.
    if history.best_state is None or not math.isfinite(
        evaluate(module, run.objective, X, run.settings.batch_size)
    ):
        module.load_state_dict(fallback)
        history.best_state, history.best_loss = None, math.inf
        return StopReason.DIVERGED_AT_START
    return reason
