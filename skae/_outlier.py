"""AutoencoderOutlierDetector: outlier detection by reconstruction error."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.base import OutlierMixin
from sklearn.utils import check_random_state

from ._base import training_weights
from ._callbacks import fit_task
from ._docstrings import fill_doc
from ._ensemble import (
    ensemble_errors,
    fit_members,
    member_task,
    partial_fit_members,
    train_own_member,
)
from ._reconstruction import _ReconstructionAutoencoder
from ._rounds import callback_subtasks
from ._sklearn_compat import Interval, RealNotInt, StrOptions, _fit_context
from ._thresholds import ThresholdMixin
from ._training import StopReason

# n_components='auto': one code unit per this many features, within the
# bounds below; hidden_layer_sizes='auto': this many hidden units per code
# unit, within its bounds (measured: see docs/benchmarks.rst).
_FEATURES_PER_CODE_UNIT = 24
_AUTO_CODE_BOUNDS = (2, 32)
# With image_shape: one code unit per this many pixels, within these bounds.
# On digits (8 x 8) with 40 planted 5-9s, a convolutional detector's ROC-AUC
# was 0.876 with a code of 4, 0.882 with 8 and 0.922 with 16 (three seeds,
# images centred by channel; tuned there, see docs/benchmarks.rst).
_PIXELS_PER_CODE_UNIT = 4
_AUTO_IMAGE_CODE_BOUNDS = (8, 32)
_HIDDEN_PER_CODE_UNIT = 8
_AUTO_HIDDEN_BOUNDS = (64, 256)


@fill_doc(
    n_components=(
        "int, 'auto' or None",
        """\
Width of the code (bottleneck) layer. A narrow code keeps the network
from learning to reproduce unusual rows. ``'auto'`` follows the number
of features: ``n_features // 24`` clipped to [2, 32] (and at most
``n_features``), so tables of up to 71 features get a code of 2 and
784-pixel images one of 32 (see Notes); with ``sparsity='topk'``, at
least ``sparsity_k + 1``, so that the code can be sparse. With
``image_shape``, ``'auto'`` is one unit per 4 pixels clipped to [8, 32]:
16 for 8 x 8 digits, 32 for 28 x 28 images. None (with
``image_shape`` and ``hidden_layer_sizes=()``) makes the last
convolution's feature map the code. The fitted width is
``n_components_``.""",
    ),
    hidden_layer_sizes=(
        "array-like of int or 'auto'",
        """\
Widths of the encoder layers between the input and the code layer; the
decoder mirrors them. ``()`` gives a single-layer encoder and decoder.
``'auto'`` is one layer of ``8 * n_components_`` units clipped to
[64, 256]. The fitted widths are ``hidden_layer_sizes_``.""",
    ),
    activation="""\
Activation of every hidden layer, the code layer included. The bounded
``'tanh'`` codes cannot represent values far outside the training range,
so rows that are extreme along the main directions of the data are
reconstructed badly and flagged, which a linear model such as PCA misses.""",
    loss="""\
Training loss. ``'mse'`` is the mean squared error divided by the mean
per-feature variance of the training data; ``'bce'`` is the binary
cross-entropy (needs ``output_activation='sigmoid'`` and data in [0, 1]).
Scores are squared errors either way.""",
    max_iter="""\
