"""Unit tests of the torch-side pieces: modules, objective, penalties, fit loop."""

import math

import numpy as np
import pytest
import torch

from skae._modules import Autoencoder, SeededDropout
from skae._objective import Objective
from skae._penalties import ElasticNet, KLSparsity, L1Activity
from skae._training import (
    History,
    LoopSettings,
    evaluate,
    fit_loop,
    make_optimizer,
    run_epoch,
)


def small_module(seed=0, **kwargs):
    module = Autoencoder(6, 2, hidden_layer_sizes=(5,), dtype=torch.float64, **kwargs)
    module.reset_parameters(torch.Generator().manual_seed(seed))
    return module


def test_hidden_layers_in_forward_order():
    module = Autoencoder(10, 3, hidden_layer_sizes=(8, 5))
    widths = [layer[0].out_features for layer in module.hidden_layers()]
    assert widths == [8, 5, 3, 5, 8]
    assert module.output_linear().out_features == 10


def test_affine_scaling_is_undone_at_the_output():
    shift = torch.tensor([1.0, -2.0], dtype=torch.float64)
    scale = torch.tensor([3.0, 3.0], dtype=torch.float64)
    module = Autoencoder(2, 2, shift=shift, scale=scale, dtype=torch.float64)
    x = torch.tensor([[4.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(
        module.encoder[0](x), torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    )
    assert torch.allclose(module.decoder[-1](module.encoder[0](x)), x)


def test_untrained_network_outputs_the_mean():
    # Zero biases and un-scaling at the output: a zero code decodes to shift.
    shift = torch.tensor([5.0, -1.0, 2.0], dtype=torch.float64)
    scale = torch.ones(3, dtype=torch.float64)
    module = Autoencoder(
        3,
        2,
        hidden_layer_sizes=(),
        activation="identity",
        shift=shift,
        scale=scale,
        dtype=torch.float64,
    )
    module.reset_parameters(torch.Generator().manual_seed(0))
    assert torch.allclose(module.decoder(torch.zeros(1, 2, dtype=torch.float64)), shift)


def test_reset_parameters_is_reproducible_and_zeroes_biases():
    a, b, c = small_module(0), small_module(0), small_module(1)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a.output_linear().weight, c.output_linear().weight)
    assert all(torch.count_nonzero(layer[0].bias) == 0 for layer in a.hidden_layers())


def test_seeded_dropout_uses_its_generator_and_is_off_in_eval():
    drop = SeededDropout(0.5)
    x = torch.ones(100, 10)
    drop.generator = torch.Generator().manual_seed(3)
    first = drop(x)
    drop.generator = torch.Generator().manual_seed(3)
    assert torch.equal(first, drop(x))
    assert 0.3 < (first == 0).float().mean() < 0.7
    assert set(first.unique().tolist()) == {0.0, 2.0}
    drop.eval()
    assert torch.equal(drop(x), x)


def test_dropout_skips_the_code_layer():
    module = Autoencoder(6, 2, hidden_layer_sizes=(5,), dropout=0.3)
    kinds = [type(m).__name__ for m in (*module.encoder, *module.decoder)]
    # hidden, dropout, code (no dropout after it), hidden, dropout, output
    assert kinds == [
        "HiddenLayer",
        "SeededDropout",
        "HiddenLayer",
        "HiddenLayer",
        "SeededDropout",
        "Linear",
        "Identity",
    ]


def test_kl_sparsity_matches_formula_and_vanishes_at_target():
    codes = torch.tensor([[0.1, 0.5], [0.3, 0.5]], dtype=torch.float64)
    term = KLSparsity(target=0.2, weight=2.0)
    rho, rho_hat = 0.2, np.array([0.2, 0.5])
    expected = 2.0 * np.sum(
        rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat))
    )
    assert math.isclose(term(codes, None).item(), expected, rel_tol=1e-12)
    at_target = torch.full((4, 3), 0.2, dtype=torch.float64)
    assert term(at_target, None).item() == pytest.approx(0.0, abs=1e-12)


