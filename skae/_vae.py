"""VariationalAutoencoder: a deep, non-linear probabilistic PCA."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassNamePrefixFeaturesOutMixin

from ._base import _BaseAutoencoder
from ._docstrings import fill_doc
from ._inference import _TransformerSideMixin
from ._params import PARAMETER_CONSTRAINTS
from ._recipe import NetworkRecipe
from ._schedules import CosineLearningRate, KLWarmUp
from ._seeds import Stream, derived_seed
from ._sklearn_compat import Interval, StrOptions
from ._variational import (
    LIKELIHOODS,
    NOISE_FLOORS,
    VariationalObjective,
    draw_samples,
    importance_weighted_log_likelihood,
    observation,
    reparameterize,
)

# A code unit is active when its posterior mean varies across the data by
# more than this (in units of the prior's variance, 1): Burda et al.'s
# measure of posterior collapse.
_ACTIVE_VARIANCE = 0.01
# learning_rate='cosine' ends at this fraction of learning_rate_init
# (binarized MNIST: 1e-3 to 5e-5 over 160 epochs, test NLL 74.2 nats).
_COSINE_FINAL_FACTOR = 0.05
# Parameters of the other estimators that a likelihood replaces or that
# make no sense for a Gaussian code.
_NOT_VARIATIONAL = {
    "loss",
    "output_activation",
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


@fill_doc(
    n_components="""\
Dimension of the latent code: the number of features ``transform``
returns (posterior means).""",
    activation="""\
Activation of every hidden layer. The code layer itself is linear: it
outputs the mean and the log-variance of the Gaussian posterior.""",
    tol="""\
Minimum improvement of the monitored loss (the negative ELBO, in nats
per row) that counts as progress.""",
    n_iter_no_change="""\
Training stops once the monitored loss (the training negative ELBO, or
the validation one when ``early_stopping=True``) has not improved by
``tol`` for more than this many consecutive epochs. The ELBO is a noisy
one-sample estimate that keeps improving slowly, so this rule rarely
stops a variational autoencoder before ``max_iter``.""",
    early_stopping="""\
Hold out ``validation_fraction`` of the rows, monitor their negative
ELBO (one seeded draw per row, the same at every epoch, with the KL
term at full weight) and, at the end, restore the weights of the epoch
where it was lowest. Training longer on all rows measured better on
digits.""",
    alpha="""\
Strength of the elastic-net weight penalty
``alpha * (l1_ratio * ||W||_1 + (1 - l1_ratio) / 2 * ||W||_2^2)``,
summed over every weight matrix and added to the negative ELBO (nats
per row) of each batch.""",
    loss_curve_="""\
Negative ELBO of each epoch in nats per row (plus the weight
penalty, if any), averaged over its batches: the sum of
``loss_components_``, whatever ``beta`` and ``kl_warmup`` are
(they weight the KL term in the gradient only).""",
    loss_components_="""\
The two terms of the negative ELBO per epoch: ``'reconstruction'``,
the expected negative log-likelihood ``-E_q[log p(x | z)]``, and
``'kl'``, the KL divergence of the posterior from the prior;
``'weight_penalty'`` too when ``alpha > 0``.""",
    validation_loss_curve_="""\
Validation negative ELBO of each epoch when
``early_stopping=True``, else None.""",
    explained_variance_ratio_="""\
Fraction of the training data's variance that the reconstruction
(the decoder's means at the posterior means) explains, split over the
code units as for :class:`AutoencoderTransformer`: entry ``j`` is unit
``j``'s share (column ``j`` of :meth:`transform`, the posterior means;
unsorted), measured by decoding the posterior means with unit ``j``
replaced by its mean, and ``explained_variance_ratio_.sum()`` is the
total ``1 - SSE / SST``. Inactive units (``active_components_``) get
(almost) nothing. On at most 2,000 training rows; after ``partial_fit``,
measured on the last chunk.""",
    encoder_="""\
The trained encoder, in eval mode: maps raw ``X`` (as a tensor) to
posterior means.""",
    decoder_="""\
