"""The fit loop, as small functions over a module, data tensors and an objective.

Nothing here knows about scikit-learn: the estimators build the pieces,
call :func:`fit_loop` and turn its :class:`History` and stop reason into
fitted attributes and warnings.

The loop keeps the training data on the device as one tensor and slices
shuffled batches out of it by index; losses stay on the device during an
epoch and are read back once at its end, so an epoch costs one host
synchronisation however many batches it has. Data too large to keep
resident come as a stream instead: any object with a ``shape`` and a
``chunks(shuffle)`` method yielding device tensors (see
:class:`skae._data.RowStream`); each chunk is then trained on exactly as
resident data are.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import time
from dataclasses import dataclass, field

import torch

from ._objective import RECONSTRUCTION

SOLVERS = ("adam", "adamw", "sgd", "rmsprop")
# Momentum of the 'sgd' solver (Nesterov), as MLPRegressor's defaults.
SGD_MOMENTUM = 0.9


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


def make_optimizer(solver, module, learning_rate, weight_decay=0.0):
    """A torch optimizer for ``module``; fused or foreach where torch has one.

    ``weight_decay`` is AdamW's decoupled decay and applies to weights only.
    """
    fast = _fast_kernel_flags(module)
    if solver == "adam":
        return torch.optim.Adam(module.parameters(), lr=learning_rate, **fast)
    if solver == "adamw":
        groups = _decay_groups(module, weight_decay)
        return torch.optim.AdamW(groups, lr=learning_rate, **fast)
    if solver == "sgd":
        return torch.optim.SGD(
            module.parameters(),
            lr=learning_rate,
            momentum=SGD_MOMENTUM,
            nesterov=True,
            **fast,
        )
    if solver == "rmsprop":
        return torch.optim.RMSprop(module.parameters(), lr=learning_rate, foreach=True)
    raise ValueError(f"Unknown solver {solver!r}; expected one of {SOLVERS}.")


def _fast_kernel_flags(module):
    # Fused kernels exist for floating point parameters on CPU and CUDA; they
    # update every parameter in one call instead of one call per tensor.
    device = next(module.parameters()).device
    return {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}


def _decay_groups(module, weight_decay):
    weights = set(id(w) for w in module.weights())
    decay = [p for p in module.parameters() if id(p) in weights]
    no_decay = [p for p in module.parameters() if id(p) not in weights]
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def train_step(module, optimizer, objective, x_in, target):
    """One gradient step; returns the detached loss parts of the batch."""
    total, parts = objective(module, x_in, target)
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


def data_chunks(X, shuffle):
    """The device tensors making up ``X``: itself if resident, else its chunks."""
    return (X,) if isinstance(X, torch.Tensor) else X.chunks(shuffle)


def epoch_batches(X, batch_size, shuffle, generator):
    """``(chunk number, batch)`` pairs of one pass over ``X``.

    Rows are shuffled within each chunk (the whole of resident data) when
    ``shuffle``.
    """
    for number, chunk in enumerate(data_chunks(X, shuffle)):
        order = None
        if shuffle:
            n = chunk.shape[0]
            order = torch.randperm(n, generator=generator, device=chunk.device)
        for idx in batch_slices(chunk.shape[0], batch_size, order):
            yield number, chunk[idx]


def run_epoch(module, optimizer, objective, X, settings, generator, corrupt=None):
    """Train for one pass over ``X``; returns the mean of each loss part.

    ``corrupt(batch, generator)``, when given, makes the network's input from
    the clean batch (the denoising hook); the loss always compares with the
    clean batch.
    """
    module.train()
    n = X.shape[0]
    total, steps, sizes, current = None, [], [], 0
    batches = epoch_batches(X, settings.batch_size, settings.shuffle, generator)
    for number, batch in _with_progress(batches, n, settings):
        if number != current:
            # Fold each streamed chunk's losses into a running total when it
            # ends: per-step loss tensors kept for a whole epoch, interleaved
            # with the steps' temporaries, would fragment the host heap in
            # proportion to the number of rows.
            total = _add(total, _weighted_sums(steps, sizes))
            steps, sizes, current = [], [], number
        x_in = batch if corrupt is None else corrupt(batch, generator)
        steps.append(train_step(module, optimizer, objective, x_in, batch))
        sizes.append(batch.shape[0])
    total = _add(total, _weighted_sums(steps, sizes))
    # One read-back for the whole epoch.
    return (total / n).tolist()


def _add(total, part):
    return part if total is None else total + part


def _weighted_sums(steps, sizes):
    """Batch-size-weighted sum of each loss part: one reduction per part."""
    # Built on the host and sent without waiting: a blocking copy to CUDA
    # would synchronise with the device at every streamed chunk.
    weights = torch.tensor(sizes, dtype=steps[0][0].dtype)
    weights = weights.to(steps[0][0].device, non_blocking=True)
    return torch.stack([torch.dot(torch.stack(part), weights) for part in zip(*steps)])


@torch.no_grad()
def evaluate(module, objective, X, batch_size, corrupt=None, seed=None):
    """Mean reconstruction loss of ``X`` (no penalties, no dropout).

    With ``corrupt``, the network's input is ``corrupt(batch, generator)``
    (to validate a denoiser) and the target stays the clean batch; the
    generator is seeded with ``seed`` at the start of every pass, so every
    pass sees the same corruption.
    """
    module.eval()
    generator = None
    total = 0.0
    for _, batch in epoch_batches(X, batch_size, False, None):
        x_in = batch
        if corrupt is not None:
            if generator is None:
                generator = torch.Generator(device=batch.device).manual_seed(seed)
            x_in = corrupt(batch, generator)
        output, _ = module(x_in)
        total += objective.reconstruction(output, batch) * batch.shape[0]
    return float(total) / X.shape[0]


def first_rows(X, n):
    """The first ``n`` rows of resident or streamed data, as a device tensor."""
    return X[:n] if isinstance(X, torch.Tensor) else X.head(n)


def snapshot(module):
    """A detached copy of the module's weights."""
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def update_history(history, parts, names, validation_loss, tol):
    """Record an epoch; returns True when the monitored loss improved."""
    history.n_iter += 1
    history.loss_curve.append(sum(parts))
    for name, value in zip(names, parts):
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


