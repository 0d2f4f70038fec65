"""Convolutional networks: ``image_shape`` on every estimator.

Rows are images flattened channels first; the encoder's strided
convolutions and the decoder's transposed ones must give back exactly the
input's shape for any height and width, and everything a dense network
offers (code kinds, likelihoods, persistence, export, deep features,
displays, searches) must work on images too. Small images (digits, 8 x 8)
and few channels keep these fast; quality on large images is measured in
benchmarks/bench_conv.py.
"""

import math
import pickle
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skae import (
    AdversarialAutoencoder,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    DenoisingAutoencoder,
    VariationalAutoencoder,
)
from skae._conv import ImageConv, ImageConvTranspose, ImageSpec
from skae._recipe import NetworkRecipe, build_network

# A small convolutional setting: two convolutions of few channels.
SMALL = dict(image_shape=(8, 8), conv_channels=(4, 8), random_state=0)
SMALL_NO_SHAPE = {k: v for k, v in SMALL.items() if k != "image_shape"}


@pytest.fixture(scope="module")
def pixels(digits):
    """Digits as [0, 1] pixels: the first 300 and the next 200 images."""
    X = digits[0] / 16.0
    return X[:300], X[300:500]


def _quietly(method, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return method(*args, **kwargs)


def _network(shape, channels, kernel_size=3, **recipe):
    params = dict(
        n_features=math.prod(shape),
        n_components=3,
        image_shape=shape,
        conv_channels=channels,
        kernel_size=kernel_size,
        dtype="float64",
    )
    module = build_network(NetworkRecipe(**{**params, **recipe}))
    module.reset_parameters(torch.Generator().manual_seed(0))
    return module


# ----------------------------------------------------------------------
# The network


@settings(max_examples=25, deadline=None)
@given(
    channels=st.integers(1, 3),
    height=st.integers(1, 13),
    width=st.integers(1, 13),
    n_convs=st.integers(1, 3),
    kernel_size=st.sampled_from([1, 3, 5]),
    map_code=st.booleans(),
)
def test_the_decoder_gives_back_exactly_the_input_shape(
    channels, height, width, n_convs, kernel_size, map_code
):
    shape = (channels, height, width)
    spec = ImageSpec(shape, (2,) * n_convs, kernel_size)
    n_components = spec.map_width() if map_code else 3
    module = _network(
        shape, spec.channels, kernel_size, n_components=n_components, map_code=map_code
    )
    x = torch.randn(4, math.prod(shape), dtype=torch.float64)
    output = module(x)
    assert output.reconstruction.shape == x.shape
    assert output.codes.shape == (4, n_components)
    # Each convolution halves the sides, rounding up.
    assert spec.stages()[-1][1:] == (
        math.ceil(height / 2**n_convs),
        math.ceil(width / 2**n_convs),
    )


def test_a_convolution_reads_rows_as_channels_first_images():
    conv = ImageConv((2, 3, 4), 1, 1)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([1.0, 0.0]).reshape(1, 2, 1, 1))
        conv.bias.zero_()
    image = torch.arange(24.0).reshape(1, 2, 3, 4)
    out = conv(image.reshape(1, -1))
    # A 1x1 kernel that keeps the first channel, at stride 2.
    torch.testing.assert_close(out.detach().reshape(2, 2), image[0, 0, ::2, ::2])


def test_the_network_reports_its_cost_widths_and_kernels():
    module = _network((1, 8, 8), (4, 8), hidden_layer_sizes=(5,))
    first, *_ = (m for m in module.modules() if isinstance(m, ImageConv))
    # 4 channels of 4x4 outputs, each a 3x3 kernel over 1 channel.
    assert first.multiply_adds() == 4 * 16 * 9
    convs = [
        m for m in module.modules() if isinstance(m, ImageConv | ImageConvTranspose)
    ]
    linears = [m for m in module.modules() if isinstance(m, torch.nn.Linear)]
    assert module.multiply_adds() == sum(m.multiply_adds() for m in convs) + sum(
        m.in_features * m.out_features for m in linears
    )
    assert module.widest_activation() == 4 * 4 * 4
    assert len(module.weights()) == len(convs) + len(linears)
    assert module.filters("encoder").shape == (4, 9)
    assert module.filter_shape("encoder") == (1, 3, 3)
    assert module.filters("decoder").shape == (4, 9)
    # Hidden layers: two convolutions, one dense layer, the code, and their
    # mirrors up to the last transposed convolution (the output layer).
    assert module.n_hidden_layers() == 7
    assert module.code_layer_index() == 3


