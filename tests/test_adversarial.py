"""The adversarial autoencoder's torch side: network, priors, objective, step."""

import itertools

import numpy as np
import pytest
import torch

from skae._adversarial import (
    MIXTURE_STD,
    AdversarialNetwork,
    AdversarialObjective,
    CallablePrior,
    MixturePrior,
    NormalPrior,
    ReplayedRows,
    UniformPrior,
    adversarial_step,
    make_prior,
    max_mixture_components,
    mixture_means,
)
from skae._batch import Batch
from skae._objective import MeanSquaredError
from skae._recipe import NetworkRecipe, build_network, build_optimizer
from skae._training import NETWORK, LoopSettings, Run


def make_network(n_label_slots=0, seed=0):
    recipe = NetworkRecipe(
        n_features=5,
        n_components=2,
        hidden_layer_sizes=(6,),
        dtype="float64",
        kind="adversarial",
        options=(("discriminator_layer_sizes", (4,)), ("n_label_slots", n_label_slots)),
    )
    module = build_network(recipe)
    module.reset_parameters(torch.Generator().manual_seed(seed))
    return module


def test_the_code_is_linear_and_the_critic_is_left_out_of_the_network_s_cost():
    module = make_network()
    assert isinstance(module, AdversarialNetwork)
    assert isinstance(module.encoder[-1][-1], torch.nn.Identity)
    # 5-6-2 and 2-6-5: the discriminator (2-4-1) is training-only.
    assert module.multiply_adds() == 5 * 6 + 6 * 2 + 2 * 6 + 6 * 5
    assert len(module.weights()) == 4
    network = {
        id(p) for g in module.optimizer_parameters("network", 1.0) for p in g["params"]
    }
    critic = {id(p) for p in module.discriminator.parameters()}
    assert not network & critic
    assert network | critic == {id(p) for p in module.parameters()}


def test_label_slots_are_one_hot_with_a_last_slot_for_unlabelled_rows():
    module = make_network(n_label_slots=4)
    like = torch.zeros(3, dtype=torch.float64)
    slots = module.label_slots(torch.tensor([0, 3, 2]), 3, like)
    assert slots.tolist() == [[1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]
    assert module.label_slots(None, 2, like).tolist() == [[0, 0, 0, 1]] * 2
    assert make_network().label_slots(torch.tensor([0]), 1, like) is None
    assert module.discriminate(torch.zeros(3, 2, dtype=torch.float64), slots).shape == (
        3,
    )


@pytest.mark.parametrize("k, count", [(1, 3), (2, 10), (3, 9), (8, 10), (3, 18)])
def test_mixture_means_are_distinct_and_apart(k, count):
    means = mixture_means(k, count)
    assert means.shape == (count, k)
    gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)[
        np.triu_indices(count, 1)
    ]
    # The nearest two are six standard deviations apart.
    assert gaps.min() == pytest.approx(6 * MIXTURE_STD)
    assert max_mixture_components(k) >= count


def test_mixture_means_in_two_dimensions_lie_on_a_circle():
    radii = np.linalg.norm(mixture_means(2, 10), axis=1)
    np.testing.assert_allclose(radii, radii[0])


def _draws(prior, n=20000, components=None):
    generator = torch.Generator().manual_seed(0)
    like = torch.zeros(1, dtype=torch.float64)
    return prior.sample(n, generator, like, components).numpy()


def test_priors_draw_what_they_say():
    normal = _draws(NormalPrior(3))
    np.testing.assert_allclose(normal.mean(0), 0, atol=0.03)
    np.testing.assert_allclose(normal.std(0), 1, atol=0.03)
    uniform = _draws(UniformPrior(2))
    assert uniform.min() >= -1 and uniform.max() <= 1
    np.testing.assert_allclose(uniform.std(0), 1 / np.sqrt(3), atol=0.01)
    means = mixture_means(2, 4)
    mixture = MixturePrior(tuple(map(tuple, means)))
    draws = _draws(mixture)
    nearest = np.linalg.norm(draws[:, None] - means[None], axis=-1).argmin(1)
    # Equal weights; each component's spread is MIXTURE_STD.
    np.testing.assert_allclose(np.bincount(nearest) / len(draws), 0.25, atol=0.02)
    np.testing.assert_allclose(draws[nearest == 0].std(0), MIXTURE_STD, atol=0.02)


def test_a_mixture_draws_a_row_from_its_component_and_unlabelled_rows_at_random():
    means = mixture_means(2, 3)
    mixture = MixturePrior(tuple(map(tuple, means)))
    components = torch.tensor([2, 0, 3] * 3000)
    draws = _draws(mixture, len(components), components)
    nearest = np.linalg.norm(draws[:, None] - means[None], axis=-1).argmin(1)
    assert (nearest[0::3] == 2).mean() > 0.99
    assert (nearest[1::3] == 0).mean() > 0.99
    # Slot 3 is "unlabelled": any component.
    assert set(np.unique(nearest[2::3])) == {0, 1, 2}


