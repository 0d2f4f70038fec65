"""Where more torch threads start to pay: training step time, 1 thread vs all.

``n_threads='auto'`` runs a step on one thread when its work is small,
because a team of intra-op threads costs a synchronisation per operation
that a small step cannot pay back, and on a busy machine each of those
waits for a core (10-300x slower). This measures the crossover: for networks
and batch sizes from tiny to MNIST-sized, the median time of a training step
(forward, backward, fused Adam) on one thread and on every core, alternated
in one process. ``work`` is the step's multiply-adds, 3 x batch x weights
(forward, and backward for inputs and weights), the quantity skae's rule
compares with ``skae._threads.SINGLE_THREAD_WORK``.

Timings on a shared machine depend on what else runs: the script prints the
load average before and after. Run it on an idle machine to find where
threads pay at best, and on a busy one to see how that moves.

Usage::

    python benchmarks/bench_threads.py [--repeats 5] [--seconds 0.2]
"""

import argparse
import os
import statistics
import time

import torch

from skae._recipe import NetworkRecipe, build_network, build_optimizer

# (n_features, hidden_layer_sizes, n_components): tabular to MNIST-sized.
NETWORKS = [
    (8, (16,), 2),
    (64, (100,), 2),
    (64, (100,), 16),
    (256, (256,), 32),
    (784, (256, 64), 16),
    (784, (1024, 512), 64),
]
BATCHES = [16, 64, 200, 1024]


def step_time(module, optimizer, X, batch, steps, n_threads):
    torch.set_num_threads(n_threads)
    x = X[:batch]
    start = time.perf_counter()
    for _ in range(steps):
        loss = torch.nn.functional.mse_loss(module(x).reconstruction, x)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return (time.perf_counter() - start) / steps


def measure(n_features, hidden, code, batch, args, cores):
    recipe = NetworkRecipe(n_features, code, hidden, dtype="float32")
    module = build_network(recipe)
    module.reset_parameters(torch.Generator().manual_seed(0))
    optimizer = build_optimizer("adam", module, 1e-3)
    X = torch.randn(batch, n_features, generator=torch.Generator().manual_seed(1))
    times = {1: [], cores: []}
    # Warm up, and size each measurement to about --seconds on one thread.
    one = step_time(module, optimizer, X, batch, 3, 1)
    steps = max(3, int(args.seconds / one))
    for _ in range(args.repeats):
        for n in (1, cores):
            times[n].append(step_time(module, optimizer, X, batch, steps, n))
    weights = sum(w.numel() for w in module.weights())
    return 3 * batch * weights, {n: statistics.median(t) for n, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--seconds", type=float, default=0.2, help="per measurement, on one thread"
    )
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    print(f"cores: {cores}, torch {torch.__version__}, load {os.getloadavg()}")
    rows = []
    for n_features, hidden, code in NETWORKS:
        for batch in BATCHES:
            work, t = measure(n_features, hidden, code, batch, args, cores)
            rows.append((work, n_features, hidden, code, batch, t[1], t[cores]))
    print(
        f"{'work':>12} {'network':>24} {'batch':>6} {'1 thread':>10} "
        f"{f'{cores} threads':>10} {'ratio':>6}"
    )
    for work, n_features, hidden, code, batch, one, many in sorted(rows):
        network = f"{n_features}-{'-'.join(map(str, hidden))}-{code}"
        print(
            f"{work:12.3g} {network:>24} {batch:6d} {one * 1e3:9.3f}ms "
            f"{many * 1e3:9.3f}ms {many / one:6.2f}"
        )
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
