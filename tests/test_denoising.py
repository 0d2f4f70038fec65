"""DenoisingAutoencoder and the corruption functions behind it."""

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

import skae._training
from skae import AutoencoderTransformer, DenoisingAutoencoder
from skae._noise import NOISES, Corruption
from skae.metrics import psnr

KINDS = sorted(NOISES)
SMALL = dict(hidden_layer_sizes=(8,), max_iter=3, device="cpu", random_state=0)


@pytest.fixture(autouse=True)
def _quiet_convergence():
    # Tiny budgets on purpose: the warning is expected, not the subject.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def blobs(n=120, n_features=6, seed=0):
    """Data whose feature j ranges over about [j, 3j + 1]: ranges differ."""
    rng = np.random.default_rng(seed)
    j = np.arange(n_features)
    return j + (2 * j + 1) * rng.random((n, n_features))


def unit_images(n=100, n_features=10, seed=0):
    """Data in [0, 1] with exact 0s and 1s in every feature."""
    X = np.random.default_rng(seed).random((n, n_features))
    X[0], X[1] = 0.0, 1.0
    return X


def record_training_inputs(monkeypatch):
    """Patch the train step to record (input, target) of every batch."""
    seen = []
    original = skae._training.train_step

    def spy(run, batch):
        seen.append((batch.inputs.detach().clone(), batch.rows.detach().clone()))
        return original(run, batch)

    monkeypatch.setattr(skae._training, "train_step", spy)
    return seen


# ----------------------------------------------------------------------
# The corruption functions (torch only)


def corrupt(kind, X, level, low=0.0, high=1.0, seed=0):
    n_features = X.shape[1]
    low = torch.full((n_features,), low, dtype=X.dtype)
    high = torch.full((n_features,), high, dtype=X.dtype)
    generator = torch.Generator().manual_seed(seed)
    return NOISES[kind](X, level, low, high, generator)


def test_masking_zeroes_about_level_of_entries():
    X = torch.full((200, 500), 0.5, dtype=torch.float64)
    out = corrupt("masking", X, 0.3)
    assert (out == 0).double().mean().item() == pytest.approx(0.3, abs=0.01)
    assert torch.all((out == 0) | (out == 0.5))


def test_salt_and_pepper_sets_about_level_to_min_or_max():
    X = torch.full((200, 500), 0.5, dtype=torch.float64)
    out = corrupt("salt_and_pepper", X, 0.2, low=-1.0, high=2.0)
    assert (out == -1.0).double().mean().item() == pytest.approx(0.1, abs=0.005)
    assert (out == 2.0).double().mean().item() == pytest.approx(0.1, abs=0.005)
    assert torch.all((out == -1.0) | (out == 2.0) | (out == 0.5))


def test_gaussian_std_is_level_before_clipping():
    X = torch.zeros((200, 500), dtype=torch.float64)
    # A range this wide never clips: the noise is seen as drawn.
    noise = corrupt("gaussian", X, 0.25, low=-100.0, high=100.0)
    assert noise.std().item() == pytest.approx(0.25, rel=0.02)
    assert abs(noise.mean().item()) < 0.005


def test_masking_outside_zero_gives_nearest_end_of_range():
    X = torch.full((50, 4), 3.0, dtype=torch.float64)
    out = corrupt("masking", X, 0.5, low=2.0, high=5.0)
    assert set(out.unique().tolist()) == {2.0, 3.0}


@settings(max_examples=30, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    level=st.floats(0.0, 0.99),
    n_rows=st.integers(1, 20),
    n_features=st.integers(1, 6),
    seed=st.integers(0, 2**31 - 1),
    dtype=st.sampled_from([torch.float32, torch.float64]),
)
def test_corruption_stays_in_each_features_range(
    kind, level, n_rows, n_features, seed, dtype
):
    rng = np.random.default_rng(seed)
    low = rng.normal(size=n_features)
    high = low + rng.exponential(size=n_features)
    X = low + (high - low) * rng.random((n_rows, n_features))
    X = torch.as_tensor(X, dtype=dtype)
    before = X.clone()
    gen = torch.Generator().manual_seed(seed)
    # Gaussian levels up to 5 ranges wide, so that clipping is exercised.
    scale = 5.0 if kind == "gaussian" else 1.0
    out = Corruption(kind, scale * level, low, high)(X, gen)
    bounds = [torch.as_tensor(b, dtype=dtype) for b in (low, high)]
    assert out.dtype == dtype and out.shape == X.shape
    # 'missing' hides cells as NaN, which no range holds.
    hidden = torch.isnan(out)
    assert kind == "missing" or not hidden.any()
    kept = torch.where(hidden, X, out)
    assert torch.all(kept >= bounds[0]) and torch.all(kept <= bounds[1])
    assert torch.equal(X, before)


