"""Moving data to torch: column statistics in one pass, tensors shared or copied."""

import numpy as np
import pytest
import torch
from scipy import sparse

from skae import _data


@pytest.fixture
def pixels(digits):
    return digits[0]


@pytest.fixture
def count_reads(monkeypatch):
    """The row selections ``dense_rows`` is asked for, in 10-row chunks."""
    monkeypatch.setattr(_data, "_STATS_CHUNK_ELEMENTS", 64 * 10)
    reads = []
    real_dense_rows = _data.dense_rows

    def dense_rows(X, rows):
        reads.append(rows)
        return real_dense_rows(X, rows)

    monkeypatch.setattr(_data, "dense_rows", dense_rows)
    return reads


def test_column_summary_reads_chunks_of_sparse_and_dense_data(pixels, count_reads):
    for X in (pixels, sparse.csr_matrix(pixels), sparse.csr_array(pixels)):
        count_reads.clear()
        summary = _data.ColumnSummary(X)
        np.testing.assert_array_equal(summary.min, pixels.min(axis=0))
        np.testing.assert_array_equal(summary.max, pixels.max(axis=0))
        np.testing.assert_allclose(summary.mean, pixels.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(summary.variance, pixels.var(axis=0), atol=1e-10)
        assert summary.mean_variance == pytest.approx(pixels.var(axis=0).mean())
        # One pass of 10-row chunks, whichever statistics are read.
        assert len(count_reads) == -(-pixels.shape[0] // 10)


@pytest.mark.parametrize("weighted", [False, True])
def test_column_summary_is_the_same_bit_for_bit_with_worker_threads(
    pixels, weighted, count_reads
):
    # Many 10-row chunks, and uneven magnitudes that make the merge order
    # matter.
    rng = np.random.default_rng(0)
    X = (pixels * rng.lognormal(0, 3, pixels.shape[1])).astype(np.float32)
    weights = rng.integers(0, 3, X.shape[0]).astype(float) if weighted else None
    one = _data.ColumnSummary(X, weights=weights)
    two = _data.ColumnSummary(X, weights=weights, n_workers=3)
    for name in ("min", "max", "mean", "variance"):
        np.testing.assert_array_equal(getattr(two, name), getattr(one, name))


def test_column_summary_computes_only_what_is_read(pixels, count_reads, monkeypatch):
    merged = []
    real_merge = _data._merge_moments
    monkeypatch.setattr(
        _data, "_merge_moments", lambda *a: merged.append(1) or real_merge(*a)
    )
    # Moments read first: no ranges computed, so reading one is a new pass.
    summary = _data.ColumnSummary(pixels)
    assert summary.mean.shape == (64,)
    n_chunks = len(count_reads)
    assert summary.max.shape == (64,)
    assert len(count_reads) == 2 * n_chunks and len(merged) == n_chunks
    # A range of an incremental fit (moments=False): no moments computed.
    merged.clear()
    assert _data.ColumnSummary(pixels, moments=False).min.shape == (64,)
    assert merged == []


def test_to_tensor_shares_in_memory_arrays_and_copies_others(tmp_path, pixels):
    X = np.ascontiguousarray(pixels, dtype=np.float32)
    shared = _data.to_tensor(X, torch.float32, torch.device("cpu"))
    assert shared.data_ptr() == X.ctypes.data
    # A different dtype, an F-ordered view, a read-only array and a memmap
    # are copied (the copy is C-ordered and writable).
    readonly = X.copy()
    readonly.flags.writeable = False
    mapped = np.lib.format.open_memmap(
        tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=X.shape
    )
    mapped[:] = X
    for other, dtype in [
        (X, torch.float64),
        (np.asfortranarray(X), torch.float32),
        (readonly, torch.float32),
        (mapped, torch.float32),
    ]:
        copy = _data.to_tensor(other, dtype, torch.device("cpu"))
        assert copy.data_ptr() != other.ctypes.data
        np.testing.assert_array_equal(copy.numpy(), X.astype(copy.numpy().dtype))
