"""ReconstructionDisplay: originals above their reconstructions."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np

from ._common import (
    as_picture,
    check_shape,
    final_step,
    image_shape_of,
    import_pyplot,
    reconstruct,
    select_rows,
)


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
        Shape of one image, e.g. ``(8, 8)``, or ``(channels, height,
        width)`` (the channels are drawn side by side); its product is
        ``n_features``.

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
        plt = import_pyplot(f"{type(self).__name__}.plot")
        rows = [np.asarray(self.originals), np.asarray(self.reconstructions)]
        if self.references is not None:
            rows.append(np.asarray(self.references))
        n_rows, n_images = len(rows), rows[0].shape[0]
        shape = check_shape(self.image_shape, rows[0].shape[1], "each sample")
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
                picture = as_picture(row[c], shape)
                self.images_[r, c] = axis.imshow(picture, **kwargs)
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
        image_shape=None,
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
        estimator : fitted skae estimator or Pipeline
            An estimator with ``reconstruct`` (or ``transform`` and
            ``inverse_transform``), or a
            :class:`~sklearn.pipeline.Pipeline` whose last step is one. For
            a pipeline, the images are drawn in its last step's input
            space: ``X`` (and ``X_reference``) go through the steps before
            it, e.g. a scaler, and the last step reconstructs them, so the
            errors shown are those its ``score_samples`` measures.

        X : array-like of shape (n_samples, n_features)
            Flattened images.

        image_shape : tuple of int, default=None
            Shape of one image, e.g. ``(8, 8)``; the estimator's own
            ``image_shape`` when None.

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
        import_pyplot(f"{cls.__name__}.from_estimator")
        indices = cls._indices(X, n_images, indices)
        X_reference = None if X_reference is None else select_rows(X_reference, indices)
        estimator, X_shown, X_reference = final_step(
            estimator, select_rows(X, indices), X_reference
        )
        return cls.from_predictions(
            np.asarray(X_shown),
            reconstruct(estimator, X_shown),
            image_shape=image_shape_of(estimator, image_shape),
            # The rows are already selected: show them all.
            n_images=len(indices),
            X_reference=X_reference,
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
            Shape of one image, e.g. ``(8, 8)``, or ``(channels, height,
            width)``.

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
        import_pyplot(f"{cls.__name__}.from_predictions")
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
