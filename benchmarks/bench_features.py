"""Unsupervised features for a linear classifier: sparse and contractive codes.

Two parts:

``mnist`` (60k train / 10k test): StandardScaler + LogisticRegression(C=0.05,
max_iter=300) on (a) raw pixels, (b) PCA(50) codes, (c) a dense
autoencoder's codes, (d) k-sparse codes (1000 linear units, tied weights,
k = 50 in training, 150 at encoding: Makhzani & Frey's alpha = 3), (e)
winner-take-all lifetime-sparse codes (2000 ReLU units, tied, 5 %), (f)
contractive codes. Test accuracy, the seconds to fit the features and to
fit the classifier.

``digits-contractive`` (scikit-learn's digits, rows 0-1499 to train,
1500-1796 to test): the same network (64-100-16, sigmoid codes) with and
without the contractive penalty: mean squared Frobenius norm of the
Jacobian of the codes (w.r.t. the standardised input) on the test rows,
logistic-regression accuracy on the codes (C=1: 16 features need little
regularization), and seconds per epoch.

Usage::

    python benchmarks/bench_features.py [DATA_DIR] [--part mnist digits-contractive]
        [--contenders raw pca ...] [--seed 0]

Run alone: torch threads of two jobs on a small machine wait on each other.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import time
import warnings

import torch
from _mnist import DEFAULT_DATA, load_images
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

COMMON = dict(hidden_layer_sizes=(), batch_size=256, max_iter=10, tol=0.0)


def mnist_features(seed):
    """Name -> unfitted feature extractor (None: the raw pixels)."""
    return {
        "raw": None,
        "pca": PCA(50, random_state=seed),
        "dense": AutoencoderTransformer(
            50,
            hidden_layer_sizes=(256,),
            batch_size=256,
            max_iter=10,
            tol=0.0,
            random_state=seed,
        ),
        "ksparse": AutoencoderTransformer(
            1000,
            activation="identity",
            sparsity="topk",
            sparsity_k=50,
            sparsity_alpha=3.0,
            tied_weights=True,
            random_state=seed,
            **COMMON,
        ),
        "lifetime": AutoencoderTransformer(
            2000,
            activation="relu",
            sparsity="lifetime",
            sparsity_rate=0.05,
            tied_weights=True,
            random_state=seed,
            **COMMON,
        ),
        "contractive": AutoencoderTransformer(
            1000,
            activation="sigmoid",
            contractive_weight=0.1,
            tied_weights=True,
            random_state=seed,
            **COMMON,
        ),
    }


def classify(Z_train, y_train, Z_test, y_test, C=0.05):
    start = time.perf_counter()
    scaler = StandardScaler().fit(Z_train)
    classifier = LogisticRegression(C=C, max_iter=300)
    classifier.fit(scaler.transform(Z_train), y_train)
    accuracy = classifier.score(scaler.transform(Z_test), y_test)
    return accuracy, time.perf_counter() - start


def mnist(data, names, seed):
    X_train, y_train, X_test, y_test = load_images(data)
    print(
        f"MNIST {X_train.shape} / {X_test.shape}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads"
    )
    print(f"{'features':<12}{'accuracy':>10}{'features s':>12}{'classifier s':>14}")
    for name, extractor in mnist_features(seed).items():
        if name not in names:
            continue
        start = time.perf_counter()
        if extractor is None:
            Z_train, Z_test = X_train, X_test
        else:
            Z_train = extractor.fit_transform(X_train)
            Z_test = extractor.transform(X_test)
        seconds = time.perf_counter() - start
        accuracy, clf_seconds = classify(Z_train, y_train, Z_test, y_test)
        print(
            f"{name:<12}{accuracy:>10.4f}{seconds:>12.1f}{clf_seconds:>14.1f}",
            flush=True,
        )


def jacobian_norm(estimator, X):
    """Mean squared Frobenius norm of d codes / d standardised input."""
    x = torch.tensor(X, requires_grad=True)
    scale = 1.0 / estimator.encoder_[0].factor
    codes = estimator.encoder_(x)
    total = 0.0
    for j in range(codes.shape[1]):
        (grad,) = torch.autograd.grad(codes[:, j].sum(), x, retain_graph=True)
        total += float((grad * scale).square().sum())
    return total / X.shape[0]


def digits_contractive(seed, weights=(0.0, 0.01, 0.1, 1.0)):
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, y_train, X_test, y_test = X[:1500], y[:1500], X[1500:], y[1500:]
    print("\ndigits, 64-100-16 sigmoid codes, 200 epochs, batch 64")
    print(
        f"{'weight':<8}{'||J||_F^2':>12}{'accuracy':>10}{'test MSE':>10}"
        f"{'s/epoch':>9}{'ratio':>7}"
    )
    base = None
    for weight in weights:
        ae = AutoencoderTransformer(
            16,
            hidden_layer_sizes=(100,),
            activation="sigmoid",
            contractive_weight=weight,
            batch_size=64,
            max_iter=200,
            tol=0.0,
            random_state=seed,
        )
        start = time.perf_counter()
        ae.fit(X_train)
        per_epoch = (time.perf_counter() - start) / ae.n_iter_
        base = per_epoch if base is None else base
        # C=1 (scikit-learn's default): 16 codes need little regularisation.
        accuracy, _ = classify(
            ae.transform(X_train), y_train, ae.transform(X_test), y_test, C=1.0
        )
        mse = -ae.score(X_test)
        print(
            f"{weight:<8g}{jacobian_norm(ae, X_test):>12.4f}{accuracy:>10.4f}"
            f"{mse:>10.4f}{per_epoch:>9.3f}{per_epoch / base:>7.2f}",
            flush=True,
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA / "mnist")
    parser.add_argument("--part", nargs="*", default=["mnist", "digits-contractive"])
    parser.add_argument("--contenders", nargs="*", default=list(mnist_features(0)))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if "mnist" in args.part:
        mnist(args.data, args.contenders, args.seed)
    if "digits-contractive" in args.part:
        digits_contractive(args.seed)


if __name__ == "__main__":
    main()
