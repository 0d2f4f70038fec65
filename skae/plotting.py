"""Plots for fitted autoencoders, in scikit-learn's ``Display`` style.

Each display is built with a ``from_estimator`` class method (or directly
from precomputed values), draws with :meth:`plot`, and keeps the matplotlib
artists it drew as attributes (``ax_``, ``figure_``, ``lines_``,
``scatter_``...), so that a figure can be restyled or tested after the
fact. matplotlib is optional: it is imported only when a display draws.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["CodesDisplay", "LossCurveDisplay", "ReconstructionDisplay"]

# Integer labels with at most this many distinct values are drawn as
# categories (one colour and one legend entry each); more are a colour scale.
_MAX_CATEGORIES = 20


def _import_pyplot(caller):
    """``matplotlib.pyplot``, or an ImportError saying how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} requires matplotlib, which is not installed. Install it "
            "with `pip install skae[plot]` (or `pip install matplotlib`)."
        ) from exc
    return plt


def _rows(X, indices):
    """Rows ``indices`` of an array-like or DataFrame, keeping its type."""
    if hasattr(X, "iloc"):
        return X.iloc[indices]
    return np.asarray(X)[indices]


def _reconstruct(estimator, X):
    """The estimator's reconstruction of ``X``, as a float ndarray."""
    if hasattr(estimator, "reconstruct"):
        return np.asarray(estimator.reconstruct(X))
    return np.asarray(estimator.inverse_transform(estimator.transform(X)))


def _codes(estimator, X):
    """The code-layer activations of ``X``."""
    if hasattr(estimator, "transform"):
        return np.asarray(estimator.transform(X))
    if hasattr(estimator, "deep_features"):
        # Estimators without ``transform`` (the outlier detector) still
        # expose the code layer, which comes right after the encoder's
        # hidden layers.
        sizes = estimator.hidden_layer_sizes
        code_layer = 1 if isinstance(sizes, Integral) else len(tuple(sizes))
        return np.asarray(estimator.deep_features(X, code_layer))
    raise TypeError(
        f"{type(estimator).__name__} has neither transform nor deep_features: "
        "cannot compute codes to plot."
    )


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
        plt = _import_pyplot(f"{type(self).__name__}.plot")
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
        estimator : fitted skae estimator
            Any estimator with a ``loss_curve_`` (and, optionally,
            ``validation_loss_curve_`` and ``loss_components_``).

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
        _import_pyplot(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator, "loss_curve_")
        display = cls(
            loss_curve=estimator.loss_curve_,
            validation_loss_curve=getattr(estimator, "validation_loss_curve_", None),
            loss_components=getattr(estimator, "loss_components_", None),
            estimator_name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)


