"""Export of fitted skae estimators to ONNX: :func:`to_onnx`."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

import copy

import numpy as np
import torch
from sklearn.utils.validation import check_is_fitted

from ._data import network_dtype
from ._export import Scores, export_onnx
from ._inference import FLOAT_DTYPES
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
# The methods whose output has the input's dtype (scores are float64 and
# labels int64 whatever it is), as the estimators return them.
IN_INPUT_DTYPE = ("transform", "inverse_transform", "reconstruct")


def to_onnx(estimator, method="transform", dtype=None):
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

    dtype : {None, 'float32', 'float64'} or numpy dtype, default=None
        The dtype of the graph's input: None for the network's, or
        ``np.float32`` / ``np.float64`` (``'float32'`` / ``'float64'``), to
        serve a model fitted on float64 data with float32 input, or the
        other way round. When it is not the network's, the graph casts its
        input to the network's dtype, which keeps the precision the model
        was fitted in, and casts codes and reconstructions back to
        ``dtype``: it computes what the estimator computes for input of
        that dtype.

    Returns
    -------
    model : onnx.ModelProto
        The graph; save it with ``onnx.save(model, "model.onnx")``. Its input
        has ``dtype``, by default the network's (float32, or float64 for a
        model fitted on float64 data on the CPU): cast inputs to it. Codes
        and reconstructions come out in that dtype, scores and decisions in
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
        its ``reconstruct`` exports its own network), or if ``dtype`` is
        not one of the above.
    TypeError
        If ``estimator`` is not one of skae's autoencoders (an
        :class:`AutoencoderImputer` included).

    Notes
    -----
    The graph has no input validation: it takes a dense array of its
    input's dtype with ``n_features_in_`` columns (``n_components`` for
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

    A model fitted on float64 data, served with float32 input:

    >>> X64 = X.astype(np.float64)
    >>> ae64 = AutoencoderTransformer(4, max_iter=5, random_state=0).fit(X64)
    >>> model = to_onnx(ae64, method="transform", dtype=np.float32)
    >>> session = ort.InferenceSession(model.SerializeToString())
    >>> session.get_inputs()[0].type
    'tensor(float)'
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
    input_dtype = _input_dtype(dtype)
    # A CPU copy: exporting leaves the fitted network alone, wherever it is.
    module = copy.deepcopy(estimator._network.module).cpu().eval()
    network_dtype = next(module.parameters()).dtype
    output_dtype = None
    if input_dtype not in (None, network_dtype) and method in IN_INPUT_DTYPE:
        output_dtype = input_dtype
    n_inputs = estimator.n_features_in_
    if method == "inverse_transform":
        n_inputs = estimator._n_features_out
    offset = getattr(estimator, "offset_", 0.0)
    graph = _graph(module, method, offset, estimator._fill_passes())
    return export_onnx(
        graph, n_inputs, network_dtype, OUTPUT_NAMES[method], input_dtype, output_dtype
    )


def _input_dtype(dtype):
    """The torch dtype of the graph's input for ``to_onnx(dtype=...)``;
    None for the network's."""
    if dtype is None:
        return None
    # np.dtype reads 'float32', np.float32 and np.dtype('float32') alike;
    # what it cannot read (a torch dtype, a typo) is as wrong as float16.
    try:
        parsed = np.dtype(dtype)
    except (TypeError, ValueError):
        parsed = None
    if parsed not in FLOAT_DTYPES:
        raise ValueError(
            f"dtype must be None, 'float32' or 'float64' (np.float32 or "
            f"np.float64), got dtype={dtype!r}."
        )
    # The torch dtype a CPU network of that precision runs in.
    return network_dtype(parsed, torch.device("cpu"))


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
