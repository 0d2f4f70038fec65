"""AdversarialAutoencoder: codes shaped like a prior the user chooses."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ._adversarial import (
    DISCRIMINATOR,
    ENCODER,
    AdversarialObjective,
    ReplayedRows,
    adversarial_step,
    decode_prior_draws,
    discriminator_accuracy,
    label_agreement,
    make_prior,
    max_mixture_components,
)
from ._base import _BaseAutoencoder
from ._data import to_tensor
from ._docstrings import fill_doc
from ._inference import _TransformerSideMixin
from ._params import PARAMETER_CONSTRAINTS, check_loss
from ._recipe import NetworkRecipe, build_objective, build_optimizer
from ._seeds import Stream, derived_seed
from ._sklearn_compat import Interval, StrOptions

# Parameters of the reconstruction family that a prior on the codes replaces
# (sparse, contractive or tied codes cannot take a prior's shape).
_NOT_ADVERSARIAL = {
    "sparsity",
    "sparsity_target",
    "sparsity_weight",
    "sparsity_k",
    "sparsity_k_start",
    "sparsity_alpha",
    "sparsity_rate",
    "contractive_weight",
    "tied_weights",
}
# After a fit the codes of at most this many training rows are checked
# against as many prior draws.
_CHECKED_ROWS = 2_000
# labelled_per_batch replays rows drawn from at most this many labelled ones.
_REPLAYED_ROWS = 10_000
# The discriminator "wins" when it tells codes from prior draws apart this
# often; the codes "collapse" along a direction whose spread is below this
# fraction of the prior's.
_WINNING_ACCURACY = 0.9
_COLLAPSED_SPREAD = 0.1
# After a label-guided fit, a warning says so when fewer of the labelled
# rows than this share have codes nearest their own class's component.
_AGREEING_LABELS = 0.5
# learning_rate_init='auto': the three phases' game settles far better at
# a lower rate (Fashion-MNIST, 8-d normal codes: squared MMD to the prior
# 0.005 at 3e-4 against 0.035 at 1e-3; digits: 0.003 against 0.008, seeds
# 0-2), but the codes of a mixture, which must spread to its separated
# components, need 1e-3 and a generator phase 3 times as fast (digits, 8-d
# codes, 10 % labelled: the unlabelled rows' nearest component is right for
# 0.77 of them, against 0.14 with a generator as fast as the rest, and
# against 0.12 at 3e-4).
_LEARNING_RATE = 3e-4
_MIXTURE_LEARNING_RATE = 1e-3
_MIXTURE_WEIGHT = 3.0


@fill_doc(
    n_components="""\
