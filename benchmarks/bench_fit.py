"""Fit time of skae against a minimal torch loop, skorch, pyod and MLPRegressor.

Every contender trains the same network on MNIST: 784-256-64-16 encoder with
ReLU (codes included), a mirrored decoder, Adam at 1e-3 (fused wherever torch
offers it, in every torch contender), no weight penalty, batches of 256, 5
epochs. The contenders run alternately in one process, ``--repeats`` rounds,
and the table reports medians; ``ratio`` is the median over rounds of each
contender's time divided by the minimal loop's time in the same round. A
first, uncounted round warms up every code path.

Differences we cannot remove: pyod's output layer is linear (no sigmoid) and
MLPRegressor's output is linear too (it is a regressor); both therefore train
a slightly different network. Their times are still the cost of the same
matrix work.

Usage::

    python benchmarks/bench_fit.py [DATA_DIR] [--repeats 3] [--n-train 60000]
"""

import argparse
import itertools
import statistics
import time
import warnings

import numpy as np
import torch
from _mnist import DEFAULT_DATA, load_images
from torch import nn

EPOCHS, BATCH, LR, CODE, HIDDEN = 5, 256, 1e-3, 16, (256, 64)


def torch_network():
    widths = [784, *HIDDEN, CODE]
    layers = []
    for a, b in itertools.pairwise(widths):
        layers += [nn.Linear(a, b), nn.ReLU()]
    for a, b in itertools.pairwise(widths[::-1][:-1]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers += [nn.Linear(HIDDEN[0], 784), nn.Sigmoid()]
    return nn.Sequential(*layers)


def minimal_loop(X_train, X_test):
    """The reference: resident tensor, index-sliced shuffled batches, fused Adam."""
    generator = torch.Generator().manual_seed(0)
    model = torch_network()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR, fused=True)
    start = time.perf_counter()
    X = torch.from_numpy(X_train)
    for _ in range(EPOCHS):
        order = torch.randperm(X.shape[0], generator=generator)
        for i in range(0, X.shape[0], BATCH):
            batch = X[order[i : i + BATCH]]
            loss = nn.functional.mse_loss(model(batch), batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        X_rec = model(torch.from_numpy(X_test)).numpy()
    return seconds, X_rec


def skae_fit(X_train, X_test):
    from skae import AutoencoderTransformer

    model = AutoencoderTransformer(
        CODE,
        hidden_layer_sizes=HIDDEN,
        activation="relu",
        output_activation="sigmoid",
        learning_rate_init=LR,
        batch_size=BATCH,
        max_iter=EPOCHS,
        tol=0.0,
        n_iter_no_change=EPOCHS,
        random_state=0,
        device="cpu",
    )
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    return seconds, model.reconstruct(X_test)


def skorch_fit(X_train, X_test):
    from skorch import NeuralNetRegressor

    net = NeuralNetRegressor(
        torch_network,
        optimizer=torch.optim.Adam,
        optimizer__fused=True,
        lr=LR,
        max_epochs=EPOCHS,
        batch_size=BATCH,
        train_split=None,
        verbose=0,
        iterator_train__shuffle=True,
        device="cpu",
    )
    start = time.perf_counter()
    net.fit(X_train, X_train)
    seconds = time.perf_counter() - start
    return seconds, net.predict(X_test)


def pyod_fit(X_train, X_test):
    from pyod.models.auto_encoder import AutoEncoder

    class FusedAdamAutoEncoder(AutoEncoder):
        # pyod builds a plain Adam and offers no way to ask for the fused
        # kernel; swap it in so every contender runs the same optimizer.
        def training_prepare(self):
            super().training_prepare()
            self.optimizer = torch.optim.Adam(
                self.model.parameters(), lr=LR, fused=True
            )

    model = FusedAdamAutoEncoder(
        hidden_neuron_list=[*HIDDEN, CODE],
        hidden_activation_name="relu",
        batch_norm=False,
        dropout_rate=0.0,
        epoch_num=EPOCHS,
        batch_size=BATCH,
        lr=LR,
        preprocessing=False,
        verbose=0,
        random_state=0,
        device="cpu",
    )
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    with torch.no_grad():
        model.model.eval()
        X_rec = model.model(torch.from_numpy(X_test)).numpy()
    return seconds, X_rec


def mlp_fit(X_train, X_test):
    from sklearn.neural_network import MLPRegressor

    model = MLPRegressor(
        hidden_layer_sizes=(*HIDDEN, CODE, *HIDDEN[::-1]),
        activation="relu",
        alpha=0.0,
        batch_size=BATCH,
        learning_rate_init=LR,
        max_iter=EPOCHS,
        n_iter_no_change=EPOCHS + 1,
        tol=0.0,
        random_state=0,
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X_train, X_train)
    seconds = time.perf_counter() - start
    return seconds, model.predict(X_test)


CONTENDERS = {
    "minimal torch loop": minimal_loop,
    "skae": skae_fit,
    "skorch": skorch_fit,
    "pyod AutoEncoder": pyod_fit,
    "MLPRegressor(X, X)": mlp_fit,
}


def fixed_cost(X_train, X_test, warmup, repeats):
    """skae's cost per fit beyond the epochs: a 1-epoch fit vs 1 loop epoch.

    Wall and CPU seconds (CPU time is less disturbed by other jobs on a
    shared machine); the difference of the medians is the fixed cost.
    """
    global EPOCHS
    EPOCHS = 1
    timings = {"minimal loop": ([], []), "skae": ([], [])}
    for round_ in range(warmup + repeats):
        for name, fit in (("minimal loop", minimal_loop), ("skae", skae_fit)):
            cpu = time.process_time()
            wall, _ = fit(X_train, X_test)
            cpu = time.process_time() - cpu
            if round_ >= warmup:
                timings[name][0].append(wall)
                timings[name][1].append(cpu)
    print(f"1 epoch on MNIST {X_train.shape}, medians of {repeats} rounds")
    for name, (wall, cpu) in timings.items():
        print(
            f"{name:<14} wall {statistics.median(wall):.3f} s"
            f"  cpu {statistics.median(cpu):.3f} s"
        )
    for kind, index in (("wall", 0), ("cpu", 1)):
        skae, loop = timings["skae"][index], timings["minimal loop"][index]
        per_round = statistics.median(s - b for s, b in zip(skae, loop, strict=True))
        print(f"fixed cost ({kind}): median per-round difference {per_round:.3f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA / "mnist")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1, help="uncounted first rounds")
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--skip", nargs="*", default=[], help="contenders to leave out")
    parser.add_argument(
        "--fixed-cost",
        action="store_true",
        help="measure skae's fixed cost per fit: a 1-epoch fit against 1 epoch "
        "of the minimal loop",
    )
    args = parser.parse_args()
    X_train, _, X_test, _ = load_images(args.data, args.n_train)
    if args.fixed_cost:
        fixed_cost(X_train, X_test, args.warmup, args.repeats)
        return
    names = [n for n in CONTENDERS if n not in args.skip]
    print(
        f"MNIST {X_train.shape}, {EPOCHS} epochs, batch {BATCH}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    )
    seconds = {n: [] for n in names}
    mse = {n: [] for n in names}
    for round_ in range(args.warmup + args.repeats):
        for name in names:
            s, X_rec = CONTENDERS[name](X_train, X_test)
            if round_ < args.warmup:
                continue
            seconds[name].append(s)
            mse[name].append(float(np.mean((X_rec - X_test) ** 2)))
            print(f"  round {round_ + 1} {name}: {s:.2f} s", flush=True)
    base = seconds[names[0]]
    print(f"\n{'contender':<22}{'median s':>10}{'ratio':>8}{'test MSE':>10}")
    for name in names:
        ratio = statistics.median(
            s / b for s, b in zip(seconds[name], base, strict=True)
        )
        print(
            f"{name:<22}{statistics.median(seconds[name]):>10.2f}{ratio:>8.3f}"
            f"{statistics.median(mse[name]):>10.4f}"
        )


if __name__ == "__main__":
    main()
