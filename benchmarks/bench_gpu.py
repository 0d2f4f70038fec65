"""Training throughput on MNIST: skae against minimal hand-written torch loops.

Prints images per second for a 784-256-64-16 autoencoder (ReLU, MSE, Adam)
trained on the 60,000 MNIST training images at batch sizes 64, 256 and 1024:

- ``dataloader``: a per-sample ``DataLoader`` over a host ``TensorDataset``,
  each batch copied to the device (the textbook loop);
- ``resident``: the data kept on the device as one tensor, batches sliced by
  shuffled index, the loss read back once per epoch;
- ``resident+fused``: the same with fused Adam;
- ``skae``: ``AutoencoderTransformer.fit`` (validation, statistics and
  upload included in its time).

Each number is the median over ``--repeats`` timed runs after a warm-up run;
CUDA work is synchronised before every clock read.

Usage::

    python benchmarks/bench_gpu.py [--data ../shared/data/mnist]
    python benchmarks/bench_gpu.py --cpu --threads 1 --n-samples 10000 --epochs 1

Without CUDA it says so and exits, unless ``--cpu`` asks for the same
comparison on the CPU.
"""

import argparse
import gzip
import itertools
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout, installed or not
from skae import AutoencoderTransformer  # noqa: E402

# The project's shared data folder sits beside the checkout (../shared), or
# inside it on machines that copy it there.
DATA_CANDIDATES = [p / "shared" / "data" / "mnist" for p in (ROOT, *ROOT.parents[:2])]
HIDDEN, CODE = (256, 64), 16


def load_mnist(folder, n_samples=None):
    """MNIST training images as float32 in [0, 1], shape (60000, 784)."""
    with gzip.open(Path(folder) / "train-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    magic, n, rows, cols = np.frombuffer(raw[:16], dtype=">u4")
    if magic != 0x803 or len(raw) != 16 + n * rows * cols:
        raise ValueError(f"{folder} does not hold the MNIST IDX image file")
    X = np.frombuffer(raw[16:], dtype=np.uint8).reshape(n, rows * cols)
    return (X[:n_samples] / np.float32(255)).astype(np.float32)


def make_network(n_features, device, seed=0):
    torch.manual_seed(seed)  # a benchmark process of its own: global seeding is fine
    widths = [n_features, *HIDDEN, CODE, *HIDDEN[::-1], n_features]
    layers = []
    for n_in, n_out in itertools.pairwise(widths):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1]).to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step(net, optimizer, batch):
    """One Adam step of the plain loops; returns the detached loss."""
    loss = nn.functional.mse_loss(net(batch), batch)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def loop_dataloader(X, batch_size, epochs, device):
    net = make_network(X.shape[1], device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    data = torch.utils.data.TensorDataset(torch.from_numpy(X))
    loader = torch.utils.data.DataLoader(
        data, batch_size=batch_size, shuffle=True, pin_memory=device.type == "cuda"
    )
    for _ in range(epochs):
        total = torch.zeros((), device=device)
        for (batch,) in loader:
            batch = batch.to(device, non_blocking=True)
            total += step(net, optimizer, batch)
        total.item()


def loop_resident(X, batch_size, epochs, device, fused=False):
    net = make_network(X.shape[1], device)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=fused or None)
    data = torch.from_numpy(X).to(device)
    generator = torch.Generator(device=device).manual_seed(0)
    for _ in range(epochs):
        order = torch.randperm(len(data), generator=generator, device=device)
        total = torch.zeros((), device=device)
        for start in range(0, len(data), batch_size):
            batch = data[order[start : start + batch_size]]
            total += step(net, optimizer, batch)
        total.item()


def loop_skae(X, batch_size, epochs, device):
    ae = AutoencoderTransformer(
        CODE,
        hidden_layer_sizes=HIDDEN,
        activation="relu",
        batch_size=batch_size,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
        device=str(device),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)


LOOPS = {
    "dataloader": loop_dataloader,
    "resident": loop_resident,
    "resident+fused": lambda *a: loop_resident(*a, fused=True),
    "skae": loop_skae,
}


def images_per_second(loop, X, batch_size, epochs, device, repeats):
    loop(X[: 4 * batch_size], batch_size, 1, device)  # warm-up: kernels, handles
    rates = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        loop(X, batch_size, epochs, device)
        sync(device)
        rates.append(len(X) * epochs / (time.perf_counter() - start))
    return statistics.median(rates)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--data", help="folder of MNIST's IDX files (default: ../shared/data/mnist)")
    add("--batch-sizes", type=int, nargs="+", default=[64, 256, 1024])
    add("--epochs", type=int, default=3)
    add("--repeats", type=int, default=3)
    add("--n-samples", type=int, default=None, help="use the first N images only")
    add("--loops", nargs="+", default=list(LOOPS), choices=list(LOOPS))
    add("--cpu", action="store_true", help="run the comparison on the CPU")
    add("--threads", type=int, default=None, help="torch CPU threads (this process)")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.cpu:
        device = torch.device("cpu")
    elif torch.cuda.is_available():
        device = torch.device("cuda")
    else:
        print("CUDA is not available: nothing to measure. Use --cpu for a CPU run.")
        return 0
    folder = args.data or next((p for p in DATA_CANDIDATES if p.exists()), None)
    if folder is None:
        parser.error("MNIST not found under ../shared/data/mnist: pass --data")
    X = load_mnist(folder, args.n_samples)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(
        f"# {name}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads; "
        f"{len(X)} images x {args.epochs} epochs, median of {args.repeats}"
    )
    header = "".join(f"{'batch ' + str(b):>14}" for b in args.batch_sizes)
    print(f"{'images/s':<16}{header}")
    for loop in args.loops:
        rates = [
            images_per_second(LOOPS[loop], X, b, args.epochs, device, args.repeats)
            for b in args.batch_sizes
        ]
        print(f"{loop:<16}" + "".join(f"{rate:>14,.0f}" for rate in rates), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
