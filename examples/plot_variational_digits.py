"""
====================================================
Linear, non-linear and variational autoencoders
====================================================

A classic study of autoencoders on MNIST puts three models side by side: a
linear autoencoder, a non-linear one, and a *variational* autoencoder, whose
encoder outputs a Gaussian distribution over codes rather than one point and
whose loss adds a KL divergence from a standard normal prior. This example
repeats that comparison on scikit-learn's 8x8 digits, with two codes per
image so that the codes can be drawn:

- reconstructions of held-out digits by the three models;
- the 2-d latent space of the variational autoencoder, coloured by digit;
- the decoded *manifold*: a grid of codes decoded to images;
- new digits drawn with :meth:`~skae.VariationalAutoencoder.sample`.

The variational autoencoder is also a density model: its ``score`` is a
log-likelihood, comparable with probabilistic PCA's.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Three models with two codes
# ---------------------------
# Pixels are scaled to [0, 1]. The linear autoencoder has no hidden layer and
# identity activations (it spans PCA's subspace); the two others have one
# hidden layer of 100 ELU units (the default).
import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.stats import norm
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning

from skae import AutoencoderTransformer, VariationalAutoencoder

# The epoch budgets below are deliberate limits.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X = X / 16.0
X_train, X_test, y_train, y_test = X[:1500], X[1500:], y[:1500], y[1500:]

models = {
    "linear AE": AutoencoderTransformer(
        2,
        hidden_layer_sizes=(),
        activation="identity",
        learning_rate_init=3e-3,
        max_iter=100,
        random_state=0,
    ),
    "non-linear AE": AutoencoderTransformer(2, max_iter=150, random_state=0),
    "VAE": VariationalAutoencoder(2, max_iter=150, random_state=0),
}
for name, model in models.items():
    model.fit(X_train)
    error = np.mean((model.reconstruct(X_test) - X_test) ** 2)
    print(f"{name:<14} test MSE per pixel {error:.4f}")
vae = models["VAE"]

# %%
# The variational autoencoder reconstructs a little worse than the plain
# non-linear one: its codes are noisy during training, which forces nearby
# codes to decode to similar images. What it buys is a model of the data
# itself. Its held-out log-likelihood (nats per image, in the units of the
# scaled pixels) is comparable with probabilistic PCA's:
print(f"PCA(2) log-likelihood {PCA(2).fit(X_train).score(X_test):.2f}")
print(f"VAE(2) log-likelihood {vae.score(X_test):.2f}")
print(f"active code units: {vae.active_components_.sum()} of 2")

# %%
# Reconstructions
# ---------------
# The first row shows held-out digits, the others their reconstructions from
# two numbers each.
rows = {"original": X_test[:10]}
rows.update({name: m.reconstruct(X_test[:10]) for name, m in models.items()})
fig, axes = plt.subplots(len(rows), 10, figsize=(8, 3.6))
for row, (name, images) in zip(axes, rows.items(), strict=True):
    for ax, image in zip(row, images, strict=True):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.suptitle("Reconstructions from two codes")

# %%
# The latent space
# ----------------
# :meth:`~skae.VariationalAutoencoder.transform` returns the mean of each
# image's posterior. The prior pulls the codes towards a standard normal
# cloud; digits of one class gather in one region.
from skae.plotting import CodesDisplay

CodesDisplay.from_estimator(vae, X_test, y_test)

# %%
# The learnt manifold
# -------------------
# Decoding a grid of codes shows what the model learnt to generate. The grid
# is spaced by the prior's quantiles, so each cell covers the same prior
# probability.
grid = norm.ppf(np.linspace(0.05, 0.95, 12))
codes = np.array([[a, b] for b in grid[::-1] for a in grid])
images = vae.inverse_transform(codes).reshape(12, 12, 8, 8)
canvas = images.transpose(0, 2, 1, 3).reshape(12 * 8, 12 * 8)
fig, ax = plt.subplots(figsize=(5, 5))
ax.imshow(canvas, cmap="gray_r", vmin=0, vmax=1)
ax.set_xticks([]), ax.set_yticks([])
ax.set_title("Decoded grid of codes")

# %%
# New digits
# ----------
# :meth:`~skae.VariationalAutoencoder.sample` draws new rows from the model:
# a code from the prior, then pixels from the Gaussian likelihood, noise
# included (top row). Decoding prior draws with ``inverse_transform`` gives
# the noise-free means (bottom row).
drawn = vae.sample(10, random_state=0)
means = vae.inverse_transform(np.random.default_rng(0).standard_normal((10, 2)))
fig, axes = plt.subplots(2, 10, figsize=(8, 1.8))
for row, images, label in zip(axes, (drawn, means), ("sample", "mean"), strict=True):
    for ax, image in zip(row, images, strict=True):
        ax.imshow(image.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([]), ax.set_yticks([])
    row[0].set_ylabel(label, rotation=0, ha="right", va="center")
plt.show()
