"""Persistence you can trust: pickle, joblib and skops round trips.

A fitted estimator pickles to a plain state (NumPy arrays and builtins, no
torch object), so round trips are bit-identical, a CUDA-trained model
loads on a CPU-only machine, and skops loads it trusting skae's own types
only.
"""

import copy
import functools
import io
import pickle
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from _reliability import (
    all_outputs,
    assert_outputs_equal,
    blobs,
    call,
    class_id,
    make_estimator,
    public_estimator_classes,
)
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from skae import AutoencoderOutlierDetector, AutoencoderTransformer
from skae._persistence import NETWORK_KEY

ESTIMATORS = public_estimator_classes()
DATA = Path(__file__).parent / "data"
X = blobs()
X_UNIT = (X - X.min()) / (X.max() - X.min())

CONFIGS = {
    "default": ({}, X),
    "float32": ({}, X.astype(np.float32)),
    "early_stopping_dropout": (
        dict(early_stopping=True, dropout=0.2, hidden_layer_sizes=(5, 3)),
        X,
    ),
    "sgd_linear": (dict(solver="sgd", hidden_layer_sizes=(), activation="identity"), X),
    "adamw_penalised": (dict(solver="adamw", alpha=1e-3, sparsity="l1"), X),
    "rmsprop_bce": (
        dict(solver="rmsprop", loss="bce", output_activation="sigmoid"),
        X_UNIT,
    ),
    "topk_tied_schedule": (
        dict(
            n_components=6,
            sparsity="topk",
            sparsity_k=2,
            sparsity_k_start=4,
            sparsity_alpha=2.0,
            tied_weights=True,
        ),
        X,
    ),
    "lifetime_contractive": (
        dict(
            n_components=6,
            activation="relu",
            sparsity="lifetime",
            sparsity_rate=0.2,
            contractive_weight=0.1,
        ),
        X,
    ),
    # The variational autoencoder's options (others drop the keys): a
    # Bernoulli likelihood, schedules that write to the optimizer and the
    # objective, a per-feature noise variance with its own parameter group.
    "variational_options": (
        dict(likelihood="bernoulli", learning_rate="cosine", kl_warmup=2),
        X_UNIT,
    ),
    "per_feature_noise_adamw": (
        dict(noise_variance="per_feature", solver="adamw", alpha=1e-3),
        X,
    ),
}


def _fit(cls, config="default", **params):
    extra, data = CONFIGS[config]
    estimator = make_estimator(cls, **{**extra, **params})
    call(estimator, "fit", data)
    return estimator, data


@functools.cache
def _shared_fit(cls, config="default"):
    """A fitted model shared by the tests that do not change it."""
    return _fit(cls, config)


def _outputs(estimator, data):
    outputs = all_outputs(estimator, data)
    if hasattr(estimator, "deep_features"):
        outputs["deep_features"] = estimator.deep_features(data, 0)
    return outputs


def _fitted_attributes(estimator):
    """Public fitted attributes other than the torch modules."""
    return {
        k: v
        for k, v in vars(estimator).items()
        if k.endswith("_")
        and not k.startswith("_")
        and k not in ("encoder_", "decoder_")
    }


def _assert_same_attributes(a, b):
    left, right = _fitted_attributes(a), _fitted_attributes(b)
    assert left.keys() == right.keys()
    for key, value in left.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, right[key], err_msg=key)
        else:
            assert value == right[key], key


def _pickle(estimator):
    return pickle.loads(pickle.dumps(estimator))


def _joblib(estimator, compress=0):
    buffer = io.BytesIO()
    joblib.dump(estimator, buffer, compress=compress)
    buffer.seek(0)
    return joblib.load(buffer)


ROUND_TRIPS = {
    "pickle": _pickle,
    "joblib": _joblib,
    "joblib_compressed": lambda e: _joblib(e, compress=3),
    "deepcopy": copy.deepcopy,
}


