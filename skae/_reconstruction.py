"""The reconstruction family: dense autoencoders trained on a reconstruction loss.

:class:`_ReconstructionAutoencoder` is the base of the transformer, the
denoiser and the outlier detector: the ``"mlp"`` network kind with a dense,
k-sparse or winner-take-all code (and tied weights), trained on the squared
error or the binary cross-entropy plus the penalties its parameters ask
for (elastic net, KL or L1 code sparsity, the contractive penalty).
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from ._base import _BaseAutoencoder
from ._conv import ImageSpec
from ._params import (
    check_code_width,
    check_kl_sparsity,
    check_loss,
    check_map_code,
    check_sparse_code,
    check_untied,
)
from ._penalties import Contractive, KLSparsity, L1Activity
from ._recipe import NetworkRecipe, build_objective
from ._schedules import LinearSchedule


class _ReconstructionAutoencoder(_BaseAutoencoder):
    """Base class of the reconstruction autoencoders; not for direct use.

    Stores the shared parameters (every public class defines its own
    ``__init__`` with its defaults, so that errors and signatures name the
    public class) and derives the network recipe, the objective and the
    schedules from them.
    """

    # Subtracting the mean image gives a stroke different inputs wherever
    # the mean image is bright, against one kernel slid everywhere:
    # Fashion-MNIST denoising (5,000 images, 5 epochs) lost 0.7 dB that way
    # (2.6 dB with ReLU and a sigmoid output). The variational family keeps
    # per-pixel centring: its convolutional likelihood was 17 nats worse
    # centred by channel (binarized MNIST).
    _centres_image_channels = True

    _parameter_constraints: dict = {
        **_BaseAutoencoder._parameter_constraints,
        # None: the last convolution's feature map is the code.
        "n_components": [
            *_BaseAutoencoder._parameter_constraints["n_components"],
            None,
        ],
    }

    def __init__(
        self,
        n_components,
        *,
        hidden_layer_sizes,
        image_shape,
        conv_channels,
        kernel_size,
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

    def _check_settings(self, X, summary):
        check_map_code(
            self._n_components(),
            self.image_shape,
            self._hidden_sizes(),
            given=self.n_components,
        )
        check_untied(self.tied_weights, self.image_shape)
        super()._check_settings(X, summary)
        width = self._code_width()
        check_code_width(width, X.shape[1], self._allows_wide_code())
        check_sparse_code(
            self.sparsity,
            self.sparsity_k,
            self.sparsity_k_start,
            self.sparsity_alpha,
            width,
            self._code_width_source(),
        )
        check_loss(self.loss, self.output_activation, summary)
        check_kl_sparsity(self.sparsity, self.activation)

    def _allows_wide_code(self):
        """Whether a code wider than the input is useful: a sparsity rule or
        a contractive penalty keeps it from copying its input, and a feature
        map is as wide as its convolutions make it."""
        return (
            self.sparsity is not None
            or self.contractive_weight > 0
            or self._n_components() is None
        )

    def _n_components(self):
        """``n_components`` resolved: an int, or None when the last feature
        map is the code."""
        return self.n_components

    def _code_width(self):
        """``n_components``, or the width of the last feature map when it is
        the code (``n_components=None``)."""
        n_components = self._n_components()
        if n_components is not None:
            return n_components
        fields = self._image_fields(self.n_features_in_)
        return ImageSpec(
            fields["image_shape"], fields["conv_channels"], fields["kernel_size"]
        ).map_width()

    def _code_width_source(self):
        """Where the code width comes from, as the messages say it."""
        return f"n_components={self.n_components!r}"

    def _network_recipe(self, n_features, dtype):
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
            map_code=self._n_components() is None,
            **self._image_fields(n_features),
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
        """``sparsity_k_start`` lowers the top-k layer's k linearly to
        ``sparsity_k`` over the first half of ``max_iter`` epochs."""
        if self.sparsity != "topk" or self.sparsity_k_start is None:
            return ()
        rule = module.code_rule()
        epochs = max(1, self.max_iter // 2)
        return (
            LinearSchedule(
                lambda k: setattr(rule, "k", round(k)),
                self.sparsity_k_start,
                self.sparsity_k,
                epochs,
            ),
        )

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
        terms = self._objective_terms()
        return build_objective(self.loss, variance, terms, self._hidden_weight())

    def _hidden_weight(self):
        """How many times a hidden input cell counts in the loss (see
        :class:`~skae._objective.MeanSquaredError`)."""
        return 1.0
