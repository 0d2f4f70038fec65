"""The fit loop: epochs, stopping rules, divergence, Ctrl-C."""

import math

import pytest
import torch

import skae._training as training
from skae._batch import Batch
from skae._objective import MeanSquaredError, Objective
from skae._recipe import build_optimizer
from skae._training import (
    NETWORK,
    History,
    LoopSettings,
    Run,
    StopReason,
    Validation,
    evaluate,
    fit_loop,
    run_epoch,
)


@pytest.fixture
def setup(small_module):
    """Random data and a run over it (batches of 16 rows, Adam at 1e-2)."""

    def make(n=64, seed=0, **settings):
        g = torch.Generator().manual_seed(seed)
        X = torch.randn(n, 6, generator=g, dtype=torch.float64)
        module = small_module(seed)
        run = Run(
            module,
            {NETWORK: build_optimizer("adam", module, 1e-2)},
            Objective(MeanSquaredError()),
            LoopSettings(**{"max_iter": 2, "batch_size": 16, "tol": 0.0, **settings}),
            torch.Generator().manual_seed(0),
        )
        return X, run

    return make


def test_run_epoch_returns_batch_weighted_means(setup):
    X, run = setup(n=10, batch_size=4, shuffle=False)
    snapshot = {k: v.clone() for k, v in run.module.state_dict().items()}
    (mean,) = run_epoch(run, X)
    # Replay the same three steps (4, 4 and 2 rows) by hand.
    module = run.module
    module.load_state_dict(snapshot)
    replay = build_optimizer("adam", module, 1e-2)
    losses = []
    for rows in (slice(0, 4), slice(4, 8), slice(8, 10)):
        total, _ = run.objective(module, Batch(X[rows]))
        replay.zero_grad()
        total.backward()
        replay.step()
        losses.append(total.item() * (rows.stop - rows.start))
    assert mean == pytest.approx(sum(losses) / 10)


def test_fit_loop_stops_after_n_iter_no_change(setup):
    X, run = setup(max_iter=100, tol=1e9, n_iter_no_change=3)
    assert fit_loop(run, X) is StopReason.CONVERGED
    # The first epoch improves on inf; then more than 3 epochs without a
    # 1e9 improvement.
    assert run.history.n_iter == 5
    assert len(run.history.loss_curve) == 5


def test_fit_loop_early_stopping_restores_best_weights(setup):
    X, run = setup(
        n=96, max_iter=60, batch_size=8, n_iter_no_change=60, early_stopping=True
    )
    X_train, X_val = X[:48], X[48:]
    run.validation = Validation(X_val)
    fit_loop(run, X_train)
    history = run.history
    assert history.best_loss == min(history.validation_loss_curve)
    # Random data: the validation loss is not monotone, so the best epoch is
    # not the last one and restoring it is observable.
    assert history.validation_loss_curve[-1] != history.best_loss
    assert evaluate(run.module, run.objective, X_val, 8) == pytest.approx(
        history.best_loss, rel=1e-12
    )
    assert not run.module.training


def test_fit_loop_reports_max_iter_and_incremental(setup):
    X, run = setup()
    assert fit_loop(run, X) is StopReason.MAX_ITER
    run.settings.incremental = True
    assert fit_loop(run, X) is StopReason.INCREMENTAL
    assert run.history.n_iter == 3


def test_fit_loop_detects_divergence_and_restores_best_weights(setup):
    X, run = setup()
    fit_loop(run, X)
    # Plain SGD with a huge step blows up geometrically (Adam's steps are
    # bounded by the learning rate, so it only wanders off, finitely).
    run.optimizers = {NETWORK: build_optimizer("sgd", run.module, 1e4)}
    run.settings.max_iter = 20
    reason = fit_loop(run, X)
    assert reason is StopReason.DIVERGED and reason.diverged
    assert run.history.n_iter == 2
    best = run.history.best_state
    assert all(torch.equal(best[k], v) for k, v in run.module.state_dict().items())
    assert math.isfinite(evaluate(run.module, run.objective, X, 16))


def test_fit_loop_divergence_before_any_epoch_keeps_incoming_weights(setup):
    X, run = setup(max_iter=20)
    before = {k: v.clone() for k, v in run.module.state_dict().items()}
    run.optimizers = {NETWORK: build_optimizer("sgd", run.module, 1e4)}
    reason = fit_loop(run, X)
    assert reason is StopReason.DIVERGED_AT_START and reason.diverged
    assert all(torch.equal(before[k], v) for k, v in run.module.state_dict().items())


def test_fit_loop_keyboard_interrupt_keeps_best_weights(setup, monkeypatch):
    X, run = setup(max_iter=10)
    calls = {"n": 0}
    real_run_epoch = training.run_epoch

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_run_epoch(*args, **kwargs)

    monkeypatch.setattr(training, "run_epoch", interrupted)
    assert fit_loop(run, X) is StopReason.INTERRUPTED
    assert run.history.n_iter == 2
    best = run.history.best_state
    assert all(torch.equal(best[k], v) for k, v in run.module.state_dict().items())


def test_schedules_see_the_epoch_count_before_each_epoch(setup):
    X, run = setup(max_iter=3)
    seen = []
    run.schedules = (seen.append,)
    fit_loop(run, X)
    assert seen == [0, 1, 2]


def test_validation_corruption_is_the_same_at_every_pass(setup):
    X, run = setup(max_iter=3, early_stopping=True)
    inputs = []

    def corrupt(rows, generator):
        noisy = rows + torch.randn(rows.shape, generator=generator, dtype=rows.dtype)
        if not torch.is_grad_enabled():  # only the validation passes
            inputs.append(noisy)
        return noisy

    run.corrupt = corrupt
    run.validation = Validation(X[:16], corrupt_seed=7)
    fit_loop(run, X[16:])
    assert len(inputs) == 3
    assert all(torch.equal(inputs[0], later) for later in inputs[1:])


def test_history_defaults_are_empty():
    history = History()
    assert history.n_iter == 0 and history.best_state is None
    assert history.best_loss == math.inf
