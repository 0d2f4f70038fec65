"""The Display classes of skae.plotting draw what they claim to draw."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from skae import AutoencoderTransformer

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skae.plotting import (  # noqa: E402
    CodesDisplay,
    FiltersDisplay,
    LossCurveDisplay,
    ReconstructionDisplay,
)

N_IMAGES = 5


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:300], y[:300]


def _fit(X, **params):
    params = {
        "n_components": 3,
        "hidden_layer_sizes": (16,),
        "max_iter": 6,
        "device": "cpu",
        "random_state": 0,
        **params,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return AutoencoderTransformer(**params).fit(X)


@pytest.fixture(scope="module")
def fitted(digits):
    """Early stopping and an L1 activity penalty: two curves, two components."""
    return _fit(digits[0], early_stopping=True, sparsity="l1", sparsity_weight=0.01)


@pytest.fixture(scope="module")
def plain(digits):
    return _fit(digits[0])


# ----------------------------------------------------------------------
# LossCurveDisplay


def test_loss_curve_draws_training_and_validation(fitted):
    display = LossCurveDisplay.from_estimator(fitted)
    assert len(display.lines_) == 2
    assert len(display.ax_.get_lines()) == 2
    n = len(fitted.loss_curve_)
    x, y = display.line_.get_data()
    np.testing.assert_array_equal(x, np.arange(1, n + 1))
    np.testing.assert_allclose(y, fitted.loss_curve_)
    np.testing.assert_allclose(
        display.validation_line_.get_ydata(), fitted.validation_loss_curve_
    )
    assert display.line_.get_label() == "AutoencoderTransformer training"
    assert display.validation_line_.get_label() == "AutoencoderTransformer validation"
    assert display.ax_.get_xlabel() == "Epoch"
    assert display.figure_ is display.ax_.figure
    legend = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert legend == [
        "AutoencoderTransformer training",
        "AutoencoderTransformer validation",
    ]


def test_loss_curve_without_validation(plain):
    display = LossCurveDisplay.from_estimator(plain, name="ae")
    assert display.validation_line_ is None
    assert len(display.lines_) == 1
    assert display.line_.get_label() == "ae training"


def test_loss_curve_components(fitted):
    display = LossCurveDisplay.from_estimator(fitted, components=True, log_scale=True)
    assert set(display.component_lines_) == {"reconstruction", "l1_sparsity"}
    assert len(display.lines_) == 4
    for part, line in display.component_lines_.items():
        np.testing.assert_allclose(line.get_ydata(), fitted.loss_components_[part])
        assert line.get_linestyle() == "--"
    assert display.ax_.get_yscale() == "log"


def test_loss_curve_components_of_the_adversarial_autoencoder(digits):
    from skae import AdversarialAutoencoder

    aae = AdversarialAutoencoder(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0)
    aae.fit(digits[0][:300] / 16.0)
    display = LossCurveDisplay.from_estimator(aae, components=True)
    assert set(display.component_lines_) == {
        "reconstruction",
        "discriminator",
        "generator",
    }
    np.testing.assert_array_equal(
        display.component_lines_["generator"].get_ydata(),
        aae.loss_components_["generator"],
    )


def test_loss_curve_on_given_axes_and_kwargs(fitted):
    fig, (ax1, ax2) = plt.subplots(1, 2)
    display = LossCurveDisplay.from_estimator(
        fitted, ax=ax2, line_kwargs={"color": "red", "label": "train"}
    )
    assert display.ax_ is ax2
    assert display.figure_ is fig
    assert not ax1.get_lines()
    assert display.line_.get_color() == "red"
    assert display.line_.get_label() == "train"


def test_loss_curve_from_values():
    display = LossCurveDisplay(loss_curve=[3.0, 2.0, 1.5]).plot()
    assert display.line_.get_label() == "training"
    np.testing.assert_array_equal(display.line_.get_xdata(), [1, 2, 3])


# ----------------------------------------------------------------------
# ReconstructionDisplay


def test_reconstruction_grid_shows_originals_and_reconstructions(plain, digits):
    X = digits[0]
    display = ReconstructionDisplay.from_estimator(
        plain, X, image_shape=(8, 8), n_images=N_IMAGES
    )
    assert display.axes_.shape == (2, N_IMAGES)
    assert display.images_.shape == (2, N_IMAGES)
    # A figure of its own: one axes per image, titled with the estimator.
    assert display.bounding_ax_ is None
    assert len(display.figure_.axes) == 2 * N_IMAGES
    assert display.figure_.get_suptitle() == "AutoencoderTransformer"
    reconstructed = plain.reconstruct(X[:N_IMAGES])
    for c in range(N_IMAGES):
        np.testing.assert_array_equal(
            display.images_[0, c].get_array(), X[c].reshape(8, 8)
        )
        np.testing.assert_allclose(
            display.images_[1, c].get_array(), reconstructed[c].reshape(8, 8)
        )
    errors = np.mean((reconstructed - X[:N_IMAGES]) ** 2, axis=1)
    np.testing.assert_allclose(display.errors, errors)
    assert display.axes_[1, 0].get_title() == f"MSE {errors[0]:.3g}"
    assert display.axes_[0, 0].get_ylabel() == "original"
    assert display.axes_[1, 0].get_ylabel() == "reconstruction"
    # One grey scale for the whole grid.
    assert {im.get_clim() for im in display.images_.ravel()} == {
        (X[:N_IMAGES].min(), X[:N_IMAGES].max())
    }


def test_reconstruction_indices_and_reference(plain, digits):
    X = digits[0]
    rng = np.random.default_rng(0)
    noisy = np.clip(X + rng.normal(0, 2, X.shape), 0, 16)
    indices = [7, 3, 11]
    display = ReconstructionDisplay.from_estimator(
        plain,
        noisy,
        image_shape=(8, 8),
        indices=indices,
        X_reference=X,
        row_labels=["noisy", "denoised", "clean"],
        show_errors=False,
    )
    assert display.axes_.shape == (3, 3)
    for c, i in enumerate(indices):
        np.testing.assert_array_equal(
            display.images_[0, c].get_array(), noisy[i].reshape(8, 8)
        )
        np.testing.assert_array_equal(
            display.images_[2, c].get_array(), X[i].reshape(8, 8)
        )
    expected = np.mean((plain.reconstruct(noisy[indices]) - X[indices]) ** 2, axis=1)
    np.testing.assert_allclose(display.errors, expected)
    assert [display.axes_[r, 0].get_ylabel() for r in range(3)] == [
        "noisy",
        "denoised",
        "clean",
    ]
    assert display.axes_[1, 0].get_title() == ""


def test_reconstruction_from_predictions_on_axes_array(digits):
    X = digits[0]
    pca = PCA(5).fit(X)
    X_pca = pca.inverse_transform(pca.transform(X))
    fig, axes = plt.subplots(2, 4)
    display = ReconstructionDisplay.from_predictions(
        X, X_pca, image_shape=(8, 8), n_images=4, ax=axes, name="PCA"
    )
    assert display.bounding_ax_ is None
    assert display.axes_[1, 2] is axes[1, 2]
    assert len(fig.axes) == 8
    np.testing.assert_allclose(
        display.images_[1, 2].get_array(), X_pca[2].reshape(8, 8)
    )
    assert display.axes_[1, 0].get_ylabel() == "reconstruction"
    # The caller's figure is not retitled.
    assert display.estimator_name == "PCA"
    assert fig.get_suptitle() == ""


def test_reconstruction_divides_a_single_axes(plain, digits):
    fig, (left, right) = plt.subplots(1, 2)
    display = ReconstructionDisplay.from_estimator(
        plain, digits[0], image_shape=(8, 8), n_images=3, ax=right
    )
    assert display.bounding_ax_ is right and not right.axison
    assert right.get_title() == "AutoencoderTransformer"
    # The bounding axes, the untouched left axes, and one per image.
    assert len(fig.axes) == 2 + 6
    assert left.axison and not left.get_images()
    box = right.get_position()
    for axis in display.axes_.ravel():
        inner = axis.get_position()
        assert box.x0 - 1e-9 <= inner.x0 and inner.x1 <= box.x1 + 1e-9


@pytest.mark.parametrize("n_images", [1, 12])
def test_reconstruction_number_of_images(plain, digits, n_images):
    display = ReconstructionDisplay.from_estimator(
        plain, digits[0], image_shape=(8, 8), n_images=n_images
    )
    assert display.axes_.shape == (2, n_images)
    assert len(display.figure_.axes) == 2 * n_images
    np.testing.assert_array_equal(display.originals, digits[0][:n_images])


def test_reconstruction_accepts_dataframe(plain, digits):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(digits[0]).iloc[10:]
    display = ReconstructionDisplay.from_estimator(
        plain, X, image_shape=(8, 8), n_images=2
    )
    np.testing.assert_array_equal(
        display.images_[0, 1].get_array(), X.iloc[1].to_numpy().reshape(8, 8)
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(image_shape=(4, 4)), "image_shape"),
        (dict(image_shape=(8, 8), n_images=0), "n_images"),
        (
            dict(image_shape=(8, 8), n_images=3, ax=np.empty(4, dtype=object)),
            "Expected 6 axes",
        ),
    ],
)
def test_reconstruction_bad_arguments(plain, digits, kwargs, match):
    with pytest.raises(ValueError, match=match):
        ReconstructionDisplay.from_estimator(plain, digits[0], **kwargs)


def test_reconstruction_shape_mismatch(digits):
    X = digits[0]
    with pytest.raises(ValueError, match="must match"):
        ReconstructionDisplay.from_predictions(X, X[:, :10], image_shape=(8, 8))


# ----------------------------------------------------------------------
# CodesDisplay


def test_codes_scatter_offsets_are_the_codes(plain, digits):
    X, y = digits
    display = CodesDisplay.from_estimator(plain, X, y)
    codes = plain.transform(X)
    np.testing.assert_allclose(display.scatter_.get_offsets(), codes[:, :2])
    assert display.ax_.get_xlabel() == "code 0"
    assert display.ax_.get_title() == "AutoencoderTransformer"
    # Ten digit classes: categories with a legend, no colour bar.
    assert [t.get_text() for t in display.legend_.get_texts()] == [
        str(d) for d in range(10)
    ]
    assert display.colorbar_ is None
    np.testing.assert_array_equal(display.scatter_.get_array(), y)


def test_codes_other_components_and_names(plain, digits):
    X = digits[0]
    display = CodesDisplay.from_estimator(
        plain, X, components=(2, 0), component_names=["a", "b", "c"]
    )
    codes = plain.transform(X)
    np.testing.assert_allclose(display.scatter_.get_offsets(), codes[:, [2, 0]])
    assert (display.ax_.get_xlabel(), display.ax_.get_ylabel()) == ("c", "a")
    assert display.legend_ is None and display.colorbar_ is None


def test_codes_3d(plain, digits):
    X, y = digits
    display = CodesDisplay.from_estimator(plain, X, y, components=(0, 1, 2))
    assert display.ax_.name == "3d"
    codes = plain.transform(X)
    xs, ys, zs = display.scatter_._offsets3d
    np.testing.assert_allclose(np.column_stack([xs, ys, zs]), codes)
    assert display.ax_.get_zlabel() == "code 2"


def test_codes_string_and_continuous_labels(plain, digits):
    X, y = digits
    names = np.array(["even", "odd"])[y % 2]
    display = CodesDisplay.from_estimator(plain, X, names)
    assert [t.get_text() for t in display.legend_.get_texts()] == ["even", "odd"]
    values = np.linspace(0.0, 1.0, X.shape[0])
    display = CodesDisplay(codes=plain.transform(X), labels=values).plot()
    assert display.legend_ is None
    assert display.colorbar_ is not None
    np.testing.assert_allclose(display.scatter_.get_array(), values)


def test_codes_bad_arguments(plain, digits):
    X = digits[0]
    with pytest.raises(ValueError, match="at least 2 code units"):
        CodesDisplay(codes=np.zeros((5, 1))).plot()
    with pytest.raises(ValueError, match="out of range"):
        CodesDisplay.from_estimator(plain, X, components=(0, 3))
    with pytest.raises(ValueError, match="2 or 3"):
        CodesDisplay.from_estimator(plain, X, components=(0,))
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="3-D axes"):
        CodesDisplay.from_estimator(plain, X, components=(0, 1, 2), ax=ax)


# ----------------------------------------------------------------------
# Pipelines


@pytest.fixture(scope="module")
def detector_pipeline(digits):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skae import AutoencoderOutlierDetector

    detector = AutoencoderOutlierDetector(
        n_components=3, hidden_layer_sizes=(8,), max_iter=3, n_rounds=1, random_state=0
    )
    return make_pipeline(StandardScaler(), detector).fit(digits[0])


def test_loss_curve_of_a_pipeline_is_its_last_steps(detector_pipeline):
    display = LossCurveDisplay.from_estimator(detector_pipeline)
    np.testing.assert_array_equal(
        display.line_.get_ydata(), detector_pipeline[-1].loss_curve_
    )
    assert display.line_.get_label() == "AutoencoderOutlierDetector training"


def test_reconstructions_of_a_pipeline_are_in_its_last_steps_input_space(
    detector_pipeline, digits
):
    X = digits[0]
    display = ReconstructionDisplay.from_estimator(
        detector_pipeline, X, image_shape=(8, 8), n_images=N_IMAGES
    )
    scaled = detector_pipeline[0].transform(X[:N_IMAGES])
    detector = detector_pipeline[-1]
    np.testing.assert_allclose(display.originals, scaled)
    np.testing.assert_allclose(display.reconstructions, detector.reconstruct(scaled))
    np.testing.assert_allclose(
        display.errors, detector.reconstruction_errors(scaled), rtol=1e-10
    )


def test_codes_of_a_pipeline(detector_pipeline, digits):
    X = digits[0]
    display = CodesDisplay.from_estimator(detector_pipeline, X)
    scaled = detector_pipeline[0].transform(X)
    np.testing.assert_allclose(
        display.scatter_.get_offsets(),
        detector_pipeline[-1].deep_features(scaled, "code")[:, :2],
    )


def test_a_pipeline_without_an_autoencoder_last_says_what_to_pass(digits):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    X, y = digits
    pipe = make_pipeline(_fit(X), LogisticRegression(max_iter=50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    with pytest.raises(
        TypeError, match=r"LogisticRegression has no loss_curve_.*pipe\[1\]"
    ):
        LossCurveDisplay.from_estimator(pipe)
    with pytest.raises(
        TypeError, match="LogisticRegression has no reconstruct.*Pipeline"
    ):
        ReconstructionDisplay.from_estimator(pipe, X, image_shape=(8, 8))
    with pytest.raises(
        TypeError, match="LogisticRegression has no transform.*Pipeline"
    ):
        CodesDisplay.from_estimator(pipe, X)


def test_unfitted_pipeline_raises(digits):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(
            make_pipeline(StandardScaler(), AutoencoderTransformer())
        )


# ----------------------------------------------------------------------
# Shared behaviour


@pytest.mark.parametrize(
    "make",
    [
        lambda est, X: LossCurveDisplay.from_estimator(est),
        lambda est, X: ReconstructionDisplay.from_estimator(est, X, image_shape=(8, 8)),
        lambda est, X: CodesDisplay.from_estimator(est, X),
    ],
    ids=["loss", "reconstruction", "codes"],
)
def test_unfitted_estimator_raises(make, digits):
    with pytest.raises(NotFittedError):
        make(AutoencoderTransformer(), digits[0])


def test_clear_error_without_matplotlib(monkeypatch, fitted):
    # None in sys.modules makes the import fail, as if matplotlib were absent.
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install skae\[plot\]"):
        LossCurveDisplay.from_estimator(fitted)
    with pytest.raises(ImportError, match="CodesDisplay.plot requires matplotlib"):
        CodesDisplay(codes=np.zeros((3, 2))).plot()


# ----------------------------------------------------------------------
# FiltersDisplay


def test_decoder_filters_are_the_images_each_code_writes(digits):
    # No hidden layer: the output layer has one column per code unit.
    single = _fit(digits[0], n_components=7, hidden_layer_sizes=())
    display = FiltersDisplay.from_estimator(single, image_shape=(8, 8))
    weight = [m for m in single.decoder_ if hasattr(m, "weight")][-1].weight
    assert len(display.images_) == 7
    for image, column in zip(display.images_, weight.detach().numpy().T, strict=True):
        np.testing.assert_allclose(image.get_array(), column.reshape(8, 8))
        # One colour scale per filter, centred on zero.
        assert image.norm.vmin == -image.norm.vmax == -np.abs(column).max()
    # A 3 x 3 grid for 7 filters: the spare axes are off.
    assert display.axes_.shape == (3, 3)
    assert sum(not a.axison for a in display.axes_.ravel()) == 2


def test_tied_filters_are_the_same_both_ways(digits):
    tied = _fit(digits[0], n_components=6, hidden_layer_sizes=(), tied_weights=True)
    decoder = FiltersDisplay.from_estimator(tied, image_shape=(8, 8))
    encoder = FiltersDisplay.from_estimator(tied, image_shape=(8, 8), layer="encoder")
    for a, b in zip(decoder.images_, encoder.images_, strict=True):
        np.testing.assert_array_equal(a.get_array(), b.get_array())


def test_filters_largest_first_and_bad_arguments(plain):
    display = FiltersDisplay.from_estimator(plain, image_shape=(8, 8), n_filters=4)
    norms = [np.linalg.norm(image.get_array()) for image in display.images_]
    assert len(norms) == 4 and norms == sorted(norms, reverse=True)
    with pytest.raises(ValueError, match="layer must be"):
        FiltersDisplay.from_estimator(plain, image_shape=(8, 8), layer="code")
    with pytest.raises(ValueError, match="image_shape"):
        FiltersDisplay.from_estimator(plain, image_shape=(4, 4))
    with pytest.raises(ValueError, match="n_filters"):
        FiltersDisplay.from_estimator(plain, image_shape=(8, 8), n_filters=0)
