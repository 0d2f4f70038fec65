"""What ``verbose`` prints during training: epoch lines and progress displays.

Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import time

from ._objective import RECONSTRUCTION


def report_epoch(history, names, parts, validation_loss, start):
    """Print one line for the epoch just recorded (``verbose >= 1``)."""
    line = f"Iteration {history.n_iter}, loss = {history.loss_curve[-1]:.6f}"
    if len(parts) > 1:
        detail = ", ".join(f"{n} = {p:.6f}" for n, p in zip(names, parts, strict=True))
        line += f" ({detail})"
    if validation_loss is not None:
        line += f", validation {RECONSTRUCTION} loss = {validation_loss:.6f}"
    line += f", {time.perf_counter() - start:.2f} s"
    print(line, flush=True)


def report_stop(message, restored_epoch=None):
    """Print why training stopped (``verbose >= 1``), as MLPRegressor does."""
    if restored_epoch is not None:
        message += f" Restored the weights of epoch {restored_epoch}."
    print(message, flush=True)


def progress(batches, n_samples, settings, epoch):
    """Wrap the batch iterator in a progress display when ``verbose >= 2``.

    The display is one line per epoch that stays on screen once the epoch
    is done, above the epoch's ``Iteration`` line.
    """
    if settings.verbose < 2:
        return batches
    n_batches = -(-n_samples // settings.batch_size)
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _plain_progress(batches, n_batches, epoch)
    return tqdm(batches, total=n_batches, desc=f"Epoch {epoch}", unit="batch")


def _plain_progress(batches, n_batches, epoch):
    # Without tqdm: the epoch's line is rewritten in place at every tenth of
    # the epoch, and ended when the epoch is.
    marks = {max(1, round(n_batches * k / 10)) for k in range(1, 11)}
    for i, batch in enumerate(batches, start=1):
        yield batch
        if i in marks:
            end = "\n" if i == n_batches else ""
            print(f"\rEpoch {epoch}: batch {i}/{n_batches}", end=end, flush=True)
