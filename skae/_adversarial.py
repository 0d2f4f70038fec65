"""The adversarial autoencoder's torch side: network, priors, objective, step.

An :class:`AdversarialNetwork` (the ``"adversarial"`` network kind) is a
dense autoencoder with a linear code and a discriminator on the codes. Each
training batch goes through three phases (Makhzani et al., 2015): the
autoencoder's reconstruction step; a discriminator step, telling draws from
the prior (real) from the batch's codes (fake); and a generator step, the
encoder moved to make its codes pass for prior draws. :func:`adversarial_step`
is that family's training step, :class:`AdversarialObjective` its losses, and
the priors (:func:`make_prior`) what the codes are shaped like.

With a label-guided mixture the discriminator also reads a one-hot label
slot per row: a labelled row's real draws come from its class's component,
an unlabelled row's (the last slot) from the whole mixture, so labelled
codes are drawn to their component; :class:`ReplayedRows` can put labelled
rows through the adversarial phases at every step. Nothing here knows about
scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._modules import Autoencoder, hidden_stack, init_linear, linear
from ._networks import WHOLE_NETWORK
from ._objective import Objective
from ._training import NETWORK

# Names of the step's two adversarial losses, after the reconstruction parts.
DISCRIMINATOR, GENERATOR = "discriminator", "generator"
# The optimizer of the generator phase trains this part: the encoder.
ENCODER = "encoder"
# Mixture components: this standard deviation, and means placed so that
# the nearest two are this many standard deviations apart.
MIXTURE_STD = 0.5
_MIXTURE_SEPARATION = 6.0


class AdversarialNetwork(Autoencoder):
    """An autoencoder with a linear code and a discriminator on its codes.

    The encoder and decoder are the dense autoencoder's
    (:class:`~skae._modules.Autoencoder`, whose code layer is linear here:
    the codes must be free to take the shape of any prior). The
    ``discriminator`` maps a code (and, with ``n_label_slots``, a one-hot
    label slot) through leaky-ReLU layers of ``discriminator_layer_sizes``
    to one logit: the odds that the code is a draw from the prior. It is
    used in training only: the cost, widths and weights the network reports
    are the autoencoder's.
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="relu",
        output_activation="identity",
        dropout=0.0,
        shift=None,
        scale=None,
        dtype=torch.float32,
        discriminator_layer_sizes=(64, 64),
        n_label_slots=0,
        image=None,
    ):
        super().__init__(
            n_features,
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            output_activation=output_activation,
            dropout=dropout,
            shift=shift,
            scale=scale,
            dtype=dtype,
            code_activation="identity",
            image=image,
        )
        self.n_label_slots = n_label_slots
        widths = [n_components + n_label_slots, *discriminator_layer_sizes]
        self.discriminator = nn.Sequential(
            *hidden_stack(widths, "leaky_relu", 0.0), linear(widths[-1], 1)
        )
        self.to(dtype)

    def reset_parameters(self, generator):
        super().reset_parameters(generator)
        for layer in self.discriminator.modules():
            if isinstance(layer, nn.Linear):
                init_linear(layer, generator)

    def optimizer_parameters(self, part, learning_rate):
        if part != WHOLE_NETWORK:
            return super().optimizer_parameters(part, learning_rate)
        # The reconstruction phase trains the autoencoder, not its critic.
        halves = itertools.chain(self.encoder.parameters(), self.decoder.parameters())
        return [{"params": list(halves)}]

    def label_slots(self, labels, n_rows, like):
        """The one-hot label slots of a batch's rows, or None without slots.

        ``labels`` (None: every row unlabelled) are slot indices; the last
        slot is "unlabelled".
        """
        if self.n_label_slots == 0:
            return None
        if labels is None:
            labels = torch.full((n_rows,), self.n_label_slots - 1, device=like.device)
        return F.one_hot(labels, self.n_label_slots).to(like.dtype)

    def discriminate(self, codes, slots=None):
        """The discriminator's logit per row: prior draw (high) or code (low)."""
        if slots is not None:
            codes = torch.cat([codes, slots], dim=1)
        return self.discriminator(codes).squeeze(1)


def build_adversarial(recipe, shift, scale):
    """The ``"adversarial"`` network kind's builder (see ``_recipe``)."""
    return AdversarialNetwork(
        recipe.n_features,
        recipe.n_components,
        hidden_layer_sizes=recipe.hidden_layer_sizes,
        activation=recipe.activation,
        output_activation=recipe.output_activation,
        dropout=recipe.dropout,
        shift=shift,
        scale=scale,
        dtype=recipe.torch_dtype,
        image=recipe.image(),
        **dict(recipe.options),
    )


# ----------------------------------------------------------------------
# Priors: ``sample(n, generator, like, components=None)`` draws ``n`` codes
# in the dtype and on the device of the tensor ``like``, from ``generator``.


