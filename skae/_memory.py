"""Out-of-memory failures turned into errors that say what to do.

Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import traceback
from contextlib import contextmanager

import torch

# Messages of allocation failures that torch raises as a plain RuntimeError:
# the CPU allocator's, and CUDA's before torch.cuda.OutOfMemoryError existed.
_OOM_MESSAGES = ("can't allocate memory", "out of memory")


def is_out_of_memory(exc):
    """Whether ``exc`` is torch failing to allocate memory (CPU or CUDA)."""
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return True
    message = str(exc).lower()
    return isinstance(exc, RuntimeError) and any(m in message for m in _OOM_MESSAGES)


@contextmanager
def memory_guard(what, advice):
    """Re-raise torch's out-of-memory errors as a ``MemoryError`` with advice.

    Parameters
    ----------
    what : str
        What was being done, e.g. ``"training on cuda:0"``.
    advice : str
        What the user can change, e.g. a smaller ``batch_size``.
    """
    try:
        yield
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        # The finished frames of the failed computation hold its tensors;
        # clearing them frees that memory now rather than whenever the user
        # drops the exception (executing frames are skipped by clear_frames).
        traceback.clear_frames(exc.__traceback__)
        raise MemoryError(f"Out of memory while {what} ({detail}). {advice}") from None
