"""A plain pickled state for skae's estimators: NumPy arrays and builtins only.

A fitted estimator holds torch objects: its network (``_module``, whose
halves are ``encoder_`` and ``decoder_``), the optimizer kept for
``partial_fit`` and ``warm_start``, and the best weights seen in training
(in ``_history``). :func:`plain_state` replaces each of them in the pickled
state by NumPy arrays plus what is needed to rebuild it; :func:`restore_state`
rebuilds them on load. Nothing torch is pickled, so

- a model trained on CUDA loads on a CPU-only machine: the network goes to
  the device that the ``device`` parameter resolves to on the loading
  machine, or to the CPU (with a warning) when that device is missing;
- ``skops.io`` can save a fitted estimator and load it trusting only skae's
  own estimator class, NumPy arrays and builtins.

The optimizer state (e.g. Adam's moments) is kept too, so a loaded model
continues ``partial_fit`` and ``warm_start`` exactly as the saved one would.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
import warnings

import numpy as np
import torch

from ._data import resolve_device
from ._training import History, make_optimizer

# Where the converted torch state lives in the pickled ``__dict__``.
STATE_KEY = "_skae_torch_state"
# Bumped when the layout below changes incompatibly.
FORMAT = 1
# Marker keys of the plain dicts that stand in for tensors and devices.
_TENSOR, _DEVICE = "__skae_tensor__", "__skae_device__"
_SOLVER_NAMES = {
    torch.optim.Adam: "adam",
    torch.optim.AdamW: "adamw",
    torch.optim.SGD: "sgd",
    torch.optim.RMSprop: "rmsprop",
}


def to_plain(obj):
    """``obj`` with every tensor and ``torch.device`` in it made plain.

    Tensors become ``{"__skae_tensor__": ndarray, "dtype": name}`` (the name
    keeps dtypes NumPy lacks, e.g. bfloat16, stored as float32); devices
    become ``{"__skae_device__": name}``. Dicts, lists and tuples are walked.
    """
    if isinstance(obj, torch.Tensor):
        tensor = obj.detach().cpu()
        dtype = str(tensor.dtype).removeprefix("torch.")
        if tensor.dtype == torch.bfloat16:
            tensor = tensor.float()
        # A copy, so the state never aliases the live weights.
        return {_TENSOR: tensor.numpy(force=True).copy(), "dtype": dtype}
    if isinstance(obj, torch.device):
        return {_DEVICE: str(obj)}
    if isinstance(obj, dict) or type(obj) in (list, tuple):
        return _walk(obj, to_plain)
    return obj


def from_plain(obj, device):
    """The inverse of :func:`to_plain`, with tensors made on ``device``."""
    if isinstance(obj, dict) and _TENSOR in obj:
        dtype = getattr(torch, obj["dtype"])
        return torch.tensor(obj[_TENSOR], dtype=dtype, device=device)
    if isinstance(obj, dict) and _DEVICE in obj:
        return torch.device(obj[_DEVICE])
    if isinstance(obj, dict) or type(obj) in (list, tuple):
        return _walk(obj, lambda value: from_plain(value, device))
    return obj


def _walk(obj, convert):
    if isinstance(obj, dict):
        return {key: convert(value) for key, value in obj.items()}
    return type(obj)(convert(value) for value in obj)


def plain_state(state):
    """The pickled state of an estimator, given its ``__dict__``.

    Parameters
    ----------
    state : dict
        The estimator's attributes (not modified).

    Returns
    -------
    plain : dict
        The same attributes with the network, optimizer and training history
        replaced by one plain entry, :data:`STATE_KEY`, and any other tensor
        made plain.
    """
    state = dict(state)
    module = state.pop("_module", None)
    optimizer = state.pop("_optimizer", None)
    history = state.pop("_history", None)
    published = state.pop("encoder_", None) is not None
    state.pop("decoder_", None)
    state = to_plain(state)
    if module is None:
        return state
    saved = {
        "format": FORMAT,
        "weights": to_plain(module.state_dict()),
        "published": published,
    }
    if history is not None:
        fields = {f.name: getattr(history, f.name) for f in dataclasses.fields(history)}
        saved["history"] = to_plain(fields)
    if type(optimizer) in _SOLVER_NAMES:
        saved["optimizer"] = {
            "solver": _SOLVER_NAMES[type(optimizer)],
            "state": to_plain(optimizer.state_dict()),
        }
    state[STATE_KEY] = saved
    return state


def restore_state(estimator, state, set_attributes):
    """Set ``estimator``'s attributes from a state made by :func:`plain_state`.

    Parameters
    ----------
    estimator : _BaseAutoencoder
        The instance being unpickled.
    state : dict
        The pickled state (not modified).
    set_attributes : callable
        ``BaseEstimator.__setstate__`` of ``estimator``.
    """
    state = dict(state)
    saved = state.pop(STATE_KEY, None)
    if saved is None:
        # Unfitted, or pickled before states were plain: nothing to rebuild.
        set_attributes(from_plain(state, "cpu"))
        return
    if saved["format"] > FORMAT:
        raise ValueError(
            f"This {type(estimator).__name__} was saved by a newer skae (state "
            f"format {saved['format']}, this version reads up to {FORMAT}): "
            "upgrade skae to load it."
        )
    device = _loading_device(from_plain(state.get("device", "auto"), "cpu"))
    set_attributes(from_plain(state, device))
    module = _rebuild_module(estimator, from_plain(saved["weights"], "cpu"))
    estimator._module = module.to(device).eval()
    if saved["published"]:
        estimator.encoder_ = module.encoder
        estimator.decoder_ = module.decoder
    if "history" in saved:
        estimator._history = History(**from_plain(saved["history"], device))
    estimator._optimizer = _rebuild_optimizer(module, saved.get("optimizer"))


def _loading_device(device):
    """Where a loaded network goes: ``device`` if this machine has it, else the CPU."""
    try:
        return resolve_device(device)
    except ValueError as exc:
        warnings.warn(f"{exc} The model was loaded on the CPU instead.", UserWarning)
        return torch.device("cpu")


def _rebuild_module(estimator, weights):
    # The network is rebuilt from the architecture it was fitted with (the
    # parameters may have been changed since by set_params), by the same
    # _build_module a fit uses, so subclasses need no code of their own.
    architecture = estimator._architecture
    params = estimator.get_params(deep=False)
    builder = object.__new__(type(estimator))
    builder.__dict__.update(estimator.__dict__)
    builder.__dict__.update({k: v for k, v in architecture.items() if k in params})
    n_features = architecture["n_features"]
    dtype = next(iter(weights.values())).dtype
    module = builder._build_module(n_features, np.zeros(n_features), dtype)
    try:
        module.load_state_dict(weights)
    except RuntimeError as exc:
        raise ValueError(
            f"The saved weights do not fit the network this version of skae "
            f"builds for {architecture}: {exc}"
        ) from exc
    return module


def _rebuild_optimizer(module, saved):
    if saved is None:
        return None
    optimizer = make_optimizer(saved["solver"], module, learning_rate=1.0)
    # The saved state (on the CPU) carries the saved hyper-parameters too;
    # load_state_dict moves each entry where the optimizer needs it.
    try:
        optimizer.load_state_dict(from_plain(saved["state"], "cpu"))
    except (KeyError, ValueError, RuntimeError) as exc:
        warnings.warn(
            f"The saved optimizer state could not be restored ({exc}); "
            "partial_fit and warm_start will start a fresh optimizer.",
            UserWarning,
        )
        return None
    return optimizer
