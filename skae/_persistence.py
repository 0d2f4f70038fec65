"""A plain pickled state for skae's estimators: NumPy arrays and builtins only.

A fitted estimator holds one torch-side object, a
:class:`~skae._recipe.NetworkState`: the module, the named optimizers kept
for ``partial_fit`` and ``warm_start``, and the training history (with the
best weights seen). :func:`dump_state` replaces it in the pickled state by its
recipe, NumPy arrays and builtins; :func:`load_state` rebuilds it from the
recipe. Nothing torch is pickled, so

- a model trained on CUDA loads on a CPU-only machine: the network goes to
  the device that the ``device`` parameter resolves to on the loading
  machine, or to the CPU (with a warning) when that device is missing;
- ``skops.io`` can save a fitted estimator and load it trusting only skae's
  own estimator class, NumPy arrays and builtins.

Every optimizer's state (e.g. Adam's moments) is kept too, with its solver
and the part of the network it trains (its name), so a loaded model
continues ``partial_fit`` and ``warm_start`` exactly as the saved one would.
States written by skae 0.1 (format 1, which described the network by the
estimator's ``_architecture``) and 0.2 (format 2: one optimizer, and no
network kind in the recipe) still load.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
import inspect
import warnings

import torch

from ._data import resolve_device
from ._networks import WHOLE_NETWORK
from ._recipe import NetworkRecipe, NetworkState, build_network, build_optimizer
from ._training import History

# Where the saved network lives in the pickled state.
NETWORK_KEY = "_skae_network"
# Bumped when the layout below changes incompatibly.
FORMAT = 3
# Format 1 (skae 0.1): the network under this key, its recipe in the
# estimator's "_architecture" attribute.
_LEGACY_KEY = "_skae_torch_state"
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


def dump_state(state, network=None):
    """The plain pickled state of an estimator.

    Parameters
    ----------
    state : dict
        The estimator's attributes, its network left out (not modified).
    network : NetworkState or None
        The estimator's network, saved under :data:`NETWORK_KEY`.

    Returns
    -------
    plain : dict
    """
    plain = to_plain(state)
    if network is not None:
        plain[NETWORK_KEY] = _dump_network(network)
    return plain


def _dump_network(network):
    history = network.history
    saved = {
        "format": FORMAT,
        "recipe": network.recipe.to_dict(),
        "weights": to_plain(network.module.state_dict()),
        "history": to_plain(
            {f.name: getattr(history, f.name) for f in dataclasses.fields(history)}
        ),
    }
    saved["optimizers"] = {
        name: {
            "solver": _SOLVER_NAMES[type(optimizer)],
            "state": to_plain(optimizer.state_dict()),
        }
        for name, optimizer in network.optimizers.items()
        if type(optimizer) in _SOLVER_NAMES
    }
    return saved


def load_state(state, owner):
    """The attributes and the network stored by :func:`dump_state`.

    Parameters
    ----------
    state : dict
        The pickled state (not modified).
    owner : str
        Name of the estimator class, for error messages.

    Returns
    -------
    attributes : dict
        The estimator's attributes, tensors rebuilt on the loading device.
    network : NetworkState or None
    """
    state = dict(state)
    saved = state.pop(NETWORK_KEY, None)
    if saved is None and _LEGACY_KEY in state:
        saved = _upgrade_legacy(state)
    if saved is not None and saved["format"] < 3:
        saved = _upgrade_format_2(saved)
    if saved is None:
        # Unfitted: nothing to rebuild.
        return from_plain(state, "cpu"), None
    if saved["format"] > FORMAT:
        raise ValueError(
            f"This {owner} was saved by a newer skae (state format "
            f"{saved['format']}, this version reads up to {FORMAT}): upgrade "
            "skae to load it."
        )
    device = _loading_device(from_plain(state.get("device", "auto"), "cpu"))
    return from_plain(state, device), _load_network(saved, device)


def _upgrade_legacy(state):
    """A format-1 saved network in today's layout (``state`` loses the recipe)."""
    saved = dict(state.pop(_LEGACY_KEY))
    architecture = state.pop("_architecture")
    dtype = next(iter(saved["weights"].values()))["dtype"]
    saved["recipe"] = NetworkRecipe(
        n_features=architecture["n_features"],
        n_components=architecture["n_components"],
        hidden_layer_sizes=tuple(architecture["hidden_layer_sizes"]),
        activation=architecture["activation"],
        output_activation=architecture["output_activation"],
        dropout=architecture["dropout"],
        dtype=dtype,
    ).to_dict()
    # encoder_ and decoder_ were published unless the fit failed part-way.
    state["_skae_published"] = saved.pop("published")
    return saved


