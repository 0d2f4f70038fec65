"""Inference graphs of a trained autoencoder, and their export to ONNX.

Each graph is a small ``torch.nn.Module`` around the trained network that
computes one inference method the way the estimators do (the input scaling
is part of the network, so it is part of the graph); :func:`export_onnx`
turns one into an ONNX model with a dynamic batch axis. Nothing here knows
about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
import logging
import warnings

import torch
import torch.nn.functional as F

from ._conv import STRIDE, ImageConv, ImageConvTranspose
from ._networks import fill_in


class Scores(torch.nn.Module):
    """Minus each row's mean squared reconstruction error, in float64.

    The error is taken in float64, as the estimators' ``score_samples``
    takes it, whatever the network's dtype, and over each row's observed
    cells (NaN for a row with none). ``offset`` is subtracted (a
    detector's ``decision_function``); ``labels`` turns the result into +1
    (not negative) and -1 (negative), as ``predict`` does. ``passes``: how
    many times missing cells are filled in before the reconstruction
    (:func:`~skae._networks.fill_in`).
    """

    def __init__(self, network, offset=0.0, labels=False, passes=0):
        super().__init__()
        self.network = network
        self.passes = passes
        # A float64 tensor: a Python float would be exported as a float32
        # constant, off by its float32 rounding (1e-4 on an offset of 1e3).
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float64))
        self.labels = labels

    def forward(self, x):
        network = self.network
        filled = fill_in(network.encoder, network.decoder, x, self.passes)
        reconstruction = network(filled).reconstruction
        squared = (reconstruction.double() - x.double()).square()
        # Over each row's observed cells: a missing (NaN) one counts for none.
        observed = ~torch.isnan(squared)
        total = torch.where(observed, squared, 0.0).sum(dim=1)
        error = total / observed.sum(dim=1).to(torch.float64)
        scores = -error - self.offset
        if not self.labels:
            return scores
        return torch.where(scores < 0, -1, 1).to(torch.int64)


class ExplicitELU(torch.nn.Module):
    """ELU in float64, in operations onnxruntime has (its ``Elu`` is float32 only)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        # Tensors, not Python floats, which would be exported as float32
        # constants (0.01 would lose its last 8 digits).
        self.register_buffer("alpha", torch.tensor(alpha, dtype=torch.float64))

    def forward(self, x):
        return torch.where(x > 0, x, self.alpha * torch.exp(x) - self.alpha)


class ExplicitLeakyReLU(torch.nn.Module):
    """LeakyReLU in float64, in operations onnxruntime has."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.register_buffer(
            "negative_slope", torch.tensor(negative_slope, dtype=torch.float64)
        )

    def forward(self, x):
        return torch.where(x >= 0, x, self.negative_slope * x)


def _channels_last(x, shape):
    """Flattened channels-first rows as ``(n, height, width, channels)`` images."""
    return x.reshape(-1, *shape).permute(0, 2, 3, 1)


class ExplicitConv(torch.nn.Module):
    """An :class:`~skae._conv.ImageConv` as one matrix product of image patches.

    onnxruntime's CPU ``Conv`` takes float32 only; the patches (strided
    slices of the padded image) and ``MatMul`` exist in both precisions.
    """

    def __init__(self, conv):
        super().__init__()
        self.in_shape, self.out_shape = conv.in_shape, conv.out_shape
        self.kernel_size = conv.kernel_size[0]
        # (in channels * kernel rows * kernel columns, out channels): the
        # patches below are stacked in that order.
        self.register_buffer("weight", conv.weight.reshape(len(conv.weight), -1).t())
        self.register_buffer("bias", conv.bias.detach().clone())

    def forward(self, x):
        k, (_, height, width) = self.kernel_size, self.out_shape
        images = x.reshape(-1, *self.in_shape)
        padded = F.pad(images, (k // 2,) * 4)
        rows, cols = STRIDE * (height - 1) + 1, STRIDE * (width - 1) + 1
        patches = [
            padded[:, :, i : i + rows : STRIDE, j : j + cols : STRIDE]
            for i in range(k)
            for j in range(k)
        ]
        stacked = torch.stack(patches, dim=2).flatten(1, 2)
        out = stacked.permute(0, 2, 3, 1) @ self.weight + self.bias
        return out.permute(0, 3, 1, 2).flatten(1)


def _dilate(t, dim):
    """``t`` with a zero between consecutive entries along ``dim``."""
    zeros = torch.zeros_like(t)
    woven = torch.stack([t, zeros], dim=dim + 1).flatten(dim, dim + 1)
    return woven.narrow(dim, 0, woven.shape[dim] - 1)


class ExplicitConvTranspose(torch.nn.Module):
    """An :class:`~skae._conv.ImageConvTranspose` in operations onnxruntime has
    in float64: one matrix product, then each kernel position's share
    spread over the output at stride 2, shifted and summed."""

    def __init__(self, conv):
        super().__init__()
        self.in_shape, self.out_shape = conv.in_shape, conv.out_shape
        self.kernel_size = conv.kernel_size[0]
        # (in channels, out channels * kernel rows * kernel columns).
        self.register_buffer("weight", conv.weight.reshape(len(conv.weight), -1))
        self.register_buffer("bias", conv.bias.detach().clone())

    def forward(self, x):
        k, (channels, height, width) = self.kernel_size, self.out_shape
        product = _channels_last(x, self.in_shape) @ self.weight
        shares = product.reshape(*product.shape[:3], channels, k, k)
        full = 0
        for i in range(k):
            for j in range(k):
                share = _dilate(_dilate(shares[..., i, j], 1), 2)
                full = full + F.pad(share, (0, 0, j, k - 1 - j, i, k - 1 - i))
        # The output padding: rows and columns past the last kernel's reach.
        full = F.pad(full, (0, 0, 0, k, 0, k))
        start = k // 2
        out = full[:, start : start + height, start : start + width] + self.bias
        return out.permute(0, 3, 1, 2).flatten(1)


# Modules onnxruntime cannot run in float64, and their portable versions.
_FLOAT64_STAND_INS = {
    torch.nn.ELU: lambda m: ExplicitELU(m.alpha),
    torch.nn.LeakyReLU: lambda m: ExplicitLeakyReLU(m.negative_slope),
    ImageConv: ExplicitConv,
    ImageConvTranspose: ExplicitConvTranspose,
}


def portable(graph, dtype):
    """``graph``, or a copy whose layers onnxruntime runs in ``dtype``.

    onnxruntime's CPU kernels for ``Elu``, ``LeakyRelu``, ``Conv`` and
    ``ConvTranspose`` take float32 only; in a float64 graph they are written
    out in operations it has in both precisions (``Where``, ``Exp``,
    ``Slice``, ``MatMul``...).
    """
    if dtype != torch.float64:
        return graph
    graph = copy.deepcopy(graph)
    for parent in list(graph.modules()):
        for name, child in parent.named_children():
            stand_in = _FLOAT64_STAND_INS.get(type(child))
            if stand_in is not None:
                setattr(parent, name, stand_in(child))
    return graph


class Retyped(torch.nn.Module):
    """``graph`` behind a cast of its input to ``dtype`` (the network's),
    its output cast to ``output_dtype`` (None: left as it is).

    The estimators run input of any float dtype this way: the network
    computes in the precision it was fitted in.
    """

    def __init__(self, graph, dtype, output_dtype=None):
        super().__init__()
        # Not self.graph: torch.export's GraphModule has an attribute of
        # that name, and the exported weights would point into it.
        self.inner = graph
        self.dtype = dtype
        self.output_dtype = output_dtype

    def forward(self, x):
        out = self.inner(x.to(self.dtype))
        return out if self.output_dtype is None else out.to(self.output_dtype)


def export_onnx(
    graph, n_inputs, dtype, output_name, input_dtype=None, output_dtype=None
):
    """``graph`` as an ``onnx.ModelProto`` with input ``X`` and a dynamic batch axis.

    Parameters
    ----------
    graph : torch.nn.Module
        Maps a batch of shape (n, ``n_inputs``) to one output; put in eval
        mode here.
    n_inputs : int
        Columns of the input.
    dtype : torch.dtype
        The network's dtype, the input's by default.
    output_name : str
        Name of the graph's output.
    input_dtype : torch.dtype, default=None
        Of the input, when it differs from ``dtype``: the graph casts it to
        ``dtype`` first.
    output_dtype : torch.dtype, default=None
        What the output is cast to (None: the dtype ``graph`` returns).
    """
    # Activations are made portable for the dtype they compute in, the
    # network's, whatever the input's.
    graph = portable(graph, dtype)
    input_dtype = dtype if input_dtype is None else input_dtype
    if input_dtype != dtype or output_dtype is not None:
        graph = Retyped(graph, dtype, output_dtype)
    graph = graph.eval()
    # Two rows: torch.export specialises sizes 0 and 1, so an example batch
    # of one row would fix the batch axis.
    example = (torch.zeros(2, n_inputs, dtype=input_dtype),)
    with _quiet_exporter(), torch.no_grad():
        program = torch.onnx.export(
            graph,
            example,
            dynamo=True,
            input_names=["X"],
            output_names=[output_name],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            verbose=False,
        )
    return program.model_proto


class _quiet_exporter:
    """Silence what torch's ONNX exporter says that concerns torch, not the user.

    (Operators of torchvision it skips, deprecations inside torch.)
    """

    _loggers = ("torch.onnx", "torch.export", "torch._export")

    def __enter__(self):
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        self._levels = {}
        for name in self._loggers:
            logger = logging.getLogger(name)
            self._levels[name] = logger.level
            logger.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        return self._warnings.__exit__(*exc)
