"""Data larger than memory: memmaps, sparse input, streaming, partial_fit, CUDA."""

import os
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer, _data
from skae._threads import shared_threads

ROOT = Path(__file__).resolve().parents[1]
SMALL = dict(hidden_layer_sizes=(16,), max_iter=3, random_state=0, device="cpu")
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


@pytest.fixture
def digits():
    return load_digits().data


@pytest.fixture
def stream_everything(monkeypatch):
    """Budgets so small that digits are streamed in chunks of 4 batches."""
    monkeypatch.setattr(_data, "RESIDENT_BYTES", 1)
    monkeypatch.setattr(_data, "STREAM_CHUNK_BYTES", 64 * 8 * 4 * 50)
    monkeypatch.setattr(_data, "STREAM_BLOCK_BYTES", 64 * 8 * 37)


def fit(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return AutoencoderTransformer(3, **{**SMALL, **params}).fit(X)


def outputs(ae, X):
    codes = ae.transform(X)
    return codes, ae.score_samples(X), ae.inverse_transform(codes)


def sorted_rows(X):
    return X[np.lexsort(X.T)]


def write_memmap(path, X):
    out = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype, shape=X.shape)
    out[:] = X
    out.flush()
    del out
    return np.load(path, mmap_mode="r")


# ----------------------------------------------------------------------
# Same results whatever holds the data


@pytest.mark.parametrize(
    "fmt, mode",
    [
        ("csr", "resident"),
        ("csr", "streamed"),
        ("coo", "resident"),
        ("csc", "streamed"),
    ],
)
def test_sparse_gives_the_same_result_as_dense(digits, fmt, mode, request):
    # Identical, not just close: the column statistics, the resident tensor
    # and every streamed chunk are built from the same dense rows, so the
    # network sees the same numbers in the same order.
    if mode == "streamed":
        request.getfixturevalue("stream_everything")
    X_sparse = sparse.csr_matrix(digits).asformat(fmt)
    dense, sparse_fit = fit(digits), fit(X_sparse)
    assert dense.loss_curve_ == sparse_fit.loss_curve_
    for a, b in zip(outputs(dense, digits), outputs(sparse_fit, X_sparse), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        sparse_fit.reconstruct(X_sparse), dense.reconstruct(digits)
    )


def test_sparse_input_is_range_checked_like_dense(digits):
    X = digits / 16.0
    params = dict(output_activation="sigmoid", loss="bce")
    dense, from_sparse = fit(X, **params), fit(sparse.csr_matrix(X), **params)
    np.testing.assert_array_equal(dense.transform(X), from_sparse.transform(X))
    X[3, 5] = -0.5
    with pytest.raises(ValueError, match=r"X ranges over \[-0.5, 1\]"):
        fit(sparse.csr_matrix(X), **params)


def test_sparse_input_is_not_modified(digits):
    X = sparse.csr_matrix(digits)
    before = X.copy()
    fit(X).transform(X)
    assert (before != X).nnz == 0
    assert X.format == "csr"


