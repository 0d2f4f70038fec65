"""
===========================================
Denoising handwritten digits with PSNR
===========================================

A :class:`~skae.DenoisingAutoencoder` learns to reconstruct clean images
from corrupted copies of them. Here it is trained on the digits that ship
with scikit-learn, then asked to clean up test digits buried in Gaussian
noise. :class:`~sklearn.decomposition.PCA`, which denoises by projecting onto
its leading components, is the linear baseline.

Quality is measured by the peak signal-to-noise ratio
(:func:`skae.metrics.psnr`, in dB; higher is better, +3 dB is about half the
squared error).
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Noisy digits
# ------------
# Pixels are scaled to [0, 1]; the test digits get Gaussian noise of
# standard deviation 0.3, clipped back to [0, 1] as a real sensor would.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skae import DenoisingAutoencoder
from skae.metrics import psnr

X, _ = load_digits(return_X_y=True)
X_train, X_test = train_test_split(X / 16.0, test_size=0.3, random_state=0)
rng = np.random.default_rng(0)
X_noisy = np.clip(X_test + rng.normal(scale=0.3, size=X_test.shape), 0.0, 1.0)

# %%
# Two denoisers
# -------------
# Both are fitted on the *clean* training digits. PCA keeps the number of
# components that denoises best; the autoencoder corrupts its own training
# inputs with the same kind and amount of noise (``noise_level=0.3``) and
# learns to undo it.


def pca_denoise(n_components):
    pca = PCA(n_components).fit(X_train)
    return pca.inverse_transform(pca.transform(X_noisy))


X_pca = max((pca_denoise(k) for k in (8, 16, 24, 32)), key=lambda D: psnr(X_test, D))

dae = DenoisingAutoencoder(
    n_components=32,
    noise="gaussian",
    noise_level=0.3,
    hidden_layer_sizes=(128,),
    batch_size=32,
    learning_rate_init=3e-3,
    max_iter=30,
    random_state=0,
)
with warnings.catch_warnings():
    # 30 epochs are enough to show the effect; training longer helps a bit.
    warnings.simplefilter("ignore", ConvergenceWarning)
    dae.fit(X_train)
X_dae = dae.denoise(X_noisy)

for name, X_out in [("noisy input", X_noisy), ("PCA", X_pca), ("autoencoder", X_dae)]:
    print(f"{name:<12} PSNR = {psnr(X_test, X_out, data_range=1.0):5.2f} dB")

# %%
# Noisy, denoised and clean, side by side
# ---------------------------------------
# Each column is one test digit; each title gives that image's own PSNR.
rows = [("noisy", X_noisy), ("PCA", X_pca), ("autoencoder", X_dae), ("clean", X_test)]
n_digits = 8
figsize = (1.4 * n_digits, 1.7 * len(rows))
fig, axes = plt.subplots(len(rows), n_digits, figsize=figsize)
for (name, images), row in zip(rows, axes, strict=True):
    for i, ax in enumerate(row):
        ax.imshow(images[i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        if name != "clean":
            image_psnr = psnr(X_test[i : i + 1], images[i : i + 1], data_range=1.0)
            ax.set_title(f"{image_psnr:.1f} dB", fontsize=9)
    row[0].set_ylabel(name)
fig.suptitle(
    f"Mean test PSNR: noisy {psnr(X_test, X_noisy, data_range=1.0):.1f} dB, "
    f"PCA {psnr(X_test, X_pca, data_range=1.0):.1f} dB, "
    f"autoencoder {psnr(X_test, X_dae, data_range=1.0):.1f} dB"
)
fig.tight_layout()
plt.show()

# %%
# The autoencoder's reconstructions are sharper than PCA's: a linear
# projection must keep some of the noise that lies in its subspace, while
# the non-linear decoder has learnt what digits look like. Nothing is added
# at inference time: :meth:`~skae.DenoisingAutoencoder.denoise` (the same as
# ``reconstruct``) is deterministic.