The trained decoder, in eval mode: maps codes to the means of
``p(x | z)`` in the units of ``X``.""",
)
class VariationalAutoencoder(
    ClassNamePrefixFeaturesOutMixin,
    _TransformerSideMixin,
    _BaseAutoencoder,
):
    """Variational autoencoder: a deep, non-linear probabilistic PCA.

    A latent variable model ``z ~ N(0, I)``, ``x | z ~ p(x | decoder(z))``
    trained by maximising the evidence lower bound (ELBO) with one
    reparameterised sample per row and the analytic KL divergence (Kingma
    and Welling, 2014). Probabilistic PCA is the same model with a linear
    decoder and isotropic Gaussian noise; this one is non-linear, so it
    is a drop-in wherever PCA's likelihood or a density model is used:

    - :meth:`score_samples` is the log-likelihood of each row, estimated
      by importance sampling (the IWAE bound), in nats and in the units of
      ``X``, comparable with :meth:`sklearn.decomposition.PCA.score_samples`
      and :meth:`sklearn.mixture.GaussianMixture.score_samples`; so
      :class:`~sklearn.model_selection.GridSearchCV` selects the
      architecture by held-out likelihood with no labels;
    - :meth:`sample` draws new rows, as :meth:`KernelDensity.sample
      <sklearn.neighbors.KernelDensity.sample>` does;
    - :meth:`transform` returns the posterior means (deterministic),
      ``transform(X, return_std=True)`` the posterior standard deviations
      too, and :meth:`inverse_transform` the decoder's means.

    The encoder reads the data centred and divided by one global scale (as
    every skae estimator does); the Gaussian likelihood is evaluated in
    those units and carried back to the units of ``X`` by the Jacobian of
    that change of units.

    Parameters
    ----------
    {n_components}

    likelihood : {'gaussian', 'bernoulli'}, default='gaussian'
        The observation model ``p(x | z)``. ``'gaussian'``: the decoder
        gives the means and the noise variance is learned (see
        ``noise_variance``). ``'bernoulli'``: the decoder gives the
        probability of each feature being 1; ``X`` must lie in [0, 1], and
        scores are proper log-probabilities for binary data.

    noise_variance : {'isotropic', 'per_feature'}, default='isotropic'
        The Gaussian noise variance: one for all features (as in
        probabilistic PCA), or one per feature (as in factor analysis).
        Both are floored so that constant features keep the likelihood
        finite: at ``1e-6`` times the data's mean per-feature variance for
        the isotropic one, at ``1e-2`` times it for the per-feature one,
        because one variance per feature shrinks to the floor on every
        near-constant feature and the floor then sets a large part of the
        score (on digits a model with no latent structure at all beats
        PCA that way). Per-feature scores are therefore not comparable
        with PCA's; use ``'isotropic'`` for that. Ignored by the
        Bernoulli likelihood.

    beta : float, default=1.0
        Weight of the KL term in the minimised loss (the beta-VAE). ``1``
        is the ELBO; smaller values give sharper reconstructions and a
        worse likelihood.

    kl_warmup : int, default=0
        Number of epochs over which the weight of the KL term rises
        linearly from ``beta / kl_warmup`` to ``beta`` (counted from the
        network's initialisation, across :meth:`partial_fit` calls). ``0``
        trains at ``beta`` from the start. A remedy against posterior
        collapse (see ``active_components_``).

    n_importance_samples : int, default=100
        Samples per row of the importance-weighted estimate of
        :meth:`score_samples`. The estimate is a lower bound that rises
        towards ``log p(x)`` with more samples (digits, 32 codes: 0.5 nats
        from 100 to 1000 samples), and costs proportionally.

    {hidden_layer_sizes}

    {image_parameters}

    {activation}

    {solver}

    learning_rate : {'constant', 'cosine'}, default='constant'
        Learning-rate schedule. ``'cosine'`` decays it from
        ``learning_rate_init`` to ``learning_rate_init / 20`` along half a
        cosine over the first ``max_iter`` epochs since the network was
        initialised (so over the epochs of a fresh ``fit``, or over
        ``max_iter`` calls of :meth:`partial_fit`); it stays there after.
        The setting that reaches the best likelihoods in long fits.

    {learning_rate_init}

    {batch_size}

    {max_iter}

    {tol}

    {n_iter_no_change}

    {early_stopping}

    {validation_fraction}

    {shuffle}

    {alpha}

    {l1_ratio}

    {dropout}

    {runtime_parameters}

    Attributes
    ----------
    noise_variance_ : ndarray of shape (`n_features_in_`,) or None
        The Gaussian noise variance of each feature, in the units of ``X``
        squared (all equal when isotropic; compare with PCA's
        ``noise_variance_``). None for the Bernoulli likelihood.

    code_variance_ : ndarray of shape (n_components,)
        Variance of each code unit's posterior mean over the rows of the
        latest training call. Near 0, the unit carries no information
        about the data: its posterior collapsed to the prior.

    active_components_ : ndarray of shape (n_components,), dtype=bool
        The active code units: ``code_variance_ > 0.01``. Their number
        (``active_components_.sum()``) is how many dimensions the model
        actually uses.

    {fitted_attributes}

    See Also
    --------
    sklearn.decomposition.PCA : Probabilistic PCA, the linear-Gaussian case.
    sklearn.decomposition.FactorAnalysis : Linear, with per-feature noise.
    sklearn.mixture.GaussianMixture : A density model with ``sample``.
    AutoencoderTransformer : Deterministic codes, trained on squared error.

    Notes
    -----
    The defaults (one hidden layer of 100 ELU units, Adam at 1e-3, batches
    of up to 200 rows, 200 epochs) were chosen on digits and judged on
    MNIST (see the benchmarks page); on larger data,
    ``learning_rate='cosine'`` with more epochs reaches the best
    likelihoods. The noise log-variance is learned with ten times
    ``learning_rate_init``: it must move orders of magnitude further than
    any weight.

    ``loss_curve_`` is noisy (one sampled code per row and epoch), so the
    ``tol`` / ``n_iter_no_change`` rule rarely stops training early; set
    ``max_iter`` to the budget you want.

    :meth:`score_samples` uses the same ``n_importance_samples`` standard
    normal draws for every row, seeded from ``random_state`` at ``fit``,
    so the same fitted model gives the same scores, and a row's score does
    not depend on the other rows passed with it.

    References
    ----------
    D. P. Kingma and M. Welling, "Auto-encoding variational Bayes", ICLR
    2014.

    Y. Burda, R. Grosse and R. Salakhutdinov, "Importance weighted
    autoencoders", ICLR 2016.

    M. E. Tipping and C. M. Bishop, "Probabilistic principal component
    analysis", JRSS B 61(3), 1999.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.decomposition import PCA
    >>> from skae import VariationalAutoencoder
    >>> X, _ = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> vae = VariationalAutoencoder(n_components=8, max_iter=50, random_state=0)
    >>> vae.fit(X[:1500]).transform(X[1500:]).shape
    (297, 8)
    >>> ppca = PCA(n_components=8).fit(X[:1500])
    >>> bool(vae.score(X[1500:]) > ppca.score(X[1500:]))
    True
    >>> vae.sample(3, random_state=0).shape
    (3, 64)
    """

    _parameter_constraints: dict = {
        **{
            name: constraint
            for name, constraint in PARAMETER_CONSTRAINTS.items()
            if name not in _NOT_VARIATIONAL
        },
        "likelihood": [StrOptions(set(LIKELIHOODS))],
        "noise_variance": [StrOptions(set(NOISE_FLOORS))],
        "beta": [Interval(Real, 0, None, closed="left")],
        "kl_warmup": [Interval(Integral, 0, None, closed="left")],
        "n_importance_samples": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "cosine"})],
    }

    _onnx_methods = ("transform", "inverse_transform", "reconstruct")

    def __init__(
        self,
        n_components=2,
        *,
        likelihood="gaussian",
        noise_variance="isotropic",
        beta=1.0,
        kl_warmup=0,
        n_importance_samples=100,
        hidden_layer_sizes=(100,),
        image_shape=None,
        conv_channels=(32, 64),
        kernel_size=3,
        activation="elu",
        solver="adam",
        learning_rate="constant",
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
        warm_start=False,
        verbose=0,
        random_state=None,
        device="auto",
        n_threads="auto",
    ):
        # The base's __init__ would also set the parameters this model does
        # not take (loss, sparsity...): each parameter is set here.
        self.n_components = n_components
        self.likelihood = likelihood
        self.noise_variance = noise_variance
        self.beta = beta
        self.kl_warmup = kl_warmup
        self.n_importance_samples = n_importance_samples
        self.hidden_layer_sizes = hidden_layer_sizes
        self.image_shape = image_shape
        self.conv_channels = conv_channels
        self.kernel_size = kernel_size
        self.activation = activation
        self.solver = solver
        self.learning_rate = learning_rate
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

    # ------------------------------------------------------------------
    # The transformer side

    def transform(self, X, return_std=False):
        """Encode ``X``: the means of the posterior ``q(z | x)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to encode.

        return_std : bool, default=False
            Also return the posterior standard deviations.

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_components)
            Posterior means, in the dtype of ``X``; deterministic.

        X_std : ndarray of shape (n_samples, n_components)
            Posterior standard deviations, in the dtype of ``X``; only when
            ``return_std=True``.
        """
        X = self._validate_fitted(X)
        if not return_std:
            return self._apply(self.encoder_, X)
        module = self._network.module

        def posterior(batch):
            _, mean, log_var = module.encode(batch)
            return torch.cat([mean, torch.exp(0.5 * log_var)], dim=1)

        both = self._apply(posterior, X)
        k = self._n_features_out
        return both[:, :k], both[:, k:]

    def fit(self, X, y=None):
        """Fit the model to ``X`` by maximising the ELBO.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Memmaps and sparse matrices are read a chunk of
            rows at a time, never copied whole.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return super().fit(X)

    def partial_fit(self, X, y=None):
        """Train for one epoch on ``X``, continuing from the current state.

        The first call initialises the network (its input scaling comes from
        this first batch of data); later calls continue training it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.

        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            The estimator.
        """
        return super().partial_fit(X)

    def score_samples(self, X):
        """Log-likelihood of each sample, ``log p(x)``, in nats.

        The importance-weighted estimate (Burda et al.'s bound) with
        ``n_importance_samples`` draws from the posterior: at least the
        ELBO, and closer to ``log p(x)`` with more draws. It is a density
        of ``X`` in its own units (for the Gaussian likelihood), so it
        compares directly with ``PCA(n_components).score_samples(X)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Data to score (in [0, 1] for the Bernoulli likelihood).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Log-likelihood of each row, in float64. The same fitted model
            and rows give the same scores.
        """
        X = self._validate_fitted(X)
        module = self._network.module
        if module.likelihood == "bernoulli":
            _check_unit_interval(X, "score_samples")
        eps = self._importance_draws()
        return self._apply(
            lambda b: importance_weighted_log_likelihood(module, b, eps),
            X,
            out_dtype=np.float64,
            missing_ok=True,
        )

    def sample(self, n_samples=1, random_state=None):
        """Draw new rows from the model.

        Codes are drawn from the prior ``N(0, I)`` and rows from ``p(x |
        z)``: decoder means plus Gaussian noise, or binary draws for the
        Bernoulli likelihood. For noise-free rows (the decoder's means),
        decode prior draws with :meth:`inverse_transform`.

        Parameters
        ----------
        n_samples : int, default=1
            Number of rows to draw.

        random_state : int, RandomState instance or None, default=None
            Seeds the draws; an int gives the same rows at every call.
            None draws fresh ones (global random state is never used).

        Returns
        -------
        X : ndarray of shape (n_samples, `n_features_in_`)
            The rows, in the network's dtype (that of the training data on
            the CPU).
        """
        return self._draw_rows(n_samples, random_state, draw_samples)

    def _posterior_draws(self, X, seed):
        """One reconstruction per row of ``X`` from a posterior draw of its
        code, with the likelihood's noise: a draw of the missing cells given
        the observed ones, for multiple imputation."""
        X = self._validate_fitted(X)
        module = self._network.module
        device = next(module.parameters()).device
        generator = torch.Generator(device=device).manual_seed(seed)

        def draw(batch):
            _, mean, log_var = module.encode(batch)
            means = module.decoder(reparameterize(mean, log_var, generator))
            return observation(module, means, generator)

        return self._apply(draw, X)

    def _importance_draws(self):
        """The standard normal draws every row's score uses (seeded at fit)."""
        param = next(self._network.module.parameters())
        generator = torch.Generator().manual_seed(
            derived_seed(self._seed, Stream.SCORE)
        )
        shape = (self.n_importance_samples, self._n_features_out)
        eps = torch.randn(shape, generator=generator, dtype=torch.float64)
        return eps.to(dtype=param.dtype, device=param.device)

    # ------------------------------------------------------------------
    # Hooks of the base class

    def _check_settings(self, X, summary):
        # No code width check: the KL term keeps a wide code honest.
        super()._check_settings(X, summary)
        if self.likelihood == "bernoulli":
            low, high = float(summary.min.min()), float(summary.max.max())
            if low < 0 or high > 1:
                raise ValueError(_unit_interval_message("fit", low, high))

    def _network_recipe(self, n_features, dtype):
        gaussian = self.likelihood == "gaussian"
        return NetworkRecipe(
            n_features=n_features,
            n_components=self.n_components,
            hidden_layer_sizes=self._hidden_sizes(),
            **self._image_fields(n_features),
            activation=self.activation,
            output_activation="identity" if gaussian else "sigmoid",
            dropout=self.dropout,
            code="gaussian",
            dtype=str(dtype).removeprefix("torch."),
            likelihood=self.likelihood,
            noise_variance=self.noise_variance if gaussian else None,
            kind="variational",
        )

    def _fill_passes(self):
        # Its likelihood integrates missing cells out: the encoder reads
        # them as the training means, and nothing is filled in.
        return 0

    def _build_objective(self):
        # Validation draws come from the stream the denoiser's validation
        # corruption uses: both are the validation rows' noise.
        seed = derived_seed(self._seed, Stream.VALIDATION_NOISE)
        return VariationalObjective(
            self._weight_terms(), kl_weight=self.beta, seed=seed
        )

    def _schedules(self, module, objective, optimizers):
        schedules = []
        if self.kl_warmup > 0:
            schedules.append(KLWarmUp(objective, self.beta, self.kl_warmup))
        if self.learning_rate == "cosine":
            schedules.append(
                CosineLearningRate(
                    tuple(optimizers.values()), self.max_iter, _COSINE_FINAL_FACTOR
                )
            )
        return tuple(schedules)

    def _fit(self, X, incremental=False, sample_weight=None, labels=None):
        reason = super()._fit(X, incremental, sample_weight, labels)
        self._describe_fit(X)
        return reason

    def _describe_fit(self, X):
        """Set the fitted attributes read from the trained model and ``X``."""
        means = self._apply(self.encoder_, X, out_dtype=np.float64)
        self.code_variance_ = means.var(axis=0)
        self.active_components_ = self.code_variance_ > _ACTIVE_VARIANCE
        module = self._network.module
        self.noise_variance_ = None
        if module.likelihood == "gaussian":
            with torch.no_grad():
                std = module.noise_std().double().cpu().numpy()
            self.noise_variance_ = np.broadcast_to(std**2, (X.shape[1],)).copy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _unit_interval_message(method, low, high):
    return (
        f"likelihood='bernoulli' needs X in [0, 1] (in {method}), but X ranges "
        f"over [{low:g}, {high:g}]. Scale it first (e.g. MinMaxScaler), or use "
        "likelihood='gaussian'."
    )


def _check_unit_interval(X, method):
    low, high = float(X.min()), float(X.max())
    if low < 0 or high > 1:
        raise ValueError(_unit_interval_message(method, low, high))