def test_kl_sparsity_maps_tanh_codes_to_unit_interval():
    tanh_codes = torch.full((4, 3), -0.6, dtype=torch.float64)  # (a + 1) / 2 = 0.2
    assert KLSparsity(0.2, 1.0, tanh_codes=True)(
        tanh_codes, None
    ).item() == pytest.approx(0, abs=1e-12)


def test_l1_activity_is_weighted_mean_abs_code():
    codes = torch.tensor([[1.0, -3.0], [0.0, 2.0]])
    assert L1Activity(0.5)(codes, None).item() == pytest.approx(0.5 * 1.5)


def test_elastic_net_penalises_weights_not_biases():
    module = small_module()
    for p in module.parameters():
        torch.nn.init.constant_(p, 0.5)
    n_weights = sum(w.numel() for w in module.weights())
    codes = torch.zeros(1, 2, dtype=torch.float64)
    l1 = ElasticNet(alpha=0.1, l1_ratio=1.0)(codes, module).item()
    l2 = ElasticNet(alpha=0.1, l1_ratio=0.0)(codes, module).item()
    assert l1 == pytest.approx(0.1 * 0.5 * n_weights)
    assert l2 == pytest.approx(0.1 * 0.5 * 0.25 * n_weights)


def test_objective_total_is_sum_of_parts_and_mse_is_variance_normalised():
    module = small_module()
    x = torch.randn(
        8, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64
    )
    objective = Objective("mse", variance=4.0, terms=[L1Activity(0.3)])
    total, parts = objective(module, x, x)
    assert objective.names == ("reconstruction", "l1_sparsity")
    assert total.item() == pytest.approx(sum(p.item() for p in parts))
    output, _ = module(x)
    assert parts[0].item() == pytest.approx(((output - x) ** 2).mean().item() / 4.0)


def loop_setup(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 6, generator=g, dtype=torch.float64)
    module = small_module(seed)
    optimizer = make_optimizer("adam", module, 1e-2)
    return X, module, optimizer, Objective("mse")


def test_run_epoch_returns_batch_weighted_means():
    X, module, optimizer, objective = loop_setup(n=10)
    settings = LoopSettings(max_iter=1, batch_size=4, shuffle=False)
    snapshot = {k: v.clone() for k, v in module.state_dict().items()}
    (mean,) = run_epoch(module, optimizer, objective, X, settings, torch.Generator())
    # Replay the same three steps (4, 4 and 2 rows) by hand.
    module.load_state_dict(snapshot)
    replay = make_optimizer("adam", module, 1e-2)
    losses = []
    for rows in (slice(0, 4), slice(4, 8), slice(8, 10)):
        total, _ = objective(module, X[rows], X[rows])
        replay.zero_grad()
        total.backward()
        replay.step()
        losses.append(total.item() * (rows.stop - rows.start))
    assert mean == pytest.approx(sum(losses) / 10)


def test_fit_loop_stops_after_n_iter_no_change():
    X, module, optimizer, objective = loop_setup()
    settings = LoopSettings(max_iter=100, batch_size=16, tol=1e9, n_iter_no_change=3)
    history = History()
    reason = fit_loop(
        module,
        optimizer,
        objective,
        X,
        None,
        settings,
        torch.Generator().manual_seed(0),
        history,
    )
    assert reason == "converged"
    # The first epoch improves on inf; then more than 3 epochs without a
    # 1e9 improvement.
    assert history.n_iter == 5
    assert len(history.loss_curve) == 5


