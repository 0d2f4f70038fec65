"""DenoisingAutoencoder: an autoencoder trained to undo corruption."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Real

import numpy as np

from ._docstrings import (
    DENOISER_LEARNING_RATE_DOC,
    DENOISER_TOL_DOC,
    fill_doc,
)
from ._noise import NOISES, Corruption
from ._sklearn_compat import Interval, StrOptions
from ._transformer import AutoencoderTransformer

# noise='missing': a hidden cell counts this many times a visible one in the
# loss (emphasised denoising).
_HIDDEN_WEIGHT = 4.0
# The 'auto' network of tabular data (the defaults before images came).
_AUTO_TABLE_CODE = 2
_AUTO_TABLE_HIDDEN = (100,)


@fill_doc(
    n_components=(
        "int, 'auto' or None",
        """\
Width of the code (bottleneck) layer: the number of features
``transform`` returns. ``'auto'`` is 2 for a dense network; with
``image_shape`` it is None: the last convolution's feature map is the
code (no dense layers), what denoising images needs rather than a
small code (Fashion-MNIST, 10,000 images, 10 epochs: 19.65 dB against
19.16 dB with a dense code of 64; see the User Guide). None asks for the
feature map explicitly (with ``image_shape`` and
``hidden_layer_sizes=()``). The fitted width is ``n_components_``.""",
    ),
    hidden_layer_sizes=(
        "array-like of int or 'auto'",
        """\
Widths of the encoder layers between the input and the code layer; the
decoder mirrors them. ``()`` gives a single-layer encoder and decoder.
``'auto'`` is ``(100,)`` for a dense network and ``()`` with
``image_shape``. The fitted widths are ``hidden_layer_sizes_``.""",
    ),
    learning_rate_init=("float or 'auto'", DENOISER_LEARNING_RATE_DOC),
    tol=("float or 'auto'", DENOISER_TOL_DOC),
)
class DenoisingAutoencoder(AutoencoderTransformer):
    """Denoising autoencoder: learns to reconstruct clean data from corrupted data.

    Each training batch is fed to the network as a freshly corrupted copy
    (new noise at every epoch) while the loss compares the reconstruction
    with the **clean** batch, so the network learns to remove the noise
    rather than to copy its input (Vincent et al., 2008). Everything else is
    :class:`AutoencoderTransformer`: :meth:`transform` returns codes,
    :meth:`inverse_transform` reconstructions, and no inference method ever
    adds noise. :meth:`denoise` returns the cleaned-up version of (noisy)
    data.

    Corrupted values are clipped to each feature's training range
    (``data_min_`` to ``data_max_``), as real noisy data would be: images in
    [0, 1] stay in [0, 1].

    Parameters
    ----------
    {n_components}

    noise : {'gaussian', 'masking', 'salt_and_pepper', 'missing'}, \
