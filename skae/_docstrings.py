"""Docstring sections shared by every skae estimator.

Each public class writes ``{shared_parameters}`` and friends in its docstring
and is decorated with :func:`fill_doc`, so one text documents a parameter
everywhere it appears.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import textwrap

_SHARED = {}

_SHARED["n_components"] = """\
n_components : int, default=2
    Width of the code (bottleneck) layer: the number of features
    ``transform`` returns."""

_SHARED["architecture_parameters"] = """\
hidden_layer_sizes : array-like of int, default=(100,)
    Widths of the encoder layers between the input and the code layer; the
    decoder mirrors them. ``()`` gives a single-layer encoder and decoder.

activation : {'identity', 'relu', 'leaky_relu', 'elu', 'tanh', 'sigmoid'}, \
default='elu'
    Activation of every hidden layer, the code layer included. ``'identity'``
    with ``hidden_layer_sizes=()`` is the linear autoencoder, which spans
    the same subspace as PCA; ``'sigmoid'`` codes lie in (0, 1) and
    ``'tanh'`` codes in (-1, 1).

output_activation : {'identity', 'sigmoid'}, default='identity'
    Activation of the output layer. ``'sigmoid'`` suits data in [0, 1] such
    as images and is required by ``loss='bce'``.

loss : {'mse', 'bce'}, default='mse'
    Reconstruction loss. ``'mse'`` is the mean squared error divided by the
    mean per-feature variance of the training data, so ``loss_curve_``
    reads as the fraction of variance left unexplained (1.0 is no better
    than predicting the mean). ``'bce'`` is the binary cross-entropy; it
    needs ``output_activation='sigmoid'`` and data in [0, 1]."""

_SHARED["training_parameters"] = """\
solver : {'adam', 'adamw', 'sgd', 'rmsprop'}, default='adam'
    Optimizer. ``'sgd'`` uses Nesterov momentum 0.9. ``'adamw'`` applies
    the L2 part of the weight penalty (``alpha * (1 - l1_ratio)``) as
    decoupled weight decay instead of a loss term. Fused (or foreach)
    kernels are used wherever torch offers them.

learning_rate_init : float, default=1e-3
    Step size of the optimizer.

batch_size : int or 'auto', default='auto'
    Rows per training batch. ``'auto'`` is ``min(200, n_samples)``, as in
    :class:`~sklearn.neural_network.MLPRegressor`. A value larger than the
    number of rows is clipped to it.

max_iter : int, default=200
    Maximum number of epochs (passes over the training data).

tol : float, default=1e-4
    Minimum improvement of the monitored loss that counts as progress.

n_iter_no_change : int, default=10
    Training stops once the monitored loss (the training loss, or the
    validation reconstruction loss when ``early_stopping=True``) has not
    improved by ``tol`` for more than this many consecutive epochs.

early_stopping : bool, default=False
    Hold out ``validation_fraction`` of the rows, monitor their
    reconstruction loss (penalties excluded) and, at the end, restore the
    weights of the epoch where it was lowest.

validation_fraction : float, default=0.1
    Fraction of rows held out when ``early_stopping=True``.

shuffle : bool, default=True
    Shuffle the rows before every epoch."""

_SHARED["regularization_parameters"] = """\
alpha : float, default=0.0
    Strength of the elastic-net weight penalty
    ``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``,
    summed over every weight matrix (biases are not penalised) and added to
    each batch's loss.

l1_ratio : float, default=0.0
    Mix of the weight penalty: 0 is pure L2 (ridge), 1 is pure L1 (lasso).

dropout : float, default=0.0
    Dropout rate of the hidden layers during training (not the code layer,
    whose units are the representation itself). ``transform`` and every
    other inference method never drop units.

