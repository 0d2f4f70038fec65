"""Docstring sections shared by every skae estimator, and the decorator filling them.

Each public class writes placeholders on lines of their own in its
docstring, ``{n_components}`` for one parameter, ``{training_parameters}``
for a group of them (:data:`SECTIONS`) or ``{fitted_attributes}`` for the
fitted attributes every estimator has (:data:`ATTRIBUTES`), and is decorated
with :func:`fill_doc`. A parameter's entry takes its default from the
class's own ``__init__``, so one text documents a parameter everywhere it
appears, with each class's default; a class may replace a description with
its own (``fill_doc(max_iter=...)``, ``fill_doc(loss_curve_=...)``). An
unknown placeholder is an error when the class is defined.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import inspect
import re
import textwrap

# Parameter name -> (type, description); the default is added per class.
PARAMETERS = {}

PARAMETERS["n_components"] = (
    "int",
    """\
Width of the code (bottleneck) layer: the number of features
``transform`` returns.""",
)

# n_components of the reconstruction autoencoders, which take None.
MAP_CODE_N_COMPONENTS = (
    "int or None",
    """\
Width of the code (bottleneck) layer: the number of features
``transform`` returns. None, with ``image_shape`` and
``hidden_layer_sizes=()``, makes the last convolution's feature map the
code (no dense layers): what denoising images needs rather than a small
code. The fitted width is ``n_components_``.""",
)

PARAMETERS["hidden_layer_sizes"] = (
    "array-like of int",
    """\
Widths of the encoder layers between the input and the code layer; the
decoder mirrors them. ``()`` gives a single-layer encoder and decoder.""",
)

PARAMETERS["activation"] = (
    "{'identity', 'relu', 'leaky_relu', 'elu', 'tanh', 'sigmoid'}",
    """\
Activation of every hidden layer, the code layer included. ``'identity'``
with ``hidden_layer_sizes=()`` is the linear autoencoder, which spans
the same subspace as PCA; ``'sigmoid'`` codes lie in (0, 1) and
``'tanh'`` codes in (-1, 1).""",
)

PARAMETERS["output_activation"] = (
    "{'identity', 'sigmoid'}",
    """\
Activation of the output layer. ``'sigmoid'`` suits data in [0, 1] such
as images and is required by ``loss='bce'``.""",
)

PARAMETERS["loss"] = (
    "{'mse', 'bce'}",
    """\
Reconstruction loss. ``'mse'`` is the mean squared error divided by the
mean per-feature variance of the training data, so ``loss_curve_``
reads as the fraction of variance left unexplained (1.0 is no better
than predicting the mean). ``'bce'`` is the binary cross-entropy; it
needs ``output_activation='sigmoid'`` and data in [0, 1].""",
)

PARAMETERS["solver"] = (
    "{'adam', 'adamw', 'sgd', 'rmsprop'}",
    """\
Optimizer. ``'sgd'`` uses Nesterov momentum 0.9. ``'adamw'`` applies
the L2 part of the weight penalty (``alpha * (1 - l1_ratio)``) as
decoupled weight decay instead of a loss term. Fused (or foreach)
kernels are used wherever torch offers them.""",
)

PARAMETERS["learning_rate_init"] = (
    "float",
    """\