def test_fit_loop_early_stopping_restores_best_weights():
    X, module, optimizer, objective = loop_setup(n=96)
    X_train, X_val = X[:48], X[48:]
    settings = LoopSettings(
        max_iter=60, batch_size=8, tol=0.0, n_iter_no_change=60, early_stopping=True
    )
    history = History()
    fit_loop(
        module,
        optimizer,
        objective,
        X_train,
        X_val,
        settings,
        torch.Generator().manual_seed(0),
        history,
    )
    assert history.best_loss == min(history.validation_loss_curve)
    # Random data: the validation loss is not monotone, so the best epoch is
    # not the last one and restoring it is observable.
    assert history.validation_loss_curve[-1] != history.best_loss
    assert evaluate(module, objective, X_val, 8) == pytest.approx(
        history.best_loss, rel=1e-12
    )
    assert not module.training


def test_fit_loop_reports_max_iter_and_incremental():
    X, module, optimizer, objective = loop_setup()
    history = History()
    settings = LoopSettings(max_iter=2, batch_size=16, tol=0.0)
    gen = torch.Generator().manual_seed(0)
    assert (
        fit_loop(module, optimizer, objective, X, None, settings, gen, history)
        == "max_iter"
    )
    settings.incremental = True
    assert (
        fit_loop(module, optimizer, objective, X, None, settings, gen, history)
        == "incremental"
    )
    assert history.n_iter == 3


def test_fit_loop_detects_divergence_and_restores_best_weights():
    X, module, optimizer, objective = loop_setup()
    history = History()
    settings = LoopSettings(max_iter=2, batch_size=16, tol=0.0)
    gen = torch.Generator().manual_seed(0)
    fit_loop(module, optimizer, objective, X, None, settings, gen, history)
    # Plain SGD with a huge step blows up geometrically (Adam's steps are
    # bounded by the learning rate, so it only wanders off, finitely).
    blow_up = make_optimizer("sgd", module, 1e4)
    settings.max_iter = 20
    reason = fit_loop(module, blow_up, objective, X, None, settings, gen, history)
    assert reason == "diverged"
    assert history.n_iter == 2
    assert all(
        torch.equal(history.best_state[k], v) for k, v in module.state_dict().items()
    )
    assert math.isfinite(evaluate(module, objective, X, 16))


def test_fit_loop_divergence_before_any_epoch_keeps_incoming_weights():
    X, module, _, objective = loop_setup()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    settings = LoopSettings(max_iter=20, batch_size=16, tol=0.0)
    reason = fit_loop(
        module,
        make_optimizer("sgd", module, 1e4),
        objective,
        X,
        None,
        settings,
        torch.Generator().manual_seed(0),
        History(),
    )
    assert reason == "diverged_at_start"
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())


def test_fit_loop_keyboard_interrupt_keeps_best_weights(monkeypatch):
    import skae._training as training

    X, module, optimizer, objective = loop_setup()
    calls = {"n": 0}
    real_run_epoch = training.run_epoch

    def interrupted(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real_run_epoch(*args, **kwargs)

    monkeypatch.setattr(training, "run_epoch", interrupted)
    history = History()
    settings = LoopSettings(max_iter=10, batch_size=16, tol=0.0)
    reason = fit_loop(
        module,
        optimizer,
        objective,
        X,
        None,
        settings,
        torch.Generator().manual_seed(0),
        history,
    )
    assert reason == "interrupted"
    assert history.n_iter == 2
    best = history.best_state
    assert all(torch.equal(best[k], v) for k, v in module.state_dict().items())


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd", "rmsprop"])
def test_make_optimizer_uses_fast_kernels(solver):
    module = small_module()
    optimizer = make_optimizer(solver, module, 1e-3, weight_decay=0.1)
    defaults = optimizer.defaults
    assert defaults.get("fused") or defaults.get("foreach")
    if solver == "adamw":
        # Decoupled decay on the weight matrices only, never on biases.
        by_decay = {g["weight_decay"]: g["params"] for g in optimizer.param_groups}
        assert sorted(by_decay) == [0.0, 0.1]
        assert all(p.ndim == 2 for p in by_decay[0.1])
        assert len(by_decay[0.1]) == len(module.weights())
        assert all(p.ndim == 1 for p in by_decay[0.0])
