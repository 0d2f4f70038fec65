"""k-sparse, winner-take-all and contractive codes, tied weights (every estimator)."""

import math
import warnings

import numpy as np
import pytest
import torch
from _reliability import accepting, class_id, public_estimator_classes
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer
from skae._modules import LifetimeSparsity, TopK

ESTIMATORS = accepting(public_estimator_classes(), "sparsity", "contractive_weight")
FAST = dict(hidden_layer_sizes=(), max_iter=8, random_state=0, device="cpu")


@pytest.fixture(autouse=True)
def _quiet(quiet_convergence):
    pass


@pytest.fixture(scope="module")
def pixels():
    from sklearn.datasets import load_digits

    return load_digits().data[:400] / 16.0


def _make(cls, **params):
    accepted = cls().get_params()
    return cls(**{k: v for k, v in {**FAST, **params}.items() if k in accepted})


def _codes(estimator, X):
    if hasattr(estimator, "transform"):
        return estimator.transform(X)
    return estimator.deep_features(X, "code")


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_topk_codes_have_k_non_zeros_per_row(cls, pixels):
    k = 4
    topk = _make(cls, n_components=32, sparsity="topk", sparsity_k=k).fit(pixels)
    codes = _codes(topk, pixels)
    assert codes.shape == (400, 32)
    assert (np.count_nonzero(codes, axis=1) == k).all()
    dense = _make(cls, n_components=32).fit(pixels)
    assert (np.count_nonzero(_codes(dense, pixels), axis=1) > k).all()


def test_sparsity_alpha_keeps_alpha_times_k_at_transform(pixels):
    ae = _make(
        AutoencoderTransformer,
        n_components=32,
        activation="identity",
        sparsity="topk",
        sparsity_k=4,
        sparsity_alpha=2.5,
    ).fit(pixels)
    assert (np.count_nonzero(ae.transform(pixels), axis=1) == 10).all()


def test_topk_trains_with_k_and_the_schedule_lowers_it(pixels, monkeypatch):
    seen = []
    real_forward = TopK.forward

    def forward(self, x):
        if self.training:
            seen.append(self.k)
        return real_forward(self, x)

    monkeypatch.setattr(TopK, "forward", forward)
    params = dict(n_components=32, sparsity="topk", sparsity_k=4, batch_size=400)
    _make(AutoencoderTransformer, **params).fit(pixels)
    assert seen == [4] * 8
    seen.clear()
    _make(AutoencoderTransformer, sparsity_k_start=20, **params).fit(pixels)
    # max_iter=8: from 20 down to 4 over the first 4 epochs, then 4.
    assert seen == [20, 16, 12, 8, 4, 4, 4, 4]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_k_not_below_the_code_width_keeps_every_code_and_warns(cls, pixels):
    # Valid, but not sparse: scikit-learn's checks narrow n_components to 1
    # whatever sparsity_k is, and a grid search may pair k with narrow codes.
    topk = _make(cls, n_components=4, sparsity="topk", sparsity_k=4)
    message = r"sparsity_k=4 is not below the code width \(n_components=4\)"
    with pytest.warns(UserWarning, match=message):
        topk.fit(pixels)
    assert (np.count_nonzero(_codes(topk, pixels), axis=1) == 4).all()


def test_detector_auto_width_leaves_room_for_k(pixels):
    from skae import AutoencoderOutlierDetector

    # 'auto' gives these 8 features a code of 2; a top-k code of k = 3 needs
    # a wider one to be sparse.
    X = pixels[:, 20:28]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        detector = _make(
            AutoencoderOutlierDetector, sparsity="topk", sparsity_k=3, n_rounds=1
        ).fit(X)
    assert detector.n_components_ == 4
    assert (np.count_nonzero(_codes(detector, X), axis=1) <= 3).all()
    dense = _make(AutoencoderOutlierDetector, n_rounds=1).fit(X)
    assert dense.n_components_ == 2


