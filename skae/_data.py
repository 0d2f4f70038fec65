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
# Numbers per chunk when computing column statistics in float64 (32 MB).
_STATS_CHUNK_ELEMENTS = 1 << 22


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
    """A copy of the array ``X`` as a tensor (the caller's array is untouched).

    The copy is made by NumPy, which is several times faster than torch's
    own conversion for large arrays, and is writable, so torch never warns
    about read-only memory or negative strides (views such as ``X[::-1]``).
    """
    np_dtype = torch.empty((), dtype=dtype).numpy().dtype
    copy = np.array(X, dtype=np_dtype, order="C", copy=True)
    return torch.from_numpy(copy).to(device)


def column_stats(X):
    """Column means and the mean column variance of ``X``, in float64.

    One pass over row chunks, merging each chunk's mean and sum of squared
    deviations (Chan et al.), so that float32 data of any size needs no
    float64 copy of the whole array, and huge magnitudes do not overflow.
    """
    rows = max(1, _STATS_CHUNK_ELEMENTS // max(1, X.shape[1]))
    n, mean, m2 = 0, np.zeros(X.shape[1]), np.zeros(X.shape[1])
    # Overflow yields inf, which callers check for and report; a NumPy
    # warning on top would only be noise.
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], rows):
            n, mean, m2 = _merge_chunk(X[start : start + rows], n, mean, m2)
        return mean, float(np.mean(m2 / n))


def _merge_chunk(rows, n, mean, m2):
    """Running mean and squared deviations, updated with a chunk of rows."""
    chunk = np.asarray(rows, dtype=np.float64)
    k, chunk_mean = chunk.shape[0], chunk.mean(axis=0)
    centred = chunk - chunk_mean
    delta, total = chunk_mean - mean, n + k
    mean = mean + delta * (k / total)
    m2 = m2 + np.einsum("ij,ij->j", centred, centred) + delta**2 * (n * k / total)
    return total, mean, m2


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
