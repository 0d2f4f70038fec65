"""AdversarialAutoencoder: do the codes fill the prior, do samples look like data?

Tune on scikit-learn's digits (``--data digits``) and Fashion-MNIST
(``--data fashion``), report on MNIST (the default, from
``../shared/data/mnist``). Five measures:

- ``codes``: the squared MMD (Gaussian kernel, median bandwidth, unbiased)
  between the codes of held-out rows and as many prior draws, and the
  per-dimension Kolmogorov-Smirnov statistics against N(0, 1), for the
  adversarial autoencoder with ``prior='normal'`` against the
  ``VariationalAutoencoder``'s posterior means, same code width;
- ``samples``: a ``LogisticRegression`` trained on the real training rows
  classifies decoded prior draws: the mean top-class probability (how
  digit-like a sample is) and the entropy of the predicted-class histogram
  (``log 10 = 2.30`` when every class is drawn alike); the adversarial
  autoencoder, the VAE (decoder means at prior draws) and a plain
  autoencoder whose codes are drawn from a Gaussian fitted to its training
  codes; and the Parzen-window log-likelihood of the test rows under the
  samples (Makhzani et al.'s Table 1 measure; bandwidth chosen on a
  validation split);
- ``labels``: 1,000 labelled training rows (100 a class), the others
  ``-1``; ``prior='mixture'`` with 10 components, 2-d and 8-d codes: the
  accuracy of the nearest component on the unlabelled rows, against
  ``LabelSpreading(kernel='knn')`` on the same labels and a
  ``LogisticRegression`` on ``PCA(50)`` of the labelled rows;
- ``cost``: seconds per epoch against an ``AutoencoderTransformer`` of the
  same shape and against a minimal hand-written adversarial autoencoder
  loop in torch (same network, same three phases, resident data, fused
  Adam), alternating, medians; an epoch is what a fit's extra epochs cost,
  its one-off work reported apart, and skae is timed with its own thread
  choice and on the loop's threads.

Usage::

    python benchmarks/bench_adversarial.py [DATA_DIR] [--data mnist|digits]
        [--measures codes samples labels cost] [--epochs 50] [--seed 0]
        [--label-codes 2 8] [--no-baselines] [--set name=value ...]
"""

import argparse
import itertools
import math
import statistics
import time
import warnings

import numpy as np
import torch
from _mnist import DEFAULT_DATA, load_images
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.semi_supervised import LabelSpreading
from torch import nn

from skae import AdversarialAutoencoder, AutoencoderTransformer, VariationalAutoencoder


def load(args):
    """Training, validation and test rows in [0, 1], with labels."""
    if args.data == "digits":
        X, y = load_digits(return_X_y=True)
        X = (X / 16.0).astype(np.float32)
        order = np.random.default_rng(0).permutation(len(X))
        X, y = X[order], y[order]
        return X[:1200], y[:1200], X[1200:1500], y[1200:1500], X[1500:], y[1500:]
    path = args.path
    if args.data == "fashion":
        path = DEFAULT_DATA / "fashion-mnist"
    X, y, X_test, y_test = load_images(path)
    return X[:55000], y[:55000], X[55000:], y[55000:], X_test, y_test


def settings(args, k, **params):
    return dict(
        n_components=k,
        hidden_layer_sizes=tuple(args.hidden),
        max_iter=args.epochs,
        random_state=args.seed,
        **params,
    )


def adversarial(args, k, **params):
    """The adversarial autoencoder, with the ``--set`` parameters."""
    return AdversarialAutoencoder(**settings(args, k, **params), **args.set)


