"""The shared base of skae's estimators: parameters, validation, fitting, inference."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ._data import (
    RowStream,
    batched_apply,
    column_stats,
    dense_nbytes,
    inference_batch_size,
    network_dtype,
    resident_budget,
    resolve_device,
    to_tensor,
    value_range,
)
from ._memory import memory_guard
from ._modules import ACTIVATIONS, Autoencoder
from ._objective import Objective
from ._penalties import ElasticNet, KLSparsity, L1Activity
from ._persistence import plain_state, restore_state
from ._sklearn_compat import Interval, StrOptions, _fit_context
from ._threads import shared_threads
from ._training import SOLVERS, History, LoopSettings, fit_loop, make_optimizer

FLOAT_DTYPES = (np.float64, np.float32)
# MLPRegressor's batch_size='auto' rule: min(200, n_samples).
_AUTO_BATCH_SIZE = 200
# Seed streams derived from one draw of random_state, so that weight
# initialisation, shuffling/dropout/noise, the validation split, the
# validation rows' corruption, the outlier detector's row subsamples and the
# block order of streamed data are independent of each other. Every stream is
# registered here.
(
    _INIT_STREAM,
    _TRAIN_STREAM,
    _SPLIT_STREAM,
    _VALIDATION_NOISE_STREAM,
    _SUBSAMPLE_STREAM,
    _BLOCK_STREAM,
) = range(6)
# Dense arrays (memmaps included) pass through unconverted when already
# float64/float32, and sklearn's finiteness check reads them in O(1) extra
# memory; sparse input is converted to CSR, whose rows are densified one
# batch at a time.
_ACCEPT_SPARSE = "csr"


def _derived_seed(seed, stream, n_iter=0):
    return int(np.random.SeedSequence([seed, stream, n_iter]).generate_state(1)[0])


def _check_finite_output(out, X):
    """``out``, unless the network overflowed on ``X`` (never return NaN)."""
    if np.isfinite(out).all():
        return out
    raise ValueError(
        "The network's output overflowed (non-finite values) on X, whose "
        f"largest magnitude is {abs(X).max():g}: X is too far outside "
        "the range of the training data. Scale it as the training data were."
    )


class _BaseAutoencoder(BaseEstimator):
    """Base class of skae's estimators; not for direct use.

    Subclasses add mixins and override small hooks (:meth:`_corruption`),
    never the training loop.
    """

    _parameter_constraints: dict = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "output_activation": [StrOptions({"identity", "sigmoid"})],
        "loss": [StrOptions({"mse", "bce"})],
        "solver": [StrOptions(set(SOLVERS))],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "shuffle": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "sparsity": [StrOptions({"kl", "l1"}), None],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "device": [str, torch.device],
    }

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
        self._fit(X)
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
        first_call = not hasattr(self, "_module")
        X = validate_data(
            self, X, dtype=FLOAT_DTYPES, accept_sparse=_ACCEPT_SPARSE, reset=first_call
        )
        self._fit(X, incremental=True)
        return self

    def _fit(self, X, incremental=False):
        """Train on validated ``X``: afresh, warm, or one epoch (``incremental``).

        Returns the training loop's stop reason (see ``_training.fit_loop``).
        """
        self._check_settings(X)
        device = resolve_device(self.device)
        fresh = not hasattr(self, "_module") or not (incremental or self.warm_start)
        if fresh:
            self._initialize(X, device)
        else:
            self._check_same_architecture(X)
        if not incremental or getattr(self, "_optimizer", None) is None:
            self._module.to(device)
            self._optimizer = self._make_optimizer()
        with memory_guard(f"training on {device}", self._training_advice(X)):
            reason = self._run_loop(X, incremental)
        if reason.startswith("diverged"):
            # Its moments saw the non-finite step: later calls start afresh.
            self._optimizer = None
        self._publish_history()
        self._warn_on_stop(reason, incremental, fresh)
        return reason

    def _run_loop(self, X, incremental):
        param = next(self._module.parameters())
        dtype, device = param.dtype, param.device
        history = self._history
        generator = torch.Generator(device=device)
        generator.manual_seed(_derived_seed(self._seed, _TRAIN_STREAM, history.n_iter))
        train_rows, val_rows = self._split_rows(X.shape[0], incremental)
        n_train = X.shape[0] if train_rows is None else len(train_rows)
        settings = LoopSettings(
            max_iter=self.max_iter,
            batch_size=self._batch_size(n_train),
            shuffle=self.shuffle,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            early_stopping=val_rows is not None,
            verbose=int(self.verbose),
            incremental=incremental,
        )
        train, val, X_train = self._loop_data(
            X, train_rows, val_rows, dtype, device, settings.batch_size
        )
        corrupt = self._corruption(X_train)
        self._module.set_generator(generator)
        try:
            with shared_threads():
                return fit_loop(
                    self._module,
                    self._optimizer,
                    self._build_objective(),
                    train,
                    val,
                    settings,
                    generator,
                    history,
                    corrupt,
                    validation_seed=self._validation_seed(val, corrupt),
                )
        finally:
            self._module.set_generator(None)
            # Whatever ends the loop (an error too), inference needs eval mode.
            self._module.eval()

    def _validation_seed(self, val, corrupt):
        """Seed of the validation rows' corruption (None: validate on them clean).

        With a corruption hook the model is validated on what it is trained
        for, undoing corruption. The loop reseeds the corruption at every
        validation pass, so every epoch is judged on the same inputs, whether
        the validation rows are resident or streamed.
        """
        if val is None or corrupt is None:
            return None
        return _derived_seed(self._seed, _VALIDATION_NOISE_STREAM)

    def _loop_data(self, X, train_rows, val_rows, dtype, device, batch_size):
        """The loop's training and validation data, and the host training rows.

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
            return to_tensor(X_train, dtype, device), val, X_train
        seed = _derived_seed(self._seed, _BLOCK_STREAM, self._history.n_iter)
        rng = np.random.default_rng(seed)
        val = None
        if val_rows is not None:
            val = RowStream(X, dtype, device, batch_size, rng, val_rows)
        return RowStream(X, dtype, device, batch_size, rng, train_rows), val, X

    def _initialize(self, X, device):
        # Unfitted until this fit succeeds: a failure part-way must not pair
        # the previous fit's encoder_ with a new network.
        self.__dict__.pop("encoder_", None)
        self.__dict__.pop("decoder_", None)
        rng = check_random_state(self.random_state)
        self._seed = int(rng.randint(np.iinfo(np.int32).max))
        mean, variance = column_stats(X)
        if not (np.isfinite(mean).all() and math.isfinite(variance)):
            raise ValueError(
                "X holds values too large to standardise: their variance "
                f"overflows float64 (largest magnitude {abs(X).max():g}). "
                "Scale X first, e.g. with StandardScaler."
            )
        # Variance-normalised MSE needs a positive, finite divisor; constant
        # data falls back to the raw squared error.
        self._variance = variance if 0 < variance < math.inf else 1.0
        self._architecture = self._current_architecture(X)
        with memory_guard("building the network", self._network_advice()):
            self._module = self._build_module(
                X.shape[1], mean, network_dtype(X.dtype, device)
            )
        init = torch.Generator().manual_seed(_derived_seed(self._seed, _INIT_STREAM))
        self._module.reset_parameters(init)
        self._history = History()
        self._optimizer = None

    def _build_module(self, n_features, mean, dtype):
        # Centre each feature and divide by one global scale: a rotation-
        # and scale-equivariant change of units, so the MSE objective (and
        # hence the linear autoencoder's optimum, PCA's subspace) is unchanged
        # while the network sees unit-scale numbers. The decoder undoes it
        # for an identity output; a sigmoid output predicts [0, 1] data
        # directly, but its encoder still gains from standardised inputs
        # (digits in [0, 1], sigmoid output: ~20% lower test error).
        shift = torch.as_tensor(mean)
        scale = torch.full(
            (n_features,), math.sqrt(self._variance), dtype=torch.float64
        )
        return Autoencoder(
            n_features,
            self.n_components,
            hidden_layer_sizes=self._hidden_sizes(),
            activation=self.activation,
            output_activation=self.output_activation,
            dropout=self.dropout,
            shift=shift,
            scale=scale,
            dtype=dtype,
        )

    def _make_optimizer(self):
        decay = 0.0
        if self.solver == "adamw":
            decay = self.alpha * (1.0 - self.l1_ratio)
        return make_optimizer(self.solver, self._module, self.learning_rate_init, decay)

    def _build_objective(self):
        terms = []
        l1_ratio = 1.0 if self.solver == "adamw" else self.l1_ratio
        alpha = self.alpha * (self.l1_ratio if self.solver == "adamw" else 1.0)
        if alpha > 0:
            terms.append(ElasticNet(alpha, l1_ratio))
        if self.sparsity == "kl":
            tanh = self.activation == "tanh"
            terms.append(KLSparsity(self.sparsity_target, self.sparsity_weight, tanh))
        elif self.sparsity == "l1":
            terms.append(L1Activity(self.sparsity_weight))
        variance = self._variance if self.loss == "mse" else 1.0
        return Objective(self.loss, variance, terms)

    def _corruption(self, X):
        """The hook making a training batch's input from the clean batch.

        Returns ``None`` (inputs are the clean batch) or a callable
        ``corrupt(batch, generator) -> tensor``; see the denoising autoencoder.
        ``X`` is the host training data: an ndarray (possibly a memmap) or a
        CSR matrix; for streamed data it is the whole array, validation rows
        included, so read it in chunks (see ``_data.column_stats``).
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

    def _network_advice(self):
        n_features = self._architecture["n_features"]
        widths = [n_features, *self._hidden_sizes(), self.n_components]
        n_weights = 2 * sum(a * b for a, b in zip(widths[:-1], widths[1:]))
        return (
            f"The network has about {n_weights:.3g} weights (hidden_layer_sizes="
            f"{self.hidden_layer_sizes!r}, n_components={self.n_components}): use "
            "smaller layers."
        )

    def _batch_size(self, n_samples):
        if self.batch_size == "auto":
            return min(_AUTO_BATCH_SIZE, n_samples)
        return min(self.batch_size, n_samples)

    # ------------------------------------------------------------------
    # Checks that need more than one parameter, or the data

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        return [sizes] if isinstance(sizes, Integral) else list(sizes)

    def _check_settings(self, X):
        sizes = self._hidden_sizes()
        if not all(
            isinstance(s, Integral) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise ValueError(
                "hidden_layer_sizes must hold positive integers (layer widths); "
                f"got {self.hidden_layer_sizes!r}."
            )
        if self.loss == "bce" and self.output_activation != "sigmoid":
            raise ValueError(
                "loss='bce' needs output_activation='sigmoid': the binary "
                "cross-entropy compares probabilities in (0, 1)."
            )
        if self.output_activation == "sigmoid":
            self._check_unit_range(X)
        if self.sparsity == "kl" and self.activation not in ("sigmoid", "tanh"):
            raise ValueError(
                "sparsity='kl' compares the mean code activation with "
                "sparsity_target, a rate in (0, 1), so it needs codes in a "
                "bounded range: use activation='sigmoid' or 'tanh' (got "
                f"activation={self.activation!r}), or sparsity='l1'."
            )
        if self.early_stopping and X.shape[0] < 2:
            raise ValueError(
                "early_stopping=True needs at least 2 samples: one to train on "
                f"and one to validate on; got {X.shape[0]}."
            )

    def _check_unit_range(self, X):
        lo, hi = value_range(X)
        if lo < 0 or hi > 1:
            what = "loss='bce'" if self.loss == "bce" else "output_activation='sigmoid'"
            raise ValueError(
                f"{what} needs X in [0, 1], but X ranges over [{lo:g}, {hi:g}]. "
                "Scale it first (e.g. MinMaxScaler) or use "
                "output_activation='identity' with loss='mse'."
            )

    def _current_architecture(self, X):
        return dict(
            n_features=X.shape[1],
            n_components=self.n_components,
            hidden_layer_sizes=tuple(self._hidden_sizes()),
            activation=self.activation,
            output_activation=self.output_activation,
            dropout=self.dropout,
        )

    def _check_same_architecture(self, X):
        current = self._current_architecture(X)
        changed = [k for k, v in current.items() if self._architecture[k] != v]
        if changed:
            raise ValueError(
                "Cannot continue training (warm_start or partial_fit) after "
                f"changing {', '.join(changed)}: the fitted network has "
                f"{self._architecture}. Set warm_start=False to start afresh."
            )

    # ------------------------------------------------------------------
    # After the loop

    def _publish_history(self):
        history = self._history
        self.n_iter_ = history.n_iter
        self.loss_curve_ = list(history.loss_curve)
        self.loss_components_ = {k: list(v) for k, v in history.components.items()}
        self.validation_loss_curve_ = (
            list(history.validation_loss_curve) if self.early_stopping else None
        )
        self.best_loss_ = history.best_loss
        self.encoder_ = self._module.encoder.eval()
        self.decoder_ = self._module.decoder.eval()

    def _warn_on_stop(self, reason, incremental, fresh=True):
        if reason == "diverged_at_start" and (fresh or self._history.n_iter == 0):
            del self.encoder_, self.decoder_
            raise ValueError(
                "Training diverged before any epoch gave usable weights: the "
                "loss or the weights became NaN or infinite. Lower "
                f"learning_rate_init (now {self.learning_rate_init:g}), or scale "
                "the data."
            )
        if reason == "diverged_at_start":
            warnings.warn(
                "Training diverged (the loss or the weights became NaN or "
                "infinite); the weights from before this call were kept. Lower "
                "learning_rate_init to train further.",
                ConvergenceWarning,
            )
        elif reason == "diverged":
            warnings.warn(
                "Training diverged (the loss or the weights became NaN or "
                "infinite); the weights of the best epoch were restored after "
                f"{self.n_iter_} epochs. Lower learning_rate_init to train further.",
                ConvergenceWarning,
            )
        elif reason == "interrupted":
            warnings.warn(
                "Training interrupted by user; the best weights so far are kept.",
                UserWarning,
            )
        elif reason == "max_iter" and not incremental:
            warnings.warn(
                f"Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
            )

    # ------------------------------------------------------------------
    # Inference

    def __sklearn_is_fitted__(self):
        return hasattr(self, "encoder_")

    @property
    def _n_features_out(self):
        return self.encoder_[-1][0].out_features

    def _validate_fitted(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, dtype=FLOAT_DTYPES, accept_sparse=_ACCEPT_SPARSE, reset=False
        )

    def _apply(self, fn, X, out_dtype=None):
        """``fn`` (tensor batch -> tensor) over ``X`` in bounded-memory batches."""
        param = next(self._module.parameters())
        widest = max(
            m.weight.shape[0] for m in self._module.modules() if hasattr(m, "weight")
        )
        advice = "Free memory on the device, or pass fewer rows per call."
        with (
            memory_guard(f"applying the network on {param.device}", advice),
            shared_threads(),
        ):
            out = batched_apply(
                fn,
                X,
                inference_batch_size(max(widest, X.shape[1])),
                param.dtype,
                param.device,
                X.dtype if out_dtype is None else out_dtype,
            )
        return _check_finite_output(out, X)

    def reconstruct(self, X):
        """Reconstruct ``X``: ``inverse_transform(transform(X))`` in one pass.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, `n_features_in_`)
            Reconstructions, in the dtype of ``X``.
        """
        X = self._validate_fitted(X)
        return self._apply(lambda b: self._module(b)[0], X)

    def deep_features(self, X, layer):
        """Activations of any hidden layer (H2O's ``deepfeatures``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        layer : int
            Index of the hidden layer, in forward order: ``0`` to
            ``len(hidden_layer_sizes) - 1`` are the encoder's layers,
            ``len(hidden_layer_sizes)`` is the code layer (the same as the
            codes), and the decoder's hidden layers follow. Negative indices
            count from the last hidden layer.

        Returns
        -------
        activations : ndarray of shape (n_samples, width of the layer)
            The layer's activations (after its activation function), in the
            dtype of ``X``.
        """
        X = self._validate_fitted(X)
        hidden = self._module.hidden_layers()
        if isinstance(layer, bool) or not isinstance(layer, Integral):
            raise TypeError(f"layer must be an int; got {layer!r}.")
        if not -len(hidden) <= layer < len(hidden):
            raise ValueError(
                f"layer={layer} is out of range: this network has {len(hidden)} "
                f"hidden layers (indices 0 to {len(hidden) - 1}, the code layer "
                f"is {len(hidden) // 2})."
            )
        modules = [*self.encoder_, *self.decoder_]
        end = next(i for i, m in enumerate(modules) if m is hidden[layer])
        return self._apply(torch.nn.Sequential(*modules[: end + 1]), X)

    def score_samples(self, X):
        """Minus the mean squared reconstruction error of each sample.

        Higher is better (more typical of the training data), as for PCA's
        ``score_samples`` and scikit-learn's outlier detectors.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            ``-mean((reconstruct(X) - X) ** 2, axis=1)``, in float64.
        """
        X = self._validate_fitted(X)
        return -self._squared_errors(X, per_feature=False)

    def _squared_errors(self, X, per_feature=True):
        """Squared reconstruction errors in float64, per feature or row means.

        Reduced batch by batch, so row means need memory for one batch only.
        """

        def squared_error(batch):
            error = (self._module(batch)[0].double() - batch.double()).square()
            return error if per_feature else error.mean(dim=1)

        return self._apply(squared_error, X, out_dtype=np.float64)

    # ------------------------------------------------------------------
    # Persistence: a plain state (NumPy arrays and builtins, no torch
    # objects), so that pickles load anywhere and skops can trust them.

    def __getstate__(self):
        return plain_state(super().__getstate__())

    def __setstate__(self, state):
        restore_state(self, state, super().__setstate__)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        try:
            tags.non_deterministic = resolve_device(self.device).type == "cuda"
        except ValueError:
            pass
        return tags