def test_building_an_image_network_leaves_global_random_state_alone():
    before = torch.random.get_rng_state()
    _network((3, 9, 7), (4, 8))
    assert torch.equal(before, torch.random.get_rng_state())


def test_a_convolutional_network_cannot_tie_its_weights():
    with pytest.raises(ValueError, match="cannot tie"):
        _network((1, 8, 8), (4,), tied_weights=True)


# ----------------------------------------------------------------------
# The estimators' parameters

ESTIMATORS = [
    AutoencoderTransformer(4, **SMALL),
    DenoisingAutoencoder(4, **SMALL),
    AutoencoderOutlierDetector(**SMALL),
    VariationalAutoencoder(4, **SMALL),
    AdversarialAutoencoder(2, **SMALL),
]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_every_estimator_trains_a_convolutional_network(estimator, pixels):
    X, X_new = pixels
    model = _quietly(clone(estimator).set_params(max_iter=3).fit, X)
    assert model._network.recipe.image_shape == (1, 8, 8)
    kinds = {type(m) for m in model._network.module.modules()}
    assert {ImageConv, ImageConvTranspose} <= kinds
    scores = model.score_samples(X_new)
    assert scores.shape == (200,) and np.isfinite(scores).all()
    reconstruction = model.reconstruct(X_new)
    assert reconstruction.shape == X_new.shape


def test_a_width_that_does_not_match_names_both_numbers(pixels):
    X, _ = pixels
    with pytest.raises(ValueError, match=r"holds 49 values per image, but X has 64"):
        AutoencoderTransformer(4, image_shape=(7, 7)).fit(X)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(image_shape=(8, 8, 1, 1)), "must be \\(height, width\\)"),
        (dict(image_shape=(0, 8)), "positive integers"),
        (dict(image_shape=(-1, -1)), "one may be -1"),
        (dict(image_shape=(3, -1)), "a multiple of 3 values per image"),
        (dict(image_shape=(8, 8), conv_channels=()), "conv_channels must hold"),
        (dict(image_shape=(8, 8), conv_channels=(4, 0)), "conv_channels must hold"),
        (dict(image_shape=(8, 8), kernel_size=4), "kernel_size must be odd"),
        (dict(image_shape=(8, 8), tied_weights=True), "tied_weights=True is not"),
        (dict(n_components=None), "needs image_shape"),
        (
            dict(n_components=None, image_shape=(8, 8)),
            r"set hidden_layer_sizes=\(\)",
        ),
    ],
)
def test_bad_image_settings_get_clear_errors(params, message, pixels):
    X, _ = pixels
    estimator = AutoencoderTransformer(4).set_params(**params)
    with pytest.raises(ValueError, match=message):
        estimator.fit(X)


def test_a_side_of_minus_one_is_inferred_from_the_features(pixels):
    X, _ = pixels
    model = _quietly(AutoencoderTransformer(2, image_shape=(8, -1), max_iter=1).fit, X)
    assert model._network.recipe.image_shape == (1, 8, 8)
    model = _quietly(AutoencoderTransformer(2, image_shape=(1, -1), max_iter=1).fit, X)
    assert model._network.recipe.image_shape == (1, 1, 64)


def test_channels_first_rows_are_read_as_channels(pixels):
    # Two channels: the digit and its negative. Channels-last rows of the
    # same pixels are another layout, hence another network input.
    X, _ = pixels
    images = np.stack([X.reshape(-1, 8, 8), 1 - X.reshape(-1, 8, 8)], axis=1)
    rows = images.reshape(len(images), -1)
    model = AutoencoderTransformer(
        4, image_shape=(2, 8, 8), max_iter=2, **SMALL_NO_SHAPE
    )
    model = _quietly(model.fit, rows)
    assert model._network.module.filter_shape("encoder") == (2, 3, 3)
    assert model.reconstruct(rows).shape == rows.shape