Step size of the optimizer.""",
)

# learning_rate_init and tol of the transformer and the denoiser.
AUTO_LEARNING_RATE_DOC = """\
Step size of the optimizer. ``'auto'`` is 1e-2 for a ``fit`` on at most
2,000 rows (small data: ten batches an epoch or fewer) and 1e-3, as
:class:`~sklearn.neural_network.MLPRegressor`'s, otherwise and for
``partial_fit`` (a stream's size is unknown). At 1e-3 a default fit on
iris, wine, breast_cancer or digits had not converged after ``max_iter``
epochs; see the User Guide."""

AUTO_TOL_DOC = """\
Minimum improvement of the monitored loss that counts as progress.
``'auto'`` is 1e-3 for a ``fit`` on small data (as for
``learning_rate_init``) and 1e-4, as :class:`~sklearn.neural_network.MLPRegressor`'s,
otherwise. The loss is a fraction of the data's variance, so 1e-3 asks
for a gain of 0.1 % of it."""

# The denoiser keeps MLPRegressor's numbers by default: trained on fresh
# noise every epoch, it denoised digits worse at the transformer's 'auto'
# (19.21 dB against 19.47 dB in examples/demo.py).
DENOISER_LEARNING_RATE_DOC = """\
Step size of the optimizer. ``'auto'`` is as for
:class:`AutoencoderTransformer` (1e-2 for a ``fit`` on at most 2,000 rows,
else 1e-3); the default stays 1e-3, which denoised better (see the User
Guide)."""

DENOISER_TOL_DOC = """\
Minimum improvement of the monitored loss that counts as progress.
``'auto'`` is as for :class:`AutoencoderTransformer` (1e-3 for a ``fit`` on
at most 2,000 rows, else 1e-4)."""

PARAMETERS["batch_size"] = (
    "int or 'auto'",
    """\
Rows per training batch. ``'auto'`` is ``min(200, n_samples)``, as in
:class:`~sklearn.neural_network.MLPRegressor`. A value larger than the
number of rows is clipped to it.""",
)

PARAMETERS["max_iter"] = (
    "int",
    """\
Maximum number of epochs (passes over the training data).""",
)

PARAMETERS["tol"] = (
    "float",
    """\
Minimum improvement of the monitored loss that counts as progress.""",
)

PARAMETERS["n_iter_no_change"] = (
    "int",
    """\
Training stops once the monitored loss (the training loss, or the
validation reconstruction loss when ``early_stopping=True``) has not
improved by ``tol`` for more than this many consecutive epochs.""",
)

PARAMETERS["early_stopping"] = (
    "bool",
    """\
Hold out ``validation_fraction`` of the rows, monitor their
reconstruction loss (penalties excluded) and, at the end, restore the
weights of the epoch where it was lowest.""",
)

PARAMETERS["validation_fraction"] = (
    "float",
    """\
Fraction of rows held out when ``early_stopping=True``.""",
)

PARAMETERS["shuffle"] = (
    "bool",
    """\
Shuffle the rows before every epoch.""",
)

PARAMETERS["alpha"] = (
    "float",
    """\
Strength of the elastic-net weight penalty
``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``,
summed over every weight matrix (biases are not penalised) and added to
each batch's loss.""",
)

PARAMETERS["l1_ratio"] = (
    "float",
    """\
Mix of the weight penalty: 0 is pure L2 (ridge), 1 is pure L1 (lasso).""",
)

PARAMETERS["dropout"] = (
    "float",
    """\
Dropout rate of the hidden layers during training (not the code layer,
whose units are the representation itself). ``transform`` and every
other inference method never drop units.""",
)

PARAMETERS["sparsity"] = (
    "{'kl', 'l1', 'topk', 'lifetime'} or None",
    """\
How the codes are made sparse. ``'kl'`` adds
``sparsity_weight * sum_j KL(sparsity_target || mean activation of
code unit j)`` over each batch (Ng's sparse autoencoder); it needs codes
in (0, 1), so ``activation`` must be ``'sigmoid'`` or ``'tanh'``
(``tanh`` codes are mapped to ``(a + 1) / 2``, as H2O does). ``'l1'``
adds ``sparsity_weight * mean |code|`` (an L1 activity regularizer).
``'topk'`` keeps the ``sparsity_k`` largest codes of each row and zeroes
the others, in training and in ``transform`` (k-sparse autoencoder,
Makhzani & Frey 2013). ``'lifetime'`` keeps, during training, each code
unit's ``sparsity_rate`` largest activations over the batch (winner-take-
all lifetime sparsity, Makhzani & Frey 2015); ``transform`` keeps every
code, as the paper does. With any of them, or a ``contractive_weight``,
the code may be wider than the input (overcomplete).""",
)

PARAMETERS["sparsity_target"] = (
    "float",
    """\
Target mean activation of each code unit for ``sparsity='kl'``.""",
)

PARAMETERS["sparsity_weight"] = (
    "float",
    """\
Weight of the sparsity penalty. The reconstruction loss is normalised
(about 1 for an untrained network), while the KL term is summed over
the code units, so weights of 0.01-0.03 already move the mean
activation most of the way to the target; much larger weights make the
network give up reconstructing in favour of sparsity.""",
)

PARAMETERS["sparsity_k"] = (
    "int or None",
    """\
Number of codes each row keeps for ``sparsity='topk'`` (required there,
and below ``n_components``). Overcomplete codes with ``k`` about 5% of
the units learn local features (strokes of digits); larger ``k`` gives
more global templates.""",
)

PARAMETERS["sparsity_k_start"] = (
    "int or None",
    """\
For ``sparsity='topk'``: start training with this many codes per row and
lower it linearly to ``sparsity_k`` over the first half of ``max_iter``
epochs (Makhzani & Frey's remedy for dead units). None keeps
``sparsity_k`` throughout.""",
)

