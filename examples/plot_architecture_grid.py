"""
==================================================
Architecture search with GridSearchCV (H2O's grid)
==================================================

H2O's deep learning chapter compares autoencoder architectures on MNIST with
a grid search: one hidden layer of 100 units, and the stacks 300-100-300,
100-50-100, 50 and 250-100-50-100-250, all with tanh units. We run the same
grid on the digits with scikit-learn's
:class:`~sklearn.model_selection.GridSearchCV`.

No labels and no ``scoring`` are needed: an autoencoder's ``score`` is minus
its mean squared reconstruction error, so cross-validation ranks the
architectures by how well they reconstruct held-out images.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

# %%
# From H2O's ``hidden`` to skae's parameters
# ------------------------------------------
# H2O describes an autoencoder by the widths of *all* its hidden layers, the
# decoder's included; the middle one is the code. skae describes the encoder
# only, ``hidden_layer_sizes`` (the layers between the input and the code)
# and ``n_components`` (the code), and mirrors them for the decoder:
#
# ============================  ========================  ================
# H2O ``hidden``                ``hidden_layer_sizes``    ``n_components``
# ============================  ========================  ================
# ``[100]``                     ``()``                    100
# ``[300, 100, 300]``           ``(300,)``                100
# ``[100, 50, 100]``            ``(100,)``                50
# ``[50]``                      ``()``                    50
# ``[250, 100, 50, 100, 250]``  ``(250, 100)``            50
# ============================  ========================  ================
#
# The two parameters go together, so the grid is a list of five one-point
# grids rather than the product of two lists (which would also try, e.g.,
# ``(250, 100)`` with 100 codes).
import warnings

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from skae import AutoencoderTransformer

# The small epoch budgets below stop training before full convergence.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

h2o_grid = {
    "100": ((), 100),
    "300-100-300": ((300,), 100),
    "100-50-100": ((100,), 50),
    "50": ((), 50),
    "250-100-50-100-250": ((250, 100), 50),
}
param_grid = [
    {"hidden_layer_sizes": [hidden], "n_components": [codes]}
    for hidden, codes in h2o_grid.values()
]

# %%
# The search
# ----------
# float32 data train faster on the CPU. Each architecture is trained on two
# thirds of the training images and scored on the last third, three times.
X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)

search = GridSearchCV(
    AutoencoderTransformer(activation="tanh", max_iter=50, random_state=0),
    param_grid,
    cv=3,
)

# %%
# Fifteen fits take a while: scikit-learn's ``ProgressBar`` (scikit-learn
# 1.9 or later, with rich: ``pip install "skae[progress]"``) draws a bar for
# the search and one per fit, filled epoch by epoch (see "Watching and
# stopping training" in the documentation).
try:
    from sklearn.callback import ProgressBar

    search.set_callbacks(ProgressBar())
except ImportError:  # an older scikit-learn, or rich missing: no bars
    pass
search.fit(X_train)

results = pd.DataFrame(
    {
        "architecture": list(h2o_grid),
        "CV MSE": -search.cv_results_["mean_test_score"],
        "std": search.cv_results_["std_test_score"],
        "fit (s)": search.cv_results_["mean_fit_time"],
        "rank": search.cv_results_["rank_test_score"],
    }
)
results.round(3)

# %%
# Reading the results
# -------------------
# The digits have 64 pixels, so 100 codes is *wider* than the input (an
# overcomplete code): such a network can come close to copying its input, and
# the two 100-code architectures reconstruct best. On MNIST's 784 pixels
# H2O's 100 codes are a real bottleneck; on the digits the informative
# comparisons are between architectures with the same code size:
#
# - at 100 codes, the 300-unit hidden layers help;
# - at 50 codes, the deeper the stack the lower the error: hidden layers let
#   the network use its code better than a single tanh layer can.
#
# Searching over ``n_components`` by reconstruction error will in general
# favour the largest code; fix the code size for the purpose at hand and
# search the rest.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3))
colors = [
    "tab:blue" if codes == 100 else "tab:orange" for _, codes in h2o_grid.values()
]
ax.barh(results["architecture"], results["CV MSE"], xerr=results["std"], color=colors)
ax.invert_yaxis()
ax.set(
    xlabel="cross-validated MSE (lower is better)", title="blue: 100 codes, orange: 50"
)
fig.tight_layout()

# %%
# The refitted best model
# -----------------------
# ``GridSearchCV`` refits the best architecture on all the training images;
# here are its reconstructions of test images, with each image's error.
from skae.plotting import ReconstructionDisplay

best = search.best_estimator_
print("best:", search.best_params_, f"test MSE = {-best.score(X_test):.3f}")
display = ReconstructionDisplay.from_estimator(
    best, X_test, image_shape=(8, 8), n_images=10
)