def _square(n_samples, random_state):
    return random_state.uniform(-3, 3, size=(n_samples, 2))


def test_a_callable_prior_draws_reproducibly_from_the_fit_s_generator():
    prior = CallablePrior(_square, 2)
    first, again = _draws(prior, 10), _draws(prior, 10)
    np.testing.assert_array_equal(first, again)
    assert np.abs(first).max() <= 3
    with pytest.raises(
        ValueError, match=r"must return finite draws of shape \(10, 3\)"
    ):
        _draws(CallablePrior(_square, 3), 10)


def test_make_prior_names_every_kind():
    assert make_prior("normal", 3, 10) == NormalPrior(3)
    assert make_prior("uniform", 3, 10) == UniformPrior(3)
    assert len(make_prior("mixture", 3, 5).means) == 5
    assert make_prior(_square, 2, 10).function is _square


def test_the_step_trains_three_phases_with_their_own_optimizers():
    module = make_network()
    optimizers = {
        name: build_optimizer("adam", module, 1e-2, part=name)
        for name in (NETWORK, "discriminator", "encoder")
    }
    objective = AdversarialObjective(MeanSquaredError(), (), NormalPrior(2))
    assert objective.names == ("reconstruction", "discriminator", "generator")
    # The loss curve is the reconstruction phase's: the adversarial parts
    # are reported beside it.
    assert objective.loss_of([0.5, 1.3, 0.7]) == 0.5
    run = Run(
        module,
        optimizers,
        objective,
        LoopSettings(max_iter=1, batch_size=8),
        torch.Generator().manual_seed(0),
    )
    x = torch.randn(
        8, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    before = {k: v.clone() for k, v in module.state_dict().items()}
    module.train()
    parts = adversarial_step(run, Batch(x))
    assert len(parts) == 3 and all(torch.isfinite(p) for p in parts)
    # Every part moved: the decoder by the reconstruction phase alone, the
    # discriminator by its own.
    after = module.state_dict()
    for name in before:
        if "weight" in name:
            assert not torch.equal(before[name], after[name]), name
    for name, optimizer in optimizers.items():
        assert optimizer.state, f"{name} never stepped"


def test_a_zero_step_generator_leaves_the_encoder_to_the_reconstruction():
    # Training the encoder against the critic at rate 0 is the reconstruction
    # phase alone for encoder and decoder: the same weights as a plain step.
    torch_x = torch.randn(
        8, 5, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    weights = []
    for generator_lr in (0.0, None):
        module = make_network(seed=3)
        module.train()
        optimizers = {
            NETWORK: build_optimizer("sgd", module, 0.1),
            "discriminator": build_optimizer("sgd", module, 0.1, part="discriminator"),
            "encoder": build_optimizer(
                "sgd", module, generator_lr or 0.0, part="encoder"
            ),
        }
        if generator_lr is None:
            del optimizers["discriminator"], optimizers["encoder"]
        objective = AdversarialObjective(MeanSquaredError(), (), NormalPrior(2))
        run = Run(module, optimizers, objective, LoopSettings(1, 8), torch.Generator())
        if generator_lr is None:
            total, _ = objective(module, Batch(torch_x))
            optimizers[NETWORK].zero_grad()
            total.backward()
            optimizers[NETWORK].step()
        else:
            adversarial_step(run, Batch(torch_x))
        weights.append(
            [
                p.detach().clone()
                for p in itertools.chain(
                    module.encoder.parameters(), module.decoder.parameters()
                )
            ]
        )
    for a, b in zip(*weights, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_replayed_rows_go_through_the_adversarial_phases_after_the_batch():
    module = make_network(n_label_slots=3)
    optimizers = {
        name: build_optimizer("adam", module, 1e-2, part=name)
        for name in (NETWORK, "discriminator", "encoder")
    }
    # Each replayed row holds its own label, so a draw shows whether rows and
    # labels stay paired.
    labels = torch.tensor([0, 1, 0, 1])
    replay = ReplayedRows(labels[:, None].double().expand(4, 5), labels, 6)
    objective = AdversarialObjective(
        MeanSquaredError(), (), MixturePrior(((0.0, 0.0), (3.0, 0.0))), replay
    )
    run = Run(module, optimizers, objective, LoopSettings(1, 3), torch.Generator())
    encoded = []
    module.encoder.register_forward_hook(lambda _, args, out: encoded.append(args[0]))
    slots = torch.tensor([2, 2, 0])
    module.train()
    adversarial_step(run, Batch(torch.zeros(3, 5, dtype=torch.float64), labels=slots))
    # The reconstruction reads the batch, the batch's adversarial phases its
    # rows, and then those of 6 replayed rows.
    batch_rows, replayed = encoded[-2:]
    assert batch_rows.shape == (3, 5) and replayed.shape == (6, 5)
    assert set(replayed[:, 0].tolist()) <= {0.0, 1.0}
    rows, drawn = replay.draw(torch.Generator().manual_seed(0))
    assert rows.shape == (6, 5)
    torch.testing.assert_close(rows[:, 0].long(), drawn)
