"""skae's main job: its three estimators against scikit-learn's baselines.

Run with ``python examples/demo.py``. Everything uses the digits data, which
ships with scikit-learn, and runs offline on a laptop CPU in under a minute:

1. dimensionality reduction: PCA vs linear and non-linear autoencoders
   (test reconstruction error, accuracy of a linear classifier on the codes);
2. denoising: PCA vs DenoisingAutoencoder on noisy test images (PSNR);
3. outlier detection: IsolationForest, LocalOutlierFactor and PCA vs
   AutoencoderOutlierDetector on digits 0-4 with a few 5-9 planted (ROC-AUC),
   as a table and as 8x8 images (a convolutional network), then the detector
   asked for 5 % false alarms on new digits 0-4.
"""

import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
)
from skae.metrics import psnr


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


def dimensionality_reduction(X, y, n_components=8):
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    print(f"\n1. Dimensionality reduction, n_components={n_components}")
    print(f"{'model':<34}{'test MSE':>10}{'codes acc':>11}{'fit s':>8}")
    models = {
        "PCA": PCA(n_components),
        "AutoencoderTransformer (linear)": AutoencoderTransformer(
            n_components,
            hidden_layer_sizes=(),
            activation="identity",
            learning_rate_init=3e-3,
            tol=0,
            max_iter=400,
            random_state=0,
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


def denoising(X, sigma=0.2):
    X = X / 16.0
    X_train, X_test = train_test_split(X, test_size=0.3, random_state=0)
    noise = np.random.default_rng(0).normal(scale=sigma, size=X_test.shape)
    noisy = np.clip(X_test + noise, 0, 1)
    print(f"\n2. Denoising: test images with Gaussian noise sigma={sigma}")
    print(f"{'model':<34}{'PSNR dB':>10}{'fit s':>8}")
    print(f"{'noisy input':<34}{psnr(X_test, noisy):>10.2f}{'-':>8}")
    best = max(
        (psnr(X_test, np.clip(p.inverse_transform(p.transform(noisy)), 0, 1)), k, p)
        for k, p in ((k, PCA(k).fit(X_train)) for k in (8, 16, 32))
    )
    print(f"{f'PCA (best of 8/16/32: {best[1]})':<34}{best[0]:>10.2f}{'-':>8}")
    dae = DenoisingAutoencoder(
        32, noise_level=sigma, hidden_layer_sizes=(128,), max_iter=300, random_state=0
    )
    seconds = timed_fit(dae, X_train)
    print(
        f"{'DenoisingAutoencoder':<34}{psnr(X_test, dae.denoise(noisy)):>10.2f}"
        f"{seconds:>8.1f}"
    )


def outlier_detection(X, y, n_outliers=40):
    rng = np.random.default_rng(0)
    inliers = np.flatnonzero(y < 5)
    outliers = rng.choice(np.flatnonzero(y >= 5), n_outliers, replace=False)
    rows = np.concatenate([inliers, outliers])
    X_table, is_outlier = X[rows], np.r_[np.zeros(inliers.size), np.ones(n_outliers)]
    print(
        f"\n3. Outlier detection: {inliers.size} digits 0-4, "
        f"{n_outliers} digits 5-9 planted (fit and score on all rows)"
    )
    print(f"{'model':<34}{'ROC-AUC':>10}{'fit s':>8}")
    detectors = {
        "IsolationForest": IsolationForest(random_state=0),
        "LocalOutlierFactor": LocalOutlierFactor(),
        "PCA reconstruction error": make_pipeline(StandardScaler(), PCA(0.5)),
        "AutoencoderOutlierDetector": make_pipeline(
            StandardScaler(), AutoencoderOutlierDetector(random_state=0)
        ),
        # The pixels as images: a convolutional network, on raw pixels (a
        # per-pixel scaler would weigh the empty borders like the strokes).
        "AutoencoderOutlierDetector (conv)": AutoencoderOutlierDetector(
            image_shape=(8, 8), random_state=0
        ),
    }
    for name, model in detectors.items():
        seconds = timed_fit(model, X_table)
        auc = roc_auc_score(is_outlier, outlier_scores(model, X_table))
        print(f"{name:<34}{auc:>10.3f}{seconds:>8.1f}")
    false_alarms(X, y)


def false_alarms(X, y, rate=0.05):
    """A chosen false-alarm rate, kept on digits the detector never saw."""
    inliers, others = np.flatnonzero(y < 5), np.flatnonzero(y >= 5)
    train, new = train_test_split(inliers, test_size=0.3, random_state=0)
    # Clean training data (novelty detection): one training round, as the
    # user guide advises, since there are no outliers for later rounds to
    # leave out.
    detector = make_pipeline(
        StandardScaler(),
        AutoencoderOutlierDetector(
            n_rounds=1, calibration_fraction=0.3, false_alarm_rate=rate, random_state=0
        ),
    ).fit(X[train])
    flagged_new = np.mean(detector.predict(X[new]) == -1)
    flagged_others = np.mean(detector.predict(X[others]) == -1)
    print(
        f"false_alarm_rate={rate} (fit on {train.size} digits 0-4, 30 % of them "
        f"held out to calibrate): flags {flagged_new:.1%} of {new.size} new "
        f"digits 0-4 and {flagged_others:.1%} of the {others.size} digits 5-9"
    )


def outlier_scores(model, X):
    """Higher = more outlying, for each of the fitted detectors above."""
    if isinstance(model, LocalOutlierFactor):
        return -model.negative_outlier_factor_
    if hasattr(model, "steps") and isinstance(model[-1], PCA):
        Z = model[:-1].transform(X)
        return ((model[-1].inverse_transform(model[-1].transform(Z)) - Z) ** 2).sum(1)
    return -model.score_samples(X)


if __name__ == "__main__":
    X, y = load_digits(return_X_y=True)
    print(f"Digits {X.shape}, shipped with scikit-learn")
    dimensionality_reduction(X, y)
    denoising(X)
    outlier_detection(X, y)
