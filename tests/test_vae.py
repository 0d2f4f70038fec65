"""VariationalAutoencoder: likelihood floors, the ELBO, sampling, options, errors."""

import pickle
import re

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV

from skae import VariationalAutoencoder

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
NOISE_VARIANCE = 0.09


def linear_gaussian(n, seed):
    """Rows of a 2-d probabilistic PCA model in 8 dimensions (noise 0.09)."""
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=(2, 8))
    mean = 3 * rng.normal(size=8)
    latent = rng.normal(size=(n, 2))
    return latent @ weights + mean + np.sqrt(NOISE_VARIANCE) * rng.normal(size=(n, 8))


@pytest.fixture(scope="module")
def linear_data():
    X = linear_gaussian(1500, seed=1)
    return X[:1000], X[1000:]


@pytest.fixture(scope="module")
def linear_vae(linear_data):
    return VariationalAutoencoder(2, hidden_layer_sizes=(32,), random_state=0).fit(
        linear_data[0]
    )


@pytest.fixture(scope="module")
def binary_digits(digits):
    return (digits[0] > 8).astype(np.float64)


@pytest.fixture(scope="module")
def bernoulli_vae(binary_digits):
    return VariationalAutoencoder(
        4, likelihood="bernoulli", hidden_layer_sizes=(32,), max_iter=20, random_state=0
    ).fit(binary_digits)


def _elbo(vae, X, n_draws=200):
    """The ELBO of each row: mean log-likelihood over draws minus the KL."""
    module = vae._network.module
    x = torch.as_tensor(X)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        draws = [module(x, generator=generator).log_likelihood for _ in range(n_draws)]
        _, mean, log_var = module.encode(x)
    kl = 0.5 * (mean**2 + log_var.exp() - 1 - log_var).sum(1)
    return (torch.stack(draws).mean(0) - kl).numpy()


# ----------------------------------------------------------------------
# The likelihood


def test_held_out_likelihood_matches_ppca_on_its_own_model(linear_data, linear_vae):
    # Data from a linear-Gaussian model: probabilistic PCA is the right
    # model, and the non-linear one must come within a small margin of it.
    X_train, X_test = linear_data
    ppca = PCA(2).fit(X_train).score(X_test)
    assert abs(linear_vae.score(X_test) - ppca) < 0.25
    # And its noise variance is the data's (in X's units, as PCA's).
    np.testing.assert_allclose(linear_vae.noise_variance_, NOISE_VARIANCE, rtol=0.2)
    assert np.ptp(linear_vae.noise_variance_) == 0


def test_score_is_above_the_elbo_and_finite(linear_data, linear_vae):
    X_test = linear_data[1]
    scores = linear_vae.score_samples(X_test)
    assert np.isfinite(scores).all() and scores.dtype == np.float64
    elbo = _elbo(linear_vae, X_test)
    assert scores.mean() > elbo.mean()
    # More importance samples: a tighter bound.
    few = linear_vae.set_params(n_importance_samples=1).score(X_test)
    many = linear_vae.set_params(n_importance_samples=500).score(X_test)
    linear_vae.set_params(n_importance_samples=100)
    assert few < scores.mean() < many


def test_elbo_rises_during_training(linear_vae):
    curve = np.asarray(linear_vae.loss_curve_)
    assert curve[-5:].mean() < curve[:5].mean() - 1.0
    components = linear_vae.loss_components_
    assert set(components) == {"reconstruction", "kl"}
    np.testing.assert_allclose(
        curve, np.add(components["reconstruction"], components["kl"])
    )


def test_score_is_reproducible_and_per_row(linear_data, linear_vae):
    X_test = linear_data[1]
    scores = linear_vae.score_samples(X_test)
    np.testing.assert_array_equal(linear_vae.score_samples(X_test), scores)
    # Per row: the same whatever the batch, up to the last bit that matrix
    # products on batches of another make-up may round differently.
    reversed_scores = linear_vae.score_samples(X_test[::-1])
    np.testing.assert_allclose(reversed_scores, scores[::-1], rtol=1e-13)
    np.testing.assert_allclose(
        linear_vae.score_samples(X_test[:3]), scores[:3], rtol=1e-13
    )
    assert linear_vae.score(X_test) == pytest.approx(scores.mean())


