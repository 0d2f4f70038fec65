"""LossCurveDisplay: training and validation loss curves."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

from ._common import final_step, import_pyplot


class LossCurveDisplay:
    """Training and validation loss curves of a fitted autoencoder.

    Build it with :meth:`from_estimator`; all parameters are stored as
    attributes.

    Parameters
    ----------
    loss_curve : array-like of shape (n_epochs,)
        Training objective per epoch (an estimator's ``loss_curve_``).

    validation_loss_curve : array-like of shape (n_epochs,), default=None
        Validation reconstruction loss per epoch (an estimator's
        ``validation_loss_curve_``, set when ``early_stopping=True``).

    loss_components : dict of str to array-like, default=None
        The parts of the training objective per epoch (an estimator's
        ``loss_components_``), drawn by ``plot(components=True)``.

    estimator_name : str, default=None
        Name used in the legend.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The training loss curve.

    validation_line_ : matplotlib Line2D or None
        The validation loss curve, None when there is none.

    component_lines_ : dict of str to matplotlib Line2D
        One line per part of the training objective when
        ``plot(components=True)``, else empty.

    lines_ : list of matplotlib Line2D
        Every line drawn: training, validation, then the components.

    ax_ : matplotlib Axes
        Axes with the curves.

    figure_ : matplotlib Figure
        Figure containing the curves.

    See Also
    --------
    ReconstructionDisplay : Original vs reconstructed images.
    CodesDisplay : Scatter plot of the codes.

    Notes
    -----
    The training curve is the whole objective (reconstruction loss plus any
    weight or sparsity penalty), while the validation curve is the
    reconstruction loss alone. With penalties, compare the validation curve
    with the ``'reconstruction'`` component (``components=True``).

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import LossCurveDisplay
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(
    ...     n_components=4, max_iter=10, early_stopping=True, random_state=0
    ... ).fit(X[:500])
    >>> display = LossCurveDisplay.from_estimator(ae)
    >>> len(display.lines_)
    2
    >>> display.line_.get_label()
    'AutoencoderTransformer training'
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_loss_curve=None,
        loss_components=None,
        estimator_name=None,
    ):
        self.loss_curve = loss_curve
        self.validation_loss_curve = validation_loss_curve
        self.loss_components = loss_components
        self.estimator_name = estimator_name

    def plot(
        self,
        ax=None,
        *,
        name=None,
        components=False,
        log_scale=False,
        line_kwargs=None,
        validation_line_kwargs=None,
    ):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.

        name : str, default=None
            Name used in the legend; ``estimator_name`` when None.

        components : bool, default=False
            Also draw each part of the training objective
            (``loss_components``), dashed.

        log_scale : bool, default=False
            Use a logarithmic loss axis.

        line_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the training curve.

        validation_line_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``plot`` of the validation
            curve.

        Returns
        -------
        display : LossCurveDisplay
            This display, with the artists stored as attributes.
        """
        plt = import_pyplot(f"{type(self).__name__}.plot")
        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = "" if name is None else f"{name} "

        train = np.asarray(self.loss_curve, dtype=float)
        epochs = np.arange(1, train.shape[0] + 1)
        kwargs = {"label": f"{prefix}training", **(line_kwargs or {})}
        (self.line_,) = ax.plot(epochs, train, **kwargs)
        self.lines_ = [self.line_]

        self.validation_line_ = None
        if self.validation_loss_curve is not None:
            val = np.asarray(self.validation_loss_curve, dtype=float)
            kwargs = {"label": f"{prefix}validation", **(validation_line_kwargs or {})}
            (self.validation_line_,) = ax.plot(epochs[: val.shape[0]], val, **kwargs)
            self.lines_.append(self.validation_line_)

        self.component_lines_ = {}
        if components:
            for part, values in (self.loss_components or {}).items():
                values = np.asarray(values, dtype=float)
                (line,) = ax.plot(
                    epochs[: values.shape[0]],
                    values,
                    linestyle="--",
                    label=f"{prefix}{part}",
                )
                self.component_lines_[part] = line
                self.lines_.append(line)

        if log_scale:
            ax.set_yscale("log")
        ax.set(xlabel="Epoch", ylabel="Loss")
        ax.legend()
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Plot the loss curves of a fitted estimator.

        Parameters
        ----------
        estimator : fitted skae estimator or Pipeline
            Any estimator with a ``loss_curve_`` (and, optionally,
            ``validation_loss_curve_`` and ``loss_components_``), or a
            :class:`~sklearn.pipeline.Pipeline` whose last step is one.

        ax : matplotlib Axes, default=None
            Axes to draw on; a new figure and axes when None.

        name : str, default=None
            Name used in the legend; the estimator's class name when None.

        **kwargs : dict
            Further keyword arguments of :meth:`plot` (``components``,
            ``log_scale``, ``line_kwargs``, ``validation_line_kwargs``).

        Returns
        -------
        display : LossCurveDisplay
            The display, with the artists stored as attributes.
        """
        import_pyplot(f"{cls.__name__}.from_estimator")
        (estimator,) = final_step(estimator)
        if not hasattr(estimator, "loss_curve_"):
            raise TypeError(
                f"{type(estimator).__name__} has no loss_curve_: pass a fitted "
                "skae estimator, or a fitted Pipeline whose last step is one "
                "(or that step itself, e.g. pipe[1])."
            )
        display = cls(
            loss_curve=estimator.loss_curve_,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            loss_components=getattr(estimator, "loss_components_", None),
            estimator_name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)