PARAMETERS["sparsity_alpha"] = (
    "float",
    """\
For ``sparsity='topk'``: ``transform`` (and every inference method) keeps
``round(sparsity_alpha * sparsity_k)`` codes per row instead of
``sparsity_k`` (Makhzani & Frey's alpha; 2-4 gave linear classifiers
better features on MNIST). 1 keeps exactly ``sparsity_k``.""",
)

PARAMETERS["sparsity_rate"] = (
    "float",
    """\
For ``sparsity='lifetime'``: the fraction of the batch's rows for which
each code unit stays active during training, in (0, 1).""",
)

PARAMETERS["contractive_weight"] = (
    "float",
    """\
Weight of the contractive penalty: the mean over rows of the squared
Frobenius norm of the Jacobian of the codes with respect to the input
the network sees (centred and divided by the data's global scale, so the
weight does not depend on the units of X), added to each batch's loss
(Rifai et al. 2011). Exact for codes of up to 16 units (one vectorised
backward pass per unit, several times the cost of a plain step); wider
codes use an unbiased one-probe estimate (about twice the cost). 0
disables it.""",
)

PARAMETERS["tied_weights"] = (
    "bool",
    """\
Use the transpose of each encoder layer's weights in the decoder layer
that mirrors it (the decoder learns only its biases), as the k-sparse
and winner-take-all autoencoders do. It halves the weights and keeps
sparse codes' filters from dying.""",
)

PARAMETERS["warm_start"] = (
    "bool",
    """\
When True, ``fit`` continues from the previous solution (same
architecture required) instead of starting afresh.""",
)

PARAMETERS["verbose"] = (
    "int",
    """\
0 is silent; 1 prints one line per epoch (the loss, its parts when
penalties are active, the validation loss and seconds); 2 and more
add a progress bar within each epoch (tqdm if installed, plain lines
otherwise).""",
)

PARAMETERS["random_state"] = (
    "int, RandomState instance or None",
    """\
Seeds weight initialisation, shuffling, the validation split, dropout
and noise through generators of the estimator's own; global random
state is never touched. An int gives bit-identical fits on the CPU.""",
)

PARAMETERS["device"] = (
    "str or torch.device",
    """\
Where to train and infer: ``'auto'`` (CUDA when available, else the
CPU), ``'cpu'``, ``'cuda'`` or ``'cuda:N'``. Stored as given. On the
CPU the network runs in the precision of the data (float32 or float64);
on CUDA it runs in float32. Outputs always have the input's dtype.
Training data stay resident on the device when their dense size is at
most 256 MiB (CPU) or half the free device memory (CUDA); larger data
are streamed from the host array in shuffled chunks.""",
)


PARAMETERS["n_threads"] = (
    "int or 'auto'",
    """\
Intra-op threads torch uses during ``fit``, ``partial_fit`` and every
inference call; the caller's own thread setting is restored when the call
returns. ``'auto'`` runs a step of less than 50 million multiply-adds
(about ``3 * batch_size * number of weights`` in training, ``rows *
number of weights`` in inference) on one thread: on such steps more
threads gain nothing and, on a machine busy with other work, make a fit
10-300x slower. Larger steps use torch's current thread count, at most
one per usable core, shared equally with other skae calls running at
once in the process (threads of a joblib or Dask worker). An int is used
as given.""",
)


PARAMETERS["image_shape"] = (
    "tuple of int",
    """\
``(height, width)`` or ``(channels, height, width)`` of the images the
rows of ``X`` are, for a convolutional network; None for a dense one.
One side may be -1, inferred from the number of features as NumPy's
``reshape`` does: ``(1, -1)`` convolves along rows of any length.
``X`` stays 2-d, one image per row flattened channels first
(``images.reshape(len(images), -1)`` of an ``(n, channels, height,
width)`` array; move the channels first, e.g. with
``np.moveaxis(images, -1, 1)``, if they come last). The encoder starts
with the strided convolutions of ``conv_channels``, then the dense
``hidden_layer_sizes`` and the code; the decoder mirrors it with
transposed convolutions back to exactly the input's shape.""",
)

PARAMETERS["conv_channels"] = (
    "tuple of int",
    """\
Output channels of the encoder's convolutions, one per convolution;
each convolution halves the height and the width (rounding up). Used
with ``image_shape`` only.""",
)

PARAMETERS["kernel_size"] = (
    "int",
    """\
Height and width of the convolutions' kernels; odd. Used with
``image_shape`` only.""",
)