@pytest.mark.slow
def test_beats_ppca_on_digits_with_the_defaults(digits):
    # The split: pixels / 16, rows 0-1499 to train, 1500-1796 to test.
    X = digits[0] / 16.0
    vae = VariationalAutoencoder(32, random_state=0).fit(X[:1500])
    assert vae.score(X[1500:]) > PCA(32).fit(X[:1500]).score(X[1500:]) + 2.0


def test_grid_search_selects_by_held_out_likelihood(linear_data):
    search = GridSearchCV(
        VariationalAutoencoder(hidden_layer_sizes=(16,), max_iter=30, random_state=0),
        {"n_components": [1, 2]},
        cv=2,
    ).fit(linear_data[0])
    assert search.best_params_ == {"n_components": 2}


# ----------------------------------------------------------------------
# Codes and sampling


def test_transform_gives_deterministic_means_and_their_stds(linear_data, linear_vae):
    X = linear_data[1][:50]
    means = linear_vae.transform(X)
    np.testing.assert_array_equal(linear_vae.transform(X), means)
    again, stds = linear_vae.transform(X, return_std=True)
    np.testing.assert_array_equal(again, means)
    assert stds.shape == means.shape and np.all(stds > 0)
    # A well-determined 2-d code: posteriors far narrower than the prior.
    assert np.all(stds < 0.5)
    np.testing.assert_array_equal(linear_vae.deep_features(X, "code"), means)
    np.testing.assert_array_equal(
        linear_vae.reconstruct(X), linear_vae.inverse_transform(means)
    )


def test_samples_match_the_training_data(linear_data, linear_vae):
    X_train = linear_data[0]
    samples = linear_vae.sample(5000, random_state=0)
    assert samples.shape == (5000, 8) and samples.dtype == np.float64
    spread = X_train.std(axis=0)
    assert np.all(np.abs(samples.mean(axis=0) - X_train.mean(axis=0)) < 0.1 * spread)
    np.testing.assert_allclose(samples.std(axis=0), spread, rtol=0.15)


def test_sample_is_reproducible_and_leaves_global_state_alone(linear_vae):
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    first = linear_vae.sample(4, random_state=3)
    np.testing.assert_array_equal(linear_vae.sample(4, random_state=3), first)
    assert not np.array_equal(linear_vae.sample(4, random_state=4), first)
    assert not np.array_equal(linear_vae.sample(4), linear_vae.sample(4))
    rng = np.random.RandomState(0)
    assert not np.array_equal(
        linear_vae.sample(4, random_state=rng), linear_vae.sample(4, random_state=rng)
    )
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert all(np.array_equal(a, b) for a, b in zip(np_state, after, strict=True))


