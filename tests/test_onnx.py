"""skae.to_onnx: exported graphs served by onnxruntime alone match the estimators.

Every exportable method of every estimator, fitted on float32 and float64
data and exported for input of that dtype or of the other one (``dtype=``),
at several batch sizes through one exported graph (its batch axis is
dynamic). Exports take seconds each, so the full matrix is marked slow; one
case per estimator runs in the quick suite.
"""

import copy

import numpy as np
import pytest
import torch
from _reliability import blobs, call, class_id, make_estimator, public_estimator_classes
from sklearn.exceptions import NotFittedError

from skae import (
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    VariationalAutoencoder,
    to_onnx,
)
from skae._export import ExplicitELU, ExplicitLeakyReLU
from skae._modules import ACTIVATIONS
from skae._onnx import OUTPUT_NAMES

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

ESTIMATORS = public_estimator_classes()
BATCH_SIZES = (1, 7, 300)
ORT_TYPES = {np.float32: "tensor(float)", np.float64: "tensor(double)"}
# Data far from zero and of their own scale: the graph must hold the
# estimator's internal centring and scaling to match.
X_TRAIN = 50.0 + 20.0 * blobs(n_samples=120, n_features=6)


def _methods(cls):
    return [m for m in OUTPUT_NAMES if hasattr(cls, m) and m in cls._onnx_methods]


def _fitted(cls, dtype):
    estimator = make_estimator(cls, hidden_layer_sizes=(5,), max_iter=5)
    return call(estimator, "fit", X_TRAIN.astype(dtype))


def _inputs(estimator, method, n_rows, dtype):
    X = (50.0 + 20.0 * blobs(n_samples=n_rows, n_features=6, seed=n_rows)).astype(dtype)
    if method == "inverse_transform":
        return estimator.transform(X)
    return X


def _tolerance(dtype, output_dtype=None):
    """For a network of ``dtype``, its output rounded to ``output_dtype``."""
    # onnxruntime's kernels may sum in another order than torch's; a value
    # near 0 that a linear code layer reaches by cancellation keeps an
    # absolute error of a few units in the last place of its summands.
    if dtype == np.float32:
        return dict(rtol=1e-5, atol=1e-4)
    if output_dtype == np.float32:
        # Computed in float64 (a float32 computation would be off by 1e-6),
        # then rounded once: one float32 unit in the last place at most.
        return dict(rtol=np.finfo(np.float32).eps, atol=1e-15)
    return dict(rtol=1e-12, atol=1e-15)


def _check_parity(cls, dtype, method, export_dtype=None):
    """The graph of ``method`` of ``cls`` fitted on ``dtype`` data, exported
    for input of ``export_dtype`` (None: ``dtype``), against the estimator
    on input of that dtype."""
    estimator = _fitted(cls, dtype)
    input_dtype = dtype if export_dtype is None else export_dtype
    model = to_onnx(estimator, method=method, dtype=export_dtype)
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    (graph_input,) = session.get_inputs()
    assert graph_input.name == "X"
    assert graph_input.type == ORT_TYPES[input_dtype]
    assert not isinstance(graph_input.shape[0], int), "the batch axis is fixed"
    assert [o.name for o in session.get_outputs()] == [OUTPUT_NAMES[method]]
    for n_rows in BATCH_SIZES:
        X = _inputs(estimator, method, n_rows, input_dtype)
        (got,) = session.run(None, {"X": X})
        expected = getattr(estimator, method)(X)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        if method == "predict":
            np.testing.assert_array_equal(got, expected)
        else:
            tolerance = _tolerance(dtype, got.dtype)
            np.testing.assert_allclose(got, expected, **tolerance)


def _case(cls, dtype, export_dtype, method):
    name = dtype.__name__
    if export_dtype is not None:
        name += f"-as-{export_dtype.__name__}"
    return pytest.param(
        cls, dtype, export_dtype, method, id=f"{cls.__name__}-{name}-{method}"
    )