# Placeholders that stand for several parameters, in this order.
SECTIONS = {
    "architecture_parameters": (
        "hidden_layer_sizes",
        "activation",
        "output_activation",
        "loss",
    ),
    "image_parameters": ("image_shape", "conv_channels", "kernel_size"),
    "training_parameters": (
        "solver",
        "learning_rate_init",
        "batch_size",
        "max_iter",
        "tol",
        "n_iter_no_change",
        "early_stopping",
        "validation_fraction",
        "shuffle",
    ),
    "regularization_parameters": (
        "alpha",
        "l1_ratio",
        "dropout",
        "sparsity",
        "sparsity_target",
        "sparsity_weight",
        "sparsity_k",
        "sparsity_k_start",
        "sparsity_alpha",
        "sparsity_rate",
        "contractive_weight",
        "tied_weights",
    ),
    "runtime_parameters": (
        "warm_start",
        "verbose",
        "random_state",
        "device",
        "n_threads",
    ),
}

# Fitted attributes every estimator has, in the order {fitted_attributes}
# lists them: name -> (type, description). A class replaces a description
# with fill_doc(name_=...), as for a parameter.
ATTRIBUTES = {}

ATTRIBUTES["n_features_in_"] = (
    "int",
    """\
Number of features seen during ``fit``.""",
)

ATTRIBUTES["feature_names_in_"] = (
    "ndarray of shape (`n_features_in_`,)",
    """\
Names of features seen during ``fit``, when ``X`` has string column
names.""",
)

ATTRIBUTES["n_components_"] = (
    "int",
    """\
Width of the code layer of the fitted network: ``n_components``
resolved (see ``'auto'`` where an estimator takes it).""",
)

ATTRIBUTES["hidden_layer_sizes_"] = (
    "tuple of int",
    """\
Widths of the encoder's hidden layers of the fitted network:
``hidden_layer_sizes`` resolved.""",
)

ATTRIBUTES["n_iter_"] = (
    "int",
    """\
Number of epochs trained, across ``partial_fit`` and warm-started
``fit`` calls.""",
)

ATTRIBUTES["loss_curve_"] = (
    "list of float",
    """\
Training objective (reconstruction loss plus penalties) of each epoch,
averaged over its batches.""",
)

ATTRIBUTES["loss_components_"] = (
    "dict of str to list of float",
    """\
The parts of ``loss_curve_`` per epoch: ``'reconstruction'`` and, when
active, ``'weight_penalty'``, ``'kl_sparsity'``, ``'l1_sparsity'`` or
``'contractive'``.""",
)

ATTRIBUTES["validation_loss_curve_"] = (
    "list of float or None",
    """\
Validation reconstruction loss of each epoch when
``early_stopping=True``, else None.""",
)

ATTRIBUTES["best_loss_"] = (
    "float",
    """\
Lowest value of the monitored curve: ``validation_loss_curve_`` with
early stopping (the weights of that epoch are restored), else
``loss_curve_``.""",
)

ATTRIBUTES["explained_variance_ratio_"] = (
    "ndarray of shape (`n_components_`,)",
    """\
Fraction of the training data's variance that the reconstruction
explains, split over the code units: entry ``j`` is the share of code
unit ``j`` (column ``j`` of the codes, as ``transform`` or
``deep_features(X, 'code')`` returns them), in the units' order, not
sorted: ``np.sort(explained_variance_ratio_)[::-1]`` orders the shares
as PCA orders its components. Their sum, ``explained_variance_ratio_.sum()``,
is the total, ``1 - SSE / SST``: the squared reconstruction errors and
the squared deviations from the column means, each summed over rows and
features (weighted by ``sample_weight``); without constant features it
is ``r2_score(X, reconstruct(X), multioutput="variance_weighted")``,
which leaves the errors on constant features out. The total is the
counterpart of ``PCA.explained_variance_ratio_.sum()``. Unit ``j``'s
share is ``total * d_j / sum(d)``, where ``d_j`` is how much the
(weighted) mean squared reconstruction error of the rows grows when the
codes are decoded with unit ``j`` alone replaced by its (weighted) mean
over those rows: what the reconstruction loses without that unit, the
others kept. A unit whose replacement does not raise the error gets 0;
the shares are equal (``total / n_components_``) when no unit's does.
Unlike principal components, an autoencoder's units are neither ordered
nor orthogonal: a linear autoencoder's units span PCA's subspace in a
basis of their own, and their shares are mixtures of PCA's ratios (PCA's
ratios when the units lie along the principal axes), with PCA's sum.
Set by ``fit`` on every row it was given (the rows ``early_stopping``
holds out included), or on 2,000 of them drawn at random (among the
rows of positive weight, with the fit's seed) when there are more,
which bounds its cost to that of encoding 2,000 rows twice and
decoding them ``n_components_ + 1`` times (on MNIST the total is
within about 0.003 of the ratio on every row). The outlier detector
measures the total on every row, as it scores them anyway, and the
split on at most 2,000 of them, for its
own network (the first of an ensemble, as ``reconstruct``; each of
``members_`` has its own). After ``partial_fit``, measured on the last
chunk (at most 2,000 of its rows).""",
)