def test_an_image_network_centres_each_channel_as_a_whole(pixels):
    # Subtracting the mean image would give a stroke a different input
    # wherever the mean image is bright, against the convolutions' one
    # kernel everywhere (Fashion-MNIST denoising lost 0.7 dB that way).
    X, _ = pixels
    images = np.stack([X.reshape(-1, 8, 8), 1 - X.reshape(-1, 8, 8)], axis=1)
    rows = images.reshape(len(images), -1)
    model = _quietly(
        AutoencoderTransformer(
            4, image_shape=(2, 8, 8), max_iter=1, **SMALL_NO_SHAPE
        ).fit,
        rows,
    )
    shift = model._network.module.input_shift().numpy().reshape(2, 64)
    np.testing.assert_allclose(shift[0], X.mean(), rtol=1e-5)
    np.testing.assert_allclose(shift[1], 1 - X.mean(), rtol=1e-5)
    # A dense network still centres each feature, and so does the
    # variational family's image network (its likelihood was 17 nats worse
    # centred by channel on binarized MNIST).
    dense = _quietly(AutoencoderTransformer(4, max_iter=1).fit, X)
    np.testing.assert_allclose(dense._network.module.input_shift(), X.mean(axis=0))
    vae = _quietly(VariationalAutoencoder(2, max_iter=1, **SMALL).fit, X)
    np.testing.assert_allclose(vae._network.module.input_shift(), X.mean(axis=0))


def test_a_stream_of_alike_image_chunks_raises_no_drift_warning(pixels):
    # Half of each image a bright constant band: every pixel's mean lies
    # far from its channel's in units of the scaling, but the chunks are
    # alike, so partial_fit must not call them drifting.
    X, _ = pixels
    X = X.copy()
    X[:, :32] = 10.0 + np.random.default_rng(0).normal(scale=0.01, size=(300, 32))
    model = AutoencoderTransformer(4, max_iter=1, **SMALL)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        model.partial_fit(X[:150]).partial_fit(X[150:])
    with pytest.warns(UserWarning, match="far outside the input scaling"):
        model.partial_fit(X[150:] + 5.0)


def test_the_feature_map_as_the_code(pixels):
    X, X_new = pixels
    model = AutoencoderTransformer(None, hidden_layer_sizes=(), max_iter=3, **SMALL)
    codes = _quietly(model.fit_transform, X)
    # 8 channels of 2x2: the last convolution's map, flattened.
    assert model.n_components_ == 32
    assert codes.shape == (300, 32)
    assert model.get_feature_names_out().shape == (32,)
    # With no dense layer, the code layer is the last convolution.
    assert model._network.module.code_layer_index() == 1
    np.testing.assert_allclose(model.deep_features(X_new, 1), model.transform(X_new))


@pytest.mark.parametrize(
    "params",
    [
        dict(sparsity="topk", sparsity_k=2, n_components=6),
        dict(sparsity="lifetime", n_components=6),
        dict(sparsity="kl", activation="sigmoid"),
        dict(sparsity="l1", sparsity_weight=0.1),
        dict(contractive_weight=0.1),
        dict(dropout=0.2),
        dict(output_activation="sigmoid", loss="bce"),
    ],
    ids=["topk", "lifetime", "kl", "l1", "contractive", "dropout", "bce"],
)
def test_every_code_kind_and_loss_trains_on_images(params, pixels):
    X, X_new = pixels
    model = AutoencoderTransformer(**{"n_components": 4, **params}, max_iter=3, **SMALL)
    _quietly(model.fit, X)
    assert np.isfinite(model.loss_curve_).all()
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    codes = model.transform(X_new)
    if params.get("sparsity") == "topk":
        assert ((codes != 0).sum(axis=1) <= 2).all()
    names = set(model.loss_components_)
    expected = {"kl": "kl_sparsity", "l1": "l1_sparsity"}.get(params.get("sparsity"))
    if expected:
        assert expected in names
    if "contractive_weight" in params:
        assert "contractive" in names