# Each fitted dtype, exported as it is (None) with every method, and for the
# other dtype with two (the casts do not depend on the method: the full
# matrix again would double the file's minutes for no new path).
CASES = [
    _case(cls, dtype, export_dtype, method)
    for cls in ESTIMATORS
    for dtype, other in ((np.float32, np.float64), (np.float64, np.float32))
    for export_dtype in (None, other)
    for method in _methods(cls)[: None if export_dtype is None else 2]
]
QUICK = {
    ("AutoencoderTransformer", np.float32, None, "transform"),
    ("DenoisingAutoencoder", np.float64, None, "inverse_transform"),
    ("AutoencoderOutlierDetector", np.float64, None, "decision_function"),
    ("AutoencoderTransformer", np.float64, np.float32, "transform"),
    ("AutoencoderOutlierDetector", np.float32, np.float64, "score_samples"),
}


def _quick(case):
    return (case.values[0].__name__, *case.values[1:]) in QUICK


@pytest.mark.parametrize(
    "cls, dtype, export_dtype, method", [c for c in CASES if _quick(c)]
)
def test_exported_graph_matches_the_estimator(cls, dtype, export_dtype, method):
    _check_parity(cls, dtype, method, export_dtype)


@pytest.mark.slow
@pytest.mark.parametrize(
    "cls, dtype, export_dtype, method", [c for c in CASES if not _quick(c)]
)
def test_every_exported_graph_matches_the_estimator(cls, dtype, export_dtype, method):
    _check_parity(cls, dtype, method, export_dtype)


@pytest.mark.parametrize(
    "fit_dtype, dtype, expected",
    [
        (np.float64, np.float32, "tensor(float)"),
        (np.float64, "float32", "tensor(float)"),
        (np.float64, np.dtype("float32"), "tensor(float)"),
        (np.float32, "float64", "tensor(double)"),
        (np.float32, None, "tensor(float)"),
    ],
    ids=lambda value: getattr(value, "__name__", str(value)),
)
def test_the_graph_input_has_the_requested_dtype(fit_dtype, dtype, expected):
    estimator = _fitted(AutoencoderOutlierDetector, fit_dtype)
    model = to_onnx(estimator, method="reconstruct", dtype=dtype)
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    assert session.get_inputs()[0].type == expected
    # Reconstructions follow the input's dtype, as the estimator returns them.
    assert session.get_outputs()[0].type == expected


def test_float32_serving_of_a_float64_model_has_float32_precision():
    # Against the float64 estimator on the float64 data: only the rounding
    # of the input and of the output to float32 stands between them.
    estimator = _fitted(AutoencoderOutlierDetector, np.float64)
    model = to_onnx(estimator, method="reconstruct", dtype=np.float32)
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    X = X_TRAIN[:50]
    (got,) = session.run(None, {"X": X.astype(np.float32)})
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, estimator.reconstruct(X), rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize(
    "dtype", ["float16", np.int64, "flaot32", torch.float32, "f4,f4"], ids=str
)
def test_an_unknown_dtype_is_refused(dtype):
    estimator = _fitted(AutoencoderTransformer, np.float64)
    with pytest.raises(ValueError, match=r"dtype must be None.*got dtype="):
        to_onnx(estimator, method="transform", dtype=dtype)


def test_explicit_activations_match_torchs():
    # They stand in for torch's in float64 graphs only.
    x = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    for torch_module, explicit in [
        (torch.nn.ELU(), ExplicitELU()),
        (torch.nn.LeakyReLU(0.01), ExplicitLeakyReLU(0.01)),
    ]:
        torch.testing.assert_close(explicit(x), torch_module(x), rtol=1e-14, atol=1e-15)


@pytest.mark.slow
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_exports_in_both_precisions(activation):
    for dtype in (np.float32, np.float64):
        estimator = make_estimator(
            AutoencoderTransformer, hidden_layer_sizes=(5,), activation=activation
        )
        call(estimator, "fit", X_TRAIN.astype(dtype))
        session = ort.InferenceSession(
            to_onnx(estimator, "transform").SerializeToString(),
            providers=["CPUExecutionProvider"],
        )
        X = X_TRAIN[:20].astype(dtype)
        (codes,) = session.run(None, {"X": X})
        np.testing.assert_allclose(codes, estimator.transform(X), **_tolerance(dtype))


