"""VariationalAutoencoder: held-out likelihood, binarized MNIST, fit time per epoch.

Four parts, one per subcommand; each prints its table (and the settings, the
torch threads and the machine load) and can append its rows to a JSON file.

``digits``
    Mean test log-likelihood per row in nats on scikit-learn's digits
    (pixels / 16, rows 0-1499 to train, 1500-1796 to test):
    ``VariationalAutoencoder(k)`` with its defaults and with the documented
    setting ``max_iter=1000``, against ``PCA(k)`` (probabilistic PCA) at
    k = 2, 8, 16, 32, and ``GaussianMixture(10, covariance_type='full',
    reg_covar=1e-3)``. VAE scores by the importance-weighted bound with
    ``--n-importance`` samples (1000).
``mnist-gaussian``
    The same comparison on MNIST pixels in [0, 1]: a subset (``--n-train``
    rows of the training set, the first ``--n-test`` test images), VAE
    defaults, 500 importance samples.
``binarized``
    Binarized MNIST (pixel > 0.5; 60k training images; test: the first 2000
    test images). The model: 784-200-200-50 with tanh, Bernoulli likelihood,
    Adam 1e-3, batches of 100. skae against a minimal hand-written torch loop
    for the same model (resident data, index-sliced shuffled batches, fused
    Adam, the same initialisation), at ``--epochs`` each, for each seed of
    ``--seeds``. Both models are evaluated by the same code: test NLL by the
    importance-weighted bound with 500 samples, test negative ELBO as the
    mean of 10 one-sample estimates. ``--recommended`` trains skae only, with
    the documented recommended setting (``learning_rate='cosine'``) for
    ``--epochs`` (160).
``timing``
    Fit time per epoch of skae against the minimal loop on binarized MNIST,
    side by side in one process: ``--rounds`` rounds of ``--epochs`` epochs
    each (contenders alternate, and so does their order), wall and CPU
    (``time.process_time``) seconds per epoch, medians. skae's epoch is
    everything its loop does per epoch (schedules, the epoch's steps, the
    divergence probe, the history); its fixed cost per fit (column
    statistics, building the network, the active-unit pass) is reported
    apart.

Usage::

    python benchmarks/bench_vae.py digits [--seeds 0 1 2]
    python benchmarks/bench_vae.py mnist-gaussian [DATA_DIR] [--n-train 10000]
    python benchmarks/bench_vae.py binarized [DATA_DIR] --epochs 20 --seeds 0 1
    python benchmarks/bench_vae.py binarized [DATA_DIR] --recommended --epochs 160
    python benchmarks/bench_vae.py timing [DATA_DIR] --epochs 3 --rounds 5

Run one part at a time, alone on the machine if timings matter.
"""

import argparse
import json
import math
import os
import statistics
import time
import warnings

import numpy as np
import torch
from _mnist import DEFAULT_DATA, load_images
from torch import nn
from torch.nn import functional as F

HIDDEN, CODE, BATCH, LR = (200, 200), 50, 100, 1e-3
N_TEST_BINARIZED = 2000
KS = (2, 8, 16, 32)


def machine():
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{os.cpu_count()} cores, load average {load}"
    )


def report(args, rows):
    if args.out:
        with open(args.out, "a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")


# ----------------------------------------------------------------------
# Held-out likelihood against PPCA and a mixture


def vae_scores(X_train, X_test, k, seed, n_importance, **params):
    from skae import VariationalAutoencoder

    vae = VariationalAutoencoder(
        k, n_importance_samples=n_importance, random_state=seed, device="cpu", **params
    )
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vae.fit(X_train)
    seconds = time.perf_counter() - start
    return vae.score(X_test), seconds, int(vae.active_components_.sum())


