"""
====================================================
Linear autoencoder vs PCA vs non-linear autoencoders
====================================================

A linear autoencoder (no hidden layer, identity activations) trained on
squared error finds the same subspace as PCA: its reconstruction error matches
PCA's, and the span of its decoder's weights matches PCA's components. Giving
the network a hidden layer and a non-linear activation lets it do better than
any linear projection with the same number of codes.

We compress the 8x8 digit images to 8 numbers with PCA, a linear autoencoder,
and autoencoders with sigmoid, ReLU and ELU activations, and compare their
reconstruction errors on held-out images.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and models
# ---------------
# Every model keeps ``n_components=8`` numbers per image. The non-linear
# autoencoders have one hidden layer of 100 units (the default), so their
# encoder is 64-100-8 and their decoder 8-100-64. The linear one gets a
# larger step and ``tol=0`` so that it trains until its loss stops moving.
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

# The small epoch budgets below stop training before full convergence.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
n_components = 8

models = {
    "PCA": PCA(n_components),
    "linear AE": AutoencoderTransformer(
        n_components,
        hidden_layer_sizes=(),
        activation="identity",
        learning_rate_init=3e-3,
        tol=0.0,
        max_iter=300,
        random_state=0,
    ),
}
for activation in ("sigmoid", "relu", "elu"):
    models[f"{activation} AE"] = AutoencoderTransformer(
        n_components, activation=activation, max_iter=150, random_state=0
    )

# %%
# Training and test error
# -----------------------
# The error is the mean squared error per pixel on the held-out images (pixel
# values range from 0 to 16).
reconstructions, errors = {}, {}
print(f"{'model':<12}{'test MSE':>10}{'fit (s)':>9}")
for name, model in models.items():
    start = time.perf_counter()
    model.fit(X_train)
    seconds = time.perf_counter() - start
    reconstructions[name] = model.inverse_transform(model.transform(X_test))
    errors[name] = np.mean((reconstructions[name] - X_test) ** 2)
    print(f"{name:<12}{errors[name]:>10.3f}{seconds:>9.1f}")

# %%
# The linear autoencoder matches PCA's error. It also finds PCA's subspace:
# the principal angles between the span of its decoder's weight matrix and
# PCA's eight components are small (0 degrees would be identical subspaces;
# the largest angle belongs to the least important direction, which takes
# longest to train). Its codes are not PCA's components themselves, which are
# ordered and orthogonal, but an arbitrary basis of the same subspace.
from scipy.linalg import subspace_angles

decoder_weights = models["linear AE"].decoder_[0].weight.detach().numpy()
angles = np.degrees(subspace_angles(decoder_weights, models["PCA"].components_.T))
print("principal angles (degrees):", np.round(np.sort(angles), 1))

# %%
# The ReLU and ELU autoencoders reconstruct the test images with about a
# third less error than PCA with the same 8 numbers per image. The sigmoid
# network trails: its saturating units learn slowly, and 150 epochs are not
# enough for it to catch up.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3))
names = list(errors)
ax.barh(names[::-1], [errors[n] for n in names[::-1]], color="tab:blue")
ax.axvline(errors["PCA"], color="black", linestyle="--", label="PCA")
ax.set(xlabel="test MSE (lower is better)", title=f"{n_components} codes per image")
ax.legend()
fig.tight_layout()

# %%
# Reconstructions
# ---------------
# The first row holds test images; each following row is one model's
# reconstruction of them.
n_images = 10
rows = {"original": X_test, **reconstructions}
fig, axes = plt.subplots(len(rows), n_images, figsize=(n_images, 1.1 * len(rows)))
for r, (name, images) in enumerate(rows.items()):
    for c in range(n_images):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.tight_layout()
