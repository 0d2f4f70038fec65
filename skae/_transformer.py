"""AutoencoderTransformer: a non-linear drop-in for PCA."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from sklearn.base import ClassNamePrefixFeaturesOutMixin

from ._docstrings import (
    AUTO_LEARNING_RATE_DOC,
    AUTO_TOL_DOC,
    MAP_CODE_N_COMPONENTS,
    fill_doc,
)
from ._inference import _TransformerSideMixin
from ._params import PARAMETER_CONSTRAINTS
from ._reconstruction import _ReconstructionAutoencoder
from ._sklearn_compat import StrOptions


@fill_doc(
    n_components=MAP_CODE_N_COMPONENTS,
    learning_rate_init=("float or 'auto'", AUTO_LEARNING_RATE_DOC),
    tol=("float or 'auto'", AUTO_TOL_DOC),
)
class AutoencoderTransformer(
    ClassNamePrefixFeaturesOutMixin,
    _TransformerSideMixin,
    _ReconstructionAutoencoder,
):
    """Autoencoder dimensionality reduction: a non-linear drop-in for PCA.

    An MLP encoder maps each sample to ``n_components`` codes and a mirrored
    decoder maps codes back to the input space; both are trained together
    to reconstruct the data. :meth:`transform` returns the codes,
    :meth:`inverse_transform` the reconstructions, and :meth:`score` minus
    the mean squared reconstruction error, so that
    :class:`~sklearn.model_selection.GridSearchCV` can pick an architecture
    with no labels and no ``scoring``.

    The data are centred and divided by one global scale inside the network
    (a change of units that leaves the squared-error objective unchanged),
    so no scaler is needed for the optimisation to behave; as with PCA,
    standardise features with different units first if each should count
    equally. With ``activation='identity'`` and ``hidden_layer_sizes=()``
    the model is a linear autoencoder, whose optimum spans PCA's subspace.

    Parameters
    ----------
    {n_components}

    {architecture_parameters}

    {image_parameters}

    {training_parameters}

    {regularization_parameters}

    {runtime_parameters}

    Attributes
    ----------
    {fitted_attributes}

    See Also
    --------
    sklearn.decomposition.PCA : Linear dimensionality reduction.
    DenoisingAutoencoder : Autoencoder trained to undo corruption.
    AutoencoderOutlierDetector : Outlier detection by reconstruction error.

    Notes
    -----
    The defaults (one hidden layer of 100 ELU units, ELU codes, Adam at
    1e-3, batches of up to 200 rows, up to 200 epochs) were chosen by
    measurement on digits, wine and MNIST: ELU units do not die the way
    ReLU codes can, and with the internal centring and scaling they beat
    PCA's reconstruction error and give codes on which a linear classifier
    does at least as well as on PCA's components.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_iter=50, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:2]
    array(['autoencodertransformer0', 'autoencodertransformer1'], dtype=object)
    """

    _parameter_constraints: dict = {
        **_ReconstructionAutoencoder._parameter_constraints,
        "learning_rate_init": [
            StrOptions({"auto"}),
            *PARAMETER_CONSTRAINTS["learning_rate_init"],
        ],
        "tol": [StrOptions({"auto"}), *PARAMETER_CONSTRAINTS["tol"]],
    }

    def __init__(
        self,
        n_components=2,
        *,
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
        tol="auto",
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

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit to ``X`` and return its codes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.

        y : Ignored
            Not used, present for API consistency by convention.

        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row, as in :meth:`fit`.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Codes of ``X``, in the dtype of ``X``.
        """
        return self.fit(X, y, sample_weight=sample_weight).transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
