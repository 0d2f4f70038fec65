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
import inspect
import math
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from ._batch import Batch
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
from ._modules import TopK
from ._params import (
    PARAMETER_CONSTRAINTS,
    check_reconstruction_settings,
    check_settings,
    hidden_sizes,
)
from ._penalties import Contractive, ElasticNet, KLSparsity, L1Activity
from ._persistence import dump_state, load_state
from ._recipe import (
    NetworkRecipe,
    NetworkState,
    build_network,
    build_objective,
    build_optimizer,
)
from ._schedules import LinearSchedule
from ._seeds import Stream, derived_seed
from ._sklearn_compat import _check_sample_weight, _fit_context
from ._threads import numpy_workers, threads_for
from ._training import NETWORK, LoopSettings, Run, StopReason, Validation, fit_loop

# MLPRegressor's batch_size='auto' rule: min(200, n_samples).
_AUTO_BATCH_SIZE = 200
# explained_variance_ratio_ reads at most this many training rows: a pass
# over all of them would cost a third of an epoch per fit (as
# HistGradientBoosting scores at most 10,000 training rows).
_EXPLAINED_MAX_ROWS = 10_000


def _unless_uniform(weights):
    """``weights``, or None when every row has the same positive weight."""
    if weights is not None and weights[0] > 0 and (weights == weights[0]).all():
        return None
    return weights


