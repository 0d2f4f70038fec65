"""Convolutional networks (``image_shape``): denoising, outliers, VAE, speed.

Four parts, one per run (``--part``); each prints an aligned table and a line
saying where it ran (torch version, threads, cores, load average).

``denoise``
    Fashion-MNIST, the protocol of ``bench_denoise.py`` (whose loader, PCA
    rows and dense autoencoder this script imports): pixels in [0, 1], the
    test images with Gaussian noise sigma=0.3 clipped to [0, 1], every model
    trained on the clean training images (all 60,000 by default). Rows
    (``--models``): the noisy input, PCA with 32, 64 and 128 components
    (clipped to [0, 1], the best marked), ``dense`` (bench_denoise's
    ``DenoisingAutoencoder``), ``conv``: the same denoiser with
    ``image_shape=(28, 28), hidden_layer_sizes=()`` and a dense code of
    ``--n-components`` (64) units, and ``conv-map``: the same with
    ``n_components=None``, whose code is the last convolution's feature map
    (64 x 7 x 7): the network the denoiser's ``'auto'`` defaults build for
    images. Pass ``../shared/data/mnist`` as ``DATA_DIR`` to run the same
    protocol on MNIST (the defaults were chosen on Fashion-MNIST and
    digits, MNIST reports them). Mean per-image PSNR (dB, higher is
    better) on the ``--n-test`` first test images and fit seconds; autoencoder rows are
    means over ``--seeds``. Fit seconds are whole fits, the split of
    ``explained_variance_ratio_`` over the code units included (bounded by
    the network's cost since it took a minute for ``conv-map``'s 3,136
    units).
``detect``
    MNIST one digit at a time, the ``oneclass`` and ``contaminated``
    protocols of ``bench_image_outliers.py`` (its tasks, subsamples and
    scores are imported): ``conv`` is ``AutoencoderOutlierDetector(
    image_shape=(28, 28), random_state=seed)``, otherwise defaults;
    ``pca`` the reconstruction error of ``PCA(32)``; ``dense`` the detector
    with its defaults. ROC-AUC per digit, the mean over ``--digits``, and
    seconds per digit (fit and score). ``--protocol digits-demo`` is the
    demo's table (``examples/demo.py``): scikit-learn's digits 0-4 with 40
    digits 5-9 planted, fit and score the same rows; ``pca`` and ``dense``
    are the demo's ``StandardScaler`` pipelines (``PCA(0.5)``, the
    detector), ``conv`` the detector with ``image_shape=(8, 8)`` on the raw
    pixels and ``conv-scaled`` the same behind the demo's ``StandardScaler``.
``vae``
    Binarized MNIST, as ``bench_vae.py binarized`` (its data, model and
    evaluation are imported): ``VariationalAutoencoder(50,
    likelihood='bernoulli', hidden_layer_sizes=(200, 200), activation='tanh',
    batch_size=100)`` dense against the same with ``image_shape=(28, 28)``,
    the same seed and epochs (20); test NLL (importance-weighted bound,
    ``--n-importance`` draws) and negative ELBO in nats on the first
    ``--n-test`` (at most 2,000) test images, and fit seconds.
``speed``
    ``AutoencoderTransformer(32, hidden_layer_sizes=(), image_shape=(28,
    28), batch_size=128, max_iter=E, tol=0)`` (every epoch runs, shuffled)
    against a minimal hand-written loop on the *same* network: built by
    ``build_network`` from the estimator's recipe and input standardisation,
    initialised from the seed skae's fit starts from; the data resident as
    one tensor, a ``torch.randperm`` from a seeded generator per epoch,
    batches sliced by index, MSE loss, fused Adam at 1e-3. Both run side by
    side in one process, alternating (and alternating their order) for
    ``--warmup`` + ``--repeats`` rounds of E epochs, for each ``--n-train``
    (10,000 and 60,000 MNIST images). The table gives the median wall and
    CPU seconds per epoch (skae's epoch is everything its loop does per
    epoch, timed inside its fit), their ratios skae / loop, and skae's
    fixed cost per fit (the fit less its epochs). Then inference memory:
    the peak resident-set growth of ``transform`` on ``--memory-rows`` rows
    (10,000 and 60,000; freed heap handed back with glibc's ``malloc_trim``,
    the peak reset through ``/proc/self/clear_refs``, read from ``VmHWM``),
    against the output's size and what one unchunked forward pass would
    hold (rows x the widest layer): the growth less the output stays near
    one inference batch's worth, whatever the number of rows.

Usage::

    python benchmarks/bench_conv.py --part denoise [DATA_DIR] [--models conv]
        [--n-train N] [--n-test N] [--max-iter 30] [--seeds 0 1]
    python benchmarks/bench_conv.py --part detect [DATA_DIR]
        [--protocol oneclass|contaminated|digits-demo] [--digits 0 1]
        [--seeds 0 1 2] [--param n_rounds=1 --param conv_channels=16,32]
    python benchmarks/bench_conv.py --part vae [DATA_DIR] [--epochs 20]
    python benchmarks/bench_conv.py --part speed [DATA_DIR]
        [--n-train 10000 60000] [--epochs 3] [--repeats 5]

``DATA_DIR`` holds the original IDX ``.gz`` files (default: ``../shared/data/
fashion-mnist`` for ``denoise``, ``../shared/data/mnist`` otherwise,
relative to the repository root; ``digits-demo`` reads none).
``--param KEY=VALUE`` (repeatable; VALUE a Python literal, else a string)
adds or overrides a parameter of the convolutional estimators of every
part, e.g. ``conv_channels=16,32``, ``kernel_size=5``, ``n_components=None``;
``--max-iter`` (alias ``--epochs``) sets every skae estimator's epochs.
``--threads N`` calls ``torch.set_num_threads(N)``; otherwise torch's
default (``OMP_NUM_THREADS``) stands. On a CPU shared with other work set
``OMP_NUM_THREADS=1``, and run one part at a time, alone on the machine if
timings matter.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import ast
import contextlib
import ctypes
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _mnist import DEFAULT_DATA, load_images
from bench_denoise import load as load_fashion
from bench_denoise import make_autoencoder, pca_rows, timed_fit
from bench_image_outliers import TASKS, auc_table, pca_scores, skae_scores
from bench_vae import _skae_halves, binarized_data, evaluate, machine, skae_model
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_auc_score

MNIST_SHAPE = (28, 28)
DENOISE_MODELS = ("pca", "dense", "conv", "conv-map")
DETECT_MODELS = ("conv", "pca", "dense")
DEMO_MODELS = ("pca", "dense", "conv", "conv-scaled")
VAE_MODELS = ("dense", "conv")
# (rows allowed, rows run by default) of each part.
MODELS = {
    "denoise": (DENOISE_MODELS, DENOISE_MODELS),
    "detect": (DETECT_MODELS, ("conv", "pca")),
    "digits-demo": (DEMO_MODELS, DEMO_MODELS),
    "vae": (VAE_MODELS, VAE_MODELS),
}
# Epochs when --max-iter is not given (None: the estimator's default).
DEFAULT_EPOCHS = {"denoise": 30, "detect": None, "vae": 20, "speed": 3}
# The demo's outlier table (examples/demo.py, outlier_detection).
DEMO_OUTLIERS = 40
SPEED_CODE, SPEED_BATCH, SPEED_LR = 32, 128, 1e-3


def parse_params(items):
    """``KEY=VALUE`` strings as keyword arguments (values: Python literals,
    e.g. ``16,32`` is a tuple, ``None`` None; anything else a string)."""
    params = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.isidentifier():
            raise SystemExit(f"--param {item!r}: expected KEY=VALUE")
        try:
            params[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            params[key] = value
    return params


def one(values, name):
    """The single value of a list option (None when not given)."""
    if values is None:
        return None
    if len(values) != 1:
        raise SystemExit(f"{name} takes one value in this part, got {values}")
    return values[0]


def epochs_params(args):
    return {} if args.max_iter is None else {"max_iter": args.max_iter}


def print_table(header, rows, first=34, width=10):
    """Aligned columns: the first left-aligned, the others right-aligned."""
    print(f"{header[0]:<{first}}" + "".join(f"{h:>{width}}" for h in header[1:]))
    for row in rows:
        print(f"{row[0]:<{first}}" + "".join(f"{c:>{width}}" for c in row[1:]))


def fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


# ----------------------------------------------------------------------
# denoise


def conv_denoiser(args, seed, map_code):
    """bench_denoise's autoencoder made convolutional, seeded ``seed``."""
    dae = make_autoencoder(args.max_iter)
    conv = dict(
        image_shape=MNIST_SHAPE,
        hidden_layer_sizes=(),
        n_components=None if map_code else args.n_components,
        random_state=seed,
    )
    return dae.set_params(**{**conv, **args.params})


