"""Torch modules: the building blocks of skae's MLPs, and the dense autoencoder.

The blocks (activations, seeded dropout, the input standardisation, hidden
layers, code layers) are shared by every MLP network kind: the dense
:class:`Autoencoder` here and the variational network of
:mod:`skae._variational` build their bodies from :func:`hidden_stack`,
:func:`linear` and :func:`init_linear`. Nothing here knows about
scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import abc
import itertools
import math
from functools import partial
from typing import NamedTuple

import torch
from torch import nn

from ._conv import SINGLE_THREAD_WORK as CONV_SINGLE_THREAD_WORK
from ._conv import (
    ImageConv,
    ImageConvTranspose,
    decoder_convolutions,
    encoder_convolutions,
)
from ._networks import NetworkModule

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
    and a divide (about 2% of a step on MNIST). Standardising, a missing
    input (NaN) becomes 0: the training mean of its feature, so that every
    network reads incomplete rows (its loss and scores leave those cells
    out).
    """

    def __init__(self, shift, scale, inverse=False):
        super().__init__()
        factor, offset = (scale, shift) if inverse else (1.0 / scale, -shift / scale)
        self.register_buffer("factor", factor)
        self.register_buffer("offset", offset)
        self.inverse = inverse

    def forward(self, x):
        out = torch.addcmul(self.offset, x, self.factor)
        # In place on a fresh tensor: one pass, and no change to complete rows.
        return out if self.inverse else out.nan_to_num_(0.0)


def linear(n_in, n_out):
    """An ``nn.Linear`` left uninitialised (see :func:`init_linear`)."""
    # nn.Linear's constructor initialises its weights from torch's global
    # RNG; skip that (weights come from reset_parameters and an explicit
    # generator) so that building a network leaves global state untouched.
    return nn.utils.skip_init(nn.Linear, n_in, n_out)


class TiedLinear(nn.Module):
    """A linear layer whose weight is the transpose of another layer's.

    A tied decoder layer: it owns only its bias, and reads the weight of
    the encoder layer it mirrors, so the two are one parameter (updated by
    both halves' gradients).
    """

    def __init__(self, source):
        super().__init__()
        # Kept out of the module tree (a tuple, not an attribute torch
        # registers): the weight belongs to, and is saved with, the encoder.
        self._source = (source,)
        self.bias = nn.Parameter(torch.empty(source.in_features))

    @property
    def in_features(self):
        return self._source[0].out_features

    @property
    def out_features(self):
        return self._source[0].in_features

    @property
    def weight(self):
        return self._source[0].weight.t()

    def forward(self, x):
        return nn.functional.linear(x, self.weight, self.bias)


class HiddenLayer(nn.Sequential):
    """``Linear`` followed by an activation: one hidden layer of the network.

    ``tied_to``, a ``Linear`` layer, makes the linear part its transpose
    (see :class:`TiedLinear`); ``layer`` replaces the linear part (a
    convolution over flattened image rows, say).
    """

    def __init__(self, n_in, n_out, activation, tied_to=None, layer=None):
        if layer is None:
            layer = linear(n_in, n_out) if tied_to is None else TiedLinear(tied_to)
        super().__init__(layer, ACTIVATIONS[activation]())
        self.activation = activation


def _with_dropout(layers, dropout):
    """``layers``, each followed by dropout at rate ``dropout`` (if any)."""
    if dropout == 0:
        return list(layers)
    return [m for layer in layers for m in (layer, SeededDropout(dropout))]


def hidden_stack(widths, activation, dropout, tied_to=None):
    """Hidden layers between consecutive ``widths``, each followed by dropout.

    The code layer is built separately and gets no dropout: dropping units
    of a narrow bottleneck destroys the representation itself. ``tied_to``
    lists, layer by layer, the ``Linear`` each layer's weight mirrors.
    """
    tied_to = tied_to or [None] * (len(widths) - 1)
    layers = [
        HiddenLayer(n_in, n_out, activation, source)
        for (n_in, n_out), source in zip(
            itertools.pairwise(widths), tied_to, strict=True
        )
    ]
    return _with_dropout(layers, dropout)


