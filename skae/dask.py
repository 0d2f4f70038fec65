"""Training and inference over Dask arrays, one block of rows at a time.

A Dask array larger than any worker's memory (or than the client's) is never
gathered whole: :func:`fit_blocks` streams its blocks of rows to
``partial_fit`` as a chain of tasks on the cluster (the estimator travels
from task to task, the data stay where they are computed), and
:func:`apply_blocks` maps an inference method over the blocks into a new
Dask array. Needs ``dask`` (``pip install skae[distributed]`` for a
``dask.distributed`` cluster); with a ``dask.distributed.Client`` active,
the work runs on its cluster, else on Dask's default local scheduler.

``dask_ml.wrappers.Incremental`` trains the same way (and gives the same
model for the same block order); its ``ParallelPostFit.transform`` keeps
the input's column chunks, so the codes' Dask array claims
``n_features`` columns: :func:`apply_blocks` gives each method's output its
own shape.
"""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import copy
from functools import partial

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["apply_blocks", "fit_blocks"]


def _row_blocks(X):
    """``X`` with one chunk across the columns: a block is whole rows."""
    if len(X.chunks) != 2:
        raise ValueError(f"X must be a 2-D Dask array; got {X.ndim} dimensions.")
    return X if len(X.chunks[1]) == 1 else X.rechunk({1: -1})


def _partial_fit(estimator, block, weights):
    # Without weights, as a plain call: not every estimator takes them.
    if weights is None:
        return estimator.partial_fit(block)
    return estimator.partial_fit(block, sample_weight=weights)


def fit_blocks(
    estimator, X, *, sample_weight=None, epochs=1, shuffle=True, random_state=None
):
    """Train an estimator on a Dask array by ``partial_fit`` on each block of rows.

    The calls run as a chain of Dask tasks: each task computes one block
    where the cluster chooses, calls ``partial_fit`` on it and hands the
    updated estimator to the next. No process ever holds more than a block
    of ``X`` at a time, so ``X`` may be larger than the memory of any worker.
    The model is exactly the one the same ``partial_fit`` calls on the
    blocks, in memory and in the same order, would give.

    Parameters
    ----------
    estimator : skae estimator
        Trained from its current state: a fresh estimator is initialised by
        the first block (which fixes its input scaling, so make it
        representative), a fitted one continues. It is not modified: the
        trained estimator is a copy.

    X : dask.array.Array of shape (n_samples, n_features)
        Training data; its chunks along the rows are the blocks (rechunk it
        for other block sizes).

    sample_weight : dask.array.Array of shape (n_samples,), default=None
        Weights of the rows (see the estimator's ``fit``), rechunked to the
        blocks of ``X``.

    epochs : int, default=1
        Passes over the blocks. Each block is one epoch of ``partial_fit``
        on its rows, so a pass is one epoch over ``X``.

    shuffle : bool, default=True
        Visit the blocks in a new random order at every pass (the rows
        within a block are shuffled by ``partial_fit`` itself). The orders
        are ``check_random_state(random_state).permutation(n_blocks)``,
        drawn once per pass.

    random_state : int, RandomState instance or None, default=None
        Seeds the block orders.

    Returns
    -------
    estimator : skae estimator
        The trained copy.

    Examples
    --------
    >>> import dask.array as da
    >>> from skae import AutoencoderTransformer
    >>> from skae.dask import apply_blocks, fit_blocks
    >>> X = da.random.default_rng(0).normal(size=(4000, 8), chunks=(1000, 8))
    >>> ae = AutoencoderTransformer(2, hidden_layer_sizes=(8,), random_state=0)
    >>> ae = fit_blocks(ae, X, epochs=2, random_state=0)
    >>> ae.n_iter_  # one partial_fit per block and pass
    8
    >>> codes = apply_blocks(ae, X)
    >>> codes.shape
    (4000, 2)
    """
    import dask

    X = _row_blocks(X)
    blocks = X.to_delayed().ravel()
    weights = [None] * len(blocks)
    if sample_weight is not None:
        weights = sample_weight.rechunk((X.chunks[0],)).to_delayed().ravel()
    rng = check_random_state(random_state)
    # A copy in the graph: on an in-process scheduler the tasks would
    # otherwise train the caller's own object.
    model = copy.deepcopy(estimator)
    fit = dask.delayed(_partial_fit, pure=False)
    for _ in range(epochs):
        order = rng.permutation(len(blocks)) if shuffle else range(len(blocks))
        for i in order:
            model = fit(model, blocks[i], weights[i])
    return dask.compute(model)[0]


def _apply(estimator, method, kwargs, block):
    # As arrays whatever set_output asks: a Dask array's blocks are arrays.
    return np.asarray(getattr(estimator, method)(block, **kwargs))


def apply_blocks(estimator, X, method="transform", **kwargs):
    """Map an inference method of a fitted estimator over the blocks of a Dask array.

    Parameters
    ----------
    estimator : fitted skae estimator
        The model; it is sent to the workers with the tasks.

    X : dask.array.Array of shape (n_samples, n_columns)
        Input of ``method`` (codes of shape (n_samples, n_components) for
        ``inverse_transform``).

    method : str, default='transform'
        Any inference method that returns one row per input row:
        ``transform``, ``inverse_transform``, ``reconstruct``,
        ``score_samples``, ``decision_function``, ``predict``,
        ``deep_features``...

    **kwargs : dict
        Further arguments of ``method`` (``layer`` of ``deep_features``).

    Returns
    -------
    result : dask.array.Array
        Lazy: one block per block of rows of ``X``, with the method's own
        columns (none for scores and labels) and dtype.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from skae import AutoencoderOutlierDetector
    >>> from skae.dask import apply_blocks
    >>> X = np.random.default_rng(0).normal(size=(300, 4))
    >>> detector = AutoencoderOutlierDetector(max_iter=5, random_state=0).fit(X)
    >>> labels = apply_blocks(detector, da.from_array(X, chunks=100), "predict")
    >>> labels.shape, labels.dtype
    ((300,), dtype('int64'))
    >>> bool((labels.compute() == detector.predict(X)).all())
    True
    """
    X = _row_blocks(X)
    fn = partial(_apply, estimator, method, kwargs)
    # One row tells the output's width and dtype without computing a block.
    probe = fn(np.zeros((1, X.shape[1]), dtype=X.dtype))
    if probe.ndim == 1:
        return X.map_blocks(fn, drop_axis=1, dtype=probe.dtype, meta=probe[:0])
    chunks = (X.chunks[0], (probe.shape[1],))
    return X.map_blocks(fn, chunks=chunks, dtype=probe.dtype, meta=probe[:0])