def denoise(args):
    from skae.metrics import psnr

    data = args.data or DEFAULT_DATA / "fashion-mnist"
    X_train, X_test, X_noisy = load_fashion(data, one(args.n_train, "--n-train"))
    X_test, X_noisy = X_test[: args.n_test], X_noisy[: args.n_test]
    print(
        f"{Path(data).name}: {X_train.shape[0]} clean training images, "
        f"{X_test.shape[0]} test images with Gaussian noise sigma=0.3; "
        f"{args.max_iter} epochs, seeds {args.seeds}; {machine()}",
        flush=True,
    )
    rows = [("noisy input", psnr(X_test, X_noisy, data_range=1.0), None, None)]
    # Fit seconds are the whole fit, explained_variance_ratio_ included.
    if "pca" in args.models:
        pca = pca_rows(X_train, X_test, X_noisy)
        best = max(pca, key=lambda row: row[1])
        for name, value, seconds in pca:
            mark = " (best PCA)" if name == best[0] else ""
            rows.append((name.split(",")[0] + mark, value, seconds, None))
    makers = {
        "dense": lambda seed: make_autoencoder(args.max_iter).set_params(
            random_state=seed
        ),
        "conv": lambda seed: conv_denoiser(args, seed, map_code=False),
        "conv-map": lambda seed: conv_denoiser(args, seed, map_code=True),
    }
    described = []
    for model in (m for m in DENOISE_MODELS if m in args.models and m in makers):
        values, seconds, epochs = [], [], []
        for seed in args.seeds:
            dae = makers[model](seed)
            seconds.append(timed_fit(dae, X_train))
            # Not clipped: the autoencoder's own output, as bench_denoise.
            values.append(psnr(X_test, dae.denoise(X_noisy), data_range=1.0))
            epochs.append(dae.n_iter_)
            print(f"  {model} seed {seed}: {values[-1]:.2f} dB, {seconds[-1]:.1f} s")
        code = dae._network.recipe.n_components
        name = {
            "dense": f"dense DAE (512, 256), code {code}",
            "conv": f"conv DAE, dense code {code}",
            "conv-map": f"conv DAE, feature-map code {code}",
        }[model]
        rows.append((name, np.mean(values), np.mean(seconds), np.mean(epochs)))
        if len(values) > 1:
            described.append(
                f"{name}: per seed " + ", ".join(f"{v:.2f}" for v in values)
            )
        described.append(f"{name}: {dae}")
    print()
    print_table(
        ("model", "PSNR dB", "fit s", "epochs"),
        [
            (name, fmt(value), fmt(seconds, 1), fmt(epochs, 0))
            for name, value, seconds, epochs in rows
        ],
        first=40,
    )
    print("\n" + "\n".join(described))


