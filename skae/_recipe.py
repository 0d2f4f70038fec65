"""Network recipes, and the torch objects built from them.

A :class:`NetworkRecipe` is a frozen, plain description of a network (layer
sizes, activations, the code layer's kind, output, dtype): the estimators
derive one from their parameters, persistence stores one and rebuilds the
network from it. :func:`build_network`, :func:`build_optimizer` and
:func:`build_objective` turn recipes and plain settings into torch objects;
a :class:`Network` keeps what training made of them. Nothing here knows
about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
from dataclasses import dataclass, field

import torch

from ._modules import Autoencoder
from ._objective import LOSSES, Objective
from ._training import History
from ._variational import VariationalNetwork

SOLVERS = ("adam", "adamw", "sgd", "rmsprop")
# Momentum of the 'sgd' solver (Nesterov), as MLPRegressor's defaults.
SGD_MOMENTUM = 0.9


@dataclass(frozen=True)
class NetworkRecipe:
    """What a network is, independently of its weights.

    Parameters
    ----------
    n_features, n_components : int
        Widths of the input (and output) and of the code layer.
    hidden_layer_sizes : tuple of int
        Encoder layers between input and code; the decoder mirrors them.
    activation, output_activation : str
        Activation of every hidden layer (code layer included), and of the
        output layer.
    dropout : float
        Dropout rate of the hidden layers in training.
    code : str
        Kind of the code layer, a key of ``skae._modules.CODE_LAYERS``, or
        ``"gaussian"``: the variational kind, a
        :class:`~skae._variational.VariationalNetwork` whose code layer is a
        Gaussian posterior.
    code_options : tuple of (str, value) pairs
        Keyword arguments of that kind's builder.
    tied_weights : bool
        Whether each decoder layer uses the transpose of the weights of the
        encoder layer it mirrors.
    dtype : str
        Name of the torch dtype the network computes in, e.g. ``"float64"``.
    likelihood : str or None
        The variational kind's observation model, ``"gaussian"`` or
        ``"bernoulli"``; None for the other kinds.
    noise_variance : str or None
        The Gaussian likelihood's noise variance, ``"isotropic"`` or
        ``"per_feature"``; None otherwise.
    """

    n_features: int
    n_components: int
    hidden_layer_sizes: tuple = ()
    activation: str = "elu"
    output_activation: str = "identity"
    dropout: float = 0.0
    code: str = "dense"
    code_options: tuple = ()
    tied_weights: bool = False
    dtype: str = "float32"
    likelihood: str = None
    noise_variance: str = None

    @property
    def torch_dtype(self):
        """The ``torch.dtype`` named by :attr:`dtype`."""
        return getattr(torch, self.dtype)

    def to_dict(self):
        """The recipe as a dict of builtins."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """The recipe :meth:`to_dict` gave (sequences may come back as lists)."""
        values = dict(values)
        values["hidden_layer_sizes"] = tuple(values["hidden_layer_sizes"])
        values["code_options"] = tuple(
            tuple(pair) for pair in values.get("code_options", ())
        )
        return cls(**values)

    def changes_from(self, other):
        """Names of the fields whose values differ from ``other``'s."""
        return [
            f.name
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]


@dataclass
class Network:
    """A built network and its training state.

    ``optimizer`` is kept between ``partial_fit`` and warm-started calls
    (None until the first training step, or after a divergence); ``history``
    records every epoch since the network was initialised.
    """

    recipe: NetworkRecipe
    module: torch.nn.Module
    optimizer: torch.optim.Optimizer = None
    history: History = field(default_factory=History)


def build_network(recipe, shift=None, scale=None):
    """An untrained :class:`~skae._modules.Autoencoder` made to ``recipe``.

    A :class:`~skae._variational.VariationalNetwork` for ``code="gaussian"``.

    ``shift`` and ``scale`` (length ``n_features``) standardise the input
    inside the network (see :class:`~skae._modules.Autoencoder`); when None
    they are zeros and ones, to be overwritten by loading saved weights.
    """
    if shift is None:
        shift = torch.zeros(recipe.n_features, dtype=torch.float64)
        scale = torch.ones(recipe.n_features, dtype=torch.float64)
    if recipe.code == "gaussian":
        return VariationalNetwork(
            recipe.n_features,
            recipe.n_components,
            hidden_layer_sizes=recipe.hidden_layer_sizes,
            activation=recipe.activation,
            likelihood=recipe.likelihood,
            noise_variance=recipe.noise_variance,
            dropout=recipe.dropout,
            shift=torch.as_tensor(shift),
            scale=torch.as_tensor(scale),
            dtype=recipe.torch_dtype,
        )
    return Autoencoder(
        recipe.n_features,
        recipe.n_components,
        hidden_layer_sizes=recipe.hidden_layer_sizes,
        activation=recipe.activation,
        output_activation=recipe.output_activation,
        dropout=recipe.dropout,
        shift=torch.as_tensor(shift),
        scale=torch.as_tensor(scale),
        dtype=recipe.torch_dtype,
        code=recipe.code,
        code_options=dict(recipe.code_options),
        tied_weights=recipe.tied_weights,
    )


def build_optimizer(solver, module, learning_rate, weight_decay=0.0):
    """A torch optimizer for ``module``; fused or foreach where torch has one.

    ``weight_decay`` is AdamW's decoupled decay and applies to weights only.
    A module with a ``parameter_groups(learning_rate)`` method gives its own
    parameter groups (e.g. a faster noise variance).
    """
    fast = _fast_kernel_flags(module)
    groups = parameter_groups(module, learning_rate)
    if solver == "adam":
        return torch.optim.Adam(groups, lr=learning_rate, **fast)
    if solver == "adamw":
        groups = _decay_groups(module, groups, weight_decay)
        return torch.optim.AdamW(groups, lr=learning_rate, **fast)
    if solver == "sgd":
        return torch.optim.SGD(
            groups,
            lr=learning_rate,
            momentum=SGD_MOMENTUM,
            nesterov=True,
            **fast,
        )
    if solver == "rmsprop":
        return torch.optim.RMSprop(groups, lr=learning_rate, foreach=True)
    raise ValueError(f"Unknown solver {solver!r}; expected one of {SOLVERS}.")


def _fast_kernel_flags(module):
    # Fused kernels exist for floating point parameters on CPU and CUDA; they
    # update every parameter in one call instead of one call per tensor.
    device = next(module.parameters()).device
    return {"fused": True} if device.type in ("cpu", "cuda") else {"foreach": True}


def parameter_groups(module, learning_rate):
    """The module's own parameter groups, or one group of all its parameters."""
    own = getattr(module, "parameter_groups", None)
    if own is None:
        return [{"params": list(module.parameters())}]
    return own(learning_rate)


def _decay_groups(module, groups, weight_decay):
    # Each group splits in two: its weights decay, its other parameters not.
    weights = {id(w) for w in module.weights()}
    split = []
    for group in groups:
        decay = [p for p in group["params"] if id(p) in weights]
        no_decay = [p for p in group["params"] if id(p) not in weights]
        split.append({**group, "params": decay, "weight_decay": weight_decay})
        split.append({**group, "params": no_decay, "weight_decay": 0.0})
    return [group for group in split if group["params"]]


def build_objective(loss, variance=1.0, terms=()):
    """The :class:`~skae._objective.Objective` of ``loss`` plus penalty ``terms``.

    ``variance`` divides the squared error of ``loss='mse'`` and is ignored
    by other losses.
    """
    reconstruction = LOSSES[loss](variance) if loss == "mse" else LOSSES[loss]()
    return Objective(reconstruction, terms)