def test_a_top_k_feature_map_code_keeps_k_per_row(pixels):
    X, X_new = pixels
    model = AutoencoderTransformer(
        None, hidden_layer_sizes=(), sparsity="topk", sparsity_k=5, max_iter=2, **SMALL
    )
    codes = _quietly(model.fit, X).transform(X_new)
    assert ((codes != 0).sum(axis=1) <= 5).all()


def test_the_denoisers_auto_network_follows_the_data(pixels):
    X, _ = pixels
    dense = _quietly(DenoisingAutoencoder(max_iter=1).fit, X)
    assert (dense.n_components_, dense.hidden_layer_sizes_) == (2, (100,))
    image = _quietly(DenoisingAutoencoder(max_iter=1, **SMALL).fit, X)
    # The last feature map, 8 channels of 2 x 2, is the code.
    assert (image.n_components_, image.hidden_layer_sizes_) == (32, ())
    assert image._network.recipe.map_code
    widened = DenoisingAutoencoder(hidden_layer_sizes=(10,), max_iter=1, **SMALL)
    with pytest.raises(ValueError, match=r"n_components='auto' makes the last"):
        widened.fit(X)
    assert _quietly(widened.set_params(n_components=5).fit, X).n_components_ == 5


def test_the_denoisers_image_defaults_beat_pca_on_noisy_digits(digits):
    # The 'auto' image network (the feature map as the code) against the
    # best of PCA(8, 16, 32), 16.0 dB here; the image defaults reach
    # 16.4-16.5 over seeds 0-2. The table defaults (a code of 2) barely
    # denoise digits at all: 13.3 dB against 13.0 for the noisy input.
    from sklearn.decomposition import PCA

    from skae.metrics import psnr

    X = digits[0] / 16.0
    rng = np.random.default_rng(0)
    X = X[rng.permutation(len(X))]
    X_train, X_test = X[:600], X[1200:1500]
    X_noisy = np.clip(X_test + rng.normal(scale=0.3, size=X_test.shape), 0, 1)

    def pca_psnr(k):
        pca = PCA(k).fit(X_train)
        return psnr(
            X_test, np.clip(pca.inverse_transform(pca.transform(X_noisy)), 0, 1)
        )

    dae = DenoisingAutoencoder(
        image_shape=(8, 8), noise_level=0.3, max_iter=60, random_state=0
    )
    conv = psnr(X_test, _quietly(dae.fit, X_train).denoise(X_noisy))
    assert conv > max(pca_psnr(k) for k in (8, 16, 32)) + 0.3


@pytest.mark.parametrize("noise", ["gaussian", "masking", "salt_and_pepper"])
def test_every_noise_kind_denoises_images(noise, pixels):
    X, X_new = pixels
    model = DenoisingAutoencoder(
        None, hidden_layer_sizes=(), noise=noise, noise_level=0.2, max_iter=3, **SMALL
    )
    _quietly(model.fit, X)
    assert model.denoise(X_new).shape == X_new.shape


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_the_variational_likelihoods_work_on_images(likelihood, pixels):
    X, X_new = pixels
    model = VariationalAutoencoder(3, likelihood=likelihood, max_iter=3, **SMALL)
    _quietly(model.fit, X)
    assert np.isfinite(model.score_samples(X_new)).all()
    draws = model.sample(5, random_state=0)
    assert draws.shape == (5, 64)


def test_a_fit_is_reproducible_and_leaves_the_input_alone(pixels):
    X, _ = pixels
    X_copy = X.copy()
    one = _quietly(AutoencoderTransformer(4, max_iter=2, **SMALL).fit_transform, X)
    two = _quietly(AutoencoderTransformer(4, max_iter=2, **SMALL).fit_transform, X)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(X, X_copy)


def test_float32_rows_train_a_float32_network(pixels):
    X, _ = pixels
    model = _quietly(
        AutoencoderTransformer(4, max_iter=1, **SMALL).fit, X.astype(np.float32)
    )
    assert model.transform(X[:5].astype(np.float32)).dtype == np.float32
    assert next(model._network.module.parameters()).dtype == torch.float32


