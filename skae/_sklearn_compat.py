"""The private scikit-learn names skae relies on, imported in one place.

``_fit_context`` and ``sklearn.utils._param_validation`` are private in
scikit-learn; keeping their imports here means a rename upstream touches one
file.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import _fit_context
from sklearn.impute._base import _BaseImputer
from sklearn.utils._mask import _get_mask
from sklearn.utils._missing import is_scalar_nan
from sklearn.utils._param_validation import (
    Hidden,
    Interval,
    Options,
    RealNotInt,
    StrOptions,
)
from sklearn.utils._set_output import ADAPTERS_MANAGER, _get_output_config
from sklearn.utils.validation import _check_feature_names_in, _check_sample_weight

__all__ = [
    "_BaseImputer",
    "_get_mask",
    "is_scalar_nan",
    "Hidden",
    "Interval",
    "Options",
    "RealNotInt",
    "StrOptions",
    "_check_feature_names_in",
    "_check_sample_weight",
    "_fit_context",
    "wrap_output",
]


def wrap_output(estimator, data, original_input, columns):
    """``data`` in the container that ``estimator.set_output`` asks for.

    What scikit-learn does to the output of ``transform``, for other methods
    returning one row per input row: a DataFrame (pandas or polars) with the
    index of ``original_input`` when it has one, or ``data`` unchanged with
    the default output. ``columns`` is a callable giving the column names;
    it is called only when a container is made.
    """
    dense = _get_output_config("transform", estimator)["dense"]
    if dense == "default":
        return data
    adapter = ADAPTERS_MANAGER.adapters[dense]
    return adapter.create_container(data, original_input, columns=columns)