@dataclass(frozen=True)
class NormalPrior:
    """The standard normal ``N(0, I)``."""

    n_components: int

    def sample(self, n, generator, like, components=None):
        shape = (n, self.n_components)
        return torch.randn(
            shape, generator=generator, dtype=like.dtype, device=like.device
        )


@dataclass(frozen=True)
class UniformPrior:
    """The uniform distribution on the box ``[-1, 1] ** n_components``."""

    n_components: int

    def sample(self, n, generator, like, components=None):
        shape = (n, self.n_components)
        draws = torch.rand(
            shape, generator=generator, dtype=like.dtype, device=like.device
        )
        return 2.0 * draws - 1.0


@dataclass(frozen=True)
class MixturePrior:
    """Equal-weight Gaussians of standard deviation ``std`` around ``means``.

    ``components`` (one index per row, or None) picks each row's component;
    an index past the last (the "unlabelled" slot) or None draws it at
    random.
    """

    means: tuple
    std: float = MIXTURE_STD

    @property
    def n_components(self):
        return len(self.means[0])

    def sample(self, n, generator, like, components=None):
        means = torch.tensor(self.means, dtype=like.dtype, device=like.device)
        count = means.shape[0]
        pick = torch.randint(count, (n,), generator=generator, device=like.device)
        if components is not None:
            pick = torch.where(components < count, components, pick)
        noise = torch.randn(
            (n, means.shape[1]),
            generator=generator,
            dtype=like.dtype,
            device=like.device,
        )
        return means[pick] + self.std * noise


@dataclass(frozen=True)
class CallablePrior:
    """A user's prior: ``function(n_samples, random_state) -> array``.

    ``random_state`` is a ``numpy.random.RandomState`` seeded from the
    fit's generator at every call, so the draws are reproducible and never
    touch global random state.
    """

    function: object
    n_components: int

    def sample(self, n, generator, like, components=None):
        seed = int(
            torch.randint(2**31 - 1, (1,), generator=generator, device=like.device)
        )
        draws = self.function(n, np.random.RandomState(seed))
        draws = np.asarray(draws, dtype=np.float64)
        expected = (n, self.n_components)
        if draws.shape != expected or not np.isfinite(draws).all():
            raise ValueError(
                f"prior({n}, random_state) must return finite draws of shape "
                f"{expected} (n_samples, n_components); got an array of shape "
                f"{draws.shape}, finite: {bool(np.isfinite(draws).all())}."
            )
        return torch.as_tensor(draws, dtype=like.dtype).to(like.device)


def mixture_means(n_components, n_prior_components):
    """Means of ``n_prior_components`` Gaussians placed apart in ``n_components``
    dimensions: on a line (1-d), a circle (2-d, as Makhzani et al.'s
    figures), or along the axes and then their diagonals (3-d and up),
    scaled so that the nearest two are :data:`_MIXTURE_SEPARATION` standard
    deviations apart. An array of shape (n_prior_components, n_components).
    """
    count, k = n_prior_components, n_components
    if k == 1:
        means = (np.arange(count) - (count - 1) / 2)[:, None]
    elif k == 2:
        angles = 2 * math.pi * np.arange(count) / count
        means = np.column_stack([np.cos(angles), np.sin(angles)])
    else:
        means = np.array(list(itertools.islice(_directions(k), count)))
    if count > 1:
        gaps = np.linalg.norm(means[:, None] - means[None], axis=-1)
        means = means * (_MIXTURE_SEPARATION * MIXTURE_STD / gaps[gaps > 0].min())
    return means