def likelihood_table(name, X_train, X_test, args, settings, gmm=True):
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    print(f"{name}: train {X_train.shape}, test {X_test.shape}; {machine()}")
    rows = []
    ppca = {k: PCA(k).fit(X_train).score(X_test) for k in KS}
    print("PPCA  " + "  ".join(f"k={k}: {v:.2f}" for k, v in ppca.items()), flush=True)
    rows += [dict(data=name, model="PPCA", k=k, score=v) for k, v in ppca.items()]
    if gmm:
        mixture = GaussianMixture(
            10, covariance_type="full", reg_covar=1e-3, random_state=0
        ).fit(X_train)
        score = mixture.score(X_test)
        print(f"GaussianMixture(10, full, reg_covar=1e-3): {score:.2f}", flush=True)
        rows.append(dict(data=name, model="GMM10", score=score))
    for label, params in settings.items():
        for k in KS:
            runs = [
                vae_scores(X_train, X_test, k, s, args.n_importance, **params)
                for s in args.seeds
            ]
            scores = [r[0] for r in runs]
            print(
                f"VAE {label} k={k}: {np.mean(scores):.2f} +- {np.std(scores):.2f} "
                f"(seeds {args.seeds}: {', '.join(f'{s:.2f}' for s in scores)}; "
                f"active units {[r[2] for r in runs]}; "
                f"{np.mean([r[1] for r in runs]):.0f} s per fit; "
                f"PPCA {ppca[k]:.2f})",
                flush=True,
            )
            rows += [
                dict(data=name, model=f"VAE {label}", k=k, seed=s, score=r[0], sec=r[1])
                for s, r in zip(args.seeds, runs, strict=True)
            ]
    report(args, rows)


def digits(args):
    from sklearn.datasets import load_digits

    X = load_digits().data / 16.0
    settings = {"defaults": {}, "max_iter=1000": {"max_iter": 1000}}
    settings = {k: v for k, v in settings.items() if k in args.settings}
    likelihood_table("digits", X[:1500], X[1500:], args, settings)


def mnist_gaussian(args):
    n_train = 10_000 if args.n_train is None else args.n_train
    X_train, _, X_test, _ = load_images(args.data, n_train, args.n_test)
    likelihood_table("MNIST", X_train, X_test, args, {"defaults": {}}, gmm=args.gmm)


# ----------------------------------------------------------------------
# Binarized MNIST: skae against a minimal loop


def _linear(n_in, n_out, generator):
    layer = nn.utils.skip_init(nn.Linear, n_in, n_out)
    bound = 1.0 / math.sqrt(n_in)
    nn.init.uniform_(layer.weight, -bound, bound, generator=generator)
    nn.init.zeros_(layer.bias)
    return layer


def _mlp(widths, generator):
    layers = []
    for n_in, n_out in zip(widths[:-1], widths[1:], strict=True):
        layers += [_linear(n_in, n_out, generator), nn.Tanh()]
    return layers


class MinimalVAE(nn.Module):
    """784-200-200-(50 mean, 50 log-variance) encoder, mirrored logit decoder."""

    def __init__(self, seed):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.body = nn.Sequential(*_mlp([784, *HIDDEN], generator))
        self.mean = _linear(HIDDEN[-1], CODE, generator)
        self.log_var = _linear(HIDDEN[-1], CODE, generator)
        self.decoder = nn.Sequential(
            *_mlp([CODE, *HIDDEN[::-1]], generator), _linear(HIDDEN[0], 784, generator)
        )

    def encode(self, x):
        h = self.body(x)
        return self.mean(h), self.log_var(h).clamp(-12.0, 8.0)


def minimal_loss(net, batch, generator):
    mean, log_var = net.encode(batch)
    eps = torch.randn(mean.shape, generator=generator)
    logits = net.decoder(mean + torch.exp(0.5 * log_var) * eps)
    n = batch.shape[0]
    nll = F.binary_cross_entropy_with_logits(logits, batch, reduction="sum") / n
    kl = 0.5 * (mean.square() + log_var.exp() - 1 - log_var).sum() / n
    return nll + kl


