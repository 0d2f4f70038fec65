"""Batched inference shared by skae's estimators: reconstructions, layers, scores."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
import torch
from scipy import sparse
from sklearn.base import TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._data import batched_apply, dense_rows, inference_batch_size
from ._memory import memory_guard
from ._networks import fill_in
from ._seeds import seed_of
from ._sklearn_compat import _check_feature_names_in, wrap_output
from ._threads import threads_for

FLOAT_DTYPES = (np.float64, np.float32)
# Dense arrays (memmaps included) pass through unconverted when already
# float64/float32, and sklearn's finiteness check reads them in O(1) extra
# memory; sparse input is converted to CSR, whose rows are densified one
# batch at a time.
_ACCEPT_SPARSE = "csr"
# Passes of fill_in over a row with missing cells (digits, a fifth of the
# cells missing, 16 codes, two seeds: a classifier on the codes scored
# 0.904/0.916 with none, 0.924/0.933 after one pass, 0.942/0.936 after two,
# 0.940/0.938 after three).
_FILL_PASSES = 2


def _check_finite_output(out, X, missing_ok=False):
    """``out``, unless the network overflowed on ``X`` (never return NaN, but
    where ``missing_ok`` says NaN marks what ``X`` did not observe)."""
    finite = np.isfinite(out)
    if finite.all() or (missing_ok and _nan_marks_missing(out, finite, X)):
        return out
    raise ValueError(
        "The network's output overflowed (non-finite values) on X, whose "
        f"largest magnitude is {_largest_magnitude(X):g}: X is too far outside "
        "the range of the training data. Scale it as the training data were."
    )


def _nan_marks_missing(out, finite, X):
    """Whether every non-finite value of ``out`` is a NaN that stands for
    nothing observed: a missing cell of ``X`` (per-cell output), or a row
    of ``X`` with no observed cell (per-row output)."""
    if np.isinf(out).any():
        return False
    bad = ~finite.reshape(out.shape[0], -1)
    rows = np.flatnonzero(bad.any(axis=1))
    missing = np.isnan(dense_rows(X, rows))
    if out.ndim == 1:
        return bool(missing.all(axis=1).all())
    return bool(missing[bad[rows]].all())


def _largest_magnitude(X):
    if sparse.issparse(X):
        return abs(X).max()
    return np.nanmax(np.abs(X))


class _InferenceMixin:
    """Inference over a fitted ``_network``, in bounded-memory batches.

    Mixed into ``_BaseAutoencoder``; every method here reads the fitted
    network and changes nothing.
    """

    def __sklearn_is_fitted__(self):
        return hasattr(self, "encoder_")

    @property
    def _n_features_out(self):
        return self._network.recipe.n_components

    @property
    def n_components_(self):
        """Width of the code layer of the fitted network."""
        return self._network.recipe.n_components

    @property
    def hidden_layer_sizes_(self):
        """Widths of the encoder's hidden layers of the fitted network."""
        return self._network.recipe.hidden_layer_sizes

    def _validate_fitted(self, X):
        check_is_fitted(self)
        return validate_data(
            self,
            X,
            dtype=FLOAT_DTYPES,
            accept_sparse=_ACCEPT_SPARSE,
            ensure_all_finite="allow-nan",
            reset=False,
        )

    def _apply(self, fn, X, out_dtype=None, missing_ok=False):
        """``fn`` (tensor batch -> tensor) over ``X`` in bounded-memory batches.

        ``missing_ok``: ``fn`` returns NaN for missing inputs (per-cell
        errors, the scores of rows with no observed cell).
        """
        module = self._network.module
        param = next(module.parameters())
        advice = "Free memory on the device, or pass fewer rows per call."
        batch_size = inference_batch_size(max(module.widest_activation(), X.shape[1]))
        work = min(batch_size, X.shape[0]) * module.multiply_adds()
        with (
            memory_guard(f"applying the network on {param.device}", advice),
            threads_for(self.n_threads, work, module.single_thread_work()),
        ):
            out = batched_apply(
                fn,
                X,
                batch_size,
                param.dtype,
                param.device,
                X.dtype if out_dtype is None else out_dtype,
            )
        return _check_finite_output(out, X, missing_ok)

    def _reconstruction(self, batch):
        """The reconstruction of a tensor batch: the decoder applied to its codes.

        Deterministic for every network (the variational one decodes its
        posterior means).
        """
        return self.decoder_(self.encoder_(self._filled_in(batch)))

    def _filled_in(self, batch):
        """A tensor batch with its missing cells filled in (see
        :func:`~skae._networks.fill_in`), as the estimator's networks read
        rows: after a fit on data with missing values (``_fill_passes``)."""
        passes = self._fill_passes()
        if passes == 0 or not torch.isnan(batch).any():
            return batch
        return fill_in(self.encoder_, self.decoder_, batch, passes)

    def _fill_passes(self):
        """How many times inference fills missing cells in before reading a
        row: a network that learnt from incomplete rows refines them; one that
        saw none reads a missing cell as the training mean."""
        return _FILL_PASSES if getattr(self, "_learnt_missing", False) else 0

    def reconstruct(self, X):
        """Reconstruct ``X``: ``inverse_transform(transform(X))`` in one pass.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        X_reconstructed : {ndarray, dataframe} of shape (n_samples, `n_features_in_`)
            Reconstructions, in the dtype of ``X``; a DataFrame with the
            input's feature names when ``set_output`` asks for one.
        """
        X_valid = self._validate_fitted(X)
        out = self._apply(self._reconstruction, X_valid)
        return self._configured_output(out, X, self._input_feature_names)

    def deep_features(self, X, layer):
        """Activations of any hidden layer (H2O's ``deepfeatures``).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        layer : int or 'code'
            Index of the hidden layer, in forward order: ``0`` to
            ``len(hidden_layer_sizes) - 1`` are the encoder's layers,
            ``len(hidden_layer_sizes)`` is the code layer (the same as the
            codes, after any top-k rule), and the decoder's hidden layers
            follow. With ``image_shape``, the encoder's convolutions come
            first (one layer each, its feature maps flattened channels
            first) and the decoder's transposed convolutions last, so the
            dense layers' indices shift by ``len(conv_channels)``.
            Negative indices count from the last hidden layer. ``'code'`` is
            the code layer, whatever the depth.

        Returns
        -------
        activations : {ndarray, dataframe} of shape (n_samples, width of the layer)
            The layer's activations (after its activation function), in the
            dtype of ``X``. When ``set_output`` asks for a DataFrame, its
            columns are named ``<class name in lower case>_layer<k>_<j>``
            for unit ``j`` of layer ``k`` (the non-negative index), e.g.
            ``autoencodertransformer_layer0_5``.
        """
        X_valid = self._validate_fitted(X)
        module = self._network.module
        n_layers, code = module.n_hidden_layers(), module.code_layer_index()
        if layer == "code":
            layer = code
        if isinstance(layer, bool) or not isinstance(layer, Integral):
            raise TypeError(f"layer must be an int or 'code'; got {layer!r}.")
        if not -n_layers <= layer < n_layers:
            raise ValueError(
                f"layer={layer} is out of range: this network has {n_layers} "
                f"hidden layers (indices 0 to {n_layers - 1}, the code layer "
                f"is {code})."
            )
        index, prefix = layer % n_layers, type(self).__name__.lower()
        features = module.layer_features(index)
        out = self._apply(lambda batch: features(self._filled_in(batch)), X_valid)
        return self._configured_output(
            out,
            X,
            lambda: [f"{prefix}_layer{index}_{j}" for j in range(out.shape[1])],
        )

    def _draw_rows(self, n_samples, random_state, draw):
        """``draw(module, n, generator, batch_size)`` for ``sample``: new rows,
        in bounded-memory batches, from a generator seeded by ``random_state``."""
        check_is_fitted(self)
        if (
            isinstance(n_samples, bool)
            or not isinstance(n_samples, Integral)
            or n_samples < 1
        ):
            raise ValueError(
                f"n_samples must be a positive integer; got {n_samples!r}."
            )
        module = self._network.module
        device = next(module.parameters()).device
        generator = torch.Generator(device=device).manual_seed(seed_of(random_state))
        batch_size = inference_batch_size(max(self.n_features_in_, 1024))
        work = batch_size * module.multiply_adds()
        with threads_for(self.n_threads, work, module.single_thread_work()):
            rows = draw(module, int(n_samples), generator, batch_size)
        return rows.cpu().numpy()

    def _filters(self, layer):
        """The network's learned filters (``layer``: 'encoder' or 'decoder'),
        one per row, as a float64 array (see ``FiltersDisplay``)."""
        check_is_fitted(self)
        filters = self._network.module.filters(layer)
        return filters.detach().cpu().double().numpy()

    def _filter_shape(self, layer):
        """The shape one of :meth:`_filters` is drawn in, or None when it is
        the input's."""
        check_is_fitted(self)
        return self._network.module.filter_shape(layer)

    def _configured_output(self, data, X, columns):
        """``data`` as ``set_output`` asks, for estimators that have it.

        ``columns`` is a callable giving the column names.
        """
        if not hasattr(self, "set_output"):
            return data
        return wrap_output(self, data, X, columns)

    def _input_feature_names(self):
        return _check_feature_names_in(self, None)

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
        A missing cell (NaN) has a NaN error and the row means are over the
        observed cells (NaN for a row with none).
        """

        def squared_error(batch):
            # In place, in one float64 buffer: the float32 batch is promoted
            # exactly, so the result is that of (rec - batch) in float64.
            error = self._reconstruction(batch).double().sub_(batch).square_()
            if per_feature:
                return error
            return error.nanmean(dim=1) if error.isnan().any() else error.mean(dim=1)

        return self._apply(squared_error, X, out_dtype=np.float64, missing_ok=True)


class _TransformerSideMixin(TransformerMixin):
    """What the estimators with codes share: encoding, decoding, and a
    label-free ``score``.

    For :class:`~skae.AutoencoderTransformer` (and its denoiser),
    :class:`~skae.VariationalAutoencoder` and
    :class:`~skae.AdversarialAutoencoder`; ``score`` is what ``GridSearchCV``
    maximises when it is given no ``scoring``. A ``TransformerMixin``, so
    that ``set_output`` wraps the ``transform`` defined here.
    """

    def transform(self, X):
        """Encode ``X``: the code-layer activations.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes, in the dtype of ``X``.
        """
        X = self._validate_fitted(X)
        return self._apply(lambda batch: self.encoder_(self._filled_in(batch)), X)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, e.g. from :meth:`transform` (for the variational
            autoencoder, draws from the prior ``N(0, I)`` too, for new,
            noise-free rows).

        Returns
        -------
        X_original : ndarray of shape (n_samples, `n_features_in_`)
            Reconstructions in the units of the training data (the means of
            ``p(x | z)`` for the variational autoencoder: probabilities for
            the Bernoulli likelihood), in the dtype of the codes.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=FLOAT_DTYPES)
        if X.shape[1] != self._n_features_out:
            raise ValueError(
                f"X has {X.shape[1]} features, but inverse_transform expects "
                f"{self._n_features_out} (the n_components of the fitted model)."
            )
        return self._apply(self.decoder_, X)

    def score(self, X, y=None):
        """Mean of :meth:`score_samples` over ``X``; higher is better.

        Minus the mean squared reconstruction error for the autoencoders
        trained on a reconstruction loss, the mean log-likelihood per row
        (nats) for the variational autoencoder: a label-free score with
        which :class:`~sklearn.model_selection.GridSearchCV` selects
        architectures.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            Mean of :meth:`score_samples`.
        """
        return float(np.mean(self.score_samples(X)))
