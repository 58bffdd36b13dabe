"""`K.local_conv1d` and `K.local_conv2d`: convolutions whose weights are not shared.

A locally connected layer applies a different kernel at every output position.
Both functions are compositions of existing primitives, no new one:

1. the input's patches are picked with one `gather` per spatial axis, using an
   integer grid `(output_length, kernel_length)` of input positions (a spatial
   axis of length `n` becomes two axes, "which patch" and "where in the patch");
2. the patches are flattened to one feature vector per output position,
   giving `(positions, batch, features)`;
3. one `matmul` multiplies every position's vectors by that position's kernel
   (`kernel` is `(positions, features, filters)`; matmul broadcasts over the
   leading axis).

The gradients are those of the three primitives (the `gather` gradient adds
the patches' gradients back where the patches overlap).

The order of the features in a patch (the kernel's middle axis) is Keras
2.2.4's, so kernels saved by Keras load here: `(rows, cols, channels)` with
channels_last and `(channels, rows, cols)` with channels_first (for one
spatial axis: `(steps, channels)` and `(channels, steps)`).
"""
import numpy as np

from refkeras.backend import prims_array
from refkeras.backend import state
from refkeras.backend.graph import symbolic_aware
from refkeras.backend.ops import _t, int_shape, ndim, permute_dimensions, reshape
from refkeras.backend.tape import apply

__all__ = ['local_conv1d', 'local_conv2d']


def _window_positions(output_length, window, stride):
    """`(output_length, window)` ints: row `i` lists the input positions of patch `i`."""
    return np.arange(output_length)[:, None] * stride + np.arange(window)[None, :]


def _local_conv(inputs, kernel, kernel_size, strides, output_shape, data_format, what):
    """Shared body: patches, one product per position, output in `data_format`."""
    data_format = state.normalize_data_format(data_format)
    rank = len(kernel_size)
    inputs, kernel = _t(inputs), _t(kernel)
    if ndim(inputs) != rank + 2:
        raise ValueError('%s expects an input of rank %d (batch, %d spatial axes, channels); '
                         'received shape %s.' % (what, rank + 2, rank, int_shape(inputs)))
    shape = int_shape(inputs)
    first_spatial = 2 if data_format == 'channels_first' else 1
    channels = shape[1] if data_format == 'channels_first' else shape[-1]
    positions = int(np.prod(output_shape))
    features = int(np.prod(kernel_size)) * channels
    if int_shape(kernel) != (positions, features, int_shape(kernel)[-1]):
        raise ValueError('%s: with %s output positions, a window of %s and %d input channels, '
                         'the kernel must have shape (%d, %d, filters); received %s.'
                         % (what, tuple(output_shape), tuple(kernel_size), channels, positions,
                            features, int_shape(kernel)))
    for i in range(rank):
        needed = (output_shape[i] - 1) * strides[i] + kernel_size[i]
        if shape[first_spatial + i] < needed:
            raise ValueError('%s: spatial axis %d of the input has %s positions, but %d output '
                             'positions with a window of %d and a stride of %d need %d.'
                             % (what, i, shape[first_spatial + i], output_shape[i],
                                kernel_size[i], strides[i], needed))

    # Each gather turns spatial axis `axis` into (patch, place in patch).
    patches = inputs
    for i in range(rank):
        grid = _window_positions(output_shape[i], kernel_size[i], strides[i])
        patches = apply(prims_array.gather, patches, grid, axis=first_spatial + 2 * i)
    patch_axes = [first_spatial + 2 * i for i in range(rank)]
    window_axes = [first_spatial + 2 * i + 1 for i in range(rank)]
    if data_format == 'channels_first':
        feature_axes = [1] + window_axes                 # channels, rows, cols
    else:
        feature_axes = window_axes + [2 * rank + 1]      # rows, cols, channels
    patches = permute_dimensions(patches, tuple(patch_axes + [0] + feature_axes))
    patches = reshape(patches, (positions, -1, features))
    output = apply(prims_array.matmul, patches, kernel)            # (positions, batch, filters)
    filters = int_shape(kernel)[-1]
    output = reshape(output, tuple(output_shape) + (-1, filters))
    if data_format == 'channels_first':
        order = (rank, rank + 1) + tuple(range(rank))
    else:
        order = (rank,) + tuple(range(rank)) + (rank + 1,)
    return permute_dimensions(output, order)


@symbolic_aware
def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    """1D convolution with a different kernel at every output step.

    # Arguments
        inputs: `(batch, steps, channels)` (channels_last) or
            `(batch, channels, steps)` (channels_first).
        kernel: `(output_length, kernel_size[0] * channels, filters)`.
        kernel_size: a tuple of one int, the window's length.
        strides: a tuple of one int.
        data_format: 'channels_last' (the default here, as in Keras 2.2.4,
            whose `local_conv1d` is channels_last only) or 'channels_first'.

    # Returns
        `(batch, output_length, filters)` (or `(batch, filters, output_length)`).

    # Raises
        ValueError: for an input that is not 3D, or a kernel or input whose
            shape does not fit the window, stride and output length.
    """
    data_format = 'channels_last' if data_format is None else data_format
    output_length = int_shape(kernel)[0]
    return _local_conv(inputs, kernel, tuple(kernel_size), tuple(strides), (output_length,),
                       data_format, 'local_conv1d')


@symbolic_aware
def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    """2D convolution with a different kernel at every output position.

    # Arguments
        inputs: `(batch, rows, cols, channels)` (channels_last) or
            `(batch, channels, rows, cols)` (channels_first).
        kernel: `(output_rows * output_cols, kernel_rows * kernel_cols *
            channels, filters)`; positions in row-major order.
        kernel_size: a tuple of 2 ints.
        strides: a tuple of 2 ints.
        output_shape: `(output_rows, output_cols)`.
        data_format: 'channels_last' or 'channels_first' (None: the default).

    # Returns
        `(batch, output_rows, output_cols, filters)` (or channels first).

    # Raises
        ValueError: for an input that is not 4D, or a kernel or input whose
            shape does not fit the window, strides and output shape.
    """
    return _local_conv(inputs, kernel, tuple(kernel_size), tuple(strides), tuple(output_shape),
                       data_format, 'local_conv2d')
