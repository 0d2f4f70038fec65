"""
====================================
Training on data larger than memory
====================================

skae reads a NumPy memmap (an array that lives in a file) a batch of rows
at a time in every method: ``fit``, ``partial_fit``, ``transform``,
``inverse_transform``, ``score_samples``. So it does with SciPy sparse
matrices, densifying one batch at a time. Training data of up to 256 MiB
(in the network's precision) are copied once and stay resident, the fast
path; larger data are streamed from the file in shuffled chunks of about
32 MiB, so memory stays bounded whatever the number of rows.

This example writes digits to a file and trains on the file. The file is
small so that the example runs in seconds; the code would not change for a
100 GB file on a machine with 16 GB of memory, where loading the array
would fail.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Writing a dataset to disk, chunk by chunk
# -----------------------------------------
# The digits that ship with scikit-learn are 1,797 images of 8 x 8 pixels.
# Shifted and noisy copies of them make a larger training set, written to a
# ``.npy`` file one chunk at a time, as a data pipeline would: the whole
# array is never in memory.
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import sparse
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer

digits = load_digits().data.astype(np.float32) / 16.0
images = digits.reshape(-1, 8, 8)
rng = np.random.default_rng(0)


def augmented_chunk(rng):
    """The digits shifted by up to one pixel each way, with a little noise."""
    shifted = np.roll(images, rng.integers(-1, 2, size=2), axis=(1, 2))
    noisy = shifted + rng.normal(scale=0.05, size=shifted.shape)
    return np.clip(noisy, 0.0, 1.0).reshape(len(images), 64).astype(np.float32)


folder = Path(tempfile.mkdtemp())
n_chunks = 8
X = np.lib.format.open_memmap(
    folder / "digits.npy", mode="w+", dtype=np.float32, shape=(n_chunks * 1797, 64)
)
for i in range(n_chunks):
    X[i * 1797 : (i + 1) * 1797] = augmented_chunk(rng)
X.flush()
del X

# Opened read-only: a memmap whose pages are read from disk when touched.
X = np.load(folder / "digits.npy", mmap_mode="r")
print(f"{type(X).__name__} of shape {X.shape}, {X.nbytes / 2**20:.1f} MiB on disk")

# %%
# Fitting on the file
# -------------------
# ``fit`` takes the memmap as it is. Validation does not copy it (a float32
# or float64 memmap passes through scikit-learn's checks unconverted, and the
# check for NaN and infinity reads it in one pass); the column statistics
# and, for data over the budget, every epoch read it in chunks.
ae = AutoencoderTransformer(n_components=8, max_iter=10, random_state=0)
start = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    ae.fit(X)
print(f"fit on {len(X)} rows in {time.perf_counter() - start:.1f} s")

# %%
# The outputs are the only new memory: ``transform`` fills one array of
# codes batch by batch, ``score_samples`` one number per row.
codes = ae.transform(X)
scores = ae.score_samples(X)
print(f"codes {codes.shape} {codes.dtype}, scores {scores.shape}")
print(f"reconstruction error of the original digits: {-ae.score(digits):.4f}")

# %%
# Learning from a stream with ``partial_fit``
# -------------------------------------------
# When rows arrive over time, or come from a generator, ``partial_fit``
# trains for one epoch on each chunk it is given and keeps learning across
# calls. The first call fixes the network's input scaling, so it should see
# representative data. Here the chunks are made on the fly and never stored.
stream_ae = AutoencoderTransformer(n_components=8, random_state=0)
stream = np.random.default_rng(1)
for _ in range(25):
    stream_ae.partial_fit(augmented_chunk(stream))

fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(np.arange(1, stream_ae.n_iter_ + 1), stream_ae.loss_curve_)
ax.set_xlabel("partial_fit call (one chunk of 1,797 rows each)")
ax.set_ylabel("training loss (fraction of variance)")
ax.set_title("Learning across calls")
fig.tight_layout()
plt.show()
print(f"streamed model, error of the original digits: {-stream_ae.score(digits):.4f}")

# %%
# Sparse input
# ------------
# Binarised digits are mostly zeros. A CSR matrix (CSC and COO are
# converted to CSR) is densified one batch at a time, never as a whole, and
# gives exactly the results of its dense twin: the network sees the same
# numbers in the same order.
binary = (digits > 0.5).astype(np.float32)
X_sparse = sparse.csr_matrix(binary)
print(f"{X_sparse.nnz / np.prod(X_sparse.shape):.0%} of the entries are stored")
params = dict(n_components=8, max_iter=10, random_state=0)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    from_sparse = AutoencoderTransformer(**params).fit(X_sparse)
    from_dense = AutoencoderTransformer(**params).fit(binary)
same = np.array_equal(from_sparse.transform(X_sparse), from_dense.transform(binary))
print(f"sparse and dense fits give identical codes: {same}")

# %%
# The memmap must be closed before its file can be removed on every system.
del X
shutil.rmtree(folder, ignore_errors=True)