ATTRIBUTES["batch_size_"] = (
    "int",
    """\
Rows per training batch in the latest training call: ``batch_size``
resolved (``'auto'``) and clipped to the number of training rows.""",
)

ATTRIBUTES["n_threads_"] = (
    "int",
    """\
The number of intra-op threads torch used in the latest training call:
``n_threads`` resolved (and shared with skae calls running at once).""",
)

ATTRIBUTES["device_"] = (
    "str",
    """\
The device the network was trained on, ``device`` resolved (e.g.
``'cpu'`` or ``'cuda:0'`` for ``'auto'``).""",
)

ATTRIBUTES["encoder_"] = (
    "torch.nn.Module",
    """\
The trained encoder, in eval mode: maps raw ``X`` (as a tensor) to codes.""",
)

ATTRIBUTES["decoder_"] = (
    "torch.nn.Module",
    """\
The trained decoder, in eval mode: maps codes to reconstructions in the
units of ``X``.""",
)

# Placeholders that stand for a group of fitted attributes.
ATTRIBUTE_SECTIONS = {"fitted_attributes": tuple(ATTRIBUTES)}


# A placeholder: a name in braces alone on its line.
_PLACEHOLDER = re.compile(r"^(\s*)\{(\w+)\}\s*$")


def parameter_entry(name, default, description=None):
    """The numpydoc entry of parameter ``name`` with its ``default``.

    ``description`` replaces the shared text; a ``(type, text)`` pair
    replaces the type too (a class that accepts more values).
    """
    kind, shared = PARAMETERS[name]
    if isinstance(description, tuple):
        kind, description = description
    heading = f"{name} : {kind}, default={default!r}"
    return f"{heading}\n{textwrap.indent(description or shared, '    ')}"


def attribute_entry(name, description=None):
    """The numpydoc entry of fitted attribute ``name``.

    ``description`` replaces the shared text; a ``(type, text)`` pair
    replaces the type too.
    """
    kind, shared = ATTRIBUTES[name]
    if isinstance(description, tuple):
        kind, description = description
    return f"{name} : {kind}\n{textwrap.indent(description or shared, '    ')}"


def fill_doc(cls=None, **descriptions):
    """Class decorator filling the placeholders of the class docstring.

    Parameters
    ----------
    cls : type
        The class; ``fill_doc`` may also be called with ``descriptions``
        only, to make the decorator.
    **descriptions : str or tuple of (str, str)
        Descriptions that replace the shared ones for this class, by
        parameter or fitted attribute name; a ``(type, description)`` pair
        replaces the type as well.

    Raises
    ------
    ValueError
        If the docstring holds a placeholder that names no parameter,
        section or text, or ``descriptions`` names an unknown parameter or
        attribute.
    """
    unknown = set(descriptions) - set(PARAMETERS) - set(ATTRIBUTES)
    if unknown:
        raise ValueError(
            f"fill_doc: no shared parameter or attribute named {sorted(unknown)}."
        )
    if cls is None:
        return lambda cls: fill_doc(cls, **descriptions)
    defaults = {
        name: p.default for name, p in inspect.signature(cls).parameters.items()
    }
    lines = [
        _expand(line, defaults, descriptions, cls.__name__)
        for line in cls.__doc__.split("\n")
    ]
    cls.__doc__ = "\n".join(lines)
    return cls


def _expand(line, defaults, descriptions, owner):
    match = _PLACEHOLDER.match(line)
    if match is None:
        return line
    indent, key = match.groups()
    if key in ATTRIBUTE_SECTIONS:
        text = "\n\n".join(
            attribute_entry(name, descriptions.get(name))
            for name in ATTRIBUTE_SECTIONS[key]
        )
    elif key in PARAMETERS or key in SECTIONS:
        names = SECTIONS.get(key, (key,))
        missing = [name for name in names if name not in defaults]
        if missing:
            raise ValueError(
                f"{owner}'s docstring documents {missing}, which its __init__ "
                "does not take."
            )
        text = "\n\n".join(
            parameter_entry(name, defaults[name], descriptions.get(name))
            for name in names
        )
    else:
        raise ValueError(f"{owner}'s docstring has an unknown placeholder {{{key}}}.")
    return textwrap.indent(text, indent)