@pytest.mark.parametrize("way", ROUND_TRIPS)
@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_round_trip_is_bit_identical(cls, config, way):
    estimator, data = _shared_fit(cls, config)
    loaded = ROUND_TRIPS[way](estimator)
    assert_outputs_equal(_outputs(loaded, data), _outputs(estimator, data))
    _assert_same_attributes(loaded, estimator)
    assert loaded.get_params() == estimator.get_params()


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_joblib_memory_mapped_load(cls, tmp_path):
    # Read-only memory-mapped arrays, as check_estimators_pickle uses them.
    estimator, data = _shared_fit(cls)
    path = tmp_path / "model.joblib"
    joblib.dump(estimator, path)
    loaded = joblib.load(path, mmap_mode="r")
    assert_outputs_equal(_outputs(loaded, data), _outputs(estimator, data))


def _torch_objects(obj, path="state"):
    """Paths of every torch object inside ``obj``."""
    if type(obj).__module__.split(".")[0] == "torch":
        return [path]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _torch_objects(v, f"{path}[{k!r}]")]
    if isinstance(obj, (list, tuple)):
        return [p for i, v in enumerate(obj) for p in _torch_objects(v, f"{path}[{i}]")]
    if isinstance(obj, np.ndarray) and obj.dtype == object:
        return [
            p
            for i, v in enumerate(obj.ravel())
            for p in _torch_objects(v, f"{path}.flat[{i}]")
        ]
    return []


class _NoTorchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if module.split(".")[0] == "torch":
            raise pickle.UnpicklingError(f"torch object in the pickle: {module}.{name}")
        return super().find_class(module, name)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_pickled_state_holds_no_torch_object(cls, config):
    estimator, data = _fit(cls, config, device=torch.device("cpu"))
    assert _torch_objects(estimator.__getstate__()) == []
    # And so the pickle loads with torch's classes forbidden.
    loaded = _NoTorchUnpickler(io.BytesIO(pickle.dumps(estimator))).load()
    assert_outputs_equal(_outputs(loaded, data), _outputs(estimator, data))
    assert loaded.device == torch.device("cpu")
    assert isinstance(loaded.device, torch.device)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_loaded_modules_are_real_and_in_eval_mode(cls):
    estimator, data = _shared_fit(cls, "early_stopping_dropout")
    loaded = _pickle(estimator)
    for module in (loaded.encoder_, loaded.decoder_):
        assert isinstance(module, torch.nn.Module)
        assert not module.training
        assert all(p.device.type == "cpu" for p in module.parameters())
    if hasattr(loaded, "transform"):
        with torch.no_grad():
            codes = loaded.encoder_(torch.tensor(data)).numpy()
        np.testing.assert_array_equal(codes, loaded.transform(data))


@pytest.mark.parametrize("solver", ["adam", "adamw", "sgd", "rmsprop"])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_partial_fit_after_loading_continues_exactly(cls, solver):
    # The optimizer state (e.g. Adam's moments) is saved too.
    if not hasattr(cls, "partial_fit"):
        pytest.skip("no partial_fit")
    estimator, data = _fit(cls, solver=solver)
    loaded = _pickle(estimator)
    for model in (estimator, loaded):
        call(model, "partial_fit", data)
        call(model, "partial_fit", data[::-1])
    assert_outputs_equal(_outputs(loaded, data), _outputs(estimator, data))
    assert loaded.loss_curve_ == estimator.loss_curve_


