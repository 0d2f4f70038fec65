"""CodesDisplay: the codes as a 2-D or 3-D scatter plot."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral

import numpy as np

from ._common import code_activations, final_step, import_pyplot

# Integer labels with at most this many distinct values are drawn as
# categories (one colour and one legend entry each); more are a colour scale.
_MAX_CATEGORIES = 20


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
        plt = import_pyplot(f"{type(self).__name__}.plot")
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
        estimator : fitted skae estimator or Pipeline
            An estimator with ``transform`` (or ``deep_features``), or a
            :class:`~sklearn.pipeline.Pipeline` whose last step is one
            (``X`` then goes through the steps before it).

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
        import_pyplot(f"{cls.__name__}.from_estimator")
        estimator, X = final_step(estimator, X)
        display = cls(
            codes=code_activations(estimator, X),
            labels=y,
            component_names=component_names,
            estimator_name=type(estimator).__name__ if name is None else name,
        )
        return display.plot(ax=ax, components=components, **kwargs)