Maximum number of epochs (passes over the training data) of each
training round.""",
)
class AutoencoderOutlierDetector(
    ThresholdMixin, OutlierMixin, _ReconstructionAutoencoder
):
    """Outlier detection by autoencoder reconstruction error.

    An autoencoder learns to reconstruct the bulk of the training data; rows
    it reconstructs badly are unlike that bulk. :meth:`score_samples` is
    minus each row's mean squared reconstruction error (higher is more
    normal), and the estimator follows the contract of
    :class:`~sklearn.ensemble.IsolationForest`: :meth:`decision_function`
    is ``score_samples(X) - offset_`` (negative for outliers) and
    :meth:`predict` returns +1 for inliers and -1 for outliers.

    Training is robust to the outliers it is meant to find: a network
    trained on every row learns to reconstruct the outliers too, so
    ``n_rounds - 1`` more rounds each train a fresh network on the rows the
    previous one reconstructed best (see ``n_rounds``). The final network
    scores every row; ``n_iter_``, the loss curves, ``encoder_`` and
    ``decoder_`` describe it.

    The squared error is measured in the units of ``X``: standardise features
    with different units first (``make_pipeline(StandardScaler(), ...)``).

    Parameters
    ----------
    contamination : 'auto' or float, default='auto'
        The expected proportion of outliers in the training data; it sets
        the threshold ``offset_`` only, never the training. With a float in
        (0, 0.5], ``offset_`` is the ``100 * contamination`` percentile of
        the training scores, so that fraction of the training rows is
        flagged. With ``'auto'`` the threshold comes from the spread of the
        training errors, by Tukey's box-plot rule: a row is flagged when its
        reconstruction error exceeds the third quartile of the training
        errors by more than 1.5 interquartile ranges. Change the threshold
        after fitting, without retraining, with :meth:`set_contamination`.
        Ignored for the threshold while ``false_alarm_rate`` is set and
        calibration scores exist.

    n_rounds : int, default=4
        Number of training rounds. The first trains on every row; each later
        round trains a fresh network on the rows with the smallest
        reconstruction errors under the previous round's network. ``1``
        trains a single network on every row, which suits clean training
        data (novelty detection): there are no outliers for the rounds to
        leave out, only the least typical inliers, and one round scored
        higher on clean tables and on MNIST (see the user guide). With
        ``warm_start=True`` each round continues training the existing
        network instead.

    trim_fraction : float, default=0.3
        Fraction of the rows left out of each round after the first: those
        with the largest reconstruction errors. Deliberately independent of
        ``contamination``, so that the threshold can change without
        retraining; a generous value costs little, as an autoencoder
        trained on 70% of the inliers reconstructs the others as well.

    max_samples : 'auto', int or float, default='auto'
        Rows each round trains on, at most: a random subsample (drawn anew
        each round, from the rows that round keeps) when there are more.
        ``'auto'`` is 20,000, an int is a number of rows and a float a
        fraction of the training rows. Every row is still scored: on large
        tables training costs a fixed amount.

    n_estimators : int, default=1
        Number of networks in an ensemble (the idea of RandNet, Chen et al.
        2017). The ``n_estimators - 1`` members besides this detector's own
        network (``members_``) are detectors like this one with other
        seeds, trained the same way on the same rows. Each network's
        squared errors are put on the scale of this detector's own (times
        the ratio of their medians over the training rows) and averaged:
        see ``member_weights_``. Training and scoring cost ``n_estimators``
        times as much. ``1`` (no ensemble) is the default because the
        ensembles did not pay on the benchmarks (see Notes).
        :meth:`reconstruct`, ``encoder_`` and the loss curves describe this
        detector's own network only. Interrupting the fit (Ctrl-C) ends the
        ensemble with the networks trained until then.

    calibration_fraction : float in [0, 1), default=0.0
        Fraction of the rows that :meth:`fit` holds out of training (at
        least one, drawn at random with ``random_state``, among the rows of
        positive weight) and scores as ``calibration_scores_``: the
        reference that :meth:`pvalues` and ``false_alarm_rate`` compare new
        rows with. No round trains on them, and ``training_scores_`` and the
        ``contamination`` threshold come from the other rows. ``0`` holds
        out nothing. With ``warm_start=True``, keep an int ``random_state``
        so that every fit holds out the same rows, none of which an earlier
        fit trained on.

    false_alarm_rate : float in (0, 1) or None, default=None
        The fraction of inliers that may be flagged. When set, ``offset_``
        is the split-conformal threshold of the calibration scores: a row is
        flagged exactly when its :meth:`pvalues` is at most
        ``false_alarm_rate``, so a fresh inlier is flagged with probability
        at most ``false_alarm_rate`` (see :meth:`pvalues`), and ``contamination`` no
        longer sets the threshold. Needs ``calibration_fraction > 0`` at
        :meth:`fit`; or fit without it, call :meth:`calibrate` on rows known
        to be inliers and then :meth:`set_false_alarm_rate`.

    {n_components}

    {architecture_parameters}

    {image_parameters}

    {training_parameters}

    {regularization_parameters}

    {runtime_parameters}

    Attributes
    ----------
    offset_ : float
        Threshold on :meth:`score_samples`: ``decision_function`` is
        ``score_samples(X) - offset_`` and rows below it are outliers.

    max_samples_ : int
        Rows each training round of :meth:`fit` trained on at most:
        ``max_samples`` resolved.

    training_scores_ : ndarray of shape (n_samples,)
        :meth:`score_samples` of the training rows under the final network
        (of the latest chunk after :meth:`partial_fit`), kept so that
        :meth:`set_contamination` can move the threshold without
        retraining. With ``calibration_fraction > 0``, of the rows that were
        not held out only, in order: shape (n_samples - n_calibration,).

    calibration_scores_ : ndarray of shape (n_calibration,)
        :meth:`score_samples` of the calibration rows, sorted ascending: of
        the rows :meth:`fit` held out (``calibration_fraction``) or of the
        rows last passed to :meth:`calibrate` (rows of weight 0 left out).
        Absent when there are none; :meth:`partial_fit` removes them, as
        they describe the network before it.

    members_ : list of AutoencoderOutlierDetector
        The ensemble's members besides this detector's own network:
        ``n_estimators - 1`` fitted detectors, each with ``n_estimators=1``
        and its own ``random_state``; empty when ``n_estimators=1``.

    member_weights_ : ndarray of shape (n_estimators,)
        Weight of each network's squared errors in the ensemble's, this
        detector's own network first: ``m_0 / (m_i * n_estimators)``, where
        ``m_i`` is the (weighted) median squared error of network ``i``
        over the training rows (``1 / n_estimators`` each when a median is
        0). ``[1.0]`` without an ensemble.

    {fitted_attributes}

    See Also
    --------
    sklearn.ensemble.IsolationForest : Outlier detection by random splits.
    sklearn.neighbors.LocalOutlierFactor : Outlier detection by local density.
    AutoencoderTransformer : The autoencoder as a transformer.

    Notes
    -----
    The defaults (bounded ``'tanh'`` codes, a code of 2 and 64 hidden
    units on tables of up to 71 features and wider ones on wider data, four
    rounds of 50 epochs each retraining on the best-reconstructed 70 % of
    the rows, no ensemble) were chosen on ten ODDS/ADBench tables and on
    Fashion-MNIST, and judged on MNIST, which they were not tuned on; the
    figures are on the benchmarks page of the documentation
    (``benchmarks/bench_outliers.py``, ``bench_image_outliers.py``).
    On large tables the cost of training is fixed by ``max_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skae import AutoencoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 2)) @ rng.normal(size=(2, 6))  # on a plane
    >>> X[:4] = rng.normal(scale=3, size=(4, 6))  # four rows off it
    >>> detector = make_pipeline(
    ...     StandardScaler(),
    ...     AutoencoderOutlierDetector(contamination=0.02, max_iter=20, random_state=0),
    ... )
    >>> detector.fit_predict(X)[:6]
    array([-1, -1, -1, -1,  1,  1])
    >>> _ = detector[-1].set_contamination(0.05)  # a new threshold, no retraining
    >>> int((detector.predict(X) == -1).sum())
    10

    Holding out a quarter of clean training rows to flag at most 5% of new
    inliers, with p-values that say how unusual each new row is:

    >>> plane = rng.normal(size=(2, 6))
    >>> inliers = rng.normal(size=(400, 2)) @ plane
    >>> detector = AutoencoderOutlierDetector(
    ...     calibration_fraction=0.25, false_alarm_rate=0.05, max_iter=20,
    ...     random_state=0,
    ... ).fit(inliers)
    >>> on_plane = rng.normal(size=(2, 2)) @ plane
    >>> new = np.vstack([on_plane, rng.normal(scale=3, size=(2, 6))])
    >>> detector.pvalues(new).round(3)  # at least 1 / 101: 100 calibration rows
    array([0.297, 0.703, 0.01 , 0.01 ])
    >>> detector.predict(new)
    array([ 1,  1, -1, -1])
    """

    # Each round's epoch budget is a deliberate limit (a network trained
    # longer learns to reconstruct the outliers too), not a failure to
    # converge worth a ConvergenceWarning.
    _max_iter_is_a_budget = True

    _parameter_constraints: dict = {
        **_ReconstructionAutoencoder._parameter_constraints,
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "n_rounds": [Interval(Integral, 1, None, closed="left")],
        "trim_fraction": [Interval(Real, 0, 1, closed="left")],
        "max_samples": [
            StrOptions({"auto"}),
            Interval(Integral, 2, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "n_components": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "hidden_layer_sizes": [
            StrOptions({"auto"}),
            *_ReconstructionAutoencoder._parameter_constraints["hidden_layer_sizes"],
        ],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "calibration_fraction": [Interval(Real, 0, 1, closed="left")],
        "false_alarm_rate": [None, Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        *,
        contamination="auto",
        n_rounds=4,
        trim_fraction=0.3,
        max_samples="auto",
        n_estimators=1,
        calibration_fraction=0.0,
        false_alarm_rate=None,
        n_components="auto",
        hidden_layer_sizes="auto",
        image_shape=None,
        conv_channels=(32, 64),
        kernel_size=3,
        activation="tanh",
        output_activation="identity",
        loss="mse",
        solver="adam",
        learning_rate_init=1e-3,
        batch_size="auto",
        max_iter=50,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        alpha=0.0,
        l1_ratio=0.0,
        dropout=0.0,
        sparsity=None,
        sparsity_target=0.05,
        sparsity_weight=0.01,
        sparsity_k=None,
        sparsity_k_start=None,
        sparsity_alpha=1.0,
        sparsity_rate=0.05,
        contractive_weight=0.0,
        tied_weights=False,
        warm_start=False,
        verbose=0,
        random_state=None,
        device="auto",
        n_threads="auto",
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            image_shape=image_shape,
            conv_channels=conv_channels,
            kernel_size=kernel_size,
            activation=activation,
            output_activation=output_activation,
            loss=loss,
            solver=solver,
            learning_rate_init=learning_rate_init,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            alpha=alpha,
            l1_ratio=l1_ratio,
            dropout=dropout,
            sparsity=sparsity,
            sparsity_target=sparsity_target,
            sparsity_weight=sparsity_weight,
            sparsity_k=sparsity_k,
            sparsity_k_start=sparsity_k_start,
            sparsity_alpha=sparsity_alpha,
            sparsity_rate=sparsity_rate,
            contractive_weight=contractive_weight,
            tied_weights=tied_weights,
            warm_start=warm_start,
            verbose=verbose,
            random_state=random_state,
            device=device,
            n_threads=n_threads,
        )
        self.contamination = contamination
        self.n_rounds = n_rounds
        self.trim_fraction = trim_fraction
        self.max_samples = max_samples
        self.n_estimators = n_estimators
        self.calibration_fraction = calibration_fraction
        self.false_alarm_rate = false_alarm_rate

    # ------------------------------------------------------------------
    # Fitting

    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder on ``X`` and set the threshold ``offset_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, outliers included.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row, as a repetition count (a row of
            weight 0 counts as absent). Besides training (see
            :class:`AutoencoderTransformer`), weights decide which rows each
            round leaves out (``trim_fraction`` of the total weight, the
            worst reconstructed first) and the threshold: ``offset_`` is a
            weighted percentile of the training scores, the percentile of
            the rows repeated as their weights say. Calibration rows are
            drawn among the rows of positive weight, and their weights
            count in :meth:`pvalues` (weights equal for every row are the
            unweighted fit, as for training).

        Returns
        -------
        self : object
            The fitted detector.
        """
        return super().fit(X, y, sample_weight=sample_weight)

    def _fit_full(self, X, sample_weight=None, labels=None):
        """Train the rounds (and members) on validated ``X``, then set the
        threshold."""
        # One draw for both streams: the subsamples of a fit without
        # calibration rows stay those of skae versions before them.
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        train, calibration = self._hold_out(X.shape[0], sample_weight, seed)
        errors, reason, stop = train_own_member(self, X, sample_weight, train, seed)
        # Read by an ensemble that trains this detector as a member: Ctrl-C
        # ends the ensemble too.
        self._interrupted = reason is StopReason.INTERRUPTED
        self.members_, self.member_weights_, ensemble = fit_members(
            self, X, sample_weight, train, seed, errors, stop
        )
        self._set_fitted_scores(-ensemble, sample_weight, train, calibration)
        return errors

    @_fit_context(prefer_skip_nested_validation=True)
    @fit_task
    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one epoch on ``X`` and reset the threshold from it.

        Each call trains the network for one epoch on the chunk (a single
        round: no rows are left out, and ``calibration_fraction`` holds none
        out), then scores the chunk and sets ``training_scores_`` and
        ``offset_`` from those scores. As the network changes,
        ``calibration_scores_`` no longer describe it and are removed (with a
        warning when ``false_alarm_rate`` is set): ``offset_`` follows
        ``contamination`` until :meth:`calibrate` is called again.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row of the chunk, as in :meth:`fit`.

        Returns
        -------
        self : object
            The updated detector.
        """
        with member_task(self, partial=True) as task:
            super().partial_fit(X, sample_weight=sample_weight)
            task.end()
        self._drop_stale_calibration()
        X = self._validate_fitted(X)
        weights = training_weights(sample_weight, X, min_rows=1)
        self.members_, self.member_weights_, ensemble = partial_fit_members(
            self, X, weights
        )
        self._set_training_scores(-ensemble, weights)
        return self

    _callback_subtasks = callback_subtasks

    def _n_components(self):
        if self.n_components != "auto":
            return super()._n_components()
        k = self.sparsity_k if self.sparsity == "topk" else None
        return auto_code_width(self.n_features_in_, k, self.image_shape is not None)

    def _hidden_sizes(self):
        if self.hidden_layer_sizes == "auto":
            return auto_hidden_sizes(self._code_width())
        return super()._hidden_sizes()

    def _detector_errors(self, X, per_feature):
        """The squared errors the scores are minus: the ensemble's."""
        return ensemble_errors(self, X, per_feature)

    def _exportable_methods(self):
        # An ensemble's scores need every member's network; the one
        # exported graph holds this detector's own.
        ensemble = getattr(self, "members_", [])
        return ["reconstruct"] if ensemble else super()._exportable_methods()

    def score_samples(self, X):
        """Minus the mean squared reconstruction error of each row.

        Higher is more normal. With an ensemble (``n_estimators > 1``), the
        errors are the weighted sum of its networks' (``member_weights_``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Minus the mean squared reconstruction error, in float64.
        """
        X = self._validate_fitted(X)
        return -self._detector_errors(X, per_feature=False)

    def reconstruction_errors(self, X, per_feature=False):
        """Squared reconstruction errors, per row or per feature.

        With ``per_feature=True`` each entry says how much a feature
        contributes to a row's error, which explains why a row was flagged
        (H2O's ``anomaly(per_feature=True)``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.

        per_feature : bool, default=False
            Return every feature's squared error instead of the row means.

        Returns
        -------
        errors : ndarray of shape (n_samples,) or (n_samples, `n_features_in_`)
            ``(reconstruct(X) - X) ** 2`` in float64 (weighted over an
            ensemble's networks), or its row means, which equal
            ``-score_samples(X)``.
        """
        X = self._validate_fitted(X)
        return self._detector_errors(X, per_feature=bool(per_feature))


def auto_code_width(n_features, sparsity_k=None, image=False):
    """The code width of ``n_components='auto'`` for ``n_features`` columns
    (pixels, for an ``image``), and a top-k code that keeps ``sparsity_k``
    (None: not a top-k code)."""
    per_unit = _PIXELS_PER_CODE_UNIT if image else _FEATURES_PER_CODE_UNIT
    low, high = _AUTO_IMAGE_CODE_BOUNDS if image else _AUTO_CODE_BOUNDS
    width = min(max(n_features // per_unit, low), high, n_features)
    return width if sparsity_k is None else max(width, sparsity_k + 1)


def auto_hidden_sizes(code_width):
    """The hidden layers of ``hidden_layer_sizes='auto'`` around a code."""
    low, high = _AUTO_HIDDEN_BOUNDS
    return (min(max(_HIDDEN_PER_CODE_UNIT * code_width, low), high),)
