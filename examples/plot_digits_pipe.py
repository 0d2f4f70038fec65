"""
=========================================================
Pipelining: chaining an autoencoder and a classifier
=========================================================

scikit-learn's example "Pipelining: chaining a PCA and a logistic regression"
searches the number of PCA components that serves a logistic regression
best, and plots how much of the variance each number of components keeps
(``explained_variance_ratio_``). This is the same study with an autoencoder
in place of PCA.

An autoencoder's ``explained_variance_ratio_`` has one share per code unit,
as PCA's has one per component, but its codes are not ordered components:
the shares are in the units' order and change with the code width. Their
sum is the fraction of the training variance the reconstruction explains
(PCA's ``explained_variance_ratio_.sum()`` for the same number of
components). We plot that sum for each code width, beside PCA's cumulative
ratio, above the classifier's cross-validated accuracy, and print the
sorted shares of the widest code beside PCA's ratios.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The pipeline and the search
# ---------------------------
# Standardise the pixels, encode them, classify the codes. The search tries
# four code widths; a short training budget keeps the example fast.
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
widths = [2, 4, 8, 16]

pipe = Pipeline(
    [
        ("scaler", StandardScaler()),
        (
            "ae",
            AutoencoderTransformer(
                hidden_layer_sizes=(64,), max_iter=30, random_state=0
            ),
        ),
        ("logistic", LogisticRegression(max_iter=1000)),
    ]
)
search = GridSearchCV(pipe, {"ae__n_components": widths}, cv=3)
search.fit(X, y)
print(f"Best code width: {search.best_params_['ae__n_components']}")
print(f"Cross-validated accuracy: {search.best_score_:.3f}")

# %%
# How much each code keeps
# ------------------------
# The sum of ``explained_variance_ratio_`` of an autoencoder fitted on all the
# standardised images, for each width, and PCA's cumulative ratio.
X_scaled = StandardScaler().fit_transform(X)
shares = [
    AutoencoderTransformer(k, hidden_layer_sizes=(64,), max_iter=30, random_state=0)
    .fit(X_scaled)
    .explained_variance_ratio_
    for k in widths
]
kept = [ratio.sum() for ratio in shares]
pca = PCA().fit(X_scaled)

fig, (ax0, ax1) = plt.subplots(nrows=2, sharex=True, figsize=(6, 6))
ax0.plot(
    np.arange(1, pca.n_components_ + 1),
    np.cumsum(pca.explained_variance_ratio_),
    "+",
    linewidth=2,
    label="PCA (cumulative)",
)
ax0.plot(widths, kept, "o-", label="autoencoder")
ax0.set_ylabel("explained variance ratio")
ax0.axvline(
    search.best_params_["ae__n_components"],
    linestyle=":",
    label="width chosen",
)
ax0.legend(prop=dict(size=10))

# For each width, the best classifier's accuracy and its spread over folds.
results = pd.DataFrame(search.cv_results_)
ax1.errorbar(
    results["param_ae__n_components"].astype(int),
    results["mean_test_score"],
    yerr=results["std_test_score"],
    marker="o",
)
ax1.set_ylabel("classification accuracy (val)")
ax1.set_xlabel("n_components")
ax1.set_xlim(-1, 70)
plt.tight_layout()
plt.show()

# %%
# Reading the plot
# ----------------
# At every width the non-linear codes keep more of the variance than the
# same number of principal components, and the classifier's accuracy rises
# with the width as it does with PCA's components. The width the search
# picks is the one the classifier needs, not the one that reconstructs best.
for k, ratio in zip(widths, kept, strict=True):
    pca_ratio = pca.explained_variance_ratio_[:k].sum()
    print(f"{k:>2} codes: autoencoder {ratio:.3f}, PCA {pca_ratio:.3f}")

# %%
# Each code unit's share of the widest code, sorted as PCA's ratios are: a
# unit's share is what the reconstruction loses when that unit is replaced by
# its mean. The units share the variance more evenly than PCA's components,
# which are ranked by construction.
np.set_printoptions(precision=3, suppress=True)
print("autoencoder:", np.sort(shares[-1])[::-1])
print("PCA:        ", pca.explained_variance_ratio_[: widths[-1]])