@pytest.mark.parametrize("kind", KINDS)
def test_corruption_is_reproducible_from_the_generator(kind):
    X = torch.full((30, 40), 0.5, dtype=torch.float64)
    first, again = corrupt(kind, X, 0.3, seed=1), corrupt(kind, X, 0.3, seed=1)
    other = corrupt(kind, X, 0.3, seed=2)
    # NaN (a hidden cell) equals nothing: compare where the cells were hidden.
    assert torch.equal(torch.isnan(first), torch.isnan(again))
    first, again, other = (t.nan_to_num(-1.0) for t in (first, again, other))
    assert torch.equal(first, again)
    assert not torch.equal(first, other)


# ----------------------------------------------------------------------
# The estimator: training inputs


@pytest.mark.parametrize("kind", KINDS)
def test_training_inputs_are_corrupted_and_targets_clean(kind, monkeypatch):
    X = np.full((400, 50), 0.5)
    X[0], X[1] = -2.0, 3.0  # a range wide enough that Gaussian noise is not clipped
    seen = record_training_inputs(monkeypatch)
    params = dict(noise=kind, noise_level=0.3, batch_size=400, shuffle=False, **SMALL)
    DenoisingAutoencoder(**params).fit(X)
    x_in, target = seen[0]
    np.testing.assert_array_equal(target.numpy(), X)
    hit = x_in[2:]  # rows 0 and 1 are the extremes; the rest are 0.5
    if kind == "gaussian":
        assert (hit - 0.5).std().item() == pytest.approx(0.3, rel=0.02)
    elif kind == "masking":
        assert (hit == 0).double().mean().item() == pytest.approx(0.3, abs=0.01)
        assert torch.all((hit == 0) | (hit == 0.5))
    elif kind == "missing":
        assert hit.isnan().double().mean().item() == pytest.approx(0.3, abs=0.01)
        assert torch.all(hit.isnan() | (hit == 0.5))
    else:
        assert (hit == -2).double().mean().item() == pytest.approx(0.15, abs=0.01)
        assert (hit == 3).double().mean().item() == pytest.approx(0.15, abs=0.01)
        assert torch.all((hit == -2) | (hit == 3) | (hit == 0.5))


def test_noise_is_fresh_every_epoch(monkeypatch):
    X = unit_images()
    seen = record_training_inputs(monkeypatch)
    params = {**SMALL, "max_iter": 2}
    DenoisingAutoencoder(batch_size=100, shuffle=False, **params).fit(X)
    (in1, target1), (in2, target2) = seen
    assert torch.equal(target1, target2)
    assert not torch.equal(in1, in2)


@pytest.mark.parametrize("kind", KINDS)
def test_training_inputs_stay_in_each_features_range(kind, monkeypatch):
    X = blobs()
    seen = record_training_inputs(monkeypatch)
    # A large Gaussian level makes sure clipping happens.
    level = 10.0 if kind == "gaussian" else 0.5
    dae = DenoisingAutoencoder(noise=kind, noise_level=level, **SMALL).fit(X)
    x_in = torch.cat([s[0] for s in seen]).numpy()
    np.testing.assert_array_equal(dae.data_min_, X.min(axis=0))
    np.testing.assert_array_equal(dae.data_max_, X.max(axis=0))
    # A cell hidden as missing (NaN) is in no range; the others must be.
    assert kind == "missing" or not np.isnan(x_in).any()
    x_in = np.where(np.isnan(x_in), X.min(axis=0), x_in)
    assert np.all(x_in >= X.min(axis=0)) and np.all(x_in <= X.max(axis=0))
    if kind not in ("masking", "missing"):
        assert np.any(x_in == X.min(axis=0)) and np.any(x_in == X.max(axis=0))


