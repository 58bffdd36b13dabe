"""Keras's `keras.utils.conv_utils` helpers, at their Keras module path.

They live beside the convolution backend functions (`refkeras/backend/ops_conv.py`).
"""
from refkeras.backend.ops_conv import (conv_output_length, deconv_length,  # noqa: F401
                                       normalize_padding, normalize_tuple)
