"""The private scikit-learn names skae relies on, imported in one place.

``_fit_context`` and ``sklearn.utils._param_validation`` are private in
scikit-learn; keeping their imports here means a rename upstream touches one
file.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import _fit_context
from sklearn.utils._param_validation import (
    Hidden,
    Interval,
    Options,
    RealNotInt,
    StrOptions,
)

__all__ = ["Hidden", "Interval", "Options", "RealNotInt", "StrOptions", "_fit_context"]
