"""How many intra-op threads torch uses for a fit or an inference call.

Small steps run on one thread. A team of torch's intra-op threads meets at
a barrier after every operation; a step of a small network is over in
microseconds, so the team only adds waiting, and on a machine whose cores
are busy with other work (notebooks, CI runners, cross-validation workers,
web servers) each barrier waits for a descheduled thread to get a core
back: small fits then run 10-300x slower than on one thread.
:func:`auto_threads` gives one thread to steps below
:data:`SINGLE_THREAD_WORK` and every thread torch has (at most one per
usable core) to larger ones.

Fits that run at once in one process share the cores. Process-based
parallelism needs nothing from us: joblib's loky workers and Dask's worker
processes set ``OMP_NUM_THREADS`` so that each worker's torch uses its share
of the cores. Thread-based parallelism (joblib's threading backend, a Dask
worker with several threads) runs several fits in one process, each of
which would start a team as wide as the machine. :func:`shared_threads`
gives each of them an equal share instead.

``torch.set_num_threads`` applies to the calling thread and becomes the
starting value of threads that first use torch afterwards, so every change
made here is undone by the thread that made it when its block ends (the
caller's own torch code sees its own setting again), and a thread that
inherited a lowered value from another block is restored to the process
default. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import threading
from contextlib import contextmanager

import torch

# Multiply-adds per step below which a step runs on one thread. Measured
# with benchmarks/bench_threads.py on a 2-core machine shared with other
# jobs (load average 4.5-5): two threads were slower than one at every size
# tried, from tiny networks (3-6x) to 784-256-64-16 (11-60x) and
# 784-1024-512-64 at batch 1024 (8e9 multiply-adds, 3x). On an idle machine
# threads pay for large steps; but on c cores they gain at most c times,
# while on a busy machine they lose 3-60x, so the threshold keeps every
# tabular network (a few hundred features and units, batches of 200: at
# most a few 1e7 multiply-adds) on one thread, and MNIST-sized steps
# (784-256-64-16 at batch 200: 2.6e8) on every thread.
SINGLE_THREAD_WORK = 50_000_000

_lock = threading.Lock()
_active = 0
_default = None


def usable_cores():
    """The number of cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def auto_threads(work, threshold=None):
    """Threads for steps of ``work`` multiply-adds: 1 below ``threshold``
    (None: :data:`SINGLE_THREAD_WORK`).

    Larger steps get torch's current thread count, at most one per usable
    core.
    """
    if work < (SINGLE_THREAD_WORK if threshold is None else threshold):
        return 1
    return _available_threads()


def _available_threads():
    """Torch's current thread count, at most one per usable core."""
    return max(1, min(torch.get_num_threads(), usable_cores()))


def numpy_workers(n_threads):
    """Worker threads for coarse NumPy work (chunks of milliseconds each).

    Such work waits at no per-operation barrier, so ``'auto'`` takes torch's
    thread count, at most one per usable core, whatever the work's size.
    """
    if n_threads == "auto":
        return _available_threads()
    return n_threads


def threads_for(n_threads, work, threshold=None):
    """The context manager that runs steps of ``work`` multiply-adds.

    ``n_threads`` is ``'auto'`` (:func:`auto_threads` with ``threshold``,
    shared with fits running at once in the process) or a number of
    threads, used as given.
    """
    if n_threads == "auto":
        return shared_threads(auto_threads(work, threshold))
    return fixed_threads(n_threads)


@contextmanager
def fixed_threads(n_threads):
    """Within the block, this thread runs torch on ``n_threads`` threads.

    Yields the number of threads; the thread's own setting is restored on
    exit.
    """
    own = torch.get_num_threads()
    if n_threads != own:
        torch.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        if torch.get_num_threads() != own:
            torch.set_num_threads(own)


@contextmanager
def shared_threads(wanted=None):
    """Within the block, this thread uses at most its share of torch's threads.

    With ``k`` blocks active at once in the process (this one included) the
    share is ``max(1, T // k)``, where ``T`` is torch's thread count when the
    first of them began; the block uses ``min(wanted, share)`` threads
    (``wanted`` defaults to the thread's current count, so a lone block
    then changes nothing). Yields the number of threads; the thread's own
    setting is restored on exit.
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
    n_threads = share if wanted is None else max(1, min(wanted, share))
    if n_threads != torch.get_num_threads():
        torch.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        with _lock:
            _active -= 1
        if torch.get_num_threads() != own:
            torch.set_num_threads(own)
