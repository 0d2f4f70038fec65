"""Seed streams: independent seeds for each random part of a fit, from one draw.

A fit draws one integer from ``random_state`` and derives every seed it uses
from it, one :class:`Stream` per random part, so that the parts are
independent of each other and changing how one of them draws leaves the
others (and their fits) the same. Nothing here knows about torch.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import enum

import numpy as np
from sklearn.utils import check_random_state


class Stream(enum.IntEnum):
    """The random parts of a fit, each seeded by its own stream.

    The numbers are part of every saved and repeated fit: a new stream takes
    the next number, and none is ever renumbered.
    """

    #: Weight initialisation.
    INIT = 0
    #: Shuffling, dropout masks, corruption noise and sampled codes in training.
    TRAIN = 1
    #: The early-stopping split into training and validation rows.
    SPLIT = 2
    #: The validation rows' corruption (or sampled codes), the same every epoch.
    VALIDATION_NOISE = 3
    #: The outlier detector's row subsamples (``max_samples``).
    SUBSAMPLE = 4
    #: The block order of streamed data.
    BLOCK = 5
    #: The variational autoencoder's importance-sampling draws.
    SCORE = 6
    #: The rows ``explained_variance_ratio_`` reads.
    EXPLAINED_ROWS = 7
    #: The outlier detector's calibration rows.
    CALIBRATION = 8
    #: The seeds of the outlier detector's ensemble members.
    ENSEMBLE = 9
    #: The adversarial autoencoder's check of its codes after a fit.
    CODE_CHECK = 10
    #: The observed cells the imputer's score hides.
    IMPUTER_SCORE = 11
    #: The imputer's posterior draws (sample_posterior=True).
    IMPUTER_DRAWS = 12
    #: The labelled rows the adversarial autoencoder replays, when capped.
    REPLAY_ROWS = 13


def derived_seed(seed, stream, n_iter=0):
    """The seed of ``stream`` for the fit seeded with ``seed``.

    ``n_iter`` (for instance the number of epochs trained so far) gives a
    stream a fresh seed at every training call of one network.
    """
    sequence = np.random.SeedSequence([seed, int(stream), n_iter])
    return int(sequence.generate_state(1)[0])


def seed_of(random_state):
    """A seed from ``random_state`` (None, an int or a ``RandomState``), for a
    call that draws afresh: fresh entropy for None, never NumPy's global
    generator."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