Dimension of the code: the number of features ``transform`` returns,
and of the prior's draws.""",
    activation="""\
Activation of every hidden layer. The code layer itself is linear, so
that the codes can take the shape of any prior.""",
    loss_curve_="""\
Training objective of the reconstruction phase of each epoch
(reconstruction loss plus weight penalty), averaged over its batches;
the adversarial losses are in ``loss_components_``.""",
    loss_components_="""\
The parts per epoch: ``'reconstruction'`` (and ``'weight_penalty'``
when ``alpha > 0``), which make ``loss_curve_``, then
``'discriminator'``, the discriminator's binary cross-entropy on prior
draws against codes (``2 log 2 = 1.39`` when it cannot tell them apart),
and ``'generator'``, the encoder's binary cross-entropy against the
discriminator (``log 2 = 0.69`` then).""",
    learning_rate_init=(
        "float or 'auto'",
        """\
Step size of the reconstruction phase's optimizer (and, scaled, of the
other two). ``'auto'`` is 3e-4, at which the adversarial game settles
far better than at skae's usual 1e-3, and 1e-3 with ``prior='mixture'``,
whose codes must spread to separated components (measured on digits and
Fashion-MNIST: see the benchmarks page).""",
    ),
    n_iter_no_change="""\
Training stops once the reconstruction loss (or the validation one when
``early_stopping=True``) has not improved by ``tol`` for more than this
many consecutive epochs. It stalls while the adversarial phases still
shape the codes, so the default is ``max_iter``'s: ``max_iter`` is the
training budget, and reaching it raises no ``ConvergenceWarning`` (the
codes are checked after the fit instead; see
``discriminator_accuracy_``).""",
)
class AdversarialAutoencoder(
    ClassNamePrefixFeaturesOutMixin,
    _TransformerSideMixin,
    _BaseAutoencoder,
):
    """Adversarial autoencoder: codes shaped like a prior you choose.

    An autoencoder whose codes, taken together, are trained to look like
    draws from a prior (Makhzani et al., 2015): a discriminator learns to
    tell the codes of a batch from draws of the prior, and the encoder
    learns to fool it, besides reconstructing its input. Where a
    variational autoencoder pushes each row's posterior towards the prior
    and leaves holes in the codes as a whole, here the codes fill the
    prior, so :meth:`sample` (prior draws, decoded) gives rows like the
    data from every part of it.

    The prior is a standard Gaussian, a uniform box, a mixture of
    Gaussians placed apart (``prior='mixture'``), or any function. With a
    mixture, labels given to :meth:`fit` (``-1`` for unlabelled rows, as
    in :mod:`sklearn.semi_supervised`) draw each labelled row's code to its
    class's component (``classes_[i]`` to ``component_means_[i]``), and the
    unlabelled ones to the mixture as a whole: a semi-supervised code
    space. Without labels, or with another prior, ``y`` is ignored.

    Each batch is trained in three phases: the reconstruction (encoder and
    decoder, ``learning_rate_init``), the discriminator (real prior draws
    against the batch's codes, ``discriminator_learning_rate``) and the
    generator (the encoder against the discriminator, ``adversarial_weight
    * learning_rate_init``). :meth:`score_samples` and :meth:`score` are
    minus the reconstruction error, as for :class:`AutoencoderTransformer`,
    so that :class:`~sklearn.model_selection.GridSearchCV` selects with no
    labels.

    Parameters
    ----------
    {n_components}

    prior : {'normal', 'uniform', 'mixture'} or callable, default='normal'
        The distribution the codes are trained to fill. ``'normal'``: the
        standard Gaussian ``N(0, I)``; ``'uniform'``: the box ``[-1, 1]``
        in every dimension; ``'mixture'``: ``n_prior_components`` Gaussians
        of standard deviation 0.5 placed apart (on a circle in 2-d, along
        the axes and diagonals in more; ``component_means_``). A callable
        ``prior(n_samples, random_state)`` returns an array of shape
        ``(n_samples, n_components)`` of draws, from ``random_state`` (a
        ``numpy.random.RandomState``); pass a function defined at module
        level, not a lambda, so that the estimator clones and pickles.

    n_prior_components : int, default=10
        Number of components of ``prior='mixture'``, and the most classes
        the labels given to :meth:`fit` may have.

    adversarial_weight : float or 'auto', default='auto'
        How hard the codes are pushed towards the prior: the generator
        phase's step size is ``adversarial_weight * learning_rate_init``
        (a weight on its loss would change no step of an adaptive solver
        such as Adam). ``'auto'`` is 3 for ``prior='mixture'``, whose
        separated components the codes must spread to, and 1 otherwise
        (chosen on digits: see the benchmarks page). ``0`` trains a plain
        autoencoder beside a discriminator.

    discriminator_layer_sizes : array-like of int, default=(64, 64)
        Widths of the discriminator's hidden layers (leaky ReLU).

    discriminator_learning_rate : float or None, default=None
        Step size of the discriminator's optimizer; ``learning_rate_init``
        (resolved) when None.

    labelled_per_batch : int, default=0
        With labels and ``prior='mixture'``: after each batch's
        discriminator and generator phases, this many labelled rows, drawn
        afresh from (at most 10,000 of) the labelled training rows, go
        through both phases again on their own. With very few rows labelled
        a batch holds too few to steer the codes, and replaying 32 helps
        (Fashion-MNIST, 1.8 % of the rows labelled, 8-d codes: the
        unlabelled rows' nearest component right for 0.79 of them, against
        0.30); with one row in twelve labelled it helped no more (digits:
        0.73 against 0.75), and more than a sixth of a batch unsettles the
        game. ``0`` replays none. Each replay costs two more optimizer
        steps a batch.

    {architecture_parameters}

    {image_parameters}

    {training_parameters}

    {alpha}

    {l1_ratio}

    {dropout}

    {runtime_parameters}

    Attributes
    ----------
    discriminator_ : torch.nn.Module
        The trained discriminator, in eval mode: maps codes (with a one-hot
        label slot for the mixture) to logits, high for what looks like a
        prior draw. Used in training only.

    discriminator_accuracy_ : float
        After the latest training call, the share of the codes of (at most
        2,000) training rows and as many prior draws that the discriminator
        tells apart: 0.5 when the codes fill the prior, 1.0 when they do
        not (a warning says so above 0.9).

    component_means_ : ndarray of shape (n_prior_components, n_components)
        The mixture's means; only with ``prior='mixture'``.

    classes_ : ndarray of shape (n_classes,)
        The labels seen in training, in component order: class
        ``classes_[i]`` is drawn to component ``i``. Only when labels were
        given to a mixture prior.

    label_agreement_ : float
        After the latest training call, the share of (at most 2,000) of its
        labelled rows whose codes lie nearest their class's component; a
        warning says so below 0.5, where the labels did not shape the
        codes. Only when labels were given to a mixture prior.

    {fitted_attributes}

    See Also
    --------
    VariationalAutoencoder : Each posterior pushed towards a Gaussian prior,
        with a log-likelihood.
    AutoencoderTransformer : Codes of whatever shape training gives them.
    sklearn.semi_supervised.LabelSpreading : Semi-supervised labels by graph.

    Notes
    -----
    The paper's networks are far larger (1000-unit layers) and its
    semi-supervised results took thousands of epochs; the defaults here
    were chosen on digits (see the benchmarks page for what they reach on
    MNIST). A discriminator that wins outright (its accuracy near 1) gives
    the encoder no useful gradient: lower ``discriminator_learning_rate``
    or train longer. ``sample_weight`` is not taken: prior draws are made
    per row, so a row of weight 2 could not be trained as its two copies.

    References
    ----------
    A. Makhzani, J. Shlens, N. Jaitly, I. Goodfellow and B. Frey,
    "Adversarial autoencoders", ICLR workshop 2016 (arXiv:1511.05644).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import AdversarialAutoencoder
    >>> X, y = load_digits(return_X_y=True)
    >>> aae = AdversarialAutoencoder(2, prior="uniform", max_iter=20, random_state=0)
    >>> codes = aae.fit_transform(X / 16.0)
    >>> bool(np.abs(codes).max() < 2.0)
    True
    >>> aae.sample(3, random_state=0).shape
    (3, 64)
    """

    # The reconstruction loss stalls while the adversarial phases still shape
    # the codes: max_iter is the training budget (and n_iter_no_change
    # defaults to it), and the codes are checked after the fit instead.
    _max_iter_is_a_budget = True

    _parameter_constraints: dict = {
        **{
            name: constraint
            for name, constraint in PARAMETER_CONSTRAINTS.items()
            if name not in _NOT_ADVERSARIAL
        },
        "prior": [StrOptions({"normal", "uniform", "mixture"}), callable],
        "n_prior_components": [Interval(Integral, 1, None, closed="left")],
        "adversarial_weight": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="left"),
        ],
        "learning_rate_init": [
            StrOptions({"auto"}),
            *PARAMETER_CONSTRAINTS["learning_rate_init"],
        ],
        "discriminator_layer_sizes": ["array-like"],
        "discriminator_learning_rate": [
            Interval(Real, 0, None, closed="neither"),
            None,
        ],
        "labelled_per_batch": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=2,
        *,
        prior="normal",
        n_prior_components=10,
        adversarial_weight="auto",
        discriminator_layer_sizes=(64, 64),
        discriminator_learning_rate=None,
        labelled_per_batch=0,
        hidden_layer_sizes=(100,),
        image_shape=None,
        conv_channels=(32, 64),
        kernel_size=3,
        activation="elu",
        output_activation="identity",
        loss="mse",
        solver="adam",
        learning_rate_init="auto",
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=200,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        alpha=0.0,
        l1_ratio=0.0,
        dropout=0.0,
        warm_start=False,
        verbose=0,
        random_state=None,
        device="auto",
        n_threads="auto",
    ):
        self.n_components = n_components
        self.prior = prior
        self.n_prior_components = n_prior_components
        self.adversarial_weight = adversarial_weight
        self.discriminator_layer_sizes = discriminator_layer_sizes
        self.discriminator_learning_rate = discriminator_learning_rate
        self.labelled_per_batch = labelled_per_batch
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.kernel_size = kernel_size
        self.activation = activation
        self.output_activation = output_activation
        self.loss = loss
        self.solver = solver
        self.learning_rate_init = learning_rate_init
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.dropout = dropout
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads

    # No sample_weight: see Notes.
    def fit(self, X, y=None):
        """Train the autoencoder, its codes against the prior.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Memmaps and sparse matrices are read a chunk of
            rows at a time, never copied whole.

        y : array-like of shape (n_samples,), default=None
            With ``prior='mixture'``: class labels that draw labelled rows'
            codes to their class's component, ``-1`` for unlabelled rows (at
            most ``n_prior_components`` classes). Ignored otherwise.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if not self.warm_start:
            # A fresh fit maps a fresh set of classes to the components.
            self.__dict__.pop("classes_", None)
        return super().fit(X, y)

    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X``, continuing from the current state.

        The first call initialises the network (its input scaling comes from
        this first chunk of data); later calls continue training it. Labels
        not seen by earlier calls take the next free components.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.

        y : array-like of shape (n_samples,), default=None
            Labels of the chunk's rows, as in :meth:`fit`.

        Returns
        -------
        self : object
            The updated estimator.
        """
        return super().partial_fit(X, y)

    def sample(self, n_samples=1, random_state=None):
        """Draw new rows: prior draws, decoded.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds the prior draws; an int gives the same rows at every
            call. None draws fresh ones (global random state is never used).

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            The decoder's output at the draws, in the network's dtype (that
            of the training data on the CPU).
        """
        prior = self._prior()
        return self._draw_rows(
            n_samples,
            random_state,
            lambda module, n, generator, batch_size: decode_prior_draws(
                module, prior, n, generator, batch_size
            ),
        )

    @property
    def discriminator_(self):
        """The trained discriminator, in eval mode (see Attributes)."""
        check_is_fitted(self)
        return self._network.module.discriminator.eval()

    # ------------------------------------------------------------------
    # Hooks of the base class

    def _learning_rate(self):
        if self.learning_rate_init != "auto":
            return self.learning_rate_init
        return _MIXTURE_LEARNING_RATE if self.prior == "mixture" else _LEARNING_RATE

    def _adversarial_weight(self):
        if self.adversarial_weight != "auto":
            return self.adversarial_weight
        return _MIXTURE_WEIGHT if self.prior == "mixture" else 1.0

    def _prior(self):
        return make_prior(self.prior, self.n_components, self.n_prior_components)

    def _check_settings(self, X, summary):
        super()._check_settings(X, summary)
        sizes = list(self.discriminator_layer_sizes)
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise ValueError(
                "discriminator_layer_sizes must hold positive integers (layer "
                f"widths); got {self.discriminator_layer_sizes!r}."
            )
        check_loss(self.loss, self.output_activation, summary)
        limit = max_mixture_components(self.n_components)
        if self.prior == "mixture" and self.n_prior_components > limit:
            raise ValueError(
                f"n_prior_components={self.n_prior_components} mixture components "
                f"cannot be placed apart in n_components={self.n_components} "
                f"dimensions (at most {limit}): widen the code or use fewer "
                "components."
            )

    def _network_recipe(self, n_features, dtype):
        mixture = self.prior == "mixture"
        options = (
            ("discriminator_layer_sizes", tuple(self.discriminator_layer_sizes)),
            # One slot per component and one for unlabelled rows.
            ("n_label_slots", self.n_prior_components + 1 if mixture else 0),
        )
        return NetworkRecipe(
            n_features=n_features,
            n_components=self.n_components,
            hidden_layer_sizes=self._hidden_sizes(),
            **self._image_fields(n_features),
            activation=self.activation,
            output_activation=self.output_activation,
            dropout=self.dropout,
            dtype=str(dtype).removeprefix("torch."),
            kind="adversarial",
            options=options,
        )

    def _build_objective(self):
        variance = self._variance if self.loss == "mse" else 1.0
        base = build_objective(self.loss, variance, self._weight_terms())
        return AdversarialObjective(base.reconstruction, base.terms, self._prior())

    def _build_optimizers(self, module):
        optimizers = super()._build_optimizers(module)
        lr = self._learning_rate()
        critic_lr = self.discriminator_learning_rate
        critic_lr = lr if critic_lr is None else critic_lr
        optimizers[DISCRIMINATOR] = build_optimizer(
            self.solver, module, critic_lr, part=DISCRIMINATOR
        )
        generator_lr = self._adversarial_weight() * lr
        optimizers[ENCODER] = build_optimizer(
            self.solver, module, generator_lr, part=ENCODER
        )
        return optimizers

    def _training_step(self):
        return adversarial_step

    def _training_labels(self, y, X):
        if y is None or self.prior != "mixture":
            return None
        seen = getattr(self, "classes_", None)
        # Classes keep their components across partial_fit calls.
        self.classes_, slots = _component_slots(y, X, seen, self.n_prior_components)
        return slots

    def _training_run(self, X, incremental, sample_weight, labels, masked):
        run, train = super()._training_run(
            X, incremental, sample_weight, labels, masked
        )
        param = next(run.module.parameters())
        run.objective.replay = _replayed_rows(
            X,
            labels,
            self.n_prior_components,
            self.labelled_per_batch,
            self._seed,
            param,
        )
        return run, train

    def _fit(self, X, incremental=False, sample_weight=None, labels=None):
        reason = super()._fit(X, incremental, sample_weight, labels)
        prior = self._prior()
        if self.prior == "mixture":
            self.component_means_ = np.array(prior.means)
        self._check_codes(X, labels, prior)
        return reason

    def _check_codes(self, X, labels, prior):
        """Set ``discriminator_accuracy_``; warn when the codes miss the prior."""
        rows = slice(None)
        if X.shape[0] > _CHECKED_ROWS:
            rows = _checked_rows(np.arange(X.shape[0]), self._seed)
        module = self._network.module
        param = next(module.parameters())
        x = to_tensor(X[rows], param.dtype, param.device)
        slots = None if labels is None else torch.as_tensor(labels[rows]).to(x.device)
        seed = derived_seed(self._seed, Stream.CODE_CHECK)
        generator = torch.Generator(device=x.device).manual_seed(seed)
        self.discriminator_accuracy_ = discriminator_accuracy(
            module, prior, x, generator, slots
        )
        with torch.no_grad():
            spread = module.encoder(x).std(dim=0)
            prior_spread = prior.sample(x.shape[0], generator, x).std(dim=0)
        collapsed = (spread < _COLLAPSED_SPREAD * prior_spread).nonzero().flatten()
        self._check_labels(X, labels, prior)
        message = _codes_message(self.discriminator_accuracy_, collapsed.tolist())
        if message:
            self._report(message)

    def _check_labels(self, X, labels, prior):
        """Set ``label_agreement_`` after a label-guided fit; warn when the
        labels did not shape the codes."""
        self.__dict__.pop("label_agreement_", None)
        module = self._network.module
        agreement = _labelled_agreement(module, X, labels, prior, self._seed)
        if agreement is None:
            return
        self.label_agreement_ = agreement
        if agreement < _AGREEING_LABELS:
            self._report(
                f"The labels did not shape the codes: only {agreement:.0%} of the "
                "labelled rows' codes lie nearest their class's component. With "
                "few rows labelled, replay them (labelled_per_batch=32); else "
                "label more rows, widen the code (n_components) or train longer "
                "(max_iter)."
            )

    def _report(self, message):
        """Warn of a fit whose codes came out wrong (and print it if verbose)."""
        if self.verbose:
            print(message, flush=True)
        warnings.warn(message, ConvergenceWarning, stacklevel=3)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _labelled_agreement(module, X, labels, prior, seed):
    """The share of (at most :data:`_CHECKED_ROWS`) labelled rows of ``X``
    whose codes lie nearest their component, or None without labelled rows.

    ``labels`` are the rows' component slots (past the last component:
    unlabelled).
    """
    if labels is None:
        return None
    rows = _checked_rows(np.flatnonzero(labels < len(prior.means)), seed)
    if not rows.size:
        return None
    param = next(module.parameters())
    with torch.no_grad():
        codes = module.encoder(to_tensor(X[rows], param.dtype, param.device))
    components = torch.as_tensor(labels[rows]).to(codes.device)
    return label_agreement(codes, components, prior.means)


