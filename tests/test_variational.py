"""The variational network, its ELBO terms, scoring, sampling and schedules."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from skae._batch import Batch
from skae._recipe import NetworkRecipe, build_network, build_optimizer
from skae._schedules import CosineLearningRate, KLWarmUp
from skae._variational import (
    NOISE_FLOORS,
    NOISE_LEARNING_RATE_FACTOR,
    GaussianCode,
    VariationalNetwork,
    VariationalObjective,
    draw_samples,
    importance_weighted_log_likelihood,
)

SHIFT = torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
SCALE = torch.full((4,), 2.5, dtype=torch.float64)


def make_network(likelihood="gaussian", noise_variance="isotropic", seed=0, **kw):
    recipe = NetworkRecipe(
        n_features=4,
        n_components=2,
        hidden_layer_sizes=(5,),
        code="gaussian",
        kind="variational",
        dtype="float64",
        likelihood=likelihood,
        noise_variance=noise_variance,
        **kw,
    )
    module = build_network(recipe, SHIFT, SCALE)
    module.reset_parameters(torch.Generator().manual_seed(seed))
    return module.eval()


def data(n=6, seed=0):
    return torch.randn(n, 4, generator=torch.Generator().manual_seed(seed)).double()


def test_recipe_builds_a_variational_network_and_round_trips():
    module = make_network()
    assert isinstance(module, VariationalNetwork)
    assert isinstance(module.encoder[-1], GaussianCode)
    assert module.code_layer_index() == 1
    widths = [layer[0].out_features for layer in module.hidden_layers()[::2]]
    assert widths == [5, 5]
    recipe = NetworkRecipe(
        4, 2, code="gaussian", likelihood="bernoulli", kind="variational"
    )
    assert NetworkRecipe.from_dict(recipe.to_dict()) == recipe


def test_gaussian_log_likelihood_is_the_density_of_x_in_its_own_units():
    # Standardised units inside, the Jacobian of the standardisation added:
    # the same number as a normal density of x with mean and variance in
    # x's units.
    for noise_variance in ("isotropic", "per_feature"):
        module = make_network(noise_variance=noise_variance)
        with torch.no_grad():
            module.noise_log_variance.copy_(
                torch.linspace(-1, 1, 1 if noise_variance == "isotropic" else 4)
            )
            x = data()
            decoded = torch.randn(
                6, 4, generator=torch.Generator().manual_seed(1)
            ).double()
            observed = module.encoder[0](x)
            got = module.log_likelihood(decoded, observed).numpy()
            means = module.decoder[-1](decoded).numpy()
            std = module.noise_std().numpy()
        expected = stats.norm.logpdf(x.numpy(), means, std).sum(axis=1)
        np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_bernoulli_log_likelihood_reads_raw_pixels():
    module = make_network("bernoulli")
    x = (data() > 0).double()
    logits = torch.randn(6, 4, generator=torch.Generator().manual_seed(1)).double()
    got = module.log_likelihood(logits, x).numpy()
    p = torch.sigmoid(logits).numpy()
    expected = stats.bernoulli.logpmf(x.numpy(), p).sum(axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    observed, _, _ = module.encode(x)
    assert torch.equal(observed, x)
    assert float(module.log_jacobian()) == 0.0


def test_noise_variance_is_floored():
    for noise_variance, floor in NOISE_FLOORS.items():
        module = make_network(noise_variance=noise_variance)
        with torch.no_grad():
            module.noise_log_variance.fill_(-1e4)
        assert torch.all(module.noise_variance() >= floor)
        assert torch.all(module.noise_variance() < 1.0001 * floor)


def test_encoder_gives_the_posterior_means_the_elbo_uses():
    module = make_network()
    x = data()
    _, mean, log_var = module.encode(x)
    assert torch.equal(module.encoder(x), mean)
    assert torch.equal(module(x).codes, mean)  # eval mode: no sampling
    assert mean.shape == log_var.shape == (6, 2)


def test_training_pass_samples_codes_from_the_generator_only():
    module = make_network().train()
    with pytest.raises(RuntimeError, match="set_generator"):
        module(data())
    before = torch.random.get_rng_state()
    module.set_generator(torch.Generator().manual_seed(3))
    first = module(data()).codes
    module.set_generator(torch.Generator().manual_seed(3))
    assert torch.equal(module(data()).codes, first)
    assert not torch.equal(first, module.encode(data())[1])
    assert torch.equal(torch.random.get_rng_state(), before)


def test_kl_term_is_the_closed_form_and_the_objective_weights_it():
    module = make_network().train()
    module.set_generator(torch.Generator().manual_seed(0))
    objective = VariationalObjective(kl_weight=0.25)
    x = data()
    total, (nll, kl) = objective(module, Batch(x))
    module.set_generator(torch.Generator().manual_seed(0))
    output = module(x)
    mean, var = output.mean, output.log_var.exp()
    expected_kl = (0.5 * (mean**2 + var - 1 - var.log()).sum(1)).mean()
    torch.testing.assert_close(kl, expected_kl)
    torch.testing.assert_close(nll, -output.log_likelihood.mean())
    # The parts are unweighted; the minimised total is not.
    torch.testing.assert_close(total, nll + 0.25 * kl)
    assert objective.names == ("reconstruction", "kl")


def test_evaluation_loss_is_a_seeded_negative_elbo():
    module = make_network()
    x = data()
    objective = VariationalObjective(seed=5)
    first = objective.evaluation_loss(module, Batch(x))
    assert torch.equal(objective.evaluation_loss(module, Batch(x)), first)
    other = VariationalObjective(seed=6).evaluation_loss(module, Batch(x))
    assert not torch.equal(other, first)


def _draws(n_samples, seed=0):
    return torch.randn(
        n_samples, 2, generator=torch.Generator().manual_seed(seed)
    ).double()


def _log_weights(module, x, eps):
    """log p(x, z) - log q(z | x) for every draw (rows), row by row."""
    observed, mean, log_var = module.encode(x)
    std = torch.exp(0.5 * log_var)
    z = mean + std * eps[:, None, :]
    log_px = module.log_likelihood(module.decode_parameters(z), observed)
    prior = torch.distributions.Normal(0.0, 1.0).log_prob(z).sum(-1)
    posterior = torch.distributions.Normal(mean, std).log_prob(z).sum(-1)
    return log_px + prior - posterior


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_importance_weighted_bound_is_the_log_mean_of_the_weights(likelihood):
    module = make_network(likelihood)
    x = data() if likelihood == "gaussian" else (data() > 0).double()
    eps = _draws(50)
    with torch.no_grad():
        weights = _log_weights(module, x, eps)
    expected = torch.logsumexp(weights, 0) - math.log(50)
    got = importance_weighted_log_likelihood(module, x, eps)
    assert got.dtype == torch.float64
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)
    # Jensen, draw by draw: at least the ELBO estimated from the same draws.
    assert torch.all(got >= weights.mean(0))


def test_importance_weighted_bound_is_per_row_and_chunked(monkeypatch):
    import skae._variational as variational

    module = make_network()
    x, eps = data(9), _draws(40)
    whole = importance_weighted_log_likelihood(module, x, eps)
    # One row at a time, in reverse, with the samples in chunks of 3.
    monkeypatch.setattr(variational, "_SCORE_ELEMENTS", 3 * 5)
    rows = [
        importance_weighted_log_likelihood(module, x[i : i + 1], eps)
        for i in range(8, -1, -1)
    ]
    torch.testing.assert_close(torch.cat(rows[::-1]), whole, rtol=1e-12, atol=1e-12)


def test_samples_come_from_the_prior_and_the_noise():
    module = make_network()
    with torch.no_grad():
        module.noise_log_variance.fill_(math.log(4.0))
    draws = draw_samples(module, 7, torch.Generator().manual_seed(0), batch_size=3)
    assert draws.shape == (7, 4)
    again = draw_samples(module, 7, torch.Generator().manual_seed(0), batch_size=3)
    assert torch.equal(draws, again)
    binary = draw_samples(
        make_network("bernoulli"), 50, torch.Generator().manual_seed(0), 64
    )
    assert set(binary.unique().tolist()) <= {0.0, 1.0}


def test_noise_log_variance_learns_faster():
    module = make_network()
    groups = module.optimizer_parameters("network", 1e-3)
    assert groups[1]["params"] == [module.noise_log_variance]
    assert groups[1]["lr"] == pytest.approx(1e-3 * NOISE_LEARNING_RATE_FACTOR)
    assert sum(len(g["params"]) for g in groups) == len(list(module.parameters()))
    for solver in ("adam", "sgd", "rmsprop", "adamw"):
        optimizer = build_optimizer(solver, module, 1e-3, weight_decay=0.1)
        rates = {id(p): g["lr"] for g in optimizer.param_groups for p in g["params"]}
        assert rates[id(module.noise_log_variance)] == pytest.approx(1e-2)
        assert rates[id(module.output_linear().weight)] == pytest.approx(1e-3)
    decays = {
        id(p): g["weight_decay"] for g in optimizer.param_groups for p in g["params"]
    }
    assert decays[id(module.noise_log_variance)] == 0.0
    assert decays[id(module.output_linear().weight)] == 0.1
    bernoulli = make_network("bernoulli")
    assert len(bernoulli.optimizer_parameters("network", 1e-3)) == 1


def test_kl_warm_up_ramps_the_weight_to_beta():
    objective = VariationalObjective(kl_weight=2.0)
    warm_up = KLWarmUp(objective, beta=2.0, n_epochs=4)
    weights = []
    for epoch in range(6):
        warm_up(epoch)
        weights.append(objective.kl_weight)
    assert weights == pytest.approx([0.5, 1.0, 1.5, 2.0, 2.0, 2.0])


def test_cosine_learning_rate_keeps_each_groups_ratio():
    module = make_network()
    optimizer = build_optimizer("adam", module, 1e-3)
    schedule = CosineLearningRate((optimizer,), n_epochs=10, final=0.05)
    rates = []
    for epoch in (0, 5, 10, 12):
        schedule(epoch)
        rates.append([g["lr"] for g in optimizer.param_groups])
    expected = np.array([1.0, 0.525, 0.05, 0.05])[:, None] * [1e-3, 1e-2]
    np.testing.assert_allclose(rates, expected)
    # The initial rates travel with the optimizer's state.
    state = optimizer.state_dict()["param_groups"]
    assert [g["initial_lr"] for g in state] == pytest.approx([1e-3, 1e-2])


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_the_likelihood_of_the_observed_part_sums_the_observed_cells(likelihood):
    # log p(x_obs | z) + log p(x_mis | z) = log p(x | z) (the decoder's cells
    # are independent given z), and the missing cells' values are never read.
    module = make_network(likelihood)
    x = data() if likelihood == "gaussian" else (data() > 0).double()
    observed, _, _ = module.encode(x)
    decoded = torch.randn(6, 4, generator=torch.Generator().manual_seed(1)).double()
    mask = torch.rand(6, 4, generator=torch.Generator().manual_seed(2)) < 0.6
    whole = module.log_likelihood(decoded, observed)
    part = module.log_likelihood(decoded, observed, mask)
    rest = module.log_likelihood(decoded, observed, ~mask)
    torch.testing.assert_close(part + rest, whole, rtol=1e-12, atol=1e-12)
    hidden = torch.where(mask, observed, float("nan"))
    torch.testing.assert_close(module.log_likelihood(decoded, hidden, mask), part)


def test_importance_weighted_bound_of_a_row_with_missing_cells_is_of_its_part():
    module = make_network()
    x, eps = data(), _draws(30)
    x_missing = x.clone()
    x_missing[0, 1] = x_missing[2, :] = float("nan")
    got = importance_weighted_log_likelihood(module, x_missing, eps)
    assert torch.isnan(got[2]) and torch.isfinite(got[[0, 1, 3, 4, 5]]).all()
    # Complete rows keep their bound; a row with a missing cell gets a
    # different one (the density of fewer cells).
    whole = importance_weighted_log_likelihood(module, x, eps)
    torch.testing.assert_close(got[[1, 3, 4, 5]], whole[[1, 3, 4, 5]])
    assert got[0] != whole[0]