# ----------------------------------------------------------------------
# detect


def detect_mnist(args):
    data_dir = args.data or DEFAULT_DATA / "mnist"
    data = load_images(data_dir)
    conv = {"image_shape": MNIST_SHAPE, **epochs_params(args), **args.params}
    methods = {
        "conv": (lambda *a: skae_scores(*a, **conv), True),
        "pca": (pca_scores, False),
        "dense": (lambda *a: skae_scores(*a, **epochs_params(args)), True),
    }
    print(
        f"{args.protocol} protocol, {data_dir}, seeds {args.seeds}, "
        f"conv detector {conv}; {machine()}",
        flush=True,
    )
    n_train = one(args.n_train, "--n-train")
    chosen = {m: methods[m] for m in args.models}
    task = TASKS[args.protocol]
    auc_table(data, task, args.digits, chosen, args.seeds, n_train, args.n_test)


def demo_table():
    """The demo's rows: digits 0-4 and 40 planted 5-9, and which are planted.

    The construction of ``examples/demo.py``'s ``outlier_detection`` (not
    importable on its own: it also fits and prints), replicated exactly.
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    inliers = np.flatnonzero(y < 5)
    outliers = rng.choice(np.flatnonzero(y >= 5), DEMO_OUTLIERS, replace=False)
    rows = np.concatenate([inliers, outliers])
    return X[rows], np.r_[np.zeros(inliers.size), np.ones(DEMO_OUTLIERS)]


def detect_demo(args):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skae import AutoencoderOutlierDetector

    X, is_outlier = demo_table()
    conv = {"image_shape": (8, 8), **epochs_params(args), **args.params}

    def detector(seed, **params):
        return AutoencoderOutlierDetector(random_state=seed, **params)

    def pca_error(model, X):
        Z = model[:-1].transform(X)
        return ((model[-1].inverse_transform(model[-1].transform(Z)) - Z) ** 2).sum(1)

    def skae_error(model, X):
        return -model.score_samples(X)

    makers = {
        "pca": (lambda s: make_pipeline(StandardScaler(), PCA(0.5)), pca_error),
        "dense": (
            lambda s: make_pipeline(
                StandardScaler(), detector(s, **epochs_params(args))
            ),
            skae_error,
        ),
        "conv": (lambda s: detector(s, **conv), skae_error),
        "conv-scaled": (
            lambda s: make_pipeline(StandardScaler(), detector(s, **conv)),
            skae_error,
        ),
    }
    names = {
        "pca": "PCA(0.5) after StandardScaler",
        "dense": "dense detector after StandardScaler",
        "conv": "conv detector (8, 8), raw pixels",
        "conv-scaled": "conv detector after StandardScaler",
    }
    print(
        f"digits-demo: {int((is_outlier == 0).sum())} digits 0-4, "
        f"{DEMO_OUTLIERS} digits 5-9 planted (fit and score on all rows), "
        f"seeds {args.seeds}, conv detector {conv}; {machine()}",
        flush=True,
    )
    rows, notes = [], []
    for model in args.models:
        make, score = makers[model]
        aucs, seconds = [], []
        for seed in args.seeds if model != "pca" else args.seeds[:1]:
            estimator = make(seed)
            seconds.append(timed_fit(estimator, X))
            aucs.append(roc_auc_score(is_outlier, score(estimator, X)))
        rows.append((names[model], f"{np.mean(aucs):.3f}", f"{np.mean(seconds):.1f}"))
        if len(aucs) > 1:
            notes.append(
                f"{names[model]}: per seed " + ", ".join(f"{a:.3f}" for a in aucs)
            )
    print_table(("model", "ROC-AUC", "fit s"), rows, first=38)
    print("\n".join(notes))


def detect(args):
    if args.protocol == "digits-demo":
        detect_demo(args)
    else:
        detect_mnist(args)


# ----------------------------------------------------------------------
# vae


def vae(args):
    data_dir = args.data or DEFAULT_DATA / "mnist"
    source = argparse.Namespace(data=data_dir, n_train=one(args.n_train, "--n-train"))
    X_train, X_test = binarized_data(source)
    X_test = X_test[: args.n_test]
    print(
        f"binarized MNIST: train {X_train.shape}, test {X_test.shape}, "
        f"{args.max_iter} epochs, seeds {args.seeds}, {args.n_importance} "
        f"importance draws; {machine()}",
        flush=True,
    )
    variants = {"dense": {}, "conv": {"image_shape": MNIST_SHAPE, **args.params}}
    results = {}
    for model in args.models:
        for seed in args.seeds:
            # bench_vae's model; --param may override what it sets.
            estimator = skae_model(args.max_iter, seed).set_params(**variants[model])
            seconds = timed_fit(estimator, X_train)
            nll, neg_elbo = evaluate(
                *_skae_halves(estimator), X_test, n_importance=args.n_importance
            )
            recipe = estimator._network.recipe
            widths = [*recipe.hidden_layer_sizes, recipe.n_components]
            if recipe.image_shape is not None:
                widths.insert(0, f"conv {recipe.conv_channels}")
            name = "-".join(map(str, widths))
            results.setdefault(name, []).append((nll, neg_elbo, seconds))
            print(
                f"  {model} seed {seed}: NLL {nll:.2f}, -ELBO {neg_elbo:.2f}, "
                f"{seconds:.1f} s, {estimator.n_iter_} epochs, "
                f"{int(estimator.active_components_.sum())} active units",
                flush=True,
            )
    print()
    rows = []
    for name, runs in results.items():
        nll, neg_elbo, seconds = np.mean(runs, axis=0)
        rows.append((name, f"{nll:.2f}", f"{neg_elbo:.2f}", f"{seconds:.1f}"))
    print_table(("VariationalAutoencoder 784-", "test NLL", "-ELBO", "fit s"), rows)
    if "conv" in variants and args.params:
        print(f"conv parameters: {variants['conv']}")


# ----------------------------------------------------------------------
# speed


def speed_estimator(args, epochs):
    from skae import AutoencoderTransformer

    params = dict(
        hidden_layer_sizes=(),
        image_shape=MNIST_SHAPE,
        learning_rate_init=SPEED_LR,
        batch_size=SPEED_BATCH,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs,
        shuffle=True,
        random_state=0,
        device="cpu",
    )
    if args.threads is not None:
        params["n_threads"] = args.threads
    return AutoencoderTransformer(SPEED_CODE, **{**params, **args.params})


@contextlib.contextmanager
def timed_epochs(times):
    """Within the block, append (wall, cpu) seconds of each of skae's epochs."""
    import skae._training as training

    real = training._one_epoch

    def one_epoch(run, X):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return real(run, X)
        finally:
            times.append((time.perf_counter() - wall, time.process_time() - cpu))

    training._one_epoch = one_epoch
    try:
        yield
    finally:
        training._one_epoch = real


