"""Plots for fitted autoencoders, in scikit-learn's ``Display`` style.

Each display is built with a ``from_estimator`` class method (or directly
from precomputed values), draws with :meth:`plot`, and keeps the matplotlib
artists it drew as attributes (``ax_``, ``figure_``, ``lines_``,
``scatter_``...), so that a figure can be restyled or tested after the
fact. matplotlib is optional: it is imported only when a display draws.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from ._codes import CodesDisplay
from ._filters import FiltersDisplay
from ._loss_curve import LossCurveDisplay
from ._reconstruction import ReconstructionDisplay

__all__ = [
    "CodesDisplay",
    "FiltersDisplay",
    "LossCurveDisplay",
    "ReconstructionDisplay",
]