# ----------------------------------------------------------------------
# Everything else keeps working


def test_pickle_round_trip_keeps_the_network(pixels):
    X, X_new = pixels
    model = _quietly(AutoencoderTransformer(4, max_iter=2, **SMALL).fit, X)
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded._network.recipe == model._network.recipe
    np.testing.assert_array_equal(loaded.transform(X_new), model.transform(X_new))
    # And training continues from the same state.
    _quietly(model.partial_fit, X)
    _quietly(loaded.partial_fit, X)
    np.testing.assert_array_equal(loaded.transform(X_new), model.transform(X_new))


def test_skops_loads_an_image_model_trusting_skae_alone(pixels):
    sio = pytest.importorskip("skops.io")
    X, X_new = pixels
    model = _quietly(AutoencoderOutlierDetector(max_iter=2, **SMALL).fit, X)
    data = sio.dumps(model)
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    np.testing.assert_array_equal(
        loaded.score_samples(X_new), model.score_samples(X_new)
    )


def test_a_recipe_saved_before_image_networks_still_loads():
    recipe = NetworkRecipe(n_features=6, n_components=2)
    values = recipe.to_dict()
    for name in ("image_shape", "conv_channels", "kernel_size", "map_code"):
        del values[name]
    assert NetworkRecipe.from_dict(values) == recipe
    image = NetworkRecipe(
        n_features=64, n_components=2, image_shape=(1, 8, 8), conv_channels=(4, 8)
    )
    # JSON-like storage turns tuples into lists.
    listed = {
        k: list(v) if isinstance(v, tuple) else v for k, v in image.to_dict().items()
    }
    assert NetworkRecipe.from_dict(listed) == image


def test_changing_the_convolutions_refuses_to_continue(pixels):
    X, _ = pixels
    model = _quietly(
        AutoencoderTransformer(4, max_iter=1, warm_start=True, **SMALL).fit, X
    )
    model.set_params(conv_channels=(4, 4))
    with pytest.raises(ValueError, match="after changing conv_channels"):
        model.fit(X)


def test_sample_weights_count_rows_on_images(pixels):
    # A row of weight 2 is two copies of it: full batches make the fits equal.
    X = pixels[0][:40]
    params = dict(n_components=4, max_iter=3, batch_size=100, **SMALL)
    weights = np.ones(40)
    weights[:10] = 2
    weighted = _quietly(AutoencoderTransformer(**params).fit, X, sample_weight=weights)
    repeated = _quietly(AutoencoderTransformer(**params).fit, np.vstack([X, X[:10]]))
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-6)


def test_memmapped_and_streamed_rows_train_as_resident_ones(
    pixels, tmp_path, monkeypatch
):
    X, X_new = pixels
    path = tmp_path / "X.npy"
    np.save(path, X)
    mapped = np.load(path, mmap_mode="r")
    params = dict(n_components=4, max_iter=2, shuffle=False, **SMALL)
    resident = _quietly(AutoencoderTransformer(**params).fit, X)
    # A tiny resident budget streams the rows in chunks.
    monkeypatch.setattr("skae._data.RESIDENT_BYTES", 4096)
    streamed = _quietly(AutoencoderTransformer(**params).fit, mapped)
    np.testing.assert_allclose(
        streamed.transform(X_new), resident.transform(X_new), rtol=1e-5, atol=1e-6
    )


def test_deep_features_of_a_feature_map_are_named(pixels):
    X, X_new = pixels
    model = _quietly(AutoencoderTransformer(4, max_iter=1, **SMALL).fit, X)
    model.set_output(transform="pandas")
    frame = model.deep_features(X_new, 0)
    # The first convolution: 4 channels of 4x4, flattened channels first.
    assert frame.shape == (200, 64)
    assert frame.columns[0] == "autoencodertransformer_layer0_0"
    assert model.deep_features(X_new, "code").shape == (200, 4)


