"""
=====================================================
Sparse codes: filters from digit templates to strokes
=====================================================

A k-sparse autoencoder (Makhzani & Frey, 2013) keeps, for each image, only
the ``k`` largest of its code units and zeroes the rest, in training and in
``transform``. With many more code units than pixels (an *overcomplete*
code) and a small ``k``, each image is rebuilt from a few units, so each
unit's filter must carry most of a digit: a global template. As ``k`` grows
the work is shared among more units per image, and the filters become
smaller parts (strokes and edges) that combine, as in the paper's MNIST
figures.

Such codes are what make unsupervised features good for a linear
classifier, where :class:`~sklearn.decomposition.PCA` is weakest. We learn
100 code units on the 64-pixel digits at several ``k``, draw the filters
(the image each unit adds to the reconstruction) with
:class:`~skae.plotting.FiltersDisplay`, and compare a logistic regression on
the codes with one on raw pixels, on PCA and on a dense autoencoder.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# Data and the classifier
# -----------------------
# Pixels scaled to [0, 1]; the classifier standardises the features it is
# given. Every feature extractor is fitted on the training images only,
# without their labels.
import warnings

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer
from skae.plotting import FiltersDisplay

warnings.filterwarnings("ignore", category=ConvergenceWarning)
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X / 16.0, y, test_size=0.3, random_state=0, stratify=y
)


def accuracy(features):
    """Test accuracy of a logistic regression on the given features."""
    classifier = LogisticRegression(max_iter=2000, C=0.05)
    pipeline = make_pipeline(features, StandardScaler(), classifier)
    return pipeline.fit(X_train, y_train).score(X_test, y_test)


# %%
# k-sparse autoencoders
# ---------------------
# A single layer of 100 linear code units, tied weights (the decoder uses
# the encoder's weights transposed, as in the paper) and ``k`` codes kept per
# image.
def k_sparse(k):
    return AutoencoderTransformer(
        100,
        hidden_layer_sizes=(),
        activation="identity",
        sparsity="topk",
        sparsity_k=k,
        tied_weights=True,
        max_iter=100,
        random_state=0,
    )


ks = [3, 10, 30]
models = {k: k_sparse(k).fit(X_train) for k in ks}

# %%
# The filters
# -----------
# The 25 filters with the largest weights at each ``k`` (the data are
# centred, so a filter is a change from the mean image: red adds ink, blue
# removes it). With 3 codes per image the filters are whole digits; with 30
# they are scattered parts that only make digits together.
fig, axes = plt.subplots(5, 15, figsize=(12, 4.4))
for i, k in enumerate(ks):
    grid = axes[:, 5 * i : 5 * i + 5]
    FiltersDisplay.from_estimator(models[k], image_shape=(8, 8), n_filters=25, ax=grid)
    grid[0, 2].set_title(f"k = {k}")
fig.suptitle("Decoder filters of 100-unit k-sparse autoencoders")

# %%
# Features for a linear classifier
# --------------------------------
# The sparse, overcomplete codes beat raw pixels; PCA's 16 components and a
# dense 16-code autoencoder, which compress, lose some of what separates the
# classes.
results = {
    "raw pixels": accuracy(StandardScaler()),
    "PCA(16)": accuracy(PCA(16)),
    "autoencoder, 16 dense codes": accuracy(
        AutoencoderTransformer(16, max_iter=100, random_state=0)
    ),
    **{f"k-sparse, 100 codes, k = {k}": accuracy(k_sparse(k)) for k in ks},
}
for name, score in results.items():
    print(f"{name:<30} {score:.3f}")
