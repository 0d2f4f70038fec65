"""The outlier detector's threshold: by contamination, or split-conformal.

``offset_`` comes from one of two rules, and both move without retraining:

- ``contamination`` reads it off the training scores: their ``100 *
  contamination`` percentile, or Tukey's fence with ``'auto'``;
- ``false_alarm_rate`` reads it off calibration scores (rows held out of
  training, or vouched for by the user with ``calibrate``): a row's p-value
  is the (weighted) share of calibration scores at most its own, and the
  rows of p-value at most the rate are flagged, which bounds the rate of
  flagged inliers whatever the network (Vovk et al.; Bates et al., "Testing
  for outliers with conformal p-values", 2023).
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings

import numpy as np
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ._scores import pvalue_steps, weighted_percentile
from ._seeds import Stream, derived_seed
from ._sklearn_compat import _check_sample_weight


def hold_out(n_samples, sample_weight, fraction, seed):
    """The training and the calibration rows, in order, or ``(None, None)``.

    ``(None, None)`` when ``fraction`` (``calibration_fraction``) is 0: every
    row trains. Calibration rows are drawn among the rows of positive weight
    (a row of weight 0 is absent, so cannot vouch for the threshold), at
    least one; the training rows are all the others.
    """
    if fraction == 0:
        return None, None
    candidates = np.arange(n_samples)
    if sample_weight is not None:
        candidates = np.flatnonzero(sample_weight)
    n_calibration = max(1, int(round(fraction * candidates.size)))
    if candidates.size - n_calibration < 2:
        raise ValueError(
            f"calibration_fraction={fraction!r} holds out {n_calibration} of the "
            f"{candidates.size} rows (of positive weight), leaving "
            f"{candidates.size - n_calibration} to train on; training needs at "
            "least 2. Lower calibration_fraction or pass more rows."
        )
    rng = np.random.default_rng(derived_seed(seed, Stream.CALIBRATION))
    calibration = np.sort(rng.choice(candidates, n_calibration, replace=False))
    train = np.setdiff1d(np.arange(n_samples), calibration, assume_unique=True)
    return train, calibration


# contamination='auto' is Tukey's (inner) fence on the training errors: the
# third quartile plus this many interquartile ranges.
_TUKEY_FENCE_IQRS = 1.5


class ThresholdMixin:
    """The outlier detector's threshold, training and calibration scores.

    Mixed into :class:`~skae.AutoencoderOutlierDetector`, which provides
    ``score_samples``, ``_detector_errors(X, per_feature)`` (the squared
    errors its scores are minus) and the ``contamination``,
    ``false_alarm_rate`` and ``calibration_fraction`` parameters. The
    training scores are kept as ``training_scores_`` with their weights, the
    calibration scores sorted, as ``calibration_scores_``, with theirs.
    :meth:`decision_function` and :meth:`predict` read the scores against
    the threshold ``offset_``.
    """

    def decision_function(self, X):
        """Shifted score: negative for outliers, positive for inliers.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``score_samples(X) - offset_``, in float64.
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """Label each row as an inlier (+1) or an outlier (-1).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to label.

        Returns
        -------
        is_inlier : ndarray of shape (n_samples,)
            ``-1`` where :meth:`decision_function` is negative, else ``+1``.
        """
        decision = self.decision_function(X)
        is_inlier = np.ones(decision.shape[0], dtype=int)
        is_inlier[decision < 0] = -1
        return is_inlier

    def set_contamination(self, contamination):
        """Move the threshold to a new ``contamination``, without retraining.

        Training does not depend on ``contamination``, so this sets the
        ``offset_`` that fitting with the new value would give (exactly so
        with an int ``random_state``, which makes fits repeatable), at the
        cost of one percentile over the stored ``training_scores_``. While
        ``false_alarm_rate`` is set and calibration scores exist, the
        threshold stays the conformal one: this only changes
        ``contamination``, which takes over once
        ``set_false_alarm_rate(None)`` is called.

        Parameters
        ----------
        contamination : 'auto' or float in (0, 0.5]
            The new value; see the ``contamination`` parameter.

        Returns
        -------
        self : object
            The detector, with ``contamination`` and ``offset_`` updated.
        """
        check_is_fitted(self)
        previous = self.contamination
        self.contamination = contamination
        try:
            self._validate_params()
        except (TypeError, ValueError):
            self.contamination = previous
            raise
        self.offset_ = self._threshold()
        return self

    def calibrate(self, X, sample_weight=None):
        """Score rows known to be inliers and keep them as calibration scores.

        The scores replace any ``calibration_scores_`` (those of the rows
        ``fit`` held out included); :meth:`pvalues` and, when
        ``false_alarm_rate`` is set, ``offset_`` then come from them. The
        network is not changed. The guarantee of ``false_alarm_rate`` needs
        these rows to be drawn as the inliers to come are, and not to have
        been trained on.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows the user vouches for as inliers.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row, as a repetition count: p-values
            count a row of weight 2 twice, and rows of weight 0 are left out.

        Returns
        -------
        self : object
            The detector, with ``calibration_scores_`` (and ``offset_``)
            updated.
        """
        self._validate_params()
        X = self._validate_fitted(X)
        if sample_weight is not None:
            # Not reduced to None when uniform: unlike training, p-values
            # change with the scale of the counts.
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=np.float64, ensure_non_negative=True
            )
        scores = -self._detector_errors(X, per_feature=False)
        self._set_calibration_scores(scores, sample_weight)
        self.offset_ = self._threshold()
        return self

    def set_false_alarm_rate(self, false_alarm_rate):
        """Move the threshold to a new ``false_alarm_rate``, without retraining.

        Sets the conformal threshold of ``false_alarm_rate`` on the stored
        ``calibration_scores_``, as fitting with it would; ``None`` returns
        to the threshold of ``contamination``.

        Parameters
        ----------
        false_alarm_rate : float in (0, 1) or None
            The new value; see the ``false_alarm_rate`` parameter.

        Returns
        -------
        self : object
            The detector, with ``false_alarm_rate`` and ``offset_`` updated.

        Raises
        ------
        NotFittedError
            If ``false_alarm_rate`` is a float and the detector has no
            calibration scores (see :meth:`calibrate`).
        """
        check_is_fitted(self)
        previous = self.false_alarm_rate
        self.false_alarm_rate = false_alarm_rate
        try:
            self._validate_params()
            if false_alarm_rate is not None:
                self._check_calibrated()
        except (TypeError, ValueError):
            # NotFittedError is a ValueError: the old value stays.
            self.false_alarm_rate = previous
            raise
        self.offset_ = self._threshold()
        return self

    def pvalues(self, X):
        """Split-conformal p-values: how typical each row is of the inliers.

        A row's p-value is ``(1 + k) / (1 + n)``, where ``n`` is the number
        of calibration scores and ``k`` the number of them at most the row's
        :meth:`score_samples` (with weights, sums of the calibration rows'
        weights replace both counts). Small p-values are outlying: a fresh
        row drawn as the calibration rows were (an inlier) gets a p-value at
        most ``alpha`` with probability at most ``alpha``, whatever the
        network, which is what ``false_alarm_rate`` relies on.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to test.

        Returns
        -------
        pvalues : ndarray of shape (n_samples,)
            P-values in (0, 1], in float64, non-decreasing in
            :meth:`score_samples`.

        Raises
        ------
        NotFittedError
            If the detector has no calibration scores: set
            ``calibration_fraction`` before fitting, or call
            :meth:`calibrate`.

        Notes
        -----
        ``false_alarm_rate`` is a split-conformal guarantee: if the
        calibration rows and a new inlier are exchangeable (drawn alike, and
        none trained on), the probability that the new inlier is flagged is
        at most ``false_alarm_rate``, whatever the network. The probability
        is over the calibration rows and the new row together: on one given
        calibration set the realised rate varies around
        ``false_alarm_rate`` with a spread of about ``sqrt(a * (1 - a) /
        n)`` for ``a = false_alarm_rate`` and ``n`` calibration rows, so
        hold out a few hundred rows for a precise rate. ``n`` also bounds
        the smallest useful rate: p-values are at least ``1 / (n + 1)``,
        and a smaller ``false_alarm_rate`` flags nothing (with a warning).
        When the training data hold outliers, so do the rows held out of
        them, which only makes the threshold conservative: fewer inliers
        are flagged than ``false_alarm_rate``.
        """
        check_is_fitted(self)
        self._check_calibrated()
        values, pvalues = pvalue_steps(
            self.calibration_scores_, self._calibration_weights
        )
        scores = self.score_samples(X)
        return pvalues[np.searchsorted(values, scores, side="right")]

    def _hold_out(self, n_samples, sample_weight, seed):
        """The training and calibration rows of a fit (see :func:`hold_out`)."""
        if self.calibration_fraction == 0 and self.false_alarm_rate is not None:
            raise ValueError(
                f"false_alarm_rate={self.false_alarm_rate!r} needs calibration "
                "scores, from rows held out of training: set "
                "calibration_fraction (e.g. 0.2), or fit without "
                "false_alarm_rate, then call calibrate(X_inliers) and "
                "set_false_alarm_rate(false_alarm_rate)."
            )
        return hold_out(n_samples, sample_weight, self.calibration_fraction, seed)

    def _set_fitted_scores(self, scores, sample_weight, train, calibration):
        """Split the scores of every row of a fit into training and
        calibration scores (``calibration`` None: none held out), then set
        the threshold."""
        if calibration is None:
            self._forget_calibration()
            self._set_training_scores(scores, sample_weight)
            return
        weights = None if sample_weight is None else sample_weight[calibration]
        self._set_calibration_scores(scores[calibration], weights)
        weights = None if sample_weight is None else sample_weight[train]
        self._set_training_scores(scores[train], weights)

    def _set_training_scores(self, scores, weights=None):
        self.training_scores_ = scores
        # Kept for set_contamination, which must weigh the scores alike.
        self._score_weights = weights
        self.offset_ = self._threshold()

    def _threshold(self):
        """``offset_`` for the current parameters and stored scores."""
        if self.false_alarm_rate is not None and hasattr(self, "calibration_scores_"):
            return self._conformal_offset()
        weights = getattr(self, "_score_weights", None)
        return self._contamination_offset(self.training_scores_, weights)

    def _contamination_offset(self, scores, weights=None):
        if self.contamination != "auto":
            q = 100.0 * self.contamination
            return float(weighted_percentile(scores, weights, q))
        q1, q3 = weighted_percentile(-scores, weights, [25, 75])
        return -float(q3 + _TUKEY_FENCE_IQRS * (q3 - q1))

    def _set_calibration_scores(self, scores, weights=None):
        if weights is not None:
            scores, weights = scores[weights > 0], weights[weights > 0]
        order = np.argsort(scores, kind="stable")
        self.calibration_scores_ = scores[order]
        self._calibration_weights = None if weights is None else weights[order]

    def _forget_calibration(self):
        self.__dict__.pop("calibration_scores_", None)
        self.__dict__.pop("_calibration_weights", None)

    def _drop_stale_calibration(self):
        # Calibration scores were measured with the network before this
        # call: a threshold from them would promise a rate it cannot keep.
        stale = hasattr(self, "calibration_scores_")
        self._forget_calibration()
        if stale and self.false_alarm_rate is not None:
            warnings.warn(
                "partial_fit changed the network, so the calibration scores no "
                "longer apply and were dropped: offset_ follows contamination "
                "until calibrate(X_inliers) is called again.",
                UserWarning,
                # The caller of partial_fit, past _fit_context's wrapper.
                stacklevel=4,
            )

    def _conformal_offset(self):
        """The lowest score whose p-value exceeds ``false_alarm_rate``.

        Read off the same p-values :meth:`pvalues` returns, so that a row is
        flagged exactly when its p-value is at most ``false_alarm_rate``.
        """
        values, pvalues = pvalue_steps(
            self.calibration_scores_, self._calibration_weights
        )
        # p-values increase with the score and the last is 1: the first
        # n_flagged steps (none, or up to the score values[n_flagged - 1]) are
        # flagged.
        n_flagged = int(np.searchsorted(pvalues, self.false_alarm_rate, side="right"))
        if n_flagged == 0:
            self._warn_nothing_flagged(pvalues[0])
            return -np.inf
        return float(values[n_flagged - 1])

    def _warn_nothing_flagged(self, smallest):
        weights = self._calibration_weights
        n = self.calibration_scores_.size if weights is None else weights.sum()
        warnings.warn(
            f"false_alarm_rate={self.false_alarm_rate:g} is below {smallest:.3g} "
            f"= 1 / (n + 1), the smallest p-value that n = {n:g} calibration "
            "rows can give, so no row will be flagged. Calibrate on more rows "
            "or raise false_alarm_rate.",
            UserWarning,
            # The caller of set_false_alarm_rate or calibrate.
            stacklevel=5,
        )

    def _check_calibrated(self):
        if not hasattr(self, "calibration_scores_"):
            raise NotFittedError(
                f"This {type(self).__name__} has no calibration scores: set "
                "calibration_fraction (e.g. 0.2) before fit, or call "
                "calibrate(X_inliers) with rows known to be inliers."
            )
