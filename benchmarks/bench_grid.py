"""H2O's architecture grid and sparsity grid on MNIST, with GridSearchCV.

The H2O chapter compares autoencoders given by their hidden layers (H2O lists
every hidden layer, the code layer included). In skae the same network is
``hidden_layer_sizes`` (the encoder's layers before the code) plus
``n_components`` (the code layer); the decoder mirrors the encoder:

============================  ======================  ================
H2O ``hidden``                ``hidden_layer_sizes``  ``n_components``
============================  ======================  ================
[100]                         ()                      100
[300, 100, 300]               (300,)                  100
[100, 50, 100]                (100,)                  50
[50]                          ()                      50
[250, 100, 50, 100, 250]      (250, 100)              50
============================  ======================  ================

All use Tanh, as in the chapter. GridSearchCV trains each on the MNIST training
images and scores it on the test images (a PredefinedSplit), so the test MSE
is minus ``mean_test_score`` and needs no labels or ``scoring``.

The sparsity grid follows the chapter's sparse autoencoder: 100 tanh codes
with ``sparsity='kl'`` over ``sparsity_weight`` in 0.01, 0.05, 0.1, 0.2 (0 is
the unpenalised model), reporting the mean code activation mapped to (0, 1) as
``(a + 1) / 2`` (the quantity the KL term drives toward ``sparsity_target``)
and the test reconstruction error.

Usage::

    python benchmarks/bench_grid.py [DATA_DIR] [--n-train 60000] [--epochs 10]
"""

import argparse
import time
import warnings

import numpy as np
from _mnist import DEFAULT_DATA, load_images
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, PredefinedSplit

from skae import AutoencoderTransformer

ARCHITECTURES = {
    "[100]": ((), 100),
    "[300, 100, 300]": ((300,), 100),
    "[100, 50, 100]": ((100,), 50),
    "[50]": ((), 50),
    "[250, 100, 50, 100, 250]": ((250, 100), 50),
}
SPARSITY_WEIGHTS = [0.0, 0.01, 0.05, 0.1, 0.2]


def architecture_grid(X, split, epochs):
    grid = [
        {"hidden_layer_sizes": [hidden], "n_components": [codes]}
        for hidden, codes in ARCHITECTURES.values()
    ]
    search = GridSearchCV(
        AutoencoderTransformer(activation="tanh", max_iter=epochs, random_state=0),
        grid,
        cv=split,
        refit=False,
    )
    search.fit(X)
    results = search.cv_results_
    print(f"\nArchitecture grid (tanh, {epochs} epochs)")
    print(f"{'H2O hidden':<28}{'skae (hidden, codes)':<24}{'test MSE':>10}{'fit s':>8}")
    for name, (hidden, codes) in ARCHITECTURES.items():
        i = next(
            j
            for j, p in enumerate(results["params"])
            if p["hidden_layer_sizes"] == hidden and p["n_components"] == codes
        )
        print(
            f"{name:<28}{str((hidden, codes)):<24}"
            f"{-results['mean_test_score'][i]:>10.5f}{results['mean_fit_time'][i]:>8.1f}"
        )
    print(f"best: {search.best_params_}")


def sparsity_grid(X_train, X_test, epochs, target):
    print(
        "\nSparsity grid (100 tanh codes, sparsity='kl', "
        f"target {target}, {epochs} epochs)"
    )
    print(f"{'sparsity_weight':<17}{'mean activation':>16}{'test MSE':>10}{'fit s':>8}")
    for weight in SPARSITY_WEIGHTS:
        model = AutoencoderTransformer(
            100,
            hidden_layer_sizes=(),
            activation="tanh",
            max_iter=epochs,
            sparsity="kl" if weight else None,
            sparsity_target=target,
            sparsity_weight=weight,
            random_state=0,
        )
        start = time.perf_counter()
        model.fit(X_train)
        seconds = time.perf_counter() - start
        activation = ((model.transform(X_test) + 1) / 2).mean()
        mse = -model.score(X_test)
        label = f"{weight}" + (" (none)" if weight == 0 else "")
        print(f"{label:<17}{activation:>16.4f}{mse:>10.5f}{seconds:>8.1f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=DEFAULT_DATA / "mnist")
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--target", type=float, default=0.05)
    parser.add_argument("--only", choices=["architecture", "sparsity"], default=None)
    args = parser.parse_args()
    X_train, _, X_test, _ = load_images(args.data, args.n_train)
    print(f"MNIST train {X_train.shape}, test {X_test.shape}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    if args.only != "sparsity":
        X = np.concatenate([X_train, X_test])
        split = PredefinedSplit(np.r_[np.full(len(X_train), -1), np.zeros(len(X_test))])
        architecture_grid(X, split, args.epochs)
    if args.only != "architecture":
        sparsity_grid(X_train, X_test, args.epochs, args.target)


if __name__ == "__main__":
    main()
