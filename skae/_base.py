"""The shared base of skae's estimators: parameters and fitting.

An estimator derives a network recipe and an objective from its parameters,
hands a training run to ``_training.fit_loop`` and publishes what came back
as fitted attributes. The torch objects are built from plain descriptions
by ``_recipe``; parameter constraints and checks live in ``_params``,
batched inference in ``_inference``.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import contextlib
import itertools
import math
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from ._data import (
    ColumnSummary,
    RowStream,
    dense_nbytes,
    network_dtype,
    resident_budget,
    resolve_device,
    to_tensor,
)
from ._inference import _ACCEPT_SPARSE, FLOAT_DTYPES, _InferenceMixin
from ._memory import memory_guard
from ._params import PARAMETER_CONSTRAINTS, check_settings, hidden_sizes
from ._penalties import ElasticNet, KLSparsity, L1Activity
from ._persistence import dump_state, load_state
from ._recipe import (
    Network,
    NetworkRecipe,
    build_network,
    build_objective,
    build_optimizer,
)
from ._sklearn_compat import _fit_context
from ._threads import shared_threads
from ._training import LoopSettings, Run, StopReason, Validation, fit_loop

# MLPRegressor's batch_size='auto' rule: min(200, n_samples).
_AUTO_BATCH_SIZE = 200
# Seed streams derived from one draw of random_state, so that weight
# initialisation, shuffling/dropout/noise, the validation split, the
# validation rows' corruption, the outlier detector's row subsamples, the
# block order of streamed data and the variational autoencoder's scoring
# draws are independent of each other. Every stream is registered here.
(
    _INIT_STREAM,
    _TRAIN_STREAM,
    _SPLIT_STREAM,
    _VALIDATION_NOISE_STREAM,
    _SUBSAMPLE_STREAM,
    _BLOCK_STREAM,
    _SCORE_STREAM,
) = range(7)


def _derived_seed(seed, stream, n_iter=0):
    return int(np.random.SeedSequence([seed, stream, n_iter]).generate_state(1)[0])


class _BaseAutoencoder(_InferenceMixin, BaseEstimator):
    """Base class of skae's estimators; not for direct use.

    Subclasses add mixins and parameters and override these hooks, never
    the training loop:

    - ``_check_settings(X, summary)``: raise for parameter values that are
      invalid together or for ``X``; changes nothing.
    - ``_network_recipe(n_features, dtype)`` and ``_objective_terms()``:
      the network and the penalty terms the parameters describe.
    - ``_build_objective()``: the training objective, the reconstruction
      loss plus ``_objective_terms()`` by default (the variational
      autoencoder's is the negative ELBO).
    - ``_schedules(objective, optimizer)``: callables run before each
      epoch with the number of epochs trained so far (a KL warm-up, a
      learning-rate schedule); none by default.
    - ``_observe_data(summary, fresh)``: record what the estimator keeps of
      the training data's column statistics (the denoiser's clipping
      range), before the network is built; ``fresh`` when this fit starts
      a new network rather than continuing one.
    - ``_corruption()``: how a training batch's input is made from the clean
      batch (the denoiser), or None.
    - ``_fit_full(X)``: the work of ``fit`` after validation; one training
      run by default (the outlier detector trains several rounds).
    - ``_warn_on_stop(reason, incremental)``: the warnings for how training
      stopped.
    """

    _parameter_constraints: dict = dict(PARAMETER_CONSTRAINTS)

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(100,),
        activation="elu",
        output_activation="identity",
        loss="mse",
        solver="adam",
        learning_rate_init=1e-3,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        alpha=0.0,
        l1_ratio=0.0,
        dropout=0.0,
        sparsity=None,
        sparsity_target=0.05,
        sparsity_weight=0.01,
        warm_start=False,
        verbose=0,
        random_state=None,
        device="auto",
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
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
        self.sparsity = sparsity
        self.sparsity_target = sparsity_target
        self.sparsity_weight = sparsity_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.device = device

    # ------------------------------------------------------------------
    # Fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Memmaps and sparse matrices are read a chunk of
            rows at a time, never copied whole: data larger than the
            resident budget (256 MiB on the CPU) are streamed from ``X`` in
            shuffled chunks.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X = validate_data(
            self,
            X,
            dtype=FLOAT_DTYPES,
            accept_sparse=_ACCEPT_SPARSE,
            ensure_min_samples=2,
        )
        self._fit_full(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X``, continuing from the current state.

        The first call initialises the network (its input scaling comes from
        this first batch of data); later calls continue training it, so a
        stream of chunks can be learnt one chunk at a time.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data; a large one is streamed as in
            :meth:`fit`.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The updated estimator.
        """
        if self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True: there is no "
                "held-out set across calls. Use fit, or set early_stopping=False."
            )
        first_call = not hasattr(self, "_network")
        X = validate_data(
            self, X, dtype=FLOAT_DTYPES, accept_sparse=_ACCEPT_SPARSE, reset=first_call
        )
        self._fit(X, incremental=True)
        return self

    def _fit_full(self, X):
        self._fit(X)

    def _fit(self, X, incremental=False):
        """Train on validated ``X``: afresh, warm, or one epoch (``incremental``).

        Returns the training loop's :class:`~skae._training.StopReason`.
        """
        fresh = not hasattr(self, "_network") or not (incremental or self.warm_start)
        # Read by the hooks in this order (ranges first): one pass over X.
        summary = ColumnSummary(X, moments=fresh)
        self._check_settings(X, summary)
        device = resolve_device(self.device)
        if not fresh:
            self._check_same_network(X)
        self._observe_data(summary, fresh)
        if fresh:
            self._initialize(X, summary, device)
        network = self._network
        if not incremental or network.optimizer is None:
            network.module.to(device)
            network.optimizer = self._build_optimizer(network.module)
        with memory_guard(f"training on {device}", self._training_advice(X)):
            reason, settings = self._train(X, incremental)
        if reason.diverged:
            # Its moments saw the non-finite step: later calls start afresh.
            network.optimizer = None
        self._publish(settings)
        if reason is StopReason.DIVERGED_AT_START and (
            fresh or network.history.n_iter == 0
        ):
            self._unpublish()
            raise ValueError(
                "Training diverged before any epoch gave usable weights: the "
                "loss or the weights became NaN or infinite. Lower "
                f"learning_rate_init (now {self.learning_rate_init:g}), or scale "
                "the data."
            )
        self._warn_on_stop(reason, incremental)
        return reason

    def _train(self, X, incremental):
        """One training run on ``X``; returns its stop reason and settings."""
        network = self._network
        param = next(network.module.parameters())
        dtype, device = param.dtype, param.device
        generator = torch.Generator(device=device)
        generator.manual_seed(
            _derived_seed(self._seed, _TRAIN_STREAM, network.history.n_iter)
        )
        train_rows, val_rows = self._split_rows(X.shape[0], incremental)
        n_train = X.shape[0] if train_rows is None else len(train_rows)
        settings = self._loop_settings(n_train, val_rows is not None, incremental)
        train, val = self._loop_data(
            X, train_rows, val_rows, dtype, device, settings.batch_size
        )
        corrupt = self._corruption()
        objective = self._build_objective()
        run = Run(
            network.module,
            network.optimizer,
            objective,
            settings,
            generator,
            network.history,
            corrupt,
            self._validation(val, corrupt),
            self._schedules(objective, network.optimizer),
        )
        network.module.set_generator(generator)
        try:
            with shared_threads():
                return fit_loop(run, train), settings
        finally:
            network.module.set_generator(None)
            # Whatever ends the loop (an error too), inference needs eval mode.
            network.module.eval()

    def _loop_settings(self, n_train, early_stopping, incremental):
        return LoopSettings(
            max_iter=self.max_iter,
            batch_size=self._batch_size(n_train),
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            early_stopping=early_stopping,
            verbose=int(self.verbose),
            incremental=incremental,
        )

    def _validation(self, val, corrupt):
        """The run's validation rows, or None without early stopping.

        With a corruption hook the model is validated on what it is trained
        for, undoing corruption, from one seed, so every epoch is judged on
        the same inputs whether the validation rows are resident or streamed.
        """
        if val is None:
            return None
        if corrupt is None:
            return Validation(val)
        return Validation(val, _derived_seed(self._seed, _VALIDATION_NOISE_STREAM))

    def _loop_data(self, X, train_rows, val_rows, dtype, device, batch_size):
        """The loop's training and validation data.

        Data whose dense size in the network's dtype fits the device's budget
        (256 MiB of host memory on the CPU, half the free memory of a CUDA
        device) are copied to the device once and stay resident: the fast
        path. Larger data (a big memmap, a sparse matrix that would be big
        dense) are streamed from ``X`` in shuffled chunks instead, so memory
        stays bounded whatever the number of rows.
        """
        if dense_nbytes(X, dtype) <= resident_budget(device):
            X_train = X if train_rows is None else X[train_rows]
            val = None if val_rows is None else to_tensor(X[val_rows], dtype, device)
            return to_tensor(X_train, dtype, device), val
        seed = _derived_seed(self._seed, _BLOCK_STREAM, self._network.history.n_iter)
        rng = np.random.default_rng(seed)
        val = None
        if val_rows is not None:
            val = RowStream(X, dtype, device, batch_size, rng, val_rows)
        return RowStream(X, dtype, device, batch_size, rng, train_rows), val

    def _initialize(self, X, summary, device):
        # Unfitted until this fit succeeds: a failure part-way must not pair
        # the previous fit's encoder_ with a new network.
        self._unpublish()
        rng = check_random_state(self.random_state)
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        mean, variance = summary.mean, summary.mean_variance
        if not (np.isfinite(mean).all() and math.isfinite(variance)):
            raise ValueError(
                "X holds values too large to standardise: their variance "
                f"overflows float64 (largest magnitude {abs(X).max():g}). "
                "Scale X first, e.g. with StandardScaler."
            )
        # Variance-normalised MSE needs a positive, finite divisor; constant
        # data falls back to the raw squared error.
        self._variance = variance if 0 < variance < math.inf else 1.0
        recipe = self._network_recipe(X.shape[1], network_dtype(X.dtype, device))
        # Centre each feature and divide by one global scale: a rotation-
        # and scale-equivariant change of units, so the MSE objective (and
        # hence the linear autoencoder's optimum, PCA's subspace) is unchanged
        # while the network sees unit-scale numbers. The decoder undoes it
        # for an identity output; a sigmoid output predicts [0, 1] data
        # directly, but its encoder still gains from standardised inputs
        # (digits in [0, 1], sigmoid output: ~20% lower test error).
        scale = np.full(X.shape[1], math.sqrt(self._variance))
        with memory_guard("building the network", self._network_advice(recipe)):
            module = build_network(recipe, shift=mean, scale=scale)
        init = torch.Generator().manual_seed(_derived_seed(self._seed, _INIT_STREAM))
        module.reset_parameters(init)
        self._network = Network(recipe, module)

    def _network_recipe(self, n_features, dtype):
        """The :class:`~skae._recipe.NetworkRecipe` the parameters describe."""
        return NetworkRecipe(
            n_features=n_features,
            n_components=self.n_components,
            hidden_layer_sizes=tuple(hidden_sizes(self.hidden_layer_sizes)),
            activation=self.activation,
            output_activation=self.output_activation,
            dropout=self.dropout,
            dtype=str(dtype).removeprefix("torch."),
        )

    def _objective_terms(self):
        """The penalty terms the parameters ask for, in reporting order."""
        terms = []
        adamw = self.solver == "adamw"
        # AdamW applies the L2 part as decoupled decay (_build_optimizer).
        alpha = self.alpha * (self.l1_ratio if adamw else 1.0)
        if alpha > 0:
            terms.append(ElasticNet(alpha, 1.0 if adamw else self.l1_ratio))
        # Estimators without code sparsity (the variational autoencoder) lack
        # the parameter.
        sparsity = getattr(self, "sparsity", None)
        if sparsity == "kl":
            tanh = self.activation == "tanh"
            terms.append(KLSparsity(self.sparsity_target, self.sparsity_weight, tanh))
        elif sparsity == "l1":
            terms.append(L1Activity(self.sparsity_weight))
        return terms

    def _build_objective(self):
        variance = self._variance if self.loss == "mse" else 1.0
        return build_objective(self.loss, variance, self._objective_terms())

    def _schedules(self, objective, optimizer):
        """Callables run before each epoch with the epochs trained so far."""
        return ()

    def _build_optimizer(self, module):
        decay = 0.0
        if self.solver == "adamw":
            decay = self.alpha * (1.0 - self.l1_ratio)
        return build_optimizer(self.solver, module, self.learning_rate_init, decay)

    def _observe_data(self, summary, fresh):
        """Record what the estimator keeps of the data's column statistics."""

    def _corruption(self):
        """The hook making a training batch's input from the clean batch.

        Returns ``None`` (inputs are the clean batch) or a callable
        ``corrupt(batch, generator) -> tensor``; see the denoising autoencoder.
        """
        return None

    def _split_rows(self, n, incremental):
        """Sorted training and validation row indices, or ``(None, None)``.

        ``(None, None)`` means every row trains and none validates.
        """
        if not self.early_stopping or incremental:
            return None, None
        n_val = min(max(int(round(self.validation_fraction * n)), 1), n - 1)
        order = np.random.default_rng(
            _derived_seed(self._seed, _SPLIT_STREAM)
        ).permutation(n)
        return np.sort(order[n_val:]), np.sort(order[:n_val])

    def _training_advice(self, X):
        advice = (
            f"Try a smaller batch_size (now {self._batch_size(X.shape[0])}), a "
            "smaller network (hidden_layer_sizes, n_components), or another device"
        )
        # The training set is staged on the device as one tensor, so its
        # size matters whatever the batch size.
        nbytes = getattr(X, "nbytes", None)
        if nbytes is None:
            return f"{advice}."
        return f"{advice}; the training data alone take {nbytes / 2**20:.0f} MiB."

    def _network_advice(self, recipe):
        widths = [recipe.n_features, *recipe.hidden_layer_sizes, recipe.n_components]
        n_weights = 2 * sum(a * b for a, b in itertools.pairwise(widths))
        return (
            f"The network has about {n_weights:.3g} weights (hidden_layer_sizes="
            f"{self.hidden_layer_sizes!r}, n_components={self.n_components}): use "
            "smaller layers."
        )

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(_AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)

    def _check_settings(self, X, summary):
        check_settings(self, X, summary)

    def _check_same_network(self, X):
        fitted = self._network.recipe
        current = self._network_recipe(X.shape[1], fitted.torch_dtype)
        changed = current.changes_from(fitted)
        if changed:
            raise ValueError(
                "Cannot continue training (warm_start or partial_fit) after "
                f"changing {', '.join(changed)}: the fitted network is "
                f"{fitted}. Set warm_start=False to start afresh."
            )

    # ------------------------------------------------------------------
    # After the loop

    def _publish(self, settings):
        history = self._network.history
        self.n_iter_ = history.n_iter
        self.loss_curve_ = list(history.loss_curve)
        self.loss_components_ = {k: list(v) for k, v in history.components.items()}
        self.validation_loss_curve_ = (
            list(history.validation_loss_curve) if self.early_stopping else None
        )
        self.best_loss_ = history.best_loss
        self.batch_size_ = settings.batch_size
        # Where the weights are: 'cuda:0' rather than the unindexed 'cuda'.
        self.device_ = str(next(self._network.module.parameters()).device)
        self.encoder_ = self._network.module.encoder.eval()
        self.decoder_ = self._network.module.decoder.eval()

    def _unpublish(self):
        for name in ("encoder_", "decoder_"):
            self.__dict__.pop(name, None)

    def _warn_on_stop(self, reason, incremental):
        if reason is StopReason.DIVERGED_AT_START:
            warnings.warn(
                "Training diverged (the loss or the weights became NaN or "
                "infinite); the weights from before this call were kept. Lower "
                "learning_rate_init to train further.",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif reason is StopReason.DIVERGED:
            warnings.warn(
                "Training diverged (the loss or the weights became NaN or "
                "infinite); the weights of the best epoch were restored after "
                f"{self.n_iter_} epochs. Lower learning_rate_init to train further.",
                ConvergenceWarning,
                stacklevel=2,
            )
        elif reason is StopReason.INTERRUPTED:
            warnings.warn(
                "Training interrupted by user; the best weights so far are kept.",
                UserWarning,
                stacklevel=2,
            )
        elif reason is StopReason.MAX_ITER and not incremental:
            warnings.warn(
                f"Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=2,
            )

    # ------------------------------------------------------------------
    # Persistence: a plain state (NumPy arrays and builtins, no torch
    # objects), so that pickles load anywhere and skops can trust them.

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
        super().__setstate__(attributes)
        if network is not None:
            self._network = network
            if published:
                self.encoder_ = network.module.encoder
                self.decoder_ = network.module.decoder

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # An unavailable device fails at fit, with its own message.
        with contextlib.suppress(ValueError):
            tags.non_deterministic = resolve_device(self.device).type == "cuda"
        return tags
