"""Faults during training and inference: divergence, Ctrl-C, out of memory.

A fault either stops the call with a clear error or leaves a model that
works (finite outputs) and says, with a warning, what it kept; it never
leaves a model that emits NaN.
"""

import inspect
import warnings

import numpy as np
import pytest
import torch
from _reliability import (
    all_outputs,
    assert_finite,
    assert_outputs_equal,
    blobs,
    call,
    class_id,
    data_methods,
    make_estimator,
    public_estimator_classes,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

import skae._training as training

ESTIMATORS = public_estimator_classes()
X = blobs()
# Three batches of 8 rows per epoch.
SMALL_BATCHES = dict(batch_size=8, shuffle=False)


def _fit_recording(estimator, method="fit", data=X):
    """Call ``method``; returns the warnings it raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(estimator, method)(data)
    return [w for w in caught if not issubclass(w.category, DeprecationWarning)]


def _messages(caught, category):
    return [str(w.message) for w in caught if issubclass(w.category, category)]


def _on_call(n, action, real):
    """A stand-in for ``real`` that runs ``action`` on its ``n``-th call."""
    calls = {"n": 0}

    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            return action(real, *args, **kwargs)
        return real(*args, **kwargs)

    return wrapper


def _step_of(cls):
    """Where ``cls``'s training step is looked up: the module and name to
    patch (``skae._training.train_step`` unless the family has its own)."""
    step = cls()._training_step()
    if step is None:
        return training, "train_step"
    return inspect.getmodule(cls), step.__name__


def _raise(exc):
    def action(real, *args, **kwargs):
        raise exc

    return action


# ----------------------------------------------------------------------
# Divergence


def _expected_outcome(cls, solver, learning_rate_init, batch_size):
    """How a fit at a huge learning rate ends, by construction.

    ``'raises'``: no epoch gave usable weights, the fit raises and leaves
    the estimator unfitted. ``'restores'``: an epoch diverged, the best
    earlier epoch is kept with a warning. ``'fits'``: training never
    diverges.
    """
    if learning_rate_init == 1e300:
        # Any step overflows the weights.
        return "raises"
    if solver != "sgd" or cls.__name__ == "AutoencoderOutlierDetector":
        # Adaptive steps are bounded by the learning rate, so the weights
        # wander off finitely; the detector's tanh units saturate instead
        # of overflowing.
        return "fits"
    # Plain SGD grows geometrically: three steps per epoch overflow within
    # the first epoch, one step per epoch only after a recorded epoch.
    return "raises" if batch_size == 8 else "restores"


@pytest.mark.parametrize(
    "batch_size", [8, 64], ids=["3-steps-per-epoch", "1-step-per-epoch"]
)
@pytest.mark.parametrize("learning_rate_init", [1e6, 1e300])
@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop", "adamw"])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_huge_learning_rate_never_leaves_nan(
    cls, solver, learning_rate_init, batch_size
):
    estimator = make_estimator(
        cls,
        solver=solver,
        learning_rate_init=learning_rate_init,
        batch_size=batch_size,
        max_iter=5,
    )
    expected = _expected_outcome(cls, solver, learning_rate_init, batch_size)
    if expected == "raises":
        with pytest.raises(ValueError, match="diverged.*learning_rate_init"):
            _fit_recording(estimator)
        with pytest.raises(NotFittedError):
            check_is_fitted(estimator)
        return
    caught = _fit_recording(estimator)
    for name, out in all_outputs(estimator, X).items():
        assert_finite(out, name)
    assert all(np.isfinite(estimator.loss_curve_))
    diverged = [m for m in _messages(caught, Warning) if "diverged" in m]
    if expected == "fits":
        assert diverged == [] and estimator.n_iter_ == 5
    else:
        assert len(diverged) == 1 and "restored" in diverged[0]
        assert estimator.n_iter_ < 5


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_step_that_blows_up_the_weights_is_caught(cls):
    # One step per epoch: the epoch's loss is finite (taken before the
    # step) while the step leaves weights that overflow every output. The
    # fit must not keep them.
    estimator = make_estimator(
        cls, solver="sgd", learning_rate_init=1e300, batch_size=64
    )
    with pytest.raises(
        ValueError, match="diverged before any epoch gave usable weights"
    ):
        call(estimator, "fit", X)
    with pytest.raises(NotFittedError):
        check_is_fitted(estimator)


def _poison_weights(real, run, *args, **kwargs):
    parts = real(run, *args, **kwargs)
    with torch.no_grad():
        next(run.module.parameters()).fill_(float("nan"))
    return parts


def _nan_loss(real, *args, **kwargs):
    return [float("nan") for _ in real(*args, **kwargs)]


# The outlier detector trains in rounds and stops them at a divergence or a
# Ctrl-C: the model it keeps is that of a one-round fit stopped there. Other
# estimators ignore the key (make_estimator drops unknown parameters).
_ONE_ROUND = {"n_rounds": 1}


@pytest.mark.parametrize(
    "fault", [_poison_weights, _nan_loss], ids=["nan-weights", "nan-loss"]
)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_divergence_restores_the_best_epoch(cls, fault, monkeypatch):
    reference = make_estimator(cls, max_iter=2, **SMALL_BATCHES, **_ONE_ROUND)
    _fit_recording(reference)
    # The best epoch is the second: that is what must come back.
    assert reference.loss_curve_[1] < reference.loss_curve_[0]

    monkeypatch.setattr(training, "run_epoch", _on_call(3, fault, training.run_epoch))
    estimator = make_estimator(cls, max_iter=5, **SMALL_BATCHES)
    caught = _fit_recording(estimator)
    assert any("diverged" in m for m in _messages(caught, ConvergenceWarning))
    assert estimator.n_iter_ == 2
    assert_outputs_equal(all_outputs(estimator, X), all_outputs(reference, X))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_partial_fit_divergence_keeps_earlier_weights(cls, monkeypatch):
    if not hasattr(cls, "partial_fit"):
        pytest.skip("no partial_fit")
    estimator = make_estimator(cls, **SMALL_BATCHES)
    for _ in range(3):
        _fit_recording(estimator, "partial_fit")
    assert np.all(np.diff(estimator.loss_curve_) < 0)
    before = all_outputs(estimator, X)

    monkeypatch.setattr(
        training, "run_epoch", _on_call(1, _poison_weights, training.run_epoch)
    )
    caught = _fit_recording(estimator, "partial_fit")
    assert any("diverged" in m for m in _messages(caught, ConvergenceWarning))
    assert estimator.n_iter_ == 3
    assert_outputs_equal(all_outputs(estimator, X), before)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_training_recovers_after_a_diverged_first_call(cls):
    # The optimizer that diverged is dropped: with a sane learning rate the
    # next call trains normally instead of diverging again.
    if not hasattr(cls, "partial_fit"):
        pytest.skip("no partial_fit")
    estimator = make_estimator(cls, solver="sgd", learning_rate_init=1e300)
    with pytest.raises(ValueError, match="diverged"):
        estimator.partial_fit(X)
    estimator.set_params(learning_rate_init=1e-3)
    caught = _fit_recording(estimator, "partial_fit")
    assert not any("diverged" in m for m in _messages(caught, Warning))
    for name, out in all_outputs(estimator, X).items():
        assert_finite(out, name)


# ----------------------------------------------------------------------
# Ctrl-C


@pytest.mark.parametrize(
    "where, call_number",
    [("run_epoch", 3), ("train_step", 8)],
    ids=["between-epochs", "mid-epoch"],
)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_ctrl_c_keeps_the_best_weights(cls, where, call_number, monkeypatch):
    reference = make_estimator(cls, max_iter=2, **SMALL_BATCHES, **_ONE_ROUND)
    _fit_recording(reference)
    assert reference.loss_curve_[1] < reference.loss_curve_[0]

    # The 3rd epoch, or the 2nd of its 3 batches, is interrupted.
    owner, name = (training, where) if where == "run_epoch" else _step_of(cls)
    patched = _on_call(call_number, _raise(KeyboardInterrupt()), getattr(owner, name))
    monkeypatch.setattr(owner, name, patched)
    estimator = make_estimator(cls, max_iter=5, **SMALL_BATCHES)
    caught = _fit_recording(estimator)
    assert any("interrupted" in m for m in _messages(caught, UserWarning))
    assert estimator.n_iter_ == 2
    assert not estimator.encoder_.training and not estimator.decoder_.training
    assert_outputs_equal(all_outputs(estimator, X), all_outputs(reference, X))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_ctrl_c_in_the_first_epoch_keeps_a_working_model(cls, monkeypatch):
    owner, name = _step_of(cls)
    patched = _on_call(2, _raise(KeyboardInterrupt()), getattr(owner, name))
    monkeypatch.setattr(owner, name, patched)
    estimator = make_estimator(cls, **SMALL_BATCHES)
    caught = _fit_recording(estimator)
    assert any("interrupted" in m for m in _messages(caught, UserWarning))
    assert estimator.n_iter_ == 0
    for name, out in all_outputs(estimator, X).items():
        assert_finite(out, name)


# ----------------------------------------------------------------------
# Out of memory

CUDA_OOM = torch.cuda.OutOfMemoryError(
    "CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.10 GiB total capacity)"
)


@pytest.mark.parametrize(
    "error",
    [
        CUDA_OOM,
        RuntimeError("CUDA error: out of memory"),
        RuntimeError(
            "DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 GB"
        ),
    ],
    ids=["cuda-oom", "old-cuda-oom", "cpu-alloc"],
)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_oom_in_training_suggests_smaller_batches(cls, error, monkeypatch):
    fitted = make_estimator(cls)
    _fit_recording(fitted)
    monkeypatch.setattr(
        training, "run_epoch", _on_call(2, _raise(error), training.run_epoch)
    )
    with pytest.raises(MemoryError, match=r"batch_size \(now 24\)") as info:
        call(fitted, "fit", X)
    assert "Out of memory while training on cpu" in str(info.value)
    # A failed refit leaves the estimator unfitted, never half old, half new.
    with pytest.raises(NotFittedError):
        check_is_fitted(fitted)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_oom_in_partial_fit_keeps_the_model(cls, monkeypatch):
    if not hasattr(cls, "partial_fit"):
        pytest.skip("no partial_fit")
    estimator = make_estimator(cls)
    _fit_recording(estimator, "partial_fit")
    before = all_outputs(estimator, X)
    monkeypatch.setattr(
        training, "run_epoch", _on_call(1, _raise(CUDA_OOM), training.run_epoch)
    )
    with pytest.raises(MemoryError, match="batch_size"):
        estimator.partial_fit(X)
    assert not estimator.encoder_.training
    assert_outputs_equal(all_outputs(estimator, X), before)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_oom_in_inference_is_a_memory_error(cls, monkeypatch):
    estimator = make_estimator(cls)
    _fit_recording(estimator)
    codes = estimator.transform(X) if hasattr(estimator, "transform") else None

    def forward(self, x):
        raise CUDA_OOM

    monkeypatch.setattr(torch.nn.Linear, "forward", forward)
    for method in data_methods(estimator):
        with pytest.raises(
            MemoryError, match="applying the network on cpu.*fewer rows"
        ):
            call(estimator, method, X)
    if codes is not None and hasattr(estimator, "inverse_transform"):
        with pytest.raises(MemoryError, match="Out of memory"):
            estimator.inverse_transform(codes)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_network_too_large_to_allocate(cls):
    # 2**45 units x 3 inputs: beyond any address space, so the allocation
    # fails at once on every machine, without touching memory.
    estimator = make_estimator(cls, hidden_layer_sizes=(2**45,))
    with pytest.raises(MemoryError, match="building the network.*hidden_layer_sizes"):
        call(estimator, "fit", X)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_other_runtime_errors_pass_through(cls, monkeypatch):
    error = RuntimeError("mat1 and mat2 shapes cannot be multiplied")
    monkeypatch.setattr(
        training, "run_epoch", _on_call(1, _raise(error), training.run_epoch)
    )
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        call(make_estimator(cls), "fit", X)
