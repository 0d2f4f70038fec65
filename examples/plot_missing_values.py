"""
============================================
Imputing missing values with an autoencoder
============================================

The shape of scikit-learn's "Imputing missing values before building an
estimator": remove cells of a table at random, fill them in with each
imputer, and compare (1) how close the filled cells are to the removed ones
and (2) how well an estimator trained after the imputer predicts.
:class:`~skae.AutoencoderImputer` stands beside
:class:`~sklearn.impute.SimpleImputer`, :class:`~sklearn.impute.KNNImputer`
and :class:`~sklearn.impute.IterativeImputer`. Then multiple imputation
(``sample_posterior=True``), and an autoencoder that takes the NaN itself.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Two tables with a fifth of their cells removed
# ----------------------------------------------
# Each column is min-max scaled, so that errors are comparable across
# columns, and 20 % of the cells are removed completely at random.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, minmax_scale

from skae import AutoencoderImputer, AutoencoderTransformer

warnings.filterwarnings("ignore", category=ConvergenceWarning)

rng = np.random.RandomState(0)
tables = {}
for name, load in [("diabetes", load_diabetes), ("breast_cancer", load_breast_cancer)]:
    X, y = load(return_X_y=True)
    X = minmax_scale(X)
    X_missing = np.where(rng.rand(*X.shape) < 0.2, np.nan, X)
    tables[name] = X, X_missing, y

imputers = {
    "mean": lambda: SimpleImputer(),
    "k nearest": lambda: KNNImputer(n_neighbors=5, weights="distance"),
    "iterative": lambda: IterativeImputer(random_state=0),
    "autoencoder": lambda: AutoencoderImputer(random_state=0),
}

# %%
# How close are the filled cells to the removed ones?
# ---------------------------------------------------
# The RMSE over the removed cells only (observed cells are kept as they are
# by every imputer).
errors = {}
for name, (X, X_missing, _) in tables.items():
    removed = np.isnan(X_missing)
    for method, make in imputers.items():
        filled = make().fit_transform(X_missing)
        errors[name, method] = np.sqrt(np.mean((filled - X)[removed] ** 2))
        print(f"{name:>14} {method:>12}: RMSE {errors[name, method]:.3f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3), layout="constrained")
for ax, name in zip(axes, tables, strict=True):
    values = [errors[name, method] for method in imputers]
    ax.barh(list(imputers), values, color=["0.6"] * 3 + ["C0"])
    ax.set_title(name)
    ax.set_xlabel("RMSE on the removed cells")
    ax.invert_yaxis()

# %%
# The autoencoder learns the joint structure of the columns: it was trained
# to fill in cells it hid from itself (``noise_level`` of the observed ones,
# anew every epoch), with its loss on observed cells only. On these two
# small tables, whose columns are close to linear functions of each other,
# the linear iterative imputer fills in best and the autoencoder comes
# second, well ahead of the means and of the neighbours. On larger tables
# with non-linear structure, and with half of the cells missing, it does
# better than the linear imputer (see :ref:`bench_impute`).
#
# How well does an estimator do after each imputer?
# -------------------------------------------------
# As in scikit-learn's example: the imputer first in a pipeline, then a
# regression (diabetes: cross-validated R²) or a classifier (breast cancer:
# cross-validated accuracy). The imputer is fitted on the training folds
# only.
folds = KFold(5, shuffle=True, random_state=0)
for name, (X, X_missing, y) in tables.items():
    final = RidgeCV() if name == "diabetes" else LogisticRegression(max_iter=1000)
    complete = cross_val_score(make_pipeline(StandardScaler(), final), X, y, cv=folds)
    print(f"{name}: complete table {complete.mean():.3f}")
    for method, make in imputers.items():
        model = make_pipeline(make(), StandardScaler(), final)
        scores = cross_val_score(model, X_missing, y, cv=folds)
        print(f"{name:>14} {method:>12}: {scores.mean():.3f} +/- {scores.std():.3f}")

# %%
# Multiple imputation
# -------------------
# With ``sample_posterior=True`` the imputer trains a variational
# autoencoder and every ``transform`` draws the missing cells from its
# posterior, as ``IterativeImputer(sample_posterior=True)`` does: several
# completed tables whose spread says how uncertain each filled cell is.
X, X_missing, _ = tables["diabetes"]
multiple = AutoencoderImputer(sample_posterior=True, random_state=0).fit(X_missing)
draws = np.stack([multiple.transform(X_missing) for _ in range(10)])
removed = np.isnan(X_missing)
spread = draws.std(axis=0)[removed]
print(f"spread of 10 draws per removed cell: median {np.median(spread):.3f}")
mean_error = np.sqrt(np.mean((draws.mean(axis=0) - X)[removed] ** 2))
print(f"RMSE of the draws' mean: {mean_error:.3f}")

# %%
# The draws are for inference that must carry the uncertainty of the
# imputation (fit a model on each completed table and pool the results); for
# a single best guess, the default imputer is more accurate.

# %%
# No imputer at all
# -----------------
# Every skae autoencoder takes NaN itself: the loss and the column statistics
# read the observed cells only, and a missing input reads as its feature's
# mean, then as the network's own reconstruction. Codes of the incomplete
# table feed a classifier with no imputer in front.
X, X_missing, y = tables["breast_cancer"]
for label, data in [("complete", X), ("20 % missing", X_missing)]:
    model = make_pipeline(
        AutoencoderTransformer(4, random_state=0), LogisticRegression(max_iter=1000)
    )
    accuracy = cross_val_score(model, data, y, cv=folds).mean()
    print(f"codes of the {label} table: accuracy {accuracy:.3f}")
