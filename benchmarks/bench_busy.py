"""Small fits on a busy machine: skae, MLPRegressor and a plain torch loop.

The workload is what a cross-validation worker or a notebook runs: five
10-epoch fits on 600 x 64 rows of digits, then one fit with the defaults on
all of digits (1797 x 64). Each contender runs it on the idle machine and
with two background processes multiplying matrices in torch on its default
threads (what other cross-validation workers do); idle and busy runs
alternate, and the table reports the medians and their ratio.

Contenders, all on the process's default torch threads unless stated:

- ``skae``: AutoencoderTransformer with its defaults (``n_threads='auto'``);
- ``skae n_threads=T``: the same with every torch thread, as skae did before
  ``n_threads`` existed;
- ``MLPRegressor``: fit(X, X) with the same 64-100-2-100-64 shape;
- ``torch loop``: a minimal loop training that network (ELU, Adam, batches
  of 200, resident data), as a user would write it.

Timings on a shared machine depend on what else runs: the script prints
the load average at the start and at the end of every round.

Usage::

    python benchmarks/bench_busy.py [--rounds 3] [--contenders skae mlp torch]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor

from skae import AutoencoderTransformer

# Each background process multiplies 512 x 512 matrices on torch's default
# threads until it is killed.
BUSY_CODE = """
import torch
a = torch.randn(512, 512)
while True:
    a = torch.tanh(a @ a)
"""
N_SHORT_FITS, SHORT_EPOCHS, SHORT_ROWS = 5, 10, 600


def skae_workload(X, n_threads="auto"):
    for seed in range(N_SHORT_FITS):
        AutoencoderTransformer(
            max_iter=SHORT_EPOCHS, random_state=seed, n_threads=n_threads
        ).fit(X[:SHORT_ROWS])
    AutoencoderTransformer(random_state=0, n_threads=n_threads).fit(X)


def mlp_workload(X):
    shape = (100, 2, 100)
    for seed in range(N_SHORT_FITS):
        MLPRegressor(
            hidden_layer_sizes=shape, max_iter=SHORT_EPOCHS, random_state=seed
        ).fit(X[:SHORT_ROWS], X[:SHORT_ROWS])
    MLPRegressor(hidden_layer_sizes=shape, random_state=0).fit(X, X)


def torch_loop(X, epochs, seed):
    generator = torch.Generator().manual_seed(seed)
    widths = [64, 100, 2, 100]
    layers = []
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [torch.nn.Linear(a, b), torch.nn.ELU()]
    model = torch.nn.Sequential(*layers, torch.nn.Linear(100, 64))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    X = torch.from_numpy(X)
    for _ in range(epochs):
        order = torch.randperm(X.shape[0], generator=generator)
        for start in range(0, X.shape[0], 200):
            batch = X[order[start : start + 200]]
            loss = torch.nn.functional.mse_loss(model(batch), batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def torch_workload(X):
    X = X.astype(np.float32)
    for seed in range(N_SHORT_FITS):
        torch_loop(X[:SHORT_ROWS], SHORT_EPOCHS, seed)
    torch_loop(X, 200, 0)


def contenders(names):
    threads = torch.get_num_threads()
    table = {
        "skae": skae_workload,
        f"skae n_threads={threads}": lambda X: skae_workload(X, threads),
        "MLPRegressor": mlp_workload,
        "torch loop": torch_workload,
    }
    keys = {"skae": ["skae"], "old": [f"skae n_threads={threads}"]}
    keys |= {"mlp": ["MLPRegressor"], "torch": ["torch loop"]}
    return {k: table[k] for name in names for k in keys[name]}


def start_background(n):
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    procs = [
        subprocess.Popen([sys.executable, "-c", BUSY_CODE], env=env) for _ in range(n)
    ]
    time.sleep(2.0)  # let them import torch and start multiplying
    return procs


def stop_background(procs):
    for proc in procs:
        proc.kill()
    for proc in procs:
        proc.wait()


def timed(fn, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        fn(X)
        return time.perf_counter() - start


def load():
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--background", type=int, default=2)
    parser.add_argument(
        "--contenders",
        nargs="+",
        default=["skae", "old", "mlp", "torch"],
        choices=["skae", "old", "mlp", "torch"],
    )
    args = parser.parse_args()
    X = load_digits().data
    runs = contenders(args.contenders)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"{os.cpu_count()} cores, {args.background} background processes; "
        f"load average (1/5/15 min) at start {load()}",
        flush=True,
    )
    times = {name: {"idle": [], "busy": []} for name in runs}
    for fn in runs.values():
        timed(fn, X[:100])  # warm up every code path
    for round_ in range(args.rounds):
        for phase in ("idle", "busy"):
            procs = start_background(args.background) if phase == "busy" else []
            try:
                for name, fn in runs.items():
                    times[name][phase].append(timed(fn, X))
                    print(
                        f"round {round_ + 1} {phase:<4} {name:<22} "
                        f"{times[name][phase][-1]:7.2f} s  load {load()}",
                        flush=True,
                    )
            finally:
                stop_background(procs)
    print(f"\n{'contender':<22} {'idle':>8} {'busy':>8} {'ratio':>6}")
    for name, t in times.items():
        idle, busy = statistics.median(t["idle"]), statistics.median(t["busy"])
        print(f"{name:<22} {idle:7.2f}s {busy:7.2f}s {busy / idle:6.1f}")
    print(f"load average at the end: {load()}")


if __name__ == "__main__":
    main()