def fit_loop(
    module,
    optimizer,
    objective,
    X,
    X_val,
    settings,
    generator,
    history,
    corrupt=None,
    validation_seed=None,
):
    """Train ``module`` until a stopping rule fires; returns the stop reason.

    ``validation_seed``, when given, validates on inputs corrupted by
    ``corrupt`` with that seed (see :func:`evaluate`); else on clean inputs.

    The reason is one of ``'converged'`` (no ``tol`` improvement for more
    than ``n_iter_no_change`` epochs), ``'max_iter'``, ``'incremental'`` (one
    epoch done, for ``partial_fit``), ``'interrupted'`` (Ctrl-C),
    ``'diverged'`` (a non-finite loss or weights; the module holds the best
    recorded weights) or ``'diverged_at_start'`` (the same, but no recorded
    weights give a finite loss on ``X``: the module holds the weights it came
    in with). After ``'interrupted'``, and after any fit with early stopping,
    the module holds the best weights recorded in ``history``, or the weights
    it came in with when no epoch has been recorded.
    """
    fallback = snapshot(module)
    reason = "max_iter"
    try:
        for _ in range(1 if settings.incremental else settings.max_iter):
            reason = _one_epoch(
                module,
                optimizer,
                objective,
                X,
                (X_val, validation_seed),
                settings,
                generator,
                history,
                corrupt,
            )
            if reason is not None:
                break
        else:
            reason = "incremental" if settings.incremental else "max_iter"
    except KeyboardInterrupt:
        reason = "interrupted"
    reason = _restore_after(module, objective, X, history, reason, settings, fallback)
    module.eval()
    return reason


def _one_epoch(
    module, optimizer, objective, X, validation, settings, generator, history, corrupt
):
    start = time.perf_counter()
    parts = run_epoch(module, optimizer, objective, X, settings, generator, corrupt)
    X_val, validation_seed = validation
    validation_loss = None
    if X_val is not None:
        validation_corrupt = None if validation_seed is None else corrupt
        validation_loss = evaluate(
            module,
            objective,
            X_val,
            settings.batch_size,
            validation_corrupt,
            validation_seed,
        )
    # A diverged epoch is not recorded: its weights are thrown away. The
    # epoch's losses are taken before each step, so a last step that blows
    # the weights up (to NaN, or to finite values that overflow every
    # output) shows only in a loss of the final weights: one batch of it.
    if not all(map(math.isfinite, [*parts, validation_loss or 0.0])):
        return "diverged"
    probe = first_rows(X, settings.batch_size)
    if not math.isfinite(evaluate(module, objective, probe, settings.batch_size)):
        return "diverged"
    improved = update_history(
        history, parts, objective.names, validation_loss, settings.tol
    )
    if improved:
        history.best_state = snapshot(module)
    if settings.verbose:
        report_epoch(history, objective.names, parts, validation_loss, start)
    if history.no_improvement_count > settings.n_iter_no_change:
        return "converged"
    return None


def _restore_after(module, objective, X, history, reason, settings, fallback):
    """Load the weights that ``reason`` calls for; returns the final reason."""
    if reason in ("diverged", "interrupted") or settings.early_stopping:
        module.load_state_dict(history.best_state if history.best_state else fallback)
    if reason != "diverged":
        return reason
    # Recorded weights passed a one-batch check only: make sure they give a
    # finite loss on all of X, else fall back to the weights this call came
    # in with.
    if history.best_state is None or not math.isfinite(
        evaluate(module, objective, X, settings.batch_size)
    ):
        module.load_state_dict(fallback)
        history.best_state, history.best_loss = None, math.inf
        return "diverged_at_start"
    return reason


def report_epoch(history, names, parts, validation_loss, start):
    """Print one line for the epoch just recorded (``verbose >= 1``)."""
    line = f"Iteration {history.n_iter}, loss = {sum(parts):.6f}"
    if len(parts) > 1:
        detail = ", ".join(f"{n} = {p:.6f}" for n, p in zip(names, parts))
        line += f" ({detail})"
    if validation_loss is not None:
        line += f", validation {RECONSTRUCTION} loss = {validation_loss:.6f}"
    line += f", {time.perf_counter() - start:.2f} s"
    print(line, flush=True)


def _with_progress(batches, n_samples, settings):
    """Wrap the batch iterator in a progress display when ``verbose >= 2``."""
    if settings.verbose < 2:
        return batches
    n_batches = -(-n_samples // settings.batch_size)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _plain_progress(batches, n_batches)
    return tqdm(batches, total=n_batches, leave=False, unit="batch")


def _plain_progress(batches, n_batches):
    # Without tqdm: a line at every tenth of the epoch.
    marks = {max(1, round(n_batches * k / 10)) for k in range(1, 11)}
    for i, batch in enumerate(batches, start=1):
        yield batch
        if i in marks:
            print(f"  batch {i}/{n_batches}", flush=True)
