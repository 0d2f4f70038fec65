"""The shared base of skae's estimators: fitting, whatever the model family.

An estimator derives a network recipe and an objective from its parameters
(the family's hooks), hands a training run to ``_training.fit_loop`` and
publishes what came back as fitted attributes. The torch objects are built
from plain descriptions by ``_recipe``; parameter constraints and checks
live in ``_params``, the loop's data in ``_data``, batched inference in
``_inference``.
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

from ._data import (
    ColumnSummary,
    network_dtype,
    resolve_device,
    split_rows,
    training_data,
)
from ._inference import _ACCEPT_SPARSE, FLOAT_DTYPES, _InferenceMixin
from ._memory import memory_guard
from ._params import (
    PARAMETER_CONSTRAINTS,
    check_early_stopping,
    check_hidden_sizes,
    check_observed,
    hidden_sizes,
)
from ._penalties import ElasticNet
from ._persistence import dump_state, load_state
from ._recipe import NetworkState, build_network, build_optimizer
from ._seeds import Stream, derived_seed
from ._sklearn_compat import _check_sample_weight, _fit_context
from ._threads import numpy_workers, threads_for
from ._training import NETWORK, LoopSettings, Run, StopReason, Validation, fit_loop

# MLPRegressor's batch_size='auto' rule: min(200, n_samples).
_AUTO_BATCH_SIZE = 200
# explained_variance_ratio_ reads at most this many training rows, drawn at
# random: a pass over all of them would cost a third of an epoch per fit.
# On MNIST (60,000 rows) 2,000 rows give the ratio to about +-0.003 (10,000:
# +-0.001) for a sixth of the cost, a fifth of the fixed cost of a fit.
_EXPLAINED_MAX_ROWS = 2_000


def _unless_uniform(weights):
    """``weights``, or None when every row has the same positive weight."""
    if weights is not None and weights[0] > 0 and (weights == weights[0]).all():
        return None
    return weights


def training_weights(sample_weight, X, min_rows):
    """Validated training weights, or None when they weigh every row alike.

    Equal weights are the unweighted fit, which is what runs then, bit for
    bit. ``min_rows`` rows must have a positive weight.
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


def _training_advice(X, batch_size):
    """What to change when training on ``X`` runs out of memory."""
    advice = (
        f"Try a smaller batch_size (now {batch_size}), a smaller network "
        "(hidden_layer_sizes, n_components), or another device"
    )
    # The training set is staged on the device as one tensor, so its size
    # matters whatever the batch size.
    nbytes = getattr(X, "nbytes", None)
    if nbytes is None:
        return f"{advice}."
    return f"{advice}; the training data alone take {nbytes / 2**20:.0f} MiB."


def _network_advice(recipe):
    """What to change when building ``recipe``'s network runs out of memory."""
    return (
        f"The network (hidden_layer_sizes={recipe.hidden_layer_sizes!r}, "
        f"n_components={recipe.n_components}) does not fit in memory: use "
        "smaller layers."
    )


def _variance_ratio(X, weights, errors, n_workers):
    """``1 - SSE / SST`` of rows whose mean squared errors are ``errors``.

    Both are (weighted) means over the rows, summed over features; constant
    data give 1.0 when reconstructed exactly and 0.0 otherwise, as
    ``r2_score`` does.
    """
    error = float(np.average(errors, weights=weights))
    variance = ColumnSummary(X, weights=weights, n_workers=n_workers).mean_variance
    if not 0 < variance < math.inf:
        return 1.0 if error == 0 else 0.0
    return 1.0 - error / variance


def _unit_shares(total, increases):
    """``total`` split over the code units in proportion to ``increases``.

    A unit whose loss does not increase the error (a negative increase,
    rounding) gets 0; equal shares ``total / k`` when no unit's does.
    Returns a float64 array that sums to ``total`` up to rounding.
    """
    increases = np.maximum(np.asarray(increases, dtype=np.float64), 0.0)
    norm = increases.sum()
    if not 0 < norm < math.inf:
        return np.full(increases.shape, total / increases.size)
    return total * (increases / norm)