@pytest.mark.parametrize(
    "config", ["default", "early_stopping_dropout", "variational_options"]
)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_warm_start_after_loading_continues_exactly(cls, config):
    estimator, data = _fit(cls, config)
    loaded = _pickle(estimator)
    for model in (estimator, loaded):
        model.set_params(warm_start=True, max_iter=2)
        call(model, "fit", data)
    assert_outputs_equal(_outputs(loaded, data), _outputs(estimator, data))


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_network_is_rebuilt_as_fitted_after_set_params(cls):
    estimator, data = _fit(cls)
    expected = _outputs(estimator, data)
    estimator.set_params(n_components=5, hidden_layer_sizes=(7, 6), activation="tanh")
    loaded = _pickle(estimator)
    assert loaded.get_params()["hidden_layer_sizes"] == (7, 6)
    assert_outputs_equal(_outputs(loaded, data), expected)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_unfitted_round_trip(cls):
    estimator = make_estimator(cls)
    loaded = _pickle(estimator)
    assert loaded.get_params() == estimator.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(loaded)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_failed_fit_round_trip_is_unfitted(cls):
    estimator = make_estimator(cls, solver="sgd", learning_rate_init=1e300)
    with pytest.raises(ValueError, match="diverged"):
        call(estimator, "fit", X)
    loaded = _pickle(estimator)
    with pytest.raises(NotFittedError):
        check_is_fitted(loaded)
    loaded.set_params(learning_rate_init=1e-3)
    call(loaded, "fit", X)
    check_is_fitted(loaded)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_state_does_not_share_memory_with_the_model(cls):
    if not hasattr(cls, "partial_fit"):
        pytest.skip("no partial_fit")
    estimator, data = _fit(cls)
    expected = _outputs(estimator, data)
    state = estimator.__getstate__()
    call(estimator, "partial_fit", data)
    restored = cls.__new__(cls)
    restored.__setstate__(state)
    assert_outputs_equal(_outputs(restored, data), expected)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device", ["cuda", "cuda:1", torch.device("cuda", 0)])
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_cuda_model_loads_on_cpu(cls, device):
    # A CUDA-trained model pickles to the same plain state as a CPU-trained
    # one: float32 weights as NumPy arrays, whatever the data's dtype
    # (float32 data here), and device='cuda'. Loading it here must work.
    estimator, data = _fit(cls, "float32")
    expected = _outputs(estimator, data)
    estimator.set_params(device=device)
    payload = pickle.dumps(estimator)
    with pytest.warns(UserWarning, match="CUDA is not available.*loaded on the CPU"):
        loaded = pickle.loads(payload)
    assert loaded.device == device
    assert all(p.device.type == "cpu" for p in loaded.encoder_.parameters())
    assert_outputs_equal(_outputs(loaded, data), expected)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_auto_device_loads_without_warning(cls):
    estimator, data = _fit(cls, device="auto")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = _pickle(estimator)
    expected_device = "cuda" if torch.cuda.is_available() else "cpu"
    assert next(loaded.encoder_.parameters()).device.type == expected_device


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_real_cuda_model_loads_on_cpu(cls, monkeypatch):
    estimator = make_estimator(cls, device="cuda")
    call(estimator, "fit", X)
    expected = _outputs(estimator, X)
    payload = pickle.dumps(estimator)
    # Loaded where CUDA is available: back on the GPU, bit-identical.
    on_gpu = pickle.loads(payload)
    assert next(on_gpu.encoder_.parameters()).is_cuda
    assert_outputs_equal(_outputs(on_gpu, X), expected)
    # Loaded where it is not: on the CPU, with a warning.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        on_cpu = pickle.loads(payload)
    assert not next(on_cpu.encoder_.parameters()).is_cuda
    for key, value in _outputs(on_cpu, X).items():
        np.testing.assert_allclose(
            value, expected[key], rtol=1e-4, atol=1e-5, err_msg=key
        )


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_state_from_a_newer_skae_is_refused(cls):
    estimator, _ = _shared_fit(cls)
    state = estimator.__getstate__()
    state[NETWORK_KEY] = {**state[NETWORK_KEY], "format": 99}
    with pytest.raises(ValueError, match="newer skae"):
        cls.__new__(cls).__setstate__(state)


@pytest.mark.parametrize(
    "name", ["transformer", "denoiser", "detector"], ids=lambda name: name
)
def test_pickles_of_skae_0_1_load_and_give_their_outputs(name):
    # Files written by skae 0.1.0 (state format 1, which described the
    # network by the estimator's _architecture), with the outputs that
    # version computed on the stored X.
    data = np.load(DATA / "skae-0.1.0-outputs.npz")
    with open(DATA / f"skae-0.1.0-{name}.pkl", "rb") as f:
        estimator = pickle.load(f)
    assert not hasattr(estimator, "_architecture")
    # Parameters added since 0.1.0 take their defaults.
    assert estimator.get_params()["n_threads"] == "auto"
    for method in ("transform", "score_samples"):
        if f"{name}_{method}" in data:
            np.testing.assert_allclose(
                getattr(estimator, method)(data["X"]),
                data[f"{name}_{method}"],
                rtol=1e-12,
                atol=1e-12,
            )
    # The saved optimizer state came back with it: training continues.
    n_iter = estimator.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.partial_fit(data["X"])
    assert estimator.n_iter_ == n_iter + 1