@pytest.mark.parametrize("mode", ["resident", "streamed"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_memmap_gives_the_same_result_as_ndarray(
    digits, tmp_path, dtype, mode, request
):
    if mode == "streamed":
        request.getfixturevalue("stream_everything")
    X = digits.astype(dtype)
    X_map = write_memmap(tmp_path / "X.npy", X)
    in_memory, mapped = fit(X), fit(X_map)
    for a, b in zip(outputs(in_memory, X), outputs(mapped, X_map), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    codes = write_memmap(tmp_path / "codes.npy", in_memory.transform(X))
    np.testing.assert_array_equal(
        mapped.inverse_transform(codes), in_memory.inverse_transform(np.asarray(codes))
    )


@pytest.mark.parametrize("mode", ["resident", "streamed"])
def test_memmap_with_missing_values_trains_as_its_in_memory_twin(
    digits, tmp_path, mode, request
):
    # Streamed chunks carry the mask of their observed cells as resident
    # data do: the same statistics, batches and fit.
    if mode == "streamed":
        request.getfixturevalue("stream_everything")
    X = digits.copy()
    X[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    X_map = write_memmap(tmp_path / "X.npy", X)
    in_memory, mapped = fit(X), fit(X_map)
    for a, b in zip(outputs(in_memory, X), outputs(mapped, X_map), strict=True):
        np.testing.assert_array_equal(a, b)
    assert np.isfinite(mapped.transform(X_map)).all()


# ----------------------------------------------------------------------
# Streaming


def test_small_data_stay_resident_and_large_data_stream(digits, monkeypatch):
    streams = []
    original = _data.RowStream.__init__

    def spy(self, *args, **kwargs):
        streams.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(_data.RowStream, "__init__", spy)
    fit(digits)
    assert streams == []
    # The rule: stream when the dense size in the network dtype exceeds the
    # budget (digits: 1797 x 64 float64 = 920,016 bytes).
    monkeypatch.setattr(_data, "RESIDENT_BYTES", digits.nbytes - 1)
    fit(digits)
    assert len(streams) == 1


def test_streamed_fit_is_deterministic_and_learns(digits, stream_everything):
    first, second = fit(digits, max_iter=30), fit(digits, max_iter=30)
    assert first.loss_curve_ == second.loss_curve_
    np.testing.assert_array_equal(first.transform(digits), second.transform(digits))
    assert first.loss_curve_[-1] < 0.8 * first.loss_curve_[0]


def test_streamed_early_stopping_validates_held_out_rows(digits, stream_everything):
    ae = fit(digits, early_stopping=True, max_iter=10)
    assert len(ae.validation_loss_curve_) == ae.n_iter_
    assert np.isfinite(ae.validation_loss_curve_).all()
    assert ae.best_loss_ == min(ae.validation_loss_curve_)


def test_row_stream_weights_follow_their_rows(digits):
    # Column 0 names the row; its weight is a function of the name.
    X = np.column_stack([np.arange(len(digits), dtype=float), digits])
    weights = 1.0 + X[:, 0] % 5
    rows = np.arange(3, 1790, 2)
    stream = _data.RowStream(
        X,
        torch.float64,
        torch.device("cpu"),
        32,
        np.random.default_rng(0),
        rows,
        weights,
    )
    stream.chunk_rows, stream.block_rows = 128, 50
    # Copies: the stream reuses two buffers.
    chunks = [(c.rows.clone(), c.weights.clone()) for c in stream.chunks(True)]
    seen = torch.cat([c[:, 0] for c, _ in chunks]).numpy()
    given = torch.cat([w for _, w in chunks]).numpy()
    np.testing.assert_array_equal(np.sort(seen), rows)
    np.testing.assert_array_equal(given, 1.0 + seen % 5)
    assert stream.head(3).rows[:, 0].tolist() == [3.0, 5.0, 7.0]


@pytest.mark.parametrize("rows", [None, np.arange(3, 1790, 2)])
def test_row_stream_reads_every_row_once_per_pass(digits, rows):
    stream = _data.RowStream(
        sparse.csr_matrix(digits),
        torch.float64,
        torch.device("cpu"),
        32,
        np.random.default_rng(0),
        rows,
    )
    stream.chunk_rows, stream.block_rows = 128, 50
    expected = digits if rows is None else digits[rows]
    orders = []
    for shuffle in (True, True, False):
        chunks = [c.rows.clone() for c in stream.chunks(shuffle)]
        assert all(len(c) == 128 for c in chunks[:-1])
        seen = torch.cat(chunks).numpy()
        if not shuffle:
            np.testing.assert_array_equal(seen, expected)
        # Every row exactly once: the same rows once both are sorted.
        np.testing.assert_array_equal(sorted_rows(seen), sorted_rows(expected))
        orders.append(seen)
    assert not np.array_equal(orders[0], orders[1])


def test_partial_fit_on_streamed_chunks_lowers_the_loss(digits, tmp_path):
    X_map = write_memmap(tmp_path / "X.npy", digits)
    ae = AutoencoderTransformer(3, hidden_layer_sizes=(32,), random_state=0)
    before = None
    for _ in range(8):
        for start in range(0, len(X_map), 300):
            ae.partial_fit(X_map[start : start + 300])
            if before is None:
                before = ae.score(digits)
    curve = ae.loss_curve_
    assert ae.n_iter_ == len(curve) == 8 * 6
    assert np.mean(curve[-6:]) < 0.7 * np.mean(curve[:6])
    assert ae.score(digits) > before


def test_partial_fit_accepts_sparse_chunks(digits):
    ae = AutoencoderTransformer(3, **{**SMALL, "max_iter": 200})
    for start in range(0, len(digits), 600):
        ae.partial_fit(sparse.csr_matrix(digits[start : start + 600]))
    assert ae.n_iter_ == 3
    assert ae.transform(sparse.csr_matrix(digits)).shape == (len(digits), 3)


# ----------------------------------------------------------------------
# Bounded memory, measured in a subprocess

# The child streams with small budgets (chunks of 2 MB, an 8 MB resident
# limit, 2 MB statistics and inference batches) so that the test runs in
# seconds; the data are 128 MB (memmap) or 160 MB once dense (CSR), so a
# single whole copy of them would exceed the bound. It runs both workloads,
# waiting before each until the parent has read its baseline.
_CHILD = textwrap.dedent(
    """
    import sys, warnings
    import numpy as np
    import torch
    from scipy import sparse
    warnings.simplefilter("ignore")
    from skae import AutoencoderTransformer, _data
    _data.RESIDENT_BYTES = 8 << 20
    _data.STREAM_CHUNK_BYTES = 2 << 20
    _data.STREAM_BLOCK_BYTES = 256 << 10
    _data._INFERENCE_ELEMENTS = 1 << 18
    _data._STATS_CHUNK_ELEMENTS = 1 << 18
    torch.set_num_threads(1)  # speed on busy machines; memory is unaffected

    def random_csr(n_rows, n_cols, per_row, rng):
        indices = np.sort(rng.integers(0, n_cols, (n_rows, per_row)), axis=1)
        data = rng.random(n_rows * per_row, dtype=np.float32)
        indptr = np.arange(0, n_rows * per_row + 1, per_row)
        return sparse.csr_matrix((data, indices.ravel(), indptr), (n_rows, n_cols))

    datasets = {
        "memmap": np.load(sys.argv[1], mmap_mode="r"),
        # 20,000 x 2,000 at 1% density: 160 MB dense in float32.
        "csr": random_csr(20_000, 2_000, 20, np.random.default_rng(0)),
    }
    warm = AutoencoderTransformer(2, hidden_layer_sizes=(8,), max_iter=1)
    warm.fit(np.asarray(datasets["memmap"][:500]))  # torch's one-off set-up
    for kind, X in datasets.items():
        ae = AutoencoderTransformer(
            2, hidden_layer_sizes=(8,), max_iter=1, batch_size=256, random_state=0
        )
        print("ready", flush=True)
        sys.stdin.readline()
        ae.fit(X)
        ae.partial_fit(X)
        codes, scores = ae.transform(X), ae.score_samples(X)
        print(codes.nbytes + scores.nbytes, flush=True)
    """
)


def _anonymous_bytes(pid):
    # Anonymous memory only: the memmap's file-backed pages count in RSS
    # when read but can be dropped by the kernel at any time.
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no RssAnon")


def _poll_peak(child, baseline):
    """Peak anonymous memory until the child prints its next line."""
    # Polled from this process, so the child's GIL cannot hide a spike; a
    # copy of the data would live for a whole epoch, far longer than 5 ms.
    peak, lines = baseline, []
    reader = threading.Thread(target=lambda: lines.append(child.stdout.readline()))
    reader.start()
    while reader.is_alive():
        peak = max(peak, _anonymous_bytes(child.pid))
        time.sleep(0.005)
    return peak, lines[0]


@pytest.fixture(scope="module")
def memory_growth(tmp_path_factory):
    """Peak growth of anonymous memory and output bytes, per workload."""
    path = tmp_path_factory.mktemp("memmap") / "X.npy"
    shape = (65_536, 512)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
    rng = np.random.default_rng(0)
    for start in range(0, len(X), 8192):
        X[start : start + 8192] = rng.standard_normal((8192, 512), dtype=np.float32)
    X.flush()
    del X
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    growth = {}
    try:
        for kind in ("memmap", "csr"):
            assert child.stdout.readline().strip() == "ready"
            baseline = _anonymous_bytes(child.pid)
            child.stdin.write("go\n")
            child.stdin.flush()
            peak, output_bytes = _poll_peak(child, baseline)
            growth[kind] = peak - baseline, int(output_bytes)
    finally:
        child.communicate(timeout=60)
    assert child.returncode == 0
    return growth


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("kind", ["memmap", "csr"])
def test_memory_stays_bounded_whatever_the_data_size(kind, memory_growth):
    growth, output_bytes = memory_growth[kind]
    # Allowed: the outputs plus 64 MB, half the data's dense size.
    assert growth < output_bytes + (64 << 20), f"grew by {growth / 2**20:.0f} MB"


# ----------------------------------------------------------------------
# Threads


def test_concurrent_fits_share_torch_threads(two_torch_threads):
    default = 2
    seen, entered, release = {}, threading.Event(), threading.Event()

    def first():
        with shared_threads():
            seen["first"] = torch.get_num_threads()
            entered.set()
            release.wait(10)

    def second():
        entered.wait(10)
        with shared_threads():
            seen["second"] = torch.get_num_threads()
        release.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"first": default, "second": max(1, default // 2)}
    assert torch.get_num_threads() == default
    later = []
    t = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
    t.start()
    t.join()
    assert later == [default]


def test_a_lone_fit_keeps_torch_threads(digits, two_torch_threads):
    fit(digits)
    assert torch.get_num_threads() == 2


# ----------------------------------------------------------------------
# CUDA (skipped without a GPU)


@needs_cuda
def test_cuda_fit_runs_in_float32_and_returns_input_dtype(digits):
    cpu = fit(digits.astype(np.float32), max_iter=20)
    gpu = fit(digits, max_iter=20, device="cuda")
    assert next(gpu._module.parameters()).dtype == torch.float32
    assert gpu.transform(digits).dtype == np.float64
    assert gpu.score(digits) == pytest.approx(cpu.score(digits), rel=0.1)


@needs_cuda
def test_cuda_chunked_upload_is_exact(digits, monkeypatch):
    monkeypatch.setattr(_data, "STREAM_CHUNK_BYTES", 64 * 4 * 100)
    X = sparse.csr_matrix(digits)
    tensor = _data.to_tensor(X, torch.float32, torch.device("cuda"))
    np.testing.assert_array_equal(tensor.cpu().numpy(), digits.astype(np.float32))


@needs_cuda
def test_cuda_streaming_reads_every_row_and_learns(digits, stream_everything):
    stream = _data.RowStream(
        digits, torch.float32, torch.device("cuda"), 32, np.random.default_rng(0)
    )
    seen = torch.cat([c.clone() for c, _ in stream.chunks(True)]).cpu().numpy()
    np.testing.assert_array_equal(
        sorted_rows(seen), sorted_rows(digits.astype(np.float32))
    )
    ae = fit(digits, max_iter=30, device="cuda")
    assert ae.loss_curve_[-1] < 0.8 * ae.loss_curve_[0]