def _stop_warning(reason, n_iter, max_iter, incremental):
    """``(message, category)`` of the warning for how training stopped, or None."""
    if reason is StopReason.DIVERGED_AT_START:
        return (
            "Training diverged (the loss or the weights became NaN or "
            "infinite); the weights from before this call were kept. Lower "
            "learning_rate_init to train further.",
            ConvergenceWarning,
        )
    if reason is StopReason.DIVERGED:
        return (
            "Training diverged (the loss or the weights became NaN or "
            "infinite); the weights of the best epoch were restored after "
            f"{n_iter} epochs. Lower learning_rate_init to train further.",
            ConvergenceWarning,
        )
    if reason is StopReason.INTERRUPTED:
        return (
            "Training interrupted by user; the best weights so far are kept.",
            UserWarning,
        )
    if reason is StopReason.MAX_ITER and not incremental:
        return (
            f"Maximum iterations ({max_iter}) reached and the optimization "
            "hasn't converged yet.",
            ConvergenceWarning,
        )
    return None


class _BaseAutoencoder(_InferenceMixin, BaseEstimator):
    """Base class of skae's estimators; not for direct use.

    A model family subclasses it (``_reconstruction._ReconstructionAutoencoder``,
    ``VariationalAutoencoder``), stores its parameters in its own
    ``__init__`` and overrides these hooks, never the training loop:

    - ``_network_recipe(n_features, dtype)``: the network the parameters
      describe (a :class:`~skae._recipe.NetworkRecipe`); ``_code_width()``
      and ``_hidden_sizes()``: ``n_components`` and ``hidden_layer_sizes``
      resolved.
    - ``_build_objective()``: the training objective (the reconstruction
      loss plus penalty terms, the negative ELBO...).
    - ``_build_optimizers(module)``: the run's optimizers by name (one that
      trains the whole network by default); ``_training_step()``: how one
      batch is trained (None: objective, backward, one step).
    - ``_schedules(module, objective, optimizers)``: callables run before
      each epoch with the number of epochs trained so far (a top-k
      schedule, a KL warm-up, a learning-rate schedule).
    - ``_check_settings(X, summary)``: raise for parameter values that are
      invalid together or for ``X``; changes nothing.
    - ``_observe_data(summary, fresh)``: record what the estimator keeps of
      the training data's column statistics (the denoiser's clipping
      range), before the network is built; ``fresh`` when this fit starts
      a new network rather than continuing one.
    - ``_corruption()``: how a training batch's input is made from the clean
      rows (the denoiser), or None.
    - ``_fit_full(X, sample_weight)``: the work of ``fit`` after
      validation; one training run by default (the outlier detector trains
      several rounds).
    - ``_warn_on_stop(reason, incremental)``: the warnings for how training
      stopped; a family whose ``max_iter`` is a deliberate budget rather than
      a limit on a search for convergence sets ``_max_iter_is_a_budget``,
      and reaching it is no ``ConvergenceWarning``.
    """

    _max_iter_is_a_budget = False

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
            ensure_all_finite="allow-nan",
            ensure_min_samples=2,
        )
        sample_weight = training_weights(sample_weight, X, min_rows=2)
        errors = self._fit_full(X, sample_weight, self._training_labels(y, X))
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
            self,
            X,
            dtype=FLOAT_DTYPES,
            accept_sparse=_ACCEPT_SPARSE,
            ensure_all_finite="allow-nan",
            reset=first_call,
        )
        sample_weight = training_weights(sample_weight, X, min_rows=1)
        labels = self._training_labels(y, X)
        self._fit(X, incremental=True, sample_weight=sample_weight, labels=labels)
        # Measured on this chunk, under the network it just trained.
        self.explained_variance_ratio_ = self._explained_variance_ratio(
            X, sample_weight
        )
        return self

    def _training_labels(self, y, X):
        """The labels a family trains with, one int per row of ``X``, or None.

        None (``y`` is ignored) unless a family uses labels in training.
        """
        return None

    def _fit_full(self, X, sample_weight=None, labels=None):
        """The work of ``fit`` on validated ``X``.

        Returns the rows' squared reconstruction errors under the final
        network, when it computed them (else None).
        """
        self._fit(X, sample_weight=sample_weight, labels=labels)
        return None

    def _explained_variance_ratio(self, X, sample_weight, errors=None):
        """``explained_variance_ratio_``: the ``1 - SSE / SST`` of the
        reconstruction of ``X`` split over the code units (:func:`_unit_shares`
        of :meth:`_unit_errors`).

        The total is that of the rows' ``errors`` when given (every row, as
        the detector scores them anyway), else of at most
        ``_EXPLAINED_MAX_ROWS`` rows drawn at random; the split is measured
        on those drawn rows.
        """
        rows = self._explained_rows(X.shape[0], sample_weight)
        X_rows, weights = X, sample_weight
        if rows is not None:
            X_rows = X[rows]
            weights = None if sample_weight is None else sample_weight[rows]
        n_workers = numpy_workers(self.n_threads)
        if self.n_components_ == 1:
            # One unit: its share is the total, with no decoding to split it.
            if errors is None:
                errors = self._squared_errors(X_rows, per_feature=False)
                X, sample_weight = X_rows, weights
            return np.array([_variance_ratio(X, sample_weight, errors, n_workers)])
        unit_errors = self._unit_errors(X_rows, weights)
        if errors is None:
            errors = np.ascontiguousarray(unit_errors[:, 0])
            X, sample_weight = X_rows, weights
        total = _variance_ratio(X, sample_weight, errors, n_workers)
        mean_errors = np.average(unit_errors, axis=0, weights=weights)
        return _unit_shares(total, mean_errors[1:] - mean_errors[0])

    def _explained_rows(self, n_rows, sample_weight):
        """The sorted rows ``explained_variance_ratio_`` reads when there are
        more than ``_EXPLAINED_MAX_ROWS`` (of positive weight), else None."""
        if n_rows <= _EXPLAINED_MAX_ROWS:
            return None
        candidates = n_rows
        if sample_weight is not None and not sample_weight.all():
            # Rows of weight 0 are absent.
            candidates = np.flatnonzero(sample_weight)
            if candidates.size <= _EXPLAINED_MAX_ROWS:
                return candidates
        seed = derived_seed(self._seed, Stream.EXPLAINED_ROWS)
        rng = np.random.default_rng(seed)
        return np.sort(rng.choice(candidates, _EXPLAINED_MAX_ROWS, replace=False))

    def _unit_errors(self, X, weights):
        """The rows' mean squared errors (float64, shape (n_rows, 1 + k)): of
        the reconstruction (column 0, as ``_squared_errors``) and, in column
        ``1 + j``, of the codes decoded with unit ``j`` replaced by its
        (weighted) mean over the rows of ``X``.

        One pass encodes ``X`` for the means; a second encodes it again and
        decodes ``1 + k`` codes per batch.
        """
        codes = self._apply(
            lambda batch: self.encoder_(self._filled_in(batch)),
            X,
            out_dtype=np.float64,
        )
        param = next(self._network.module.parameters())
        means = np.average(codes, axis=0, weights=weights)
        means = torch.as_tensor(means, dtype=param.dtype, device=param.device)

        def row_errors(batch, code):
            error = self.decoder_(code).double().sub_(batch).square_()
            return error.nanmean(dim=1) if error.isnan().any() else error.mean(dim=1)

        def each_unit(batch):
            code = self.encoder_(self._filled_in(batch))
            errors = [row_errors(batch, code)]
            for j in range(code.shape[1]):
                unit_lost = code.clone()
                unit_lost[:, j] = means[j]
                errors.append(row_errors(batch, unit_lost))
            return torch.stack(errors, dim=1)

        return self._apply(each_unit, X, out_dtype=np.float64)

    def _fit(self, X, incremental=False, sample_weight=None, labels=None):
        """Train on validated ``X``: afresh, warm, or one epoch (``incremental``).

        ``sample_weight`` (None, or a weight per row) weighs the rows;
        ``labels`` (None, or an int per row) travel with them to the loss.
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
        check_observed(X, summary)
        self._check_settings(X, summary)
        device = resolve_device(self.device)
        if not fresh:
            self._check_same_network(X)
        self._observe_data(summary, fresh)
        learnt = not fresh and getattr(self, "_learnt_missing", False)
        self._learnt_missing = learnt or summary.has_missing
        if fresh:
            self._initialize(X, summary, device)
        network = self._network
        if not incremental or not network.optimizers:
            network.module.to(device)
            network.optimizers = self._build_optimizers(network.module)
        advice = _training_advice(X, self._batch_size(X.shape[0]))
        with memory_guard(f"training on {device}", advice):
            reason, settings, n_threads = self._train(
                X, incremental, sample_weight, labels, summary.has_missing
            )
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
                f"learning_rate_init (now {self._learning_rate():g}), or scale "
                "the data."
            )
        self._warn_on_stop(reason, incremental)
        return reason

    def _train(self, X, incremental, sample_weight, labels, masked):
        """One training run on ``X``: its stop reason, settings and threads."""
        module = self._network.module
        run, train = self._training_run(X, incremental, sample_weight, labels, masked)
        module.set_generator(run.generator)
        # Forward, and backward for inputs and weights: about 3 times a
        # forward pass of the batch per step.
        work = 3 * run.settings.batch_size * module.multiply_adds()
        try:
            with threads_for(self.n_threads, work) as n_threads:
                return fit_loop(run, train), run.settings, n_threads
        finally:
            module.set_generator(None)
            # Whatever ends the loop (an error too), inference needs eval mode.
            module.eval()

    def _training_run(self, X, incremental, sample_weight, labels, masked):
        """The :class:`~skae._training.Run` of a training call on ``X``, and its
        training data."""
        network = self._network
        param = next(network.module.parameters())
        seed = derived_seed(self._seed, Stream.TRAIN, network.history.n_iter)
        generator = torch.Generator(device=param.device).manual_seed(seed)
        settings, train, val = self._loop_data(
            X, incremental, sample_weight, labels, masked, param
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
        return run, train

    def _loop_data(self, X, incremental, sample_weight, labels, masked, param):
        """The loop's settings and its training and validation data (on the
        device and in the dtype of ``param``)."""
        fraction = self.validation_fraction
        if not self.early_stopping or incremental:
            fraction = None
        split_seed = derived_seed(self._seed, Stream.SPLIT)
        train_rows, val_rows = split_rows(
            X.shape[0], sample_weight, fraction, split_seed
        )
        n_train = X.shape[0] if train_rows is None else len(train_rows)
        settings = self._loop_settings(n_train, val_rows is not None, incremental)
        n_iter = self._network.history.n_iter
        rng = np.random.default_rng(derived_seed(self._seed, Stream.BLOCK, n_iter))
        train, val = training_data(
            X,
            train_rows,
            val_rows,
            sample_weight,
            param.dtype,
            param.device,
            settings.batch_size,
            rng,
            labels,
            masked,
        )
        return settings, train, val

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
        with memory_guard("building the network", _network_advice(recipe)):
            module = build_network(recipe, shift=mean, scale=scale)
        init = torch.Generator().manual_seed(derived_seed(self._seed, Stream.INIT))
        module.reset_parameters(init)
        self._network = NetworkState(recipe, module)

    def _hidden_sizes(self):
        """The widths of the encoder's hidden layers: ``hidden_layer_sizes``
        resolved, as a tuple."""
        return tuple(hidden_sizes(self.hidden_layer_sizes))

    def _code_width(self):
        """The width of the code layer: ``n_components`` resolved."""
        return self.n_components

    def _weight_terms(self):
        """The penalty on the weights (elastic net), if any, as a list."""
        adamw = self.solver == "adamw"
        # AdamW applies the L2 part as decoupled decay (_build_optimizers).
        alpha = self.alpha * (self.l1_ratio if adamw else 1.0)
        if alpha > 0:
            return [ElasticNet(alpha, 1.0 if adamw else self.l1_ratio)]
        return []

    def _build_optimizers(self, module):
        """The run's optimizers by name: one for the whole network by default."""
        decay = 0.0
        if self.solver == "adamw":
            decay = self.alpha * (1.0 - self.l1_ratio)
        optimizer = build_optimizer(self.solver, module, self._learning_rate(), decay)
        return {NETWORK: optimizer}

    def _learning_rate(self):
        """The step size of the network's optimizer: ``learning_rate_init``
        resolved."""
        return self.learning_rate_init

    def _training_step(self):
        """How one batch is trained: a ``step(run, batch)`` callable, or None
        for the default step (see :func:`skae._training.train_step`)."""
        return None

    def _schedules(self, module, objective, optimizers):
        """Settings that change during training, each called before an epoch."""
        return ()

    def _observe_data(self, summary, fresh):
        """Record what the estimator keeps of the data's column statistics."""

    def _corruption(self):
        """The hook making a training batch's input from the clean rows.

        Returns ``None`` (inputs are the clean rows) or a callable
        ``corrupt(rows, generator) -> tensor``; see the denoising autoencoder.
        """
        return None

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(_AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)

    def _check_settings(self, X, summary):
        check_hidden_sizes(self._hidden_sizes(), self.hidden_layer_sizes)
        check_early_stopping(self.early_stopping, X.shape[0])

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
        if reason is StopReason.MAX_ITER and self._max_iter_is_a_budget:
            return
        warning = _stop_warning(reason, self.n_iter_, self.max_iter, incremental)
        if warning is not None:
            warnings.warn(*warning, stacklevel=2)

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
        # Missing values (NaN) are left out of the loss, statistics and scores.
        tags.input_tags.allow_nan = True
        # An unavailable device fails at fit, with its own message.
        with contextlib.suppress(ValueError):
            tags.non_deterministic = resolve_device(self.device).type == "cuda"
        return tags