@pytest.mark.parametrize(
    "name", ["transformer", "denoiser", "detector", "vae"], ids=lambda name: name
)
def test_pickles_of_skae_0_2_load_and_give_their_outputs(name):
    # Files written by skae 0.2 (state format 2: one optimizer, no network
    # kind in the recipe), with the outputs that version computed on the
    # stored X: a top-k transformer, a denoiser, a calibrated two-network
    # detector and a variational autoencoder with a cosine schedule.
    data = np.load(DATA / "skae-0.2-outputs.npz")
    with open(DATA / f"skae-0.2-{name}.pkl", "rb") as f:
        estimator = pickle.load(f)
    # Up to the last bits, as for 0.1.0: matrix kernels round by the CPU, and
    # these outputs were computed on another one.
    for method in ("transform", "score_samples", "reconstruct"):
        if f"{name}_{method}" in data:
            np.testing.assert_allclose(
                getattr(estimator, method)(data["X"]),
                data[f"{name}_{method}"],
                rtol=1e-12,
                atol=1e-12,
            )
    if f"{name}_pvalues" in data:
        # A rank among the calibration scores: a score within rounding of a
        # calibration score may land on either side of it, one step away.
        step = 1.0 / (len(estimator.calibration_scores_) + 1)
        got = estimator.pvalues(data["X"])
        np.testing.assert_allclose(got, data[f"{name}_pvalues"], atol=step + 1e-12)
        assert np.mean(got != data[f"{name}_pvalues"]) <= 0.1
    n_iter = estimator.n_iter_
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.partial_fit(data["X"])
    assert estimator.n_iter_ == n_iter + 1


def test_detector_pickled_before_calibration_existed_can_be_calibrated():
    with open(DATA / "skae-0.1.0-detector.pkl", "rb") as f:
        detector = pickle.load(f)
    X_saved = np.load(DATA / "skae-0.1.0-outputs.npz")["X"]
    assert detector.calibration_fraction == 0.0
    assert detector.false_alarm_rate is None
    with pytest.raises(NotFittedError, match="calibrate"):
        detector.pvalues(X_saved)
    detector.calibrate(X_saved).set_false_alarm_rate(0.25)
    np.testing.assert_array_equal(
        detector.predict(X_saved) == -1, detector.pvalues(X_saved) <= 0.25
    )


def _calibrated_detector():
    detector = make_estimator(
        AutoencoderOutlierDetector, calibration_fraction=0.25, false_alarm_rate=0.2
    )
    call(detector, "fit", X)
    return detector


@pytest.mark.parametrize("weighted", [False, True], ids=["fit", "weighted_calibrate"])
@pytest.mark.parametrize("way", ROUND_TRIPS)
def test_calibration_scores_round_trip(way, weighted):
    detector = _calibrated_detector()
    if weighted:
        detector.calibrate(X, sample_weight=np.arange(len(X)) % 3)
    loaded = ROUND_TRIPS[way](detector)
    np.testing.assert_array_equal(loaded.pvalues(X), detector.pvalues(X))
    np.testing.assert_array_equal(loaded.predict(X), detector.predict(X))
    _assert_same_attributes(loaded, detector)
    weights = detector._calibration_weights
    assert (weights is None) == (not weighted)
    if weighted:
        np.testing.assert_array_equal(loaded._calibration_weights, weights)
    else:
        assert loaded._calibration_weights is None


