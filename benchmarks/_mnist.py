"""Loading the MNIST-format IDX files in ../shared/data (see its README)."""

import gzip
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


def read_idx(path):
    """An IDX file (gzip) as a NumPy array of its declared shape."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    n_dims = raw[3]
    shape = tuple(np.frombuffer(raw, dtype=">u4", count=n_dims, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * n_dims)
    if data.size != np.prod(shape):
        raise ValueError(f"{path}: payload has {data.size} values, header says {shape}")
    return data.reshape(shape)


def load_images(directory, n_train=None, n_test=None):
    """Train and test images of an MNIST-format directory, flattened, in [0, 1].

    Returns ``X_train, y_train, X_test, y_test`` with float32 images.
    """
    directory = Path(directory)

    def images(name, n):
        return (read_idx(directory / name)[:n].reshape(-1, 784) / 255.0).astype(
            np.float32
        )

    def labels(name, n):
        return read_idx(directory / name)[:n].astype(np.int64)

    return (
        images("train-images-idx3-ubyte.gz", n_train),
        labels("train-labels-idx1-ubyte.gz", n_train),
        images("t10k-images-idx3-ubyte.gz", n_test),
        labels("t10k-labels-idx1-ubyte.gz", n_test),
    )
