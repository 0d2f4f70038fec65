"""skae's main job: autoencoders against scikit-learn's baselines on shipped data.

Run with ``python examples/demo.py``. Everything uses data that ships with
scikit-learn and runs offline on a laptop CPU in about a minute.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer


def timed_fit(estimator, X):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    return time.perf_counter() - start


def codes_accuracy(reducer, X_train, y_train, X_test, y_test):
    clf = LogisticRegression(max_iter=5000)
    clf.fit(reducer.transform(X_train), y_train)
    return clf.score(reducer.transform(X_test), y_test)


def dimensionality_reduction(n_components=8):
    """PCA vs AutoencoderTransformer on digits at the same code size."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    print(f"Digits {X.shape}: PCA vs autoencoder, n_components={n_components}")
    print(f"{'model':<34}{'test MSE':>10}{'codes acc':>11}{'fit s':>8}")
    models = {
        "PCA": PCA(n_components),
        "AutoencoderTransformer (linear)": AutoencoderTransformer(
            n_components, hidden_layer_sizes=(), activation="identity",
            learning_rate_init=3e-3, tol=0, max_iter=400, random_state=0,
        ),
        "AutoencoderTransformer (default)": AutoencoderTransformer(
            n_components, random_state=0
        ),
    }
    for name, model in models.items():
        seconds = timed_fit(model, X_train)
        mse = np.mean((model.inverse_transform(model.transform(X_test)) - X_test) ** 2)
        acc = codes_accuracy(model, X_train, y_train, X_test, y_test)
        print(f"{name:<34}{mse:>10.3f}{acc:>11.3f}{seconds:>8.1f}")


if __name__ == "__main__":
    dimensionality_reduction()