def test_zero_noise_level_trains_like_the_plain_autoencoder():
    X = blobs()
    dae = DenoisingAutoencoder(noise_level=0.0, **SMALL).fit(X)
    # The denoiser's default step and tolerance (the transformer's are 'auto').
    ae = AutoencoderTransformer(learning_rate_init=1e-3, tol=1e-4, **SMALL).fit(X)
    noisy = DenoisingAutoencoder(noise_level=0.5, **SMALL).fit(X)
    np.testing.assert_array_equal(dae.transform(X), ae.transform(X))
    assert not np.array_equal(noisy.transform(X), ae.transform(X))


# ----------------------------------------------------------------------
# Reproducibility, inference, the caller's data


@pytest.mark.parametrize("kind", KINDS)
def test_fit_is_reproducible_with_random_state(kind):
    X = unit_images()
    params = dict(noise=kind, noise_level=0.3, **SMALL)
    first = DenoisingAutoencoder(**params).fit(X)
    again = DenoisingAutoencoder(**params).fit(X)
    np.testing.assert_array_equal(first.denoise(X), again.denoise(X))
    assert first.loss_curve_ == again.loss_curve_
    other = DenoisingAutoencoder(**{**params, "random_state": 1}).fit(X)
    assert first.loss_curve_ != other.loss_curve_


def test_inference_adds_no_noise():
    X = unit_images()
    dae = DenoisingAutoencoder(noise_level=0.5, dropout=0.2, **SMALL).fit(X)
    np.testing.assert_array_equal(dae.transform(X), dae.transform(X))
    np.testing.assert_array_equal(dae.score_samples(X), dae.score_samples(X))
    np.testing.assert_array_equal(dae.denoise(X), dae.reconstruct(X))
    np.testing.assert_allclose(
        dae.denoise(X), dae.inverse_transform(dae.transform(X)), rtol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_callers_array_is_untouched(dtype):
    X = unit_images().astype(dtype)
    before = X.copy()
    dae = DenoisingAutoencoder(noise="salt_and_pepper", noise_level=0.5, **SMALL)
    dae.fit(X)
    dae.partial_fit(X)
    out = dae.denoise(X)
    np.testing.assert_array_equal(X, before)
    assert out.dtype == dtype


def test_partial_fit_keeps_the_range_of_all_data_seen():
    X = blobs()
    dae = DenoisingAutoencoder(**SMALL)
    dae.partial_fit(X[:60] * 0.5)
    dae.partial_fit(X[60:] * 2.0)
    both = np.vstack([X[:60] * 0.5, X[60:] * 2.0])
    np.testing.assert_array_equal(dae.data_min_, both.min(axis=0))
    np.testing.assert_array_equal(dae.data_max_, both.max(axis=0))
    # A fresh fit starts a new range; a warm-started one widens it.
    dae.fit(X)
    np.testing.assert_array_equal(dae.data_max_, X.max(axis=0))
    dae.set_params(warm_start=True).fit(X * 3.0)
    np.testing.assert_array_equal(dae.data_max_, X.max(axis=0) * 3.0)
    np.testing.assert_array_equal(dae.data_min_, X.min(axis=0))


def test_early_stopping_validates_on_a_fixed_corruption(monkeypatch):
    X = unit_images(n=200)
    calls = []
    original = skae._training.evaluate

    def spy(module, objective, X_val, batch_size, corrupt=None, seed=None):
        calls.append((X_val, corrupt, seed))
        return original(module, objective, X_val, batch_size, corrupt, seed)

    monkeypatch.setattr(skae._training, "evaluate", spy)
    # A small step: the first epochs' losses compare the two inputs, not
    # the noise of large steps.
    params = dict(
        early_stopping=True,
        noise="masking",
        noise_level=0.3,
        **{"learning_rate_init": 1e-3, **SMALL},
    )
    dae = DenoisingAutoencoder(**params).fit(X)
    # Other evaluations (the loop's one-batch divergence probe) are clean;
    # the validation ones corrupt their input, with one seed for every epoch.
    validations = [c for c in calls if c[1] is not None]
    assert len(validations) == dae.n_iter_ == len(dae.validation_loss_curve_)
    assert len({seed for _, _, seed in validations}) == 1
    val, corrupt, seed = validations[0]
    val_in = corrupt(val.rows, torch.Generator().manual_seed(seed))
    again = corrupt(val.rows, torch.Generator().manual_seed(seed))
    assert torch.equal(val_in, again)
    assert (val_in == 0).double().mean().item() > 0.2
    # The clean model would be judged on clean rows: a lower loss.
    calls.clear()
    clean = DenoisingAutoencoder(**{**params, "noise_level": 0.0}).fit(X)
    assert calls and all(c[1] is None for c in calls)
    assert clean.validation_loss_curve_[0] < dae.validation_loss_curve_[0]


# ----------------------------------------------------------------------
# Errors


@pytest.mark.parametrize("kind", ["masking", "salt_and_pepper"])
@pytest.mark.parametrize("level", [1.0, 1.5])
def test_probability_noise_level_must_be_below_one(kind, level):
    dae = DenoisingAutoencoder(noise=kind, noise_level=level, **SMALL)
    message = rf"noise_level={level}.*noise='{kind}'.*\[0, 1\)"
    with pytest.raises(ValueError, match=message):
        dae.fit(unit_images())
    assert not hasattr(dae, "encoder_")


def test_gaussian_noise_level_may_exceed_one():
    dae = DenoisingAutoencoder(noise="gaussian", noise_level=1.5, **SMALL).fit(blobs())
    assert dae.n_iter_ == SMALL["max_iter"]


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(noise_level=-0.1), "noise_level"),
        (dict(noise="speckle"), "noise"),
        (dict(noise="gaussian", noise_level="high"), "noise_level"),
    ],
)
def test_invalid_noise_parameters_are_rejected(params, message):
    with pytest.raises(ValueError, match=f"'{message}' parameter"):
        DenoisingAutoencoder(**params, **SMALL).fit(unit_images())


