"""
============================================
Adversarial autoencoders: codes of any shape
============================================

A plain autoencoder's codes take whatever shape training gives them, and a
variational autoencoder pushes each row's posterior towards a Gaussian.
:class:`~skae.AdversarialAutoencoder` trains a discriminator to tell the
codes from draws of a prior and the encoder to fool it, so that the codes,
taken together, fill the prior the user chose. Here: the digits in two
dimensions under a Gaussian, a uniform box and a mixture of ten Gaussians
guided by the labels of one digit in ten, beside the VAE's and the plain
autoencoder's codes; then images decoded from a grid over the Gaussian
prior.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Five two-dimensional codes of the digits
# ----------------------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skae import AdversarialAutoencoder, AutoencoderTransformer, VariationalAutoencoder

X, y = load_digits(return_X_y=True)
X = X / 16.0
rng = np.random.default_rng(0)
y_partial = np.where(rng.random(len(y)) < 0.1, y, -1)  # one label in ten

models = {
    "adversarial, normal prior": AdversarialAutoencoder(2, random_state=0),
    "adversarial, uniform prior": AdversarialAutoencoder(
        2, prior="uniform", random_state=0
    ),
    "adversarial, mixture + 10 % labels": AdversarialAutoencoder(
        2, prior="mixture", random_state=0
    ),
    "variational (posterior means)": VariationalAutoencoder(2, random_state=0),
    "plain autoencoder": AutoencoderTransformer(2, random_state=0),
}
codes = {}
for name, model in models.items():
    labels = y_partial if "labels" in name else None
    codes[name] = model.fit(X, labels).transform(X)

fig, axes = plt.subplots(1, 5, figsize=(16, 3.4), layout="constrained")
for ax, (name, z) in zip(axes, codes.items(), strict=True):
    points = ax.scatter(z[:, 0], z[:, 1], c=y, cmap="tab10", s=4)
    ax.set_title(name, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.colorbar(points, ax=axes, label="digit", shrink=0.9)

# %%
# The Gaussian codes spread like ``N(0, I)``, the box's fill ``[-1, 1]^2``,
# and the mixture's cluster around its ten means, each labelled digit drawn
# to its own component (and most unlabelled digits with it). The VAE's
# posterior means and the plain autoencoder's codes have other shapes.
# How close each code cloud is to its prior:
for name, model in list(models.items())[:3]:
    print(f"{name:<36} discriminator accuracy {model.discriminator_accuracy_:.2f}")

mixture = models["adversarial, mixture + 10 % labels"]
z = codes["adversarial, mixture + 10 % labels"]
nearest = ((z[:, None] - mixture.component_means_[None]) ** 2).sum(-1).argmin(1)
unlabelled = y_partial == -1
accuracy = (mixture.classes_[nearest] == y)[unlabelled].mean()
print(f"unlabelled digits nearest their digit's component: {accuracy:.2f}")

# %%
# Decoding a grid over the prior
# ------------------------------
# Every part of the Gaussian prior decodes to a digit-like image, since the
# codes filled it in training: here a grid from -2 to 2 standard deviations.
normal = models["adversarial, normal prior"]
grid = np.linspace(-2, 2, 10)
draws = np.array([[a, b] for b in grid[::-1] for a in grid])
images = normal.inverse_transform(draws).reshape(10, 10, 8, 8)

fig, axes = plt.subplots(10, 10, figsize=(5, 5))
for ax, image in zip(axes.ravel(), images.reshape(100, 8, 8), strict=True):
    ax.imshow(image.clip(0, 1), cmap="gray_r", vmin=0, vmax=1)
    ax.set_axis_off()
fig.suptitle("AdversarialAutoencoder: a grid over N(0, I), decoded")
plt.show()