def image_encoder(image, activation, dropout, map_code=False):
    """The convolutional hidden layers an image network's encoder starts with.

    ``image`` is a :class:`~skae._conv.ImageSpec` (None: no layers). With
    ``map_code``, the last convolution's feature map is the code layer, and
    gets no dropout.
    """
    if image is None:
        return []
    layers = [
        HiddenLayer(None, None, activation, layer=conv)
        for conv in encoder_convolutions(image)
    ]
    if map_code:
        return [*_with_dropout(layers[:-1], dropout), layers[-1]]
    return _with_dropout(layers, dropout)


def image_decoder(n_in, image, activation, dropout, map_code=False):
    """The layers ending an image network's decoder, from ``n_in`` units.

    A dense layer brings the code (or the last dense layer) up to the last
    feature map (none when ``map_code``: the code is that map); transposed
    convolutions bring it back to the input's shape, the last one, the
    output layer, with no activation.
    """
    *hidden, output = decoder_convolutions(image)
    widths = [] if map_code else [n_in, image.map_width()]
    layers = hidden_stack(widths, activation, dropout) if widths else []
    convs = [HiddenLayer(None, None, activation, layer=conv) for conv in hidden]
    return [*layers, *_with_dropout(convs, dropout), output]


class TopK(nn.Module):
    """Keep the ``k`` largest activations of each row and zero the others.

    The k-sparse code of Makhzani & Frey (2013). In eval mode it keeps
    ``k_eval`` instead (their ``alpha * k`` at encoding time; ``k`` unless
    set). ``k`` may be lowered during training by a schedule.
    """

    def __init__(self, k, k_eval=None):
        super().__init__()
        self.k = k
        self.k_eval = k if k_eval is None else k_eval

    def forward(self, x):
        k = self.k if self.training else self.k_eval
        if k >= x.shape[1]:
            return x
        values, indices = x.topk(k, dim=1)
        return torch.zeros_like(x).scatter(1, indices, values)

    def extra_repr(self):
        return f"k={self.k}, k_eval={self.k_eval}"


class LifetimeSparsity(nn.Module):
    """In training, keep each unit's largest activations over the batch.

    Winner-take-all lifetime sparsity (Makhzani & Frey, 2015): each unit
    keeps the activations at least as large as its ``k``-th largest in the
    batch, ``k = ceil(rate * batch size)``, and the others are zeroed, so
    every unit is active for that fraction of the rows (no unit dies, none
    dominates). With row weights, the batch size is their sum and a row of
    weight ``w`` counts as ``w`` rows: as its copies would, it wins or loses
    whole (ties at the ``k``-th value are all kept, which makes copies of a
    row alike). In eval mode every activation is kept, as in the paper.
    """

    # The encoder passes the batch's row weights to this layer.
    uses_row_weights = True

    def __init__(self, rate):
        super().__init__()
        self.rate = rate

    def forward(self, x, weights=None):
        if not self.training:
            return x
        if weights is None:
            keep = math.ceil(self.rate * x.shape[0])
            if keep >= x.shape[0]:
                return x
            threshold = x.topk(keep, dim=0).values[-1]
        else:
            threshold = self._weighted_threshold(x, weights)
        return x * (x >= threshold).to(x.dtype)

    def _weighted_threshold(self, x, weights):
        """Each unit's ``k``-th largest activation, rows counted by weight.

        On the device, with no host synchronisation: the value at which the
        cumulative weight of the larger activations first reaches ``k``
        (every activation, when the rows hold less weight than that).
        """
        keep = torch.ceil(self.rate * weights.sum())
        values, order = x.sort(dim=0, descending=True)
        counts = weights[order].cumsum(dim=0)
        position = (counts < keep).sum(dim=0, keepdim=True)
        return values.gather(0, position.clamp(max=x.shape[0] - 1))

    def extra_repr(self):
        return f"rate={self.rate}"


class RowWeightedSequential(nn.Sequential):
    """``nn.Sequential`` passing a batch's row weights to the layers that use them.

    A layer with ``uses_row_weights = True`` is called as ``layer(x,
    weights)``, the others as ``layer(x)``; called with ``x`` alone, it is
    ``nn.Sequential``.
    """

    def forward(self, x, weights=None):
        for layer in self:
            if getattr(layer, "uses_row_weights", False):
                x = layer(x, weights)
            else:
                x = layer(x)
        return x


