"""Sharing torch's intra-op threads among fits that run at once in one process.

Process-based parallelism needs nothing from us: joblib's loky workers and
Dask's worker processes set ``OMP_NUM_THREADS`` so that each worker's torch
uses its share of the cores. Thread-based parallelism (joblib's threading
backend, a Dask worker with several threads) runs several fits in one
process, each of which would start a team of torch threads as wide as the
machine. :func:`shared_threads` gives each of them an equal share instead.

``torch.set_num_threads`` applies to the calling thread and becomes the
starting value of threads that first use torch afterwards, so every change
made here is undone by the thread that made it, and a thread that inherited
a lowered value from another block is restored to the process default.
Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import threading
from contextlib import contextmanager

import torch

_lock = threading.Lock()
_active = 0
_default = None


@contextmanager
def shared_threads():
    """Within the block, this thread uses its share of torch's threads.

    With ``k`` blocks active at once in the process (this one included) the
    share is ``max(1, T // k)``, where ``T`` is torch's thread count when the
    first of them began. A lone block changes nothing, so a single fit keeps
    every thread torch was given. The thread's own setting is restored on
    exit.
    """
    global _active, _default
    own = torch.get_num_threads()
    with _lock:
        if _active == 0:
            _default = own
        else:
            own = max(own, _default)
        _active += 1
        share = max(1, _default // _active)
    if share < torch.get_num_threads():
        torch.set_num_threads(share)
    try:
        yield
    finally:
        with _lock:
            _active -= 1
        if torch.get_num_threads() != own:
            torch.set_num_threads(own)
