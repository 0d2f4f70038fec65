"""What travels through training: a batch of rows and what belongs to them.

The data layer yields :class:`Batch` chunks, the training loop slices them
into batches, a corruption hook replaces their inputs, and the objective,
its reconstruction loss and every penalty term read the fields they need:
a new field reaches all of them without a signature change. Nothing here
knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Batch:
    """Rows of training data, with their optional per-row and per-entry fields.

    Parameters
    ----------
    rows : tensor of shape (n, n_features)
        The clean rows: what the network is trained to reconstruct.
    weights : tensor of shape (n,) or None
        A weight per row, as a repetition count; None weighs rows alike.
    mask : tensor of shape (n, n_features) or None
        True where an entry was observed; None when every entry was.
    labels : tensor of shape (n,) or None
        An integer label per row, for families that use labels in training
        (a label-guided prior, say); None without labels.
    inputs : tensor of shape (n, n_features) or None
        What the network reads: a corrupted copy of ``rows`` (denoising),
        or ``rows`` themselves when None is given.
    """

    rows: torch.Tensor
    weights: torch.Tensor = None
    mask: torch.Tensor = None
    labels: torch.Tensor = None
    inputs: torch.Tensor = None

    def __post_init__(self):
        if self.inputs is None:
            object.__setattr__(self, "inputs", self.rows)

    def __len__(self):
        return self.rows.shape[0]

    @property
    def size(self):
        """How much the batch counts in an average over rows: its number of
        rows, or the sum of its weights (a device tensor)."""
        return self.rows.shape[0] if self.weights is None else self.weights.sum()

    def select(self, index):
        """The batch of the rows ``index`` (a slice or an index tensor) picks.

        Every per-row field follows its rows; corrupted inputs are dropped,
        as they are made afresh for each batch.
        """

        def pick(field):
            return None if field is None else field[index]

        return Batch(
            self.rows[index], pick(self.weights), pick(self.mask), pick(self.labels)
        )

    def with_inputs(self, inputs):
        """The same batch with the network reading ``inputs``."""
        return dataclasses.replace(self, inputs=inputs)

    # A batch is also resident training data: a source of one chunk, with
    # the interface of the data layer's streams.

    @property
    def shape(self):
        """The shape of :attr:`rows`."""
        return self.rows.shape

    def head(self, n):
        """The batch of the first ``n`` rows."""
        return self.select(slice(0, n))

    def chunks(self, shuffle):
        """The batch itself, as the one chunk of a pass."""
        return (self,)