def dense_rule():
    """The plain code: every activation of the code layer is kept."""
    return []


def topk_rule(k, k_eval=None):
    """Each row keeps its ``k`` largest codes."""
    return [TopK(k, k_eval)]


def lifetime_rule(rate):
    """Each unit keeps its ``rate`` largest activations in training."""
    return [LifetimeSparsity(rate)]


# Code-layer kinds: name -> builder ``(**options) -> list of modules`` that
# follow the code layer and end the encoder (the rule choosing which codes
# are kept). A new kind of code is a new entry here and a recipe naming it.
CODE_LAYERS = {"dense": dense_rule, "topk": topk_rule, "lifetime": lifetime_rule}


def _output_layer(n_in, n_out, tied_to):
    return linear(n_in, n_out) if tied_to is None else TiedLinear(tied_to)


def init_linear(layer, generator):
    """Initialise a layer's weight from ``generator``, its bias at 0.

    A ``Linear`` layer or a convolution: the weight's scale comes from the
    inputs each output sums over (its fan-in), as torch's default does.
    """
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
    bound = 1.0 / math.sqrt(layer.weight[0].numel())
    weight = torch.empty(layer.weight.shape, dtype=torch.float64)
    nn.init.uniform_(weight, -bound, bound, generator=generator)
    with torch.no_grad():
        layer.weight.copy_(weight)
    nn.init.zeros_(layer.bias)


def _init_layer(layer, generator):
    # A tied layer's weight is initialised with the layer it mirrors.
    if isinstance(layer, TiedLinear):
        nn.init.zeros_(layer.bias)
    else:
        init_linear(layer, generator)


def _multiply_adds(layer):
    if hasattr(layer, "multiply_adds"):
        return layer.multiply_adds()
    return layer.in_features * layer.out_features


def _filter_rows(layer):
    return layer.filter_rows() if hasattr(layer, "filter_rows") else layer.weight


class MLPNetwork(NetworkModule):
    """What the MLP network kinds share: linear layers, found in their modules.

    A subclass builds ``encoder`` (starting with the input standardisation,
    an :class:`Affine`) and ``decoder``, and says which of their modules are
    its hidden layers (:meth:`hidden_layers`) and which is the code layer.
    The cost, widths and weights are the encoder's and the decoder's: a
    part used in training only (a discriminator) is not counted.
    """

    @abc.abstractmethod
    def hidden_layers(self):
        """The hidden layers' modules in forward order: encoder, code, decoder."""

    def _linears(self, *modules):
        """The weighted layers (linear, tied, convolutions) of ``modules``
        (default: the encoder and the decoder)."""
        kinds = (nn.Linear, TiedLinear, ImageConv, ImageConvTranspose)
        modules = modules or (self.encoder, self.decoder)
        return [
            m for module in modules for m in module.modules() if isinstance(m, kinds)
        ]

    def weights(self):
        # A tied layer's weight is its encoder layer's: counted once.
        return [m.weight for m in self._linears() if not isinstance(m, TiedLinear)]

    def multiply_adds(self):
        # Tied layers compute as much as any other.
        return sum(_multiply_adds(m) for m in self._linears())

    def single_thread_work(self):
        convolutional = any(isinstance(m, ImageConv) for m in self._linears())
        return CONV_SINGLE_THREAD_WORK if convolutional else None

    def widest_activation(self):
        # The output layer is as wide as the input.
        return max(m.out_features for m in self._linears())

    def n_hidden_layers(self):
        return len(self.hidden_layers())

    def layer_features(self, index):
        if index == self.code_layer_index():
            # The codes, with whatever ends the encoder (a top-k layer).
            return self.encoder
        modules = [*self.encoder, *self.decoder]
        layer = self.hidden_layers()[index]
        end = next(i for i, m in enumerate(modules) if m is layer)
        return nn.Sequential(*modules[: end + 1])

    def filters(self, layer):
        if layer == "encoder":
            return _filter_rows(self._linears(self.encoder)[0])
        output = self.output_linear()
        if hasattr(output, "filter_rows"):
            return output.filter_rows()
        return output.weight.t()

    def filter_shape(self, layer):
        first = self._linears(self.encoder)[0] if layer == "encoder" else None
        output = self.output_linear() if layer == "decoder" else None
        if isinstance(first, ImageConv):
            return (first.in_shape[0], *first.kernel_size)
        if isinstance(output, ImageConvTranspose):
            return (output.out_shape[0], *output.kernel_size)
        return None

    def output_linear(self):
        """The decoder's final weighted layer (a ``TiedLinear`` when tied, a
        transposed convolution for images)."""
        return self._linears(self.decoder)[-1]

    def input_scale(self):
        first = self.encoder[0]
        return 1.0 / first.factor if isinstance(first, Affine) else None

    def input_shift(self):
        first = self.encoder[0]
        return -first.offset / first.factor if isinstance(first, Affine) else None