def test_weighted_lifetime_rule_counts_a_row_as_its_copies():
    rule = LifetimeSparsity(rate=0.3).train()
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(7, 5, generator=generator, dtype=torch.float64)
    weights = torch.tensor([3.0, 0.0, 1.0, 2.0, 1.0, 4.0, 1.0], dtype=torch.float64)
    copies = x.repeat_interleave(weights.long(), dim=0)
    expected = rule(copies)
    got = rule(x, weights).repeat_interleave(weights.long(), dim=0)
    assert torch.equal(got, expected)
    # Unweighted, each unit keeps its ceil(0.3 * 7) = 3 largest values.
    assert ((rule(x) != 0).sum(dim=0) == 3).all()
    # Ties at the k-th value are all kept: copies of a row win or lose alike.
    tied = torch.tensor([[1.0], [1.0], [0.5], [0.2]], dtype=torch.float64)
    assert LifetimeSparsity(rate=0.25).train()(tied).flatten().tolist() == [
        1.0,
        1.0,
        0.0,
        0.0,
    ]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_lifetime_sparsity_acts_in_training_only(cls, pixels, monkeypatch):
    kept = []
    real_forward = LifetimeSparsity.forward

    def forward(self, x, weights=None):
        out = real_forward(self, x, weights)
        if self.training:
            kept.append(((out != 0).sum(dim=0), x.shape[0]))
        return out

    monkeypatch.setattr(LifetimeSparsity, "forward", forward)
    params = dict(n_components=32, activation="relu", sparsity="lifetime")
    estimator = _make(cls, sparsity_rate=0.1, batch_size=100, **params).fit(pixels)
    assert kept, "no training batch went through the lifetime rule"
    for active, batch in kept:
        # Each unit is active in at most its share of the batch (fewer when
        # some of its winners are exactly 0 after the ReLU).
        assert (active <= math.ceil(0.1 * batch)).all()
        assert active.sum() > 0
    # transform keeps every code: many more active units per row.
    codes = _codes(estimator, pixels)
    assert np.count_nonzero(codes) > 0.1 * codes.size


def _jacobian_norm(estimator, X):
    """Mean squared Frobenius norm of d codes / d standardised input."""
    x = torch.tensor(X, requires_grad=True)
    encoder = estimator.encoder_
    scale = 1.0 / encoder[0].factor
    codes = encoder(x)
    total = 0.0
    for j in range(codes.shape[1]):
        (grad,) = torch.autograd.grad(codes[:, j].sum(), x, retain_graph=True)
        total += float((grad * scale).square().sum())
    return total / X.shape[0]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_contractive_penalty_flattens_the_codes(cls, pixels):
    params = dict(n_components=8, hidden_layer_sizes=(32,), activation="tanh")
    plain = _make(cls, **params, max_iter=30).fit(pixels)
    contractive = _make(cls, **params, max_iter=30, contractive_weight=0.1).fit(pixels)
    assert "contractive" in contractive.loss_components_
    assert _jacobian_norm(contractive, pixels) < 0.5 * _jacobian_norm(plain, pixels)


def test_tied_weights_share_the_encoders_matrices(pixels):
    tied = _make(AutoencoderTransformer, n_components=8, tied_weights=True)
    untied = _make(AutoencoderTransformer, n_components=8)
    tied.fit(pixels), untied.fit(pixels)
    n_params = [
        sum(p.numel() for p in (*m.encoder_.parameters(), *m.decoder_.parameters()))
        for m in (tied, untied)
    ]
    assert n_params[1] - n_params[0] == 64 * 8
    encoder_weight = tied.encoder_[1][0].weight
    decoder_layer = [m for m in tied.decoder_ if hasattr(m, "weight")][-1]
    assert torch.equal(decoder_layer.weight, encoder_weight.t())


@pytest.mark.parametrize(
    "params",
    [
        dict(sparsity="topk", sparsity_k=3, tied_weights=True),
        dict(sparsity="lifetime", activation="relu"),
        dict(contractive_weight=0.05),
    ],
    ids=["topk", "lifetime", "contractive"],
)
def test_sparse_codes_train_on_csr_and_in_chunks(pixels, params):
    dense = _make(AutoencoderTransformer, n_components=24, **params).fit(pixels)
    from_csr = _make(AutoencoderTransformer, n_components=24, **params)
    from_csr.fit(sparse.csr_matrix(pixels))
    np.testing.assert_array_equal(dense.transform(pixels), from_csr.transform(pixels))
    chunked = _make(AutoencoderTransformer, n_components=24, **params)
    for chunk in np.array_split(pixels, 4):
        chunked.partial_fit(chunk)
    assert chunked.n_iter_ == 4
    assert np.isfinite(chunked.transform(pixels)).all()


def test_grid_search_tunes_k(pixels):
    search = GridSearchCV(
        _make(AutoencoderTransformer, n_components=32, sparsity="topk", sparsity_k=1),
        {"sparsity_k": [1, 8]},
        cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search.fit(pixels)
    # More codes per row reconstruct better: the label-free score sees it.
    assert search.best_params_ == {"sparsity_k": 8}
