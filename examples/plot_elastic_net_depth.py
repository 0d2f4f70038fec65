"""
===========================================================
Depth and code size, with elastic-net weight regularization
===========================================================

How much does a hidden layer buy, and how does the answer change with the
size of the code? We train "3-layer" autoencoders (input, code, output:
``hidden_layer_sizes=()``) and "5-layer" ones (input, 128 hidden units, code,
128 hidden units, output: ``hidden_layer_sizes=(128,)``) at several code
sizes on the digits, all with an elastic-net penalty on the weights, as in
studies that tune lasso and ridge penalties together. Then we look at what the
penalty does to the weights.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data
# ----
# float32 data make the network run in float32 on the CPU: faster than
# float64, and plenty precise for a stochastic fit.
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

# The small epoch budgets below stop training before full convergence.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, _ = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)

# %%
# The elastic-net penalty
# -----------------------
# ``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``, summed
# over every weight matrix (biases are not penalised). ``l1_ratio=0.5`` mixes
# the lasso part, which drives weights to exactly zero, with the ridge part,
# which shrinks them all.
from skae import AutoencoderTransformer

regularization = dict(alpha=1e-4, l1_ratio=0.5)
architectures = {"3-layer": (), "5-layer": (128,)}
code_sizes = [2, 4, 8, 16]


def test_error(model):
    """Mean squared reconstruction error per pixel on the test images."""
    return -model.score(X_test)


errors = {name: [] for name in architectures}
for name, hidden in architectures.items():
    for n_components in code_sizes:
        model = AutoencoderTransformer(
            n_components,
            hidden_layer_sizes=hidden,
            max_iter=100,
            random_state=0,
            **regularization,
        ).fit(X_train)
        errors[name].append(test_error(model))
    print(name, np.round(errors[name], 2))

# %%
# PCA with the same number of components is the linear reference.
from sklearn.decomposition import PCA

pca_errors = []
for n_components in code_sizes:
    pca = PCA(n_components).fit(X_train)
    pca_errors.append(
        np.mean((pca.inverse_transform(pca.transform(X_test)) - X_test) ** 2)
    )
print("PCA", np.round(pca_errors, 2))

import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 4))
for name, values in errors.items():
    ax.plot(code_sizes, values, marker="o", label=name)
ax.plot(code_sizes, pca_errors, marker="s", linestyle="--", color="gray", label="PCA")
ax.set(
    xscale="log",
    xticks=code_sizes,
    xticklabels=code_sizes,
    xlabel="code size (n_components)",
    ylabel="test MSE",
    title="Reconstruction error on held-out digits",
)
ax.minorticks_off()
ax.legend()
fig.tight_layout()

# %%
# The 3-layer network, a single non-linear layer each way, does no better
# than PCA (slightly worse, at this training budget): one layer of ELU units
# is close to a linear map. The hidden layer of the 5-layer network makes the
# difference, at every code size.
#
# What the penalty does to the weights
# ------------------------------------
# For the 5-layer network with 16 codes, we compare no penalty with two
# strengths of the elastic net, counting the weights that end up within
# 0.001 of zero (the lasso part's doing) and the test error.


def weights(model):
    """Every weight of the encoder and decoder, flattened."""
    layers = [*model.encoder_.modules(), *model.decoder_.modules()]
    return np.concatenate(
        [m.weight.detach().numpy().ravel() for m in layers if hasattr(m, "weight")]
    )


fig, ax = plt.subplots(figsize=(6, 4))
print(f"{'alpha':>8}{'near zero':>11}{'test MSE':>10}")
for alpha in [0.0, 1e-4, 1e-3]:
    model = AutoencoderTransformer(
        16,
        hidden_layer_sizes=(128,),
        alpha=alpha,
        l1_ratio=0.5,
        max_iter=100,
        random_state=0,
    ).fit(X_train)
    w = weights(model)
    print(f"{alpha:>8g}{np.mean(np.abs(w) < 1e-3):>11.0%}{test_error(model):>10.2f}")
    ax.hist(
        w, bins=np.linspace(-0.4, 0.4, 81), histtype="step", label=f"alpha={alpha:g}"
    )
ax.set(
    yscale="log", xlabel="weight", ylabel="count", title="Weights, 5-layer, 16 codes"
)
ax.legend()
fig.tight_layout()

# %%
# A light penalty (``alpha=1e-4``) zeroes about a third of the weights for a
# small rise in test error; ten times more zeroes most of them and costs
# clearly more. On data this small the penalty buys a sparser, simpler
# network rather than better reconstructions; tune ``alpha`` and
# ``l1_ratio`` with ``GridSearchCV`` (the estimator's ``score`` needs no
# labels) when the reconstruction error on held-out data is what matters.
