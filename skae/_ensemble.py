"""The outlier detector's ensemble: networks that differ in seed, on one scale.

The detector's own network is the first member; ``members_`` holds the
others, detectors trained alike on the same rows with seeds of their own
(RandNet's idea, Chen et al. 2017). Each network's squared errors are put on
the scale of the first (times the ratio of their medians over the training
rows) and averaged: ``member_weights_``.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib

from sklearn.base import clone

from ._callbacks import current_task, report_under, subtask
from ._rounds import member_subtasks, train_rounds
from ._scores import member_weights, weighted_sum
from ._seeds import Stream, derived_seed

# What a member is besides this detector's parameters: one network, and no
# rows held out (the ensemble's calibration rows are held out of all).
_MEMBER_PARAMS = dict(n_estimators=1, calibration_fraction=0.0, false_alarm_rate=None)


def ensemble_errors(detector, X, per_feature):
    """The ensemble's squared errors of validated ``X``: every network's, weighted."""
    errors = detector._squared_errors(X, per_feature)
    members = getattr(detector, "members_", [])
    if not members:
        return errors
    every = [errors, *(m._squared_errors(X, per_feature) for m in members)]
    return weighted_sum(detector.member_weights_, every)


def train_own_member(detector, X, sample_weight, train, seed):
    """Train the detector's own network (its rounds) as the ensemble's first
    member; returns its rows' errors, stop reason and whether a callback
    asked the ensemble to stop."""
    with member_task(detector) as task:
        errors, reason = train_rounds(detector, X, sample_weight, train, seed)
        return errors, reason, task.end()


def fit_members(detector, X, sample_weight, train, seed, errors, stop=False):
    """Fit the other members on the training rows ``train`` (None: all).

    ``errors`` are every row's squared errors under the detector's own
    network. Returns the fitted members, their weights and every row's
    ensemble error. An interrupted network (Ctrl-C) is the last, as is one
    whose callback task asked to ``stop``: the ensemble is the networks
    trained until then.
    """
    keep = detector.warm_start
    stop = stop or detector._interrupted
    members = [] if stop else _members(detector, seed, keep)
    rows = slice(None) if train is None else train
    X_train = X if train is None else X[train]
    weights = None if sample_weight is None else sample_weight[rows]
    fitted, every = [], [errors]
    for number, member in enumerate(members, start=2):
        if detector.verbose:
            print(f"Ensemble member {number} of {detector.n_estimators}", flush=True)
        with member_task(detector, member) as task:
            member.fit(X_train, sample_weight=weights)
            stop = task.end()
        fitted.append(member)
        every.append(member._squared_errors(X, per_feature=False))
        if member._interrupted or stop:
            break
    scale = member_weights([e[rows] for e in every], weights)
    return fitted, scale, weighted_sum(scale, every)


def partial_fit_members(detector, X, weights):
    """Train every member for one epoch on validated ``X`` (``partial_fit``).

    The fitted members continue with the detector's current parameters.
    Returns the members, their weights and every row's ensemble error.
    """
    members = _members(detector, detector._seed, keep=True)
    every = [detector._squared_errors(X, per_feature=False)]
    for member in members:
        with member_task(detector, member, partial=True) as task:
            member.partial_fit(X, sample_weight=weights)
            task.end()
        every.append(member._squared_errors(X, per_feature=False))
    scale = member_weights(every, weights)
    return members, scale, weighted_sum(scale, every)


@contextlib.contextmanager
def member_task(detector, member=None, partial=False):
    """Train a network of the ensemble (``member``, or the detector's own) as
    a callback task of the detector: yields the task, which the body ends."""
    n = 1 if partial else member_subtasks(detector)
    several = detector.n_estimators > 1
    with subtask(detector, "member", n, when=several) as task:
        if member is None:
            yield task
            return
        with report_under(member, current_task(detector)):
            yield task


def _members(detector, seed, keep=False):
    """The ensemble's other members, unfitted unless ``keep``-ing the fitted
    ones (warm start, ``partial_fit``), which take the current parameters."""
    kept = getattr(detector, "members_", [])
    if keep and len(kept) == detector.n_estimators - 1:
        params = detector.get_params(deep=False) | _MEMBER_PARAMS
        for member in kept:
            member.set_params(**{**params, "random_state": member.random_state})
        return kept
    n = detector.n_estimators
    seeds = [derived_seed(seed, Stream.ENSEMBLE, i) for i in range(1, n)]
    members = [
        clone(detector).set_params(**_MEMBER_PARAMS, random_state=s) for s in seeds
    ]
    for member in members:
        # clone shares the detector's callbacks; a member reports through
        # the detector's tasks and must not keep them (nor pickle them).
        member.__dict__.pop("_skl_callbacks", None)
    return members
