"""FiltersDisplay: a layer's weights drawn as images."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import math
from numbers import Integral

import numpy as np

from ._common import as_picture, check_shape, final_step, image_shape_of, import_pyplot


class FiltersDisplay:
    """A layer's weights as images: the filters an autoencoder has learned.

    Build it with :meth:`from_estimator`, or directly from a matrix with one
    filter per row; all parameters are stored as attributes. Each filter is
    drawn on its own colour scale, symmetric about zero (red positive, blue
    negative), since a filter's sign and shape matter, not its size.

    Parameters
    ----------
    filters : ndarray of shape (n_filters, n_features)
        One filter per row, e.g. the image a code unit adds to the
        reconstruction.

    image_shape : tuple of int
        Shape of one filter, e.g. ``(8, 8)``, or ``(channels, height,
        width)`` (the channels are drawn side by side); its product is the
        width of a row of ``filters``.

    estimator_name : str, default=None
        Title of the grid.

    Attributes
    ----------
    axes_ : ndarray of matplotlib Axes
        The grid, of shape (n_rows, n_cols) when the display made it, else
        the axes given; one per filter, spare ones switched off.

    images_ : list of matplotlib AxesImage
        The filters drawn, in order.

    figure_ : matplotlib Figure
        Figure containing the grid.

    See Also
    --------
    ReconstructionDisplay : Original vs reconstructed images.
    CodesDisplay : Scatter plot of the codes.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer
    >>> from skae.plotting import FiltersDisplay
    >>> X, _ = load_digits(return_X_y=True)
    >>> ae = AutoencoderTransformer(
    ...     16, hidden_layer_sizes=(), max_iter=10, random_state=0
    ... ).fit(X[:500])
    >>> display = FiltersDisplay.from_estimator(ae, image_shape=(8, 8))
    >>> len(display.images_)
    16
    """

    def __init__(self, *, filters, image_shape, estimator_name=None):
        self.filters = filters
        self.image_shape = image_shape
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, n_cols=None, cmap="RdBu_r", imshow_kwargs=None):
        """Draw the filters in a grid.

        Parameters
        ----------
        ax : array-like of matplotlib Axes, default=None
            At least one axes per filter, used in order; a new figure when
            None.

        n_cols : int, default=None
            Filters per row of the grid; about the square root of their
            number when None.

        cmap : str or matplotlib Colormap, default="RdBu_r"
            Colour map, centred on zero.

        imshow_kwargs : dict, default=None
            Keyword arguments for matplotlib's ``imshow``.

        Returns
        -------
        display : FiltersDisplay
            This display, with the artists stored as attributes.
        """
        plt = import_pyplot(f"{type(self).__name__}.plot")
        filters = np.asarray(self.filters, dtype=float)
        if filters.ndim != 2:
            raise ValueError(
                f"filters must be 2-d, one filter per row; got shape {filters.shape}."
            )
        shape = check_shape(self.image_shape, filters.shape[1], "each filter")
        n = filters.shape[0]
        n_cols = n_cols or math.ceil(math.sqrt(n))
        n_rows = math.ceil(n / n_cols)
        made_axes = ax is None
        if made_axes:
            _, ax = plt.subplots(
                n_rows, n_cols, figsize=(0.9 * n_cols, 0.9 * n_rows), squeeze=False
            )
        axes = np.asarray(ax, dtype=object)
        if axes.size < n:
            raise ValueError(f"{n} filters need {n} axes; got {axes.size}.")
        self.axes_ = axes
        self.images_ = []
        for i, axis in enumerate(axes.ravel()):
            axis.set_xticks([])
            axis.set_yticks([])
            if i >= n:
                axis.set_axis_off()
                continue
            bound = np.abs(filters[i]).max() or 1.0
            kwargs = {
                "cmap": cmap,
                "vmin": -bound,
                "vmax": bound,
                **(imshow_kwargs or {}),
            }
            picture = as_picture(filters[i], shape)
            self.images_.append(axis.imshow(picture, **kwargs))
        self.figure_ = axes.ravel()[0].figure
        if self.estimator_name is not None and made_axes:
            self.figure_.suptitle(self.estimator_name)
        return self

    @classmethod
    def from_estimator(
        cls,
        estimator,
        *,
        image_shape=None,
        layer="decoder",
        n_filters=None,
        ax=None,
        name=None,
        **kwargs,
    ):
        """Plot the filters of a fitted estimator.

        Parameters
        ----------
        estimator : fitted skae estimator or Pipeline
            A fitted skae estimator, or a fitted Pipeline ending in one.

        image_shape : tuple of int, default=None
            Shape of one input image, e.g. ``(8, 8)``. When None, the shape
            the estimator knows: a convolutional network's kernels,
            ``(channels, kernel_size, kernel_size)``, or its
            ``image_shape``.

        layer : {'decoder', 'encoder'}, default='decoder'
            ``'decoder'``: the output layer's weights, one filter per unit
            of the last hidden layer (for a network with no hidden layers,
            the image each code unit adds to the reconstruction).
            ``'encoder'``: the first layer's weights, the pattern each unit
            of the first hidden (or code) layer responds to. With
            ``tied_weights=True`` both are the same. For a convolutional
            network (``image_shape`` set), the kernels of its first
            convolution (``'encoder'``), or of its last transposed
            convolution, what each of its input channels adds to the
            output (``'decoder'``).

        n_filters : int, default=None
            Draw the filters with the largest norms, this many; all when
            None.

        ax : array-like of matplotlib Axes, default=None
            See :meth:`plot`.

        name : str, default=None
            Title; the estimator's class name when None.

        **kwargs : dict
            Further keyword arguments of :meth:`plot`.

        Returns
        -------
        display : FiltersDisplay
            The display, with the artists stored as attributes.
        """
        import_pyplot(f"{cls.__name__}.from_estimator")
        (fitted,) = final_step(estimator)
        if layer not in ("decoder", "encoder"):
            raise ValueError(f"layer must be 'decoder' or 'encoder'; got {layer!r}.")
        filters = fitted._filters(layer)
        if n_filters is not None:
            if not isinstance(n_filters, Integral) or n_filters < 1:
                raise ValueError(
                    f"n_filters must be a positive int; got {n_filters!r}."
                )
            order = np.argsort(-np.linalg.norm(filters, axis=1), kind="stable")
            filters = filters[order[:n_filters]]
        shape = image_shape_of(fitted, image_shape, fitted._filter_shape(layer))
        display = cls(
            filters=filters,
            image_shape=shape,
            estimator_name=type(fitted).__name__ if name is None else name,
        )
        return display.plot(ax=ax, **kwargs)