# ----------------------------------------------------------------------
# Quality


def test_denoising_beats_pca_on_noisy_digits():
    X, _ = load_digits(return_X_y=True)
    X_train, X_test = train_test_split(X / 16.0, test_size=0.3, random_state=0)
    rng = np.random.default_rng(0)
    X_noisy = np.clip(X_test + rng.normal(scale=0.3, size=X_test.shape), 0, 1)
    pcas = [PCA(k).fit(X_train) for k in (8, 16, 24, 32)]
    pca = max(psnr(X_test, p.inverse_transform(p.transform(X_noisy))) for p in pcas)
    dae = DenoisingAutoencoder(
        n_components=32,
        noise_level=0.3,
        hidden_layer_sizes=(128,),
        batch_size=32,
        learning_rate_init=3e-3,
        max_iter=30,
        random_state=0,
    ).fit(X_train)
    # About +1.6 dB with this budget; require a clear margin.
    assert psnr(X_test, dae.denoise(X_noisy)) > pca + 0.75
    assert pca > psnr(X_test, X_noisy)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_is_reproducible():
    X = unit_images()
    params = dict(SMALL, device="cuda", noise="salt_and_pepper", noise_level=0.3)
    first = DenoisingAutoencoder(**params).fit(X)
    again = DenoisingAutoencoder(**params).fit(X)
    assert first.loss_curve_ == again.loss_curve_
    assert first.denoise(X).dtype == X.dtype


def test_denoise_follows_set_output():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(load_digits().data[:60] / 16.0).add_prefix("pixel")
    dae = DenoisingAutoencoder(4, hidden_layer_sizes=(8,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dae.set_output(transform="pandas").fit(X)
    denoised = dae.denoise(X)
    assert isinstance(denoised, pd.DataFrame)
    assert list(denoised.columns) == list(X.columns)
    assert denoised.index.equals(X.index)
    dae.set_output(transform="default")
    np.testing.assert_array_equal(denoised.to_numpy(), dae.denoise(X))
