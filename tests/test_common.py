"""The scikit-learn estimator contract, for every public estimator.

Every check scikit-learn yields runs, with no expected failure, on every
estimator, on every code kind (dense, k-sparse, winner-take-all,
contractive) of those that have them, and on convolutional networks
(``image_shape=(1, -1)``: images one pixel high, as wide as the check's
data, so no check's data fail for their width). The two
that compare a fit with integer ``sample_weight`` against a fit on the rows
repeated (or removed) as the weights say, to a relative 1e-7, run on a
configuration whose training is deterministic given the multiset of rows,
as scikit-learn runs them for ``MLPRegressor`` (``solver='sgd'``) and
``KBinsDiscretizer`` (``subsample=None``); see :func:`deterministic`.
"""

from functools import partial

import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    _get_check_estimator_ids,
    check_dataframe_column_names_consistency,
    check_inplace_ensure_writeable,
    check_param_validation,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    estimator_checks_generator,
)

from skae import (
    AdversarialAutoencoder,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VariationalAutoencoder,
)

# Small budgets: the checks fit dozens of times on tiny data.
FAST = dict(hidden_layer_sizes=(8,), max_iter=5, device="cpu", random_state=0)


# The code kinds besides the dense one, each checked on every estimator that
# takes it (a code of 4; scikit-learn narrows it to 1 in some checks).
CODE_KINDS = [
    dict(n_components=4, sparsity="topk", sparsity_k=2),
    dict(n_components=4, sparsity="lifetime"),
    dict(n_components=4, contractive_weight=0.1),
]


# Convolutional networks over rows of any length (one row of pixels, its
# width inferred): every check runs on them, whatever width its data have.
IMAGE = dict(image_shape=(1, -1), conv_channels=(2,))


def estimators():
    return [
        AutoencoderTransformer(**FAST),
        DenoisingAutoencoder(**FAST),
        AutoencoderOutlierDetector(**FAST, n_rounds=2),
        AutoencoderOutlierDetector(**FAST, n_rounds=1, n_estimators=2),
        VariationalAutoencoder(**FAST),
        AdversarialAutoencoder(**FAST),
        AdversarialAutoencoder(**FAST, prior="mixture"),
        AutoencoderImputer(max_iter=5, device="cpu", random_state=0),
        AutoencoderImputer(
            max_iter=5, sample_posterior=True, device="cpu", random_state=0
        ),
        *(
            cls(**FAST, **kind)
            for cls in (AutoencoderTransformer, DenoisingAutoencoder)
            for kind in CODE_KINDS
        ),
        *(
            AutoencoderOutlierDetector(**FAST, **kind, n_rounds=2)
            for kind in CODE_KINDS
        ),
        AutoencoderTransformer(**FAST, **IMAGE),
        # Its 'auto' image network: the feature map as the code.
        DenoisingAutoencoder(**{**FAST, **IMAGE, "hidden_layer_sizes": "auto"}),
        AutoencoderOutlierDetector(**FAST, **IMAGE),
        VariationalAutoencoder(**FAST, **IMAGE),
        AdversarialAutoencoder(**FAST, **IMAGE),
    ]


# Checks that compare weighted fits with fits on repeated or removed rows.
WEIGHT_EQUIVALENCE = {
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
}


def deterministic(estimator):
    """``estimator`` configured so that its fit depends on the rows' multiset only.

    Training on full batches (``batch_size='auto'`` covers the checks' 15 to
    45 rows), a weighted row and its copies enter the same sums, so the two
    fits agree up to rounding. The denoiser also trains without noise: its
    corruption is drawn per position in the batch, so copies of a row get
    independent noise while a weighted row gets one draw, and no seed can
    make the two fits equal.
    """
    settings = {"batch_size": "auto", "noise_level": 0.0}
    accepted = estimator.get_params()
    return clone(estimator).set_params(
        **{k: v for k, v in settings.items() if k in accepted}
    )


def _check_name(check):
    return check.func.__name__ if isinstance(check, partial) else check.__name__


def all_checks():
    """``(estimator, check)`` for every check scikit-learn yields."""
    for estimator in estimators():
        for instance, check in estimator_checks_generator(estimator):
            if _check_name(check) in WEIGHT_EQUIVALENCE:
                instance = deterministic(instance)
            yield instance, check


@pytest.mark.parametrize("estimator, check", all_checks(), ids=_get_check_estimator_ids)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def test_weight_equivalence_checks_are_run():
    # The list above must name checks scikit-learn yields, or it guards
    # nothing.
    names = {_check_name(check) for _, check in all_checks()}
    assert names >= WEIGHT_EQUIVALENCE


EXTRA_CHECKS = [
    check_param_validation,
    check_dataframe_column_names_consistency,
    check_inplace_ensure_writeable,
]
TRANSFORMER_CHECKS = [
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
]


@pytest.mark.parametrize("estimator", estimators(), ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", EXTRA_CHECKS, ids=lambda c: c.__name__)
def test_extra_checks(estimator, check):
    check(type(estimator).__name__, estimator)


@pytest.mark.parametrize(
    "estimator",
    [e for e in estimators() if hasattr(e, "transform")],
    ids=lambda e: type(e).__name__,
)
@pytest.mark.parametrize("check", TRANSFORMER_CHECKS, ids=lambda c: c.__name__)
def test_transformer_checks(estimator, check):
    check(type(estimator).__name__, estimator)