def fit_quietly(estimator, *fit_args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        estimator.fit(*fit_args)
    return estimator, time.perf_counter() - start


# ----------------------------------------------------------------------
# Measures


def mmd2(a, b, rng, n=2000):
    """Unbiased squared MMD, Gaussian kernel with the median-distance bandwidth."""
    a = a[rng.choice(len(a), min(n, len(a)), replace=False)]
    b = b[rng.choice(len(b), min(n, len(b)), replace=False)]
    both = np.vstack([a, b])
    squared = ((both[:, None] - both[None]) ** 2).sum(-1)
    bandwidth = np.median(squared[np.triu_indices(len(both), 1)])
    kernel = np.exp(-squared / bandwidth)
    n_a = len(a)
    kaa, kbb, kab = kernel[:n_a, :n_a], kernel[n_a:, n_a:], kernel[:n_a, n_a:]
    mean_off = lambda k: (k.sum() - np.trace(k)) / (len(k) * (len(k) - 1))  # noqa: E731
    return mean_off(kaa) + mean_off(kbb) - 2 * kab.mean()


def ks_statistics(codes):
    return [stats.kstest(codes[:, j], "norm").statistic for j in range(codes.shape[1])]


def parzen_log_likelihood(samples, X, sigma, chunk=500):
    """Mean log-density of ``X`` under a Gaussian Parzen window on ``samples``."""
    s = torch.as_tensor(samples, dtype=torch.float64)
    d = s.shape[1]
    total = 0.0
    for start in range(0, len(X), chunk):
        x = torch.as_tensor(X[start : start + chunk], dtype=torch.float64)
        squared = torch.cdist(x, s).square()
        log_kernel = -squared / (2 * sigma**2)
        total += float(torch.logsumexp(log_kernel, dim=1).sum())
    norm = math.log(len(samples)) + 0.5 * d * math.log(2 * math.pi * sigma**2)
    return total / len(X) - norm


def sample_quality(samples, classifier):
    proba = classifier.predict_proba(samples)
    top = proba.max(axis=1).mean()
    counts = np.bincount(proba.argmax(axis=1), minlength=proba.shape[1])
    share = counts / counts.sum()
    entropy = -(share[share > 0] * np.log(share[share > 0])).sum()
    return top, entropy


# ----------------------------------------------------------------------
# The five measures


def measure_codes(args, data, k=8):
    X, _, _, _, X_test, _ = data
    rng = np.random.default_rng(args.seed)
    prior = rng.standard_normal((len(X_test), k))
    aae, t_aae = fit_quietly(adversarial(args, k), X)
    vae, t_vae = fit_quietly(VariationalAutoencoder(**settings(args, k)), X)
    print(f"\ncodes ({k}-d), held-out rows against N(0, I) draws")
    for name, model, seconds in (("adversarial", aae, t_aae), ("VAE", vae, t_vae)):
        codes = model.transform(X_test)
        ks = ks_statistics(codes)
        print(
            f"  {name:<12} MMD^2 {mmd2(codes, prior, rng):.4f}  KS mean "
            f"{np.mean(ks):.3f} max {np.max(ks):.3f}  fit {seconds:.0f} s"
        )
    return aae, vae


def measure_samples(args, data, k=8, models=None):
    X, y, X_val, _, X_test, _ = data
    aae, vae = models or (None, None)
    if aae is None:
        aae, _ = fit_quietly(adversarial(args, k), X)
        vae, _ = fit_quietly(VariationalAutoencoder(**settings(args, k)), X)
    plain, _ = fit_quietly(AutoencoderTransformer(**settings(args, k)), X)
    classifier = LogisticRegression(max_iter=1000).fit(X, y)
    rng = np.random.default_rng(args.seed + 1)
    n = args.n_samples
    codes = plain.transform(X)
    fitted = rng.multivariate_normal(codes.mean(0), np.cov(codes.T), size=n)
    draws = rng.standard_normal((n, k))
    samples = {
        "adversarial": aae.sample(n, random_state=args.seed),
        "VAE (means)": vae.inverse_transform(draws.astype(X.dtype)),
        "plain + Gaussian": plain.inverse_transform(fitted.astype(X.dtype)),
    }
    print(f"\nsamples ({n}), LogisticRegression trained on the real rows")
    for name, rows in samples.items():
        top, entropy = sample_quality(rows, classifier)
        sigmas = [0.05, 0.1, 0.15, 0.2, 0.3]
        val = [parzen_log_likelihood(rows, X_val[:1000], s) for s in sigmas]
        sigma = sigmas[int(np.argmax(val))]
        test = parzen_log_likelihood(rows, X_test, sigma)
        print(
            f"  {name:<17} top-class p {top:.3f}  class entropy {entropy:.3f}  "
            f"Parzen {test:.1f} nats (sigma {sigma})"
        )
    top, entropy = sample_quality(X_test, classifier)
    print(
        f"  {'real test rows':<17} top-class p {top:.3f}  class entropy {entropy:.3f}"
    )


def measure_labels(args, data):
    X, y, _, _, _, _ = data
    rng = np.random.default_rng(args.seed)
    per_class = 10 if args.data == "digits" else 100
    labelled = np.concatenate(
        [
            rng.choice(np.flatnonzero(y == c), per_class, replace=False)
            for c in range(10)
        ]
    )
    y_partial = np.full_like(y, -1)
    y_partial[labelled] = y[labelled]
    hidden = y_partial == -1
    print(
        f"\nlabels: {len(labelled)} labelled rows, accuracy on the other {hidden.sum()}"
    )
    for k in args.label_codes:
        aae, seconds = fit_quietly(adversarial(args, k, prior="mixture"), X, y_partial)
        codes = aae.transform(X)
        distances = ((codes[:, None] - aae.component_means_[None]) ** 2).sum(-1)
        predicted = aae.classes_[distances.argmin(1)]
        accuracy = (predicted[hidden] == y[hidden]).mean()
        print(
            f"  adversarial, {k}-d mixture  {accuracy:.3f}  ({seconds:.0f} s; "
            f"labelled rows nearest their component {aae.label_agreement_:.3f})"
        )
    if args.no_baselines:
        return
    start = time.perf_counter()
    spreading = LabelSpreading(kernel="knn", n_neighbors=7, max_iter=100).fit(
        X, y_partial
    )
    accuracy = (spreading.transduction_[hidden] == y[hidden]).mean()
    seconds = time.perf_counter() - start
    print(f"  LabelSpreading(knn)         {accuracy:.3f}  ({seconds:.0f} s)")
    pca = PCA(50, random_state=args.seed).fit(X[labelled])
    logistic = LogisticRegression(max_iter=2000).fit(
        pca.transform(X[labelled]), y[labelled]
    )
    accuracy = (logistic.predict(pca.transform(X[hidden])) == y[hidden]).mean()
    print(f"  LogisticRegression(PCA(50)) {accuracy:.3f}")


def minimal_aae_epoch(X, k, hidden, batch, generator):
    """A minimal hand-written adversarial autoencoder: one epoch's closure."""
    widths = [X.shape[1], *hidden]
    encoder, decoder = [], []
    for a, b in itertools.pairwise(widths):
        encoder += [nn.Linear(a, b), nn.ELU()]
    encoder.append(nn.Linear(widths[-1], k))
    for a, b in itertools.pairwise([k, *hidden[::-1]]):
        decoder += [nn.Linear(a, b), nn.ELU()]
    decoder.append(nn.Linear(widths[1] if hidden else k, X.shape[1]))
    encoder, decoder = nn.Sequential(*encoder), nn.Sequential(*decoder)
    critic = nn.Sequential(
        nn.Linear(k, 64),
        nn.LeakyReLU(0.01),
        nn.Linear(64, 64),
        nn.LeakyReLU(0.01),
        nn.Linear(64, 1),
    )
    autoencoder = [*encoder.parameters(), *decoder.parameters()]
    opt_ae = torch.optim.Adam(autoencoder, lr=1e-3, fused=True)
    opt_d = torch.optim.Adam(critic.parameters(), lr=1e-3, fused=True)
    opt_g = torch.optim.Adam(encoder.parameters(), lr=1e-3, fused=True)
    bce = nn.functional.binary_cross_entropy_with_logits
    data = torch.from_numpy(X)

    def epoch():
        order = torch.randperm(len(data), generator=generator)
        for start in range(0, len(data), batch):
            x = data[order[start : start + batch]]
            loss = nn.functional.mse_loss(decoder(encoder(x)), x)
            opt_ae.zero_grad(set_to_none=True)
            loss.backward()
            opt_ae.step()
            codes = encoder(x)
            real = critic(torch.randn(len(x), k, generator=generator))
            fake = critic(codes.detach())
            d_loss = bce(real, torch.ones_like(real)) + bce(
                fake, torch.zeros_like(fake)
            )
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            fooled = critic(codes)
            g_loss = bce(fooled, torch.ones_like(fooled))
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()

    return epoch


def fit_seconds(make, X, epochs):
    """Seconds of an ``epochs``-epoch fit of ``make(epochs)`` on ``X``."""
    return fit_quietly(make(epochs), X)[1]


def measure_cost(args, data, k=8, epochs=4, rounds=7):
    """Seconds per epoch, and each fit's fixed cost, against the minimal loop.

    A contender's epoch is the difference between an ``epochs``-epoch fit and
    a 1-epoch fit, over ``epochs - 1``: what one more epoch costs, without
    the fit's one-off work (the column statistics, the codes' check), which
    is reported apart. skae runs a network this small on one thread
    (:mod:`skae._threads`); it is timed both so and on as many threads as
    the loop's torch uses.
    """
    X = data[0]
    threads = torch.get_num_threads()

    def maker(cls, **extra):
        def make(n):
            params = dict(settings(args, k), max_iter=n, tol=0.0, n_iter_no_change=n)
            return cls(**params, **extra)

        return make

    contenders = {
        "adversarial": maker(AdversarialAutoencoder),
        f"adversarial, {threads} threads": maker(
            AdversarialAutoencoder, n_threads=threads
        ),
        "plain autoencoder": maker(AutoencoderTransformer),
    }
    generator = torch.Generator().manual_seed(0)
    loop = minimal_aae_epoch(X, k, tuple(args.hidden), 200, generator)
    per_epoch = {name: [] for name in [*contenders, "minimal loop"]}
    fixed = {name: [] for name in contenders}
    for round_ in range(rounds + 1):
        seconds = {}
        for name, make in contenders.items():
            one = fit_seconds(make, X, 1)
            many = fit_seconds(make, X, epochs)
            seconds[name] = (
                (many - one) / (epochs - 1),
                one - (many - one) / (epochs - 1),
            )
        start = time.perf_counter()
        for _ in range(epochs):
            loop()
        seconds["minimal loop"] = (time.perf_counter() - start) / epochs, 0.0
        if round_:
            for name, (epoch, rest) in seconds.items():
                per_epoch[name].append(epoch)
                if name in fixed:
                    fixed[name].append(rest)
    base = per_epoch["minimal loop"]
    print(
        f"\ncost: seconds per epoch ({epochs}- and 1-epoch fits, medians of "
        f"{rounds} rounds; the loop on {threads} threads)"
    )
    for name, values in per_epoch.items():
        ratio = statistics.median(v / b for v, b in zip(values, base, strict=True))
        median = statistics.median(values)
        rest = (
            f"  fixed cost {statistics.median(fixed[name]):.2f} s"
            if name in fixed
            else ""
        )
        print(f"  {name:<22} {median:.3f} s  ratio to the loop {ratio:.3f}{rest}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=DEFAULT_DATA / "mnist")
    parser.add_argument(
        "--data", choices=["mnist", "fashion", "digits"], default="mnist"
    )
    parser.add_argument(
        "--measures", nargs="*", default=["codes", "samples", "labels", "cost"]
    )
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--hidden", type=int, nargs="*", default=[256])
    parser.add_argument("--n-samples", type=int, default=10000)
    parser.add_argument(
        "--label-codes",
        type=int,
        nargs="*",
        default=[2, 8],
        help="code widths of the labels measure",
    )
    parser.add_argument(
        "--no-baselines",
        action="store_true",
        help="labels measure: skip LabelSpreading and the logistic regression",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        help="parameters of the adversarial autoencoder, as name=value",
    )
    args = parser.parse_args()
    args.set = {k: eval(v) for k, v in (item.split("=", 1) for item in args.set)}
    data = load(args)
    print(
        f"{args.data}: {len(data[0])} training rows, hidden {args.hidden}, "
        f"{args.epochs} epochs, seed {args.seed}, torch {torch.__version__}"
    )
    models = None
    if "codes" in args.measures:
        models = measure_codes(args, data)
    if "samples" in args.measures:
        measure_samples(args, data, models=models)
    if "labels" in args.measures:
        measure_labels(args, data)
    if "cost" in args.measures:
        measure_cost(args, data)


if __name__ == "__main__":
    main()
