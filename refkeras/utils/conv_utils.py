"""Keras's `keras.utils.conv_utils` helpers, at their Keras module path.

The shape arithmetic lives beside the convolution backend functions
(`refkeras/backend/ops_conv.py`), so that layers and backend agree on it.
"""
import numpy as np

from refkeras.backend.ops_conv import (PaddingError, conv_input_length,  # noqa: F401
                                       conv_output_length, deconv_length,
                                       normalize_padding, normalize_tuple)
from refkeras.backend.state import normalize_data_format  # noqa: F401


def convert_kernel(kernel):
    """Flips a convolution kernel's spatial axes: a convolution kernel becomes
    the cross-correlation kernel computing the same thing, and back.

    Theano's convolutions flip the kernel, TensorFlow's (and refkeras's)
    do not, so weights trained with one are converted with this function
    before use with the other. The last two axes (input and output channels)
    are kept; the conversion is its own inverse.

    # Arguments
        kernel: NumPy array of a 1D, 2D or 3D convolution kernel
            (`spatial axes... + (input_channels, filters)`).

    # Returns
        A new array of the same shape, spatial axes reversed.

    # Raises
        ValueError: if `kernel` is not 3D, 4D or 5D.
    """
    kernel = np.asarray(kernel)
    if not 3 <= kernel.ndim <= 5:
        raise ValueError('convert_kernel expects a 3D, 4D or 5D convolution kernel '
                         '(spatial axes, input channels, filters); received an array '
                         'of shape %s.' % (kernel.shape,))
    spatial_reversed = (slice(None, None, -1),) * (kernel.ndim - 2) + (slice(None), slice(None))
    return kernel[spatial_reversed].copy()