sparsity : {'kl', 'l1'} or None, default=None
    Penalty on the code-layer activations. ``'kl'`` adds
    ``sparsity_weight * sum_j KL(sparsity_target || mean activation of
    code unit j)`` over each batch (Ng's sparse autoencoder); it needs codes
    in (0, 1), so ``activation`` must be ``'sigmoid'`` or ``'tanh'``
    (``tanh`` codes are mapped to ``(a + 1) / 2``, as H2O does). ``'l1'``
    adds ``sparsity_weight * mean |code|`` (an L1 activity regularizer).

sparsity_target : float, default=0.05
    Target mean activation of each code unit for ``sparsity='kl'``.

sparsity_weight : float, default=0.01
    Weight of the sparsity penalty. The reconstruction loss is normalised
    (about 1 for an untrained network), while the KL term is summed over
    the code units, so weights of 0.01-0.03 already move the mean
    activation most of the way to the target; much larger weights make the
    network give up reconstructing in favour of sparsity."""

_SHARED["runtime_parameters"] = """\
warm_start : bool, default=False
    When True, ``fit`` continues from the previous solution (same
    architecture required) instead of starting afresh.

verbose : int, default=0
    0 is silent; 1 prints one line per epoch (the loss, its parts when
    penalties are active, the validation loss and seconds); 2 and more
    add a progress bar within each epoch (tqdm if installed, plain lines
    otherwise).

random_state : int, RandomState instance or None, default=None
    Seeds weight initialisation, shuffling, the validation split, dropout
    and noise through generators of the estimator's own; global random
    state is never touched. An int gives bit-identical fits on the CPU.

device : str or torch.device, default='auto'
    Where to train and infer: ``'auto'`` (CUDA when available, else the
    CPU), ``'cpu'``, ``'cuda'`` or ``'cuda:N'``. Stored as given. On the
    CPU the network runs in the precision of the data (float32 or float64);
    on CUDA it runs in float32. Outputs always have the input's dtype.
    Training data stay resident on the device when their dense size is at
    most 256 MiB (CPU) or half the free device memory (CUDA); larger data
    are streamed from the host array in shuffled chunks."""

_SHARED["fitted_attributes"] = """\
n_features_in_ : int
    Number of features seen during ``fit``.

feature_names_in_ : ndarray of shape (`n_features_in_`,)
    Names of features seen during ``fit``, when ``X`` has string column
    names.

n_iter_ : int
    Number of epochs trained, across ``partial_fit`` and warm-started
    ``fit`` calls.

loss_curve_ : list of float
    Training objective (reconstruction loss plus penalties) of each epoch,
    averaged over its batches.

loss_components_ : dict of str to list of float
    The parts of ``loss_curve_`` per epoch: ``'reconstruction'`` and, when
    active, ``'weight_penalty'``, ``'kl_sparsity'`` or ``'l1_sparsity'``.

validation_loss_curve_ : list of float or None
    Validation reconstruction loss of each epoch when
    ``early_stopping=True``, else None.

best_loss_ : float
    Lowest value of the monitored curve: ``validation_loss_curve_`` with
    early stopping (the weights of that epoch are restored), else
    ``loss_curve_``.

encoder_ : torch.nn.Module
    The trained encoder, in eval mode: maps raw ``X`` (as a tensor) to codes.

decoder_ : torch.nn.Module
    The trained decoder, in eval mode: maps codes to reconstructions in the
    units of ``X``."""


# The outlier detector trains several shorter rounds (see its Notes).
_SHARED["detector_training_parameters"] = _SHARED["training_parameters"].replace(
    "max_iter : int, default=200\n"
    "    Maximum number of epochs (passes over the training data).",
    "max_iter : int, default=50\n"
    "    Maximum number of epochs (passes over the training data) of each\n"
    "    training round.",
)
assert _SHARED["detector_training_parameters"] != _SHARED["training_parameters"]


def fill_doc(cls):
    """Class decorator filling ``{name}`` placeholders with shared sections.

    Each placeholder must stand alone on its line; the section is indented
    to match it.
    """
    lines = []
    for line in cls.__doc__.split("\n"):
        key = line.strip()
        if key.startswith("{") and key.endswith("}") and key[1:-1] in _SHARED:
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(textwrap.indent(_SHARED[key[1:-1]], indent))
        else:
            lines.append(line)
    cls.__doc__ = "\n".join(lines)
    return cls
