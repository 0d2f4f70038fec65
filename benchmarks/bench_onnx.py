"""Exported ONNX graphs against the estimators: largest differences and speed.

For every estimator and exportable method (all but the variational
autoencoder's ``score_samples``), a model fitted on digits (with
the estimator's defaults, 20 epochs) in float32 and in float64 is exported
with ``skae.to_onnx`` and run by onnxruntime on held-out rows at several
batch sizes. The table gives the largest absolute and relative difference
from the estimator's own output, and the time per row of both at the
largest batch (one thread each).

Usage::

    python benchmarks/bench_onnx.py
"""

import time
import warnings

import numpy as np
import onnxruntime as ort
import torch
from sklearn.datasets import load_digits

from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VariationalAutoencoder,
    to_onnx,
)
from skae._onnx import OUTPUT_NAMES

BATCHES = (1, 10, 1000)


def session(model):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


def timed(fn, *args, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = X[:1000], np.tile(X[1000:], (2, 1))[:1000]
    print(
        f"{'estimator':<28}{'dtype':<9}{'method':<19}{'max abs':>10}"
        f"{'max rel':>10}{'skae us/row':>13}{'onnx us/row':>13}"
    )
    for cls in (
        AutoencoderTransformer,
        DenoisingAutoencoder,
        AutoencoderOutlierDetector,
        VariationalAutoencoder,
    ):
        for dtype in (np.float32, np.float64):
            estimator = cls(max_iter=20, random_state=0).fit(X_train.astype(dtype))
            methods = [m for m in OUTPUT_NAMES if m in estimator._onnx_methods]
            for method in [m for m in methods if hasattr(estimator, m)]:
                run = session(to_onnx(estimator, method)).run
                worst_abs = worst_rel = 0.0
                for n in BATCHES:
                    data = X_test[:n].astype(dtype)
                    if method == "inverse_transform":
                        data = estimator.transform(data)
                    (got,) = run(None, {"X": data})
                    expected = getattr(estimator, method)(data)
                    diff = np.abs(got.astype(float) - expected)
                    worst_abs = max(worst_abs, float(diff.max()))
                    scale = np.maximum(np.abs(expected), 1e-12)
                    worst_rel = max(worst_rel, float((diff / scale).max()))
                t_skae = timed(getattr(estimator, method), data)
                t_onnx = timed(run, None, {"X": data})
                print(
                    f"{cls.__name__:<28}{np.dtype(dtype).name:<9}{method:<19}"
                    f"{worst_abs:10.2e}{worst_rel:10.2e}"
                    f"{1e6 * t_skae / len(data):13.2f}{1e6 * t_onnx / len(data):13.2f}"
                )


if __name__ == "__main__":
    main()