default='gaussian'
        How training inputs are corrupted.

        - ``'gaussian'``: additive N(0, ``noise_level`` ** 2) noise, in the
          units of ``X`` (for standardised data, ``noise_level`` counts
          standard deviations).
        - ``'masking'``: each entry set to 0 with probability
          ``noise_level`` (Vincent et al.'s masking noise, H2O's
          ``input_dropout_ratio``); a feature whose range excludes 0 gets
          the end of its range nearest 0 instead.
        - ``'salt_and_pepper'``: each entry set, with probability
          ``noise_level``, to its feature's training minimum or maximum
          (either with probability 1/2).
        - ``'missing'``: each entry hidden with probability ``noise_level``,
          as a missing value (NaN) is: the network learns to fill cells in
          from the rest of their row, which is how
          :class:`AutoencoderImputer` trains (MIDA, Gondara and Wang, 2018).
          The loss counts each hidden cell 4 times a visible one
          (emphasised denoising, Vincent et al., 2010).

    noise_level : float, default=0.1
        Standard deviation of the Gaussian noise, or the probability that an
        entry is corrupted (must then be below 1). ``0`` trains exactly as
        :class:`AutoencoderTransformer` does.

    {architecture_parameters}

    {image_parameters}

    {training_parameters}

    {regularization_parameters}

    {runtime_parameters}

    Attributes
    ----------
    data_min_ : ndarray of shape (`n_features_in_`,)
        Per-feature minimum of the data trained on, the lower clipping bound
        of the corruption (float64).

    data_max_ : ndarray of shape (`n_features_in_`,)
        Per-feature maximum of the data trained on, the upper clipping bound.

    {fitted_attributes}

    See Also
    --------
    AutoencoderTransformer : The same model trained on clean inputs.
    sklearn.decomposition.PCA : Linear dimensionality reduction; its
        ``inverse_transform(transform(X))`` is the linear baseline for
        denoising.
    skae.metrics.psnr : Peak signal-to-noise ratio of reconstructions.

    Notes
    -----
    With ``early_stopping=True`` the validation loss measures what the model
    is trained for: how well it reconstructs the clean held-out rows from a
    corrupted copy of them. That corruption is drawn once per fit (seeded by
    ``random_state``), so every epoch is judged on the same inputs and
    ``validation_loss_curve_`` is not jittered by fresh noise.

    ``data_min_`` and ``data_max_`` cover every row passed to ``fit`` or
    :meth:`partial_fit` since the network was initialised (rows held out by
    ``early_stopping`` included: they are data the features can take):
    ``fit`` starts them afresh (but a warm-started fit widens them), and
    each :meth:`partial_fit` call widens them with its chunk, so noise on a
    stream of chunks is clipped to the range of all data seen so far.

    References
    ----------
    P. Vincent, H. Larochelle, Y. Bengio and P.-A. Manzagol, "Extracting and
    composing robust features with denoising autoencoders", ICML 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAutoencoder
    >>> from skae.metrics import psnr
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16.0  # pixels in [0, 1]
    >>> rng = np.random.default_rng(0)
    >>> X_noisy = np.clip(X + rng.normal(scale=0.3, size=X.shape), 0, 1)
    >>> dae = DenoisingAutoencoder(
    ...     n_components=16, noise_level=0.3, hidden_layer_sizes=(64,),
    ...     batch_size=32, learning_rate_init=3e-3, max_iter=5, random_state=0,
    ... )
    >>> X_denoised = dae.fit(X).denoise(X_noisy)
    >>> X_denoised.shape
    (1797, 64)
    >>> bool(psnr(X, X_denoised) > psnr(X, X_noisy))
    True
    """

    _parameter_constraints: dict = {
        **AutoencoderTransformer._parameter_constraints,
        "noise": [StrOptions(set(NOISES))],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "n_components": [
            StrOptions({"auto"}),
            *AutoencoderTransformer._parameter_constraints["n_components"],
        ],
        "hidden_layer_sizes": [
            StrOptions({"auto"}),
            *AutoencoderTransformer._parameter_constraints["hidden_layer_sizes"],
        ],
    }

    def __init__(
        self,
        n_components="auto",
        *,
        noise="gaussian",
        noise_level=0.1,
        hidden_layer_sizes="auto",
        image_shape=None,
        conv_channels=(32, 64),
        kernel_size=3,
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
        sparsity_k=None,
        sparsity_k_start=None,
        sparsity_alpha=1.0,
        sparsity_rate=0.05,
        contractive_weight=0.0,
        tied_weights=False,
        warm_start=False,
        verbose=0,
        random_state=None,
        device="auto",
        n_threads="auto",
    ):
        super().__init__(
            n_components,
            hidden_layer_sizes=hidden_layer_sizes,
            image_shape=image_shape,
            conv_channels=conv_channels,
            kernel_size=kernel_size,
            activation=activation,
            output_activation=output_activation,
            loss=loss,
            solver=solver,
            learning_rate_init=learning_rate_init,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            alpha=alpha,
            l1_ratio=l1_ratio,
            dropout=dropout,
            sparsity=sparsity,
            sparsity_target=sparsity_target,
            sparsity_weight=sparsity_weight,
            sparsity_k=sparsity_k,
            sparsity_k_start=sparsity_k_start,
            sparsity_alpha=sparsity_alpha,
            sparsity_rate=sparsity_rate,
            contractive_weight=contractive_weight,
            tied_weights=tied_weights,
            warm_start=warm_start,
            verbose=verbose,
            random_state=random_state,
            device=device,
            n_threads=n_threads,
        )
        self.noise = noise
        self.noise_level = noise_level

    def denoise(self, X):
        """Return the denoised version of ``X``.

        The network's reconstruction of the given, possibly noisy, input;
        the same as :meth:`reconstruct` and as
        ``inverse_transform(transform(X))``. No noise is added.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to clean up.

        Returns
        -------
        X_denoised : {ndarray, dataframe} of shape (n_samples, `n_features_in_`)
            Denoised data, in the dtype of ``X``; a DataFrame with the
            input's feature names when ``set_output`` asks for one.
        """
        return self.reconstruct(X)

    # ------------------------------------------------------------------
    # Hooks of the base class

    def _n_components(self):
        if self.n_components != "auto":
            return self.n_components
        return None if self.image_shape is not None else _AUTO_TABLE_CODE

    def _hidden_sizes(self):
        if self.hidden_layer_sizes != "auto":
            return super()._hidden_sizes()
        return () if self.image_shape is not None else _AUTO_TABLE_HIDDEN

    def _check_settings(self, X, summary):
        super()._check_settings(X, summary)
        if self.noise != "gaussian" and self.noise_level >= 1:
            raise ValueError(
                f"noise_level={self.noise_level!r} is invalid for "
                f"noise={self.noise!r}: it is the probability that an entry "
                "is corrupted, and must be in [0, 1) (at 1 every input would "
                "be destroyed)."
            )

    def _allows_wide_code(self):
        # Noise keeps a wide code from copying its input (Vincent et al.'s
        # overcomplete denoising autoencoders).
        return super()._allows_wide_code() or self.noise_level > 0

    def _hidden_weight(self):
        # Measured on the imputation benchmark's tuning tables: the cells to
        # fill in weighed 4 times the visible ones lowered the RMSE by 4 %.
        return _HIDDEN_WEIGHT if self.noise == "missing" else 1.0

    def _fill_passes(self):
        # Trained to read hidden cells as missing, it reads them directly
        # (filling them in first raised the imputation error by 3 %).
        return 0 if self.noise == "missing" else super()._fill_passes()

    def _observe_data(self, summary, fresh):
        # A new network starts a new clipping range; continued training
        # widens it (see Notes).
        low, high = summary.min, summary.max
        if not fresh:
            low = np.minimum(low, self.data_min_)
            high = np.maximum(high, self.data_max_)
        self.data_min_, self.data_max_ = low, high

    def _corruption(self):
        if self.noise_level == 0:
            return None
        return Corruption(self.noise, self.noise_level, self.data_min_, self.data_max_)
