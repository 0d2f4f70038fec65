"""Convolutions over flattened image rows: the layers of the image networks.

skae's networks pass 2-d batches, one flattened row per sample, between
their layers, so that every layer's output is a feature vector (what deep
features, penalties on the codes and row-wise rules such as top-k read).
The layers here read such rows as images of a known shape (channels first),
convolve them and flatten the result again; reshaping a contiguous batch is
free. :class:`ImageSpec` says which convolutions an image network has and
the shape of each feature map. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from dataclasses import dataclass

import numpy as np
from torch import nn

# Every convolution halves the height and the width (rounding up).
STRIDE = 2
# Multiply-adds per step below which a convolutional network runs on one
# thread: convolutions pay more barriers per multiply-add than dense layers.
# Digits (8 x 8, conv_channels=(32, 64), batches of 200: 1.3e8 a step) ran
# 0.13-0.19 s an epoch on two threads and 0.19-0.23 s on one on an idle
# 2-core machine, but 6.7-50 s against 0.33 s on a shared one (load 3);
# MNIST-sized steps (1.5e9 at batches of 200) ran 1.0-1.2 s on two threads,
# 1.5-2.6 s on one, and at batches of 128 (7.7e8) a loop on two threads
# took 0.65 times the wall time of skae on one.
SINGLE_THREAD_WORK = 300_000_000


def _conv_size(size, kernel_size):
    """A side of a feature map after a strided convolution: ``ceil(size / 2)``."""
    padding = kernel_size // 2
    return (size + 2 * padding - kernel_size) // STRIDE + 1


@dataclass(frozen=True)
class ImageSpec:
    """The convolutions of an image network.

    Parameters
    ----------
    shape : tuple of int
        The input image, ``(channels, height, width)``.
    channels : tuple of int
        Output channels of each strided convolution of the encoder.
    kernel_size : int
        Height and width of every kernel; odd, so that each convolution
        maps a side of ``s`` pixels to ``ceil(s / 2)`` and its transpose can
        give back exactly ``s``.
    """

    shape: tuple
    channels: tuple
    kernel_size: int

    def stages(self):
        """The feature-map shapes, input first: ``(channels, height, width)``."""
        shapes = [tuple(self.shape)]
        for channels in self.channels:
            _, height, width = shapes[-1]
            shapes.append(
                (
                    channels,
                    _conv_size(height, self.kernel_size),
                    _conv_size(width, self.kernel_size),
                )
            )
        return shapes

    def channel_shift(self, mean):
        """Per-feature input shift that centres each channel as a whole.

        ``mean`` holds each pixel's mean (channels first); the result gives
        every pixel of a channel that channel's mean.
        """
        channels = np.asarray(mean, dtype=np.float64).reshape(self.shape[0], -1)
        return np.repeat(channels.mean(axis=1), channels.shape[1])

    def map_width(self):
        """The numbers in the last convolution's feature map, for one row."""
        return math.prod(self.stages()[-1])


def _rows_as_images(x, shape):
    # Rows may carry leading dimensions (a VAE decodes several draws per
    # row): all of them become the batch.
    return x.reshape(-1, *shape), x.shape[:-1]


class _FlatRows:
    """What both convolutions share: flattened rows in and out, their widths,
    and their kernels as rows (one per weight tensor's first axis)."""

    @property
    def in_features(self):
        return math.prod(self.in_shape)

    @property
    def out_features(self):
        return math.prod(self.out_shape)

    def filter_rows(self):
        """The kernels, one row per entry of the weight's first axis."""
        return self.weight.reshape(self.weight.shape[0], -1)

    def forward(self, x):
        images, leading = _rows_as_images(x, self.in_shape)
        return super().forward(images).reshape(*leading, -1)


class ImageConv(_FlatRows, nn.Conv2d):
    """A strided convolution reading and giving flattened rows.

    ``in_shape`` is the ``(channels, height, width)`` of the input rows; the
    output rows are the feature maps of ``out_channels`` channels, each side
    halved (rounding up), flattened channels first.
    """

    def __init__(self, in_shape, out_channels, kernel_size):
        # Built uninitialised (no draw from torch's global RNG): the network
        # initialises every weight from its own generator.
        super().__init__(
            in_shape[0],
            out_channels,
            kernel_size,
            stride=STRIDE,
            padding=kernel_size // 2,
            device="meta",
        )
        self.to_empty(device="cpu")
        self.in_shape = tuple(in_shape)
        self.out_shape = (
            out_channels,
            _conv_size(in_shape[1], kernel_size),
            _conv_size(in_shape[2], kernel_size),
        )

    def multiply_adds(self):
        """Multiply-adds of one row: a kernel's worth per output number."""
        return self.out_features * self.weight[0].numel()


class ImageConvTranspose(_FlatRows, nn.ConvTranspose2d):
    """The transpose of an :class:`ImageConv`: ``in_shape`` rows up to ``out_shape``.

    Each side doubles, less one pixel where the convolution it mirrors
    rounded up, so that a decoder gives back exactly the input's shape.
    """

    def __init__(self, in_shape, out_shape, kernel_size):
        extra = tuple(
            out - (size - 1) * STRIDE + 2 * (kernel_size // 2) - kernel_size
            for size, out in zip(in_shape[1:], out_shape[1:], strict=True)
        )
        super().__init__(
            in_shape[0],
            out_shape[0],
            kernel_size,
            stride=STRIDE,
            padding=kernel_size // 2,
            output_padding=extra,
            device="meta",
        )
        self.to_empty(device="cpu")
        self.in_shape = tuple(in_shape)
        self.out_shape = tuple(out_shape)

    def multiply_adds(self):
        """Multiply-adds of one row: a kernel's worth per input number."""
        return self.in_features * self.weight[0].numel()


def encoder_convolutions(spec):
    """The encoder's convolutions, input side first."""
    stages = spec.stages()
    return [
        ImageConv(shape, channels, spec.kernel_size)
        for shape, channels in zip(stages[:-1], spec.channels, strict=True)
    ]


def decoder_convolutions(spec):
    """The decoder's transposed convolutions, from the last feature map back to
    the input's shape (the last of them is the output layer)."""
    stages = spec.stages()[::-1]
    return [
        ImageConvTranspose(small, large, spec.kernel_size)
        for small, large in zip(stages[:-1], stages[1:], strict=True)
    ]
