"""
====================================
A sparsity grid (H2O's sparse codes)
====================================

A code layer as wide as the input, or wider, can learn to copy it. A sparsity
penalty prevents that by asking every code unit to be *inactive* for most
samples, so that each image is described by a few active units. Following the
sparse-autoencoder grid of H2O's deep learning chapter, we train 100 tanh code
units on the 64-pixel digits with the KL sparsity penalty at several weights,
and report the mean code activation and the reconstruction error.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The penalty
# -----------
# ``sparsity='kl'`` adds ``sparsity_weight * sum_j KL(rho || rho_hat_j)``,
# where ``rho`` is ``sparsity_target`` (0.05 by default) and ``rho_hat_j`` is
# the mean activation of code unit ``j`` over a batch. The KL divergence
# compares rates in (0, 1), so tanh activations ``a`` in (-1, 1) are mapped to
# ``(a + 1) / 2`` first, as H2O does: a unit at rest (``a = -1``) counts as 0,
# one fully on (``a = 1``) as 1. We use the same mapping to report the
# activations.
#
# The network has no hidden layer (``hidden_layer_sizes=()``): 64 pixels, 100
# tanh codes, 64 outputs. A larger step than the default,
# ``learning_rate_init=1e-2``, lets the penalty reach its target within 60
# epochs.
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

# The small epoch budgets below stop training before full convergence.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, _ = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)

params = dict(
    n_components=100,
    hidden_layer_sizes=(),
    activation="tanh",
    learning_rate_init=1e-2,
    max_iter=60,
    random_state=0,
)


def activation_rate(model, X):
    """Mean code activation per unit, tanh mapped to (0, 1)."""
    return ((model.transform(X) + 1) / 2).mean(axis=0)


# %%
# The grid
# --------
# ``sparsity_weight=0`` is the model before any penalty. (The code is wider
# than the 64 pixels, which skae allows only with a sparsity setting: hence
# ``sparsity='kl'`` throughout, with no weight at first.)
weights = [0.0, 0.01, 0.05, 0.1, 0.2]
models, rates, errors = {}, {}, {}
print(f"{'sparsity_weight':>15}{'mean activation':>17}{'test MSE':>10}")
for weight in weights:
    model = AutoencoderTransformer(**params, sparsity="kl", sparsity_weight=weight)
    models[weight] = model.fit(X_train)
    rates[weight] = activation_rate(model, X_test)
    errors[weight] = -model.score(X_test)
    print(f"{weight:>15g}{rates[weight].mean():>17.3f}{errors[weight]:>10.3f}")

# %%
# Without the penalty the mean activation sits at 0.5, half way between the
# two tanh limits: every unit takes part in every code. Even the lightest
# penalty moves it most of the way toward the target of 0.05, and heavier
# ones get closer. The price is reconstruction error: with few units active
# per image the network can no longer copy its input, and has to find
# reusable parts. Choose the weight by the trade-off you need (sparser codes
# for interpretability, lower error for fidelity).
import matplotlib.pyplot as plt

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
ax1.boxplot([rates[w] for w in weights])
ax1.set_xticks(range(1, len(weights) + 1), [f"{w:g}" for w in weights])
ax1.axhline(0.05, color="black", linestyle="--", label="sparsity_target")
ax1.set(
    xlabel="sparsity_weight", ylabel="mean activation per unit", title="Code activation"
)
ax1.legend()
ax2.plot([f"{w:g}" for w in weights], [errors[w] for w in weights], marker="o")
ax2.set(xlabel="sparsity_weight", ylabel="test MSE", title="Reconstruction error")
fig.tight_layout()

# %%
# How the activations are spread
# -------------------------------
# Histograms of every code activation of the test images. Without the
# penalty the activations are spread over the whole range; with it, most
# of them (about four in five) sit close to 0, the unit at rest, and the
# information is in the few that leave it.
fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.linspace(0, 1, 41)
for weight in [0.0, 0.1]:
    codes = (models[weight].transform(X_test) + 1) / 2
    ax.hist(
        codes.ravel(), bins=bins, histtype="step", label=f"sparsity_weight={weight:g}"
    )
ax.set(yscale="log", xlabel="code activation, (a + 1) / 2", ylabel="count")
ax.legend()
fig.tight_layout()
