"""skae: scikit-learn-compatible autoencoders on a PyTorch backend."""

# Authors: The skae developers
# SPDX-License-Identifier: BSD-3-Clause

from ._aae import AdversarialAutoencoder
from ._denoising import DenoisingAutoencoder
from ._imputer import AutoencoderImputer
from ._onnx import to_onnx
from ._outlier import AutoencoderOutlierDetector
from ._transformer import AutoencoderTransformer
from ._vae import VariationalAutoencoder
from ._version import __version__

__all__ = [
    "AdversarialAutoencoder",
    "AutoencoderImputer",
    "AutoencoderOutlierDetector",
    "AutoencoderTransformer",
    "DenoisingAutoencoder",
    "VariationalAutoencoder",
    "__version__",
    "to_onnx",
]