def test_calibration_scores_round_trip_through_skops(sio):
    detector = _calibrated_detector()
    detector.calibrate(X, sample_weight=np.arange(len(X)) % 3)
    payload = sio.dumps(detector)
    loaded = sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    np.testing.assert_array_equal(loaded.pvalues(X), detector.pvalues(X))
    np.testing.assert_array_equal(
        loaded._calibration_weights, detector._calibration_weights
    )
    assert loaded.offset_ == detector.offset_


def test_ensemble_round_trips_through_pickle_and_skops():
    sio = pytest.importorskip("skops.io")
    detector = AutoencoderOutlierDetector(
        n_estimators=3, max_iter=3, n_rounds=1, random_state=0
    ).fit(X)
    payload = sio.dumps(detector)
    untrusted = sio.get_untrusted_types(data=payload)
    assert untrusted == ["skae._outlier.AutoencoderOutlierDetector"]
    for loaded in (_pickle(detector), sio.loads(payload, trusted=untrusted)):
        np.testing.assert_array_equal(
            loaded.score_samples(X), detector.score_samples(X)
        )
        np.testing.assert_array_equal(loaded.member_weights_, detector.member_weights_)
        assert [m.random_state for m in loaded.members_] == [
            m.random_state for m in detector.members_
        ]


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_state_with_torch_objects_still_loads(cls):
    # A state holding the live network (e.g. copied from vars) loads as is.
    estimator, data = _shared_fit(cls)
    restored = cls.__new__(cls)
    restored.__setstate__(dict(vars(estimator)))
    assert_outputs_equal(_outputs(restored, data), _outputs(estimator, data))


class _WithExtras(AutoencoderTransformer):
    """A subclass keeping extra fitted state: an array and a tensor."""

    def fit(self, X, y=None):
        super().fit(X)
        self.extra_ = np.arange(3.0)
        self._extra_tensor = torch.linspace(0, 1, 4, dtype=torch.float64)
        self._extra_nested = {"scale": torch.ones(2), "names": ("a", "b")}
        return self


def test_subclass_state_is_kept_generically():
    estimator = clone(make_estimator(_WithExtras))
    call(estimator, "fit", X)
    assert _torch_objects(estimator.__getstate__()) == []
    loaded = _pickle(estimator)
    assert_outputs_equal(_outputs(loaded, X), _outputs(estimator, X))
    np.testing.assert_array_equal(loaded.extra_, estimator.extra_)
    assert torch.equal(loaded._extra_tensor, estimator._extra_tensor)
    assert loaded._extra_tensor.dtype == torch.float64
    assert torch.equal(loaded._extra_nested["scale"], torch.ones(2))
    assert loaded._extra_nested["names"] == ("a", "b")


# ----------------------------------------------------------------------
# skops: secure loading


@pytest.fixture(scope="module")
def sio():
    return pytest.importorskip("skops.io")


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_skops_round_trip_trusts_only_skae(cls, config, sio, tmp_path):
    estimator, data = _shared_fit(cls, config)
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted == [f"{cls.__module__}.{cls.__qualname__}"]
    loaded = sio.load(path, trusted=untrusted)
    assert_outputs_equal(_outputs(loaded, data), _outputs(estimator, data))
    _assert_same_attributes(loaded, estimator)
    assert loaded.get_params() == estimator.get_params()


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_skops_refuses_to_load_untrusted(cls, sio):
    estimator, _ = _shared_fit(cls)
    payload = sio.dumps(estimator)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(payload)


@pytest.mark.parametrize("cls", ESTIMATORS, ids=class_id)
def test_skops_keeps_feature_names_and_output_config(cls, sio):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(X, columns=["height", "width", "depth"])
    estimator = make_estimator(cls)
    call(estimator, "fit", frame)
    if hasattr(estimator, "set_output"):
        estimator.set_output(transform="pandas")
    payload = sio.dumps(estimator)
    loaded = sio.loads(payload, trusted=sio.get_untrusted_types(data=payload))
    np.testing.assert_array_equal(loaded.feature_names_in_, estimator.feature_names_in_)
    if hasattr(estimator, "transform"):
        pd.testing.assert_frame_equal(
            loaded.transform(frame), estimator.transform(frame)
        )
