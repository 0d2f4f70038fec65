"""
===================================================
The wine data in a 3-d latent space, and clustering
===================================================

The wine data describe 178 wines from three cultivars by 13 chemical
measurements. We compress them to 3 codes with an autoencoder, look at the
codes in 3-D, cluster them with KMeans and DBSCAN, read the encoder's weights
as feature loadings, and compare training and validation loss curves with
and without an L1 activity penalty on the codes (the Keras
``activity_regularizer=l1(...)``).
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# An autoencoder in a pipeline
# ----------------------------
# The 13 measurements have very different units (proline is in the hundreds,
# hue around 1), so they are standardised first: otherwise the squared error,
# and with it the codes, would be about proline alone.
#
# The encoder is a single layer of 3 tanh units (``hidden_layer_sizes=()``),
# so each code is a squashed weighted sum of the standardised features. With
# only 178 rows, small batches give enough gradient steps per epoch;
# ``early_stopping=True`` holds out 20% of the rows to draw a validation curve
# and keeps the weights of the best epoch.
import warnings

import numpy as np
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer

# The small epoch budgets below stop training before full convergence.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

wine = load_wine()
X, y = wine.data, wine.target
cultivars = np.array(["cultivar 0", "cultivar 1", "cultivar 2"])[y]

params = dict(
    n_components=3,
    hidden_layer_sizes=(),
    activation="tanh",
    batch_size=16,
    max_iter=300,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=30,
    random_state=0,
)
model = make_pipeline(StandardScaler(), AutoencoderTransformer(**params))
codes = model.fit_transform(X)
ae = model[-1]
codes.shape

# %%
# The codes in 3-D
# ----------------
# Coloured by cultivar, which the autoencoder never saw: the three cultivars
# occupy different regions of the code space.
from skae.plotting import CodesDisplay

display = CodesDisplay(codes=codes, labels=cultivars, estimator_name="codes").plot(
    components=(0, 1, 2)
)

# %%
# Clustering the codes
# --------------------
# KMeans with three clusters recovers the cultivars about as well as on the
# first three principal components (the adjusted Rand index is 1 for a perfect
# match and about 0 for a random one).
from sklearn.cluster import DBSCAN, KMeans
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_rand_score

kmeans = KMeans(n_clusters=3, n_init=10, random_state=0)
kmeans_labels = kmeans.fit_predict(codes)
pca_codes = make_pipeline(StandardScaler(), PCA(3)).fit_transform(X)
pca_labels = kmeans.fit_predict(pca_codes)
print(f"KMeans on autoencoder codes: ARI = {adjusted_rand_score(y, kmeans_labels):.3f}")
print(f"KMeans on PCA components:    ARI = {adjusted_rand_score(y, pca_labels):.3f}")

# %%
# DBSCAN needs no number of clusters but a neighbourhood radius ``eps``. A
# common heuristic takes a typical distance to the ``min_samples``-th nearest
# neighbour; here the median. DBSCAN then finds three dense cores and labels
# the sparse points between them as noise (``-1``): two of the cultivars
# touch, and a larger ``eps`` merges them into one cluster.
from sklearn.neighbors import NearestNeighbors

min_samples = 10
distances, _ = NearestNeighbors(n_neighbors=min_samples).fit(codes).kneighbors(codes)
eps = np.median(distances[:, -1])
dbscan_labels = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(codes)
clustered = dbscan_labels >= 0
print(
    f"eps = {eps:.3f}: clusters found = {dbscan_labels.max() + 1}, "
    f"noise points = {np.sum(~clustered)} of {len(y)}"
)
print(
    "ARI on the points DBSCAN clustered = "
    f"{adjusted_rand_score(y[clustered], dbscan_labels[clustered]):.3f}"
)

# %%
# Side by side, the codes coloured by the KMeans and the DBSCAN clusters
# (first two codes).
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
CodesDisplay(codes=codes, labels=kmeans_labels, estimator_name="KMeans").plot(
    ax=axes[0]
)
CodesDisplay(codes=codes, labels=dbscan_labels, estimator_name="DBSCAN").plot(
    ax=axes[1]
)
fig.tight_layout()

# %%
# The encoder's weights as loadings
# ---------------------------------
# With a single-layer encoder, code ``j`` is ``tanh(w_j . x + b_j)`` on the
# standardised features ``x``, so the weight matrix reads like PCA's
# ``components_``: a large positive or negative weight means that the feature
# pushes that code up or down. (Inside the network the standardised data are
# divided by one more global constant, which rescales every weight alike.)
import torch

linear = next(m for m in ae.encoder_.modules() if isinstance(m, torch.nn.Linear))
loadings = linear.weight.detach().numpy()

fig, ax = plt.subplots(figsize=(9, 3))
limit = np.abs(loadings).max()
image = ax.imshow(loadings, cmap="RdBu_r", vmin=-limit, vmax=limit)
ax.set_xticks(range(len(wine.feature_names)))
ax.set_xticklabels(wine.feature_names, rotation=45, ha="right")
ax.set_yticks(range(3))
ax.set_yticklabels([f"code {j}" for j in range(3)])
fig.colorbar(image, ax=ax, label="weight")
ax.set_title("Encoder weights (feature loadings)")
fig.tight_layout()

# %%
# L1 activity regularization
# --------------------------
# ``sparsity='l1'`` adds ``sparsity_weight * mean |code|`` to the loss, which
# pushes codes toward zero unless they are needed for the reconstruction.
# We train the same network with it and compare the curves.
#
# The training curve (``loss_curve_``) is the whole objective, penalty
# included; the validation curve is the reconstruction loss alone. With the
# penalty, the fair comparison is the validation curve against the dashed
# ``reconstruction`` part of the training loss (``components=True``).
from skae.plotting import LossCurveDisplay

sparse_model = make_pipeline(
    StandardScaler(),
    AutoencoderTransformer(**params, sparsity="l1", sparsity_weight=0.3),
)
sparse_codes = sparse_model.fit_transform(X)

fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
LossCurveDisplay.from_estimator(ae, ax=axes[0], name="no penalty")
LossCurveDisplay.from_estimator(
    sparse_model[-1], ax=axes[1], name="L1", components=True
)
axes[0].set_title("without activity regularization")
axes[1].set_title("with L1 activity regularization")
fig.tight_layout()

# %%
# The penalty shrinks the codes by about a third, at no cost in validation
# reconstruction error: on so few rows it regularizes as much as it
# constrains. (The loss is the squared error divided by the data's variance:
# about 0.34 means two thirds of the variance is kept in three codes.)
for name, est, z in [("no penalty", ae, codes), ("L1", sparse_model[-1], sparse_codes)]:
    print(
        f"{name:<11} mean |code| = {np.abs(z).mean():.3f}, "
        f"best validation loss = {est.best_loss_:.3f}"
    )
