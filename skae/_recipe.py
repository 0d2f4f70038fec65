"""Network recipes, and the torch objects built from them.

A :class:`NetworkRecipe` is a frozen, plain description of a network (its
kind, layer sizes, activations, the code layer's kind, output, dtype): the
estimators derive one from their parameters, persistence stores one and
rebuilds the network from it. :func:`build_network` builds a recipe's
network with the builder its kind registered in :data:`NETWORK_KINDS`;
:func:`build_optimizer` and :func:`build_objective` turn plain settings
into torch objects; a :class:`NetworkState` keeps what training made of
them. Nothing here knows about scikit-learn.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import dataclasses
from dataclasses import dataclass, field

import torch

from ._adversarial import build_adversarial
from ._conv import ImageSpec
from ._modules import Autoencoder
from ._networks import WHOLE_NETWORK
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
        ``"gaussian"`` for the variational kind's Gaussian posterior.
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
    kind : str
        The network kind, a key of :data:`NETWORK_KINDS`: ``"mlp"`` (the
        dense :class:`~skae._modules.Autoencoder`), ``"variational"``
        (:class:`~skae._variational.VariationalNetwork`), ``"adversarial"``
        (:class:`~skae._adversarial.AdversarialNetwork`), or a kind
        registered with :func:`register_network_kind`.
    options : tuple of (str, value) pairs
        Keyword arguments of the kind's builder that the fields above do not
        cover (the adversarial kind's discriminator, say); builtins only.
    image_shape : tuple of int or None
        ``(channels, height, width)`` of the images the rows are, flattened
        channels first, for a convolutional network; None for a dense one.
    conv_channels : tuple of int
        Output channels of the encoder's strided convolutions (images only).
    kernel_size : int
        Height and width of the convolutions' kernels (images only).
    map_code : bool
        Whether the code is the last convolution's feature map
        (``n_components`` is then its width) rather than a dense layer.
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
    kind: str = "mlp"
    options: tuple = ()
    image_shape: tuple = None
    conv_channels: tuple = ()
    kernel_size: int = 3
    map_code: bool = False

    @property
    def torch_dtype(self):
        """The ``torch.dtype`` named by :attr:`dtype`."""
        return getattr(torch, self.dtype)

    def image(self):
        """The network's convolutions (an :class:`~skae._conv.ImageSpec`), or
        None for a dense network."""
        if self.image_shape is None:
            return None
        return ImageSpec(self.image_shape, self.conv_channels, self.kernel_size)

    def to_dict(self):
        """The recipe as a dict of builtins."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """The recipe :meth:`to_dict` gave (sequences may come back as lists)."""
        values = dict(values)
        for name in ("hidden_layer_sizes", "conv_channels", "image_shape"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        for name in ("code_options", "options"):
            values[name] = tuple(
                (key, tuple(v) if isinstance(v, list) else v)
                for key, v in values.get(name, ())
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
class NetworkState:
    """A built network and its training state.

    ``optimizers`` maps names to the optimizers kept between ``partial_fit``
    and warm-started calls (empty until the first training step, or after a
    divergence); each is named after the part of the network it trains (see
    :meth:`~skae._networks.NetworkModule.optimizer_parameters`). ``history``
    records every epoch since the network was initialised.
    """

    recipe: NetworkRecipe
    module: torch.nn.Module
    optimizers: dict = field(default_factory=dict)
    history: History = field(default_factory=History)


def _build_mlp(recipe, shift, scale):
    return Autoencoder(
        recipe.n_features,
        recipe.n_components,
        hidden_layer_sizes=recipe.hidden_layer_sizes,
        activation=recipe.activation,
        output_activation=recipe.output_activation,
        dropout=recipe.dropout,
        shift=shift,
        scale=scale,
        dtype=recipe.torch_dtype,
        code=recipe.code,
        code_options=dict(recipe.code_options),
        tied_weights=recipe.tied_weights,
        image=recipe.image(),
        map_code=recipe.map_code,
    )


def _build_variational(recipe, shift, scale):
    return VariationalNetwork(
        recipe.n_features,
        recipe.n_components,
        hidden_layer_sizes=recipe.hidden_layer_sizes,
        activation=recipe.activation,
        likelihood=recipe.likelihood,
        noise_variance=recipe.noise_variance,
        dropout=recipe.dropout,
        shift=shift,
        scale=scale,
        dtype=recipe.torch_dtype,
        image=recipe.image(),
    )


#: Network kinds: name -> builder ``(recipe, shift, scale) -> NetworkModule``.
NETWORK_KINDS = {
    "mlp": _build_mlp,
    "variational": _build_variational,
    "adversarial": build_adversarial,
}


def register_network_kind(kind, builder):
    """Make ``build_network`` build recipes of ``kind`` with ``builder``.

    Parameters
    ----------
    kind : str
        The name recipes give as their ``kind``; a name already registered
        is replaced.
    builder : callable
        ``builder(recipe, shift, scale)`` returning an untrained
        :class:`~skae._networks.NetworkModule` made to ``recipe``, whose
        input is standardised by ``shift`` and ``scale`` (float64 tensors of
        length ``recipe.n_features``). A pickled estimator rebuilds its
        network with it, so register the kind before loading one.
    """
    NETWORK_KINDS[kind] = builder


def build_network(recipe, shift=None, scale=None):
    """An untrained network made to ``recipe``, by its kind's builder.

    ``shift`` and ``scale`` (length ``n_features``) standardise the input
    inside the network (see :class:`~skae._modules.Autoencoder`); when None
    they are zeros and ones, to be overwritten by loading saved weights.
    """
    if recipe.kind not in NETWORK_KINDS:
        raise ValueError(
            f"No network kind {recipe.kind!r} is registered (known kinds: "
            f"{sorted(NETWORK_KINDS)}): register it with "
            "register_network_kind before building or loading such a network."
        )
    if shift is None:
        shift = torch.zeros(recipe.n_features, dtype=torch.float64)
        scale = torch.ones(recipe.n_features, dtype=torch.float64)
    builder = NETWORK_KINDS[recipe.kind]
    return builder(recipe, torch.as_tensor(shift), torch.as_tensor(scale))


def build_optimizer(
    solver, module, learning_rate, weight_decay=0.0, part=WHOLE_NETWORK
):
    """A torch optimizer for ``part`` of ``module``; fused or foreach where
    torch has one.

    ``weight_decay`` is AdamW's decoupled decay and applies to weights only.
    The parameter groups are the module's own for ``part`` (see
    :meth:`~skae._networks.NetworkModule.optimizer_parameters`: all its
    parameters, or e.g. a faster noise variance).
    """
    fast = _fast_kernel_flags(module)
    groups = module.optimizer_parameters(part, learning_rate)
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


def build_objective(loss, variance=1.0, terms=(), hidden_weight=1.0):
    """The :class:`~skae._objective.Objective` of ``loss`` plus penalty ``terms``.

    ``variance`` divides the squared error of ``loss='mse'``, and
    ``hidden_weight`` weighs the cells a corruption hid in it; other losses
    ignore both.
    """
    if loss == "mse":
        reconstruction = LOSSES[loss](variance, hidden_weight)
    else:
        reconstruction = LOSSES[loss]()
    return Objective(reconstruction, terms)