def _codes_message(accuracy, collapsed):
    """The warning for codes that miss the prior (None when they do not):
    the discriminator's ``accuracy``, the ``collapsed`` code dimensions."""
    problems = []
    if accuracy > _WINNING_ACCURACY:
        problems.append(
            "the discriminator tells the codes from prior draws apart "
            f"({accuracy:.0%} of the time)"
        )
    if collapsed:
        problems.append(f"the codes collapsed along dimension(s) {collapsed}")
    if not problems:
        return None
    return (
        f"The codes do not fill the prior: {' and '.join(problems)}. "
        "Train longer (max_iter), lower discriminator_learning_rate or "
        "raise adversarial_weight."
    )


def _checked_rows(rows, seed, cap=_CHECKED_ROWS, stream=Stream.CODE_CHECK):
    """At most ``cap`` of the row indices ``rows``, in order, drawn with the
    seed of ``stream`` (by default, the code check's)."""
    if rows.size <= cap:
        return rows
    rng = np.random.default_rng(derived_seed(seed, stream))
    return np.sort(rng.choice(rows, cap, replace=False))


def _component_slots(y, X, seen, n_prior_components):
    """The classes of ``y`` (those ``seen`` before first, in their order) and
    each row's label slot: its class's component, or ``n_prior_components``
    for an unlabelled row (``-1``)."""
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    labelled = y != -1
    kind = type_of_target(y[labelled], input_name="y", raise_unknown=True)
    if labelled.any() and kind not in ("binary", "multiclass"):
        raise ValueError(
            "y must hold class labels, with -1 for unlabelled rows; got "
            f"{kind!r} labels."
        )
    seen = y[labelled][:0] if seen is None else seen
    classes = np.union1d(seen, y[labelled])
    new = np.setdiff1d(classes, seen)
    if seen.size + new.size > n_prior_components:
        raise ValueError(
            f"y has {seen.size + new.size} classes, but the mixture prior has "
            f"n_prior_components={n_prior_components} components: raise "
            "n_prior_components, or mark more rows as unlabelled (-1)."
        )
    classes = np.concatenate([seen, new])
    order = np.argsort(classes)
    slots = np.full(y.shape[0], n_prior_components, dtype=np.int64)
    where = np.searchsorted(classes, y[labelled], sorter=order)
    slots[labelled] = order[where]
    return classes, slots


def _replayed_rows(X, labels, n_prior_components, per_batch, seed, param):
    """The labelled rows of ``X`` (at most :data:`_REPLAYED_ROWS`), of which
    the step replays ``per_batch`` after every batch, on the device and in
    the dtype of ``param``; None when none are to be replayed.

    They are drawn from all of ``X``'s labelled rows, the early-stopping
    validation rows' too: the validation loss is the reconstruction's, and
    the replay only moves the codes of labelled rows towards their
    component.
    """
    if labels is None or per_batch == 0:
        return None
    rows = np.flatnonzero(labels < n_prior_components)
    if not rows.size:
        return None
    rows = _checked_rows(rows, seed, _REPLAYED_ROWS, Stream.REPLAY_ROWS)
    return ReplayedRows(
        to_tensor(X[rows], param.dtype, param.device),
        torch.as_tensor(labels[rows]).to(param.device),
        per_batch,
    )
