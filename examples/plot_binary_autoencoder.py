"""
=========================================
A tiny binary autoencoder: 3-bit patterns
=========================================

The smallest autoencoder worth drawing: three binary inputs, a code layer of
three leaky-ReLU units, and three sigmoid outputs (a 3-3-3 network), trained
with binary cross-entropy by plain stochastic gradient descent, one pattern
at a time. It learns to reproduce each of the eight 3-bit patterns.

With three code units for three bits there is no bottleneck: the point is
to see the pieces of an autoencoder at their smallest, namely codes,
reconstructions given as probabilities, and the loss curve. (A code wider
than the input, such as the 3-4-3 network of some tutorials, is refused
unless a sparsity rule or the contractive penalty keeps it from copying its
input; two codes cannot work, since three sigmoid outputs of a
two-dimensional code cut the plane into at most seven regions, not eight.)
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The data: all eight 3-bit patterns
# ----------------------------------
import itertools

import numpy as np

X = np.array(list(itertools.product([0, 1], repeat=3)), dtype=float)
X

# %%
# The model
# ---------
# ``hidden_layer_sizes=()`` connects the inputs straight to the code layer, so
# ``n_components=3`` makes the 3-3-3 network. ``output_activation='sigmoid'``
# turns the outputs into probabilities of each bit being 1, which is what the
# binary cross-entropy (``loss='bce'``) compares with the targets.
# ``solver='sgd'`` with ``batch_size=1`` takes one gradient step per pattern
# (with Nesterov momentum).
from skae import AutoencoderTransformer

ae = AutoencoderTransformer(
    n_components=3,
    hidden_layer_sizes=(),
    activation="leaky_relu",
    output_activation="sigmoid",
    loss="bce",
    solver="sgd",
    batch_size=1,
    learning_rate_init=0.1,
    max_iter=1000,
    tol=1e-5,
    n_iter_no_change=50,
    random_state=0,
)
ae.fit(X)
print(f"stopped after {ae.n_iter_} epochs, final loss {ae.loss_curve_[-1]:.4f}")

# %%
# Codes and reconstructions
# -------------------------
# Each pattern gets its own code, and the decoder turns it back into
# probabilities close to 0 or 1; rounding them recovers every pattern.
codes = ae.transform(X)
probabilities = ae.inverse_transform(codes)
with np.printoptions(precision=3, suppress=True):
    for bits, code, proba in zip(X.astype(int), codes, probabilities, strict=True):
        print(bits, code, proba)
print("all patterns recovered:", np.array_equal(probabilities > 0.5, X == 1))

# %%
# The three stages side by side: inputs, the three code units, and the
# reconstructed probabilities.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 3, figsize=(7, 3.5), width_ratios=[3, 3, 3])
panels = [("input", X), ("codes", codes), ("reconstruction", probabilities)]
for ax, (title, values) in zip(axes, panels, strict=True):
    image = ax.imshow(values, cmap="viridis", aspect="auto")
    ax.set(title=title, xticks=range(values.shape[1]), yticks=range(8))
    fig.colorbar(image, ax=ax, shrink=0.6)
axes[0].set_yticklabels(["".join(map(str, b)) for b in X.astype(int)])
fig.tight_layout()

# %%
# The loss curve
# --------------
# The binary cross-entropy falls by orders of magnitude once the network has
# found a separate code for every pattern.
from skae.plotting import LossCurveDisplay

display = LossCurveDisplay.from_estimator(ae, log_scale=True)
_ = display.ax_.set_title("Binary cross-entropy per epoch")
