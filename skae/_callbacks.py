"""scikit-learn's callbacks (``sklearn.callback``, 1.9+): a fit's task tree.

A fit is a tree of tasks: the root (``fit`` or ``partial_fit``), then, for
the outlier detector, its ensemble members and training rounds, then the
epochs, which are the leaves. Each task tells the callbacks it began and
ended; a callback that returns True at a task's end stops the tasks of its
level (at an epoch: the training run, as early stopping would).

Without callbacks (none set, or scikit-learn older than 1.9) every task is
:data:`NO_TASK`, which does nothing: a fit pays for callbacks only when one
listens.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import functools

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9: no callbacks, and no set_callbacks.

    class CallbackSupportMixin:
        """Stands in for scikit-learn's mixin before scikit-learn 1.9."""


__all__ = [
    "CallbackSupportMixin",
    "NO_TASK",
    "Task",
    "current_task",
    "epoch_observer",
    "epoch_subtasks",
    "fit_task",
    "report_under",
    "subtask",
]


class Task:
    """A task of a fit's callback tree: a ``CallbackContext`` and what its
    hooks are told.

    ``estimator`` is the estimator whose callbacks these are (a detector's
    members and an imputer's model report as it); ``X``, ``y`` and
    ``metadata`` are the fit's, as scikit-learn passes them.
    """

    def __init__(self, context, estimator, X, y, metadata):
        self.context = context
        self.estimator = estimator
        self.data = {"X": X, "y": y, "metadata": metadata}

    def subtask(self, name, max_subtasks=0):
        """Begin a subtask named ``name``; ``max_subtasks=0`` makes a leaf."""
        context = self.context.subcontext(task_name=name, max_subtasks=max_subtasks)
        task = Task(context, self.estimator, **self.data)
        context.call_on_fit_task_begin(estimator=self.estimator, **self.data)
        return task

    def end(self, fitted=None):
        """End the task; returns whether a callback asks its level to stop.

        ``fitted`` is a callable returning the attributes that make a copy
        of the estimator usable as it stands at this task's end (None: the
        callbacks get no ``fitted_estimator``); it is called only for a
        callback that asks for one.
        """
        return self.context.call_on_fit_task_end(
            estimator=self.estimator, reconstruction_attributes=fitted, **self.data
        )


class _NoTask:
    """The task of a fit no callback listens to: every call does nothing."""

    def subtask(self, name, max_subtasks=0):
        return self

    def end(self, fitted=None):
        return False


NO_TASK = _NoTask()


def current_task(estimator):
    """The task the estimator's training runs now report under (NO_TASK
    outside a tree)."""
    return _given_task(estimator) or NO_TASK


def _given_task(estimator):
    """The task ``estimator`` was given, or None.

    Kept with the estimator it was given to: a copy made during a fit (a
    callback's ``fitted_estimator``) carries the attribute but is not its
    owner, so it fits later with a tree of its own.
    """
    owner, task = estimator.__dict__.get("_skae_task", (None, None))
    return task if owner is estimator else None


def _give_task(estimator, task):
    estimator._skae_task = (estimator, task)


@contextlib.contextmanager
def subtask(estimator, name, max_subtasks, *, when=True):
    """Run the body as a subtask of ``estimator``'s current task.

    Yields the subtask, which the body ends (its end says whether to stop
    the level). When not ``when`` (a level of a single task, left out of the
    tree) the body runs under the current task and yields ``NO_TASK``.
    """
    parent = current_task(estimator)
    if not when:
        yield NO_TASK
        return
    task = parent.subtask(name, max_subtasks)
    _give_task(estimator, task)
    try:
        yield task
    finally:
        _give_task(estimator, parent)


def _root(estimator, name, X, y, sample_weight):
    """Begin the root task of ``estimator``'s ``name`` call, or NO_TASK."""
    if not getattr(estimator, "_skl_callbacks", None):
        return NO_TASK
    context = estimator._init_callback_context(
        task_name=name, max_subtasks=estimator._callback_subtasks(name)
    )
    metadata = None if sample_weight is None else {"sample_weight": sample_weight}
    task = Task(context, estimator, X, y, metadata)
    context.call_on_fit_task_begin(estimator=estimator, **task.data)
    return task


def epoch_subtasks(estimator, method):
    """The most subtasks (epochs) of the root task of ``estimator``'s
    ``method``: ``max_iter`` for ``fit``, one for ``partial_fit``."""
    return 1 if method == "partial_fit" else estimator.max_iter


def fit_task(method):
    """Make ``method`` (``fit`` or ``partial_fit``) the root task of a tree.

    A call inside another's tree (a detector's member, an imputer's model,
    a subclass calling its parent's method) reports under the task it was
    given and makes no root of its own. The root ends once the method has
    set every fitted attribute, so its ``fitted_estimator`` is the result.
    """

    @functools.wraps(method)
    def wrapper(self, X, y=None, *args, **kwargs):
        if _given_task(self) is not None:
            return method(self, X, y, *args, **kwargs)
        sample_weight = kwargs.get("sample_weight", args[0] if args else None)
        root = _root(self, method.__name__, X, y, sample_weight)
        _give_task(self, root)
        try:
            result = method(self, X, y, *args, **kwargs)
        finally:
            del self._skae_task
        root.end(dict)
        return result

    return wrapper


@contextlib.contextmanager
def report_under(estimator, task):
    """Have ``estimator``'s fits in the body report under ``task``."""
    _give_task(estimator, task)
    try:
        yield estimator
    finally:
        estimator.__dict__.pop("_skae_task", None)


class _EpochTasks:
    """A training run's observer: each epoch is a leaf task under ``parent``."""

    def __init__(self, parent, fitted):
        self.parent = parent
        self.fitted = fitted
        self._epoch = NO_TASK

    def begin(self):
        self._epoch = self.parent.subtask("epoch")

    def end(self):
        return self._epoch.end(self.fitted)


def epoch_observer(estimator, fitted):
    """The observer of ``estimator``'s next training run, or None when no
    callback listens.

    ``fitted`` (a callable giving the attributes of the estimator as it
    stands) makes the callbacks' ``fitted_estimator`` when the tree's
    estimator is of ``estimator``'s class (itself, or a detector for its
    members); an imputer's model reports its epochs with none.
    """
    parent = current_task(estimator)
    if parent is NO_TASK:
        return None
    same_kind = type(parent.estimator) is type(estimator)
    return _EpochTasks(parent, fitted if same_kind else None)