def minimal_fit(X, epochs, seed, epoch_times=None):
    """The reference loop; appends (wall, cpu) seconds per epoch."""
    net = MinimalVAE(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=LR, fused=True)
    generator = torch.Generator().manual_seed(seed + 1)
    X = torch.from_numpy(X)
    for _ in range(epochs):
        wall, cpu = time.perf_counter(), time.process_time()
        order = torch.randperm(X.shape[0], generator=generator)
        for start in range(0, X.shape[0], BATCH):
            loss = minimal_loss(net, X[order[start : start + BATCH]], generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if epoch_times is not None:
            epoch_times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return net.eval()


def skae_model(epochs, seed, **params):
    from skae import VariationalAutoencoder

    return VariationalAutoencoder(
        CODE,
        likelihood="bernoulli",
        hidden_layer_sizes=HIDDEN,
        activation="tanh",
        learning_rate_init=LR,
        batch_size=BATCH,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs,
        n_importance_samples=500,
        random_state=seed,
        device="cpu",
        **params,
    )


def skae_fit(X, epochs, seed, **params):
    model = skae_model(epochs, seed, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(X)
    return model


def _skae_halves(model):
    module = model._network.module
    return (lambda x: module.encode(x)[1:]), module.decode_parameters


@torch.no_grad()
def evaluate(encode, decode, X, n_importance=500, n_elbo=10, seed=0, rows=20):
    """Test NLL (importance-weighted bound) and negative ELBO, in nats."""
    generator = torch.Generator().manual_seed(seed)
    X = torch.from_numpy(X)
    log_2pi = math.log(2 * math.pi)
    nll = []
    for start in range(0, X.shape[0], rows):
        x = X[start : start + rows]
        mean, log_var = encode(x)
        eps = torch.randn((n_importance, *mean.shape), generator=generator)
        z = mean + torch.exp(0.5 * log_var) * eps
        logits = decode(z)
        log_px = -F.binary_cross_entropy_with_logits(
            logits, x.expand_as(logits), reduction="none"
        ).sum(-1)
        log_pz = (-0.5 * (log_2pi + z.double() ** 2)).sum(-1)
        log_qz = (-0.5 * (log_2pi + log_var.double() + eps.double() ** 2)).sum(-1)
        weights = log_px.double() + log_pz - log_qz
        nll.append(-(torch.logsumexp(weights, 0) - math.log(n_importance)))
    elbos = []
    for _ in range(n_elbo):
        mean, log_var = encode(X)
        eps = torch.randn(mean.shape, generator=generator)
        logits = decode(mean + torch.exp(0.5 * log_var) * eps)
        rec = F.binary_cross_entropy_with_logits(logits, X, reduction="sum")
        kl = 0.5 * (mean.square() + log_var.exp() - 1 - log_var).sum()
        elbos.append(float((rec + kl) / X.shape[0]))
    return float(torch.cat(nll).mean()), float(np.mean(elbos))


def binarized_data(args):
    X_train, _, X_test, _ = load_images(args.data, args.n_train, N_TEST_BINARIZED)
    return (X_train > 0.5).astype(np.float32), (X_test > 0.5).astype(np.float32)


def binarized(args):
    X_train, X_test = binarized_data(args)
    print(
        f"binarized MNIST: train {X_train.shape}, test {X_test.shape}, "
        f"{args.epochs} epochs, batch {BATCH}; {machine()}",
        flush=True,
    )
    contenders = ["skae"] if args.recommended else args.contenders
    params = {"learning_rate": "cosine"} if args.recommended else {}
    rows = []
    for seed in args.seeds:
        for name in contenders:
            wall, cpu = time.perf_counter(), time.process_time()
            if name == "loop":
                net = minimal_fit(X_train, args.epochs, seed)
                halves = (net.encode, net.decoder)
            else:
                model = skae_fit(X_train, args.epochs, seed, **params)
                halves = _skae_halves(model)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            nll, neg_elbo = evaluate(*halves, X_test)
            row = dict(
                part="binarized",
                contender=name + (" cosine" if args.recommended else ""),
                epochs=args.epochs,
                seed=seed,
                nll=nll,
                neg_elbo=neg_elbo,
                wall=wall,
                cpu=cpu,
            )
            if name == "skae":
                row["skae_score_nll"] = -model.score(X_test)
                row["active_units"] = int(model.active_components_.sum())
            print(json.dumps(row), flush=True)
            rows.append(row)
    for name in {r["contender"] for r in rows}:
        mine = [r for r in rows if r["contender"] == name]
        print(
            f"{name}: test NLL {np.mean([r['nll'] for r in mine]):.2f}, "
            f"-ELBO {np.mean([r['neg_elbo'] for r in mine]):.2f} "
            f"(mean of seeds {args.seeds}); {np.mean([r['wall'] for r in mine]):.0f} s "
            f"wall, {np.mean([r['cpu'] for r in mine]):.0f} s CPU per fit",
            flush=True,
        )
    report(args, rows)


# ----------------------------------------------------------------------
# Fit time per epoch


def timing(args):
    import skae._training as training

    X_train, _ = binarized_data(args)
    print(
        f"binarized MNIST {X_train.shape}, {args.epochs} epochs x {args.rounds} "
        f"rounds (+{args.warmup} warm-up); {machine()}",
        flush=True,
    )
    epochs = {"loop": [], "skae": []}
    # (wall, CPU) of each whole fit, and of the sum of its epochs.
    fits = {"loop": [], "skae": []}
    real_one_epoch = training._one_epoch

    def timed_one_epoch(run, X):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return real_one_epoch(run, X)
        finally:
            times.append((time.perf_counter() - wall, time.process_time() - cpu))

    training._one_epoch = timed_one_epoch
    for round_ in range(args.warmup + args.rounds):
        order = ["loop", "skae"] if round_ % 2 == 0 else ["skae", "loop"]
        for name in order:
            times = []
            wall, cpu = time.perf_counter(), time.process_time()
            if name == "loop":
                minimal_fit(X_train, args.epochs, seed=0, epoch_times=times)
            else:
                skae_fit(X_train, args.epochs, seed=0)
            fit = (time.perf_counter() - wall, time.process_time() - cpu)
            if round_ >= args.warmup:
                epochs[name] += times
                in_epochs = tuple(sum(t[i] for t in times) for i in (0, 1))
                fits[name].append((fit, in_epochs))
            print(
                f"  round {round_ + 1} {name}: fit {fit[0]:.2f} s wall, "
                f"{fit[1]:.2f} s CPU; epochs "
                + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in times),
                flush=True,
            )
    training._one_epoch = real_one_epoch
    rows = []
    for kind, index in (("wall", 0), ("CPU", 1)):
        loop = statistics.median(t[index] for t in epochs["loop"])
        ours = statistics.median(t[index] for t in epochs["skae"])
        fixed = statistics.median(
            fit[index] - in_epochs[index] for fit, in_epochs in fits["skae"]
        )
        print(
            f"{kind}: s per epoch, median: loop {loop:.3f}, skae {ours:.3f}, "
            f"ratio {ours / loop:.3f}; skae fixed cost per fit {fixed:.2f} s"
        )
        rows.append(dict(part="timing", kind=kind, loop=loop, skae=ours, fixed=fixed))
    report(args, rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "part", choices=["digits", "mnist-gaussian", "binarized", "timing"]
    )
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA / "mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--n-importance", type=int, default=None)
    parser.add_argument("--settings", nargs="+", default=["defaults", "max_iter=1000"])
    parser.add_argument(
        "--n-train", type=int, default=None, help="training rows (mnist-gaussian: 10k)"
    )
    parser.add_argument("--n-test", type=int, default=2_000)
    parser.add_argument("--gmm", action="store_true", help="MNIST: add the mixture")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--contenders", nargs="+", default=["loop", "skae"])
    parser.add_argument("--recommended", action="store_true")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None, help="append JSON rows to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.n_importance is None:
        args.n_importance = 1000 if args.part == "digits" else 500
    {
        "digits": digits,
        "mnist-gaussian": mnist_gaussian,
        "binarized": binarized,
        "timing": timing,
    }[args.part](args)


if __name__ == "__main__":
    main()