class ReconstructionDisplay:
    """A grid of images: originals above their reconstructions.

    Build it with :meth:`from_estimator` or :meth:`from_predictions`; all
    parameters are stored as attributes. Each column is one sample; the rows
    are the inputs, their reconstructions and, when given, reference images
    (for instance the clean images behind noisy inputs). Every image shares
    one grey scale, so that brightness can be compared across the grid.

    Parameters
    ----------
    originals : ndarray of shape (n_images, n_features)
        The inputs, one flattened image per row.

    reconstructions : ndarray of shape (n_images, n_features)
        Their reconstructions.

    image_shape : tuple of int
        Shape of one image, e.g. ``(8, 8)``; its product is ``n_features``.

    references : ndarray of shape (n_images, n_features), default=None
        Optional third row, e.g. the clean images behind noisy inputs.

    errors : ndarray of shape (n_images,), default=None
        Per-image reconstruction error shown above each reconstruction.

    estimator_name : str, default=None
        Title of the grid.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes, shape (n_rows, n_images)
        One axes per image; ``n_rows`` is 2, or 3 with ``references``.

    images_ : ndarray of matplotlib AxesImage, shape (n_rows, n_images)
        The images drawn.

    bounding_ax_ : matplotlib Axes or None
        The axes whose area holds the grid when ``plot`` was given a single
        axes, else None.

    figure_ : matplotlib Figure
        Figure containing the grid.

    See Also
    --------
    LossCurveDisplay : Training and validation loss curves.
    CodesDisplay : Scatter plot of the codes.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import ReconstructionDisplay
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(n_components=8, max_iter=10, random_state=0)
    >>> ae = ae.fit(X[:500])
    >>> display = ReconstructionDisplay.from_estimator(
    ...     ae, X, image_shape=(8, 8), n_images=5
    ... )
    >>> display.axes_.shape
    (2, 5)
    """

    def __init__(
        self,
        *,
        originals,
        reconstructions,
        image_shape,
        references=None,
        errors=None,
        estimator_name=None,
    ):
        self.originals = originals
        self.reconstructions = reconstructions
        self.image_shape = image_shape
        self.references = references
        self.errors = errors
        self.estimator_name = estimator_name

    def plot(
        self,
        ax=None,
        *,
        row_labels=None,
        cmap="gray_r",
        show_errors=True,
        imshow_kwargs=None,
    ):
        """Draw the grid.

        Parameters
        ----------
        ax : matplotlib Axes or array-like of Axes, default=None
            Where to draw. None makes a new figure; a single axes is divided
            into the grid (it becomes ``bounding_ax_``); an array of
            ``n_rows * n_images`` axes is used as is, row by row.

        row_labels : list of str, default=None
            Labels of the rows, shown left of the first column; by default
            ``"original"``, ``"reconstruction"`` and ``"reference"``.

        cmap : str or matplotlib Colormap, default="gray_r"
            Colour map of the images.

        show_errors : bool, default=True
            Show ``errors`` (when given) as titles of the reconstructions.

        imshow_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``imshow``.

        Returns
        -------
        display : ReconstructionDisplay
            This display, with the artists stored as attributes.
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        rows = [np.asarray(self.originals), np.asarray(self.reconstructions)]
        if self.references is not None:
            rows.append(np.asarray(self.references))
        n_rows, n_images = len(rows), rows[0].shape[0]
        shape = tuple(self.image_shape)
        if int(np.prod(shape)) != rows[0].shape[1]:
            raise ValueError(
                f"image_shape={shape} holds {int(np.prod(shape))} pixels, but "
                f"each sample has {rows[0].shape[1]} features."
            )
        if row_labels is None:
            row_labels = ["original", "reconstruction", "reference"]
        self.axes_ = self._make_axes(plt, ax, n_rows, n_images)

        # One grey scale for the whole grid (the inputs' range, not each
        # image's own), so a faint reconstruction looks faint.
        shown = np.concatenate([r for i, r in enumerate(rows) if i != 1])
        kwargs = {
            "cmap": cmap,
            "vmin": shown.min(),
            "vmax": shown.max(),
            "interpolation": "nearest",
            **(imshow_kwargs or {}),
        }
        self.images_ = np.empty((n_rows, n_images), dtype=object)
        for r, row in enumerate(rows):
            for c in range(n_images):
                axis = self.axes_[r, c]
                self.images_[r, c] = axis.imshow(row[c].reshape(shape), **kwargs)
                axis.set_xticks([])
                axis.set_yticks([])
            self.axes_[r, 0].set_ylabel(row_labels[r], fontsize="small")
        if show_errors and self.errors is not None:
            for c, error in enumerate(self.errors):
                self.axes_[1, c].set_title(f"MSE {error:.3g}", fontsize="small")
        self.figure_ = self.axes_[0, 0].figure
        if self.estimator_name is not None:
            self._set_title(self.estimator_name)
        return self

    def _set_title(self, title):
        # Title the area the grid occupies: the bounding axes, or the whole
        # figure when the display made it; a grid of the caller's axes is
        # left alone.
        if self.bounding_ax_ is not None:
            self.bounding_ax_.set_title(title)
        elif self._owns_figure:
            self.figure_.suptitle(title)

    def _make_axes(self, plt, ax, n_rows, n_images):
        self.bounding_ax_ = None
        self._owns_figure = ax is None
        if ax is None:
            width, height = max(1.1 * n_images, 3.0), 1.25 * n_rows + 0.4
            fig, axes = plt.subplots(
                n_rows, n_images, figsize=(width, height), squeeze=False
            )
            # Tight margins: room for the row labels on the left and the
            # title and error labels above, little else.
            fig.subplots_adjust(
                left=0.35 / width,
                right=1 - 0.05 / width,
                bottom=0.05 / height,
                top=1 - 0.4 / height,
                wspace=0.08,
                hspace=0.3,
            )
            return axes
        if isinstance(ax, plt.Axes):
            from matplotlib.gridspec import GridSpecFromSubplotSpec

            ax.set_axis_off()
            self.bounding_ax_ = ax
            grid = GridSpecFromSubplotSpec(
                n_rows, n_images, subplot_spec=ax.get_subplotspec()
            )
            axes = np.empty((n_rows, n_images), dtype=object)
            for r in range(n_rows):
                for c in range(n_images):
                    axes[r, c] = ax.figure.add_subplot(grid[r, c])
            return axes
        axes = np.asarray(ax, dtype=object)
        if axes.size != n_rows * n_images:
            raise ValueError(
                f"Expected {n_rows * n_images} axes ({n_rows} rows of "
                f"{n_images} images), got {axes.size}."
            )
        return axes.reshape(n_rows, n_images)

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        *,
        image_shape,
        n_images=8,
        indices=None,
        X_reference=None,
        ax=None,
        name=None,
        **kwargs,
    ):
        """Plot images of ``X`` and the estimator's reconstructions of them.

        Parameters
        ----------
        estimator : fitted skae estimator
            An estimator with ``reconstruct`` (or ``transform`` and
            ``inverse_transform``).

        X : array-like of shape (n_samples, n_features)
            Flattened images.

        image_shape : tuple of int
            Shape of one image, e.g. ``(8, 8)``.

        n_images : int, default=8
            Number of images: the first ``n_images`` rows of ``X``. Ignored
            when ``indices`` is given.

        indices : array-like of int, default=None
            Rows of ``X`` to show, e.g. the worst reconstructed ones.

        X_reference : array-like of shape (n_samples, n_features), default=None
            Reference images drawn as a third row (e.g. the clean images
            when ``X`` is noisy); errors are then measured against them.

        ax : matplotlib Axes or array-like of Axes, default=None
            See :meth:`plot`.

        name : str, default=None
            Label of the reconstruction row; the estimator's class name when
            None.

        **kwargs : dict
            Further keyword arguments of :meth:`plot`.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with the artists stored as attributes.
        """
        _import_pyplot(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        indices = cls._indices(X, n_images, indices)
        X_shown = _rows(X, indices)
        return cls.from_predictions(
            np.asarray(X_shown),
            _reconstruct(estimator, X_shown),
            image_shape=image_shape,
            # The rows are already selected: show them all.
            n_images=len(indices),
            X_reference=None if X_reference is None else _rows(X_reference, indices),
            ax=ax,
            name=type(estimator).__name__ if name is None else name,
            **kwargs,
        )

    @classmethod
    def from_predictions(
        cls,
        X,
        X_reconstructed,
        *,
        image_shape,
        n_images=8,
        indices=None,
        X_reference=None,
        ax=None,
        name=None,
        **kwargs,
    ):
        """Plot images of ``X`` and given reconstructions of them.

        Useful for models without ``reconstruct``, such as
        ``pca.inverse_transform(pca.transform(X))``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Flattened images.

        X_reconstructed : array-like of shape (n_samples, n_features)
            Their reconstructions.

        image_shape : tuple of int
            Shape of one image, e.g. ``(8, 8)``.

        n_images : int, default=8
            Number of images: the first ``n_images`` rows. Ignored when
            ``indices`` is given.

        indices : array-like of int, default=None
            Rows to show.

        X_reference : array-like of shape (n_samples, n_features), default=None
            Reference images drawn as a third row; errors are then measured
            against them.

        ax : matplotlib Axes or array-like of Axes, default=None
            See :meth:`plot`.

        name : str, default=None
            Label of the reconstruction row.

        **kwargs : dict
            Further keyword arguments of :meth:`plot`.

        Returns
        -------
        display : ReconstructionDisplay
            The display, with the artists stored as attributes.
        """
        _import_pyplot(f"{cls.__name__}.from_predictions")
        X, X_reconstructed = np.asarray(X), np.asarray(X_reconstructed)
        if X.shape != X_reconstructed.shape:
            raise ValueError(
                f"X has shape {X.shape} but X_reconstructed has shape "
                f"{X_reconstructed.shape}; they must match."
            )
        indices = cls._indices(X, n_images, indices)
        X, X_reconstructed = X[indices], X_reconstructed[indices]
        reference = None if X_reference is None else np.asarray(X_reference)[indices]
        target = X if reference is None else reference
        errors = np.mean((X_reconstructed - target) ** 2, axis=1)
        display = cls(
            originals=X,
            reconstructions=X_reconstructed,
            image_shape=image_shape,
            references=reference,
            errors=errors,
            estimator_name=name,
        )
        return display.plot(ax=ax, **kwargs)

    @staticmethod
    def _indices(X, n_images, indices):
        if indices is not None:
            return np.asarray(indices, dtype=int).ravel()
        if not isinstance(n_images, Integral) or n_images < 1:
            raise ValueError(f"n_images must be a positive int; got {n_images!r}.")
        return np.arange(min(n_images, len(X)))


class CodesDisplay:
    """Scatter plot of the codes in 2-D or 3-D, coloured by a label.

    Build it with :meth:`from_estimator`, or directly from codes; all
    parameters are stored as attributes. Labels with few distinct values
    (strings, booleans, or at most 20 distinct integers) are drawn as
    categories with a legend; other numeric labels as a colour scale with a
    colour bar.

    Parameters
    ----------
    codes : ndarray of shape (n_samples, n_components)
        The codes, e.g. ``estimator.transform(X)``.

    labels : array-like of shape (n_samples,), default=None
        Values that colour the points (classes, clusters, outlier flags...).

    component_names : list of str, default=None
        Axis labels of the components; ``"code 0"``, ``"code 1"``... when
        None.

    estimator_name : str, default=None
        Title of the plot.

    Attributes
    ----------
    scatter_ : matplotlib PathCollection
        The points.

    legend_ : matplotlib Legend or None
        The legend of categorical labels.

    colorbar_ : matplotlib Colorbar or None
        The colour bar of numeric labels.

    ax_ : matplotlib Axes
        Axes with the scatter plot (a 3-D axes for three components).

    figure_ : matplotlib Figure
        Figure containing the scatter plot.

    See Also
    --------
    LossCurveDisplay : Training and validation loss curves.
    ReconstructionDisplay : Original vs reconstructed images.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import CodesDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> ae = AutoencoderTransformer(n_components=2, max_iter=20, random_state=0)
    >>> ae = ae.fit(X)
    >>> display = CodesDisplay.from_estimator(ae, X, y)
    >>> display.scatter_.get_offsets().shape
    (150, 2)
    """

    def __init__(
        self, *, codes, labels=None, component_names=None, estimator_name=None
    ):
        self.codes = codes
        self.labels = labels
        self.component_names = component_names
        self.estimator_name = estimator_name

    def plot(
        self, ax=None, *, components=None, cmap=None, legend=True, scatter_kwargs=None
    ):
        """Draw the scatter plot.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to draw on (a 3-D axes for three components); a new figure
            and axes when None.

        components : tuple of 2 or 3 int, default=None
            Which code units go on the axes; ``(0, 1)`` when None. Three
            indices make a 3-D plot.

        cmap : str or matplotlib Colormap, default=None
            Colour map: ``"tab10"`` (or ``"tab20"``) for categories,
            ``"viridis"`` for numeric labels.

        legend : bool, default=True
            Draw the legend (categories) or colour bar (numeric labels).

        scatter_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``scatter``.

        Returns
        -------
        display : CodesDisplay
            This display, with the artists stored as attributes.
        """
        plt = _import_pyplot(f"{type(self).__name__}.plot")
        codes = np.asarray(self.codes)
        components = self._check_components(codes, components)
        three_d = len(components) == 3
        if ax is None:
            ax = plt.figure().add_subplot(projection="3d" if three_d else None)
        elif three_d != (ax.name == "3d"):
            raise ValueError(
                f"{len(components)} components need a "
                f"{'3-D' if three_d else '2-D'} axes, but ax is "
                f"{'3-D' if ax.name == '3d' else '2-D'}."
            )

        kwargs = {"s": 12, **(scatter_kwargs or {})}
        colors, categories = self._colors()
        if colors is not None:
            default_cmap = "viridis"
            if categories is not None:
                default_cmap = "tab10" if len(categories) <= 10 else "tab20"
            kwargs.setdefault("cmap", default_cmap if cmap is None else cmap)
            kwargs["c"] = colors
            if categories is not None:
                # Pin the colour range so category i always gets colour i.
                kwargs.setdefault("vmin", 0)
                kwargs.setdefault("vmax", max(len(categories) - 1, 1))
        self.scatter_ = ax.scatter(*(codes[:, j] for j in components), **kwargs)

        names = self.component_names
        if names is None:
            names = [f"code {j}" for j in range(codes.shape[1])]
        ax.set_xlabel(names[components[0]])
        ax.set_ylabel(names[components[1]])
        if three_d:
            ax.set_zlabel(names[components[2]])
        if self.estimator_name is not None:
            ax.set_title(self.estimator_name)

        self.legend_ = self.colorbar_ = None
        if legend and categories is not None:
            handles, _ = self.scatter_.legend_elements()
            self.legend_ = ax.legend(
                handles, [str(c) for c in categories], title="label", fontsize="small"
            )
        elif legend and colors is not None:
            self.colorbar_ = ax.figure.colorbar(self.scatter_, ax=ax)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @staticmethod
    def _check_components(codes, components):
        if codes.ndim != 2 or codes.shape[1] < 2:
            raise ValueError(
                "CodesDisplay needs at least 2 code units to scatter; got codes "
                f"of shape {codes.shape}."
            )
        components = (0, 1) if components is None else tuple(components)
        if len(components) not in (2, 3):
            raise ValueError(
                f"components must hold 2 or 3 code indices; got {components}."
            )
        for j in components:
            if not isinstance(j, Integral) or not 0 <= j < codes.shape[1]:
                raise ValueError(
                    f"components {components} out of range: the codes have "
                    f"{codes.shape[1]} units."
                )
        return components

    def _colors(self):
        """Colour values and, for categorical labels, the category names."""
        if self.labels is None:
            return None, None
        labels = np.asarray(self.labels)
        categorical = labels.dtype.kind in "OUSb" or (
            labels.dtype.kind in "iu" and np.unique(labels).size <= _MAX_CATEGORIES
        )
        if not categorical:
            return labels.astype(float), None
        categories, inverse = np.unique(labels, return_inverse=True)
        return inverse, categories

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y=None,
        *,
        components=None,
        ax=None,
        name=None,
        component_names=None,
        **kwargs,
    ):
        """Plot the codes of ``X`` under a fitted estimator.

        Parameters
        ----------
        estimator : fitted skae estimator
            An estimator with ``transform`` (or ``deep_features``).

        X : array-like of shape (n_samples, n_features)
            Data to encode.

        y : array-like of shape (n_samples,), default=None
            Labels that colour the points.

        components : tuple of 2 or 3 int, default=None
            Which code units go on the axes; see :meth:`plot`.

        ax : matplotlib Axes, default=None
            Axes to draw on; see :meth:`plot`.

        name : str, default=None
            Title of the plot; the estimator's class name when None.

        component_names : list of str, default=None
            Axis labels of the code units.

        **kwargs : dict
            Further keyword arguments of :meth:`plot`.

        Returns
        -------
        display : CodesDisplay
            The display, with the artists stored as attributes.
        """
        _import_pyplot(f"{cls.__name__}.from_estimator")
        check_is_fitted(estimator)
        display = cls(
            codes=_codes(estimator, X),
            labels=y,
            component_names=component_names,
            estimator_name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(ax=ax, components=components, **kwargs)
