"""Moving data between NumPy and torch: devices, dtypes, batches, statistics.

The host data may be a NumPy array, a ``numpy.memmap`` (or an array viewing
one) or a SciPy CSR matrix; every function here reads it a bounded number of
rows at a time, so none of them needs memory for the whole array in dense
form. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from scipy import sparse

from ._batch import Batch

# Rows per inference batch are chosen so that the widest activation of a
# batch holds about this many numbers (32 MB in float64): memory stays
# bounded whatever the number of rows, and batches stay large enough that
# per-call overhead does not matter.
_INFERENCE_ELEMENTS = 1 << 22
# Rows per chunk when computing column statistics in float64 (fewer for
# very wide data, so that a chunk stays near 32 MB).
_STATS_CHUNK_ROWS = 8192
_STATS_CHUNK_ELEMENTS = 1 << 22
# Training data stay resident in host memory as one tensor up to this many
# bytes (in the network's dtype); larger data are streamed from the caller's
# array. On CUDA the budget is a share of the device's free memory instead.
RESIDENT_BYTES = 1 << 28
_CUDA_RESIDENT_SHARE = 0.5
# Streaming reads blocks of consecutive rows (sequential reads of a memmap)
# and assembles them into chunks that are shuffled and trained on as one
# device tensor; two chunks are in memory at a time (one being trained on,
# one being read ahead).
STREAM_CHUNK_BYTES = 1 << 25
STREAM_BLOCK_BYTES = 1 << 20


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


def dense_rows(X, rows):
    """Rows ``X[rows]`` as a dense ndarray.

    ``rows`` is a slice or an index array; sparse rows are densified here,
    one selection at a time. The result may be a view of ``X``.
    """
    part = X[rows]
    if sparse.issparse(part):
        part = part.toarray()
    return np.asarray(part)


def _row_slices(n_rows, chunk_rows):
    for start in range(0, n_rows, chunk_rows):
        yield slice(start, min(start + chunk_rows, n_rows))


def _rows_per_chunk(row_bytes, chunk_bytes):
    return max(1, chunk_bytes // max(1, row_bytes))


def _row_bytes(n_features, dtype):
    return n_features * torch.empty((), dtype=dtype).element_size()


def dense_nbytes(X, dtype):
    """Bytes ``X`` takes as one dense tensor of torch ``dtype``."""
    return X.shape[0] * _row_bytes(X.shape[1], dtype)


def resident_budget(device):
    """Bytes of training data kept resident as one tensor on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free * _CUDA_RESIDENT_SHARE)
    return RESIDENT_BYTES


def host_tensor(array, dtype):
    """A CPU tensor copy of a NumPy array, made by one NumPy copy.

    NumPy's copy is several times faster than torch's conversion, and gives
    a writable, C-ordered array whatever the input's strides (views such as
    ``X[::-1]`` included), so torch has nothing to refuse or warn about.
    """
    np_dtype = torch.empty((), dtype=dtype).numpy().dtype
    return torch.from_numpy(np.array(array, dtype=np_dtype, order="C", copy=True))


def to_tensor(X, dtype, device):
    """The array ``X`` as a tensor, for reading (the caller's array is untouched).

    An in-memory C-ordered array of the right dtype is shared with a CPU
    tensor, not copied; other dense host arrays go to the CPU in one
    conversion. Sparse matrices, and
    anything bound for CUDA, are converted a chunk of rows at a time (through
    pinned memory to CUDA), so the host never holds a second full copy.
    """
    if device.type == "cpu" and not sparse.issparse(X):
        if _shareable(X, dtype):
            # Training only reads its data: share the caller's memory
            # rather than copy it (one pass over X less per fit).
            return torch.from_numpy(X)
        return host_tensor(X, dtype)
    out = torch.empty(X.shape, dtype=dtype, device=device)
    chunk_rows = _rows_per_chunk(_row_bytes(X.shape[1], dtype), STREAM_CHUNK_BYTES)
    for rows in _row_slices(X.shape[0], chunk_rows):
        chunk = host_tensor(dense_rows(X, rows), dtype)
        out[rows].copy_(_pinned(chunk, device), non_blocking=device.type == "cuda")
    return out