def _upgrade_format_2(saved):
    """A format-1 or 2 saved network in format 3's layout.

    Their recipes had no kind (the code said it: a Gaussian code is the
    variational network) and their networks one optimizer, which trained the
    whole network.
    """
    saved = dict(saved)
    recipe = dict(saved["recipe"])
    recipe["kind"] = "variational" if recipe.get("code") == "gaussian" else "mlp"
    saved["recipe"] = recipe
    single = saved.pop("optimizer", None)
    saved["optimizers"] = {} if single is None else {WHOLE_NETWORK: single}
    return saved


def _loading_device(device):
    """Where a loaded network goes: ``device`` if this machine has it, else the CPU."""
    try:
        return resolve_device(device)
    except ValueError as exc:
        warnings.warn(
            f"{exc} The model was loaded on the CPU instead.", UserWarning, stacklevel=2
        )
        return torch.device("cpu")


def _load_network(saved, device):
    recipe = NetworkRecipe.from_dict(saved["recipe"])
    module = build_network(recipe)
    try:
        module.load_state_dict(from_plain(saved["weights"], "cpu"))
    except RuntimeError as exc:
        raise ValueError(
            f"The saved weights do not fit the network this version of skae "
            f"builds for {recipe}: {exc}"
        ) from exc
    module = module.to(device).eval()
    history = History(**from_plain(saved.get("history", {}), device))
    return NetworkState(recipe, module, _rebuild_optimizers(module, saved), history)


def _rebuild_optimizers(module, saved):
    """The saved optimizers, or none if one of them cannot be restored."""
    optimizers = {}
    for name, optimizer in saved["optimizers"].items():
        optimizers[name] = _rebuild_optimizer(module, name, optimizer)
        if optimizers[name] is None:
            # Fresh optimizers for all parts, as after a divergence.
            return {}
    return optimizers


def _rebuild_optimizer(module, part, saved):
    optimizer = build_optimizer(saved["solver"], module, learning_rate=1.0, part=part)
    # The saved state (on the CPU) carries the saved hyper-parameters too;
    # load_state_dict moves each entry where the optimizer needs it.
    try:
        optimizer.load_state_dict(from_plain(saved["state"], "cpu"))
    except (KeyError, ValueError, RuntimeError) as exc:
        warnings.warn(
            f"The saved optimizer state could not be restored ({exc}); "
            "partial_fit and warm_start will start a fresh optimizer.",
            UserWarning,
            stacklevel=2,
        )
        return None
    return optimizer


class PlainStateMixin:
    """Pickling through :func:`dump_state` and :func:`load_state`.

    Mixed into skae's estimators before ``BaseEstimator``: the pickled state
    holds NumPy arrays and builtins, no torch objects, so that pickles load
    anywhere and skops can trust them. The fitted ``encoder_`` and
    ``decoder_`` are the network's halves again after loading.
    """

    def __getstate__(self):
        # A copy: BaseEstimator's state can be the live __dict__ itself.
        state = dict(super().__getstate__())
        network = state.pop("_network", None)
        published = state.pop("encoder_", None) is not None
        state.pop("decoder_", None)
        if network is not None:
            state["_skae_published"] = published
        return dump_state(state, network)

    def __setstate__(self, state):
        attributes, network = load_state(state, type(self).__name__)
        published = attributes.pop("_skae_published", False)
        # Parameters added since the state was written take their defaults.
        for name, parameter in inspect.signature(type(self)).parameters.items():
            attributes.setdefault(name, parameter.default)
        super().__setstate__(attributes)
        if network is not None:
            self._network = network
            if published:
                self.encoder_ = network.module.encoder
                self.decoder_ = network.module.decoder
