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
import math
import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import validate_data

from ._callbacks import (
    CallbackSupportMixin,
    epoch_observer,
    epoch_subtasks,
    fit_task,
)
from ._data import (
    ColumnSummary,
    network_dtype,
    resolve_device,
    split_rows,
    training_data,
)
from ._explained import explained_variance_ratio
from ._inference import _ACCEPT_SPARSE, FLOAT_DTYPES, _InferenceMixin
from ._memory import memory_guard
from ._params import (
    PARAMETER_CONSTRAINTS,
    check_early_stopping,
    check_hidden_sizes,
    check_image,
    check_observed,
    hidden_sizes,
)
from ._penalties import ElasticNet
from ._persistence import PlainStateMixin
from ._recipe import NetworkState, build_network, build_optimizer
from ._seeds import Stream, derived_seed
from ._sklearn_compat import _check_sample_weight, _fit_context
from ._threads import numpy_workers, threads_for
from ._training import NETWORK, LoopSettings, Run, StopReason, Validation, fit_loop

# MLPRegressor's batch_size='auto' rule: min(200, n_samples).
_AUTO_BATCH_SIZE = 200
# learning_rate_init='auto' and tol='auto': a fit on this many rows or fewer
# (ten batches an epoch, or fewer) takes larger steps and a looser
# tolerance. At 1e-3 and 1e-4 a default fit on iris, wine, breast_cancer or
# digits had not converged in 200 epochs; at 1e-2 and 1e-3 each did, as
# good or better (see the User Guide's table). Larger fits keep
# MLPRegressor's 1e-3 and 1e-4.
_SMALL_DATA_ROWS = 2_000
_SMALL_DATA_LEARNING_RATE, _LEARNING_RATE = 1e-2, 1e-3
_SMALL_DATA_TOL, _TOL = 1e-3, 1e-4
# A partial_fit chunk whose column means lie more than this many units of the
# input scaling from the first chunk's (or whose spread is this many times
# larger) is warned about: the first chunk fixed the standardisation. Only
# chunks of _DRIFT_MIN_ROWS rows or more are judged, whose means are steady
# enough: a single row of a wide feature may lie that far legitimately.
_DRIFT_UNITS = 4.0
_DRIFT_MIN_ROWS = 10


def _scaling_drift(summary, module, channels=None):
    """A sentence on how far a chunk (``summary``) lies outside the input
    scaling of ``module``, or None when it lies within it; ``channels``, an
    :class:`~skae._conv.ImageSpec`, when the input is centred by channel."""
    shift, scale = module.input_shift(), module.input_scale()
    if shift is None:
        return None
    shift, scale = shift.double().cpu().numpy(), scale.double().cpu().numpy()
    mean = summary.mean if channels is None else channels.channel_shift(summary.mean)
    with np.errstate(invalid="ignore"):
        distance = np.abs(mean - shift) / scale
    spread = math.sqrt(summary.mean_variance) / float(np.mean(scale))
    if np.nanmax(distance, initial=0.0) > _DRIFT_UNITS:
        j = int(np.nanargmax(distance))
        return f"feature {j}'s mean lies {distance[j]:.1f} scaling units from it"
    if spread > _DRIFT_UNITS:
        return f"its spread is {spread:.1f} times the scaling's"
    return None


def _centred_channels(estimator, recipe):
    """The :class:`~skae._conv.ImageSpec` of ``recipe`` when ``estimator``
    centres its image network's input by channel, else None (each feature
    on its own)."""
    return recipe.image() if estimator._centres_image_channels else None


def _warn_on_drift(summary, module, channels):
    drift = _scaling_drift(summary, module, channels)
    if drift is None:
        return
    warnings.warn(
        "This partial_fit chunk lies far outside the input scaling that the "
        f"first chunk set ({drift}): the network keeps the first chunk's "
        "standardisation, and learns later, different chunks slowly. Make the "
        "first chunk represent the stream (shuffle the rows before chunking), "
        "and make several passes over the chunks (see the User Guide).",
        UserWarning,
        stacklevel=6,
    )


def training_attributes(network, early_stopping):
    """The fitted attributes of ``network`` and its training so far: what a
    callback's ``fitted_estimator`` holds at the end of an epoch."""
    history = network.history
    return {
        "_network": network,
        "n_iter_": history.n_iter,
        "loss_curve_": list(history.loss_curve),
        "loss_components_": {k: list(v) for k, v in history.components.items()},
        "validation_loss_curve_": (
            list(history.validation_loss_curve) if early_stopping else None
        ),
        "best_loss_": history.best_loss,
        "encoder_": network.module.encoder,
        "decoder_": network.module.decoder,
    }


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


def _is_small(n_rows):
    """Whether a fit on ``n_rows`` rows (None: a stream) is on small data."""
    return n_rows is not None and n_rows <= _SMALL_DATA_ROWS


def _tolerance(tol, n_rows):
    """``tol`` resolved for a fit on ``n_rows`` rows (None: a stream)."""
    if tol != "auto":
        return tol
    return _SMALL_DATA_TOL if _is_small(n_rows) else _TOL