@pytest.mark.parametrize("activation", ["elu", "leaky_relu"])
def test_float64_activations_export_for_float32_input(activation):
    # onnxruntime's Elu and LeakyRelu are float32 only: a float64 network's
    # are rewritten for the dtype they compute in, whatever the input's.
    estimator = make_estimator(
        AutoencoderTransformer, hidden_layer_sizes=(5,), activation=activation
    )
    call(estimator, "fit", X_TRAIN)
    model = to_onnx(estimator, "transform", dtype=np.float32)
    session = ort.InferenceSession(
        model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    X = X_TRAIN[:20].astype(np.float32)
    (codes,) = session.run(None, {"X": X})
    tolerance = _tolerance(np.float64, np.float32)
    np.testing.assert_allclose(codes, estimator.transform(X), **tolerance)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_export_leaves_the_estimator_alone(cls):
    estimator = _fitted(cls, np.float64)
    weights = copy.deepcopy(estimator._network.module.state_dict())
    state = dict(vars(estimator))
    to_onnx(estimator, method="reconstruct")
    assert vars(estimator).keys() == state.keys()
    for name, tensor in estimator._network.module.state_dict().items():
        assert torch.equal(tensor, weights[name]), name


def test_the_variational_likelihood_is_not_exported():
    # score_samples averages over random codes: no graph computes it.
    estimator = _fitted(VariationalAutoencoder, np.float64)
    with pytest.raises(ValueError, match=r"method='score_samples'.*'reconstruct'"):
        to_onnx(estimator, method="score_samples")


def test_ensemble_scores_are_not_exported():
    # They need every member's network; the graph holds the detector's own.
    estimator = AutoencoderOutlierDetector(
        n_estimators=2, max_iter=2, n_rounds=1, random_state=0
    ).fit(X_TRAIN)
    for method in ("score_samples", "decision_function", "predict"):
        with pytest.raises(ValueError, match=rf"method='{method}'.*\['reconstruct'\]"):
            to_onnx(estimator, method=method)
    session = ort.InferenceSession(
        to_onnx(estimator, "reconstruct").SerializeToString()
    )
    (reconstruction,) = session.run(None, {"X": X_TRAIN})
    np.testing.assert_allclose(
        reconstruction, estimator.reconstruct(X_TRAIN), rtol=1e-7, atol=1e-9
    )


def test_unfitted_and_unknown_methods_are_refused():
    with pytest.raises(NotFittedError):
        to_onnx(AutoencoderTransformer())
    estimator = _fitted(AutoencoderTransformer, np.float64)
    with pytest.raises(ValueError, match=r"method='predict'.*'transform'"):
        to_onnx(estimator, method="predict")
    with pytest.raises(ValueError, match="method='fit'"):
        to_onnx(estimator, method="fit")


@pytest.mark.parametrize(
    "params",
    [
        dict(sparsity="topk", sparsity_k=3, sparsity_alpha=1.5, tied_weights=True),
        dict(sparsity="lifetime", activation="relu", contractive_weight=0.1),
    ],
    ids=["topk-tied", "lifetime-contractive"],
)
def test_sparse_and_tied_codes_export(params):
    estimator = make_estimator(
        AutoencoderTransformer, n_components=10, hidden_layer_sizes=(5,), **params
    )
    call(estimator, "fit", X_TRAIN)
    X = X_TRAIN[:40]
    for method in ("transform", "score_samples"):
        session = ort.InferenceSession(
            to_onnx(estimator, method).SerializeToString(),
            providers=["CPUExecutionProvider"],
        )
        (got,) = session.run(None, {"X": X})
        np.testing.assert_allclose(got, getattr(estimator, method)(X), rtol=1e-12)
