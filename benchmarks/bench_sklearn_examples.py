"""Two of scikit-learn's model-selection examples, with skae put in.

``reduction``: "Selecting dimensionality reduction with Pipeline and
GridSearchCV" with :class:`~skae.AutoencoderTransformer` as the reduction
step: ``MinMaxScaler``, the autoencoder (``n_components`` 2, 4, 8) and a
``LinearSVC`` (``C`` 1, 10, 100, 1000) on ``load_digits``, 5-fold, ``n_jobs=1``,
60 autoencoder fits and the refit. The same search is then timed as
``HalvingGridSearchCV`` and with the pipeline's ``memory`` set, as the
example's own second half does: the autoencoder of one fold and width is
then trained once and loaded for the other three values of ``C``.

``vae``: the data of "Model selection with Probabilistic PCA and Factor
Analysis" (500 rows, 50 features of rank 10, with homoscedastic and with
heteroscedastic noise), scored by the 5-fold cross-validated log-likelihood
of :class:`~skae.VariationalAutoencoder` at widths 5, 10, ..., 50: 100 fits.

Every model runs with skae's defaults (and ``random_state=0``). The times
include scikit-learn's own work; warnings are counted, not shown.

Usage::

    python benchmarks/bench_sklearn_examples.py [reduction] [vae]
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import argparse
import tempfile
import time
import warnings

import numpy as np
from scipy import linalg
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    cross_val_score,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import LinearSVC

from skae import AutoencoderTransformer, VariationalAutoencoder

REDUCTION_GRID = {
    "reduce_dim__n_components": [2, 4, 8],
    "classify__C": [1, 10, 100, 1000],
}
VAE_WIDTHS = range(5, 55, 5)


def reduction_pipeline(memory=None):
    return Pipeline(
        [
            ("scaling", MinMaxScaler()),
            ("reduce_dim", AutoencoderTransformer(random_state=0)),
            ("classify", LinearSVC(dual=False, max_iter=10_000)),
        ],
        memory=memory,
    )


def timed(run):
    """``(seconds, result, ConvergenceWarnings raised)`` of ``run()``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
    n_warnings = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, result, n_warnings


def reduction():
    X, y = load_digits(return_X_y=True)
    searches = {
        "GridSearchCV": lambda: GridSearchCV(reduction_pipeline(), REDUCTION_GRID),
        "HalvingGridSearchCV": lambda: HalvingGridSearchCV(
            reduction_pipeline(), REDUCTION_GRID, random_state=0
        ),
    }
    print("# 'Selecting dimensionality reduction', 60 autoencoder fits and the refit")
    print(f"{'search':<32} {'seconds':>8} {'best CV':>8} {'warnings':>9}")
    for name, make in searches.items():
        seconds, search, n_warnings = timed(lambda make=make: make().fit(X, y))
        print(f"{name:<32} {seconds:8.0f} {search.best_score_:8.3f} {n_warnings:9d}")
    with tempfile.TemporaryDirectory() as cache:
        search = GridSearchCV(reduction_pipeline(memory=cache), REDUCTION_GRID)
        seconds, search, n_warnings = timed(lambda: search.fit(X, y))
    name = "GridSearchCV, Pipeline(memory=)"
    print(f"{name:<32} {seconds:8.0f} {search.best_score_:8.3f} {n_warnings:9d}")


def low_rank_data():
    """The example's two tables, with 50 features of rank 10."""
    n_samples, n_features, rank, sigma = 500, 50, 10, 1.0
    rng = np.random.RandomState(42)
    U, _, _ = linalg.svd(rng.randn(n_features, n_features))
    X = rng.randn(n_samples, rank) @ U[:, :rank].T
    homoscedastic = X + sigma * rng.randn(n_samples, n_features)
    sigmas = sigma * rng.rand(n_features) + sigma / 2.0
    heteroscedastic = X + rng.randn(n_samples, n_features) * sigmas
    return {"homoscedastic": homoscedastic, "heteroscedastic": heteroscedastic}


def vae():
    print("# 'Probabilistic PCA and Factor Analysis' data, 5-fold VAE scores")
    print(f"{'noise':<16} " + " ".join(f"{w:>7d}" for w in VAE_WIDTHS) + "  seconds")
    total = 0.0
    for name, X in low_rank_data().items():

        def scores(X=X):
            return [
                cross_val_score(VariationalAutoencoder(w, random_state=0), X).mean()
                for w in VAE_WIDTHS
            ]

        seconds, means, n_warnings = timed(scores)
        total += seconds
        row = " ".join(f"{m:7.2f}" for m in means)
        print(f"{name:<16} {row} {seconds:8.0f}  ({n_warnings} warnings)")
    print(f"{2 * len(VAE_WIDTHS) * 5} fits in {total:.0f} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    examples = {"reduction": reduction, "vae": vae}
    parser.add_argument("examples", nargs="*", help="reduction, vae (default: both)")
    args = parser.parse_args(argv)
    unknown = set(args.examples) - set(examples)
    if unknown:
        parser.error(f"unknown {sorted(unknown)}; choose from {list(examples)}")
    for example in args.examples or examples:
        examples[example]()


if __name__ == "__main__":
    main()
