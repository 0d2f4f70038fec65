"""
=====================================================
Finding odd digits by their reconstruction error
=====================================================

:class:`~skae.AutoencoderOutlierDetector` learns to reconstruct the bulk of
its training data and flags the rows it reconstructs badly. Here the data are
the handwritten 3s of scikit-learn's digits data set with a handful of 7s
mixed in; the detector never sees a label.

We look at the distribution of the scores, the threshold that
``contamination='auto'`` picks (and how to move it without retraining), the
worst reconstructions, and the per-pixel errors that explain a flagged
image.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# The data: 3s with a few 7s
# --------------------------
# Pixels range over 0..16 and share one unit, so no scaler is needed: the
# squared error of each pixel counts the same.
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_auc_score

from skae import AutoencoderOutlierDetector

digits = load_digits()
rng = np.random.RandomState(0)
threes = np.flatnonzero(digits.target == 3)
sevens = rng.choice(np.flatnonzero(digits.target == 7), size=8, replace=False)
rows = rng.permutation(np.r_[threes, sevens])
X = digits.data[rows] / 16.0
is_seven = digits.target[rows] == 7
print(f"{X.shape[0]} images, {is_seven.sum()} of them 7s")

# %%
# Fit and predict
# ---------------
# ``fit_predict`` returns +1 for inliers and -1 for outliers, as for
# scikit-learn's :class:`~sklearn.ensemble.IsolationForest`.
detector = AutoencoderOutlierDetector(random_state=0)
labels = detector.fit_predict(X)
flagged = labels == -1
print(
    f"flagged {flagged.sum()} images; {np.sum(flagged & is_seven)} of the 7s among them"
)
print(
    f"ROC-AUC of the scores: {roc_auc_score(is_seven, -detector.score_samples(X)):.3f}"
)

# %%
# The scores and the threshold
# ----------------------------
# :meth:`~skae.AutoencoderOutlierDetector.score_samples` is minus the mean
# squared reconstruction error; ``offset_`` is the threshold below which a
# row is an outlier. With ``contamination='auto'`` it is Tukey's box-plot
# fence on the training errors (third quartile plus 1.5 interquartile
# ranges), which errs on the side of flagging: it catches every 7 here, along
# with a few unusual 3s. :meth:`set_contamination` moves the threshold to a
# chosen fraction of the training rows without retraining, using the stored
# ``training_scores_``.
errors = -detector.training_scores_
auto_threshold = -detector.offset_
five_percent = -detector.set_contamination(0.05).offset_
flagged_5 = detector.predict(X) == -1
print(f"contamination=0.05 flags {flagged_5.sum()}: {np.sum(flagged_5 & is_seven)} 7s")
detector.set_contamination("auto")

bins = np.logspace(np.log10(errors.min()), np.log10(errors.max()), 40)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.hist(errors[~is_seven], bins=bins, label="3s", color="tab:blue", alpha=0.7)
ax.hist(errors[is_seven], bins=bins, label="7s", color="tab:red", alpha=0.9)
ax.axvline(auto_threshold, color="k", label="threshold, contamination='auto'")
ax.axvline(five_percent, color="k", ls="--", label="threshold, contamination=0.05")
ax.set_xscale("log")
ax.set_xlabel("mean squared reconstruction error")
ax.set_ylabel("images")
ax.legend(fontsize="small", loc="upper left")
fig.tight_layout()

# %%
# The worst reconstructions
# -------------------------
# The images with the largest errors, above their reconstructions: the
# network, trained on 3s, turns what it sees into something 3-like.
worst = np.argsort(errors)[::-1][:8]
reconstructions = detector.reconstruct(X[worst])
fig, axes = plt.subplots(2, len(worst), figsize=(10, 3))
for col, (row, rebuilt) in enumerate(zip(worst, reconstructions, strict=True)):
    axes[0, col].imshow(X[row].reshape(8, 8), cmap="gray_r")
    axes[0, col].set_title(
        f"{digits.target[rows][row]}  err {errors[row]:.3f}", fontsize=8
    )
    axes[1, col].imshow(rebuilt.reshape(8, 8), cmap="gray_r")
for ax in axes.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("input")
axes[1, 0].set_ylabel("reconstruction")
fig.tight_layout()

# %%
# Why was it flagged?
# -------------------
# :meth:`~skae.AutoencoderOutlierDetector.reconstruction_errors` with
# ``per_feature=True`` gives each pixel's squared error; their mean is the
# row's error. For the worst image they show where it departs from a 3.
per_pixel = detector.reconstruction_errors(X[worst[:1]], per_feature=True)[0]
fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
panels = [X[worst[0]], reconstructions[0], per_pixel]
titles = ["input", "reconstruction", "squared error per pixel"]
for ax, image, title in zip(axes, panels, titles, strict=True):
    ax.imshow(image.reshape(8, 8), cmap="gray_r" if title != titles[-1] else "Reds")
    ax.set_title(title, fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
fig.tight_layout()
plt.show()