def _directions(k):
    """Unit vectors spread around the origin: ``+e_i``, ``-e_i``, then the
    diagonals ``(+-e_i +- e_j) / sqrt(2)``."""
    eye = np.eye(k)
    yield from eye
    yield from -eye
    for (i, j), signs in itertools.product(
        itertools.combinations(range(k), 2), [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    ):
        yield (signs[0] * eye[i] + signs[1] * eye[j]) / math.sqrt(2)


def max_mixture_components(n_components):
    """How many mixture components :func:`mixture_means` can place apart."""
    return math.inf if n_components <= 2 else 2 * n_components**2


def make_prior(prior, n_components, n_prior_components):
    """The prior object that the ``prior`` parameter names."""
    if callable(prior):
        return CallablePrior(prior, n_components)
    if prior == "normal":
        return NormalPrior(n_components)
    if prior == "uniform":
        return UniformPrior(n_components)
    means = mixture_means(n_components, n_prior_components)
    return MixturePrior(tuple(map(tuple, means.tolist())))


# ----------------------------------------------------------------------
# The objective and the step


class AdversarialObjective(Objective):
    """The reconstruction objective, with the two adversarial losses reported.

    Called as an :class:`~skae._objective.Objective`, it gives the
    reconstruction phase's loss (reconstruction plus penalty terms); the
    step adds the discriminator's and the generator's losses, which
    :attr:`names` lists last and :meth:`loss_of` leaves out of the loss
    curve, so that ``tol``, ``n_iter_no_change`` and early stopping watch
    the reconstruction.

    Parameters
    ----------
    reconstruction, terms :
        As for :class:`~skae._objective.Objective`.
    prior : object
        Draws the real codes (see :func:`make_prior`).
    replay : ReplayedRows or None, default=None
        Labelled rows that the step puts through the adversarial phases
        again after every batch's own.
    """

    def __init__(self, reconstruction, terms=(), prior=None, replay=None):
        super().__init__(reconstruction, terms)
        self.prior = prior
        self.replay = replay

    @property
    def names(self):
        return (*super().names, DISCRIMINATOR, GENERATOR)

    def loss_of(self, parts):
        return sum(parts[:-2])


def _minimise(optimizer, loss):
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()


def adversarial_step(run, batch):
    """Train one batch in three phases: reconstruction, discriminator, generator.

    The run's optimizers are ``"network"`` (encoder and decoder),
    ``"discriminator"`` and ``"encoder"``; how hard the generator phase
    pushes is its optimizer's learning rate (with Adam, scaling its loss
    would change no step). With the objective's ``replay``, replayed
    labelled rows then go through the two adversarial phases again, on
    their own. Returns the reconstruction parts and the batch's
    discriminator and generator losses, detached.
    """
    module, objective = run.module, run.objective
    total, parts = objective(module, batch)
    _minimise(run.optimizers[NETWORK], total)
    losses = _adversarial_phases(run, batch.inputs, batch.labels)
    if objective.replay is not None:
        _adversarial_phases(run, *objective.replay.draw(run.generator))
    return [*(p.detach() for p in parts), *losses]


def _adversarial_phases(run, inputs, labels):
    """The discriminator's step, then the generator's, on the codes of
    ``inputs`` (with their label slots); returns their losses, detached."""
    module = run.module
    n = inputs.shape[0]
    slots = module.label_slots(labels, n, inputs)
    real = run.objective.prior.sample(n, run.generator, inputs, labels)
    codes = module.encoder(inputs)
    real_logits = module.discriminate(real, slots)
    fake_logits = module.discriminate(codes.detach(), slots)
    discriminator_loss = _bce(real_logits, 1.0) + _bce(fake_logits, 0.0)
    _minimise(run.optimizers[DISCRIMINATOR], discriminator_loss)
    # The codes of the encoder as it stands, judged by the updated critic.
    fooled = _bce(module.discriminate(codes, slots), 1.0)
    _minimise(run.optimizers[ENCODER], fooled)
    return discriminator_loss.detach(), fooled.detach()


@dataclass(frozen=True)
class ReplayedRows:
    """Labelled training rows, ``per_batch`` of which (drawn afresh at every
    step) go through the discriminator's and the generator's phases after
    each batch's own.

    With few rows labelled a batch holds too few of them for the
    label-conditioned discriminator to steer the codes; the replayed ones
    give every step labelled rows, in phases of their own so that they are
    not diluted by the batch's unlabelled rows. ``rows`` are network inputs
    and ``labels`` their label slots, on the network's device.
    """

    rows: torch.Tensor
    labels: torch.Tensor
    per_batch: int

    def draw(self, generator):
        """``per_batch`` rows and their labels, drawn with replacement."""
        pick = torch.randint(
            self.rows.shape[0],
            (self.per_batch,),
            generator=generator,
            device=self.rows.device,
        )
        return self.rows[pick], self.labels[pick]


def _bce(logits, target):
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


@torch.no_grad()
def discriminator_accuracy(module, prior, x, generator, labels=None):
    """The share of ``x``'s codes and as many prior draws the discriminator
    tells apart (0.5: it cannot; 1: it always can)."""
    module.eval()
    codes = module.encoder(x)
    slots = module.label_slots(labels, x.shape[0], x)
    real = prior.sample(x.shape[0], generator, x, labels)
    hits = (module.discriminate(real, slots) > 0).sum()
    hits = hits + (module.discriminate(codes, slots) <= 0).sum()
    return float(hits) / (2 * x.shape[0])


def label_agreement(codes, components, means):
    """The share of ``codes`` nearest the mixture component of ``means`` that
    ``components`` (one index per code) names."""
    centres = torch.tensor(means, dtype=codes.dtype, device=codes.device)
    nearest = torch.cdist(codes, centres).argmin(dim=1)
    return float((nearest == components).double().mean())


@torch.no_grad()
def decode_prior_draws(module, prior, n_samples, generator, batch_size):
    """``n_samples`` prior draws decoded, in batches of ``batch_size``."""
    param = next(module.parameters())
    out = []
    for start in range(0, n_samples, batch_size):
        n = min(batch_size, n_samples - start)
        out.append(module.decoder(prior.sample(n, generator, param)))
    return torch.cat(out)