def test_the_displays_take_their_shapes_from_the_estimator(pixels):
    pytest.importorskip("matplotlib")
    from skae.plotting import FiltersDisplay, ReconstructionDisplay

    X, X_new = pixels
    model = _quietly(AutoencoderTransformer(4, max_iter=1, **SMALL).fit, X)
    display = FiltersDisplay.from_estimator(model, layer="encoder")
    # The first convolution's 4 kernels, 3x3 each.
    assert len(display.images_) == 4
    assert display.images_[0].get_array().shape == (3, 3)
    assert display.figure_.get_suptitle() == "AutoencoderTransformer"
    display = ReconstructionDisplay.from_estimator(model, X_new, n_images=3)
    assert display.images_[0, 0].get_array().shape == (8, 8)


def test_a_grid_search_tunes_the_convolutions(pixels):
    X, _ = pixels
    search = GridSearchCV(
        AutoencoderTransformer(4, max_iter=2, **SMALL),
        {"conv_channels": [(2,), (4, 8)], "kernel_size": [1, 3]},
        cv=2,
    )
    _quietly(search.fit, X)
    assert len(search.cv_results_["params"]) == 4
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_a_convolutional_detector_beats_the_dense_one_on_planted_digits(digits):
    # Digits 0-4 with 5-9s planted, fit and scored on the same rows: the
    # image defaults (a code of 16) against the table defaults (0.77-0.82
    # over three seeds; convolutional: 0.90-0.93 on the demo's table).
    from sklearn.metrics import roc_auc_score

    X, y = digits
    X = X / 16.0
    rng = np.random.default_rng(0)
    inliers = np.flatnonzero(y < 5)[:400]
    planted = rng.choice(np.flatnonzero(y >= 5), 20, replace=False)
    rows = np.concatenate([inliers, planted])
    labels = np.r_[np.zeros(len(inliers)), np.ones(len(planted))]

    def auc(**params):
        detector = AutoencoderOutlierDetector(random_state=0, **params)
        scores = _quietly(detector.fit, X[rows]).score_samples(X[rows])
        return detector, roc_auc_score(labels, -scores)

    detector, conv_auc = auc(image_shape=(8, 8))
    assert detector.n_components_ == 16
    assert conv_auc > 0.88
    assert conv_auc > auc()[1] + 0.05


@pytest.mark.parametrize(
    "dtype, method",
    [(np.float64, "score_samples"), (np.float32, "reconstruct")],
    ids=["float64-explicit-convolutions", "float32-onnx-convolutions"],
)
def test_onnx_exports_an_image_model(dtype, method, pixels):
    # float64 graphs write the convolutions out (onnxruntime's Conv is
    # float32 only); float32 graphs keep ONNX's own. Every method's graph is
    # made of these layers.
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from skae import to_onnx

    X, X_new = (part.astype(dtype) for part in pixels)
    model = _quietly(AutoencoderOutlierDetector(max_iter=2, **SMALL).fit, X)
    session = ort.InferenceSession(
        to_onnx(model, method).SerializeToString(),
        providers=["CPUExecutionProvider"],
    )
    for rows in (X_new[:1], X_new):
        (got,) = session.run(None, {"X": rows})
        precise = dtype == np.float64
        tolerance = dict(rtol=1e-9, atol=1e-12) if precise else dict(atol=1e-5)
        np.testing.assert_allclose(got, getattr(model, method)(rows), **tolerance)


def test_small_convolutional_steps_run_on_one_thread(pixels, two_torch_threads):
    # Convolutions lose most to a busy machine's barriers: a digits-sized
    # step stays on one thread where a dense step of its cost would not.
    X, _ = pixels
    model = _quietly(AutoencoderTransformer(8, image_shape=(8, 8), max_iter=1).fit, X)
    work = 3 * 200 * model._network.module.multiply_adds()
    assert work > 50_000_000 and model.n_threads_ == 1
    rng = np.random.default_rng(0)
    images = rng.random((200, 784))
    model = AutoencoderTransformer(8, image_shape=(28, 28), max_iter=1)
    assert _quietly(model.fit, images).n_threads_ == 2