class Autoencoder(MLPNetwork):
    """A symmetric MLP autoencoder: the ``"mlp"`` network kind.

    The encoder maps ``n_features`` inputs through ``hidden_layer_sizes`` to
    ``n_components`` codes; the decoder mirrors it back. Every hidden layer,
    the code layer included, uses ``activation``; the output layer uses
    ``output_activation``. ``shift`` and ``scale`` (length ``n_features``)
    standardise the input inside the encoder and are undone at the decoder's
    output when the output activation is the identity, so both halves work
    in the caller's units.

    ``code`` names the code layer's kind in :data:`CODE_LAYERS`, built with
    ``code_options``; ``code_activation`` replaces ``activation`` on the code
    layer (a linear code, say). ``forward`` returns an :class:`Output`, the
    reconstruction and the codes, so that penalties on the codes need no
    second pass.

    ``image``, a :class:`~skae._conv.ImageSpec`, makes it a convolutional
    autoencoder: the encoder starts with strided convolutions over the rows
    read as images, the decoder ends with their transposes. With
    ``map_code`` the last convolution's feature map is the code
    (``n_components`` is its width, and there are no dense layers).
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
        tied_weights=False,
        code_activation=None,
        image=None,
        map_code=False,
    ):
        super().__init__()
        if tied_weights and image is not None:
            raise ValueError("Convolutional networks cannot tie their weights.")
        hidden = list(hidden_layer_sizes)
        code_activation = activation if code_activation is None else code_activation
        first = n_features if image is None else image.map_width()
        self.encoder = RowWeightedSequential()
        if shift is not None:
            self.encoder.append(Affine(shift, scale))
        self.encoder.extend(image_encoder(image, activation, dropout, map_code))
        if not map_code:
            self.encoder.extend(hidden_stack([first, *hidden], activation, dropout))
            width = ([first] + hidden)[-1]
            self.encoder.append(HiddenLayer(width, n_components, code_activation))
        self.encoder.extend(CODE_LAYERS[code](**(code_options or {})))
        widths = [n_components, *hidden[::-1]]
        # Tied: each decoder layer mirrors the encoder layer at the same
        # depth from the code, the output layer the first encoder layer.
        mirrored = [None] * len(widths)
        if tied_weights:
            mirrored = [m[0] for m in self.encoder if isinstance(m, HiddenLayer)][::-1]
        body = hidden_stack(widths, activation, dropout, mirrored[:-1])
        if image is None:
            body.append(_output_layer(widths[-1], n_features, mirrored[-1]))
        else:
            body.extend(image_decoder(widths[-1], image, activation, dropout, map_code))
        self.decoder = nn.Sequential(*body, ACTIVATIONS[output_activation]())
        if shift is not None and output_activation == "identity":
            self.decoder.append(Affine(shift, scale, inverse=True))
        self.to(dtype)

    def forward(self, inputs, weights=None):
        codes = self.encoder(inputs, weights)
        return Output(self.decoder(codes), codes)

    def reset_parameters(self, generator):
        for layer in self.hidden_layers():
            _init_layer(layer[0], generator)
        _init_layer(self.output_linear(), generator)

    def hidden_layers(self):
        return [m for m in (*self.encoder, *self.decoder) if isinstance(m, HiddenLayer)]

    def code_layer_index(self):
        return sum(isinstance(m, HiddenLayer) for m in self.encoder) - 1

    def code_rule(self):
        """The module that ends the encoder after the code layer (a top-k or
        lifetime rule), or None for a dense code."""
        last = self.encoder[-1]
        return None if isinstance(last, HiddenLayer) else last
