"""Moving data between NumPy and torch: devices, dtypes, batches, statistics.

Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
import torch

# Rows per inference batch are chosen so that the widest activation of a
# batch holds about this many numbers (32 MB in float64): memory stays
# bounded whatever the number of rows, and batches stay large enough that
# per-call overhead does not matter.
_INFERENCE_ELEMENTS = 1 << 22
# Rows per chunk when computing column statistics in float64.
_STATS_CHUNK_ROWS = 8192


def resolve_device(device):
    """The ``torch.device`` that ``device`` (``'auto'``, ``'cpu'``, ...) names.

    Raises
    ------
    ValueError
        If the string names no device or a CUDA device that is not available.
    """
    if isinstance(device, torch.device):
        resolved = device
    elif device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        try:
            resolved = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"device={device!r} is not a device torch knows; use 'auto', "
                "'cpu', 'cuda' or 'cuda:N'."
            ) from exc
    if resolved.type not in ("cpu", "cuda"):
        raise ValueError(
            f"device={device!r}: skae runs on 'cpu' or 'cuda' devices only."
        )
    if resolved.type == "cuda":
        _check_cuda(device, resolved)
    return resolved


def _check_cuda(device, resolved):
    if not torch.cuda.is_available():
        raise ValueError(
            f"device={device!r} but CUDA is not available on this machine; "
            "use device='auto' to fall back to the CPU."
        )
    if resolved.index is not None and resolved.index >= torch.cuda.device_count():
        raise ValueError(
            f"device={device!r} but only {torch.cuda.device_count()} CUDA "
            "device(s) are available."
        )


def network_dtype(input_dtype, device):
    """The torch dtype the network runs in for data of ``input_dtype``.

    On the CPU the network runs in the input's own precision, so float64 data
    keeps float64 accuracy. On CUDA it runs in float32: float64 arithmetic is
    many times slower on GPUs and buys nothing for a stochastic fit.
    """
    if device.type == "cuda" or np.dtype(input_dtype) == np.float32:
        return torch.float32
    return torch.float64


def to_tensor(X, dtype, device):
    """A copy of the array ``X`` as a tensor (the caller's array is untouched)."""
    X = np.asarray(X)
    if any(stride < 0 for stride in X.strides):
        # torch cannot read negative strides (views such as X[::-1]).
        X = X.copy()
    return torch.tensor(X, dtype=dtype, device=device)


def column_stats(X):
    """Column means and the mean column variance of ``X``, in float64.

    Chunked so that float32 data of any size needs no float64 copy, and so
    that huge magnitudes do not overflow the accumulation.
    """
    n = X.shape[0]
    total = np.zeros(X.shape[1])
    for start in range(0, n, _STATS_CHUNK_ROWS):
        total += X[start : start + _STATS_CHUNK_ROWS].sum(axis=0, dtype=np.float64)
    mean = total / n
    sq = np.zeros(X.shape[1])
    for start in range(0, n, _STATS_CHUNK_ROWS):
        chunk = X[start : start + _STATS_CHUNK_ROWS].astype(np.float64) - mean
        sq += np.einsum("ij,ij->j", chunk, chunk)
    return mean, float(np.mean(sq / n))


def inference_batch_size(max_width):
    """Rows per inference batch for a network whose widest layer is ``max_width``."""
    return max(1, _INFERENCE_ELEMENTS // max(1, max_width))


@torch.no_grad()
def batched_apply(fn, X, batch_size, dtype, device, out_dtype):
    """``fn`` applied to row batches of ``X``, returned as one NumPy array.

    ``fn`` maps a tensor batch to a tensor with one row per input row.
    """
    outputs = []
    for start in range(0, X.shape[0], batch_size):
        batch = to_tensor(X[start : start + batch_size], dtype, device)
        outputs.append(fn(batch).cpu().numpy().astype(out_dtype, copy=False))
    if not outputs:
        raise ValueError("Cannot apply the network to an empty array.")
    return np.concatenate(outputs)
