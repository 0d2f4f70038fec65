"""Export of fitted skae estimators to ONNX: :func:`to_onnx`."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import copy

import torch
from sklearn.utils.validation import check_is_fitted

from ._export import Scores, export_onnx
from ._networks import FilledIn

# The methods that export, and the name of each one's output.
OUTPUT_NAMES = {
    "transform": "codes",
    "inverse_transform": "reconstruction",
    "reconstruct": "reconstruction",
    "score_samples": "scores",
    "decision_function": "decision",
    "predict": "labels",
}


def to_onnx(estimator, method="transform"):
    """Export one inference method of a fitted estimator to ONNX.

    The exported graph computes what ``getattr(estimator, method)`` computes,
    the input scaling the estimator applies internally included, so that
    ``onnxruntime`` alone can serve the model (no torch, no skae). Its input
    is named ``"X"`` and has a dynamic batch axis.

    Requires the ``onnx`` and ``onnxscript`` packages (``pip install
    skae[onnx]``, which also installs ``onnxruntime`` to run the result).

    Parameters
    ----------
    estimator : fitted skae estimator
        The model to export. Its network runs on the CPU or CUDA alike; the
        graph is device-free.

    method : {'transform', 'inverse_transform', 'reconstruct', \
'score_samples', 'decision_function', 'predict'}, default='transform'
        The method the graph computes; the estimator must have it. Its
        output is named ``"codes"`` (``transform``), ``"reconstruction"``
        (``inverse_transform``, ``reconstruct``), ``"scores"``
        (``score_samples``), ``"decision"`` (``decision_function``) or
        ``"labels"`` (``predict``).

    Returns
    -------
    model : onnx.ModelProto
        The graph; save it with ``onnx.save(model, "model.onnx")``. Its input
        has the network's dtype (float32, or float64 for a model fitted on
        float64 data on the CPU): cast inputs to it. Codes and
        reconstructions come out in that dtype, scores and decisions in
        float64 and labels in int64, as the estimator returns them for
        input of that dtype.

    Raises
    ------
    ValueError
        If ``method`` is not one of the above or the estimator lacks it, or
        for the :class:`VariationalAutoencoder`'s ``score_samples`` (an
        average over random codes; its ``transform``, ``inverse_transform``
        and ``reconstruct`` export), or for the scores of an
        :class:`AutoencoderOutlierDetector` ensemble (``n_estimators > 1``;
        its ``reconstruct`` exports its own network).
    TypeError
        If ``estimator`` is not one of skae's autoencoders (an
        :class:`AutoencoderImputer` included).

    Notes
    -----
    The graph has no input validation: it takes a dense array of the
    network's dtype with ``n_features_in_`` columns (``n_components`` for
    ``inverse_transform``). A NaN input is a missing value, as for the
    estimator: the network reads it as its feature's training mean and the
    scores average the observed cells (NaN for a row with none). Its
    outputs match the estimator's to float tolerance (onnxruntime's kernels
    may sum in another order than torch's).

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer, to_onnx
    >>> X = load_digits().data.astype(np.float32)
    >>> ae = AutoencoderTransformer(4, max_iter=5, random_state=0).fit(X)
    >>> model = to_onnx(ae, method="transform")
    >>> session = ort.InferenceSession(model.SerializeToString())
    >>> (codes,) = session.run(None, {"X": X[:10]})
    >>> bool(np.allclose(codes, ae.transform(X[:10]), atol=1e-5))
    True
    """
    if not hasattr(estimator, "_exportable_methods"):
        raise TypeError(
            f"to_onnx exports skae's autoencoders, not {type(estimator).__name__}"
            " (an AutoencoderImputer's network is its model_, which works on "
            "standardised columns)."
        )
    check_is_fitted(estimator)
    # The variational autoencoder's score_samples averages over random
    # codes, and an ensemble detector's scores need every member's network:
    # they have no graph here.
    exportable = estimator._exportable_methods()
    if method not in exportable:
        raise ValueError(
            f"Cannot export method={method!r} of {type(estimator).__name__}; "
            f"choose one of {exportable}."
        )
    # A CPU copy: exporting leaves the fitted network alone, wherever it is.
    module = copy.deepcopy(estimator._network.module).cpu().eval()
    dtype = next(module.parameters()).dtype
    n_inputs = estimator.n_features_in_
    if method == "inverse_transform":
        n_inputs = estimator._n_features_out
    offset = getattr(estimator, "offset_", 0.0)
    graph = _graph(module, method, offset, estimator._fill_passes())
    return export_onnx(graph, n_inputs, dtype, OUTPUT_NAMES[method])


def _graph(module, method, offset, passes):
    """The torch module computing ``method`` with the trained ``module``,
    filling missing cells in with ``passes`` as the estimator does."""
    if method == "inverse_transform":
        return module.decoder
    if method in ("transform", "reconstruct"):
        inner = module.encoder
        if method == "reconstruct":
            inner = torch.nn.Sequential(module.encoder, module.decoder)
        if not passes:
            return inner
        return FilledIn(inner, module.encoder, module.decoder, passes)
    return Scores(
        module,
        offset=0.0 if method == "score_samples" else offset,
        labels=method == "predict",
        passes=passes,
    )
