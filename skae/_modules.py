"""Torch modules: the encoder/decoder MLPs skae trains.

Nothing here knows about scikit-learn; the estimators build an
:class:`Autoencoder` from plain settings and hand it to the training loop.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import itertools
import math
from functools import partial
from typing import NamedTuple

import torch
from torch import nn

ACTIVATIONS = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "leaky_relu": partial(nn.LeakyReLU, negative_slope=0.01),
    "elu": nn.ELU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}


class Output(NamedTuple):
    """A forward pass: the reconstruction, and the codes it was decoded from."""

    reconstruction: torch.Tensor
    codes: torch.Tensor


class SeededDropout(nn.Module):
    """Inverted dropout drawing its masks from an explicit generator.

    ``nn.Dropout`` only uses torch's global RNG; skae never touches global
    random state, so the training loop sets :attr:`generator` for the
    duration of a fit and clears it afterwards.
    """

    def __init__(self, p):
        super().__init__()
        self.p = p
        self.generator = None

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)

    def extra_repr(self):
        return f"p={self.p}"


class Affine(nn.Module):
    """``x * factor + offset`` per feature, with constants kept as buffers.

    Standardising is ``factor = 1 / scale``, ``offset = -shift / scale``; its
    inverse ``factor = scale``, ``offset = shift``. One fused ``addcmul``
    kernel: on the training hot path, half the memory traffic of a subtract
    and a divide (about 2% of a step on MNIST).
    """

    def __init__(self, shift, scale, inverse=False):
        super().__init__()
        factor, offset = (scale, shift) if inverse else (1.0 / scale, -shift / scale)
        self.register_buffer("factor", factor)
        self.register_buffer("offset", offset)

    def forward(self, x):
        return torch.addcmul(self.offset, x, self.factor)


def _linear(n_in, n_out):
    # nn.Linear's constructor initialises its weights from torch's global
    # RNG; skip that (weights come from reset_parameters and an explicit
    # generator) so that building a network leaves global state untouched.
    return nn.utils.skip_init(nn.Linear, n_in, n_out)


class HiddenLayer(nn.Sequential):
    """``Linear`` followed by an activation: one hidden layer of the network."""

    def __init__(self, n_in, n_out, activation):
        super().__init__(_linear(n_in, n_out), ACTIVATIONS[activation]())
        self.activation = activation


def _hidden_stack(widths, activation, dropout):
    """Hidden layers between consecutive ``widths``, each followed by dropout.

    The code layer is built separately and gets no dropout: dropping units
    of a narrow bottleneck destroys the representation itself.
    """
    layers = []
    for n_in, n_out in itertools.pairwise(widths):
        layers.append(HiddenLayer(n_in, n_out, activation))
        if dropout > 0:
            layers.append(SeededDropout(dropout))
    return layers


def dense_code(n_in, n_components, activation):
    """The plain code layer: one hidden layer of ``n_components`` units."""
    return [HiddenLayer(n_in, n_components, activation)]


# Code-layer kinds: name -> builder ``(n_in, n_components, activation,
# **options) -> list of modules`` ending the encoder. A new kind of code (a
# top-k layer, say) is a new entry here and a recipe naming it.
CODE_LAYERS = {"dense": dense_code}


def _init_linear(linear, generator):
    # torch's default weight scale, U(+-1/sqrt(fan_in)), drawn from our own
    # generator. Variance-preserving gains (He, Glorot) were measured worse:
    # with ELU they blow up the first epochs of deep stacks (digits, 7
    # layers: initial loss 3.1 vs 1.0) and end ~10-30% higher. Zero biases
    # make the untrained network output the data mean once un-scaled.
    #
    # Drawn in float64 whatever the network's dtype, then cast: how many
    # numbers a draw takes from the generator depends on the dtype filled,
    # so drawing in the network's dtype would start float32 and float64
    # networks of one seed from unrelated weights.
    bound = 1.0 / math.sqrt(linear.in_features)
    weight = torch.empty(linear.weight.shape, dtype=torch.float64)
    nn.init.uniform_(weight, -bound, bound, generator=generator)
    with torch.no_grad():
        linear.weight.copy_(weight)
    nn.init.zeros_(linear.bias)


class Autoencoder(nn.Module):
    """A symmetric MLP autoencoder.

    The encoder maps ``n_features`` inputs through ``hidden_layer_sizes`` to
    ``n_components`` codes; the decoder mirrors it back. Every hidden layer,
    the code layer included, uses ``activation``; the output layer uses
    ``output_activation``. ``shift`` and ``scale`` (length ``n_features``)
    standardise the input inside the encoder and are undone at the decoder's
    output when the output activation is the identity, so both halves work
    in the caller's units.

    ``code`` names the code layer's kind in :data:`CODE_LAYERS`, built with
    ``code_options``. ``forward`` returns an :class:`Output`, the
    reconstruction and the codes, so that penalties on the codes need no
    second pass.
    """

    def __init__(
        self,
        n_features,
        n_components,
        hidden_layer_sizes=(),
        activation="elu",
        output_activation="identity",
        dropout=0.0,
        shift=None,
        scale=None,
        dtype=torch.float32,
        code="dense",
        code_options=None,
    ):
        super().__init__()
        hidden = list(hidden_layer_sizes)
        self.encoder = nn.Sequential()
        if shift is not None:
            self.encoder.append(Affine(shift, scale))
        self.encoder.extend(_hidden_stack([n_features, *hidden], activation, dropout))
        self.encoder.extend(
            CODE_LAYERS[code](
                ([n_features] + hidden)[-1],
                n_components,
                activation,
                **(code_options or {}),
            )
        )
        self.decoder = nn.Sequential(
            *_hidden_stack([n_components, *hidden[::-1]], activation, dropout),
            _linear(([n_components] + hidden[::-1])[-1], n_features),
            ACTIVATIONS[output_activation](),
        )
        if shift is not None and output_activation == "identity":
            self.decoder.append(Affine(shift, scale, inverse=True))
        self.to(dtype)

    def forward(self, x):
        codes = self.encoder(x)
        return Output(self.decoder(codes), codes)

    def reset_parameters(self, generator):
        """Initialise every weight from ``generator``, reproducibly."""
        for layer in self.hidden_layers():
            _init_linear(layer[0], generator)
        _init_linear(self.output_linear(), generator)

    def hidden_layers(self):
        """The hidden layers in forward order: encoder, code, decoder."""
        return [m for m in (*self.encoder, *self.decoder) if isinstance(m, HiddenLayer)]

    def code_layer_index(self):
        """Index of the code layer in :meth:`hidden_layers`."""
        return sum(isinstance(m, HiddenLayer) for m in self.encoder) - 1

    def output_linear(self):
        """The decoder's final ``Linear`` layer."""
        return [m for m in self.decoder if isinstance(m, nn.Linear)][-1]

    def weights(self):
        """Every ``Linear`` weight matrix (biases excluded)."""
        return [m.weight for m in self.modules() if isinstance(m, nn.Linear)]

    def n_weights(self):
        """The number of entries of every weight matrix (biases excluded)."""
        return sum(w.numel() for w in self.weights())

    def set_generator(self, generator):
        """Point every dropout layer at ``generator`` (``None`` to detach)."""
        for m in self.modules():
            if isinstance(m, SeededDropout):
                m.generator = generator