@pytest.mark.parametrize("n_samples", [0, -1, 1.5, True, "3"])
def test_sample_rejects_bad_n_samples(linear_vae, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        linear_vae.sample(n_samples)


def test_unfitted_methods_raise():
    vae = VariationalAutoencoder()
    with pytest.raises(NotFittedError):
        vae.sample()
    with pytest.raises(NotFittedError):
        vae.score_samples(np.ones((2, 2)))


def test_posterior_collapse_is_visible():
    # Four code units for data with two latent dimensions: two units carry
    # the data, the other two collapse to the prior.
    X = linear_gaussian(1000, seed=2)
    vae = VariationalAutoencoder(4, hidden_layer_sizes=(32,), random_state=0).fit(X)
    assert vae.active_components_.dtype == bool
    assert vae.active_components_.sum() == 2
    np.testing.assert_allclose(
        vae.code_variance_, vae.transform(X).var(axis=0), rtol=1e-12
    )
    assert np.all(vae.code_variance_[~vae.active_components_] < 0.005)
    assert np.all(vae.code_variance_[vae.active_components_] > 0.5)


def test_a_code_wider_than_the_input_is_allowed_and_collapses():
    # Unlike the reconstruction models, which refuse a code wider than the
    # input, the KL term switches the surplus units off.
    X = linear_gaussian(1000, seed=2)
    vae = VariationalAutoencoder(12, hidden_layer_sizes=(32,), random_state=0).fit(X)
    assert vae.transform(X).shape == (1000, 12)
    assert vae.active_components_.sum() <= X.shape[1]
    assert np.isfinite(vae.score(X))


def test_reconstruct_follows_set_output(linear_data):
    pd = pytest.importorskip("pandas")
    columns = [f"f{i}" for i in range(8)]
    X = pd.DataFrame(linear_data[1][:20], columns=columns)
    vae = VariationalAutoencoder(**SMALL).fit(
        pd.DataFrame(linear_data[0], columns=columns)
    )
    vae.set_output(transform="pandas")
    reconstruction = vae.reconstruct(X)
    assert isinstance(reconstruction, pd.DataFrame)
    assert list(reconstruction.columns) == list(X.columns)
    np.testing.assert_array_equal(
        reconstruction.to_numpy(), vae.inverse_transform(vae.transform(X).to_numpy())
    )


# ----------------------------------------------------------------------
# The Bernoulli likelihood


def test_bernoulli_gives_log_probabilities_of_binary_data(binary_digits, bernoulli_vae):
    scores = bernoulli_vae.score_samples(binary_digits[:200])
    assert np.all(scores < 0) and np.isfinite(scores).all()
    probabilities = bernoulli_vae.inverse_transform(
        bernoulli_vae.transform(binary_digits[:5])
    )
    assert np.all((probabilities > 0) & (probabilities < 1))
    samples = bernoulli_vae.sample(50, random_state=0)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    assert bernoulli_vae.noise_variance_ is None


def test_bernoulli_rejects_data_outside_the_unit_interval(binary_digits, bernoulli_vae):
    X = binary_digits[:20] * 2.0 - 0.5
    pattern = re.escape("likelihood='bernoulli' needs X in [0, 1]")
    for method in ("fit", "partial_fit"):
        vae = VariationalAutoencoder(likelihood="bernoulli", **SMALL)
        with pytest.raises(ValueError, match=pattern):
            getattr(vae, method)(X)
    for method in ("score_samples", "score"):
        with pytest.raises(ValueError, match=pattern):
            getattr(bernoulli_vae, method)(X)


# ----------------------------------------------------------------------
# Options


def test_beta_trades_the_kl_term_for_reconstruction(linear_data):
    X = linear_data[0][:300]
    kl = {}
    for beta in (0.25, 4.0):
        vae = VariationalAutoencoder(beta=beta, **{**SMALL, "max_iter": 30}).fit(X)
        # The reported curve is the negative ELBO whatever beta is.
        parts = vae.loss_components_
        np.testing.assert_allclose(
            vae.loss_curve_, np.add(parts["reconstruction"], parts["kl"])
        )
        kl[beta] = parts["kl"][-1]
    assert kl[4.0] < 0.5 * kl[0.25]


def test_kl_warmup_changes_the_gradient_not_the_reported_terms(linear_data):
    X = linear_data[0][:300]
    plain = VariationalAutoencoder(**SMALL).fit(X)
    warm = VariationalAutoencoder(kl_warmup=10, **SMALL).fit(X)
    # The same first epoch draws, a KL weight of 1/10 instead of 1.
    assert warm.loss_components_["kl"][-1] > plain.loss_components_["kl"][-1]
    np.testing.assert_allclose(
        warm.loss_curve_,
        np.add(warm.loss_components_["reconstruction"], warm.loss_components_["kl"]),
    )


def test_cosine_learning_rate_decays_over_max_iter(linear_data):
    X = linear_data[0][:100]
    vae = VariationalAutoencoder(learning_rate="cosine", **SMALL).fit(X)
    rates = _learning_rates(vae)
    # The last of 5 epochs trains at epoch 4's rate: (1 + cos(4 pi / 5)) / 2.
    factor = 0.05 + 0.95 * (1 + np.cos(4 * np.pi / 5)) / 2
    np.testing.assert_allclose(rates, np.array([1e-3, 1e-2]) * factor)
    constant = VariationalAutoencoder(**SMALL).fit(X)
    groups = constant._network.optimizers["network"].param_groups
    assert [g["lr"] for g in groups] == pytest.approx([1e-3, 1e-2])
    assert "initial_lr" not in groups[0]
    assert constant.loss_curve_[0] == vae.loss_curve_[0]
    assert constant.loss_curve_[-1] != vae.loss_curve_[-1]


def _learning_rates(vae):
    """The learning rate of each group of the network's optimizer."""
    return [g["lr"] for g in vae._network.optimizers["network"].param_groups]


def test_schedules_count_epochs_across_partial_fit(linear_data):
    X = linear_data[0][:100]
    params = dict(SMALL, learning_rate="cosine", kl_warmup=4)
    fitted = VariationalAutoencoder(**params).fit(X)
    streamed = VariationalAutoencoder(**params)
    for _ in range(5):
        streamed.partial_fit(X)
    assert streamed.n_iter_ == 5
    assert _learning_rates(streamed) == _learning_rates(fitted)
    assert streamed.code_variance_.shape == (2,)


def test_partial_fit_after_loading_keeps_the_schedules(linear_data):
    X = linear_data[0][:100]
    vae = VariationalAutoencoder(learning_rate="cosine", kl_warmup=3, **SMALL)
    vae.partial_fit(X)
    loaded = pickle.loads(pickle.dumps(vae))
    for model in (vae, loaded):
        model.partial_fit(X)
        model.partial_fit(X)
    assert loaded.loss_curve_ == vae.loss_curve_
    np.testing.assert_array_equal(loaded.score_samples(X), vae.score_samples(X))


def test_per_feature_noise_variance(linear_data):
    X = np.c_[linear_data[0][:300], np.full(300, 2.0)]
    vae = VariationalAutoencoder(noise_variance="per_feature", **SMALL).fit(X)
    assert vae.noise_variance_.shape == (9,) and np.ptp(vae.noise_variance_) > 0
    assert np.isfinite(vae.score_samples(X)).all()
    # Its floor: 1e-2 of the mean per-feature variance.
    floor = 1e-2 * X.var(axis=0).mean()
    assert np.all(vae.noise_variance_ >= floor * (1 - 1e-6))


def test_changing_the_likelihood_needs_a_fresh_fit(linear_data):
    X = np.abs(linear_data[0][:50]) / np.abs(linear_data[0][:50]).max()
    vae = VariationalAutoencoder(warm_start=True, **SMALL).fit(X)
    vae.set_params(likelihood="bernoulli")
    with pytest.raises(ValueError, match="likelihood"):
        vae.fit(X)


def test_verbose_reports_both_elbo_terms(linear_data, capsys):
    VariationalAutoencoder(verbose=1, **{**SMALL, "max_iter": 2}).fit(
        linear_data[0][:50]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert "reconstruction = " in lines[0] and "kl = " in lines[0]
    assert "max_iter" in lines[2]


def test_float32_data_give_float32_codes_and_samples(linear_data):
    X = linear_data[0][:100].astype(np.float32)
    vae = VariationalAutoencoder(**SMALL).fit(X)
    assert vae.transform(X).dtype == np.float32
    assert vae.sample(3, random_state=0).dtype == np.float32
    assert vae.score_samples(X).dtype == np.float64


def test_displays_work_with_it(binary_digits, bernoulli_vae, digits):
    pytest.importorskip("matplotlib")
    from skae.plotting import CodesDisplay, LossCurveDisplay, ReconstructionDisplay

    curve = LossCurveDisplay.from_estimator(bernoulli_vae, components=True)
    assert len(curve.ax_.get_lines()) == 3
    images = ReconstructionDisplay.from_estimator(
        bernoulli_vae, binary_digits[:4], image_shape=(8, 8)
    )
    assert images.figure_ is not None
    codes = CodesDisplay.from_estimator(
        bernoulli_vae, binary_digits[:50], y=digits[1][:50]
    )
    assert codes.ax_ is not None


def test_memmap_and_streamed_sparse_input_fit_as_the_array(
    digits, tmp_path, monkeypatch
):
    from scipy import sparse

    from skae import _data

    X = digits[0][:300] / 16.0
    path = tmp_path / "X.npy"
    out = np.lib.format.open_memmap(path, mode="w+", dtype=X.dtype, shape=X.shape)
    out[:] = X
    out.flush()
    mapped = np.load(path, mmap_mode="r")
    params = {**SMALL, "batch_size": 64}
    resident = VariationalAutoencoder(**params).fit(X)
    from_memmap = VariationalAutoencoder(**params).fit(mapped)
    np.testing.assert_array_equal(from_memmap.transform(X), resident.transform(X))
    np.testing.assert_array_equal(
        from_memmap.score_samples(mapped), resident.score_samples(X)
    )
    # Streamed in chunks of two batches: CSR and dense give the same model.
    monkeypatch.setattr(_data, "RESIDENT_BYTES", 1)
    monkeypatch.setattr(_data, "STREAM_CHUNK_BYTES", 64 * 8 * 64 * 2)
    dense = VariationalAutoencoder(**params).fit(X)
    csr = VariationalAutoencoder(**params).fit(sparse.csr_matrix(X))
    assert csr.loss_curve_ == dense.loss_curve_
    np.testing.assert_array_equal(csr.score_samples(X), dense.score_samples(X))
    np.testing.assert_array_equal(csr.code_variance_, dense.code_variance_)