def _shareable(X, dtype):
    """Whether a CPU tensor may view ``X`` itself: an in-memory, writable,
    C-ordered ndarray of the tensor's dtype (a memmap is read from disk at
    every access, and torch refuses read-only arrays)."""
    return (
        type(X) is np.ndarray
        and X.flags.c_contiguous
        and X.flags.writeable
        and X.dtype == torch.empty((), dtype=dtype).numpy().dtype
    )


def _pinned(tensor, device):
    # Page-locked host memory lets a host-to-CUDA copy run asynchronously;
    # torch's host allocator keeps the buffer alive until the copy is done.
    return tensor.pin_memory() if device.type == "cuda" else tensor


class RowStream:
    """Training data streamed from a host array, one shuffled chunk at a time.

    For data too large to keep resident (see :func:`resident_budget`). Each
    pass reads blocks of consecutive rows (about ``STREAM_BLOCK_BYTES``: long
    sequential reads, so a memmap on disk is read efficiently) in a random
    block order, gathers them into chunks of about ``STREAM_CHUNK_BYTES``
    (a whole number of batches) and yields each chunk as one tensor on
    ``device``; the training loop shuffles rows within a chunk.

    Two host buffers, allocated once, take turns: a background thread reads
    (and densifies) the next chunk into one while the current chunk is
    trained on from the other, so host reads overlap with compute and memory
    stays fixed. For CUDA the buffers are pinned, each chunk is copied with
    ``non_blocking=True``, and a buffer is refilled only once the event
    recorded after its copy has completed.

    Parameters
    ----------
    X : ndarray, memmap or scipy.sparse CSR matrix of shape (n, n_features)
        The host data; never modified.
    dtype, device : torch.dtype, torch.device
        Of the chunks yielded.
    batch_size : int
        Chunk lengths are multiples of it, so batches never straddle chunks.
    rng : numpy.random.Generator
        Draws the block order of each shuffled pass.
    rows : ndarray of int or None, default=None
        Sorted indices of the rows to use (a training or validation split);
        all rows when None.
    weights : ndarray of shape (n_samples,) or None, default=None
        A weight per row of ``X`` (not only of ``rows``); each chunk then
        comes with its rows' weights, in the network's dtype.
    labels : ndarray of int of shape (n_samples,) or None, default=None
        An integer label per row of ``X``; each chunk then comes with its
        rows' labels (int64).
    masked : bool, default=False
        Whether each chunk carries the mask of its observed (non-NaN) cells.
    """

    def __init__(
        self,
        X,
        dtype,
        device,
        batch_size,
        rng,
        rows=None,
        weights=None,
        labels=None,
        masked=False,
    ):
        self.X, self.rows, self.rng = X, rows, rng
        # Per-row fields travel as extra columns of the chunk's buffer.
        self.fields = {
            name: values
            for name, values in (("weights", weights), ("labels", labels))
            if values is not None
        }
        self.dtype, self.device = dtype, device
        self.masked = masked
        n = X.shape[0] if rows is None else len(rows)
        self.shape = (n, X.shape[1])
        row_bytes = _row_bytes(X.shape[1], dtype)
        batches = max(1, _rows_per_chunk(row_bytes, STREAM_CHUNK_BYTES) // batch_size)
        self.chunk_rows = min(n, batches * batch_size)
        block_rows = _rows_per_chunk(row_bytes, STREAM_BLOCK_BYTES)
        self.block_rows = min(self.chunk_rows, block_rows)
        self._buffers = self._copied = None

    def chunks(self, shuffle):
        """Yield the chunks of one pass, each a :class:`~skae._batch.Batch`
        of device tensors, weighted when the stream has weights.

        The block order is random when ``shuffle``; rows stay in block order
        within a chunk (the training loop shuffles them on the device).
        """
        plans = list(self._plan(shuffle))
        if self._buffers is None:
            self._allocate()
        with ThreadPoolExecutor(max_workers=1) as reader:
            pending = reader.submit(self._read, plans[0], 0)
            for i in range(len(plans)):
                host = pending.result()
                if i + 1 < len(plans):
                    pending = reader.submit(self._read, plans[i + 1], (i + 1) % 2)
                yield self._upload(host, i % 2)

    def head(self, n):
        """The first ``n`` rows (in row order) as a batch of device tensors."""
        n = min(n, self.shape[0])
        rows = slice(0, n) if self.rows is None else self.rows[:n]
        rows = host_tensor(dense_rows(self.X, rows), self.dtype).to(self.device)
        return Batch(rows, mask=~torch.isnan(rows) if self.masked else None)

    def _allocate(self):
        pin = self.device.type == "cuda"
        # One more column per per-row field: a chunk's rows, weights and
        # labels travel in one buffer and one copy.
        shape = (self.chunk_rows, self.shape[1] + len(self.fields))
        self._buffers = [
            torch.empty(shape, dtype=self.dtype, pin_memory=pin) for _ in range(2)
        ]
        self._copied = [None, None]

    def _plan(self, shuffle):
        """Lists of ``(start, stop)`` row ranges, one list per chunk."""
        n = self.shape[0]
        starts = np.arange(0, n, self.block_rows)
        if shuffle:
            starts = self.rng.permutation(starts)
        plan, filled = [], 0
        for start in starts.tolist():
            stop = min(start + self.block_rows, n)
            while start < stop:
                take = min(stop - start, self.chunk_rows - filled)
                plan.append((start, start + take))
                start, filled = start + take, filled + take
                if filled == self.chunk_rows:
                    yield plan
                    plan, filled = [], 0
        if plan:
            yield plan

    def _read(self, plan, slot):
        """Fill host buffer ``slot`` with one chunk's rows; returns the filled part."""
        if self._copied[slot] is not None:
            # The buffer's previous chunk may still be on its way to the GPU.
            self._copied[slot].synchronize()
        host = self._buffers[slot].numpy()
        n_features, at = self.shape[1], 0
        for start, stop in plan:
            rows = slice(start, stop) if self.rows is None else self.rows[start:stop]
            host[at : at + stop - start, :n_features] = dense_rows(self.X, rows)
            for column, values in enumerate(self.fields.values(), start=n_features):
                host[at : at + stop - start, column] = values[rows]
            at += stop - start
        return self._buffers[slot][:at]

    def _upload(self, host, slot):
        if self.device.type == "cuda":
            host = host.to(self.device, non_blocking=True)
            self._copied[slot] = torch.cuda.Event()
            self._copied[slot].record()
        n_features = self.shape[1]
        fields = {
            name: host[:, column]
            for column, name in enumerate(self.fields, start=n_features)
        }
        if "labels" in fields:
            # Labels are small integers: exact in any float dtype.
            fields["labels"] = fields["labels"].long()
        rows = host[:, :n_features]
        mask = ~torch.isnan(rows) if self.masked else None
        return Batch(rows, mask=mask, **fields)


def split_rows(n_samples, weights, validation_fraction, seed):
    """Sorted training and validation row indices, or None for either.

    Training rows None means every row trains; validation rows None that
    none validates (``validation_fraction`` None: no split). Rows of weight
    zero do neither; the split draws ``validation_fraction`` of the other
    rows (at least one, and one fewer than all) whatever their weights (a
    row is one unit of the split, and its weight then weighs its validation
    loss), in an order drawn from ``seed``.
    """
    rows = None
    if weights is not None and not weights.all():
        rows = np.flatnonzero(weights)
    if validation_fraction is None:
        return rows, None
    n_rows = n_samples if rows is None else rows.size
    n_val = min(max(int(round(validation_fraction * n_rows)), 1), n_rows - 1)
    order = np.random.default_rng(seed).permutation(n_rows)
    if rows is not None:
        order = rows[order]
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def training_data(
    X,
    train_rows,
    val_rows,
    weights,
    dtype,
    device,
    batch_size,
    rng,
    labels=None,
    masked=False,
):
    """The training loop's training and validation data (None without any).

    ``train_rows`` and ``val_rows`` are rows of ``X`` (None: all, and none).
    Data whose dense size in ``dtype`` fits the device's budget (256 MiB of
    host memory on the CPU, half the free memory of a CUDA device) are
    copied to the device once and stay resident, as one
    :class:`~skae._batch.Batch`: the fast path. Larger data (a big memmap,
    a sparse matrix that would be big dense) are streamed from ``X`` as
    shuffled chunks (:class:`RowStream`), whose block orders ``rng`` draws,
    so memory stays bounded whatever the number of rows. ``weights`` and
    ``labels`` (one per row of ``X``, or None) follow their rows either way.
    With ``masked`` (``X`` has missing values), every batch carries the mask
    of its observed cells.
    """
    if dense_nbytes(X, dtype) <= resident_budget(device):

        def part(rows):
            return _resident_rows(X, rows, weights, labels, dtype, device, masked)

    else:

        def part(rows):
            return RowStream(
                X, dtype, device, batch_size, rng, rows, weights, labels, masked
            )

    return part(train_rows), None if val_rows is None else part(val_rows)


def _resident_rows(X, rows, weights, labels, dtype, device, masked=False):
    """Rows ``rows`` of ``X`` (all when None) as a batch of device tensors."""

    def pick(values, dtype):
        if values is None:
            return None
        values = values if rows is None else values[rows]
        return torch.as_tensor(values, dtype=dtype).to(device)

    data = to_tensor(X if rows is None else X[rows], dtype, device)
    mask = ~torch.isnan(data) if masked else None
    return Batch(data, pick(weights, dtype), mask, pick(labels, torch.int64))


def rows_without_observation(X):
    """Indices of the rows of ``X`` whose every cell is missing (NaN)."""
    found = []
    for rows in _row_slices(X.shape[0], _stats_rows(X.shape[1])):
        chunk = dense_rows(X, rows)
        found.append(rows.start + np.flatnonzero(np.isnan(chunk).all(axis=1)))
    return np.concatenate(found)


def _stats_rows(n_features):
    return min(_STATS_CHUNK_ROWS, max(1, _STATS_CHUNK_ELEMENTS // max(1, n_features)))


class ColumnSummary:
    """Per-column mean, variance, minimum and maximum of ``X``, in float64.

    Statistics are computed when first read, in one pass over row chunks
    that merges each chunk's mean and sum of squared deviations (Chan et
    al.), so that float32 data of any size (or sparse data) needs no float64
    (or dense) copy, and huge magnitudes do not overflow. Sparse rows are
    densified a chunk at a time, so a CSR matrix gives the same statistics,
    bit for bit, as its dense twin (implicit zeros count in its range).

    The first read decides what that pass computes: a moment (``mean``,
    ``variance``) computes the moments only; a range (``min``, ``max``)
    computes the ranges, and the moments too when ``moments`` is true (a
    fresh fit reads both, and reads its ranges first). Whatever the first
    pass left out costs a pass of its own.

    With ``weights`` (one per row, non-negative), the moments are weighted
    (a row of weight 2 counts as two rows) and the ranges cover the rows of
    positive weight only: a row of weight 0 is as good as absent.

    Missing values (NaN) are left out of every statistic: each column's are
    those of its observed cells (``n_observed``), NaN for a column with none.
    A first pass finds them for free (they turn its results NaN) and a
    second, NaN-aware pass then computes what was asked; complete data take
    one pass, as before.
    """

    def __init__(self, X, moments=True, weights=None, n_workers=1):
        self._X = X
        self._weights = weights
        self._moments_wanted = moments
        self._n_workers = n_workers
        self._stats = {}
        self._missing = None

    def _compute(self, moments, ranges):
        stats = self._merged(moments, ranges, missing=bool(self._missing))
        if self._missing is None:
            self._missing = any(np.isnan(v).any() for v in stats.values())
            if self._missing:
                stats = self._merged(moments, ranges, missing=True)
        self._stats.update(stats)

    def _merged(self, moments, ranges, missing):
        """The statistics asked for, merged over the chunks in row order."""
        X = self._X
        n, mean, m2 = 0, np.zeros(X.shape[1]), np.zeros(X.shape[1])
        low = np.full(X.shape[1], np.inf)
        high = np.full(X.shape[1], -np.inf)
        merge = _merge_observed if missing else _merge_moments
        for k, chunk_mean, chunk_m2, chunk_low, chunk_high in self._chunk_stats(
            moments, ranges, missing
        ):
            if np.all(k == 0):
                continue
            if moments:
                n, mean, m2 = merge(n, mean, m2, k, chunk_mean, chunk_m2)
            if ranges:
                # fmin and fmax skip a column with no observed cell in a chunk.
                combine = (np.fmin, np.fmax) if missing else (np.minimum, np.maximum)
                combine[0](low, chunk_low, out=low)
                combine[1](high, chunk_high, out=high)
        stats = {}
        if moments:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                stats.update(mean=mean, variance=m2 / n)
            if missing:
                n = n * np.ones(X.shape[1])
                stats.update(mean=np.where(n > 0, mean, np.nan), n_observed=n)
        if ranges:
            empty = np.isinf(low) & np.isinf(high) if missing else False
            stats.update(
                min=np.where(empty, np.nan, low), max=np.where(empty, np.nan, high)
            )
        return stats

    def _chunk_stats(self, moments, ranges, missing):
        """Each chunk's statistics, in row order, from ``n_workers`` threads.

        Chunks are reduced independently and merged in order, so the result
        is the same, bit for bit, for any number of workers.
        """
        X = self._X
        chunks = list(_row_slices(X.shape[0], _stats_rows(X.shape[1])))
        reduce_rows = _reduce_observed if missing else _reduce_chunk

        def reduce(chunk):
            weights = None if self._weights is None else self._weights[chunk]
            return reduce_rows(dense_rows(X, chunk), weights, moments, ranges)

        workers = max(1, min(self._n_workers, len(chunks)))
        if workers == 1:
            yield from map(reduce, chunks)
            return
        with ThreadPoolExecutor(workers) as pool:
            yield from pool.map(reduce, chunks)

    def _get(self, name):
        if name not in self._stats:
            if name in ("mean", "variance"):
                self._compute(moments=True, ranges=False)
            else:
                moments = self._moments_wanted and "mean" not in self._stats
                self._compute(moments=moments, ranges=True)
        return self._stats[name]

    @property
    def mean(self):
        """Column means."""
        return self._get("mean")

    @property
    def variance(self):
        """Column variances (population, ``ddof=0``)."""
        return self._get("variance")

    @property
    def mean_variance(self):
        """The mean of the column variances, as a float."""
        with np.errstate(over="ignore", invalid="ignore"):
            return float(np.mean(self.variance))

    @property
    def has_missing(self):
        """Whether ``X`` has missing values (NaN); a pass to find out if no
        statistic was computed yet."""
        if self._missing is None:
            self._get("min")
        return self._missing

    @property
    def n_observed(self):
        """Each column's number (or total weight) of observed cells."""
        if not self.has_missing:
            return np.full(self._X.shape[1], float(self._observed_rows()))
        if "n_observed" not in self._stats:
            self._compute(moments=True, ranges=False)
        return self._stats["n_observed"]

    def _observed_rows(self):
        weights = self._weights
        return self._X.shape[0] if weights is None else weights.sum()

    @property
    def min(self):
        """Column minima."""
        return self._get("min")

    @property
    def max(self):
        """Column maxima."""
        return self._get("max")


def _reduce_chunk(rows, weights, moments, ranges):
    """``(k, mean, m2, min, max)`` of a chunk of rows (None where not wanted).

    ``k`` is the number (or, with ``weights``, the total weight) of its rows;
    rows of weight 0 are left out, and a chunk left empty gives ``k = 0``.
    """
    if weights is not None:
        kept = weights > 0
        rows, weights = rows[kept], weights[kept]
    if rows.shape[0] == 0:
        return 0, None, None, None, None
    # Overflow yields inf, which callers check for and report; a NumPy
    # warning on top would only be noise.
    with np.errstate(over="ignore", invalid="ignore"):
        k, mean, m2 = _chunk_moments(rows, weights) if moments else (None,) * 3
        if ranges:
            return k, mean, m2, rows.min(axis=0), rows.max(axis=0)
    return k, mean, m2, None, None


def _chunk_moments(rows, weights=None):
    """A chunk's row count (or total weight), mean and squared deviations."""
    rows = np.asarray(rows)
    if weights is None:
        # Both reductions read the caller's dtype and accumulate in float64:
        # no separate float64 copy of the chunk (half the memory traffic).
        k, mean = rows.shape[0], rows.mean(axis=0, dtype=np.float64)
        centred = np.subtract(rows, mean, dtype=np.float64)
        return k, mean, np.einsum("ij,ij->j", centred, centred)
    k = weights.sum()
    mean = weights @ rows.astype(np.float64, copy=False) / k
    centred = np.subtract(rows, mean, dtype=np.float64)
    return k, mean, np.einsum("i,ij,ij->j", weights, centred, centred)


def _reduce_observed(rows, weights, moments, ranges):
    """:func:`_reduce_chunk` over the observed (non-NaN) cells only, where
    ``k`` is a count (or total weight) per column."""
    observed = ~np.isnan(rows)
    counts = observed.astype(np.float64)
    if weights is not None:
        counts *= weights[:, None]
    k = counts.sum(axis=0)
    mean = m2 = low = high = None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if moments:
            filled = np.where(observed, rows, 0.0).astype(np.float64, copy=False)
            mean = np.einsum("ij,ij->j", counts, filled) / k
            centred = np.where(observed, filled - mean, 0.0)
            m2 = np.einsum("ij,ij,ij->j", counts, centred, centred)
        if ranges:
            kept = rows if weights is None else rows[weights > 0]
            low, high = np.fmin.reduce(kept, axis=0), np.fmax.reduce(kept, axis=0)
    return k, mean, m2, low, high


def _merge_observed(n, mean, m2, k, chunk_mean, chunk_m2):
    """:func:`_merge_moments` column by column, a column merged only where
    the chunk observed it."""
    seen = k > 0
    merged_n, merged_mean, merged_m2 = _merge_moments(
        n, np.where(seen, mean, 0.0), m2, np.where(seen, k, 1.0), chunk_mean, chunk_m2
    )
    return (
        np.where(seen, merged_n, n),
        np.where(seen, merged_mean, mean),
        np.where(seen, merged_m2, m2),
    )


def _merge_moments(n, mean, m2, k, chunk_mean, chunk_m2):
    """Running mean and squared deviations of ``n`` rows, merged with a chunk's
    (Chan et al.)."""
    with np.errstate(over="ignore", invalid="ignore"):
        delta, total = chunk_mean - mean, n + k
        mean = mean + delta * (k / total)
        m2 = m2 + chunk_m2 + delta**2 * (n * k / total)
    return total, mean, m2


def inference_batch_size(max_width):
    """Rows per inference batch for a network whose widest layer is ``max_width``."""
    return max(1, _INFERENCE_ELEMENTS // max(1, max_width))


@torch.no_grad()
def batched_apply(fn, X, batch_size, dtype, device, out_dtype):
    """``fn`` applied to row batches of ``X``, returned as one NumPy array.

    ``fn`` maps a tensor batch to a tensor with one row per input row. The
    output is allocated once and filled batch by batch, so the memory needed
    is the output plus one batch, whatever the number of rows.
    """
    if X.shape[0] == 0:
        raise ValueError("Cannot apply the network to an empty array.")
    out = None
    for rows in _row_slices(X.shape[0], batch_size):
        batch = host_tensor(dense_rows(X, rows), dtype).to(device)
        result = fn(batch).cpu().numpy()
        if out is None:
            out = np.empty((X.shape[0], *result.shape[1:]), dtype=out_dtype)
        out[rows] = result
    return out
