"""The network-family protocol: what the rest of skae may ask of a network.

Every network kind (the dense autoencoder of :mod:`skae._modules`, the
variational one of :mod:`skae._variational`, and any kind registered with
:func:`skae._recipe.register_network_kind`) is a :class:`NetworkModule`.
The estimators, the training loop, the penalties, inference and the plots
ask a network what a row costs, how wide it gets, what its layers, filters
and weights are, through the methods below, and never inspect its layer
types. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import abc

import torch
from torch import nn

# The part of a network that an optimizer of this name trains: all of it.
WHOLE_NETWORK = "network"


class NetworkModule(nn.Module, abc.ABC):
    """Base class of the network kinds skae trains.

    A kind builds two submodules, ``encoder`` (raw input rows to codes) and
    ``decoder`` (codes to reconstructions in the units of the input), which
    the estimators publish as ``encoder_`` and ``decoder_`` and export to
    ONNX, and implements the abstract methods. ``forward(inputs,
    weights=None)`` returns an output with at least ``reconstruction`` and
    ``codes`` (see :class:`skae._modules.Output`); ``weights`` are the
    batch's row weights in training, for layers whose rule looks across the
    rows of a batch. ``generator`` is the torch generator a fit draws its
    training randomness from (dropout masks, penalties' probes), or None.
    """

    def __init__(self):
        super().__init__()
        self.generator = None

    @abc.abstractmethod
    def reset_parameters(self, generator):
        """Initialise every trainable parameter from ``generator``, reproducibly."""

    @abc.abstractmethod
    def weights(self):
        """The weight tensors (biases excluded): what elastic net penalises
        and AdamW decays."""

    @abc.abstractmethod
    def multiply_adds(self):
        """Multiply-adds of one forward pass of one row: what sizes threads
        (a backward pass costs about twice as much)."""

    def single_thread_work(self):
        """Multiply-adds of a step below which this network runs on one
        thread, or None for the package's default (see :mod:`skae._threads`)."""
        return None

    @abc.abstractmethod
    def widest_activation(self):
        """The most numbers any layer (the input included) holds for one row:
        what bounds the memory of an inference batch."""

    @abc.abstractmethod
    def n_hidden_layers(self):
        """The number of hidden layers, encoder, code and decoder together."""

    @abc.abstractmethod
    def code_layer_index(self):
        """The index of the code layer among the hidden layers."""

    @abc.abstractmethod
    def layer_features(self, index):
        """A module mapping input rows to hidden layer ``index``'s activations,
        one flat row per input row (``0 <= index < n_hidden_layers()``)."""

    @abc.abstractmethod
    def filters(self, layer):
        """The learned filters, one per row of a 2-d tensor.

        ``layer='encoder'``: the pattern each unit of the first layer
        responds to; ``'decoder'``: the pattern each unit of the last hidden
        layer adds to the reconstruction.
        """

    def filter_shape(self, layer):
        """The shape one row of :meth:`filters` is drawn in, or None.

        A convolution's kernels have their own shape, ``(channels, height,
        width)``; None for filters as wide as the input, whose shape is the
        data's (the caller's to give).
        """
        return None

    def input_scale(self):
        """Per-feature divisor of the input standardisation (None without one)."""
        return None

    def input_shift(self):
        """Per-feature centre of the input standardisation (None without one)."""
        return None

    def optimizer_parameters(self, part, learning_rate):
        """The parameter groups an optimizer training ``part`` updates.

        ``part`` is :data:`WHOLE_NETWORK`, or the name of a submodule (a
        family's ``discriminator``, say). ``learning_rate`` is the
        optimizer's: a group may set its own, relative to it.
        """
        module = self if part == WHOLE_NETWORK else getattr(self, part)
        return [{"params": list(module.parameters())}]

    def set_generator(self, generator):
        """Draw training randomness from ``generator`` (None detaches it).

        Every submodule with a ``generator`` attribute (seeded dropout, say)
        draws from it too; the training loop sets it for a fit only.
        """
        for module in self.modules():
            if hasattr(module, "generator"):
                module.generator = generator


def fill_in(encoder, decoder, x, passes):
    """``x`` with its missing (NaN) cells filled in by the network itself.

    The first pass reads a missing cell as its feature's training mean (the
    input layer's zero); each pass replaces the missing cells with the
    reconstruction of the row as filled so far, the observed cells kept:
    a row read through its own reconstruction encodes closer to where the
    complete row would. A row with no missing cell comes back unchanged.
    """
    missing = torch.isnan(x)
    filled = x
    for _ in range(passes):
        filled = torch.where(missing, decoder(encoder(filled)), x)
    return filled


class FilledIn(nn.Module):
    """``inner`` applied to its input filled in by :func:`fill_in` (for export)."""

    def __init__(self, inner, encoder, decoder, passes):
        super().__init__()
        self.inner, self.encoder, self.decoder = inner, encoder, decoder
        self.passes = passes

    def forward(self, x):
        return self.inner(fill_in(self.encoder, self.decoder, x, self.passes))
