"""The variational autoencoder's torch side: network, ELBO terms, scoring, sampling.

A :class:`VariationalNetwork` is the network a recipe with ``code='gaussian'``
describes: an encoder ending in a Gaussian code layer (posterior mean and
log-variance heads), a decoder giving the parameters of the likelihood
(``'gaussian'``: means, with a learned noise variance; ``'bernoulli'``:
logits) and the per-row log-likelihood of its input under them. The
objective (:class:`VariationalObjective`) is the negative evidence lower
bound: the expected negative log-likelihood plus a weighted KL divergence
from the prior. Nothing here knows about scikit-learn.

Units. The encoder reads the input through the shared standardisation
(centring, one global scale ``s``). The Gaussian likelihood is evaluated in
those standardised units and carried back to the input's units by the
log-Jacobian of the standardisation, ``-n_features * log(s)``, so that
every log-likelihood here is a density of the caller's ``X``. The Bernoulli
likelihood reads the raw input (pixels are not rescaled) and its decoder
outputs logits.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import itertools
import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ._modules import (
    Affine,
    HiddenLayer,
    MLPNetwork,
    hidden_stack,
    image_decoder,
    image_encoder,
    init_linear,
    linear,
)
from ._networks import WHOLE_NETWORK
from ._objective import Objective, row_mean

LIKELIHOODS = ("gaussian", "bernoulli")
# Lower bound of the Gaussian noise variance, in standardised units (that is,
# relative to the training data's mean per-feature variance). Isotropic
# noise is shared by all features, so a tiny guard suffices: it only keeps a
# perfectly reconstructed (e.g. constant) data set at a finite likelihood.
# A per-feature variance can shrink to the floor on any near-constant
# feature, whose likelihood then grows without bound: the floor sets the
# score there, hence a larger one (see the estimator's documentation).
NOISE_FLOORS = {"isotropic": 1e-6, "per_feature": 1e-2}
# Clamp of the posterior log-variance: exp(8) is a posterior far wider than
# the prior, exp(-12) a code known to 2.5e-3 prior standard deviations;
# outside that range only rounding and overflow live.
LOG_VAR_RANGE = (-12.0, 8.0)
# Clamp of the raw noise log-variance (the floor is added after exp).
_NOISE_LOG_VAR_RANGE = (-30.0, 10.0)
# The noise log-variance learns this many times faster than the weights.
# Adam moves a parameter by about its learning rate per step: 200 epochs of
# a few batches move it by ~1, too little for a variance that must fall by
# orders of magnitude (digits, 32 codes: the VAE then trails PPCA).
NOISE_LEARNING_RATE_FACTOR = 10.0
_LOG_2PI = math.log(2.0 * math.pi)


class VariationalOutput(NamedTuple):
    """A forward pass of a :class:`VariationalNetwork`.

    ``codes`` is the code the decoder read (a posterior sample in training,
    the posterior mean otherwise), ``mean`` and ``log_var`` the posterior's
    parameters, ``log_likelihood`` the log-density of each input row given
    ``codes``, in the input's units.
    """

    codes: torch.Tensor
    mean: torch.Tensor
    log_var: torch.Tensor
    log_likelihood: torch.Tensor


class GaussianCode(nn.Module):
    """The variational code layer: posterior mean and log-variance heads.

    One ``Linear`` computes both heads (one matrix product instead of two);
    :meth:`forward` returns the posterior means only, so an encoder ending
    in this layer maps data to their (deterministic) codes.
    """

    def __init__(self, n_in, n_components):
        super().__init__()
        self.n_components = n_components
        self.linear = linear(n_in, 2 * n_components)

    def forward(self, h):
        # The same operations as posterior(), so that the codes an encoder
        # gives equal the means the ELBO and the scores use, bit for bit.
        return self.linear(h)[..., : self.n_components]

    def posterior(self, h):
        """Mean and clamped log-variance of the posterior given ``h``."""
        mean, log_var = self.linear(h).chunk(2, dim=-1)
        return mean, log_var.clamp(*LOG_VAR_RANGE)


class VariationalNetwork(MLPNetwork):
    """A variational autoencoder with a Gaussian posterior and prior N(0, I):
    the ``"variational"`` network kind.

    The encoder standardises the input with ``shift`` and ``scale``, runs
    the hidden layers and ends in a :class:`GaussianCode`; the decoder
    mirrors the hidden layers, then a linear layer gives the likelihood's
    parameters and a last layer maps them to means in the input's units
    (the inverse standardisation, or a sigmoid of the logits), so that
    ``decoder(encoder(x))`` is a deterministic reconstruction.

    Parameters
    ----------
    n_features, n_components : int
        Widths of the input and of the code.
    hidden_layer_sizes : sequence of int
        Encoder layers between input and code; the decoder mirrors them.
    activation : str
        Activation of the hidden layers (the code layer is linear).
    likelihood : {'gaussian', 'bernoulli'}
        The observation model.
    noise_variance : {'isotropic', 'per_feature'}
        The Gaussian noise variance: one for all features, or one per
        feature (ignored by the Bernoulli likelihood).
    dropout : float
        Dropout rate of the hidden layers in training.
    shift, scale : tensor of shape (n_features,), default=None
        The standardisation (zeros and ones when None).
    dtype : torch.dtype
    image : ImageSpec, default=None
        Makes the network convolutional (see :class:`~skae._modules.Autoencoder`).
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="elu",
        likelihood="gaussian",
        noise_variance="isotropic",
        dropout=0.0,
        shift=None,
        scale=None,
        dtype=torch.float32,
        image=None,
    ):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(
                f"likelihood={likelihood!r}; expected one of {LIKELIHOODS}."
            )
        if shift is None:
            shift = torch.zeros(n_features, dtype=torch.float64)
            scale = torch.ones(n_features, dtype=torch.float64)
        hidden = list(hidden_layer_sizes)
        self.likelihood = likelihood
        first = n_features if image is None else image.map_width()
        self.encoder = nn.Sequential(Affine(shift, scale))
        self.encoder.extend(image_encoder(image, activation, dropout))
        self.encoder.extend(hidden_stack([first, *hidden], activation, dropout))
        self.encoder.append(GaussianCode(([first] + hidden)[-1], n_components))
        widths = [n_components, *hidden[::-1]]
        self.decoder = nn.Sequential(*hidden_stack(widths, activation, dropout))
        if image is None:
            self.decoder.append(linear(widths[-1], n_features))
        else:
            self.decoder.extend(image_decoder(widths[-1], image, activation, dropout))
        if likelihood == "gaussian":
            self.decoder.append(Affine(shift, scale, inverse=True))
            n_variances = 1 if noise_variance == "isotropic" else n_features
            self.noise_floor = NOISE_FLOORS[noise_variance]
            self.noise_log_variance = nn.Parameter(torch.zeros(n_variances))
        else:
            self.decoder.append(nn.Sigmoid())
        self.to(dtype)

    # ------------------------------------------------------------------
    # The two halves

    def encode(self, x):
        """``(observed, mean, log_var)``: the input in the likelihood's units
        (standardised for the Gaussian, raw for the Bernoulli) and the
        posterior's parameters."""
        standardised = self.encoder[0](x)
        h = standardised
        for layer in itertools.islice(self.encoder, 1, len(self.encoder) - 1):
            h = layer(h)
        mean, log_var = self.encoder[-1].posterior(h)
        # A missing input is 0 in both (its likelihood is masked out).
        observed = standardised if self.likelihood == "gaussian" else x.nan_to_num(0.0)
        return observed, mean, log_var

    def decode_parameters(self, z):
        """The likelihood's parameters given codes ``z`` (any leading shape):
        standardised means (Gaussian) or logits (Bernoulli)."""
        for layer in itertools.islice(self.decoder, len(self.decoder) - 1):
            z = layer(z)
        return z

    def forward(self, x, weights=None, generator=None, mask=None):
        """A pass of ``x``; samples the code in training, or with ``generator``.

        In training the code is drawn from the posterior with the generator
        set by :meth:`set_generator`; in eval mode it is the posterior mean,
        unless ``generator`` is given (a seeded evaluation of the ELBO).
        ``weights`` are not used: every layer works row by row. ``mask``
        (True where observed) leaves the missing cells out of the
        likelihood.
        """
        observed, mean, log_var = self.encode(x)
        if generator is None and self.training:
            generator = self.generator
            if generator is None:
                raise RuntimeError(
                    "Training a VariationalNetwork samples codes: call "
                    "set_generator(generator) first (global random state is "
                    "never used)."
                )
        codes = mean
        if generator is not None:
            codes = reparameterize(mean, log_var, generator)
        decoded = self.decode_parameters(codes)
        log_likelihood = self.log_likelihood(decoded, observed, mask)
        return VariationalOutput(codes, mean, log_var, log_likelihood)

    # ------------------------------------------------------------------
    # The observation model

    def noise_variance(self):
        """The Gaussian noise variance in standardised units, floored."""
        raw = self.noise_log_variance.clamp(*_NOISE_LOG_VAR_RANGE)
        return self.noise_floor + torch.exp(raw)

    def noise_std(self):
        """The Gaussian noise standard deviation per feature, in input units."""
        return self.noise_variance().sqrt() / self.encoder[0].factor

    def log_jacobian(self):
        """``log |d observed / d x|``: the change of units the likelihood is
        evaluated in (float64; 0 for the Bernoulli likelihood)."""
        if self.likelihood != "gaussian":
            return torch.zeros((), dtype=torch.float64)
        return self.encoder[0].factor.double().abs().log().sum()

    def log_likelihood(self, decoded, observed, mask=None):
        """``log p(x | z)`` summed over features, in the units of ``x``.

        ``decoded`` (leading shape ``S``, then ``n_features``) holds the
        parameters :meth:`decode_parameters` gave; ``observed`` (the input
        in the likelihood's units) broadcasts against it. With ``mask``
        (True where a cell was observed), the sum is over the observed cells:
        the density of the observed part, the missing cells integrated out.
        """
        if mask is not None:
            return self._observed_log_likelihood(decoded, observed, mask)
        if self.likelihood == "bernoulli":
            return -F.binary_cross_entropy_with_logits(
                decoded, observed.expand_as(decoded), reduction="none"
            ).sum(-1)
        variance = self.noise_variance()
        n_features = decoded.shape[-1]
        squares = ((observed - decoded).square() / variance).sum(-1)
        log_det = torch.log(variance).sum() * (n_features // variance.numel())
        log_density = -0.5 * (squares + log_det + n_features * _LOG_2PI)
        return log_density + self.log_jacobian().to(decoded.dtype)

    def _observed_log_likelihood(self, decoded, observed, mask):
        """:meth:`log_likelihood` over the cells ``mask`` marks observed."""
        # Filled first: a missing cell's value is never read, NaN included.
        observed = torch.where(mask, observed, 0.0)
        if self.likelihood == "bernoulli":
            log_p = -F.binary_cross_entropy_with_logits(
                decoded, observed.expand_as(decoded), reduction="none"
            )
            return torch.where(mask, log_p, 0.0).sum(-1)
        variance = self.noise_variance().expand(decoded.shape[-1])
        per_cell = (observed - decoded).square() / variance
        per_cell = per_cell + torch.log(variance) + _LOG_2PI
        log_jacobian = self.encoder[0].factor.double().abs().log().to(decoded.dtype)
        per_cell = log_jacobian - 0.5 * per_cell
        return torch.where(mask, per_cell, 0.0).sum(-1)

    # ------------------------------------------------------------------
    # What the estimators and the training loop use

    def optimizer_parameters(self, part, learning_rate):
        """Optimizer parameter groups: the noise log-variance learns faster."""
        if part != WHOLE_NETWORK:
            return super().optimizer_parameters(part, learning_rate)
        noise = [self.noise_log_variance] if self.likelihood == "gaussian" else []
        ids = {id(p) for p in noise}
        groups = [{"params": [p for p in self.parameters() if id(p) not in ids]}]
        if noise:
            lr = learning_rate * NOISE_LEARNING_RATE_FACTOR
            groups.append({"params": noise, "lr": lr})
        return groups

    def reset_parameters(self, generator):
        """Initialise every weight from ``generator``, reproducibly.

        The noise log-variance starts at 0: the data's own (mean) variance.
        """
        for layer in self.hidden_layers():
            init_linear(
                layer[0] if isinstance(layer, HiddenLayer) else layer.linear, generator
            )
        init_linear(self.output_linear(), generator)
        if self.likelihood == "gaussian":
            nn.init.zeros_(self.noise_log_variance)

    def hidden_layers(self):
        kinds = (HiddenLayer, GaussianCode)
        return [m for m in (*self.encoder, *self.decoder) if isinstance(m, kinds)]

    def code_layer_index(self):
        return sum(isinstance(m, HiddenLayer) for m in self.encoder)


def reparameterize(mean, log_var, generator):
    """A draw from N(mean, exp(log_var)) that gradients flow through."""
    eps = torch.randn(
        mean.shape, generator=generator, dtype=mean.dtype, device=mean.device
    )
    return mean + torch.exp(0.5 * log_var) * eps


# ----------------------------------------------------------------------
# The objective


@dataclass(frozen=True)
class NegativeLogLikelihood:
    """Mean over rows of ``-log p(x | z)`` (nats per row, in the input's units)."""

    def __call__(self, output, batch):
        return -row_mean(output.log_likelihood, batch.weights)


@dataclass(frozen=True)
class GaussianKL:
    """Mean over rows of KL(q(z | x) || N(0, I)), analytic."""

    name = "kl"

    def __call__(self, output, module, batch):
        mean, log_var = output.mean, output.log_var
        kl = mean.square() + torch.exp(log_var) - 1.0 - log_var
        return 0.5 * row_mean(kl.sum(dim=1), batch.weights)


class VariationalObjective(Objective):
    """The negative ELBO, ``NLL + kl_weight * KL``, plus penalty terms.

    The parts reported are unweighted, so their sum (the loss curve) is the
    negative ELBO (plus penalties) whatever ``kl_weight`` is; only the
    gradient sees the weight (beta, or its warm-up ramp).

    Parameters
    ----------
    terms : sequence of callables
        Penalty terms (see :mod:`skae._penalties`), after the KL term.
    kl_weight : float
        Weight of the KL term in the minimised loss; a schedule may change it.
    seed : int
        Seeds the codes drawn by :meth:`evaluation_loss`, afresh at every
        call, so that every epoch's validation loss sees the same draws.
    """

    def __init__(self, terms=(), kl_weight=1.0, seed=0):
        super().__init__(NegativeLogLikelihood(), (GaussianKL(), *terms))
        self.kl_weight = kl_weight
        self.seed = seed

    def __call__(self, module, batch):
        output = module(batch.inputs, mask=batch.mask)
        parts = [self.reconstruction(output, batch)]
        parts.extend(term(output, module, batch) for term in self.terms)
        total = parts[0] + self.kl_weight * parts[1]
        for part in parts[2:]:
            total = total + part
        return total, parts

    def evaluation_loss(self, module, batch):
        """The negative ELBO of a batch, from one seeded draw per row."""
        device = batch.inputs.device
        generator = torch.Generator(device=device).manual_seed(self.seed)
        output = module(batch.inputs, generator=generator, mask=batch.mask)
        nll = self.reconstruction(output, batch)
        return nll + self.terms[0](output, module, batch)


# ----------------------------------------------------------------------
# Inference

# Numbers per chunk of the importance-sampling pass (about 32 MB in float64).
_SCORE_ELEMENTS = 1 << 22


@torch.no_grad()
def importance_weighted_log_likelihood(module, x, eps):
    """The importance-weighted estimate of ``log p(x)`` of each row (float64).

    ``eps`` (shape ``(n_samples, n_components)``) are standard normal draws
    shared by every row: row ``i``'s codes are ``mean_i + std_i * eps``, so
    each row's estimate is the IWAE bound of Burda et al. (2016) with
    ``n_samples`` samples, and it depends on the row alone, not on which
    other rows are scored with it or in what order. The log-mean-exp is
    taken in float64. A row with missing values (NaN) gets the estimate of
    its observed part's density; a row with none observed, NaN.
    """
    width = module.widest_activation()
    rows = max(1, _SCORE_ELEMENTS // (eps.shape[0] * width))
    return torch.cat(
        [
            _iwae_rows(module, x[start : start + rows], eps, width)
            for start in range(0, x.shape[0], rows)
        ]
    )


def _iwae_rows(module, x, eps, width):
    missing = torch.isnan(x)
    mask = ~missing if missing.any() else None
    observed, mean, log_var = module.encode(x)
    n_samples = eps.shape[0]
    # Samples in chunks too, so that memory is bounded even for one row.
    per_chunk = max(1, _SCORE_ELEMENTS // (x.shape[0] * width))
    partial = []
    for start in range(0, n_samples, per_chunk):
        chunk = eps[start : start + per_chunk, None, :]
        codes = mean + torch.exp(0.5 * log_var) * chunk
        decoded = module.decode_parameters(codes)
        log_px = module.log_likelihood(decoded, observed, mask)
        codes, chunk = codes.double(), chunk.double()
        # log p(z) - log q(z | x); the 2 pi terms cancel.
        log_ratio = -0.5 * (codes.square() - chunk.square() - log_var.double()).sum(-1)
        partial.append(torch.logsumexp(log_px.double() + log_ratio, dim=0))
    log_p = torch.logsumexp(torch.stack(partial), dim=0) - math.log(n_samples)
    if mask is None:
        return log_p
    return torch.where(mask.any(dim=1), log_p, torch.nan)


@torch.no_grad()
def draw_samples(module, n_samples, generator, batch_size):
    """``n_samples`` rows drawn from the model: codes from the prior, then
    the likelihood's noise (Gaussian) or coin flips (Bernoulli)."""
    param = next(module.parameters())
    out = []
    for start in range(0, n_samples, batch_size):
        n = min(batch_size, n_samples - start)
        codes = torch.randn(
            (n, module.encoder[-1].n_components),
            generator=generator,
            dtype=param.dtype,
            device=param.device,
        )
        means = module.decoder(codes)
        out.append(observation(module, means, generator))
    return torch.cat(out)


def observation(module, means, generator):
    """Rows drawn around ``means``: the likelihood's noise or coin flips."""
    if module.likelihood == "bernoulli":
        return torch.bernoulli(means, generator=generator)
    noise = torch.randn(
        means.shape, generator=generator, dtype=means.dtype, device=means.device
    )
    return means + noise * module.noise_std()