def _few_steps_advice(n_rows, batch_size):
    """Advice for a fit whose epochs were a step or two: small data."""
    steps = math.ceil(n_rows / batch_size)
    if steps > 2:
        return ""
    return (
        f" Each epoch was {steps} optimizer step{'s' if steps > 1 else ''} "
        f"({n_rows} rows in batches of {batch_size}), so {{max_iter}} epochs "
        "are few steps: on small data set learning_rate_init='auto' and "
        "tol='auto' (a larger step and tolerance), a smaller batch_size (e.g. "
        "16) or a larger max_iter (see the User Guide)."
    )


def _stop_warning(reason, n_iter, max_iter, incremental, advice=""):
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
            "hasn't converged yet." + advice.format(max_iter=max_iter),
            ConvergenceWarning,
        )
    return None


class _BaseAutoencoder(
    PlainStateMixin, CallbackSupportMixin, _InferenceMixin, BaseEstimator
):
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
    - ``_warn_on_stop(reason, incremental, n_rows)``: the warnings for how training
      stopped; a family whose ``max_iter`` is a deliberate budget rather than
      a limit on a search for convergence sets ``_max_iter_is_a_budget``,
      and reaching it is no ``ConvergenceWarning``.
    """

    _max_iter_is_a_budget = False

    # Whether an image network centres its input by channel (each channel's
    # mean pixel) rather than by pixel (the mean image, as dense networks).
    # Measured per family: see the subclasses that set it.
    _centres_image_channels = False

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
    @fit_task
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
    @fit_task
    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one epoch on ``X``, continuing from the current state.

        The first call initialises the network (its input scaling comes from
        this first batch of data); later calls continue training it, so a
        stream of chunks can be learnt one chunk at a time. One call is one
        epoch of its chunk: a stream needs several passes over its chunks,
        about as many optimizer steps as :meth:`fit` would make, and a chunk
        far outside the first chunk's scaling is warned about (see the User
        Guide's "Scaling" page).

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

    _explained_variance_ratio = explained_variance_ratio

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
        # A partial_fit chunk's moments are judged against the scaling.
        summary = ColumnSummary(
            X,
            moments=fresh or incremental,
            weights=sample_weight,
            n_workers=numpy_workers(self.n_threads),
        )
        check_observed(X, summary)
        self._check_settings(X, summary)
        device = resolve_device(self.device)
        if not fresh:
            self._check_same_network(X)
        self._observe_data(summary, fresh)
        if not fresh and incremental and X.shape[0] >= _DRIFT_MIN_ROWS:
            channels = _centred_channels(self, self._network.recipe)
            _warn_on_drift(summary, self._network.module, channels)
        learnt = not fresh and getattr(self, "_learnt_missing", False)
        self._learnt_missing = learnt or summary.has_missing
        if fresh:
            self._initialize(X, summary, device)
        network = self._network
        if not incremental or not network.optimizers:
            network.module.to(device)
            # The rows learning_rate_init='auto' is resolved by (None: a
            # stream, of unknown size), kept with the optimizers it built.
            self._optimizer_rows = None if incremental else X.shape[0]
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
        self._warn_on_stop(reason, incremental, X.shape[0])
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
            threshold = module.single_thread_work()
            with threads_for(self.n_threads, work, threshold) as n_threads:
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
            epoch_observer(self, self._training_attributes),
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
            tol=_tolerance(self.tol, None if incremental else self._optimizer_rows),
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
        channels = _centred_channels(self, recipe)
        if channels is not None:
            mean = channels.channel_shift(mean)
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

    def _image_fields(self, n_features):
        """The recipe's fields for the network's convolutions (none when
        ``image_shape`` is None)."""
        shape = check_image(
            self.image_shape, self.conv_channels, self.kernel_size, n_features
        )
        if shape is None:
            return {}
        channels = tuple(int(c) for c in self.conv_channels)
        kernel_size = int(self.kernel_size)
        return dict(image_shape=shape, conv_channels=channels, kernel_size=kernel_size)

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
        resolved (``'auto'`` by the rows of the fit building it)."""
        if self.learning_rate_init != "auto":
            return self.learning_rate_init
        small = _is_small(getattr(self, "_optimizer_rows", None))
        return _SMALL_DATA_LEARNING_RATE if small else _LEARNING_RATE

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
        self._image_fields(X.shape[1])

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

    def _training_attributes(self):
        return training_attributes(self._network, self.early_stopping)

    def _publish(self, settings, n_threads):
        self.__dict__.update(self._training_attributes())
        self.batch_size_ = settings.batch_size
        self.n_threads_ = n_threads
        # Where the weights are: 'cuda:0' rather than the unindexed 'cuda'.
        self.device_ = str(next(self._network.module.parameters()).device)
        self.encoder_.eval()
        self.decoder_.eval()

    _callback_subtasks = epoch_subtasks

    def _unpublish(self):
        for name in ("encoder_", "decoder_"):
            self.__dict__.pop(name, None)

    def _warn_on_stop(self, reason, incremental, n_rows):
        if reason is StopReason.MAX_ITER and self._max_iter_is_a_budget:
            return
        advice = _few_steps_advice(n_rows, self.batch_size_)
        warning = _stop_warning(
            reason, self.n_iter_, self.max_iter, incremental, advice
        )
        if warning is not None:
            warnings.warn(*warning, stacklevel=2)

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