class _BaseAutoencoder(_InferenceMixin, BaseEstimator):
    """Base class of skae's estimators; not for direct use.

    Subclasses add mixins and parameters and override these hooks, never
    the training loop:

    - ``_check_settings(X, summary)``: raise for parameter values that are
      invalid together or for ``X``; changes nothing.
    - ``_network_recipe(n_features, dtype)`` and ``_objective_terms()``:
      the network and the penalty terms the parameters describe;
      ``_code_width()`` and ``_hidden_sizes()``: ``n_components`` and
      ``hidden_layer_sizes`` resolved, which both read.
    - ``_build_objective()``: the training objective, the reconstruction
      loss plus ``_objective_terms()`` by default (the variational
      autoencoder's is the negative ELBO).
    - ``_schedules(module, objective, optimizer)``: callables run before
      each epoch with the number of epochs trained so far (a top-k
      schedule, a KL warm-up, a learning-rate schedule).
    - ``_observe_data(summary, fresh)``: record what the estimator keeps of
      the training data's column statistics (the denoiser's clipping
      range), before the network is built; ``fresh`` when this fit starts
      a new network rather than continuing one.
    - ``_corruption()``: how a training batch's input is made from the clean
      batch (the denoiser), or None.
    - ``_fit_full(X, sample_weight)``: the work of ``fit`` after
      validation; one training run by default (the outlier detector trains
      several rounds).
    - ``_warn_on_stop(reason, incremental)``: the warnings for how training
      stopped.
    """

    _parameter_constraints: dict = dict(PARAMETER_CONSTRAINTS)

    # The inference methods skae.to_onnx can export, where the class has them.
    _onnx_methods = (
        "transform",
        "inverse_transform",
        "reconstruct",
        "score_samples",
        "decision_function",
        "predict",
    )

    # Every public class defines its own __init__ with its defaults (so that
    # errors and signatures name the public class); this one only stores the
    # shared parameters.
    def __init__(
        self,
        n_components,
        *,
        hidden_layer_sizes,
        activation,
        output_activation,
        loss,
        solver,
        learning_rate_init,
        batch_size,
        max_iter,
        tol,
        n_iter_no_change,
        early_stopping,
        validation_fraction,
        shuffle,
        alpha,
        l1_ratio,
        dropout,
        sparsity,
        sparsity_target,
        sparsity_weight,
        sparsity_k,
        sparsity_k_start,
        sparsity_alpha,
        sparsity_rate,
        contractive_weight,
        tied_weights,
        warm_start,
        verbose,
        random_state,
        device,
        n_threads,
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
        self.sparsity_k = sparsity_k
        self.sparsity_k_start = sparsity_k_start
        self.sparsity_alpha = sparsity_alpha
        self.sparsity_rate = sparsity_rate
        self.contractive_weight = contractive_weight
        self.tied_weights = tied_weights
        self.warm_start = warm_start
        self.verbose = verbose
        self.random_state = random_state
        self.device = device
        self.n_threads = n_threads

    # ------------------------------------------------------------------
    # Fitting

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
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

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row, as a repetition count: a row of
            weight 2 counts as two copies of it, a row of weight 0 as
            absent. Weights enter the input scaling (weighted column means
            and variances) and every average over rows of the training
            loss; see the User Guide.

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
        sample_weight = self._check_sample_weight(sample_weight, X, min_rows=2)
        errors = self._fit_full(X, sample_weight)
        self.explained_variance_ratio_ = self._explained_variance_ratio(
            X, sample_weight, errors
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
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

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row of the chunk, as in :meth:`fit`.

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
        sample_weight = self._check_sample_weight(sample_weight, X, min_rows=1)
        self._fit(X, incremental=True, sample_weight=sample_weight)
        # It described the data of a fit, which this call moved away from.
        self.__dict__.pop("explained_variance_ratio_", None)
        return self

    def _check_sample_weight(self, sample_weight, X, min_rows):
        """Validated weights, or None when they weigh every row alike.

        Equal weights are the unweighted fit, which is what runs then, bit
        for bit. ``min_rows`` rows must have a positive weight.
        """
        if sample_weight is None:
            return None
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=np.float64, ensure_non_negative=True
        )
        n_positive = int(np.count_nonzero(sample_weight))
        if n_positive < min_rows:
            raise ValueError(
                f"sample_weight gives {n_positive} sample(s) a positive weight, "
                f"but training needs at least {min_rows}: rows of weight zero "
                "count as absent."
            )
        return _unless_uniform(sample_weight)

    def _fit_full(self, X, sample_weight=None):
        """The work of ``fit`` on validated ``X``.

        Returns the rows' squared reconstruction errors under the final
        network, when it computed them (else None).
        """
        self._fit(X, sample_weight=sample_weight)
        return None

    def _explained_variance_ratio(self, X, sample_weight, errors=None):
        """``1 - SSE / SST`` of the reconstruction of ``X``, summed over features.

        Both are (weighted) means over the rows; constant data give 1.0 when
        reconstructed exactly and 0.0 otherwise, as ``r2_score`` does.
        Without the rows' ``errors``, both are taken on at most
        ``_EXPLAINED_MAX_ROWS`` rows drawn at random.
        """
        if errors is None:
            if X.shape[0] > _EXPLAINED_MAX_ROWS:
                seed = derived_seed(self._seed, Stream.EXPLAINED_ROWS)
                rows = np.random.default_rng(seed).choice(
                    X.shape[0], _EXPLAINED_MAX_ROWS, replace=False
                )
                rows.sort()
                X = X[rows]
                if sample_weight is not None:
                    sample_weight = sample_weight[rows]
            errors = self._squared_errors(X, per_feature=False)
        error = float(np.average(errors, weights=sample_weight))
        variance = ColumnSummary(
            X, weights=sample_weight, n_workers=numpy_workers(self.n_threads)
        ).mean_variance
        if not 0 < variance < math.inf:
            return 1.0 if error == 0 else 0.0
        return 1.0 - error / variance

    def _fit(self, X, incremental=False, sample_weight=None):
        """Train on validated ``X``: afresh, warm, or one epoch (``incremental``).

        ``sample_weight`` (None, or a weight per row) weighs the rows.
        Returns the training loop's :class:`~skae._training.StopReason`.
        """
        # Equal weights are the unweighted fit (the detector's rounds may
        # leave rows of equal weight).
        sample_weight = _unless_uniform(sample_weight)
        fresh = not hasattr(self, "_network") or not (incremental or self.warm_start)
        # Read by the hooks in this order (ranges first): one pass over X.
        summary = ColumnSummary(
            X,
            moments=fresh,
            weights=sample_weight,
            n_workers=numpy_workers(self.n_threads),
        )
        self._check_settings(X, summary)
        device = resolve_device(self.device)
        if not fresh:
            self._check_same_network(X)
        self._observe_data(summary, fresh)
        if fresh:
            self._initialize(X, summary, device)
        network = self._network
        if not incremental or not network.optimizers:
            network.module.to(device)
            network.optimizers = self._build_optimizers(network.module)
        with memory_guard(f"training on {device}", self._training_advice(X)):
            reason, settings, n_threads = self._train(X, incremental, sample_weight)
        if reason.diverged:
            # Their moments saw the non-finite step: later calls start afresh.
            network.optimizers = {}
        self._publish(settings, n_threads)
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

    def _train(self, X, incremental, sample_weight):
        """One training run on ``X``: its stop reason, settings and threads."""
        network = self._network
        param = next(network.module.parameters())
        dtype, device = param.dtype, param.device
        generator = torch.Generator(device=device)
        generator.manual_seed(
            derived_seed(self._seed, Stream.TRAIN, network.history.n_iter)
        )
        train_rows, val_rows = self._split_rows(X.shape[0], incremental, sample_weight)
        n_train = X.shape[0] if train_rows is None else len(train_rows)
        settings = self._loop_settings(n_train, val_rows is not None, incremental)
        train, val = self._loop_data(
            X, train_rows, val_rows, dtype, device, settings.batch_size, sample_weight
        )
        corrupt = self._corruption()
        objective = self._build_objective()
        run = Run(
            network.module,
            network.optimizers,
            objective,
            settings,
            generator,
            network.history,
            corrupt,
            self._validation(val, corrupt),
            self._schedules(network.module, objective, network.optimizers),
            self._training_step(),
        )
        network.module.set_generator(generator)
        # Forward, and backward for inputs and weights: about 3 times a
        # forward pass of the batch per step.
        work = 3 * settings.batch_size * network.module.multiply_adds()
        try:
            with threads_for(self.n_threads, work) as n_threads:
                return fit_loop(run, train), settings, n_threads
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
        return Validation(val, derived_seed(self._seed, Stream.VALIDATION_NOISE))

    def _loop_data(self, X, train_rows, val_rows, dtype, device, batch_size, weights):
        """The loop's training and validation data.

        Data whose dense size in the network's dtype fits the device's budget
        (256 MiB of host memory on the CPU, half the free memory of a CUDA
        device) are copied to the device once and stay resident: the fast
        path. Larger data (a big memmap, a sparse matrix that would be big
        dense) are streamed from ``X`` in shuffled chunks instead, so memory
        stays bounded whatever the number of rows. ``weights`` (one per row
        of ``X``, or None) follow their rows either way.
        """
        if dense_nbytes(X, dtype) <= resident_budget(device):
            train = self._resident(X, train_rows, weights, dtype, device)
            val = None
            if val_rows is not None:
                val = self._resident(X, val_rows, weights, dtype, device)
            return train, val
        seed = derived_seed(self._seed, Stream.BLOCK, self._network.history.n_iter)
        rng = np.random.default_rng(seed)
        val = None
        if val_rows is not None:
            val = RowStream(X, dtype, device, batch_size, rng, val_rows, weights)
        train = RowStream(X, dtype, device, batch_size, rng, train_rows, weights)
        return train, val

    @staticmethod
    def _resident(X, rows, weights, dtype, device):
        """Rows ``rows`` of ``X`` (all when None) as a :class:`~skae._batch.Batch`
        of device tensors, with their weights when ``weights`` is given."""
        data = to_tensor(X if rows is None else X[rows], dtype, device)
        if weights is None:
            return Batch(data)
        weights = weights if rows is None else weights[rows]
        return Batch(data, torch.as_tensor(weights, dtype=dtype).to(device))

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
        init = torch.Generator().manual_seed(derived_seed(self._seed, Stream.INIT))
        module.reset_parameters(init)
        self._network = NetworkState(recipe, module)

    def _network_recipe(self, n_features, dtype):
        """The :class:`~skae._recipe.NetworkRecipe` the parameters describe."""
        code, code_options = self._code_layer()
        return NetworkRecipe(
            n_features=n_features,
            n_components=self._code_width(),
            hidden_layer_sizes=self._hidden_sizes(),
            activation=self.activation,
            output_activation=self.output_activation,
            dropout=self.dropout,
            code=code,
            code_options=code_options,
            tied_weights=self.tied_weights,
            dtype=str(dtype).removeprefix("torch."),
        )

    def _code_layer(self):
        """The code layer's kind and options, as the recipe names them."""
        if self.sparsity == "topk":
            alpha_k = round(self.sparsity_alpha * self.sparsity_k)
            k_eval = min(self._code_width(), alpha_k)
            return "topk", (("k", self.sparsity_k), ("k_eval", k_eval))
        if self.sparsity == "lifetime":
            return "lifetime", (("rate", self.sparsity_rate),)
        return "dense", ()

    def _schedules(self, module, objective, optimizers):
        """Settings that change during training, each called before an epoch.

        ``sparsity_k_start`` lowers the top-k layer's k linearly to
        ``sparsity_k`` over the first half of ``max_iter`` epochs.
        """
        if self.sparsity != "topk" or self.sparsity_k_start is None:
            return ()
        (topk,) = (m for m in module.encoder if isinstance(m, TopK))
        epochs = max(1, self.max_iter // 2)
        return (
            LinearSchedule(
                lambda k: setattr(topk, "k", round(k)),
                self.sparsity_k_start,
                self.sparsity_k,
                epochs,
            ),
        )

    def _code_width(self):
        """The width of the code layer: ``n_components`` resolved."""
        return self.n_components

    def _hidden_sizes(self):
        """The widths of the encoder's hidden layers: ``hidden_layer_sizes``
        resolved, as a tuple."""
        return tuple(hidden_sizes(self.hidden_layer_sizes))

    def _weight_terms(self):
        """The penalty on the weights (elastic net), if any, as a list."""
        adamw = self.solver == "adamw"
        # AdamW applies the L2 part as decoupled decay (_build_optimizer).
        alpha = self.alpha * (self.l1_ratio if adamw else 1.0)
        if alpha > 0:
            return [ElasticNet(alpha, 1.0 if adamw else self.l1_ratio)]
        return []

    def _objective_terms(self):
        """The penalty terms the parameters ask for, in reporting order."""
        terms = self._weight_terms()
        sparsity = self.sparsity
        if sparsity == "kl":
            tanh = self.activation == "tanh"
            terms.append(KLSparsity(self.sparsity_target, self.sparsity_weight, tanh))
        elif sparsity == "l1":
            terms.append(L1Activity(self.sparsity_weight))
        if self.contractive_weight > 0:
            terms.append(Contractive(self.contractive_weight))
        return terms

    def _build_objective(self):
        variance = self._variance if self.loss == "mse" else 1.0
        return build_objective(self.loss, variance, self._objective_terms())

    def _build_optimizers(self, module):
        """The run's optimizers by name: one for the whole network by default."""
        decay = 0.0
        if self.solver == "adamw":
            decay = self.alpha * (1.0 - self.l1_ratio)
        optimizer = build_optimizer(self.solver, module, self.learning_rate_init, decay)
        return {NETWORK: optimizer}

    def _training_step(self):
        """How one batch is trained: a ``step(run, batch)`` callable, or None
        for the default step (see :func:`skae._training.train_step`)."""
        return None

    def _observe_data(self, summary, fresh):
        """Record what the estimator keeps of the data's column statistics."""

    def _corruption(self):
        """The hook making a training batch's input from the clean batch.

        Returns ``None`` (inputs are the clean batch) or a callable
        ``corrupt(batch, generator) -> tensor``; see the denoising autoencoder.
        """
        return None

    def _split_rows(self, n, incremental, weights=None):
        """Sorted training and validation row indices, or ``(None, None)``.

        ``(None, None)`` means every row trains and none validates. Rows of
        weight zero do neither; the split draws ``validation_fraction`` of
        the other rows, whatever their weights (a row is one unit of the
        split, and its weight then weighs its validation loss).
        """
        rows = None
        if weights is not None and not weights.all():
            rows = np.flatnonzero(weights)
        if not self.early_stopping or incremental:
            return rows, None
        n_rows = n if rows is None else rows.size
        n_val = min(max(int(round(self.validation_fraction * n_rows)), 1), n_rows - 1)
        order = np.random.default_rng(
            derived_seed(self._seed, Stream.SPLIT)
        ).permutation(n_rows)
        if rows is not None:
            order = rows[order]
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
        return (
            f"The network (hidden_layer_sizes={recipe.hidden_layer_sizes!r}, "
            f"n_components={recipe.n_components}) does not fit in memory: use "
            "smaller layers."
        )

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(_AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)

    def _check_settings(self, X, summary):
        check_settings(self, X, summary)
        check_reconstruction_settings(self, X, summary)

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

    def _publish(self, settings, n_threads):
        history = self._network.history
        self.n_iter_ = history.n_iter
        self.loss_curve_ = list(history.loss_curve)
        self.loss_components_ = {k: list(v) for k, v in history.components.items()}
        self.validation_loss_curve_ = (
            list(history.validation_loss_curve) if self.early_stopping else None
        )
        self.best_loss_ = history.best_loss
        self.batch_size_ = settings.batch_size
        self.n_threads_ = n_threads
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
        # Parameters added since the state was written take their defaults.
        for name, parameter in inspect.signature(type(self)).parameters.items():
            attributes.setdefault(name, parameter.default)
        super().__setstate__(attributes)
        if network is not None:
            self._network = network
            if published:
                self.encoder_ = network.module.encoder
                self.decoder_ = network.module.decoder

    def _exportable_methods(self):
        """The methods :func:`skae.to_onnx` can export from this estimator."""
        return [m for m in self._onnx_methods if hasattr(self, m)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # An unavailable device fails at fit, with its own message.
        with contextlib.suppress(ValueError):
            tags.non_deterministic = resolve_device(self.device).type == "cuda"
        return tags