def skae_speed_fit(args, X, epochs, times):
    """A fit of the estimator; returns it and its (wall, cpu) seconds."""
    estimator = speed_estimator(args, epochs)
    wall, cpu = time.perf_counter(), time.process_time()
    with timed_epochs(times), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    return estimator, (time.perf_counter() - wall, time.process_time() - cpu)


def same_network(estimator):
    """A fresh copy of ``estimator``'s network, as its fit initialised it."""
    from skae._recipe import build_network
    from skae._seeds import Stream, derived_seed

    fitted = estimator._network.module
    shift = fitted.input_shift().double()
    scale = fitted.input_scale().double()
    module = build_network(estimator._network.recipe, shift, scale)
    # The generator skae's fit initialises its network from.
    init = derived_seed(estimator._seed, Stream.INIT)
    module.reset_parameters(torch.Generator().manual_seed(init))
    return module


def minimal_loop(module, X, epochs, times, batch_size, lr, seed=0):
    """The reference loop on ``module``; appends (wall, cpu) s per epoch."""
    optimizer = torch.optim.Adam(module.parameters(), lr=lr, fused=True)
    generator = torch.Generator().manual_seed(seed)
    module.train()
    for _ in range(epochs):
        wall, cpu = time.perf_counter(), time.process_time()
        order = torch.randperm(X.shape[0], generator=generator)
        for start in range(0, X.shape[0], batch_size):
            batch = X[order[start : start + batch_size]]
            loss = torch.nn.functional.mse_loss(module(batch).reconstruction, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return module.eval()


def speed_timing(args, X_all, epochs):
    """Rows of the timing table, one per --n-train; the last skae estimator."""
    rows, estimator = [], None
    for n in args.n_train:
        X = X_all[:n]
        X_tensor = torch.from_numpy(X)
        epoch_times = {"loop": [], "skae": []}
        fixed = []
        for round_ in range(args.warmup + args.repeats):
            # skae first in the first round: the loop copies its network.
            order = ["skae", "loop"] if round_ % 2 == 0 else ["loop", "skae"]
            for name in order:
                times = []
                if name == "skae":
                    estimator, fit = skae_speed_fit(args, X, epochs, times)
                else:
                    minimal_loop(
                        same_network(estimator),
                        X_tensor,
                        epochs,
                        times,
                        # The estimator's own, should --param change them.
                        estimator.batch_size_,
                        estimator.learning_rate_init,
                    )
                    fit = tuple(sum(t[i] for t in times) for i in (0, 1))
                print(
                    f"  n={n} round {round_ + 1} {name}: {fit[0]:.2f} s wall; "
                    "epochs " + ", ".join(f"{w:.2f}/{c:.2f}" for w, c in times),
                    flush=True,
                )
                if round_ < args.warmup:
                    continue
                epoch_times[name] += times
                if name == "skae":
                    fixed.append(fit[0] - sum(t[0] for t in times))
        medians = {
            name: [statistics.median(t[i] for t in ts) for i in (0, 1)]
            for name, ts in epoch_times.items()
        }
        loop, ours = medians["loop"], medians["skae"]
        rows.append(
            (
                f"{n}",
                f"{loop[0]:.3f}",
                f"{ours[0]:.3f}",
                f"{ours[0] / loop[0]:.3f}",
                f"{loop[1]:.3f}",
                f"{ours[1]:.3f}",
                f"{ours[1] / loop[1]:.3f}",
                f"{statistics.median(fixed):.2f}",
            )
        )
    return rows, estimator


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak_rss():
    """Reset the process's peak RSS (VmHWM) to its current RSS, if allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def trim_heap():
    """Give freed heap memory back to the system (glibc), so that RSS is what
    is in use: memory kept from earlier work would hide a peak's growth."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def peak_growth_mib(fn):
    """``fn()`` and the growth of the peak RSS during it, in MiB."""
    trim_heap()
    reset = reset_peak_rss()
    before = _status_kib("VmRSS")
    result = fn()
    return result, (_status_kib("VmHWM") - before) / 1024, reset


def speed_memory(args, estimator, X_all):
    from skae._data import inference_batch_size

    module = estimator._network.module
    widest = module.widest_activation()
    batch = inference_batch_size(widest)
    estimator.transform(X_all[:batch])  # warm up: lazy allocations and kernels
    rows, exact = [], True
    for n in args.memory_rows:
        X = np.ascontiguousarray(X_all[:n])
        codes, growth, reset = peak_growth_mib(lambda X=X: estimator.transform(X))
        exact &= reset
        out = codes.nbytes / 2**20
        del codes
        whole = n * widest * X.itemsize / 2**20
        rows.append(
            (
                f"{n}",
                f"{X.nbytes / 2**20:.0f}",
                f"{out:.1f}",
                f"{growth:.1f}",
                f"{growth - out:.1f}",
                f"{whole:.0f}",
            )
        )
    print(
        f"\ntransform: inference batches of {batch} rows (widest layer {widest} "
        f"numbers a row); peak RSS growth"
        + ("" if exact else " (peak NOT reset: a lifetime peak, may read 0)")
    )
    print_table(
        ("rows", "input MiB", "out MiB", "peak+ MiB", "less out", "unchunked"),
        rows,
        first=8,
        width=11,
    )


def speed(args):
    data_dir = args.data or DEFAULT_DATA / "mnist"
    args.n_train = args.n_train or [10_000, 60_000]
    n_max = max([*args.n_train, *args.memory_rows])
    X_all, _, _, _ = load_images(data_dir, n_max)
    epochs = args.max_iter
    print(
        f"MNIST, {epochs} epochs per fit, batch {SPEED_BATCH}, {args.warmup} "
        f"warm-up + {args.repeats} rounds; {machine()}",
        flush=True,
    )
    rows, estimator = speed_timing(args, X_all, epochs)
    print(f"\nnetwork: {estimator._network.recipe}")
    print(f"skae threads: {estimator.n_threads_}; {estimator}")
    print("seconds per epoch, medians (fixed: skae's fit less its epochs, wall)")
    print_table(
        (
            "n_train",
            "loop wall",
            "skae wall",
            "ratio",
            "loop CPU",
            "skae CPU",
            "ratio",
            "fixed s",
        ),
        rows,
        first=8,
    )
    if args.memory_rows:
        speed_memory(args, estimator, X_all)


# ----------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, default=None)
    parser.add_argument(
        "--part", required=True, choices=["denoise", "detect", "vae", "speed"]
    )
    parser.add_argument(
        "--protocol", choices=[*sorted(TASKS), "digits-demo"], default="oneclass"
    )
    parser.add_argument(
        "--models",
        nargs="+",
        default=None,
        help="rows to run (denoise: pca dense conv conv-map; detect: conv pca "
        "dense, digits-demo also conv-scaled; vae: dense conv)",
    )
    parser.add_argument(
        "--n-train", type=int, nargs="+", default=None, help="speed: a list"
    )
    parser.add_argument("--n-test", type=int, default=None)
    parser.add_argument(
        "--max-iter",
        "--epochs",
        dest="max_iter",
        type=int,
        default=None,
        help="epochs of every skae estimator (denoise 30, vae 20, speed 3; "
        "detect: the detector's default)",
    )
    parser.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter of the convolutional estimators (repeatable)",
    )
    parser.add_argument(
        "--n-components", type=int, default=64, help="denoise: the conv code"
    )
    parser.add_argument("--n-importance", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1, help="uncounted rounds")
    parser.add_argument(
        "--memory-rows",
        type=int,
        nargs="*",
        default=[10_000, 60_000],
        help="speed: rows transformed for the memory table (none: skip it)",
    )
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    args.params = parse_params(args.param)
    if args.max_iter is None:
        args.max_iter = DEFAULT_EPOCHS[args.part]
    demo = args.part == "detect" and args.protocol == "digits-demo"
    key = "digits-demo" if demo else args.part
    if args.part != "speed":
        allowed, default = MODELS[key]
        args.models = args.models or list(default)
        unknown = sorted(set(args.models) - set(allowed))
        if unknown:
            parser.error(f"--models {unknown} not in {list(allowed)} for {key}")
    if args.n_test is None and args.part in ("denoise", "vae"):
        args.n_test = {"denoise": 10_000, "vae": 2_000}[args.part]
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    {"denoise": denoise, "detect": detect, "vae": vae, "speed": speed}[args.part](args)


if __name__ == "__main__":
    main()
